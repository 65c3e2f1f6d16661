use crate::basic_auth::{endpoint, literal_basic, probe_to, random_word, user_basic};
use crate::check::{Check, CheckFuture, CheckMeta, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::http::{Answer, TransportError};
use crate::oracle::says_use_https;
use crate::scan::Scan;
use url::Url;

pub static META: CheckMeta = CheckMeta {
    id: "basic.cleartext",
    title: "Basic credentials are accepted over plain HTTP",
    family: Family::Basic,
    severity: Severity::High,
    cwe: &[319, 523],
    owasp: &["API2"],
    description: "Sends a made-up Basic pair to the plain-HTTP form of the Basic endpoint (--http-url's host with --basic-url's path, or http:// on port 80). A Basic challenge instead of a redirect means clients hand their password over in clear (tentative). Only with --allow-cleartext-basic, and only once that challenge was seen, is the real --basic pair sent to confirm it is accepted: by default the user's password never travels in clear.",
    needs: &[],
    explained_by: &[],
    remediation: Remediation {
        summary: "Never accept Basic credentials over plain HTTP: redirect (or refuse) every plain request before authentication runs, with no exemption for login or token endpoints, and send HSTS. Rotate any password that was used over HTTP.",
        frameworks: &[
            (
                "django",
                "SECURE_SSL_REDIRECT = True with no SECURE_REDIRECT_EXEMPT entry for the token view; in DRF keep BasicAuthentication out of DEFAULT_AUTHENTICATION_CLASSES and list it only in the login view's authentication_classes, which is then HTTPS-only.",
            ),
            (
                "express",
                "Mount the HTTPS redirect (if (!req.secure) return res.redirect(301, 'https://' + req.headers.host + req.originalUrl)) before passport's BasicStrategy or express-basic-auth, with app.set('trust proxy', …) limited to your proxy.",
            ),
            (
                "spring",
                "http.requiresChannel(c -> c.anyRequest().requiresSecure()) ahead of httpBasic(), or no plain connector at all.",
            ),
            (
                "go",
                "Serve the plain listener with a handler that only redirects; never wrap it with the BasicAuth middleware.",
            ),
            (
                "nginx",
                "In the port-80 server block only 'return 301 https://$host$request_uri;' — no location that proxies /login or uses auth_basic.",
            ),
        ],
    },
    references: &["RFC 7617 §4", "RFC 6797"],
    budget: crate::check::Budget::Fixed(3),
    lab_flaw: Some("basic.cleartext"),
    finds: "Basic credentials are accepted (or asked for) over plain HTTP",
    needs_note: "",
};

pub struct Cleartext;

/// The plain-HTTP URL of the Basic endpoint: the user's --http-url (same host and port)
/// with the Basic endpoint's path, else the endpoint itself with http:// on port 80.
fn plain_url(ctx: &Scan) -> Option<Url> {
    let basic = endpoint(ctx);
    match (&ctx.opts().http_url, &ctx.opts().basic.url) {
        (Some(http), None) => Some(http.clone()),
        (Some(http), Some(b)) => {
            let mut u = http.clone();
            u.set_path(b.path());
            u.set_query(b.query());
            Some(u)
        }
        (None, _) => {
            let mut u = basic;
            if u.scheme() != "http" {
                u.set_scheme("http").ok()?;
                u.set_port(None).ok()?;
            }
            Some(u)
        }
    }
}

fn basic_challenge(a: &Answer) -> Option<&str> {
    a.headers_named("www-authenticate")
        .find(|c| c.trim_start().to_ascii_lowercase().starts_with("basic"))
}

fn redirects_to_https(a: &Answer) -> bool {
    (300..400).contains(&a.status)
        && a.header("location")
            .is_some_and(|l| l.to_ascii_lowercase().starts_with("https://"))
}

impl Check for Cleartext {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let Some(url) = plain_url(ctx) else {
                return Outcome::NotApplicable("no plain-HTTP form of the Basic endpoint".into());
            };
            let made_up = literal_basic(&random_word("user"), &random_word("pass"));
            let x = match ctx
                .send(probe_to(ctx, &url).header("Authorization", made_up))
                .await
            {
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
            if redirects_to_https(a) || says_use_https(a.status, &a.body_text()) {
                return Outcome::Pass;
            }
            let challenge = basic_challenge(a).map(str::to_string);
            let refused = matches!(a.status, 401 | 403);
            // The real password goes out only when the listener has just shown it takes
            // Basic in clear, and only when the user allowed it.
            if refused
                && ctx.opts().basic.allow_cleartext
                && let Some(v) = user_basic(ctx)
            {
                let y = match ctx
                    .send(probe_to(ctx, &url).header("Authorization", v))
                    .await
                {
                    Ok(y) => y,
                    Err(e) => return Outcome::Inconclusive(e),
                };
                if let Some(b) = y.answer()
                    && (200..300).contains(&b.status)
                {
                    return Outcome::found(META.finding(
                        Confidence::Confirmed,
                        format!(
                            "{url} accepted the --basic pair over plain HTTP (status {}) where a made-up pair was refused with {}\nEvery client using this URL sends its password in clear.",
                            b.status, a.status
                        ),
                        ctx.evidence(&y),
                    ));
                }
                // The user's own pair does not log in there: whatever the challenge says,
                // nothing shows that Basic is accepted in clear.
                return Outcome::Pass;
            }
            match challenge {
                Some(c) if refused => Outcome::found(META.finding(
                    Confidence::Tentative,
                    format!(
                        "{url} answers plain HTTP with a Basic challenge ({c}) instead of redirecting to HTTPS\nClients answer that challenge with their password in clear. The real pair was not sent (--basic with --allow-cleartext-basic confirms with it)."
                    ),
                    ctx.evidence(&x),
                )),
                _ => Outcome::Pass,
            }
        })
    }
}
