use crate::check::{Check, CheckFuture, CheckMeta, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::http::{Exchange, Value};
use crate::oracle::{Sample, Verdict};
use crate::scan::{Compare, Scan};

pub static META: CheckMeta = CheckMeta {
    id: "auth.malformed_token_accepted",
    title: "Garbage, empty or truncated bearer value gets the authorized answer",
    family: Family::Auth,
    severity: Severity::Critical,
    cwe: &[287],
    owasp: &["API2"],
    description: "Sends bearer values that are not tokens at all (empty, null, undefined, random text, an empty JWT shape, the user's token truncated) with the transport credential, and compares each answer with the baselines.",
    needs: &[],
    explained_by: &[],
    remediation: Remediation {
        summary: "Treat any token that fails to parse exactly like a token that fails to verify: refuse the request with 401. Never fall back to another identity when decoding throws.",
        frameworks: &[
            (
                "django",
                "Do not catch jwt.exceptions.DecodeError (PyJWT) or InvalidToken (simplejwt) and continue; let the authentication class raise AuthenticationFailed.",
            ),
            (
                "express",
                "With express-jwt keep credentialsRequired: true and let its error handler answer 401; a custom middleware must call next(err), not next(), when jsonwebtoken.verify throws JsonWebTokenError.",
            ),
            (
                "spring",
                "Let BearerTokenAuthenticationFilter's AuthenticationEntryPoint answer 401 on InvalidBearerTokenException; do not add a filter that swallows JwtException.",
            ),
            (
                "go",
                "Return 401 when jwt.Parse (golang-jwt) returns an error, whatever its kind; do not check only errors.Is(err, jwt.ErrTokenSignatureInvalid).",
            ),
            (
                "gateway",
                "In the gateway's JWT filter (Envoy jwt_authn, Kong jwt) require a valid token on the route; 'allow_missing_or_failed' must not be used on protected routes.",
            ),
        ],
    },
    references: &["RFC 6750 §3.1", "RFC 8725 §3.3"],
    budget: crate::check::Budget::Fixed(16),
    lab_flaw: Some("auth.malformed_token_accepted"),
    finds: "a garbage, empty or truncated bearer value gets the authorized answer",
    needs_note: "",
};

pub struct MalformedTokenAccepted;

/// Bearer values that frameworks read as no token at all.
const READ_AS_NO_TOKEN: &[&str] = &["empty bearer", "scheme only"];

fn garbage_values(token: Option<&str>) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = [
        ("empty bearer", "Bearer "),
        ("scheme only", "Bearer"),
        ("null", "Bearer null"),
        ("undefined", "Bearer undefined"),
        ("random text", "Bearer authprobe-not-a-token"),
        ("empty JWT shape", "Bearer e30.e30."),
    ]
    .iter()
    .map(|(l, s)| (l.to_string(), Value::lit(*s)))
    .collect();
    // Cut inside the payload, so what is left is structurally broken (its JSON cannot
    // parse). A token cut only in its signature still parses: that is a signature
    // check's business (jwt.signature_not_verified), not this one's. The header and half
    // the claims are not a credential, so the value is shown as is.
    if let Some(t) = token
        && let Some((header, rest)) = t.split_once('.')
        && let Some((payload, _)) = rest.split_once('.')
        && payload.len() >= 8
        && payload.is_char_boundary(payload.len() / 2)
    {
        v.push((
            "token truncated inside its payload".into(),
            Value::lit(format!("Bearer {header}.{}", &payload[..payload.len() / 2])),
        ));
    }
    v
}

impl Check for MalformedTokenAccepted {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            if ctx.cert_only() {
                return Outcome::NotApplicable(
                    "certificate-only API: no token to test (the client certificate is the credential)"
                        .into(),
                );
            }
            let oracle = match ctx.judge(Compare::AppCredentialSwapped) {
                Ok(o) => o,
                Err(why) => return Outcome::Inconclusive(why),
            };
            // Where the certificate alone is enough, an empty bearer or a bare scheme is
            // read as "no token" by construction: only other garbage proves more.
            let no_token_ok = ctx.facts().auth.cert_alone_accepted(ctx).await;
            let values = garbage_values(ctx.opts().creds.bearer.as_deref());
            let sent = futures::future::join_all(values.into_iter().map(|(label, v)| async move {
                let p = ctx
                    .transport_probe(&ctx.opts().method)
                    .without_header("Authorization")
                    .header("Authorization", v);
                (label, ctx.send(p).await)
            }))
            .await;
            let mut hits: Vec<(String, Exchange, bool)> = Vec::new();
            let mut reasons = Vec::new();
            let mut refused = 0;
            let mut implied = false;
            for (label, x) in sent {
                match x {
                    Ok(x) => match oracle.judge(&Sample::from_exchange(&x)) {
                        Verdict::Accepted { .. }
                            if no_token_ok && READ_AS_NO_TOKEN.contains(&label.as_str()) =>
                        {
                            implied = true;
                        }
                        Verdict::Accepted { tentative, .. } => hits.push((label, x, tentative)),
                        Verdict::Inconclusive(r) => reasons.push(format!("{label}: {r}")),
                        Verdict::Rejected => refused += 1,
                    },
                    Err(e) => reasons.push(e),
                }
            }
            if hits.is_empty() {
                if implied {
                    return Outcome::Inconclusive(
                        "explained by auth.token_optional_with_cert: with the certificate, no token is needed, and only an empty bearer (read as no token) was accepted".into(),
                    );
                }
                // Inconclusive only when no garbage value was clearly refused.
                return match reasons.first() {
                    Some(r) if refused == 0 => Outcome::Inconclusive(r.clone()),
                    _ => Outcome::Pass,
                };
            }
            let tentative = hits.iter().all(|(_, _, t)| *t);
            let list = hits
                .iter()
                .map(|(l, _, _)| l.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            Outcome::found(META.finding(
                if tentative { Confidence::Tentative } else { Confidence::Firm },
                format!(
                    "a bearer value that is not a valid token ({}) got the authorized answer\nAccepted values: {list}.",
                    hits[0].0
                ),
                ctx.evidence(&hits[0].1),
            ))
        })
    }
}
