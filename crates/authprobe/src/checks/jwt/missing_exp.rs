use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.missing_exp",
    title: "The token has no exp",
    family: Family::Jwt,
    severity: Severity::Medium,
    cwe: &[613],
    owasp: &["API2"],
    description: "Reads the token given with --bearer: a token without exp never expires.",
    needs: &[Need::Token],
    explained_by: &[],
    remediation: Remediation {
        summary: "Issue every access token with exp (minutes to hours) and require exp when validating.",
        frameworks: &[
            (
                "django",
                "simplejwt: ACCESS_TOKEN_LIFETIME = timedelta(minutes=15); PyJWT: options={\"require\": [\"exp\"]}.",
            ),
            (
                "express",
                "jsonwebtoken: jwt.sign(payload, key, { expiresIn: \"15m\" }); verify rejects expired tokens unless ignoreExpiration is set.",
            ),
            (
                "spring",
                "JwtClaimsSet.builder().expiresAt(now.plus(15, MINUTES)); the default JwtTimestampValidator enforces it.",
            ),
            (
                "go",
                "golang-jwt: set RegisteredClaims.ExpiresAt and parse with jwt.WithExpirationRequired().",
            ),
            (
                "gateway",
                "Kong jwt plugin: claims_to_verify = exp; maximum_expiration to cap lifetimes.",
            ),
        ],
    },
    references: &["RFC 7519 §4.1.4", "RFC 9068 §2.2"],
    budget: crate::check::Budget::Passive,
    lab_flaw: Some("jwt.missing_exp"),
    finds: "the token has no `exp`",
    needs_note: "",
};

pub struct MissingExp;

impl Check for MissingExp {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move { super::passive::run(ctx, &META) })
    }
}
