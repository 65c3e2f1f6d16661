use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::checks::mtls;
use crate::finding::{Family, Severity};
use crate::pki::Variant;
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "mtls.identity_not_mapped",
    title: "A trusted certificate whose subject maps to no user still gets access",
    family: Family::Mtls,
    severity: Severity::High,
    cwe: &[287, 639],
    owasp: &["API2", "API1"],
    description: "Mints, from the test CA, a valid certificate whose CN names no user, presents it with the user's other credentials, and compares the answer with the authorized one: if any certificate from the CA is enough, the certificate identifies no one.",
    needs: &[Need::Cert, Need::CaKey],
    explained_by: &[],
    remediation: Remediation {
        summary: "Map the verified certificate's subject (or SAN) to an account and refuse certificates that map to none; when a token is also required, check that the token's subject is the certificate's user.",
        frameworks: &[
            (
                "nginx",
                "Forward the verified subject ($ssl_client_s_dn, or a SAN via map) to the app and let the app look the account up; a verified chain alone only says the CA issued it.",
            ),
            (
                "spring",
                "x509() with subjectPrincipalRegex and a UserDetailsService that throws UsernameNotFoundException for unknown subjects.",
            ),
            (
                "django",
                "An authentication backend that resolves the forwarded subject to a User and returns None (401) when there is none; compare it with request.user from the token.",
            ),
            (
                "express",
                "Read req.socket.getPeerCertificate().subject.CN and look the account up; refuse when absent or different from the token's sub.",
            ),
            (
                "go",
                "From r.TLS.PeerCertificates[0] take the subject/SAN, look up the user, and refuse unknown ones; compare with the token's subject.",
            ),
        ],
    },
    references: &["RFC 8705 §2.1", "RFC 5280 §4.1.2.6"],
    budget: crate::check::Budget::Fixed(3),
    lab_flaw: Some("mtls.identity_not_mapped"),
    finds: "a valid certificate from the test CA whose CN names no user is accepted",
    needs_note: "",
};

pub struct IdentityNotMapped;

impl Check for IdentityNotMapped {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let id = match mtls::mint_from_ca(ctx, Variant::Unmapped).await {
                Ok(id) => id,
                Err(o) => return o,
            };
            let cn = id
                .chain
                .first()
                .and_then(|c| crate::pki::UserCert::parse(c).ok())
                .and_then(|u| u.common_name)
                .unwrap_or_default();
            // An untrusted-chain flaw does not explain this one: the probe certificate is
            // genuinely from the CA.
            mtls::swapped_cert_check(
                ctx,
                &META,
                id,
                &format!("a valid certificate from the test CA for the unknown subject CN={cn}, which maps to no user,"),
            )
            .await
        })
    }
}
