use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.audience_not_checked",
    title: "Token minted for another audience is accepted",
    family: Family::Jwt,
    severity: Severity::High,
    cwe: &[287, 1390],
    owasp: &["API2"],
    description: "Mints a token for another audience (and, when the original names one, without aud), signed the way the scan proved the server accepts (the key given or cracked, the confused public key, alg none, or the original signature when signatures are not verified); every other claim, the identity included, is kept; or sends --alt-token.",
    needs: &[Need::Token],
    explained_by: &[],
    remediation: Remediation {
        summary: "Check aud against this API's own identifier and require it, so a token issued for another service is refused.",
        frameworks: super::CLAIM_VALIDATION,
    },
    references: &["RFC 7519 §4.1.3", "RFC 8725 §3.9"],
    budget: crate::check::Budget::Fixed(72),
    lab_flaw: Some("jwt.audience_not_checked"),
    finds: "a token minted for another audience (or without `aud`) is accepted",
    needs_note: "+ key, or `--alt-token`",
};

pub struct AudienceNotChecked;

impl Check for AudienceNotChecked {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let given = ctx
                .opts()
                .jwt
                .alt_token
                .clone()
                .map(|t| ("the token given with --alt-token", t));
            super::minted_check(
                ctx,
                &META,
                |jwt, signer| {
                    let now = authprobe_jwt::attacks::unix_now();
                    let mut out = vec![
                        authprobe_jwt::attacks::mint_other_audience(
                            jwt,
                            signer,
                            Some("https://other-service.authprobe.invalid"),
                            now,
                        )
                        .map_err(|e| e.to_string())?,
                    ];
                    // Without aud in the original, a missing aud is the passive finding, not this one.
                    if jwt.claims().contains_key("aud") {
                        out.push(
                            authprobe_jwt::attacks::mint_other_audience(jwt, signer, None, now)
                                .map_err(|e| e.to_string())?,
                        );
                    }
                    Ok(out)
                },
                given,
                "a token minted for another audience got the authorized answer",
            )
            .await
        })
    }
}
