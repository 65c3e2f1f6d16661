use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::checks::mtls::{self, VERIFY_CLIENT_CERTS};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "mtls.revoked_cert_accepted",
    title: "A revoked client certificate is accepted",
    family: Family::Mtls,
    severity: Severity::High,
    cwe: &[299],
    owasp: &["API2"],
    description: "Presents a certificate the CA has revoked (--revoked-cert/--revoked-key; `authprobe mint-revoked` makes one and the CRL to deploy) with the user's other credentials, and compares the answer with the authorized one.",
    needs: &[Need::Cert],
    explained_by: &[],
    remediation: Remediation {
        summary: "Check revocation for client certificates: load the CA's CRL at the TLS terminator and refresh it before its nextUpdate (or use OCSP stapling where the stack supports it for clients). A CRL that is published but not loaded protects nothing.",
        frameworks: VERIFY_CLIENT_CERTS,
    },
    references: &["RFC 5280 §5", "RFC 5280 §6.3", "RFC 6960"],
    budget: crate::check::Budget::Fixed(3),
    lab_flaw: Some("mtls.revoked_cert_accepted"),
    finds: "a certificate the CA revoked is accepted",
    needs_note: "+ `--revoked-cert` (see `mint-revoked`)",
};

pub struct RevokedCertAccepted;

impl Check for RevokedCertAccepted {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let Some(id) = ctx.opts().creds.revoked.clone() else {
                return Outcome::NotApplicable(
                    "needs a revoked certificate (--revoked-cert and --revoked-key; with a test CA, `authprobe mint-revoked` makes one and the CRL to deploy)".into(),
                );
            };
            mtls::swapped_cert_check(
                ctx,
                &META,
                id,
                "the revoked certificate given with --revoked-cert",
            )
            .await
        })
    }
}
