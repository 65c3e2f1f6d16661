use super::{PROTOCOL_FIX, curl, curl_version, on_facts, probe_request};
use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::facts::tls::TlsFacts;
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "tls.legacy_protocol",
    title: "SSLv3, TLS 1.0 or TLS 1.1 is offered",
    family: Family::Tls,
    severity: Severity::High,
    cwe: &[326, 327],
    owasp: &["API8"],
    description: "Offers SSLv3, TLS 1.0 and TLS 1.1 ClientHellos with every suite each version defines (authprobe's own TLS prober, no handshake completed) and reports each version the server answers with a ServerHello.",
    needs: &[Need::Https],
    explained_by: &[],
    remediation: Remediation {
        summary: "Accept TLS 1.2 and TLS 1.3 only. Clients still on TLS 1.0/1.1 predate 2014 and are exposed to BEAST, POODLE-style downgrades and SHA-1 handshake signatures.",
        frameworks: PROTOCOL_FIX,
    },
    references: &["RFC 8996", "RFC 7568"],
    budget: crate::check::Budget::TlsHandshakes,
    lab_flaw: None,
    finds: "SSLv3, TLS 1.0 or TLS 1.1 is offered",
    needs_note: "",
};

pub struct LegacyProtocol;

impl Check for LegacyProtocol {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(on_facts(ctx, evaluate))
    }
}

pub fn evaluate(f: &TlsFacts) -> Outcome {
    let legacy = f.scan.legacy_protocols();
    let Some(oldest) = legacy.first() else {
        return Outcome::Pass;
    };
    let names: Vec<&str> = legacy.iter().map(|p| p.version.name()).collect();
    let excerpt = legacy
        .iter()
        .map(|p| {
            let shown: Vec<&str> = p
                .suites
                .iter()
                .take(6)
                .map(|s| s.openssl_name.as_deref().unwrap_or(&s.name))
                .collect();
            format!(
                "{}: ServerHello with {} accepted suites ({}{})",
                p.version,
                p.suites.len(),
                shown.join(", "),
                if p.suites.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let command = curl(
        f,
        &format!(
            "-k {} --ciphers 'DEFAULT:@SECLEVEL=0'",
            curl_version(oldest.version)
        ),
    );
    Outcome::found(META.finding(
        Confidence::Confirmed,
        format!(
            "{} accepts {}\nA downgrade to these versions exposes clients to attacks fixed only in TLS 1.2 and later.",
            f.target.display(),
            names.join(", ")
        ),
        f.evidence(probe_request(f), excerpt, command),
    ))
}
