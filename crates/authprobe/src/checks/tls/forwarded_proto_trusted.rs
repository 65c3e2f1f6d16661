use super::insecure_cookie::parse_set_cookie;
use super::plaintext_http::plain_url;
use crate::check::{Check, CheckFuture, CheckMeta, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::http::{Answer, Exchange, Probe, Value};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "tls.forwarded_proto_trusted",
    title: "A spoofed X-Forwarded-Proto / Forwarded header over plain HTTP changes how the app treats the request",
    family: Family::Tls,
    severity: Severity::Medium,
    cwe: &[348],
    owasp: &["API8"],
    description: "Over plain HTTP (--http-url, or http:// on port 80, and --origin when it is http://), sends the resource once as is and once each with X-Forwarded-Proto: https and Forwarded: proto=https, without credentials. A finding needs the spoofed request to skip the HTTPS redirect the plain one got, or to be issued a Secure cookie the plain one was not.",
    needs: &[],
    explained_by: &[],
    remediation: Remediation {
        summary: "Trust X-Forwarded-Proto and Forwarded only from your own proxy: have the proxy overwrite (never append to) them, and have the app accept them only from the proxy's address. Never let the app be reached directly over plain HTTP.",
        frameworks: &[
            (
                "django",
                "Set SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https') only when the proxy always sets or strips that header, and keep the app unreachable except through it.",
            ),
            (
                "express",
                "app.set('trust proxy', '10.0.0.5') (your proxy's address or subnet) instead of true, so req.secure ignores headers from anyone else.",
            ),
            (
                "spring",
                "server.forward-headers-strategy=native with server.tomcat.remoteip.internal-proxies set to your proxy's addresses only.",
            ),
            (
                "go",
                "Read X-Forwarded-Proto only when r.RemoteAddr is your proxy; otherwise decide by r.TLS != nil.",
            ),
            (
                "nginx",
                "proxy_set_header X-Forwarded-Proto $scheme; and proxy_set_header Forwarded \"proto=$scheme\"; so a client's own values are overwritten.",
            ),
            (
                "haproxy",
                "http-request set-header X-Forwarded-Proto https if { ssl_fc } and http-request set-header X-Forwarded-Proto http unless { ssl_fc }",
            ),
            (
                "envoy",
                "Keep use_remote_address: true and xff_num_trusted_hops at your real proxy depth; Envoy then sets x-forwarded-proto itself.",
            ),
        ],
    },
    references: &["RFC 7239 §5.4", "RFC 7239 §8"],
    budget: crate::check::Budget::Fixed(8),
    lab_flaw: Some("tls.forwarded_proto_trusted"),
    finds: "over plain HTTP, a client's own `X-Forwarded-Proto: https` or `Forwarded: proto=https` skips the HTTPS redirect or earns a Secure cookie",
    needs_note: "",
};

pub struct ForwardedProtoTrusted;

const SPOOFS: [(&str, &str); 2] = [("X-Forwarded-Proto", "https"), ("Forwarded", "proto=https")];

fn redirects_to_https(a: &Answer) -> bool {
    (300..400).contains(&a.status)
        && a.header("location")
            .is_some_and(|l| l.to_ascii_lowercase().starts_with("https://"))
}

/// Names of the cookies an answer sets with the Secure attribute.
fn secure_cookies(a: &Answer) -> Vec<String> {
    a.headers_named("set-cookie")
        .filter_map(parse_set_cookie)
        .filter(|c| c.secure)
        .map(|c| c.name)
        .collect()
}

/// How the spoofed answer differs in a way that shows the app took the request for HTTPS.
fn difference(plain: &Answer, spoofed: &Answer) -> Option<String> {
    if redirects_to_https(plain) && !redirects_to_https(spoofed) {
        return Some(format!(
            "the plain request was redirected to HTTPS ({} to {}), the spoofed one was not (status {})",
            plain.status,
            plain.header("location").unwrap_or(""),
            spoofed.status
        ));
    }
    let before = secure_cookies(plain);
    let new: Vec<String> = secure_cookies(spoofed)
        .into_iter()
        .filter(|c| !before.contains(c))
        .collect();
    (!new.is_empty()).then(|| {
        format!(
            "the spoofed request was issued Secure cookies over plain HTTP ({}), the plain one was not",
            new.join(", ")
        )
    })
}

impl Check for ForwardedProtoTrusted {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let mut urls = Vec::new();
            urls.extend(plain_url(ctx));
            if let Some(o) = &ctx.opts().origin
                && o.scheme() == "http"
                && !urls.contains(o)
            {
                urls.push(o.clone());
            }
            if urls.is_empty() {
                return Outcome::NotApplicable("no plain-HTTP form of the target URL".into());
            }
            let mut reached = false;
            let mut hits: Vec<(String, Exchange)> = Vec::new();
            for url in &urls {
                let bare = ctx.bare("GET");
                let mut probe = Probe::new("GET", url.clone());
                for (n, v) in bare.headers {
                    probe = probe.header(&n, v);
                }
                let plain = match ctx.send(probe.clone()).await {
                    Ok(x) => x,
                    Err(e) => return Outcome::Inconclusive(e),
                };
                let Some(plain_answer) = plain.answer() else {
                    continue; // nothing speaks plain HTTP there
                };
                reached = true;
                for (name, value) in SPOOFS {
                    let spoofed = match ctx
                        .send(probe.clone().header(name, Value::lit(value)))
                        .await
                    {
                        Ok(x) => x,
                        Err(e) => return Outcome::Inconclusive(e),
                    };
                    if let Some(why) = spoofed.answer().and_then(|s| difference(plain_answer, s)) {
                        hits.push((format!("{url} with {name}: {value}: {why}"), spoofed));
                    }
                }
            }
            if !reached {
                return Outcome::NotApplicable(format!(
                    "nothing answers plain HTTP at {}",
                    urls.iter()
                        .map(|u| u.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            let Some((_, x)) = hits.first() else {
                return Outcome::Pass;
            };
            let lines: Vec<String> = hits.iter().map(|(w, _)| format!("- {w}")).collect();
            Outcome::found(META.finding(
                Confidence::Firm,
                format!(
                    "The app believes a client's own forwarded-protocol header over plain HTTP\n{}\nAnyone who reaches it over HTTP can pass as HTTPS: redirects and Secure-only protections no longer apply.",
                    lines.join("\n")
                ),
                ctx.evidence(x),
            ))
        })
    }
}
