use super::{CERT_FIX, chain_excerpt, chain_request, curl, on_facts};
use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::facts::tls::TlsFacts;
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "tls.cert_invalid",
    title: "The server chain does not validate: expired, not yet valid, untrusted, self-signed or wrong host",
    family: Family::Tls,
    severity: Severity::High,
    cwe: &[295, 297, 298],
    owasp: &["API8"],
    description: "Validates the chain the server presents (webpki, as rustls does) against the system trust store or --server-ca, and separately checks the leaf's validity dates and that it names the host (or --sni): each problem found is named. --insecure does not silence this check.",
    needs: &[Need::Https],
    explained_by: &[],
    remediation: Remediation {
        summary: "Present a certificate from a CA the clients trust, valid now, whose subjectAltName covers every name clients use, together with its intermediates. Clients that must skip verification to connect can be impersonated by anyone on the path.",
        frameworks: CERT_FIX,
    },
    references: &["RFC 5280 §6.1", "RFC 9525 §6"],
    budget: crate::check::Budget::TlsHandshakes,
    lab_flaw: None,
    finds: "the chain does not validate against the system store or `--server-ca`: expired, not yet valid, self-signed, untrusted or wrong host, each named (`--insecure` does not silence it)",
    needs_note: "",
};

pub struct CertInvalid;

impl Check for CertInvalid {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(on_facts(ctx, evaluate))
    }
}

pub fn evaluate(f: &TlsFacts) -> Outcome {
    if f.problems.is_empty() {
        return Outcome::Pass;
    }
    let labels: Vec<&str> = f.problems.iter().map(|p| p.label()).collect();
    let details: Vec<String> = f.problems.iter().map(|p| format!("- {p}")).collect();
    let name = f.target.sni.as_deref().unwrap_or(&f.target.host);
    // curl verifies the chain, the dates and the name as browsers do, and says which failed.
    let command = match f.anchors_source.strip_prefix("--server-ca ") {
        Some(path) => curl(f, &format!("--cacert '{path}'")),
        None => curl(f, ""),
    };
    Outcome::found(META.finding(
        Confidence::Confirmed,
        format!(
            "The certificate of {} does not validate for {name} ({}), judged against {}\n{}",
            f.target.display(),
            labels.join(", "),
            f.anchors_source,
            details.join("\n")
        ),
        f.evidence(chain_request(f), chain_excerpt(f), command),
    ))
}
