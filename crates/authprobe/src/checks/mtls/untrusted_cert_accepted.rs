use crate::checks::mtls::{self, VERIFY_CLIENT_CERTS};
use crate::checks::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::engine::Ctx;
use crate::finding::{Confidence, Family, Severity};
use crate::oracle::Verdict;

pub static META: CheckMeta = CheckMeta {
    id: "mtls.untrusted_cert_accepted",
    title: "A self-signed or unknown-CA client certificate is accepted",
    family: Family::Mtls,
    severity: Severity::Critical,
    cwe: &[295],
    owasp: &["API2"],
    description: "Presents, with the user's other credentials, a self-signed certificate with the user's subject and one with the same subject from a throwaway CA that carries the real issuer's name, and compares each answer with the authorized one.",
    needs: &[Need::Cert],
    remediation: Remediation {
        summary: "Verify the client certificate's chain up to the client CA you operate, with a signature check, at the TLS terminator; never accept 'any certificate' (optional_no_ca, verify none, custom verifiers that return success) in front of an application that trusts the identity it is given.",
        frameworks: VERIFY_CLIENT_CERTS,
    },
};

pub struct UntrustedCertAccepted;

impl Check for UntrustedCertAccepted {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let user = match mtls::user_cert(ctx) {
                Ok(u) => u,
                Err(o) => return o,
            };
            if let Some(o) = mtls::explained_by(ctx, false).await {
                return o;
            }
            let self_signed = match mtls::self_signed_trial(ctx).await {
                Ok(t) => t,
                Err(e) => return Outcome::Inconclusive(e),
            };
            let other = match mtls::minter(ctx)
                .await
                .and_then(|m| m.other_ca(&user).map_err(|e| e.to_string()))
            {
                Ok(id) => mtls::trial(ctx, mtls::with_identity(ctx, Some(id))).await,
                Err(e) => Err(e),
            };
            let mut hits = Vec::new();
            if self_signed.accepted() {
                hits.push(("a self-signed certificate", &self_signed.exchange));
            }
            if let Ok(t) = &other
                && t.accepted()
            {
                hits.push((
                    "a certificate from an unknown CA bearing the real issuer's name",
                    &t.exchange,
                ));
            }
            if let Some((label, x)) = hits.first() {
                let all = hits.iter().map(|(l, _)| *l).collect::<Vec<_>>().join("; ");
                let path = x
                    .probe
                    .identity
                    .as_ref()
                    .map(|i| i.cert_path.display().to_string())
                    .unwrap_or_default();
                return Outcome::found(META.finding(
                    Confidence::Firm,
                    format!(
                        "{label} with the user's subject ({}) got the authorized answer: the client certificate's chain is not verified, so anyone can claim any subject\nAccepted: {all}. The probe certificate is {path} (minted for this scan; its key is beside it).",
                        user.subject_text
                    ),
                    ctx.evidence(x),
                ));
            }
            let refused = self_signed.verdict == Verdict::Rejected
                || other.as_ref().is_ok_and(|t| t.verdict == Verdict::Rejected);
            if refused {
                Outcome::Pass
            } else {
                match &self_signed.verdict {
                    Verdict::Inconclusive(r) => Outcome::Inconclusive(r.clone()),
                    _ => Outcome::Inconclusive("no answer could be judged".into()),
                }
            }
        })
    }
}
