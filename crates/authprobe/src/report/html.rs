//! One self-contained HTML page: inline CSS and SVG, no script and no external asset, so it
//! can be mailed, archived as a CI artifact or opened offline. Every value that came from
//! the target or the user is escaped; the page trusts nothing but its own markup.

use super::Report;
use crate::finding::{Family, Finding, Severity};
use std::collections::HashMap;
use std::fmt::Write;

pub use super::markup::escape as esc;

const SEVERITIES: [Severity; 4] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
];

fn sev_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#b91c1c",
        Severity::High => "#ea580c",
        Severity::Medium => "#ca8a04",
        Severity::Low => "#2563eb",
        Severity::Info => "#64748b",
    }
}

/// The class that paints a grade letter or pill in its score's colour (the same buckets as
/// [`score_colour`]): a class, not a `style` attribute, so the fragment also shows under a
/// Content-Security-Policy without `'unsafe-inline'` styles (the dashboard's).
fn score_class(score: u32) -> &'static str {
    match score {
        90.. => "sc-a",
        80..=89 => "sc-b",
        70..=79 => "sc-c",
        60..=69 => "sc-d",
        _ => "sc-f",
    }
}

fn score_colour(score: u32) -> &'static str {
    match score {
        90.. => "#15803d",
        80..=89 => "#65a30d",
        70..=79 => "#ca8a04",
        60..=69 => "#ea580c",
        _ => "#b91c1c",
    }
}

/// A half-circle gauge: the grey track, then the score's arc over it.
fn gauge(score: u32, grade: &str) -> String {
    let (cx, cy, r) = (110.0_f64, 110.0_f64, 90.0_f64);
    let frac = f64::from(score.min(100)) / 100.0;
    let angle = std::f64::consts::PI * (1.0 - frac);
    let (x, y) = (cx + r * angle.cos(), cy - r * angle.sin());
    let arc = if score == 0 {
        // A zero-length arc draws nothing; a dot still says "red, at the very start".
        format!(
            r#"<circle cx="{:.1}" cy="{cy}" r="9" fill="{}"/>"#,
            cx - r,
            score_colour(0)
        )
    } else {
        format!(
            r#"<path d="M {:.1} {cy} A {r} {r} 0 0 1 {x:.1} {y:.1}" fill="none" stroke="{}" stroke-width="18" stroke-linecap="round"/>"#,
            cx - r,
            score_colour(score)
        )
    };
    format!(
        r##"<svg class="gauge" viewBox="0 0 220 135" width="220" height="135" role="img" aria-label="Score {score} of 100, grade {g}">
<path d="M {x0} {cy} A {r} {r} 0 0 1 {x1} {cy}" fill="none" stroke="#e2e8f0" stroke-width="18" stroke-linecap="round"/>
{arc}
<text x="{cx}" y="{ty}" text-anchor="middle" class="g-score">{score}</text>
<text x="{cx}" y="{ty2}" text-anchor="middle" class="g-sub">of 100 · grade {g}</text>
</svg>"##,
        x0 = cx - r,
        x1 = cx + r,
        ty = cy - 12.0,
        ty2 = cy + 16.0,
        g = esc(grade),
    )
}

/// Horizontal bars, one per row; `max` sets the full width.
fn bars(rows: &[(String, u32, String, &str)], max: u32) -> String {
    let row_h = 26;
    let label_w = 70;
    let bar_w = 220.0;
    let height = rows.len() * row_h + 4;
    let mut s = format!(
        r#"<svg class="bars" viewBox="0 0 400 {height}" width="100%" preserveAspectRatio="xMinYMin meet" role="img">"#
    );
    for (i, (label, value, shown, colour)) in rows.iter().enumerate() {
        let y = i * row_h + 4;
        let w = if max == 0 {
            0.0
        } else {
            bar_w * f64::from(*value) / f64::from(max)
        };
        let _ = write!(
            s,
            r##"<text x="0" y="{ty}" class="b-label">{label}</text><rect x="{label_w}" y="{y}" width="{bar_w}" height="16" rx="3" fill="#f1f5f9"/><rect x="{label_w}" y="{y}" width="{w:.1}" height="16" rx="3" fill="{colour}"/><text x="{tx:.1}" y="{ty}" class="b-value">{shown}</text>"##,
            ty = y + 13,
            label = esc(label),
            tx = f64::from(label_w) + bar_w + 8.0,
            shown = esc(shown),
        );
    }
    s.push_str("</svg>");
    s
}

fn severity_chart(report: &Report) -> String {
    let rows: Vec<(String, u32, String, &str)> = SEVERITIES
        .iter()
        .map(|s| {
            let n = report.findings.iter().filter(|f| f.severity == *s).count() as u32;
            (s.as_str().to_string(), n, n.to_string(), sev_colour(*s))
        })
        .collect();
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    bars(&rows, max)
}

