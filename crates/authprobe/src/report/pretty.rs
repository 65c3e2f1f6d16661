//! The terminal rendering: a header, the grade and why, findings by severity, and the
//! family scores. Colour only when asked (the CLI asks when stdout is a terminal).

use super::Report;
use super::tls::TlsSection;
use crate::finding::{Family, Severity};

struct Paint(bool);

impl Paint {
    fn p(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn sev(&self, s: Severity) -> String {
        let label = format!("{:<8}", s.as_str().to_uppercase());
        let code = match s {
            Severity::Critical => "1;97;41",
            Severity::High => "1;31",
            Severity::Medium => "1;33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.p(code, &label)
    }
}

pub fn render(r: &Report, colour: bool) -> String {
    let c = Paint(colour);
    let mut out = String::new();
    let traffic = match &r.tls {
        Some(t) if r.requests_sent == 0 => format!("{} TLS handshakes", t.handshakes),
        _ => format!("{} requests", r.requests_sent),
    };
    out.push_str(&format!(
        "{} {} · {} · {traffic} · {:.1} s\n\n",
        c.p("1", "authprobe"),
        r.tool.version,
        r.target,
        r.duration_ms as f64 / 1000.0
    ));
    let grade_code = match r.grade.as_str() {
        "A" => "1;32",
        "B" | "C" => "1;33",
        _ => "1;31",
    };
    let caps = if r.grade_caps.is_empty() {
        String::new()
    } else {
        format!(
            "   (capped: {})",
            r.grade_caps
                .iter()
                .map(|g| format!("{} → {}", g.reason, g.grade))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    out.push_str(&format!(
        "  Score {}/100   Grade {}{}\n\n",
        r.score,
        c.p(grade_code, &r.grade),
        caps
    ));

    if let Some(b) = &r.baseline {
        out.push_str(&format!(
            "  Baseline {}: {} known findings suppressed, only new ones shown\n\n",
            b.file, b.suppressed
        ));
    }
    if r.findings.is_empty() {
        out.push_str("  No findings.\n");
    } else {
        let width = r.findings.iter().map(|f| f.id.len()).max().unwrap_or(0);
        for f in &r.findings {
            out.push_str(&format!(
                "  {}  {:<width$}  {} ({})\n",
                c.sev(f.severity),
                f.id,
                first_line(&f.description),
                format!("{:?}", f.confidence).to_lowercase(),
            ));
        }
    }
    out.push('\n');
    if let Some(t) = &r.tls {
        out.push_str(&render_tls_summary(t));
        out.push('\n');
    }
    if let Some(c) = &r.client_auth {
        out.push_str(&render_client_auth(c));
        out.push('\n');
    }

    let fams: Vec<String> = Family::ALL
        .iter()
        .map(|f| match r.categories.get(f.as_str()) {
            Some(s) => format!("{} {s}", f.as_str()),
            None => format!("{} –", f.as_str()),
        })
        .collect();
    out.push_str(&format!("  {}\n", fams.join(" · ")));
    for w in &r.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    out.push_str(&format!(
        "  {} checks run, {} skipped, {} inconclusive\n",
        r.checks_run.len(),
        r.checks_skipped.len(),
        r.inconclusive.len()
    ));
    for i in &r.inconclusive {
        out.push_str(&format!("    inconclusive {}: {}\n", i.id, i.reason));
    }
    for s in &r.checks_skipped {
        out.push_str(&format!("    skipped {}: {}\n", s.id, s.reason));
    }
    if !r.findings.is_empty() {
        out.push_str("\n  Evidence, curl lines and fixes: --format json, or -o report.json\n");
    }
    out
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn accepted_line(t: &TlsSection) -> String {
    let v: Vec<String> = t
        .protocols
        .iter()
        .filter(|p| p.accepted)
        .map(|p| format!("{} ({} suites)", p.version, p.suites.len()))
        .collect();
    if v.is_empty() {
        "no protocol accepted".to_string()
    } else {
        v.join(", ")
    }
}

fn cert_verdict(t: &TlsSection) -> String {
    if t.certificate_problems.is_empty() {
        format!("validates ({})", t.trust_anchors)
    } else {
        t.certificate_problems.join("; ")
    }
}

fn profile_line(t: &TlsSection) -> String {
    let m = &t.mozilla_intermediate;
    if m.compliant {
        format!("{}: compliant", m.profile)
    } else {
        format!("{}: {} deviations", m.profile, m.deviations.len())
    }
}

/// Three lines for the scan report.
fn render_tls_summary(t: &TlsSection) -> String {
    let mut s = format!(
        "  TLS {} · {} · {} handshakes\n",
        t.target,
        accepted_line(t),
        t.handshakes
    );
    if let Some(leaf) = t.certificate_chain.first() {
        s.push_str(&format!(
            "      certificate {} ({}, {}), until {}: {}\n",
            leaf.subject,
            leaf.key,
            leaf.signature_algorithm,
            leaf.not_after,
            cert_verdict(t)
        ));
    }
    s.push_str(&format!("      {}\n", profile_line(t)));
    s
}

/// One line per protocol version: what the server asked of the client's certificate.
fn render_client_auth(c: &crate::facts::client_auth::ClientAuthSection) -> String {
    let mut s = format!("  Client certificates: {}\n", c.mode);
    for v in &c.versions {
        let cas = if v.ca_names.is_empty() {
            String::new()
        } else {
            format!(" · CAs: {}", v.ca_names.join(" | "))
        };
        s.push_str(&format!(
            "      {} {} · without a certificate: {}{cas}\n",
            v.protocol, v.mode, v.without_certificate
        ));
    }
    s
}

/// Every protocol, suite, group and certificate, for `authprobe tls`.
pub fn render_tls_detail(t: &TlsSection) -> String {
    let mut s = format!(
        "TLS {}{} · {} handshakes in {} ms\n\n",
        t.target,
        t.sni
            .as_deref()
            .map(|n| format!(" (SNI {n})"))
            .unwrap_or_default(),
        t.handshakes,
        t.duration_ms
    );
    for p in &t.protocols {
        if !p.accepted {
            s.push_str(&format!("  {:<8} refused\n", p.version));
            continue;
        }
        let order = match p.server_enforces_order {
            Some(true) => "server's order",
            Some(false) => "client's order",
            None => "order not determined",
        };
        s.push_str(&format!(
            "  {:<8} accepted · {} suites ({order})\n",
            p.version,
            p.suites.len()
        ));
        for suite in &p.suites {
            let flags = match (suite.weak, suite.forward_secrecy) {
                (true, false) => "  [weak] [no FS]",
                (true, true) => "  [weak]",
                (false, false) => "  [no FS]",
                (false, true) => "",
            };
            s.push_str(&format!(
                "             0x{:04x} {}{flags}\n",
                suite.code,
                suite.openssl_name.as_deref().unwrap_or(&suite.name)
            ));
        }
        if !p.groups.is_empty() {
            s.push_str(&format!("           groups: {}\n", p.groups.join(", ")));
        }
    }
    if let Some(bits) = t.dh_prime_bits {
        s.push_str(&format!("  DHE prime: {bits} bits\n"));
    }
    if let Some(cas) = &t.client_auth_cas {
        s.push_str(&format!(
            "  client certificates requested; acceptable CAs: {}\n",
            if cas.is_empty() {
                "any".to_string()
            } else {
                cas.join(" | ")
            }
        ));
    }
    s.push_str(&format!("\n  certificate chain ({}):\n", t.chain_source));
    s.push_str(&crate::facts::tls::chain_text(&t.certificate_chain, "    "));
    s.push_str(&format!("    verdict: {}\n", cert_verdict(t)));
    s.push_str(&format!("\n  {}\n", profile_line(t)));
    for d in &t.mozilla_intermediate.deviations {
        s.push_str(&format!("    - {d}\n"));
    }
    for e in &t.errors {
        s.push_str(&format!("  probe error: {e}\n"));
    }
    s.push('\n');
    s
}
