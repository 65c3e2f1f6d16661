use crate::basic_auth::{endpoint, literal_basic, probe_to, random_word};
use crate::check::{Check, CheckFuture, CheckMeta, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::http::{Exchange, Value};
use crate::scan::Scan;
use regex::Regex;
use std::sync::LazyLock;

pub static META: CheckMeta = CheckMeta {
    id: "basic.realm_leak",
    title: "The authentication realm or error names internal hosts, versions or users",
    family: Family::Basic,
    severity: Severity::Low,
    cwe: &[200],
    owasp: &["API8"],
    description: "Reads every WWW-Authenticate realm and the body of every refusal from the baselines, plus two requests to the Basic endpoint (no credentials, and a made-up pair), for private addresses, internal host names (.internal, .local, .corp, .lan), server or framework versions, and e-mail addresses in a realm.",
    needs: &[],
    explained_by: &[],
    remediation: Remediation {
        summary: "Use a fixed, meaningless realm (the product name) and generic error bodies; keep host names, versions and people's names out of anything an unauthenticated caller can read.",
        frameworks: &[
            (
                "django",
                "Leave BasicAuthentication.www_authenticate_realm at 'api' (or a product name) rather than socket.gethostname(); keep DEBUG = False and do not add server details in a custom EXCEPTION_HANDLER.",
            ),
            (
                "express",
                "Give express-basic-auth a constant challenge realm (realm: 'api'), use a generic unauthorizedResponse, and app.disable('x-powered-by').",
            ),
            (
                "spring",
                "Set httpBasic(b -> b.realmName(\"api\")) and server.error.include-stacktrace=never, include-message=never.",
            ),
            (
                "nginx",
                "auth_basic \"api\"; (not the host name) and server_tokens off; so error pages carry no version.",
            ),
            (
                "haproxy",
                "http-request auth realm api, and errorfile pages without host names.",
            ),
        ],
    },
    references: &["RFC 9110 §11.5", "RFC 7617 §2"],
    budget: crate::check::Budget::Fixed(3),
    lab_flaw: Some("basic.realm_leak"),
    finds: "the realm or an unauthenticated error names internal hosts, private addresses, versions or users",
    needs_note: "",
};

pub struct RealmLeak;

static REALM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)realm\s*=\s*"([^"]*)""#).expect("static regex"));
static PRIVATE_IP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:10\.\d{1,3}\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}\.\d{1,3}|172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3})\b")
        .expect("static regex")
});
static INTERNAL_HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.(?:internal|local|localdomain|corp|lan|intranet|intra|priv)\b")
        .expect("static regex")
});
static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:django|gunicorn|uwsgi|werkzeug|flask|express|node(?:\.js)?|php|apache|nginx|openresty|tomcat|jetty|iis|kestrel|spring|jboss|wildfly|weblogic|websphere|python|ruby|rails|puma|envoy|haproxy|traefik|caddy)[/ ]v?\d+(?:\.\d+)+")
        .expect("static regex")
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+").expect("static regex")
});

/// What in `text` names the inside of the deployment. E-mail addresses count only in a
/// realm: an error body may legitimately give a support address.
pub fn leaks(text: &str, in_realm: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (what, re) in [
        ("private address", &*PRIVATE_IP),
        ("internal host", &*INTERNAL_HOST),
        ("version", &*VERSION),
    ] {
        for m in re.find_iter(text).take(3) {
            out.push(format!("{what} {:?}", m.as_str()));
        }
    }
    if in_realm {
        for m in EMAIL.find_iter(text).take(3) {
            out.push(format!("user {:?}", m.as_str()));
        }
    }
    out
}

/// Leaks in one exchange: its realms, and its body when it is a refusal.
fn exchange_leaks(x: &Exchange) -> Vec<String> {
    let Some(a) = x.answer() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in a.headers_named("www-authenticate") {
        for cap in REALM.captures_iter(c) {
            out.extend(
                leaks(&cap[1], true)
                    .into_iter()
                    .map(|l| format!("realm names {l}")),
            );
        }
    }
    if a.status >= 400 {
        let body = a.body_text();
        let mut cut = body.len().min(16 * 1024);
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        out.extend(
            leaks(&body[..cut], false)
                .into_iter()
                .map(|l| format!("error body names {l}")),
        );
    }
    out
}

impl Check for RealmLeak {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let url = endpoint(ctx);
            let made_up: Value = literal_basic(&random_word("user"), &random_word("pass"));
            let (bare, wrong) = tokio::join!(
                ctx.send(probe_to(ctx, &url)),
                ctx.send(probe_to(ctx, &url).header("Authorization", made_up)),
            );
            let mut mine = Vec::new();
            let mut errors = Vec::new();
            for r in [bare, wrong] {
                match r {
                    Ok(x) => mine.push(x),
                    Err(e) => errors.push(e),
                }
            }
            let b = ctx.baselines();
            let seen = mine.iter().chain(
                b.anonymous
                    .exchanges
                    .iter()
                    .chain(b.invalid.iter().flat_map(|i| i.exchanges.iter()))
                    .chain(b.transport_only.iter().flat_map(|t| t.exchanges.iter())),
            );
            for x in seen {
                let found = exchange_leaks(x);
                if !found.is_empty() {
                    return Outcome::found(META.finding(
                        Confidence::Confirmed,
                        format!(
                            "an unauthenticated answer from {} {}\nAnyone can read this without credentials: {}.",
                            x.probe.url,
                            found[0],
                            found.join("; ")
                        ),
                        ctx.evidence(x),
                    ));
                }
            }
            match errors.into_iter().next() {
                Some(e) if mine.is_empty() => Outcome::Inconclusive(e),
                _ => Outcome::Pass,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_names_and_versions_are_leaks() {
        assert!(!leaks("api-int-03.eu1.corp.internal", true).is_empty());
        assert!(!leaks("Django/4.2.7", true).is_empty());
        assert!(!leaks("upstream 10.20.3.17 refused", false).is_empty());
        assert!(!leaks("ops@example.com", true).is_empty());
    }

    #[test]
    fn ordinary_realms_and_errors_are_not() {
        for s in [
            "authprobe-lab",
            "api",
            "Restricted area",
            r#"{"error":"invalid_token","request_id":"9f2c41d07be1a3c5b0e1"}"#,
            "127.0.0.1 example.com",
        ] {
            assert!(leaks(s, true).is_empty(), "{s}");
        }
        assert!(leaks("write to support@example.com", false).is_empty());
    }
}
