use super::{chain_excerpt, chain_request, curl, on_facts};
use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::facts::tls::TlsFacts;
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "tls.cert_weak_key",
    title: "RSA under 2048 bits, EC under 256 bits, or a SHA-1/MD5 signature",
    family: Family::Tls,
    severity: Severity::Medium,
    cwe: &[326, 328],
    owasp: &["API8"],
    description: "Parses every certificate the server sends: keys of RSA/DSA under 2048 bits or EC under 256 bits, and SHA-1/MD5 signatures on any certificate but a self-issued root, are reported.",
    needs: &[Need::Https],
    explained_by: &[],
    remediation: Remediation {
        summary: "Reissue the certificate with an ECDSA P-256 (or RSA 2048-bit or larger) key, signed with SHA-256 or stronger, and ask the CA for a SHA-256 intermediate.",
        frameworks: &[
            (
                "nginx",
                "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout site.key -out site.csr -subj /CN=api.example.com, have it signed with SHA-256, then point ssl_certificate/ssl_certificate_key at the new pair.",
            ),
            (
                "haproxy",
                "Replace the crt PEM with a P-256 or RSA-2048+ key and its SHA-256-signed chain.",
            ),
            (
                "envoy",
                "Replace tls_certificates with a P-256 or RSA-2048+ key and its SHA-256-signed chain.",
            ),
            (
                "go",
                "Generate the key with ecdsa.GenerateKey(elliptic.P256(), rand.Reader) (or rsa.GenerateKey with 2048+ bits) and request a SHA-256 certificate for it.",
            ),
            (
                "spring",
                "keytool -genkeypair -keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA (or -keyalg RSA -keysize 3072), then the new keystore in server.ssl.",
            ),
            (
                "express",
                "Load a P-256 or RSA-2048+ key and its SHA-256-signed certificate in https.createServer({ key, cert }).",
            ),
            (
                "django",
                "The proxy in front of Django presents the certificate: reissue it there.",
            ),
        ],
    },
    references: &[
        "RFC 9155",
        "https://wiki.mozilla.org/Security/Server_Side_TLS",
    ],
    budget: crate::check::Budget::TlsHandshakes,
    lab_flaw: None,
    finds: "a certificate with an RSA key under 2048 bits, EC under 256, or a SHA-1/MD5 signature",
    needs_note: "",
};

pub struct CertWeakKey;

impl Check for CertWeakKey {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(on_facts(ctx, evaluate))
    }
}

pub fn evaluate(f: &TlsFacts) -> Outcome {
    if f.certs.is_empty() {
        return Outcome::Inconclusive("no parseable certificate from the server".into());
    }
    let weak: Vec<String> = f
        .certs
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let w = c.weaknesses();
            (!w.is_empty()).then(|| format!("- #{i} {}: {}", c.subject, w.join(", ")))
        })
        .collect();
    if weak.is_empty() {
        return Outcome::Pass;
    }
    Outcome::found(META.finding(
        Confidence::Confirmed,
        format!(
            "The certificate chain of {} has a weak key or signature\n{}",
            f.target.display(),
            weak.join("\n")
        ),
        f.evidence(
            chain_request(f),
            chain_excerpt(f),
            curl(f, "-k -w '%{certs}'"),
        ),
    ))
}
