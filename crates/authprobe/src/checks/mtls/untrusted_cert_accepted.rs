use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::checks::mtls::{self, VERIFY_CLIENT_CERTS};
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "mtls.untrusted_cert_accepted",
    title: "A self-signed or unknown-CA client certificate is accepted",
    family: Family::Mtls,
    severity: Severity::Critical,
    cwe: &[295],
    owasp: &["API2"],
    description: "Presents, with the user's other credentials, a self-signed certificate with the user's subject and one with the same subject from a throwaway CA that carries the real issuer's name, and compares each answer with the authorized one.",
    needs: &[Need::Cert],
    explained_by: &[],
    remediation: Remediation {
        summary: "Verify the client certificate's chain up to the client CA you operate, with a signature check, at the TLS terminator; never accept 'any certificate' (optional_no_ca, verify none, custom verifiers that return success) in front of an application that trusts the identity it is given.",
        frameworks: VERIFY_CLIENT_CERTS,
    },
    references: &["RFC 5280 §6.1", "RFC 8705 §2.1"],
    budget: crate::check::Budget::Fixed(4),
    lab_flaw: Some("mtls.untrusted_cert_accepted"),
    finds: "a self-signed certificate with the user's subject, or one from a throwaway CA bearing the real issuer's name, is accepted",
    needs_note: "",
};

pub struct UntrustedCertAccepted;

impl Check for UntrustedCertAccepted {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let user = match mtls::user_cert(ctx) {
                Ok(u) => u,
                Err(o) => return o,
            };
            let self_signed = match ctx.facts().certs.self_signed_trial(ctx).await {
                Ok(t) => t,
                Err(e) => return Outcome::Inconclusive(e),
            };
            let other = match ctx
                .facts()
                .certs
                .minter(ctx)
                .await
                .and_then(|m| m.other_ca(&user).map_err(|e| e.to_string()))
            {
                Ok(id) => mtls::cert_trial(ctx, id).await,
                Err(e) => Err(e),
            };
            let mut hits = Vec::new();
            if let Some(p) = self_signed.proof() {
                hits.push(("a self-signed certificate", p));
            }
            if let Ok(t) = &other
                && let Some(p) = t.proof()
            {
                hits.push((
                    "a certificate from an unknown CA bearing the real issuer's name",
                    p,
                ));
            }
            if let Some((label, (x, how))) = hits.first() {
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
                        "{label} with the user's subject ({}) {how}: the client certificate's chain is not verified, so anyone can claim any subject\nAccepted: {all}. Probe certificate {path} (its key is beside it){}.",
                        user.subject_text,
                        super::removed_note(ctx)
                    ),
                    ctx.evidence(x),
                ));
            }
            if self_signed.refused() || other.as_ref().is_ok_and(|t| t.refused()) {
                Outcome::Pass
            } else {
                Outcome::Inconclusive(
                    self_signed
                        .inconclusive_reason()
                        .unwrap_or_else(|| "no answer could be judged".into()),
                )
            }
        })
    }
}
