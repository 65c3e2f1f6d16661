use crate::check::{Check, CheckFuture, CheckMeta, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::http::Exchange;
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "tls.insecure_cookie",
    title: "Session or CSRF cookies without Secure, HttpOnly or SameSite",
    family: Family::Tls,
    severity: Severity::Medium,
    cwe: &[614, 1004, 1275],
    owasp: &["API8"],
    description: "Reads the Set-Cookie headers of the answers the scan already has (the HTTPS baselines; nothing extra is sent). Session cookies (named like session, sid, auth, token, remember) need Secure, HttpOnly and SameSite=Lax or Strict; CSRF cookies (csrf, xsrf) need Secure and SameSite but may be readable by scripts, as double-submit needs.",
    needs: &[],
    explained_by: &[],
    remediation: Remediation {
        summary: "Set session cookies with Secure; HttpOnly; SameSite=Lax (or Strict), and CSRF cookies with Secure; SameSite=Lax (or Strict), so they never travel over plain HTTP, are out of reach of injected scripts, and are not sent on cross-site requests.",
        frameworks: &[
            (
                "django",
                "SESSION_COOKIE_SECURE = True, SESSION_COOKIE_HTTPONLY = True, SESSION_COOKIE_SAMESITE = 'Lax', CSRF_COOKIE_SECURE = True, CSRF_COOKIE_SAMESITE = 'Lax'",
            ),
            (
                "express",
                "session({ cookie: { secure: true, httpOnly: true, sameSite: 'lax' } }) (with app.set('trust proxy', <your proxy>) behind TLS termination)",
            ),
            (
                "spring",
                "server.servlet.session.cookie.secure=true, server.servlet.session.cookie.http-only=true, server.servlet.session.cookie.same-site=lax",
            ),
            (
                "go",
                "http.SetCookie(w, &http.Cookie{Name: \"session\", Value: v, Path: \"/\", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})",
            ),
            (
                "nginx",
                "proxy_cookie_flags ~ secure httponly samesite=lax; (nginx 1.19.3 or later) for apps that cannot be fixed.",
            ),
            (
                "haproxy",
                "http-response replace-header Set-Cookie '^(session=[^;]*)(.*)' '\\1\\2; Secure; HttpOnly; SameSite=Lax' for apps that cannot be fixed.",
            ),
        ],
    },
    references: &[
        "RFC 6265 §4.1.2.5",
        "RFC 6265 §4.1.2.6",
        "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Set-Cookie",
    ],
    budget: crate::check::Budget::Passive,
    lab_flaw: Some("tls.insecure_cookie"),
    finds: "session cookies without Secure, HttpOnly or SameSite (CSRF cookies: Secure or SameSite), read from the answers the scan already has",
    needs_note: "",
};

pub struct InsecureCookie;

/// One Set-Cookie header's name and the attributes this check cares about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetCookie {
    pub name: String,
    pub secure: bool,
    pub http_only: bool,
    /// The SameSite value as sent, lower-cased.
    pub same_site: Option<String>,
    /// Max-Age=0 or an Expires in the past deletes the cookie: nothing to protect.
    pub deletes: bool,
}

pub fn parse_set_cookie(header: &str) -> Option<SetCookie> {
    let mut parts = header.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let mut c = SetCookie {
        name: name.to_string(),
        secure: false,
        http_only: false,
        same_site: None,
        deletes: value.trim().is_empty(),
    };
    for attr in parts {
        let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
        match k.trim().to_ascii_lowercase().as_str() {
            "secure" => c.secure = true,
            "httponly" => c.http_only = true,
            "samesite" => c.same_site = Some(v.trim().to_ascii_lowercase()),
            "max-age" => c.deletes |= v.trim().parse::<i64>().is_ok_and(|s| s <= 0),
            _ => {}
        }
    }
    Some(c)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Session,
    Csrf,
}

fn kind(name: &str) -> Option<Kind> {
    let n = name.to_ascii_lowercase();
    if n.contains("csrf") || n.contains("xsrf") {
        return Some(Kind::Csrf);
    }
    let session_like = [
        "sess", "sid", "auth", "token", "jwt", "login", "remember", "identity",
    ];
    (session_like.iter().any(|w| n.contains(w)) || n == "id" || n.ends_with("_id"))
        .then_some(Kind::Session)
}

