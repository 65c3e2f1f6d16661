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

/// The title, score, baseline, caps and families: what every rendering starts with.
fn head(report: &Report) -> String {
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
    m
}

/// The warnings and the counts of checks skipped and undecided: what every rendering
/// ends with.
fn tail(report: &Report) -> String {
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
    tail
}

pub fn render(report: &Report) -> String {
    if report.is_whole_api() {
        return render_api(report);
    }
    let mut m = head(report);
    let tail = tail(report);
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
        let row = finding_row(f);
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

/// What the whole-API note keeps free: it names up to [`API_NOTE_IDS`] ids in each of
/// four parts, each id shortened to [`NOTE_ID_CHARS`].
const API_NOTE_ROOM: usize = 4_000;
const API_NOTE_IDS: usize = 10;
const NOTE_ID_CHARS: usize = 60;
/// A list of not-probed operations longer than this names its first few only.
const NOT_PROBED_LINE: usize = 1_000;

/// A finding's row of the findings table (severity, check, title, CWE).
fn finding_row(f: &crate::finding::Finding) -> String {
    format!(
        "| {} | `{}` | {} | {} |\n",
        badge(f.severity),
        f.id.replace('`', "'"),
        inline(&f.title),
        inline(&f.cwe.join(", "))
    )
}

fn note_names(ids: &[String]) -> String {
    let mut s: Vec<String> = ids
        .iter()
        .take(API_NOTE_IDS)
        .map(|id| {
            let mut short: String = id.chars().take(NOTE_ID_CHARS).collect();
            if short.len() < id.len() {
                short.push('…');
            }
            inline(&short)
        })
        .collect();
    if ids.len() > API_NOTE_IDS {
        s.push(format!("and {} more", ids.len() - API_NOTE_IDS));
    }
    s.join(", ")
}

/// A finding as the note names it: `auth.missing on GET /a` when it is one operation's.
fn label(f: &crate::finding::Finding) -> String {
    match super::api::single_operation(f) {
        Some(op) => format!("{} on {op}", f.id),
        None => f.id.clone(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The API as a whole: where it was described, and what became of its operations.
fn api_summary(report: &Report) -> String {
    use super::api::ApiKind;
    let a = report.api_summary();
    let mut m = String::from("### API\n\n");
    if let Some(t) = &a.title {
        let _ = writeln!(m, "- **{}**", inline(t));
    }
    if !a.source.is_empty() {
        let kind = match a.kind {
            ApiKind::Openapi => match &a.spec_version {
                Some(v) => format!("API description, version {}", inline(v)),
                None => "API description".to_string(),
            },
            ApiKind::Targets => "target list".to_string(),
        };
        let _ = writeln!(m, "- Source: {} ({kind})", inline(&a.source));
    }
    if let Some(b) = &a.base_url {
        let _ = writeln!(m, "- Base URL: {}", inline(b));
    }
    let _ = writeln!(m, "- {}", inline(&super::api::counts_line(&a)));
    if let Some(d) = &a.deep_suite_operation {
        let _ = writeln!(
            m,
            "- Deep suites (jwt, mtls, basic, tls, spec) ran once, on {}",
            inline(d)
        );
    }
    if let Some(b) = &a.budget {
        let _ = writeln!(
            m,
            "- Budget: {} requests in all (sent {}), at most {} per operation, {} spent by the deep suites",
            b.max_requests, report.requests_sent, b.per_operation, b.deep_suite
        );
    }
    m.push('\n');
    m
}

fn dash(s: Option<String>) -> String {
    s.unwrap_or_else(|| "–".to_string())
}

/// A whole-API report: the API summary, an operations table worst first, the findings
/// grouped by operation (API-wide ones first, naming what they cover, then each
/// operation's worst first), and the operations
/// that were not probed with why. Whatever does not fit under [`MAX_LEN`] is cut in that
/// order of priority (the not-probed list, the operations table up to half the room, the
/// findings' rows, then their evidence) and named in a note.
fn render_api(report: &Report) -> String {
    use super::api::{OperationStatus, worst_first};
    use std::collections::HashMap;

    let mut m = head(report);
    m.push_str(&api_summary(report));
    let tail = tail(report);
    let mut room = MAX_LEN.saturating_sub(len(&m) + len(&tail) + API_NOTE_ROOM);
    let take = |s: &str, room: &mut usize| -> bool {
        if len(s) <= *room {
            *room -= len(s);
            true
        } else {
            false
        }
    };

    // The operations not probed, one line per status and reason.
    let mut groups: Vec<((OperationStatus, &str), Vec<String>)> = Vec::new();
    for o in &report.operations {
        if o.status == OperationStatus::Probed {
            continue;
        }
        let key = (o.status, o.reason.as_deref().unwrap_or("no reason given"));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ids)) => ids.push(o.id.clone()),
            None => groups.push((key, vec![o.id.clone()])),
        }
    }
    let mut not_probed = String::new();
    let mut not_probed_cut: Vec<String> = Vec::new();
    if !groups.is_empty() {
        not_probed.push_str("### Not probed\n\n");
        room = room.saturating_sub(len(&not_probed));
    }
    for ((status, reason), ids) in &groups {
        let line = |list: String| {
            format!(
                "- **{}**: {} ({}: {list})\n",
                status.as_str(),
                inline(reason),
                plural(ids.len(), "operation", "operations")
            )
        };
        let mut l = line(inline(&ids.join(", ")));
        if len(&l) > NOT_PROBED_LINE {
            l = line(inline(&super::api::list_ids(ids, 10)));
        }
        if not_probed_cut.is_empty() && take(&l, &mut room) {
            not_probed.push_str(&l);
        } else {
            not_probed_cut.extend(ids.iter().cloned());
        }
    }
    if !not_probed.is_empty() {
        not_probed.push('\n');
    }

    // The operations table, worst first, in at most half of what is left.
    let ordered = worst_first(&report.operations);
    let mut op_findings: HashMap<&str, Vec<&crate::finding::Finding>> = HashMap::new();
    let mut wide = Vec::new();
    for f in &report.findings {
        match super::api::owning_operation(report, f) {
            Some(op) => op_findings.entry(op).or_default().push(f),
            None => wide.push(f),
        }
    }
    let header = "### Operations\n\n| Operation | Security | Status | Grade | Score | Findings | Requests |\n|---|---|---|---|---|---|---|\n";
    let mut table = String::new();
    let mut ops_cut: Vec<String> = Vec::new();
    if !ordered.is_empty() && take(header, &mut room) {
        let mut table_room = room / 2;
        table.push_str(header);
        for o in &ordered {
            let row = format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                inline(&o.id),
                inline(o.declared_security.as_deref().unwrap_or("–")),
                o.status.as_str(),
                inline(&dash(o.grade.clone())),
                dash(o.score.map(|s| s.to_string())),
                op_findings.get(o.id.as_str()).map_or(0, Vec::len),
                o.requests_sent
            );
            if ops_cut.is_empty() && take(&row, &mut table_room) {
                room -= len(&row);
                table.push_str(&row);
            } else {
                ops_cut.push(o.id.clone());
            }
        }
        table.push('\n');
    }

    // The findings: those naming no single operation, then a group per operation worst
    // first; first the rows, then as much evidence as fits, most severe first.
    struct Group<'a> {
        heading: String,
        findings: Vec<&'a crate::finding::Finding>,
    }
    let mut grouped: Vec<Group> = Vec::new();
    // First what the deep suites found once for the whole API: it concerns every
    // operation it covers, so it is the last thing to cut.
    if !wide.is_empty() {
        grouped.push(Group {
            heading: "#### API-wide (deep suites, run once for the whole API)\n\n".to_string(),
            findings: wide,
        });
    }
    let mut placed: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for o in &ordered {
        if let Some(fs) = op_findings.get(o.id.as_str()) {
            placed.insert(o.id.as_str());
            grouped.push(Group {
                heading: format!(
                    "#### {} · {} · grade {} · score {}\n\n",
                    inline(&o.id),
                    plural(fs.len(), "finding", "findings"),
                    inline(&dash(o.grade.clone())),
                    dash(o.score.map(|s| s.to_string()))
                ),
                findings: fs.clone(),
            });
        }
    }
    for f in &report.findings {
        if let Some(op) = super::api::owning_operation(report, f).filter(|op| !placed.contains(op))
        {
            placed.insert(op);
            grouped.push(Group {
                heading: format!("#### {}\n\n", inline(op)),
                findings: op_findings[op].clone(),
            });
        }
    }
    let table_head = "| Severity | Check | Finding | CWE |\n|---|---|---|---|\n";
    let mut rows_cut: Vec<String> = Vec::new();
    // Each group's rendered table (heading, rows, what API-wide findings cover) and the
    // findings shown in it.
    let mut shown: Vec<(String, Vec<&crate::finding::Finding>)> = Vec::new();
    let findings_head = "### Findings\n\n";
    if !grouped.is_empty() && !take(findings_head, &mut room) {
        rows_cut.extend(report.findings.iter().map(label));
        grouped.clear();
    }
    for g in grouped {
        let start = format!("{}{table_head}", g.heading);
        if !rows_cut.is_empty() || !take(&start, &mut room) {
            rows_cut.extend(g.findings.iter().map(|f| label(f)));
            continue;
        }
        let mut part = start;
        let mut covers = String::new();
        let mut in_group = Vec::new();
        for f in g.findings {
            let row = finding_row(f);
            let cover = if f.operations.len() > 1 {
                format!(
                    "- {} {}: {}\n",
                    inline(&f.id),
                    super::api::covers(f.operations.len()),
                    inline(&super::api::list_ids(&f.operations, 10))
                )
            } else {
                String::new()
            };
            let both = format!("{row}{cover}");
            if rows_cut.is_empty() && take(&both, &mut room) {
                part.push_str(&row);
                covers.push_str(&cover);
                in_group.push(f);
            } else {
                rows_cut.push(label(f));
            }
        }
        part.push('\n');
        if !covers.is_empty() {
            part.push_str(&covers);
            part.push('\n');
        }
        shown.push((part, in_group));
    }
    // Evidence, most severe first wherever its group is, by (group, finding) index.
    let mut by_severity: Vec<(usize, usize)> = shown
        .iter()
        .enumerate()
        .flat_map(|(g, (_, fs))| (0..fs.len()).map(move |i| (g, i)))
        .collect();
    by_severity.sort_by(|a, b| shown[b.0].1[b.1].severity.cmp(&shown[a.0].1[a.1].severity));
    let mut evidence: HashMap<(usize, usize), String> = HashMap::new();
    let mut evidence_cut: Vec<String> = Vec::new();
    for (g, i) in by_severity {
        let f = shown[g].1[i];
        let d = details(f);
        if evidence_cut.is_empty() && take(&d, &mut room) {
            evidence.insert((g, i), d);
        } else {
            evidence_cut.push(label(f));
        }
    }

    m.push_str(&table);
    if report.findings.is_empty() {
        m.push_str("No findings.\n\n");
    } else if !shown.is_empty() {
        m.push_str(findings_head);
    }
    for (g, (part, fs)) in shown.iter().enumerate() {
        m.push_str(part);
        for i in 0..fs.len() {
            if let Some(d) = evidence.get(&(g, i)) {
                m.push_str(d);
            }
        }
    }
    m.push_str(&not_probed);
    // What was cut, in the order the sections appear: (the ids, the words before the
    // count, the noun, the words after it).
    let cuts: [(&[String], &str, [&str; 2], &str); 4] = [
        (
            &ops_cut,
            "",
            ["operation", "operations"],
            " left out of the operations table",
        ),
        (
            &rows_cut,
            "",
            ["finding", "findings"],
            " left out of the findings",
        ),
        (
            &evidence_cut,
            "the evidence of ",
            ["finding", "findings"],
            "",
        ),
        (
            &not_probed_cut,
            "",
            ["operation", "operations"],
            " left out of the not-probed list",
        ),
    ];
    let parts: Vec<String> = cuts
        .iter()
        .filter(|(ids, ..)| !ids.is_empty())
        .map(|(ids, before, [one, many], after)| {
            format!(
                "{before}{}{after} ({})",
                plural(ids.len(), one, many),
                note_names(ids)
            )
        })
        .collect();
    if !parts.is_empty() {
        let _ = writeln!(
            m,
            "> **Cut to fit GitHub's {GITHUB_COMMENT_LIMIT}-character comment limit:** {}. The JSON, JSONL, HTML and SARIF reports have every operation and finding in full.\n",
            parts.join("; ")
        );
    }
    m.push_str(&tail);
    m
}
