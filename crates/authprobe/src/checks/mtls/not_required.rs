use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::checks::mtls::{self, VERIFY_CLIENT_CERTS};
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "mtls.not_required",
    title: "The protected resource answers without a client certificate",
    family: Family::Mtls,
    severity: Severity::High,
    cwe: &[306],
    owasp: &["API2"],
    description: "Finds whether the server requests a client certificate (none, optional or required, for TLS 1.2 and 1.3, with the CA names it announces), then sends the user's request without the certificate and compares the answer with the authorized one.",
    needs: &[Need::Cert],
    explained_by: &[],
    remediation: Remediation {
        summary: "Require the client certificate where the API is meant to be mutual-TLS only: verify it at the TLS terminator (required, not optional) or, when the terminator must accept certificate-less clients for other routes, refuse requests to these routes that arrive without a verified certificate.",
        frameworks: VERIFY_CLIENT_CERTS,
    },
    references: &["RFC 8446 §4.3.2", "RFC 8705 §2"],
    budget: crate::check::Budget::Fixed(4),
    lab_flaw: Some("mtls.not_required"),
    finds: "the user's request without the client certificate gets the authorized answer",
    needs_note: "",
};

pub struct NotRequired;

impl Check for NotRequired {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            // The section is reported whatever the verdict; its failure is not this
            // check's, which still has the HTTP comparison to make.
            if ctx.cert_only() {
                // Without the certificate nothing is left: that request is auth.missing's.
                return Outcome::NotApplicable(
                    "certificate-only API: the request without the certificate carries no credential at all, which auth.missing tests".into(),
                );
            }
            let section = ctx.facts().client_auth.get(ctx).await.ok().cloned();
            let accepted = match mtls::accepted_without_cert(ctx).await {
                Ok(a) => a,
                Err(e) => return Outcome::Inconclusive(e),
            };
            let Some(x) = accepted else {
                return Outcome::Pass;
            };
            let how = match &section {
                Some(s) if s.mode == "optional" => {
                    "The server requests a certificate only optionally".to_string()
                }
                Some(s) if s.mode == "none" => {
                    "The server does not even request a certificate".to_string()
                }
                Some(s) => format!("Client authentication at the TLS layer: {}", s.mode),
                None => "The TLS layer's client-auth mode could not be probed".to_string(),
            };
            Outcome::found(META.finding(
                Confidence::Firm,
                format!(
                    "the user's request without any client certificate got the authorized answer (twice): the certificate authenticates nothing on this resource\n{how}; whoever holds the application credential alone gets in."
                ),
                ctx.evidence(x),
            ))
        })
    }
}
