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

/// GitHub refuses a comment or job summary longer than this many characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;
/// What a rendering stays under: the limit less room for what a workflow wraps around it
/// (a heading, a marker to find and update its own comment).
pub const MAX_LEN: usize = 60_000;
/// Kept free for the note that says what was cut.
const NOTE_ROOM: usize = 2_000;
/// How many ids of cut findings the note names; the rest are counted.
const NOTE_IDS: usize = 25;

/// Length as GitHub counts it at worst: UTF-16 units, so an emoji badge counts twice.
fn len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn details(f: &crate::finding::Finding) -> String {
    let mut m = String::new();
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
    m
}

/// Names what did not fit, so a reader knows the comment is partial and where the rest is.
fn cut_note(rows_cut: &[&str], evidence_cut: &[&str]) -> String {
    let names = |ids: &[&str]| {
        let mut s: Vec<String> = ids
            .iter()
            .take(NOTE_IDS)
            .map(|id| format!("`{}`", id.replace('`', "'")))
            .collect();
        if ids.len() > NOTE_IDS {
            s.push(format!("and {} more", ids.len() - NOTE_IDS));
        }
        s.join(", ")
    };
    let mut parts = Vec::new();
    if !rows_cut.is_empty() {
        parts.push(format!(
            "{} findings left out of the table ({})",
            rows_cut.len(),
            names(rows_cut)
        ));
    }
    if !evidence_cut.is_empty() {
        parts.push(format!(
            "the evidence of {} findings ({})",
            evidence_cut.len(),
            names(evidence_cut)
        ));
    }
    format!(
        "> **Cut to fit GitHub's {GITHUB_COMMENT_LIMIT}-character comment limit:** {}. The JSON, HTML and SARIF reports have every finding in full.\n\n",
        parts.join("; ")
    )
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
            "{} known finding{} suppressed by the baseline; only new ones are listed.\n",
            b.suppressed,
            if b.suppressed == 1 { "" } else { "s" }
        );
    }
    // A list item each: consecutive quoted lines would join into one paragraph.
    for cap in &report.grade_caps {
        let _ = writeln!(
            m,
            "> - Grade capped at **{}**: {}",
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

    let mut tail = String::new();
    for w in &report.warnings {
        let _ = writeln!(tail, "> **Warning:** {}\n", inline(w));
    }
    let _ = writeln!(
        tail,
        "{} skipped (not applicable) · {} inconclusive · {} {}",
        report.checks_skipped.len(),
        report.inconclusive.len(),
        inline(&report.tool.name),
        inline(&report.tool.version)
    );

    if report.findings.is_empty() {
        m.push_str("No findings.\n\n");
        m.push_str(&tail);
        return m;
    }
    // The table comes first, whole if it can be: one row per finding is the summary a
    // reviewer needs; evidence fills what room is left, most severe first.
    let header = "| Severity | Check | Finding | CWE |\n|---|---|---|---|\n";
    let mut room = MAX_LEN.saturating_sub(len(&m) + len(&tail) + len(header) + NOTE_ROOM + 1);
    let mut table = String::from(header);
    let mut rows_cut = Vec::new();
    let mut shown = Vec::new();
    for f in &report.findings {
        let row = format!(
            "| {} | `{}` | {} | {} |\n",
            badge(f.severity),
            f.id.replace('`', "'"),
            inline(&f.title),
            inline(&f.cwe.join(", "))
        );
        if rows_cut.is_empty() && len(&row) <= room {
            room -= len(&row);
            table.push_str(&row);
            shown.push(f);
        } else {
            rows_cut.push(f.id.as_str());
        }
    }
    m.push_str(&table);
    m.push('\n');
    let mut evidence_cut = Vec::new();
    for f in shown {
        let d = details(f);
        if evidence_cut.is_empty() && len(&d) <= room {
            room -= len(&d);
            m.push_str(&d);
        } else {
            evidence_cut.push(f.id.as_str());
        }
    }
    if !rows_cut.is_empty() || !evidence_cut.is_empty() {
        m.push_str(&cut_note(&rows_cut, &evidence_cut));
    }
    m.push_str(&tail);
    m
}
