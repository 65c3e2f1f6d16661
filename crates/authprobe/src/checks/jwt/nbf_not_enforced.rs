use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.nbf_not_enforced",
    title: "Token whose nbf is in the future is accepted",
    family: Family::Jwt,
    severity: Severity::Medium,
    cwe: &[613],
    owasp: &["API2"],
    description: "Mints a token valid only from an hour from now, signed the way the scan proved the server accepts (the key given or cracked, the confused public key, alg none, or the original signature when signatures are not verified); every other claim, the identity included, is kept.",
    needs: &[Need::Token],
    explained_by: &[],
    remediation: Remediation {
        summary: "Honour nbf (not before) with a small leeway.",
        frameworks: super::CLAIM_VALIDATION,
    },
    references: &["RFC 7519 §4.1.5"],
    budget: crate::check::Budget::Fixed(72),
    lab_flaw: Some("jwt.nbf_not_enforced"),
    finds: "a token whose `nbf` is in the future is accepted",
    needs_note: "+ key",
};

pub struct NbfNotEnforced;

impl Check for NbfNotEnforced {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            super::minted_check(
                ctx,
                &META,
                |jwt, signer| {
                    authprobe_jwt::attacks::mint_not_yet_valid(
                        jwt,
                        signer,
                        authprobe_jwt::attacks::unix_now(),
                    )
                    .map(|f| vec![f])
                    .map_err(|e| e.to_string())
                },
                None,
                "a token not valid for another hour got the authorized answer",
            )
            .await
        })
    }
}
