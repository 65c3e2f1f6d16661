use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::checks::mtls::{self, VERIFY_CLIENT_CERTS};
use crate::finding::{Family, Severity};
use crate::pki::Variant;
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "mtls.eku_not_checked",
    title: "A certificate without the clientAuth extended key usage is accepted",
    family: Family::Mtls,
    severity: Severity::Medium,
    cwe: &[295],
    owasp: &["API2"],
    description: "Mints, from the test CA, a certificate for the user's subject whose extended key usage is serverAuth only (what a server certificate from the same CA carries), presents it with the user's other credentials, and compares the answer with the authorized one.",
    needs: &[Need::Cert, Need::CaKey],
    explained_by: &[],
    remediation: Remediation {
        summary: "Accept as client certificates only those whose extended key usage includes clientAuth, so a server certificate (or its stolen key) from the same CA cannot log in. Better still, issue client certificates from a CA that issues nothing else.",
        frameworks: VERIFY_CLIENT_CERTS,
    },
    references: &["RFC 5280 §4.2.1.12"],
    budget: crate::check::Budget::Fixed(3),
    lab_flaw: Some("mtls.eku_not_checked"),
    finds: "a certificate from the test CA whose EKU is serverAuth only is accepted",
    needs_note: "",
};

pub struct EkuNotChecked;

impl Check for EkuNotChecked {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let id = match mtls::mint_from_ca(ctx, Variant::ServerAuthOnly).await {
                Ok(id) => id,
                Err(o) => return o,
            };
            mtls::swapped_cert_check(
                ctx,
                &META,
                id,
                "a certificate from the test CA for the user's subject with extended key usage serverAuth only",
            )
            .await
        })
    }
}