fn family_of(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

/// One bar per family, as long as the points the family lost and worst first: next to
/// the severity chart, where a longer bar is also worse, a bar of the score itself would
/// leave the worst family with the shortest bar, looking the calmest.
fn family_chart(report: &Report) -> String {
    let mut rows: Vec<(String, u32, String, &str)> = Family::ALL
        .iter()
        .filter_map(|fam| {
            let score = *report.categories.get(fam.as_str())?;
            let n = report
                .findings
                .iter()
                .filter(|f| family_of(&f.id) == fam.as_str())
                .count();
            let shown = match n {
                0 => format!("{score}/100"),
                n => format!("{score}/100 · {n} ✗"),
            };
            Some((
                fam.as_str().to_string(),
                100 - score.min(100),
                shown,
                score_colour(score),
            ))
        })
        .collect();
    if rows.is_empty() {
        return "<p class=\"muted\">No family was scored.</p>".into();
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    bars(&rows, 100)
}

/// `2026-12-06T06:51:09Z` as `6 Dec 2026, 06:51 UTC` (or the date alone), inside a span
/// whose tooltip keeps the exact RFC 3339 value; anything else is shown as it came.
fn human_date(rfc3339: &str, with_time: bool) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parsed = (|| {
        let (date, time) = rfc3339.strip_suffix('Z')?.split_once('T')?;
        let mut d = date.splitn(3, '-');
        let (y, m, day) = (d.next()?, d.next()?, d.next()?);
        let month = MONTHS.get(m.parse::<usize>().ok()?.checked_sub(1)?)?;
        let day: u32 = day.parse().ok()?;
        let hm = time.get(..5)?;
        Some(if with_time {
            format!("{day} {month} {y}, {hm} UTC")
        } else {
            format!("{day} {month} {y}")
        })
    })();
    match parsed {
        Some(h) => format!("<span title=\"{}\">{}</span>", esc(rfc3339), esc(&h)),
        None => esc(rfc3339),
    }
}

fn pre(label: &str, text: &str) -> String {
    format!(
        "<div class=\"ev\"><div class=\"ev-label\">{}</div><pre>{}</pre></div>",
        esc(label),
        esc(text)
    )
}

/// `on GET /x`, or what a finding naming several operations covers, the full list folded.
fn operations_line(f: &Finding) -> String {
    match f.operations.as_slice() {
        [] => String::new(),
        [one] => format!("<p class=\"on\">on <code>{}</code></p>", esc(one)),
        many => {
            let mut s = format!(
                "<details class=\"on\"><summary>{}: {}</summary><ul class=\"oplist\">",
                esc(&super::api::covers(many.len())),
                esc(&super::api::list_ids(many, 5))
            );
            for op in many {
                let _ = write!(s, "<li><code>{}</code></li>", esc(op));
            }
            s.push_str("</ul></details>");
            s
        }
    }
}

fn finding(f: &Finding, n: usize, whole_api: bool) -> String {
    let mut s = String::new();
    let sev = f.severity.as_str();
    let _ = write!(
        s,
        r#"<article class="finding" id="f{n}"><header><span class="pill sev-{sev}">{sev}</span><code class="fid">{id}</code><h3>{title}</h3><span class="conf">{conf:?}</span></header>"#,
        id = esc(&f.id),
        title = esc(&f.title),
        conf = f.confidence,
    );
    if whole_api {
        s.push_str(&operations_line(f));
    }
    s.push_str("<div class=\"chips\">");
    for c in f.cwe.iter().chain(&f.owasp) {
        let _ = write!(s, "<span class=\"chip\">{}</span>", esc(c));
    }
    s.push_str("</div>");
    let _ = write!(s, "<p class=\"desc\">{}</p>", esc(&f.description));
    let status = match f.evidence.status {
        Some(code) => format!("Request (answered {code})"),
        None => "Request (no HTTP answer)".to_string(),
    };
    // Closed by default: the summary and fix of every finding fit on a screen, and the
    // raw exchange is one click away for whoever reproduces it.
    s.push_str("<details class=\"ev-box\"><summary>Evidence: request, response, curl to reproduce</summary><div class=\"evidence\">");
    s.push_str(&pre(&status, &f.evidence.request));
    s.push_str(&pre("Response excerpt", &f.evidence.excerpt));
    s.push_str(&pre("Reproduce", &f.evidence.curl));
    s.push_str("</div></details>");
    let _ = write!(
        s,
        "<div class=\"fix\"><div class=\"ev-label\">Fix</div><p>{}</p>",
        esc(&f.remediation.summary)
    );
    if !f.remediation.frameworks.is_empty() {
        s.push_str("<details><summary>How to fix it in your stack</summary><dl>");
        for (fw, text) in &f.remediation.frameworks {
            let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", esc(fw), esc(text));
        }
        s.push_str("</dl></details>");
    }
    s.push_str("</div></article>");
    s
}

fn tls_section(t: &super::tls::TlsSection) -> String {
    let mut s = String::from("<section><h2>TLS</h2>");
    let _ = write!(
        s,
        "<p class=\"muted\">{} ({}) · SNI {} · {} handshakes · {} ms</p>",
        esc(&t.target),
        esc(&t.address),
        esc(t.sni.as_deref().unwrap_or("none")),
        t.handshakes,
        t.duration_ms
    );
    s.push_str("<table><thead><tr><th>Protocol</th><th>Offered</th><th>Cipher suites</th><th>Groups</th></tr></thead><tbody>");
    for p in &t.protocols {
        let suites: Vec<String> = p
            .suites
            .iter()
            .map(|su| {
                let class = if su.weak {
                    "weak"
                } else if su.forward_secrecy {
                    "ok"
                } else {
                    "nofs"
                };
                format!("<span class=\"suite {class}\">{}</span>", esc(&su.name))
            })
            .collect();
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p.version),
            if p.accepted {
                "<span class=\"yes\">yes</span>"
            } else {
                "<span class=\"no\">no</span>"
            },
            suites.join(" "),
            esc(&p.groups.join(", "))
        );
    }
    s.push_str("</tbody></table>");
    let m = &t.mozilla_intermediate;
    let _ = write!(
        s,
        "<p><b>{}</b>: {}</p>",
        esc(&m.profile),
        if m.compliant {
            "compliant".to_string()
        } else {
            esc(&m.deviations.join("; "))
        }
    );
    if !t.certificate_chain.is_empty() {
        s.push_str("<h3>Certificate chain</h3><table><thead><tr><th>#</th><th>Subject</th><th>Issuer</th><th>Key</th><th>Valid</th><th>Names</th></tr></thead><tbody>");
        for (i, c) in t.certificate_chain.iter().enumerate() {
            let _ = write!(
                s,
                "<tr><td>{i}</td><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td></tr>",
                esc(&c.subject),
                esc(&c.issuer),
                esc(&c.key.to_string()),
                human_date(&c.not_before, false),
                human_date(&c.not_after, false),
                esc(&c.names())
            );
        }
        s.push_str("</tbody></table>");
        let _ = write!(
            s,
            "<p class=\"muted\">Chain from {} · validated against {}</p>",
            esc(&t.chain_source),
            esc(&t.trust_anchors)
        );
    }
    for p in &t.certificate_problems {
        let _ = write!(s, "<p class=\"problem\">{}</p>", esc(p));
    }
    if let Some(cas) = &t.client_auth_cas {
        let _ = write!(
            s,
            "<p>Client certificates requested, from: {}</p>",
            esc(&cas.join("; "))
        );
    }
    for e in &t.errors {
        let _ = write!(s, "<p class=\"muted\">Probe error: {}</p>", esc(e));
    }
    s.push_str("</section>");
    s
}

