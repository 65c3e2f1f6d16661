//! The terminal rendering: a header, the grade and why, findings by severity, and the
//! family scores. Colour only when asked (the CLI asks when stdout is a terminal).

use super::Report;
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
    out.push_str(&format!(
        "{} {} · {} · {} requests · {:.1} s\n\n",
        c.p("1", "authprobe"),
        r.tool.version,
        r.target,
        r.requests_sent,
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

    let fams: Vec<String> = Family::ALL
        .iter()
        .map(|f| match r.categories.get(f.as_str()) {
            Some(s) => format!("{} {s}", f.as_str()),
            None => format!("{} –", f.as_str()),
        })
        .collect();
    out.push_str(&format!("  {}\n", fams.join(" · ")));
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
