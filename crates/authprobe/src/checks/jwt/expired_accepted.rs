use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.expired_accepted",
    title: "Token whose exp is in the past is accepted",
    family: Family::Jwt,
    severity: Severity::High,
    cwe: &[613],
    owasp: &["API2"],
    description: "Mints a token whose exp passed an hour ago, signed the way the scan proved the server accepts (the key given or cracked, the confused public key, alg none, or the original signature when signatures are not verified); every other claim, the identity included, is kept; or sends --expired-token.",
    needs: &[Need::Token],
    explained_by: &[],
    remediation: Remediation {
        summary: "Require exp and reject expired tokens, with at most a small clock skew (seconds, not hours).",
        frameworks: super::CLAIM_VALIDATION,
    },
    references: &["RFC 7519 §4.1.4"],
    budget: crate::check::Budget::Fixed(72),
    lab_flaw: Some("jwt.expired_accepted"),
    finds: "a token whose `exp` has passed is accepted",
    needs_note: "+ key, or `--expired-token`",
};

pub struct ExpiredAccepted;

impl Check for ExpiredAccepted {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let given = ctx
                .opts()
                .jwt
                .expired_token
                .clone()
                .map(|t| ("the token given with --expired-token", t));
            super::minted_check(
                ctx,
                &META,
                |jwt, signer| {
                    authprobe_jwt::attacks::mint_expired(
                        jwt,
                        signer,
                        authprobe_jwt::attacks::unix_now(),
                    )
                    .map(|f| vec![f])
                    .map_err(|e| e.to_string())
                },
                given,
                "a token that expired an hour ago got the authorized answer",
            )
            .await
        })
    }
}
