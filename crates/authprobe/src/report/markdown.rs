//! GitHub-flavoured Markdown, compact enough for a PR comment or a job summary: the score,
//! a table of findings, and each finding's evidence folded away in `<details>`.

use super::Report;
use crate::finding::Severity;
use std::fmt::Write;

/// Text for a table cell or a line of prose: Markdown and HTML syntax made literal, and
/// newlines folded, so a server's answer can neither break the table nor inject markup.
pub fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '`' | '*' | '_' | '[' | ']' | '\\' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A fenced block whose fence is longer than any run of backticks in the text, so the text
/// cannot close it early.
pub fn fenced(lang: &str, text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest.max(2) + 1);
    let body: String = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    format!("{fence}{lang}\n{}\n{fence}\n", body.trim_end_matches('\n'))
}

fn badge(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "🟥 critical",
        Severity::High => "🟧 high",
        Severity::Medium => "🟨 medium",
        Severity::Low => "🟦 low",
        Severity::Info => "⬜ info",
    }
}

pub fn render(report: &Report) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "## authprobe: {}\n", inline(&report.target));
    let _ = writeln!(
        m,
        "**Score {}/100 · Grade {}** · {} findings · {} checks run · {} requests · {:.1} s\n",
        report.score,
        inline(&report.grade),
        report.findings.len(),
        report.checks_run.len(),
        report.requests_sent,
        report.duration_ms as f64 / 1000.0
    );
    if let Some(b) = &report.baseline {
        let _ = writeln!(
            m,
            "{} known findings suppressed by the baseline; only new ones are listed.\n",
            b.suppressed
        );
    }
    for cap in &report.grade_caps {
        let _ = writeln!(
            m,
            "> Grade capped at **{}**: {}",
            inline(&cap.grade),
            inline(&cap.reason)
        );
    }
    if !report.grade_caps.is_empty() {
        m.push('\n');
    }
    if !report.categories.is_empty() {
        let cats: Vec<String> = report
            .categories
            .iter()
            .map(|(k, v)| format!("{} {v}", inline(k)))
            .collect();
        let _ = writeln!(m, "Families: {}\n", cats.join(" · "));
    }
    if report.findings.is_empty() {
        m.push_str("No findings.\n\n");
    } else {
        m.push_str("| Severity | Check | Finding | CWE |\n|---|---|---|---|\n");
        for f in &report.findings {
            let _ = writeln!(
                m,
                "| {} | `{}` | {} | {} |",
                badge(f.severity),
                f.id.replace('`', "'"),
                inline(&f.title),
                inline(&f.cwe.join(", "))
            );
        }
        m.push('\n');
        for f in &report.findings {
            let _ = writeln!(
                m,
                "<details><summary><b>{}</b> {} ({})</summary>\n",
                inline(&f.id),
                inline(&f.title),
                f.severity.as_str()
            );
            // A hard line break keeps the description's own lines apart.
            let desc: Vec<String> = f.description.lines().map(inline).collect();
            let _ = writeln!(m, "{}\n", desc.join("  \n"));
            let status = match f.evidence.status {
                Some(s) => format!("status {s}"),
                None => "no HTTP status".into(),
            };
            let _ = writeln!(m, "Request ({status}):\n");
            m.push_str(&fenced("http", &f.evidence.request));
            m.push_str("\nResponse excerpt:\n\n");
            m.push_str(&fenced("", &f.evidence.excerpt));
            m.push_str("\nReproduce:\n\n");
            m.push_str(&fenced("sh", &f.evidence.curl));
            let _ = writeln!(m, "\n**Fix:** {}\n", inline(&f.remediation.summary));
            m.push_str("</details>\n\n");
        }
    }
    for w in &report.warnings {
        let _ = writeln!(m, "> **Warning:** {}\n", inline(w));
    }
    let _ = writeln!(
        m,
        "{} skipped (not applicable) · {} inconclusive · {} {}",
        report.checks_skipped.len(),
        report.inconclusive.len(),
        inline(&report.tool.name),
        inline(&report.tool.version)
    );
    m
}