/// What the cookie lacks, or nothing when it is not a session or CSRF cookie.
fn missing(c: &SetCookie) -> Vec<&'static str> {
    let Some(kind) = kind(&c.name) else {
        return Vec::new();
    };
    if c.deletes {
        return Vec::new();
    }
    let mut m = Vec::new();
    if !c.secure {
        m.push("Secure");
    }
    if kind == Kind::Session && !c.http_only {
        m.push("HttpOnly");
    }
    match c.same_site.as_deref() {
        Some("lax") | Some("strict") => {}
        Some("none") => m.push("SameSite (it is None)"),
        _ => m.push("SameSite"),
    }
    m
}

/// Shows a cookie header with its value hidden: a session cookie is a credential.
fn redact_value(header: &str) -> String {
    match header.split_once('=') {
        Some((name, rest)) => {
            let attrs = rest.split_once(';').map(|(_, a)| a).unwrap_or("");
            if attrs.is_empty() {
                format!("{name}=[REDACTED]")
            } else {
                format!("{name}=[REDACTED];{attrs}")
            }
        }
        None => header.to_string(),
    }
}

impl Check for InsecureCookie {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let b = ctx.baselines();
            // The anonymous answers first, so the evidence shows a cookie the scanner was
            // given without credentials whenever the flaw is visible there.
            let exchanges: Vec<&Exchange> = std::iter::once(&b.anonymous)
                .chain(&b.invalid)
                .chain(&b.transport_only)
                .chain(&b.authorized)
                .flat_map(|base| &base.exchanges)
                .collect();
            let mut seen = std::collections::BTreeSet::new();
            let mut problems = Vec::new();
            let mut proof: Option<&Exchange> = None;
            for x in exchanges {
                let Some(a) = x.answer() else { continue };
                for h in a.headers_named("set-cookie") {
                    let Some(c) = parse_set_cookie(h) else {
                        continue;
                    };
                    let m = missing(&c);
                    if m.is_empty() || !seen.insert(c.name.clone()) {
                        continue;
                    }
                    problems.push(format!(
                        "- {} lacks {}: Set-Cookie: {}",
                        c.name,
                        m.join(", "),
                        redact_value(h)
                    ));
                    proof.get_or_insert(x);
                }
            }
            let Some(x) = proof else {
                return Outcome::Pass;
            };
            let mut evidence = ctx.evidence(x);
            evidence.excerpt = evidence
                .excerpt
                .lines()
                .map(|l| match l.strip_prefix("set-cookie: ") {
                    Some(v) => format!("set-cookie: {}", redact_value(v)),
                    None => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n");
            Outcome::found(META.finding(
                Confidence::Confirmed,
                format!(
                    "{} sets session or CSRF cookies without the attributes that protect them\n{}",
                    ctx.opts().target,
                    problems.join("\n")
                ),
                evidence,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_cookies() {
        let c =
            parse_set_cookie("sessionid=abc; Path=/; Secure; HttpOnly; SameSite=Strict").unwrap();
        assert!(missing(&c).is_empty());
        let c = parse_set_cookie("sessionid=abc; Path=/").unwrap();
        assert_eq!(missing(&c), vec!["Secure", "HttpOnly", "SameSite"]);
        let c = parse_set_cookie("csrftoken=abc; Secure; SameSite=Lax").unwrap();
        assert!(
            missing(&c).is_empty(),
            "CSRF cookies may be script-readable"
        );
        let c = parse_set_cookie("XSRF-TOKEN=abc; Secure; SameSite=None").unwrap();
        assert_eq!(missing(&c), vec!["SameSite (it is None)"]);
        let c = parse_set_cookie("theme=dark").unwrap();
        assert!(missing(&c).is_empty(), "not a session cookie");
        let c = parse_set_cookie("sessionid=; Max-Age=0").unwrap();
        assert!(missing(&c).is_empty(), "a deletion protects nothing");
        assert_eq!(redact_value("sid=s3cr3t; Path=/"), "sid=[REDACTED]; Path=/");
        assert_eq!(redact_value("sid=s3cr3t"), "sid=[REDACTED]");
    }
}
