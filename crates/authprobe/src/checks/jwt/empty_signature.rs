use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.empty_signature",
    title: "Token with its signature removed is accepted",
    family: Family::Jwt,
    severity: Severity::Critical,
    cwe: &[347],
    owasp: &["API2"],
    description: "Sends the token with its own alg but an empty signature segment.",
    needs: &[Need::Token],
    explained_by: &["jwt.signature_not_verified"],
    remediation: Remediation {
        summary: "Treat a missing signature as invalid; verify unconditionally rather than only when a signature is present.",
        frameworks: super::PINNED_ALGORITHMS,
    },
    references: &["RFC 7515 §5.2", "RFC 8725 §3.3", "CVE-2020-28042"],
    budget: crate::check::Budget::Fixed(10),
    lab_flaw: Some("jwt.empty_signature"),
    finds: "the token with its signature removed is accepted",
    needs_note: "",
};

pub struct EmptySignature;

impl Check for EmptySignature {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let jwt = match super::require_jwt(ctx) {
                Ok(j) => j,
                Err(o) => return o,
            };
            let build = |e: &[authprobe_jwt::Edit]| {
                authprobe_jwt::attacks::empty_signature(&jwt, e).map_err(|e| e.to_string())
            };
            super::forgery_check(
                ctx,
                &META,
                &jwt,
                build,
                "the token with an empty signature got the authorized answer",
            )
            .await
        })
    }
}
