//! The terminal rendering: a header, the grade and why, findings by severity, and the
//! family scores. Styles are anstyle's, written only when [`Style::colour`] asks; the CLI
//! always asks and lets its anstream stream strip them under `--color`/`NO_COLOR`.

use super::Report;
use super::tls::TlsSection;
use crate::finding::{Family, Severity};
use anstyle::{AnsiColor, Style as Ansi};

/// How to render the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Write ANSI styles (the caller's stream may still strip them).
    pub colour: bool,
    /// Wrap long lines at this many columns; `None` keeps one line per item, as a pipe
    /// and a `grep` want.
    pub width: Option<usize>,
}

struct Paint(bool);

impl Paint {
    fn p(&self, style: Ansi, s: &str) -> String {
        if self.0 {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_string()
        }
    }
    fn sev(&self, s: Severity) -> String {
        let label = format!("{:<8}", s.as_str().to_uppercase());
        let fg = |c: AnsiColor| Ansi::new().fg_color(Some(c.into()));
        let style = match s {
            Severity::Critical => fg(AnsiColor::BrightWhite)
                .bg_color(Some(AnsiColor::Red.into()))
                .bold(),
            Severity::High => fg(AnsiColor::Red).bold(),
            Severity::Medium => fg(AnsiColor::Yellow).bold(),
            Severity::Low => fg(AnsiColor::Cyan),
            Severity::Info => Ansi::new().dimmed(),
        };
        self.p(style, &label)
    }
}

/// `1 check`, `2 checks`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Appends `prefix` then `atoms` joined by `sep`, as one line, or, within `width`, as
/// several lines indented by `indent` columns, breaking only between atoms. `prefix_cols`
/// is the prefix's visible width (it may hold styles).
fn push_wrapped(
    out: &mut String,
    prefix: &str,
    prefix_cols: usize,
    atoms: &[String],
    sep: &str,
    indent: usize,
    width: Option<usize>,
) {
    out.push_str(prefix);
    let Some(width) = width else {
        out.push_str(&atoms.join(sep));
        out.push('\n');
        return;
    };
    let cols = |s: &str| s.chars().count();
    let mut col = prefix_cols;
    let mut first = true;
    for atom in atoms {
        if !first {
            if col + cols(sep) + cols(atom) > width && col > indent {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                col = indent;
                // The separator's own spaces would only pad the new line.
                let bare = sep.trim();
                if !bare.is_empty() {
                    out.push_str(bare);
                    out.push(' ');
                    col += cols(bare) + 1;
                }
            } else {
                out.push_str(sep);
                col += cols(sep);
            }
        }
        out.push_str(atom);
        col += cols(atom);
        first = false;
    }
    out.push('\n');
}

fn words(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_string).collect()
}

