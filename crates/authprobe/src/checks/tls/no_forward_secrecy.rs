use super::{SUITE_FIX, on_facts, probe_request, suites_where};
use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::facts::tls::TlsFacts;
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "tls.no_forward_secrecy",
    title: "Suites without (EC)DHE key exchange are offered",
    family: Family::Tls,
    severity: Severity::Medium,
    cwe: &[327],
    owasp: &["API8"],
    description: "Enumerates every suite the server accepts and reports those whose key exchange is not ephemeral (RSA key transport, static DH/ECDH): with them, whoever later obtains the server's private key decrypts recorded traffic.",
    needs: &[Need::Https],
    explained_by: &[],
    remediation: Remediation {
        summary: "Remove suites with RSA key transport and static (EC)DH; keep ECDHE (and DHE with 2048-bit groups) under TLS 1.2, and TLS 1.3.",
        frameworks: SUITE_FIX,
    },
    references: &[
        "RFC 9325 §4.1",
        "https://wiki.mozilla.org/Security/Server_Side_TLS",
    ],
    budget: crate::check::Budget::TlsHandshakes,
    lab_flaw: None,
    finds: "suites without (EC)DHE key exchange are offered",
    needs_note: "",
};

pub struct NoForwardSecrecy;

impl Check for NoForwardSecrecy {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(on_facts(ctx, evaluate))
    }
}

pub fn evaluate(f: &TlsFacts) -> Outcome {
    let Some((excerpt, n, command)) = suites_where(f, |s| !s.forward_secrecy) else {
        return Outcome::Pass;
    };
    Outcome::found(META.finding(
        Confidence::Confirmed,
        format!(
            "{} accepts {n} cipher suites without forward secrecy\nTraffic recorded today can be decrypted by whoever obtains the server's private key later.",
            f.target.display()
        ),
        f.evidence(probe_request(f), excerpt, command),
    ))
}
