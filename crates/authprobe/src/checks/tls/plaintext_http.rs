use crate::check::{Check, CheckFuture, CheckMeta, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::http::{Probe, TransportError};
use crate::oracle::says_use_https;
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "tls.plaintext_http",
    title: "The API answers over plain HTTP instead of redirecting to HTTPS",
    family: Family::Tls,
    severity: Severity::High,
    cwe: &[319],
    owasp: &["API8"],
    description: "Requests the resource over plain HTTP (--http-url, or http:// on port 80 of the same host) without credentials: credentials are never sent in clear by this check.",
    needs: &[],
    explained_by: &[],
    remediation: Remediation {
        summary: "Serve the API over HTTPS only: answer plain HTTP with a redirect (or close the port) and send HSTS so clients never try HTTP again.",
        frameworks: &[
            (
                "django",
                "Set SECURE_SSL_REDIRECT = True (and SECURE_PROXY_SSL_HEADER only if the proxy overwrites X-Forwarded-Proto).",
            ),
            (
                "express",
                "Redirect when req.secure is false (with app.set('trust proxy', …) set to your proxy only), or let the proxy do it.",
            ),
            (
                "spring",
                "http.requiresChannel(c -> c.anyRequest().requiresSecure()), or server.ssl with no plain connector.",
            ),
            (
                "go",
                "Run the plain listener with a handler that only redirects: http.Redirect(w, r, \"https://\"+host+r.URL.RequestURI(), http.StatusMovedPermanently).",
            ),
            (
                "nginx",
                "In the port-80 server block: return 301 https://$host$request_uri; and nothing else.",
            ),
            (
                "haproxy",
                "http-request redirect scheme https code 301 unless { ssl_fc }",
            ),
        ],
    },
    references: &["RFC 9325 §3.2", "RFC 6797"],
    budget: crate::check::Budget::Fixed(2),
    lab_flaw: Some("tls.plaintext_http"),
    finds: "the API answers over plain HTTP instead of redirecting to HTTPS",
    needs_note: "",
};

pub struct PlaintextHttp;

pub(crate) fn plain_url(ctx: &Scan) -> Option<url::Url> {
    if let Some(u) = &ctx.opts().http_url {
        return Some(u.clone());
    }
    let mut u = ctx.opts().target.clone();
    if u.scheme() == "http" {
        return Some(u);
    }
    u.set_scheme("http").ok()?;
    u.set_port(None).ok()?;
    Some(u)
}

impl Check for PlaintextHttp {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let Some(url) = plain_url(ctx) else {
                return Outcome::NotApplicable("no plain-HTTP form of the target URL".into());
            };
            let mut probe = Probe::new("GET", url.clone());
            for (n, v) in ctx.bare("GET").headers {
                probe = probe.header(&n, v);
            }
            let x = match ctx.send(probe).await {
                Ok(x) => x,
                Err(e) => return Outcome::Inconclusive(e),
            };
            let a = match &x.result {
                Ok(a) => a,
                Err(TransportError::Connect(_)) | Err(TransportError::Timeout(_)) => {
                    return Outcome::Pass; // nothing listens for plain HTTP there
                }
                Err(e) => return Outcome::Inconclusive(format!("plain HTTP to {url}: {e}")),
            };
            if (300..400).contains(&a.status) {
                let to_https = a
                    .header("location")
                    .is_some_and(|l| l.to_ascii_lowercase().starts_with("https://"));
                if to_https {
                    return Outcome::Pass;
                }
            }
            if says_use_https(a.status, &a.body_text()) {
                return Outcome::Pass;
            }
            let what = if (200..300).contains(&a.status) {
                "served content"
            } else {
                "answered"
            };
            Outcome::found(META.finding(
                Confidence::Firm,
                format!(
                    "{url} {what} over plain HTTP with status {} instead of redirecting to HTTPS\nAny client that follows an http:// link sends its credentials in clear.",
                    a.status
                ),
                ctx.evidence(&x),
            ))
        })
    }
}