pub fn render(r: &Report, style: Style) -> String {
    let c = Paint(style.colour);
    let width = style.width;
    let mut out = String::new();
    let traffic = match &r.tls {
        Some(t) if r.requests_sent == 0 => {
            count(t.handshakes as usize, "TLS handshake", "TLS handshakes")
        }
        _ => count(r.requests_sent, "request", "requests"),
    };
    out.push_str(&format!(
        "{} {} · {} · {traffic} · {:.1} s\n\n",
        c.p(Ansi::new().bold(), "authprobe"),
        r.tool.version,
        r.target,
        r.duration_ms as f64 / 1000.0
    ));
    let grade_style = Ansi::new().bold().fg_color(Some(
        match r.grade.as_str() {
            "A" => AnsiColor::Green,
            "B" | "C" => AnsiColor::Yellow,
            _ => AnsiColor::Red,
        }
        .into(),
    ));
    let grade = format!(
        "  Score {}/100   Grade {}",
        r.score,
        c.p(grade_style, &r.grade)
    );
    let grade_cols = format!("  Score {}/100   Grade {}", r.score, r.grade)
        .chars()
        .count();
    if r.grade_caps.is_empty() {
        out.push_str(&grade);
        out.push('\n');
    } else {
        let caps = r
            .grade_caps
            .iter()
            .map(|g| format!("{} → {}", g.reason, g.grade))
            .collect::<Vec<_>>()
            .join("; ");
        push_wrapped(
            &mut out,
            &grade,
            grade_cols,
            &words(&format!("  (capped: {caps})")),
            " ",
            4,
            width,
        );
    }
    out.push('\n');
    if r.is_whole_api() {
        out.push_str(&api_overview(r, &c, width));
    }

    if let Some(b) = &r.baseline {
        out.push_str(&format!(
            "  Baseline {}: {} suppressed, only new ones shown\n\n",
            b.file,
            count(b.suppressed, "known finding", "known findings")
        ));
    }
    if r.findings.is_empty() {
        out.push_str("  No findings.\n");
    } else {
        let id_width = r.findings.iter().map(|f| f.id.len()).max().unwrap_or(0);
        // A whole API shows one line per check, naming every operation it was found on
        // (the first finding's words stand for the rest; each is in the report).
        let mut shown: Vec<(&crate::finding::Finding, Vec<String>)> = Vec::new();
        for f in &r.findings {
            match shown
                .iter_mut()
                .find(|(g, _)| r.is_whole_api() && g.id == f.id)
            {
                Some((_, ops)) => ops.extend(f.operations.iter().cloned()),
                None => shown.push((f, f.operations.clone())),
            }
        }
        for (f, operations) in &shown {
            let prefix = format!("  {}  {:<id_width$}  ", c.sev(f.severity), f.id);
            let cols = 2 + 8 + 2 + id_width + 2;
            let text = format!(
                "{} ({})",
                first_line(&f.description),
                format!("{:?}", f.confidence).to_lowercase()
            );
            // A narrow terminal leaves no room for a column under the description.
            let indent = if width.is_some_and(|w| w < cols + 30) {
                6
            } else {
                cols
            };
            push_wrapped(&mut out, &prefix, cols, &words(&text), " ", indent, width);
            if r.is_whole_api() && !operations.is_empty() {
                let on = match operations.as_slice() {
                    [one] => format!("on {one}"),
                    many => format!(
                        "on {} operations: {}",
                        many.len(),
                        super::api::list_ids(many, 3)
                    ),
                };
                let pad = " ".repeat(indent);
                push_wrapped(&mut out, &pad, indent, &words(&on), " ", indent + 2, width);
            }
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
    let label = "  Family scores (of 100; – none ran): ";
    push_wrapped(
        &mut out,
        label,
        label.chars().count(),
        &fams,
        " · ",
        4,
        width,
    );
    for w in &r.warnings {
        push_wrapped(&mut out, "  warning: ", 11, &words(w), " ", 4, width);
    }
    out.push_str(&format!(
        "  {} run, {} skipped, {} inconclusive\n",
        count(r.checks_run.len(), "check", "checks"),
        r.checks_skipped.len(),
        r.inconclusive.len()
    ));
    for i in &r.inconclusive {
        let prefix = format!("    inconclusive {}: ", i.id);
        let cols = prefix.chars().count();
        push_wrapped(&mut out, &prefix, cols, &words(&i.reason), " ", 6, width);
    }
    for s in &r.checks_skipped {
        let prefix = format!("    skipped {}: ", s.id);
        let cols = prefix.chars().count();
        push_wrapped(&mut out, &prefix, cols, &words(&s.reason), " ", 6, width);
    }
    let not_probed = if r.is_whole_api() {
        not_probed_lines(r)
    } else {
        Vec::new()
    };
    if !not_probed.is_empty() {
        out.push_str("  Operations not probed:\n");
        for line in not_probed {
            push_wrapped(&mut out, "    ", 4, &words(&line), " ", 6, width);
        }
    }
    if !r.findings.is_empty() {
        out.push_str("\n  Evidence, curl lines and fixes: --format json, or -o report.json\n");
    }
    out
}

/// How many worst operations the overview lists.
const WORST_SHOWN: usize = 10;

/// A whole-API scan's counts, then its worst operations: grade, score, id and the most
/// severe finding on it, for those with a finding or a failed scan.
fn api_overview(r: &Report, c: &Paint, width: Option<usize>) -> String {
    use super::api::{OperationStatus, worst_first};
    let mut out = String::new();
    let api = r.api_summary();
    push_wrapped(
        &mut out,
        "  ",
        2,
        &words(&super::api::counts_line(&api)),
        " ",
        4,
        width,
    );
    if let Some(deep) = &api.deep_suite_operation {
        push_wrapped(
            &mut out,
            "  ",
            2,
            &words(&format!(
                "Deep suites (jwt, mtls, basic, tls, spec) ran on {deep}"
            )),
            " ",
            4,
            width,
        );
    }
    let mut worst_of: std::collections::HashMap<&str, &crate::finding::Finding> =
        std::collections::HashMap::new();
    for f in &r.findings {
        if let Some(op) = super::api::owning_operation(r, f) {
            let e = worst_of.entry(op).or_insert(f);
            if f.severity > e.severity {
                *e = f;
            }
        }
    }
    let bad: Vec<_> = worst_first(&r.operations)
        .into_iter()
        .filter(|o| worst_of.contains_key(o.id.as_str()) || o.status == OperationStatus::Failed)
        .collect();
    if !bad.is_empty() {
        out.push_str("\n  Worst operations:\n");
        for o in bad.iter().take(WORST_SHOWN) {
            let grade = o.grade.as_deref().unwrap_or("–");
            let score = o.score.map_or("–".to_string(), |s| s.to_string());
            let prefix = format!(
                "    {} {:>3}  ",
                c.p(Ansi::new().bold(), &format!("{grade:<2}")),
                score
            );
            let cols = 4 + grade.chars().count().max(2) + 1 + score.chars().count().max(3) + 2;
            let worst = match worst_of.get(o.id.as_str()) {
                Some(f) => format!("{} ({})", f.id, f.severity.as_str()),
                None => format!(
                    "{}: {}",
                    o.status.as_str(),
                    o.reason.as_deref().unwrap_or("no reason given")
                ),
            };
            let atoms = words(&format!("{}  {worst}", o.id));
            push_wrapped(&mut out, &prefix, cols, &atoms, " ", cols, width);
        }
        if bad.len() > WORST_SHOWN {
            out.push_str(&format!(
                "    and {} more with findings or a failed scan\n",
                bad.len() - WORST_SHOWN
            ));
        }
    }
    out.push('\n');
    out
}

/// The operations not probed, by status and reason: `skipped: unsafe method (3
/// operations: POST /a, PUT /b, DELETE /c)`.
fn not_probed_lines(r: &Report) -> Vec<String> {
    use super::api::OperationStatus;
    let mut groups: Vec<((&str, &str), Vec<String>)> = Vec::new();
    for o in &r.operations {
        if o.status == OperationStatus::Probed {
            continue;
        }
        let key = (
            o.status.as_str(),
            o.reason.as_deref().unwrap_or("no reason given"),
        );
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ids)) => ids.push(o.id.clone()),
            None => groups.push((key, vec![o.id.clone()])),
        }
    }
    groups
        .into_iter()
        .map(|((status, reason), ids)| {
            format!(
                "{status}: {reason} ({} operation{}: {})",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                super::api::list_ids(&ids, 3)
            )
        })
        .collect()
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn accepted_line(t: &TlsSection) -> String {
    let v: Vec<String> = t
        .protocols
        .iter()
        .filter(|p| p.accepted)
        .map(|p| {
            format!(
                "{} ({})",
                p.version,
                count(p.suites.len(), "suite", "suites")
            )
        })
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
        format!(
            "{}: {}",
            m.profile,
            count(m.deviations.len(), "deviation", "deviations")
        )
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
