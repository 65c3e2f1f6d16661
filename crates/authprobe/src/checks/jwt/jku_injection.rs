use crate::checks::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::engine::Ctx;
use crate::finding::{Confidence, Family, Severity};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.jku_injection",
    title: "Server fetches keys from an attacker-chosen jku / x5u URL",
    family: Family::Jwt,
    severity: Severity::Critical,
    cwe: &[347, 918],
    owasp: &["API2", "API7"],
    description: "Runs a listener on loopback (or behind --callback-url), signs the token with a fresh key and points jku (a JWKS) and x5u (a certificate) at the listener. A fetch seen there is proof even when the token is refused.",
    needs: &[Need::Token],
    explained_by: &["jwt.signature_not_verified"],
    remediation: Remediation {
        summary: "Never fetch keys from a URL in the token. Configure the JWKS URL of your issuer on the server and ignore jku/x5u, or match them against an exact allowlist.",
        frameworks: &[
            (
                "django",
                "Use PyJWKClient(\"https://your-idp/.well-known/jwks.json\") with a URL from settings, never from the token header.",
            ),
            (
                "express",
                "jwks-rsa: jwksUri from configuration; do not read header.jku in the getKey callback.",
            ),
            (
                "spring",
                "NimbusJwtDecoder.withJwkSetUri(configuredUri); never build a JWKSource from the token's jku.",
            ),
            (
                "go",
                "keyfunc/jwk: fetch from a configured URL; keyFunc must ignore token.Header[\"jku\"].",
            ),
            (
                "gateway",
                "Envoy jwt_authn remote_jwks with a fixed http_uri; Kong: pin the JWKS in the plugin configuration.",
            ),
        ],
    },
    references: &["RFC 7515 §4.1.2", "RFC 7515 §4.1.5", "RFC 8725 §3.10"],
    budget: crate::checks::Budget::Fixed(10),
    lab_flaw: Some("jwt.jku_injection"),
    finds: "the server fetches keys from an attacker-chosen `jku`/`x5u` URL (seen on the scanner's listener) or accepts the token",
    needs_note: "(+ `--callback-url` for remote targets)",
};

pub struct JkuInjection;

/// What the listener serves: (path, content type, body).
type Docs = Arc<Mutex<Vec<(String, &'static str, String)>>>;

struct Listener {
    url_base: String,
    seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `docs` (path -> (content type, body)) and records every requested path.
/// Bounded: it lives only as long as the check, each connection has a short deadline and
/// a capped read.
async fn listen(bind: &str, docs: Docs) -> std::io::Result<(String, Listener)> {
    let l = TcpListener::bind(bind).await?;
    let addr = l.local_addr()?;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let seen = seen2.clone();
            let docs = docs.clone();
            tokio::spawn(async move {
                let work = async {
                    let mut buf = vec![0u8; 8192];
                    let n = s.read(&mut buf).await.ok()?;
                    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let path = head.split_whitespace().nth(1)?.to_string();
                    seen.lock().ok()?.push(path.clone());
                    let doc = docs
                        .lock()
                        .ok()?
                        .iter()
                        .find(|(p, _, _)| *p == path)
                        .cloned();
                    let resp = match doc {
                        Some((_, ct, body)) => format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        ),
                        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                    };
                    s.write_all(resp.as_bytes()).await.ok()
                };
                let _ = tokio::time::timeout(Duration::from_secs(3), work).await;
            });
        }
    });
    Ok((
        addr.to_string(),
        Listener {
            url_base: String::new(),
            seen,
            task,
        },
    ))
}

fn target_is_loopback(ctx: &Ctx) -> bool {
    match ctx.opts.target.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

impl Check for JkuInjection {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let jwt = match super::require_jwt(ctx) {
                Ok(j) => j,
                Err(o) => return o,
            };
            let callback = ctx.opts.jwt.callback_url.clone();
            if callback.is_none() && !target_is_loopback(ctx) {
                return Outcome::NotApplicable(
                    "the target cannot reach a listener on this machine: give --callback-url (a URL that reaches port P of 127.0.0.1 here)".into(),
                );
            }
            let bind = match &callback {
                Some(u) => format!("127.0.0.1:{}", u.port_or_known_default().unwrap_or(80)),
                None => "127.0.0.1:0".to_string(),
            };
            let docs = Arc::new(Mutex::new(Vec::new()));
            let (addr, mut listener) = match listen(&bind, docs.clone()).await {
                Ok(l) => l,
                Err(e) => return Outcome::Inconclusive(format!("cannot listen on {bind}: {e}")),
            };
            listener.url_base = match &callback {
                Some(u) => u.as_str().trim_end_matches('/').to_string(),
                None => format!("http://{addr}"),
            };
            let nonce = format!("{:08x}", rand::random::<u32>());
            let jku_path = format!("/authprobe-{nonce}/jwks.json");
            let x5u_path = format!("/authprobe-{nonce}/cert.pem");
            let key = authprobe_jwt::PrivateKey::generate_p256();
            let build =
                |edits: &[authprobe_jwt::Edit]| -> Result<Vec<authprobe_jwt::Forged>, String> {
                    let jku = authprobe_jwt::attacks::jku_injection(
                        &jwt,
                        edits,
                        &format!("{}{jku_path}", listener.url_base),
                        &key,
                    )
                    .map_err(|e| e.to_string())?;
                    let x5u = authprobe_jwt::attacks::x5u_injection(
                        &jwt,
                        edits,
                        &format!("{}{x5u_path}", listener.url_base),
                        &key,
                    )
                    .map_err(|e| e.to_string())?;
                    if let Ok(mut d) = docs.lock() {
                        d.clear();
                        d.push((jku_path.clone(), jku.content_type, jku.document.clone()));
                        d.push((x5u_path.clone(), x5u.content_type, x5u.document.clone()));
                    }
                    Ok(jku.forged.into_iter().chain(x5u.forged).collect())
                };
            let outcome = super::forgery_check(ctx, &META, &jwt, &build, "a token signed with a key served from an attacker-chosen jku/x5u URL got the authorized answer").await;
            let fetched: Vec<String> = listener.seen.lock().map(|s| s.clone()).unwrap_or_default();
            match outcome {
                Outcome::Pass | Outcome::Inconclusive(_) if !fetched.is_empty() => {
                    // The server fetched the attacker's URL: SSRF and key injection in the
                    // making, even though this token was refused.
                    let trials = super::try_forged(ctx, build(&[]).unwrap_or_default()).await;
                    let evidence = match &trials {
                        Ok(t) => t.first().map(|t| ctx.evidence(&t.exchange)),
                        Err(_) => None,
                    };
                    match evidence {
                        Some(ev) => Outcome::found(META.finding(
                            Confidence::Firm,
                            format!(
                                "the server fetched the URL named in the token's header ({}) although it refused the token\nA server that dereferences jku/x5u can be made to request internal URLs (SSRF) and is one step from trusting the fetched keys.",
                                fetched.join(", ")
                            ),
                            ev,
                        )),
                        None => Outcome::Inconclusive("the listener saw a fetch but the probe could not be repeated".into()),
                    }
                }
                other => other,
            }
        })
    }
}
