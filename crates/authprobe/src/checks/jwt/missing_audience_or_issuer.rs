use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.missing_audience_or_issuer",
    title: "The token carries no aud or no iss",
    family: Family::Jwt,
    severity: Severity::Low,
    cwe: &[287],
    owasp: &["API2"],
    description: "Reads the token given with --bearer: without aud and iss a token for one service is a token for all services that share the key.",
    needs: &[Need::Token],
    explained_by: &[],
    remediation: Remediation {
        summary: "Put iss and aud in every token and require both when validating.",
        frameworks: &[
            (
                "django",
                "simplejwt: set AUDIENCE and ISSUER; PyJWT: jwt.encode({... \"iss\": ..., \"aud\": ...}).",
            ),
            (
                "express",
                "jwt.sign(payload, key, { audience: \"your-api\", issuer: \"https://your-idp\" }).",
            ),
            (
                "spring",
                "JwtClaimsSet.builder().issuer(...).audience(List.of(\"your-api\")).",
            ),
            (
                "go",
                "RegisteredClaims{Issuer: ..., Audience: jwt.ClaimStrings{\"your-api\"}}.",
            ),
            (
                "gateway",
                "Configure the IdP client to include aud; Envoy jwt_authn: audiences.",
            ),
        ],
    },
    references: &[
        "RFC 7519 §4.1.1",
        "RFC 7519 §4.1.3",
        "RFC 8725 §3.9",
        "RFC 9068 §2.2",
    ],
    budget: crate::check::Budget::Passive,
    lab_flaw: Some("jwt.missing_audience_or_issuer"),
    finds: "the token carries no `aud` or no `iss`",
    needs_note: "",
};

pub struct MissingAudienceOrIssuer;

impl Check for MissingAudienceOrIssuer {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move { super::passive::run(ctx, &META) })
    }
}
