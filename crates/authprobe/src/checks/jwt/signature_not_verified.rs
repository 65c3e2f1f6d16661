use crate::checks::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::engine::Ctx;
use crate::finding::{Family, Severity};

pub static META: CheckMeta = CheckMeta {
    id: "jwt.signature_not_verified",
    title: "Token with changed claims and the old or a random signature is accepted",
    family: Family::Jwt,
    severity: Severity::Critical,
    cwe: &[347],
    owasp: &["API2"],
    description: "Changes a claim and keeps the original signature, then sends a random signature of the right length.",
    needs: &[Need::Token],
    explained_by: &[],
    remediation: Remediation {
        summary: "Verify the signature of every token with your key before reading any claim.",
        frameworks: super::PINNED_ALGORITHMS,
    },
};

pub struct SignatureNotVerified;

impl Check for SignatureNotVerified {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let jwt = match super::require_jwt(ctx) {
                Ok(j) => j,
                Err(o) => return o,
            };
            if let Err(e) = super::oracle(ctx) {
                return Outcome::Inconclusive(e);
            }
            let Some(u) = ctx.shared.jwt.unverified(ctx).await else {
                return Outcome::Pass;
            };
            // The probes already carried a marker claim: see whether the answer echoed it.
            let (edit, marker) = super::marker_edit(&jwt);
            let confirmed = match authprobe_jwt::attacks::signature_not_verified(
                &jwt,
                std::slice::from_ref(&edit),
            ) {
                Ok(f) => match f.first() {
                    Some(f) => {
                        super::confirms(ctx, super::forged_value(ctx, &f.token), &marker).await
                    }
                    None => false,
                },
                Err(_) => false,
            };
            let (first_label, first) = &u.accepted[0];
            Outcome::found(META.finding(
                if confirmed { crate::finding::Confidence::Confirmed } else { crate::finding::Confidence::Firm },
                format!(
                    "a token whose claims no longer match its signature got the authorized answer ({first_label})\n{}\nEvery other forgery (alg none, empty signature, foreign keys) is implied and reported as inconclusive.",
                    if confirmed { format!("Confirmed: a claim set to {marker:?} came back in the answer.") } else { "The answer matched the authorized one.".to_string() }
                ),
                ctx.evidence(first),
            ))
        })
    }
}
