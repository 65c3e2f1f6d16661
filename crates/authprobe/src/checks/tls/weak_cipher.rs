use super::{SUITE_FIX, on_facts, probe_request, suites_where};
use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::facts::tls::TlsFacts;
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "tls.weak_cipher",
    title: "NULL, anonymous, EXPORT, RC4, DES/3DES or other suites under 128 bits are offered",
    family: Family::Tls,
    severity: Severity::High,
    cwe: &[327],
    owasp: &["API8"],
    description: "Enumerates every suite the server accepts under each protocol version (by elimination, about one handshake per accepted suite) and reports those without encryption, without authentication, export-grade, RC4, DES/3DES or under 128 bits.",
    needs: &[Need::Https],
    explained_by: &[],
    remediation: Remediation {
        summary: "Offer only ECDHE (or DHE with 2048-bit groups) suites with AES-GCM or ChaCha20-Poly1305 under TLS 1.2, and TLS 1.3's suites.",
        frameworks: SUITE_FIX,
    },
    references: &["RFC 9325 §4.1", "RFC 7465"],
    budget: crate::check::Budget::TlsHandshakes,
    lab_flaw: None,
    finds: "NULL, anonymous, EXPORT, RC4, DES/3DES or other suites under 128 bits are offered",
    needs_note: "",
};

pub struct WeakCipher;

impl Check for WeakCipher {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(on_facts(ctx, evaluate))
    }
}

pub fn evaluate(f: &TlsFacts) -> Outcome {
    let Some((excerpt, n, command)) = suites_where(f, |s| s.weak) else {
        return Outcome::Pass;
    };
    Outcome::found(META.finding(
        Confidence::Confirmed,
        format!(
            "{} accepts {n} weak cipher suites\nA client that offers one (or an attacker who strips the rest) gets traffic that can be read or forged.",
            f.target.display()
        ),
        f.evidence(probe_request(f), excerpt, command),
    ))
}
