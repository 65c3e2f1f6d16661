use super::{curl, on_facts, probe_request};
use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::facts::tls::TlsFacts;
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;
use authprobe_tls::TlsVersion;

pub static META: CheckMeta = CheckMeta {
    id: "tls.no_tls13",
    title: "TLS 1.3 is not offered",
    family: Family::Tls,
    severity: Severity::Low,
    cwe: &[326],
    owasp: &["API8"],
    description: "Offers TLS 1.3 ClientHellos with every TLS 1.3 suite and the common key-exchange groups; reports when the server never answers with TLS 1.3.",
    needs: &[Need::Https],
    explained_by: &[],
    remediation: Remediation {
        summary: "Enable TLS 1.3 beside TLS 1.2: it removes the legacy key exchanges and encrypts the certificate, and costs one round trip less per connection.",
        frameworks: &[
            (
                "nginx",
                "ssl_protocols TLSv1.2 TLSv1.3; (needs nginx built with OpenSSL 1.1.1 or later)",
            ),
            (
                "haproxy",
                "Remove any ssl-max-ver below TLSv1.3 from ssl-default-bind-options and bind lines.",
            ),
            (
                "envoy",
                "common_tls_context.tls_params.tls_maximum_protocol_version: TLSv1_3",
            ),
            (
                "go",
                "Do not set tls.Config.MaxVersion (the default is TLS 1.3).",
            ),
            (
                "spring",
                "server.ssl.enabled-protocols=TLSv1.2,TLSv1.3 (Java 11 or later)",
            ),
            (
                "express",
                "Remove maxVersion from the https/tls options (Node's default is TLSv1.3).",
            ),
            (
                "django",
                "Enable TLS 1.3 on the proxy or server in front of Django.",
            ),
        ],
    },
    references: &["RFC 8446", "RFC 9325 §3.1"],
    budget: crate::check::Budget::TlsHandshakes,
    lab_flaw: None,
    finds: "TLS 1.3 is not offered",
    needs_note: "",
};

pub struct NoTls13;

impl Check for NoTls13 {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(on_facts(ctx, evaluate))
    }
}

pub fn evaluate(f: &TlsFacts) -> Outcome {
    if f.scan.protocol(TlsVersion::Tls13).is_none() {
        return Outcome::Inconclusive("TLS 1.3 was not probed".into());
    }
    if !f.scan.refuses_tls13() {
        return Outcome::Pass;
    }
    if f.scan.errors.iter().any(|e| e.starts_with("TLSv1.3")) {
        return Outcome::Inconclusive(format!(
            "TLS 1.3 probing failed: {}",
            f.scan.errors.join("; ")
        ));
    }
    let best = f
        .scan
        .accepted_versions()
        .last()
        .map(|v| v.name())
        .unwrap_or("none");
    Outcome::found(META.finding(
        Confidence::Confirmed,
        format!(
            "{} does not offer TLS 1.3; the best version it accepts is {best}",
            f.target.display()
        ),
        f.evidence(
            probe_request(f),
            format!("TLSv1.3: every ClientHello refused; accepted: {}", {
                let v: Vec<&str> = f
                    .scan
                    .accepted_versions()
                    .iter()
                    .map(|v| v.name())
                    .collect();
                v.join(", ")
            }),
            curl(f, "-k --tlsv1.3"),
        ),
    ))
}
