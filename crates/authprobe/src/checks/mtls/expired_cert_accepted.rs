use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::checks::mtls::{self, VERIFY_CLIENT_CERTS};
use crate::finding::{Family, Severity};
use crate::pki::Variant;
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "mtls.expired_cert_accepted",
    title: "An expired client certificate is accepted",
    family: Family::Mtls,
    severity: Severity::High,
    cwe: &[295, 298],
    owasp: &["API2"],
    description: "Mints, from the test CA, a certificate for the user's subject whose validity ended a day ago, presents it with the user's other credentials, and compares the answer with the authorized one.",
    needs: &[Need::Cert, Need::CaKey],
    explained_by: &[],
    remediation: Remediation {
        summary: "Check the client certificate's validity period on every handshake (the default of every TLS library; it is lost by custom verifiers, 'ignore expiry' flags and optional_no_ca). Rotate client certificates before they expire rather than relaxing the check.",
        frameworks: VERIFY_CLIENT_CERTS,
    },
    references: &["RFC 5280 §4.1.2.5", "RFC 5280 §6.1"],
    budget: crate::check::Budget::Fixed(3),
    lab_flaw: Some("mtls.expired_cert_accepted"),
    finds: "a certificate from the test CA that expired yesterday is accepted",
    needs_note: "",
};

pub struct ExpiredCertAccepted;

impl Check for ExpiredCertAccepted {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let id = match mtls::mint_from_ca(ctx, Variant::Expired).await {
                Ok(id) => id,
                Err(o) => return o,
            };
            mtls::swapped_cert_check(
                ctx,
                &META,
                id,
                "a certificate from the test CA for the user's subject that expired yesterday",
            )
            .await
        })
    }
}
