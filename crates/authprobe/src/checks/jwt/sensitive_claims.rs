use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.sensitive_claims",
    title: "The payload carries personal data, passwords or keys in clear",
    family: Family::Jwt,
    severity: Severity::Medium,
    cwe: &[312, 359],
    owasp: &["API3"],
    description: "Reads the token given with --bearer: JWT payloads are only base64, readable by anyone who sees the token.",
    needs: &[Need::Token],
    explained_by: &[],
    remediation: Remediation {
        summary: "Keep tokens to identifiers and authorization data; look personal data up server-side, or encrypt the token (JWE) if it must travel.",
        frameworks: &[
            (
                "django",
                "simplejwt: customise the token with get_token() to add only ids and roles, not e-mail or phone.",
            ),
            (
                "express",
                "Sign { sub, roles } only; fetch profile data from the user service.",
            ),
            (
                "spring",
                "OAuth2TokenCustomizer: add authorities, not personal attributes.",
            ),
            ("go", "Custom claims struct with only IDs and roles."),
            (
                "gateway",
                "IdP mappers: do not map e-mail, phone or address into access tokens.",
            ),
        ],
    },
    references: &["RFC 7519 §12"],
    budget: crate::check::Budget::Passive,
    lab_flaw: Some("jwt.sensitive_claims"),
    finds: "the payload carries personal data, passwords or keys in clear (values masked in the report)",
    needs_note: "",
};

pub struct SensitiveClaims;

impl Check for SensitiveClaims {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move { super::passive::run(ctx, &META) })
    }
}
