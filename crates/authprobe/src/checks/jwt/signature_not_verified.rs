use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.signature_not_verified",
    title: "Token with changed claims and the old or a random signature is accepted",
    family: Family::Jwt,
    severity: Severity::Critical,
    cwe: &[347],
    owasp: &["API2"],
    description: "Sends the token with every claim kept and a random signature of the right length, then with one bit of its signature flipped. Once one is accepted, confirms by adding a claim the application does not use to find the user under the original signature, then by setting a role-like claim; the identity claims never change.",
    needs: &[Need::Token],
    explained_by: &[],
    remediation: Remediation {
        summary: "Verify the signature of every token with your key before reading any claim.",
        frameworks: super::PINNED_ALGORITHMS,
    },
    references: &["RFC 7515 §5.2", "RFC 8725 §3.3"],
    budget: crate::check::Budget::Fixed(10),
    lab_flaw: Some("jwt.signature_not_verified"),
    finds: "claims changed under the old signature, or a random signature, are accepted",
    needs_note: "",
};

pub struct SignatureNotVerified;

impl Check for SignatureNotVerified {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let jwt = match super::require_jwt(ctx) {
                Ok(j) => j,
                Err(o) => return o,
            };
            if let Err(e) = super::oracle(ctx) {
                return Outcome::Inconclusive(e);
            }
            let Some(u) = ctx.facts().jwt.unverified(ctx).await else {
                return Outcome::Pass;
            };
            let outcome = super::report_accepted(
                ctx,
                &META,
                &jwt,
                &u.accepted,
                u.unprotected.as_ref(),
                u.protected_note.as_deref(),
                |_, edits| super::original_signature_kept(&jwt, edits),
                "a token whose signature does not match its claims got the authorized answer, every claim kept",
            )
            .await;
            match outcome {
                Outcome::Found(mut f) => {
                    f.description.push_str("\nEvery other forgery (alg none, empty signature, foreign keys) is implied and reported as inconclusive.");
                    Outcome::Found(f)
                }
                other => other,
            }
        })
    }
}
