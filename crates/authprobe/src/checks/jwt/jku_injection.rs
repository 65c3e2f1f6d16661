use crate::callback::Callback;
use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;

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
    budget: crate::check::Budget::Fixed(10),
    lab_flaw: Some("jwt.jku_injection"),
    finds: "the server fetches keys from an attacker-chosen `jku`/`x5u` URL (seen on the scanner's listener) or accepts the token",
    needs_note: "(+ `--callback-url` for remote targets)",
};

pub struct JkuInjection;

impl Check for JkuInjection {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let jwt = match super::require_jwt(ctx) {
                Ok(j) => j,
                Err(o) => return o,
            };
            let listener = match ctx.callback().await {
                Ok(l) => l,
                // No listener the target can reach: the check cannot observe a fetch.
                Err(e) if e.contains("--callback-url") => return Outcome::NotApplicable(e),
                Err(e) => return Outcome::Inconclusive(e),
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
                        &listener.url(&jku_path),
                        &key,
                    )
                    .map_err(|e| e.to_string())?;
                    let x5u = authprobe_jwt::attacks::x5u_injection(
                        &jwt,
                        edits,
                        &listener.url(&x5u_path),
                        &key,
                    )
                    .map_err(|e| e.to_string())?;
                    listener.serve(&jku_path, jku.content_type, jku.document.clone());
                    listener.serve(&x5u_path, x5u.content_type, x5u.document.clone());
                    Ok(jku.forged.into_iter().chain(x5u.forged).collect())
                };
            let outcome = super::forgery_check(ctx, &META, &jwt, &build, "a token signed with a key served from an attacker-chosen jku/x5u URL got the authorized answer").await;
            let fetched = listener.fetched(&format!("/authprobe-{nonce}/"));
            let outcome = match outcome {
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
            };
            match outcome {
                Outcome::Found(mut f) => {
                    f.description.push('\n');
                    f.description
                        .push_str(&replay_note(ctx, listener, &jku_path, &nonce));
                    Outcome::Found(f)
                }
                other => other,
            }
        })
    }
}

/// How to rerun the evidence's `curl` line: its token names the scan's listener, which
/// closed with the scan, so the key set must be served at the same URL again. With
/// `--keep-artifacts` the documents are written under DIR in the listener's path layout,
/// so any static file server rooted there serves them.
fn replay_note(ctx: &Scan, listener: &Callback, jku_path: &str, nonce: &str) -> String {
    let jku_url = listener.url(jku_path);
    let port = url::Url::parse(&jku_url)
        .ok()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(80);
    let fixed = if ctx.opts().jwt.callback_url.is_some() {
        ""
    } else {
        " (its port was chosen at random: scan with --callback-url http://127.0.0.1:PORT to fix it)"
    };
    match &ctx.opts().keep_artifacts {
        Some(dir) => match save_documents(listener, dir, nonce) {
            Ok(()) => format!(
                "To rerun the curl line, serve the key set again at {jku_url}{fixed}: python3 -m http.server {port} --bind 127.0.0.1 --directory {}",
                dir.display()
            ),
            Err(e) => format!("The key set could not be kept: {e}"),
        },
        None => format!(
            "The curl line's token names {jku_url}, served by the scan's listener, which closed with the scan{fixed}; to rerun it, scan with --keep-artifacts DIR, then serve DIR at that address as the finding will say."
        ),
    }
}

fn save_documents(listener: &Callback, dir: &std::path::Path, nonce: &str) -> Result<(), String> {
    let sub = dir.join(format!("authprobe-{nonce}"));
    crate::pki::create_private_dir(&sub).map_err(|e| e.to_string())?;
    for (path, body) in listener.documents(&format!("/authprobe-{nonce}/")) {
        let file = sub.join(path.rsplit('/').next().unwrap_or(&path));
        std::fs::write(&file, body).map_err(|e| format!("writing {}: {e}", file.display()))?;
    }
    Ok(())
}
