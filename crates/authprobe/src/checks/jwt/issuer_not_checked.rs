use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.issuer_not_checked",
    title: "Token minted by another issuer is accepted",
    family: Family::Jwt,
    severity: Severity::High,
    cwe: &[287, 1390],
    owasp: &["API2"],
    description: "Mints a token with another iss, signed the way the scan proved the server accepts (the key given or cracked, the confused public key, alg none, or the original signature when signatures are not verified); every other claim, the identity included, is kept.",
    needs: &[Need::Token],
    explained_by: &[],
    remediation: Remediation {
        summary: "Check iss against the issuer you trust and require it.",
        frameworks: super::CLAIM_VALIDATION,
    },
    references: &["RFC 7519 §4.1.1", "RFC 8725 §3.8"],
    budget: crate::check::Budget::Fixed(72),
    lab_flaw: Some("jwt.issuer_not_checked"),
    finds: "a token minted by another issuer is accepted",
    needs_note: "+ key",
};

pub struct IssuerNotChecked;

impl Check for IssuerNotChecked {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            super::minted_check(
                ctx,
                &META,
                |jwt, signer| {
                    authprobe_jwt::attacks::mint_other_issuer(
                        jwt,
                        signer,
                        "https://attacker.authprobe.invalid",
                        authprobe_jwt::attacks::unix_now(),
                    )
                    .map(|f| vec![f])
                    .map_err(|e| e.to_string())
                },
                None,
                "a token minted by another issuer got the authorized answer",
            )
            .await
        })
    }
}
