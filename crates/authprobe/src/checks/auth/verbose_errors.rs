use crate::basic_auth::{endpoint, literal_basic, probe_to, random_word};
use crate::check::{Check, CheckFuture, CheckMeta, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::http::{Exchange, Value};
use crate::scan::Scan;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use regex::Regex;
use std::sync::LazyLock;

pub static META: CheckMeta = CheckMeta {
    id: "auth.verbose_errors",
    title: "Authentication errors echo the token, library exceptions or stack traces",
    family: Family::Auth,
    severity: Severity::Low,
    cwe: &[209],
    owasp: &["API8"],
    description: "Sends a JWT-shaped token and a non-token bearer, each carrying a unique marker, to the target, and a made-up Basic pair and a malformed Basic header to the Basic endpoint (4 requests); reads those refusals and the invalid-credential baseline for the marker (an echo of the credential), JWT library exception text (Signature has expired, jwt malformed, InvalidTokenError, …) and stack traces.",
    needs: &[],
    explained_by: &[],
    remediation: Remediation {
        summary: "Answer every authentication failure with one generic body (401, {\"error\": \"invalid_token\"}) and log the details server-side; never return the credential, the exception or the traceback.",
        frameworks: &[
            (
                "django",
                "DEBUG = False; in a custom REST_FRAMEWORK['EXCEPTION_HANDLER'] map jwt.exceptions.* to AuthenticationFailed('Invalid token.') without str(exc) or the token; simplejwt's default messages are fine.",
            ),
            (
                "express",
                "In the error handler for express-jwt's UnauthorizedError answer res.status(401).json({ error: 'invalid_token' }) instead of err.message / err.stack, and run with NODE_ENV=production.",
            ),
            (
                "spring",
                "server.error.include-message=never, include-stacktrace=never; let BearerTokenAuthenticationEntryPoint write the challenge without the exception text.",
            ),
            (
                "go",
                "Log err from jwt.Parse and write a fixed body; never fmt.Fprint(w, err).",
            ),
            (
                "nginx",
                "proxy_intercept_errors on; with error_page 401 /401.json; so upstream error bodies never reach clients.",
            ),
        ],
    },
    references: &[
        "RFC 6750 §3.1",
        "https://cheatsheetseries.owasp.org/cheatsheets/Error_Handling_Cheat_Sheet.html",
    ],
    budget: crate::check::Budget::Fixed(6),
    lab_flaw: Some("auth.verbose_errors"),
    finds: "authentication errors echo the credential, JWT library exception text or stack traces",
    needs_note: "",
};

pub struct VerboseErrors;

/// Exception names and messages of common JWT and Basic-auth libraries; each string is
/// specific enough that a generic error body never contains it.
const LIBRARY_TEXT: [&str; 28] = [
    "Signature has expired",
    "Signature verification failed",
    "Not enough segments",
    "Invalid header padding",
    "InvalidTokenError",
    "DecodeError",
    "ExpiredSignatureError",
    "InvalidSignatureError",
    "jwt.exceptions",
    "jwt malformed",
    "jwt expired",
    "invalid algorithm",
    "JsonWebTokenError",
    "TokenExpiredError",
    "NotBeforeError",
    "MalformedJwtException",
    "ExpiredJwtException",
    "SignatureException",
    "UnsupportedJwtException",
    "JWTDecodeException",
    "JWTVerificationException",
    "SignatureVerificationException",
    "token contains an invalid number of segments",
    "token is malformed",
    "crypto/ecdsa: verification error",
    "binascii.Error",
    "Incorrect padding",
    "IllegalArgumentException",
];

static STACK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"Traceback \(most recent call last\)",
        r#"|File "[^"]+\.py", line \d+"#,
        r"|\bat [\w$.]+\([\w$]+\.(?:java|kt|scala):\d+\)",
        r"|\bat .+ \(/[^)]+\.(?:js|ts|mjs|cjs):\d+:\d+\)",
        r"|node_modules/",
        r"|goroutine \d+ \[",
        r"|panicked at ",
        r"|Stack ?trace:",
    ))
    .expect("static regex")
});

/// What in a refusal body gives the server's insides away. `markers` are strings the
/// scanner sent that must not come back.
pub fn leaks(body: &str, markers: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for m in markers {
        if m.len() >= 12 && body.contains(m) {
            out.push("echoes the credential it was sent".to_string());
            break;
        }
    }
    for t in LIBRARY_TEXT {
        if body.contains(t) {
            out.push(format!("library exception text {t:?}"));
            break;
        }
    }
    if let Some(m) = STACK.find(body) {
        out.push(format!("a stack trace ({:?})", m.as_str()));
    }
    out
}

