use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.embedded_jwk",
    title: "Token signed by an attacker key carried in the header jwk is accepted",
    family: Family::Jwt,
    severity: Severity::Critical,
    cwe: &[347],
    owasp: &["API2"],
    description: "Signs the token with fresh RSA and EC keys and puts their public halves in the header jwk.",
    needs: &[Need::Token],
    explained_by: &["jwt.signature_not_verified"],
    remediation: Remediation {
        summary: "Never take the verification key from the token; ignore header jwk/x5c unless they chain to a trust anchor you pin.",
        frameworks: super::PINNED_ALGORITHMS,
    },
    references: &["RFC 7515 §4.1.3", "RFC 8725 §3.10", "CVE-2018-0114"],
    budget: crate::check::Budget::Fixed(10),
    lab_flaw: Some("jwt.embedded_jwk"),
    finds: "a token signed by an attacker key carried in the header `jwk` is accepted",
    needs_note: "",
};

pub struct EmbeddedJwk;

impl Check for EmbeddedJwk {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let jwt = match super::require_jwt(ctx) {
                Ok(j) => j,
                Err(o) => return o,
            };
            let keys =
                match tokio::task::spawn_blocking(authprobe_jwt::attacks::AttackerKeys::generate)
                    .await
                {
                    Ok(Ok(k)) => k,
                    _ => return Outcome::Inconclusive("could not generate attacker keys".into()),
                };
            let build = |e: &[authprobe_jwt::Edit]| {
                authprobe_jwt::attacks::embedded_jwk(&jwt, e, &keys).map_err(|e| e.to_string())
            };
            super::forgery_check(
                ctx,
                &META,
                &jwt,
                build,
                "a token signed with a key from its own jwk header got the authorized answer",
            )
            .await
        })
    }
}