/// The checks that ran and decided the flaw absent: what the grade stands on, so a
/// reader can see what was tried, not only what failed.
fn passed_section(report: &Report) -> String {
    let registry = crate::checks::registry();
    let passed: Vec<&String> = report
        .checks_run
        .iter()
        .filter(|id| {
            !report.findings.iter().any(|f| &f.id == *id)
                && !report.inconclusive.iter().any(|i| &i.id == *id)
        })
        .collect();
    if passed.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "<section><h2>Passed</h2><p class=\"muted\">{} checks ran and found no flaw.</p><table class=\"passed\"><thead><tr><th>Check</th><th>What it would have proven</th></tr></thead><tbody>",
        passed.len()
    );
    for id in passed {
        let what = registry
            .iter()
            .find(|c| c.meta().id == id.as_str())
            .map(|c| c.meta().title)
            .unwrap_or_default();
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            esc(id),
            esc(what)
        );
    }
    s.push_str("</tbody></table></section>");
    s
}

/// Rows shown before a long list folds the rest away in `<details>`.
const ROWS_SHOWN: usize = 25;
/// Operations whose findings show before the rest fold away.
const GROUPS_SHOWN: usize = 20;

/// Styles only a whole-API page uses, so a single-URL page stays as it was.
macro_rules! api_css {
    () => {
        r#"
.api dl{grid-template-columns:140px 1fr}
.counts{display:flex;flex-wrap:wrap;gap:8px;margin:10px 0 0}
.count{background:#f1f5f9;border-radius:6px;padding:4px 10px;font-size:13px}
.count b{font-size:16px;margin-right:4px}
.op-h{font-size:15px;margin:18px 0 6px;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.op-h code{overflow-wrap:anywhere}
.grade-pill{display:inline-block;min-width:26px;text-align:center;border-radius:4px;color:#fff;font-weight:700;font-size:12px;padding:0 5px}
.on{margin:6px 0 0;font-size:13px;color:#334155}
.oplist{margin:4px 0 0;padding-left:18px;columns:2;font-size:12.5px}
details.more{margin-top:8px}
details.more>summary{margin:6px 0}
.ops td:nth-child(n+4){white-space:nowrap}
@media (max-width:640px){.ops th:nth-child(2),.ops td:nth-child(2),.ops th:nth-child(7),.ops td:nth-child(7){display:none}.oplist{columns:1}.api dl{grid-template-columns:minmax(0,1fr)}}
"#
    };
}
const API_CSS: &str = api_css!();

fn grade_pill(grade: Option<&str>, score: Option<u32>) -> String {
    match (grade, score) {
        (Some(g), Some(s)) => format!(
            "<span class=\"grade-pill {}\">{}</span>",
            score_class(s),
            esc(g)
        ),
        (Some(g), None) => esc(g),
        _ => "–".to_string(),
    }
}

/// The API as described and what became of its operations.
fn api_section(report: &Report) -> String {
    use super::api::ApiKind;
    let a = report.api_summary();
    let mut s = String::from("<section><h2>API</h2><div class=\"card api\"><dl>");
    let mut row = |k: &str, v: String| {
        let _ = write!(s, "<dt>{}</dt><dd>{v}</dd>", esc(k));
    };
    if let Some(t) = &a.title {
        row("Title", esc(t));
    }
    if !a.source.is_empty() {
        let kind = match a.kind {
            ApiKind::Openapi => "API description",
            ApiKind::Targets => "target list",
        };
        row(
            "Source",
            format!("<code>{}</code> ({kind})", esc(&a.source)),
        );
    }
    if let Some(v) = &a.spec_version {
        row("Spec version", esc(v));
    }
    if let Some(b) = &a.base_url {
        row("Base URL", format!("<code>{}</code>", esc(b)));
    }
    if let Some(d) = &a.deep_suite_operation {
        row(
            "Deep suites",
            format!("ran once, on <code>{}</code>", esc(d)),
        );
    }
    if let Some(b) = &a.budget {
        row(
            "Budget",
            format!(
                "{} requests in all (sent {}), at most {} per operation, {} spent by the deep suites",
                b.max_requests, report.requests_sent, b.per_operation, b.deep_suite
            ),
        );
    }
    s.push_str("</dl><div class=\"counts\">");
    for (n, label) in [
        (a.operations_total, "operations"),
        (a.probed, "probed"),
        (a.public, "public"),
        (a.skipped, "skipped"),
        (a.not_probed_budget, "not probed (budget)"),
        (a.failed, "failed"),
    ] {
        let _ = write!(s, "<span class=\"count\"><b>{n}</b>{}</span>", esc(label));
    }
    s.push_str("</div></div></section>");
    s
}

/// Findings with their index in the report (the `#f{n}` anchor of their evidence).
type Numbered<'a> = Vec<(usize, &'a Finding)>;

/// The findings of each operation by id, and those that name no single operation.
fn split_findings(report: &Report) -> (HashMap<&str, Numbered<'_>>, Numbered<'_>) {
    let mut by_op: HashMap<&str, Numbered> = HashMap::new();
    let mut wide = Vec::new();
    for (n, f) in report.findings.iter().enumerate() {
        match super::api::owning_operation(report, f) {
            Some(op) => by_op.entry(op).or_default().push((n, f)),
            None => wide.push((n, f)),
        }
    }
    (by_op, wide)
}

/// A table's rows, the first [`ROWS_SHOWN`] in view and the rest folded under `more`.
fn folded_table(head: &str, rows: &[String], more: &str) -> String {
    let mut s = format!("<table class=\"ops\"><thead><tr>{head}</tr></thead><tbody>");
    for r in rows.iter().take(ROWS_SHOWN) {
        s.push_str(r);
    }
    s.push_str("</tbody></table>");
    if rows.len() > ROWS_SHOWN {
        let _ = write!(
            s,
            "<details class=\"more\"><summary>{} {}</summary><table class=\"ops\"><thead><tr>{head}</tr></thead><tbody>",
            rows.len() - ROWS_SHOWN,
            esc(more)
        );
        for r in &rows[ROWS_SHOWN..] {
            s.push_str(r);
        }
        s.push_str("</tbody></table></details>");
    }
    s
}

/// Every operation, worst first; an operation with findings links to them.
fn operations_section(report: &Report) -> String {
    let (by_op, _) = split_findings(report);
    let ordered = super::api::worst_first(&report.operations);
    let anchors: HashMap<&str, usize> = ordered
        .iter()
        .filter(|o| by_op.contains_key(o.id.as_str()))
        .enumerate()
        .map(|(i, o)| (o.id.as_str(), i))
        .collect();
    let rows: Vec<String> = ordered
        .iter()
        .map(|o| {
            let id = match anchors.get(o.id.as_str()) {
                Some(i) => format!("<a href=\"#op{i}\"><code>{}</code></a>", esc(&o.id)),
                None => format!("<code>{}</code>", esc(&o.id)),
            };
            format!(
                "<tr><td>{id}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(o.declared_security.as_deref().unwrap_or("–")),
                esc(o.status.as_str()),
                grade_pill(o.grade.as_deref(), o.score),
                o.score.map_or("–".to_string(), |s| s.to_string()),
                by_op.get(o.id.as_str()).map_or(0, Vec::len),
                o.requests_sent
            )
        })
        .collect();
    format!(
        "<section><h2>Operations</h2><p class=\"muted\">{} · worst first: lowest score, then failed, then by id.</p>{}</section>",
        esc(&super::api::counts_line(&report.api_summary())),
        folded_table(
            "<th>Operation</th><th>Security</th><th>Status</th><th>Grade</th><th>Score</th><th>Findings</th><th>Requests</th>",
            &rows,
            "more operations"
        )
    )
}

fn findings_table(rows: &[(usize, &Finding)]) -> String {
    let mut s = String::from(
        "<table class=\"findings\"><thead><tr><th>Severity</th><th>Check</th><th>Finding</th><th>CWE</th><th>OWASP API</th></tr></thead><tbody>",
    );
    for (n, f) in rows {
        let sev = f.severity.as_str();
        let owasp: Vec<&str> = f
            .owasp
            .iter()
            .map(|o| o.split(' ').next().unwrap_or(o))
            .collect();
        let _ = write!(
            s,
            "<tr><td><span class=\"pill sev-{sev}\">{sev}</span></td><td><a href=\"#f{n}\"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.id),
            esc(&f.title),
            esc(&f.cwe.join(", ")),
            esc(&owasp.join(", "))
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// The findings: those run once for the whole API with what they cover, then a table per
/// operation worst first (the first [`GROUPS_SHOWN`] in view).
fn grouped_findings(report: &Report) -> String {
    let (by_op, wide) = split_findings(report);
    let mut groups: Vec<String> = Vec::new();
    let mut placed = std::collections::HashSet::new();
    for o in super::api::worst_first(&report.operations) {
        let Some(rows) = by_op.get(o.id.as_str()) else {
            continue;
        };
        placed.insert(o.id.as_str());
        groups.push(format!(
            "<h3 class=\"op-h\" id=\"op{}\"><code>{}</code>{}<span class=\"muted\">{} · {} finding{}</span></h3>{}",
            groups.len(),
            esc(&o.id),
            grade_pill(o.grade.as_deref(), o.score),
            o.score.map_or("no score".to_string(), |s| format!("{s}/100")),
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            findings_table(rows)
        ));
    }
    // Findings naming an operation the report does not list still show, under its name.
    for f in &report.findings {
        if let Some(op) = super::api::owning_operation(report, f).filter(|op| placed.insert(*op)) {
            groups.push(format!(
                "<h3 class=\"op-h\"><code>{}</code></h3>{}",
                esc(op),
                findings_table(&by_op[op])
            ));
        }
    }
    let mut s = String::new();
    if !wide.is_empty() {
        s.push_str("<h3 class=\"op-h\">API-wide <span class=\"muted\">deep suites, run once for the whole API</span></h3>");
        s.push_str(&findings_table(&wide));
        for (_, f) in &wide {
            if f.operations.len() > 1 {
                let _ = write!(s, "<div class=\"on\"><code>{}</code> ", esc(&f.id));
                s.push_str(&operations_line(f));
                s.push_str("</div>");
            }
        }
    }
    for g in groups.iter().take(GROUPS_SHOWN) {
        s.push_str(g);
    }
    if groups.len() > GROUPS_SHOWN {
        let _ = write!(
            s,
            "<details class=\"more\"><summary>{} more operations with findings</summary>",
            groups.len() - GROUPS_SHOWN
        );
        for g in &groups[GROUPS_SHOWN..] {
            s.push_str(g);
        }
        s.push_str("</details>");
    }
    s
}

/// Every operation that was not probed, with why: none is dropped silently.
fn not_probed_section(report: &Report) -> String {
    let rows: Vec<String> = report
        .operations
        .iter()
        .filter(|o| o.status != super::api::OperationStatus::Probed)
        .map(|o| {
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&o.id),
                esc(o.status.as_str()),
                esc(o.reason.as_deref().unwrap_or("no reason given"))
            )
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "<section><h2>Not probed</h2><p class=\"muted\">{} operations were not probed (or not completely), each with why.</p>{}</section>",
        rows.len(),
        folded_table(
            "<th>Operation</th><th>Status</th><th>Why</th>",
            &rows,
            "more operations not probed"
        )
    )
}

macro_rules! base_css {
    () => {
        r#"
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#0f172a;background:#f8fafc}
.top{background:#0f172a;color:#e2e8f0;padding:18px 40px;display:flex;align-items:baseline;gap:16px;flex-wrap:wrap}
.top .brand{font-weight:700;font-size:18px;color:#fff;letter-spacing:.02em}
.top .target{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:15px;color:#f8fafc;word-break:break-all}
.top .meta{color:#94a3b8;font-size:13px;margin-left:auto}
main{max-width:1180px;margin:0 auto;padding:24px 40px 48px}
.summary{display:grid;grid-template-columns:260px minmax(0,1fr) minmax(0,1fr);gap:20px;align-items:start}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:16px 20px}
.card h2{margin:0 0 10px;font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:#475569}
.gauge .g-score{font-size:46px;font-weight:700;fill:#0f172a}
.gauge .g-sub{font-size:13px;fill:#64748b}
.grade{display:flex;align-items:center;gap:10px;margin-top:4px}
.grade .letter{font-size:30px;font-weight:800;width:48px;height:48px;border-radius:8px;color:#fff;display:flex;align-items:center;justify-content:center}
.caps{margin:8px 0 0;padding:0;list-style:none;font-size:12.5px;color:#7f1d1d}
.caps li{margin:3px 0}
.bars .b-label{font-size:14px;fill:#334155}
.card .legend{font-size:12px;color:#64748b;margin:6px 0 0}
.bars .b-value{font-size:12.5px;fill:#0f172a;font-weight:600}
section{margin-top:28px}
section>h2{font-size:18px;margin:0 0 12px}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #e2e8f0;border-radius:8px;overflow:hidden;font-size:13px}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #f1f5f9;vertical-align:top}
th{background:#f8fafc;color:#475569;font-weight:600}
td code{font-size:12.5px}
.pill{white-space:nowrap;display:inline-block;min-width:68px;text-align:center;padding:1px 8px;border-radius:999px;color:#fff;font-size:11.5px;font-weight:700;text-transform:uppercase;letter-spacing:.04em}
.sev-critical{background:#b91c1c}.sev-high{background:#ea580c}.sev-medium{background:#ca8a04}.sev-low{background:#2563eb}.sev-info{background:#64748b}
.finding{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:14px 20px;margin:0 0 14px;page-break-inside:avoid}
.finding header{display:flex;align-items:center;gap:10px;flex-wrap:wrap}
.finding h3{margin:0;font-size:15.5px;flex:1}
.fid{font-size:13px;color:#334155;background:#f1f5f9;padding:1px 6px;border-radius:4px}
.conf{font-size:12px;color:#64748b}
.chips{margin:6px 0 0}
.chip{display:inline-block;font-size:11.5px;color:#334155;border:1px solid #cbd5e1;border-radius:4px;padding:0 6px;margin:0 4px 2px 0}
.desc{margin:8px 0;white-space:pre-line}
.evidence{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.evidence .ev:last-child{grid-column:1/3}
.ev-label{font-size:11.5px;text-transform:uppercase;letter-spacing:.06em;color:#64748b;margin:4px 0 2px;font-weight:600}
pre{margin:0;background:#0f172a;color:#e2e8f0;padding:10px 12px;border-radius:6px;font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all;max-height:220px;overflow:auto}
.fix{margin-top:8px;border-left:3px solid #15803d;padding:2px 0 2px 12px}
.fix p{margin:2px 0 4px}
details summary{cursor:pointer;color:#1d4ed8;font-size:13px}
dl{margin:6px 0 0;display:grid;grid-template-columns:110px 1fr;gap:4px 12px;font-size:13px}
dt{font-weight:600;color:#334155}dd{margin:0}
.muted{color:#64748b}
.ok-box{background:#f0fdf4;border:1px solid #bbf7d0;color:#14532d;padding:14px 18px;border-radius:10px}
.suite{display:inline-block;font:11.5px ui-monospace,Menlo,Consolas,monospace;padding:0 5px;border-radius:3px;margin:1px 2px 1px 0;background:#f0fdf4;color:#14532d}
.suite.weak{background:#fef2f2;color:#991b1b}.suite.nofs{background:#fefce8;color:#713f12}
.yes{color:#15803d;font-weight:600}.no{color:#94a3b8}
.problem{color:#991b1b}
footer{margin-top:36px;color:#94a3b8;font-size:12px}
.ev-box{margin-top:6px}
.ev-box>summary{margin-bottom:4px}
td{overflow-wrap:anywhere}
@media (max-width:1000px){.summary{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}.summary .card:first-child{grid-column:1/3}}
@media (max-width:640px){
.top{padding:12px 14px}.top .meta{margin-left:0}
main{padding:14px 10px 32px}
.summary{grid-template-columns:minmax(0,1fr)}.summary .card:first-child{grid-column:auto}
.card{padding:12px 14px}
.evidence{grid-template-columns:minmax(0,1fr)}.evidence .ev:last-child{grid-column:auto}
.finding{padding:12px 12px}
table{display:block;overflow-x:auto}
th,td{padding:6px 6px}
.findings th:nth-child(n+4),.findings td:nth-child(n+4){display:none}
dl{grid-template-columns:minmax(0,1fr)}
}
@media print{body{background:#fff}.top{background:#fff;color:#0f172a}pre{max-height:none}}
.sc-a{background:#15803d}.sc-b{background:#65a30d}.sc-c{background:#ca8a04}.sc-d{background:#ea580c}.sc-f{background:#b91c1c}
"#
    };
}
const CSS: &str = base_css!();

/// Every rule the page and the [`fragment`] use (the whole-API ones too), for a host page
/// that serves them as its own stylesheet. Its `body`, `main`, `table`... selectors are
/// the standalone page's: a host scopes them under the element it wraps the fragment in.
pub const STYLE: &str = concat!(base_css!(), api_css!());

pub fn render(report: &Report) -> String {
    let whole_api = report.is_whole_api();
    let mut h = String::with_capacity(32 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<title>authprobe · {target} · grade {grade}</title><style>{CSS}{api_css}</style></head><body>",
        target = esc(&report.target),
        grade = esc(&report.grade),
        api_css = if whole_api { API_CSS } else { "" },
    );
    let _ = write!(
        h,
        "<div class=\"top\"><span class=\"brand\">authprobe</span><span class=\"target\">{}</span><span class=\"meta\">{} · {} requests · {:.1} s · {} {}</span></div><main>",
        esc(&report.target),
        human_date(&report.started_at, true),
        report.requests_sent,
        report.duration_ms as f64 / 1000.0,
        esc(&report.tool.name),
        esc(&report.tool.version),
    );

    h.push_str(&fragment(report));
    h.push_str("</main></body></html>\n");
    h
}

/// The report's content without the page around it (no `<html>`, `<head>`, `<style>`, nor
/// the top bar): what the dashboard shows inside its own page, styled by [`STYLE`]. It
/// carries no `style` attribute and no script, so a strict Content-Security-Policy holds.
pub fn fragment(report: &Report) -> String {
    let whole_api = report.is_whole_api();
    let mut h = String::with_capacity(32 * 1024);

    // Summary: the gauge and grade, then the two charts.
    h.push_str("<div class=\"summary\"><div class=\"card\"><h2>Score</h2>");
    h.push_str(&gauge(report.score, &report.grade));
    let _ = write!(
        h,
        "<div class=\"grade\"><span class=\"letter {}\">{}</span><span>{} findings · {} checks run</span></div>",
        score_class(report.score),
        esc(&report.grade),
        report.findings.len(),
        report.checks_run.len()
    );
    if !report.grade_caps.is_empty() {
        h.push_str("<ul class=\"caps\">");
        for c in &report.grade_caps {
            let _ = write!(
                h,
                "<li>capped at <b>{}</b>: {}</li>",
                esc(&c.grade),
                esc(&c.reason)
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</div><div class=\"card\"><h2>Findings by severity</h2>");
    h.push_str(&severity_chart(report));
    for w in &report.warnings {
        let _ = write!(
            h,
            "<p class=\"legend\"><strong>Warning:</strong> {}</p>",
            esc(w)
        );
    }
    let _ = write!(
        h,
        "<p class=\"legend\">{} checks run · {} inconclusive · {} not applicable</p>",
        report.checks_run.len(),
        report.inconclusive.len(),
        report.checks_skipped.len()
    );
    h.push_str("</div><div class=\"card\"><h2>Points lost by family</h2>");
    h.push_str(&family_chart(report));
    h.push_str("<p class=\"legend\">Each family is scored out of 100 on its own findings; the bar is what it lost, worst first (✗ = findings). Families with no check run are left out.</p>");
    h.push_str("</div></div>");

    if let Some(b) = &report.baseline {
        let _ = write!(
            h,
            "<p class=\"muted\">{} known finding{} suppressed by the baseline {}; only new ones are shown.</p>",
            b.suppressed,
            if b.suppressed == 1 { "" } else { "s" },
            esc(&b.file)
        );
    }

    if whole_api {
        h.push_str(&api_section(report));
        h.push_str(&operations_section(report));
    }

    h.push_str("<section><h2>Findings</h2>");
    if whole_api && !report.findings.is_empty() {
        h.push_str(&grouped_findings(report));
        h.push_str("</section><section><h2>Evidence and fixes</h2>");
        for (n, f) in report.findings.iter().enumerate() {
            h.push_str(&finding(f, n, true));
        }
    } else if report.findings.is_empty() {
        h.push_str("<div class=\"ok-box\">No findings: every check that applied passed.</div>");
    } else {
        // On a phone the CWE and OWASP columns give way; each finding's chips repeat them.
        let rows: Vec<(usize, &Finding)> = report.findings.iter().enumerate().collect();
        h.push_str(&findings_table(&rows));
        h.push_str("</section><section><h2>Evidence and fixes</h2>");
        for (n, f) in report.findings.iter().enumerate() {
            h.push_str(&finding(f, n, report.is_whole_api()));
        }
    }
    h.push_str("</section>");

    if let Some(t) = &report.tls {
        h.push_str(&tls_section(t));
    }

    if whole_api {
        h.push_str(&not_probed_section(report));
    }

    h.push_str(&passed_section(report));

    if !report.inconclusive.is_empty() || !report.checks_skipped.is_empty() {
        h.push_str("<section><h2>Not decided</h2><table><thead><tr><th>Check</th><th>Status</th><th>Why</th></tr></thead><tbody>");
        for (list, status) in [
            (&report.inconclusive, "inconclusive"),
            (&report.checks_skipped, "not applicable"),
        ] {
            for s in list {
                let _ = write!(
                    h,
                    "<tr><td><code>{}</code></td><td>{status}</td><td>{}</td></tr>",
                    esc(&s.id),
                    esc(&s.reason)
                );
            }
        }
        h.push_str("</tbody></table></section>");
    }
    let _ = write!(
        h,
        "<footer>Generated by {} {} · report schema {} · scoring: each finding costs points by severity (critical 40, high 20, medium 10, low 4; tentative half); grades capped by the worst finding.</footer>",
        esc(&report.tool.name),
        esc(&report.tool.version),
        report.schema_version
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(score: u32, whole_api: bool) -> Report {
        let mut r: Report = serde_json::from_value(serde_json::json!({
            "schema_version": 2,
            "tool": {"name": "authprobe", "version": "0.1.0"},
            "target": "https://api.example.test/<x>",
            "started_at": "2026-01-01T00:00:00Z",
            "duration_ms": 1200, "requests_sent": 10, "score": score, "grade": "C",
            "grade_caps": [], "categories": {"jwt": score},
            "findings": [{
                "id": "jwt.alg_none", "title": "t", "severity": "high", "confidence": "firm",
                "cwe": [], "owasp": [], "description": "d",
                "evidence": {"request": "GET /", "status": 200, "excerpt": "", "curl": "curl"},
                "remediation": {"summary": "s", "frameworks": {}},
                "operations": ["GET /a"]
            }],
            "checks_run": ["jwt.alg_none"], "checks_skipped": [], "inconclusive": []
        }))
        .unwrap();
        if whole_api {
            let mut op = super::super::api::OperationReport::new(
                "GET /a".into(),
                "GET".into(),
                "https://api.example.test/a".into(),
                super::super::api::OperationStatus::Probed,
            );
            op.grade = Some("C".into());
            op.score = Some(score);
            r.operations = vec![op];
        }
        r
    }

    #[test]
    fn the_fragment_is_the_page_body_without_style_attributes() {
        for (score, class) in [(95, "sc-a"), (72, "sc-c"), (10, "sc-f")] {
            for whole_api in [false, true] {
                let r = report(score, whole_api);
                let f = fragment(&r);
                let page = render(&r);
                assert!(!f.contains("style="), "{f}");
                assert!(!f.contains("<style") && !f.contains("<script"));
                assert!(f.contains(&format!("<span class=\"letter {class}\">")));
                if whole_api {
                    assert!(f.contains(&format!("<span class=\"grade-pill {class}\">C</span>")));
                }
                assert!(page.starts_with("<!DOCTYPE html>"));
                assert!(page.ends_with(&format!("<main>{f}</main></body></html>\n")));
                assert!(STYLE.contains(&format!(".{class}{{background:")));
                assert!(STYLE.contains(".grade-pill{") && STYLE.contains(".finding{"));
            }
        }
    }
}
