use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Confidence, Evidence, Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.weak_hmac_secret",
    title: "HMAC secret recovered offline from a wordlist",
    family: Family::Jwt,
    severity: Severity::Critical,
    cwe: &[521, 1391],
    owasp: &["API2"],
    description: "For HS256/384/512 tokens, tries the built-in list of default and example secrets with mangling rules, then each --wordlist, offline, within --crack-time. Sends nothing; a recovered key is then used to mint the tokens of the claim checks.",
    needs: &[Need::Token],
    explained_by: &[],
    remediation: Remediation {
        summary: "Replace the secret with at least 256 random bits from a CSPRNG (e.g. `openssl rand -base64 32`), keep it out of source control, rotate it (every token signed with the old one is forgeable), or move to an asymmetric algorithm (ES256/EdDSA) so verifiers hold no signing secret.",
        frameworks: &[
            (
                "django",
                "SIMPLE_JWT['SIGNING_KEY'] defaults to SECRET_KEY: set a dedicated random key from the environment; never ship the startproject or tutorial value.",
            ),
            (
                "express",
                "jsonwebtoken: load the secret from a secret manager (process.env) and reject startup when it is short; prefer algorithms: ['ES256'] with a key pair.",
            ),
            (
                "spring",
                "NimbusJwtEncoder/Decoder with a SecretKeySpec of >= 32 random bytes from a vault, or switch to RSA/EC keys.",
            ),
            (
                "go",
                "golang-jwt: []byte(os.Getenv(\"JWT_SECRET\")) must be 32+ random bytes; refuse to start with a default.",
            ),
            (
                "gateway",
                "Kong/Envoy HS256 secrets: generate randomly per consumer and rotate.",
            ),
        ],
    },
    references: &["RFC 7518 §3.2", "RFC 8725 §3.5"],
    budget: crate::check::Budget::Passive,
    lab_flaw: Some("jwt.weak_hmac_secret"),
    finds: "the HS256/384/512 secret is recovered offline (built-in list + rules + `--wordlist`, within `--crack-time`)",
    needs_note: "",
};

pub struct WeakHmacSecret;

impl Check for WeakHmacSecret {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let jwt = match super::require_jwt(ctx) {
                Ok(j) => j,
                Err(o) => return o,
            };
            if !super::token_alg(&jwt).is_some_and(super::is_hmac) {
                return Outcome::NotApplicable(
                    "the token is not HMAC-signed (HS256/384/512)".into(),
                );
            }
            let result = match ctx.facts().jwt.cracked(ctx).await {
                Ok(Some(r)) => r,
                Ok(None) => {
                    return Outcome::Inconclusive("the cracker could not run on this token".into());
                }
                Err(e) => return Outcome::Inconclusive(e),
            };
            let Some(secret) = &result.secret else {
                return Outcome::Pass;
            };
            let authorized = ctx
                .baselines()
                .authorized
                .as_ref()
                .and_then(|b| b.exchanges.first());
            let evidence = match authorized {
                Some(x) => {
                    let mut e = ctx.evidence(x);
                    e.excerpt = format!(
                        "offline: {} candidates in {:.2} s; the HMAC of the token's signing input under the recovered secret equals its signature\n\n{}",
                        result.tried,
                        result.elapsed.as_secs_f64(),
                        e.excerpt
                    );
                    e
                }
                None => Evidence {
                    request: "(offline: no request sent)".into(),
                    status: None,
                    excerpt: format!(
                        "{} candidates in {:.2} s",
                        result.tried,
                        result.elapsed.as_secs_f64()
                    ),
                    curl: "curl -sS -i -H \"Authorization: Bearer ${AUTHPROBE_BEARER}\" URL".into(),
                },
            };
            Outcome::found(META.finding(
                Confidence::Confirmed,
                format!(
                    "the token's {} secret is {:?} (masked; {} characters), recovered offline in {:.2} s\nAnyone with one token can mint tokens for any identity. Reproduce: authprobe crack \"$AUTHPROBE_BEARER\" --show-secret",
                    jwt.alg().unwrap_or("HS"),
                    crate::creds::mask(secret),
                    String::from_utf8_lossy(secret).chars().count(),
                    result.elapsed.as_secs_f64()
                ),
                evidence,
            ))
        })
    }
}