struct Sent {
    x: Exchange,
    markers: Vec<String>,
}

fn marker_jwt() -> (String, Vec<String>) {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let sub = random_word("echo");
    let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"{sub}"}}"#));
    let sig = URL_SAFE_NO_PAD.encode(random_word("sig"));
    let token = format!("{header}.{payload}.{sig}");
    (token.clone(), vec![token, payload, sig, sub])
}

impl Check for VerboseErrors {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let target = |v: Value| {
                ctx.transport_probe(&ctx.opts().method)
                    .without_header("Authorization")
                    .header("Authorization", v)
            };
            let url = endpoint(ctx);
            let (jwt, jwt_markers) = marker_jwt();
            let garbage = random_word("echo");
            let pass = random_word("echo");
            let odd = random_word("echo");
            let plan = vec![
                (target(Value::lit(format!("Bearer {jwt}"))), jwt_markers),
                (
                    target(Value::lit(format!("Bearer {garbage}"))),
                    vec![garbage],
                ),
                (
                    probe_to(ctx, &url)
                        .header("Authorization", literal_basic(&random_word("user"), &pass)),
                    vec![pass],
                ),
                (
                    probe_to(ctx, &url)
                        .header("Authorization", Value::lit(format!("Basic %{odd}%"))),
                    vec![odd],
                ),
            ];
            let results =
                futures::future::join_all(plan.into_iter().map(|(p, markers)| async move {
                    ctx.send(p).await.map(|x| Sent { x, markers })
                }))
                .await;
            let mut errors = Vec::new();
            let mut sent = Vec::new();
            for r in results {
                match r {
                    Ok(s) => sent.push(s),
                    Err(e) => errors.push(e),
                }
            }
            // The invalid-credential baseline carries the user's tampered token: an echo
            // of its unaltered part counts too (the report redacts it).
            let user_markers: Vec<String> = ctx
                .opts()
                .creds
                .bearer
                .iter()
                .filter_map(|t| {
                    let cut = t.len().saturating_sub(10);
                    t.is_char_boundary(cut).then(|| t[..cut].to_string())
                })
                .collect();
            let baseline = ctx
                .baselines()
                .invalid
                .iter()
                .flat_map(|b| b.exchanges.iter())
                .map(|x| (x, user_markers.clone()));
            let all = sent
                .iter()
                .map(|s| (&s.x, s.markers.clone()))
                .chain(baseline);
            for (x, markers) in all {
                let Some(a) = x.answer() else { continue };
                if a.status < 400 {
                    continue;
                }
                let refs: Vec<&str> = markers.iter().map(String::as_str).collect();
                let found = leaks(&a.body_text(), &refs);
                if !found.is_empty() {
                    return Outcome::found(META.finding(
                        Confidence::Confirmed,
                        format!(
                            "the {} refusal from {} {}\nAll signs: {}.",
                            a.status,
                            x.probe.url,
                            found[0],
                            found.join("; ")
                        ),
                        ctx.evidence(x),
                    ));
                }
            }
            match errors.into_iter().next() {
                Some(e) if sent.is_empty() => Outcome::Inconclusive(e),
                _ => Outcome::Pass,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_traces_and_echoes_are_found() {
        assert!(!leaks(r#"{"detail":"Signature has expired"}"#, &[]).is_empty());
        assert!(
            !leaks(
                "Traceback (most recent call last):\n  File \"/a.py\", line 3",
                &[]
            )
            .is_empty()
        );
        assert!(!leaks("at com.acme.Auth.check(Auth.java:42)", &[]).is_empty());
        assert!(
            !leaks(
                r#"{"token":"authprobe-echo-0011223344556677"}"#,
                &["authprobe-echo-0011223344556677"]
            )
            .is_empty()
        );
    }

    #[test]
    fn generic_errors_are_clean() {
        for body in [
            r#"{"error":"invalid_token","request_id":"9f2c41d07be1a3c5"}"#,
            r#"{"detail":"Given token not valid for any token type","code":"token_not_valid"}"#,
            r#"{"detail":"Invalid username/password."}"#,
        ] {
            assert!(
                leaks(body, &["authprobe-echo-0011223344556677"]).is_empty(),
                "{body}"
            );
        }
    }
}
