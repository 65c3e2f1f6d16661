//! The dashboard's pages, rendered on the server: pure functions from the store's rows to
//! HTML, no I/O. The service serves them under a strict Content-Security-Policy (no inline
//! style or script), so every page links [`stylesheet`] at `/static/app.css`, styles with
//! classes only, and the one script ([`LIVE_JS`], `/static/live.js`) only makes a scan's
//! progress live: every page reads and works without it.
//!
//! Every interpolated string is escaped: target names and URLs come from users, finding
//! titles from the scanned servers.

use crate::report::Report;
use crate::report::markup::escape as esc;
use crate::store::{
    CredentialKinds, Delivery, Diff, FindingRow, Millis, ScanRow, ScanStatus, Target,
    TargetSummary, Webhook,
};
use std::fmt::Write;

mod svg;
pub mod time;

pub use svg::{score_chart, score_grade, sparkline};

#[cfg(test)]
mod tests;

/// What every page's frame needs.
pub struct Chrome<'a> {
    pub title: &'a str,
    /// Logged-in user name; None on login/setup/error pages (no nav then).
    pub user: Option<&'a str>,
    /// The session's CSRF token, put in a hidden `csrf` input of EVERY form that POSTs
    /// (including logout).
    pub csrf: Option<&'a str>,
    /// A one-line notice shown at the top (e.g. "Scan 12 queued").
    pub flash: Option<&'a str>,
}

/// Where a running scan is, as the page first shows it (the live script updates it).
pub struct Progress {
    pub done: u32,
    pub total: u32,
    pub phase: String,
}

/// What the add-target form re-fills after an error. Only what is not secret: the
/// credentials (bearer token, Basic password, API keys, headers, client certificate and
/// key) are never sent back to the browser; their `*_set` flags only say the user entered
/// one, so the page can ask for it again.
#[derive(Clone, Debug, Default)]
pub struct NewTargetForm {
    pub name: String,
    pub url: String,
    pub spec: String,
    pub checks: String,
    pub schedule_minutes: String,
    pub schedule_cron: String,
    pub schedule_jitter_minutes: String,
    /// The Basic user name (not secret, like the login form's).
    pub basic_user: String,
    /// The server's CA certificate (public).
    pub server_ca_pem: String,
    pub bearer_set: bool,
    pub basic_password_set: bool,
    pub api_key_set: bool,
    pub header_set: bool,
    pub client_cert_set: bool,
    pub client_key_set: bool,
    /// The user unticked "Scan now" (the box is ticked by default).
    pub scan_later: bool,
}

/// The dashboard's own styles; [`stylesheet`] adds the report's, scoped.
pub const STYLE_CSS: &str = include_str!("style.css");

/// Live progress on a queued or running scan's page (Server-Sent Events).
pub const LIVE_JS: &str = include_str!("live.js");

/// What `/static/app.css` serves: [`STYLE_CSS`], then the report's CSS
/// ([`crate::report::html::STYLE`]) scoped under `.report`, the element the scan page
/// wraps the report in, so its `body`, `table`, `section`... rules stay inside it.
pub fn stylesheet() -> String {
    let mut s = String::with_capacity(STYLE_CSS.len() + 12 * 1024);
    s.push_str(STYLE_CSS);
    s.push_str("\n/* The scan report (report::html::STYLE), scoped under .report */\n");
    s.push_str(&scope_css(crate::report::html::STYLE, ".report"));
    s.push_str(REPORT_FRAME_CSS);
    s
}

/// After the scoped report CSS (whose `body` rule became `.report`'s): the report sits in
/// the page's flow on the page's background; in dark mode it keeps its light document
/// look, framed.
const REPORT_FRAME_CSS: &str = "\n.report{margin:8px 0 0;background:none}\n\
@media (prefers-color-scheme:dark){.report{background:#f8fafc;border-radius:12px;padding:4px 16px 16px}\
.report h2,.report h3{color:#0f172a}.report a{color:#1d4ed8}}\n";

/// Prefixes every selector of `css` with `scope` (`body`/`html` become the scope itself),
/// recursing into `@media` blocks. Enough for the report's flat CSS: no comments, no
/// braces inside strings.
pub fn scope_css(css: &str, scope: &str) -> String {
    let mut out = String::with_capacity(css.len() * 3 / 2);
    let mut rest = css;
    scope_block(&mut rest, scope, &mut out);
    out
}

fn scope_block(rest: &mut &str, scope: &str, out: &mut String) {
    loop {
        let trimmed = rest.trim_start();
        if trimmed.is_empty() {
            *rest = trimmed;
            return;
        }
        if let Some(after) = trimmed.strip_prefix('}') {
            *rest = after;
            return;
        }
        let Some(open) = trimmed.find('{') else {
            *rest = "";
            return;
        };
        let head = trimmed[..open].trim();
        *rest = &trimmed[open + 1..];
        if head.starts_with('@') {
            out.push_str(head);
            out.push('{');
            scope_block(rest, scope, out);
            out.push_str("}\n");
            continue;
        }
        let selectors: Vec<String> = head
            .split(',')
            .map(|sel| {
                let sel = sel.trim();
                match sel {
                    "html" | "body" => scope.to_string(),
                    _ => match sel.strip_prefix("body ") {
                        Some(inner) => format!("{scope} {inner}"),
                        None => format!("{scope} {sel}"),
                    },
                }
            })
            .collect();
        let close = rest.find('}').unwrap_or(rest.len());
        let _ = writeln!(out, "{}{{{}}}", selectors.join(","), &rest[..close]);
        *rest = rest.get(close + 1..).unwrap_or("");
    }
}

// ---------------------------------------------------------------------------------------
// The frame.

fn csrf_input(chrome: &Chrome) -> String {
    chrome.csrf.map_or_else(String::new, |t| {
        format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(t))
    })
}

/// A POST form: every one carries the CSRF token when the page has one.
fn post_form(chrome: &Chrome, action: &str, class: &str, inner: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\" class=\"{class}\">{}{inner}</form>",
        esc(action),
        csrf_input(chrome)
    )
}

fn scan_now_form(chrome: &Chrome, target_id: i64, primary: bool) -> String {
    post_form(
        chrome,
        &format!("/targets/{target_id}/scans"),
        "inline",
        &format!(
            "<button type=\"submit\" class=\"btn{}\">Scan now</button>",
            if primary { " btn-primary" } else { " btn-sm" }
        ),
    )
}

fn page(chrome: &Chrome, head_extra: &str, body: &str) -> String {
    let mut h = String::with_capacity(body.len() + 2048);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"referrer\" content=\"same-origin\">\
<title>{} · authprobe</title><link rel=\"stylesheet\" href=\"/static/app.css\">{head_extra}</head><body>",
        esc(chrome.title)
    );
    h.push_str("<header class=\"hdr\"><div class=\"hdr-in\"><a class=\"brand\" href=\"/\"><span class=\"brand-mark\" aria-hidden=\"true\"></span>authprobe</a>");
    if let Some(user) = chrome.user {
        let _ = write!(
            h,
            "<nav class=\"nav\"><a href=\"/\">Targets</a><a href=\"/targets/new\">Add target</a><a href=\"/webhooks\">Webhooks</a></nav><div class=\"who\"><span class=\"user\" title=\"Signed in\">{}</span>{}</div>",
            esc(user),
            post_form(
                chrome,
                "/logout",
                "inline",
                "<button type=\"submit\" class=\"btn-hdr\">Log out</button>"
            )
        );
    }
    h.push_str("</div></header>");
    if let Some(flash) = chrome.flash {
        let _ = write!(
            h,
            "<div class=\"flash\" role=\"status\"><div class=\"flash-in\">{}</div></div>",
            esc(flash)
        );
    }
    h.push_str("<main class=\"wrap\">");
    h.push_str(body);
    let _ = writeln!(
        h,
        "</main><footer class=\"foot\">authprobe {}</footer></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    h
}

// ---------------------------------------------------------------------------------------
// Small pieces.

fn grade_class(grade: &str) -> &'static str {
    match grade {
        "A" => "g-a",
        "B" => "g-b",
        "C" => "g-c",
        "D" => "g-d",
        "E" => "g-e",
        "F" => "g-f",
        _ => "g-none",
    }
}

/// The grade letter in its colour, with the score beside it (`big`: the scan page's).
pub fn grade_badge(grade: Option<&str>, score: Option<u32>, big: bool) -> String {
    let size = if big { " badge-lg" } else { "" };
    match (grade, score) {
        (Some(g), Some(s)) => format!(
            "<span class=\"score-cell\"><span class=\"badge{size} {}\" title=\"Grade {g}, score {s} of 100\">{g}</span><span class=\"score{}\">{s}</span></span>",
            grade_class(g),
            if big { " score-lg" } else { "" },
            g = esc(g),
        ),
        (Some(g), None) => format!(
            "<span class=\"badge{size} {}\">{}</span>",
            grade_class(g),
            esc(g)
        ),
        (None, Some(s)) => format!("<span class=\"score\">{s}</span>"),
        (None, None) if big => {
            "<span class=\"badge badge-lg g-none\" title=\"Not scanned yet\">–</span>".into()
        }
        (None, None) => "<span class=\"dim\">–</span>".into(),
    }
}

pub fn status_chip(status: ScanStatus) -> String {
    let s = status.as_str();
    format!("<span class=\"st st-{s}\">{s}</span>")
}

const SEVERITY_NAMES: [(&str, &str); 5] = [
    ("critical", "crit"),
    ("high", "high"),
    ("medium", "med"),
    ("low", "low"),
    ("info", "info"),
];

/// A finding's severity as a coloured chip.
pub fn severity_chip(severity: &str) -> String {
    let class = match severity {
        "critical" | "high" | "medium" | "low" | "info" => severity,
        _ => "info",
    };
    format!("<span class=\"sev sev-{class}\">{}</span>", esc(severity))
}

/// Counts by severity (critical, high, medium, low, info), the non-zero ones as chips.
fn severity_counts(counts: Option<[u32; 5]>) -> String {
    let Some(counts) = counts else {
        return "<span class=\"dim\">–</span>".into();
    };
    if counts.iter().all(|n| *n == 0) {
        return "<span class=\"clean\">no findings</span>".into();
    }
    let mut s = String::from("<span class=\"counts\">");
    for ((name, short), n) in SEVERITY_NAMES.iter().zip(counts) {
        if n > 0 {
            let _ = write!(
                s,
                "<span class=\"cnt sev-{name}\" title=\"{n} {name}\">{n} {short}</span>"
            );
        }
    }
    s.push_str("</span>");
    s
}

/// Credential kinds as tags: names only, never values.
fn credential_tags(k: &CredentialKinds) -> String {
    let mut tags: Vec<String> = Vec::new();
    if k.bearer {
        tags.push("bearer token".into());
    }
    if k.basic {
        tags.push("Basic".into());
    }
    for name in &k.api_keys {
        tags.push(format!("API key {name}"));
    }
    for name in &k.headers {
        tags.push(format!("header {name}"));
    }
    if k.client_certificate {
        tags.push("client certificate".into());
    }
    if k.server_ca {
        tags.push("server CA".into());
    }
    if tags.is_empty() {
        return "<span class=\"tag tag-none\">no credentials</span>".into();
    }
    tags.iter()
        .map(|t| format!("<span class=\"tag\">{}</span>", esc(t)))
        .collect()
}

fn interval_text(minutes: i64) -> String {
    match minutes {
        m if m > 0 && m % 1440 == 0 => {
            let d = m / 1440;
            if d == 1 {
                "every day".into()
            } else {
                format!("every {d} days")
            }
        }
        m if m > 0 && m % 60 == 0 => format!("every {} h", m / 60),
        m => format!("every {m} min"),
    }
}

/// `1 h 30 min`, `45 s`: a jitter.
fn seconds_text(s: i64) -> String {
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 {
        parts.push(format!("{m} min"));
    }
    if sec > 0 || parts.is_empty() {
        parts.push(format!("{sec} s"));
    }
    parts.join(" ")
}

/// The schedule as HTML: the interval or the cron expression (in UTC), and its jitter.
fn schedule_html(t: &Target) -> String {
    let base = match (t.schedule_minutes, t.schedule_cron.as_deref()) {
        (Some(m), _) => esc(&interval_text(m)),
        (None, Some(c)) => format!("cron <code>{}</code> (UTC)", esc(c)),
        (None, None) => return "on demand".into(),
    };
    match t.schedule_jitter_seconds {
        Some(j) if j > 0 => format!(
            "{base} <span class=\"dim\">· up to {} later, fixed for this target (jitter)</span>",
            esc(&seconds_text(j))
        ),
        _ => base,
    }
}

/// When the scheduler next scans the target: the time in UTC and how far off it is.
fn next_run_html(t: &Target, active: bool, now: Millis) -> String {
    match t.next_run_at {
        None if t.schedule_minutes.is_none() && t.schedule_cron.is_none() => {
            "<span class=\"dim\">not scheduled</span>".into()
        }
        None => "<span class=\"dim\">never</span>".into(),
        Some(_) if active => "<span class=\"dim\">after the scan in progress</span>".into(),
        Some(at) if at <= now => "due now".into(),
        Some(at) => format!(
            "{} <span class=\"dim\">{}</span>",
            time::tag(at, now),
            esc(&time::utc(at))
        ),
    }
}

fn scan_duration(scan: &ScanRow, now: Millis) -> String {
    if let Some(ms) = scan.duration_ms {
        return time::duration(ms);
    }
    match (scan.started_at, scan.finished_at) {
        (Some(a), Some(b)) => time::duration(b.saturating_sub(a).max(0) as u64),
        (Some(a), None) if matches!(scan.status, ScanStatus::Running) => format!(
            "{} so far",
            time::duration(now.saturating_sub(a).max(0) as u64)
        ),
        _ => "–".into(),
    }
}

fn opt_num<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "–".into(), |v| v.to_string())
}

fn is_active(s: ScanStatus) -> bool {
    matches!(s, ScanStatus::Queued | ScanStatus::Running)
}

// ---------------------------------------------------------------------------------------
// Login and setup.

/// `GET /login` (and `POST /login` re-rendered on error).
pub fn login(chrome: &Chrome, error: Option<&str>, username: &str, setup_needed: bool) -> String {
    let mut b = String::from(
        "<div class=\"auth\"><div class=\"panel auth-panel\"><h1>Sign in</h1><p class=\"dim\">The authprobe dashboard: scan results and history of your APIs' authentication.</p>",
    );
    if setup_needed {
        b.push_str("<div class=\"note\">No account exists yet. <a href=\"/setup\">Create the first account</a> with the admin API key.</div>");
    }
    if let Some(e) = error {
        let _ = write!(b, "<div class=\"alert\" role=\"alert\">{}</div>", esc(e));
    }
    b.push_str(&post_form(
        chrome,
        "/login",
        "stack",
        &format!(
            "<label for=\"username\">User name</label><input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" required autofocus value=\"{}\">\
<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\" class=\"btn btn-primary btn-wide\">Sign in</button>",
            esc(username)
        ),
    ));
    b.push_str("</div></div>");
    page(chrome, "", &b)
}

/// `GET /setup`: the first account, proven by the admin API key.
pub fn setup(chrome: &Chrome, error: Option<&str>, username: &str) -> String {
    let mut b = String::from(
        "<div class=\"auth\"><div class=\"panel auth-panel\"><h1>Create the first account</h1>\
<p class=\"dim\">Paste the admin API key that <code>authprobe serve</code> wrote to its key file when it first started (the server's log names the file): it proves you run this server.</p>",
    );
    if let Some(e) = error {
        let _ = write!(b, "<div class=\"alert\" role=\"alert\">{}</div>", esc(e));
    }
    b.push_str(&post_form(
        chrome,
        "/setup",
        "stack",
        &format!(
            "<label for=\"admin_key\">Admin API key</label><input id=\"admin_key\" name=\"admin_key\" type=\"password\" autocomplete=\"off\" required placeholder=\"ap_…\">\
<label for=\"username\">User name</label><input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" required value=\"{}\">\
<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required>\
<label for=\"password2\">Password again</label><input id=\"password2\" name=\"password2\" type=\"password\" autocomplete=\"new-password\" required>\
<button type=\"submit\" class=\"btn btn-primary btn-wide\">Create account</button>",
            esc(username)
        ),
    ));
    b.push_str("</div></div>");
    page(chrome, "", &b)
}

// ---------------------------------------------------------------------------------------
// Targets.

/// `GET /`: every target with its latest grade, trend and active scan.
pub fn targets(chrome: &Chrome, rows: &[TargetSummary], now: Millis) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<div class=\"page-head\"><div><h1>Targets</h1><p class=\"dim\">{} API{} under watch</p></div><a class=\"btn btn-primary\" href=\"/targets/new\">Add target</a></div>",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    if rows.is_empty() {
        b.push_str("<div class=\"panel empty\"><h2>No targets yet</h2>\
<p>A target is an API endpoint (or a whole API with its OpenAPI description) that authprobe scans for authentication flaws: JWT validation, mutual TLS, HTTP Basic and the TLS under them. Each scan scores it 0–100 and grades it A–F, and the history shows what changed.</p>\
<p><a class=\"btn btn-primary btn-lg\" href=\"/targets/new\">Add your first target</a></p>\
<p class=\"dim\">Scanning in CI instead? Send the results here with <code>authprobe scan URL --upload http://HOST:PORT</code>: each upload becomes a scan of the target with that URL.</p></div>");
        return page(chrome, "", &b);
    }
    b.push_str("<div class=\"table-wrap\"><table class=\"grid targets\"><thead><tr><th>Target</th><th>URL</th><th>Grade</th><th>Trend</th><th>Last scan</th><th>Findings</th><th class=\"act\">Scan</th></tr></thead><tbody>");
    for r in rows {
        let t = &r.target;
        let latest = r.latest.as_ref();
        let last = match latest {
            Some(l) => format!(
                "<a href=\"/scans/{}\">{}</a>",
                l.id,
                time::tag(l.finished_at.unwrap_or(l.created_at), now)
            ),
            None => "<span class=\"dim\">never</span>".into(),
        };
        let next = match t.next_run_at {
            Some(at) if r.active.is_none() => format!(
                "<div class=\"next-run dim small\">next {}</div>",
                if at <= now {
                    "due now".to_string()
                } else {
                    time::tag(at, now)
                }
            ),
            _ => String::new(),
        };
        let active = match &r.active {
            Some(a) => format!(
                "<a class=\"st-link\" href=\"/scans/{}\">{}</a>",
                a.id,
                status_chip(a.status)
            ),
            None => scan_now_form(chrome, t.id, false),
        };
        let _ = write!(
            b,
            "<tr><td class=\"name\"><a href=\"/targets/{id}\">{name}</a><div class=\"sub-url\"><code>{url}</code></div></td><td class=\"url\"><code>{url}</code></td><td>{grade}</td><td>{spark}</td><td class=\"nowrap\">{last}{next}</td><td>{counts}</td><td class=\"act\">{active}</td></tr>",
            id = t.id,
            name = esc(&t.name),
            url = esc(&t.url),
            grade = grade_badge(
                latest.and_then(|l| l.grade.as_deref()),
                latest.and_then(|l| l.score),
                false
            ),
            spark = sparkline(&r.recent_scores),
            counts = severity_counts(latest.and_then(|l| l.severities)),
        );
    }
    b.push_str("</tbody></table></div>");
    page(chrome, "", &b)
}

/// `GET /targets/{id}`: the target, its score over time, comparison and history.
pub fn target(
    chrome: &Chrome,
    summary: &TargetSummary,
    history: &[ScanRow],
    now: Millis,
) -> String {
    let t = &summary.target;
    let latest = summary.latest.as_ref();
    let mut b = String::new();
    let _ = write!(
        b,
        "<nav class=\"crumbs\"><a href=\"/\">Targets</a><span>/</span>{}</nav>",
        esc(&t.name)
    );
    let action = match &summary.active {
        Some(a) => format!(
            "<a class=\"btn\" href=\"/scans/{}\">Scan #{} {}</a>",
            a.id,
            a.id,
            status_chip(a.status)
        ),
        None => scan_now_form(chrome, t.id, true),
    };
    let _ = write!(
        b,
        "<div class=\"page-head\"><div class=\"title-block\"><div class=\"title-row\">{}<h1>{}</h1></div><p class=\"target-url\"><code>{}</code></p></div><div class=\"actions\">{action}</div></div>",
        grade_badge(
            latest.and_then(|l| l.grade.as_deref()),
            latest.and_then(|l| l.score),
            true
        ),
        esc(&t.name),
        esc(&t.url),
    );
    let _ = write!(
        b,
        "<div class=\"panel facts\"><dl class=\"kv\"><dt>Credentials</dt><dd>{}</dd><dt>Schedule</dt><dd>{}</dd><dt>Next scan</dt><dd>{}</dd><dt>API description</dt><dd>{}</dd><dt>Checks</dt><dd>{}</dd><dt>Added</dt><dd>{}</dd><dt>Latest findings</dt><dd>{}</dd></dl></div>",
        credential_tags(&t.credentials),
        schedule_html(t),
        next_run_html(t, summary.active.is_some(), now),
        match t.spec.as_deref() {
            None | Some("") => "none (a single URL)".into(),
            Some("auto") => "discovered (<code>auto</code>)".into(),
            Some(s) => format!("<code>{}</code>", esc(s)),
        },
        if t.checks.is_empty() {
            "all".into()
        } else {
            format!("<code>{}</code>", esc(&t.checks.join(", ")))
        },
        time::tag(t.created_at, now),
        severity_counts(latest.and_then(|l| l.severities)),
    );

    let done: Vec<&ScanRow> = history
        .iter()
        .filter(|s| s.status == ScanStatus::Done)
        .collect();
    let points: Vec<(Millis, u32)> = done
        .iter()
        .rev()
        .filter_map(|s| Some((s.finished_at.unwrap_or(s.created_at), s.score?)))
        .collect();

    b.push_str("<div class=\"cols\"><section class=\"panel chart-panel\"><h2>Score over time</h2>");
    b.push_str(&score_chart(&points));
    b.push_str("</section><section class=\"panel compare\"><h2>Compare scans</h2>");
    if done.len() >= 2 {
        let options = |selected: i64| -> String {
            done.iter()
                .map(|s| {
                    format!(
                        "<option value=\"{id}\"{sel}>#{id} · {} · {}</option>",
                        opt_num(s.score),
                        esc(&time::utc(s.finished_at.unwrap_or(s.created_at))),
                        id = s.id,
                        sel = if s.id == selected { " selected" } else { "" },
                    )
                })
                .collect()
        };
        let _ = write!(
            b,
            "<form method=\"get\" action=\"/targets/{}/diff\" class=\"stack\"><label for=\"from\">From</label><select id=\"from\" name=\"from\">{}</select><label for=\"to\">To</label><select id=\"to\" name=\"to\">{}</select><button type=\"submit\" class=\"btn\">Show what changed</button></form>",
            t.id,
            options(done[1].id),
            options(done[0].id)
        );
    } else {
        b.push_str("<p class=\"dim\">Two finished scans are needed to compare; each diff lists the new, fixed and unchanged findings.</p>");
    }
    b.push_str("</section></div>");

    b.push_str("<section class=\"panel\"><h2>History</h2>");
    if history.is_empty() {
        let _ = write!(
            b,
            "<div class=\"empty-inline\"><p><b>No scans yet.</b> The first scan takes a minute or two; the page follows it live.</p>{}</div>",
            if summary.active.is_none() {
                scan_now_form(chrome, t.id, true)
            } else {
                String::new()
            }
        );
    } else {
        b.push_str("<div class=\"table-wrap\"><table class=\"grid history\"><thead><tr><th>Scan</th><th>Status</th><th>Trigger</th><th>Created</th><th>Duration</th><th class=\"num\">Requests</th><th>Grade</th><th>Findings</th><th></th></tr></thead><tbody>");
        for (i, s) in history.iter().enumerate() {
            let diff = if s.status == ScanStatus::Done {
                history[i + 1..]
                    .iter()
                    .find(|p| p.status == ScanStatus::Done)
                    .map(|p| {
                        format!(
                            "<a href=\"/targets/{}/diff?from={}&amp;to={}\">diff vs #{}</a>",
                            t.id, p.id, s.id, p.id
                        )
                    })
                    .unwrap_or_default()
            } else {
                String::new()
            };
            let _ = write!(
                b,
                "<tr><td><a href=\"/scans/{id}\">#{id}</a></td><td>{}</td><td>{}</td><td class=\"nowrap\">{}</td><td class=\"nowrap\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"nowrap\">{diff}</td></tr>",
                status_chip(s.status),
                esc(&s.trigger),
                time::tag(s.created_at, now),
                scan_duration(s, now),
                opt_num(s.requests_sent),
                grade_badge(s.grade.as_deref(), s.score, false),
                severity_counts(s.severities),
                id = s.id,
            );
        }
        b.push_str("</tbody></table></div>");
    }
    b.push_str("</section>");

    let _ = write!(
        b,
        "<section class=\"panel danger\"><h2>Delete target</h2><p class=\"dim\">Deletes the target, its stored credentials and every scan, report and finding of it. This cannot be undone.</p>{}</section>",
        post_form(
            chrome,
            &format!("/targets/{}/delete", t.id),
            "row-form",
            "<label class=\"check\"><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> Yes, delete this target and its history</label><button type=\"submit\" class=\"btn btn-danger\">Delete target</button>"
        )
    );
    page(chrome, "", &b)
}

// ---------------------------------------------------------------------------------------
// A scan.

const FORMATS: [(&str, &str); 5] = [
    ("html", "HTML"),
    ("json", "JSON"),
    ("sarif", "SARIF"),
    ("junit", "JUnit XML"),
    ("markdown", "Markdown"),
];

/// `GET /scans/{id}`: the scan's header, then its report, its live progress or its error.
pub fn scan(
    chrome: &Chrome,
    target: &Target,
    scan: &ScanRow,
    report: Option<&Report>,
    progress: Option<Progress>,
    now: Millis,
) -> String {
    let active = is_active(scan.status);
    let mut b = String::new();
    let _ = write!(
        b,
        "<nav class=\"crumbs\"><a href=\"/\">Targets</a><span>/</span><a href=\"/targets/{}\">{}</a><span>/</span>Scan #{}</nav>",
        target.id,
        esc(&target.name),
        scan.id
    );
    let mut times = format!(
        "<dt>Created</dt><dd>{}</dd>",
        time::tag(scan.created_at, now)
    );
    if let Some(t) = scan.started_at {
        let _ = write!(times, "<dt>Started</dt><dd>{}</dd>", time::tag(t, now));
    }
    if let Some(t) = scan.finished_at {
        let _ = write!(times, "<dt>Finished</dt><dd>{}</dd>", time::tag(t, now));
    }
    let _ = write!(
        b,
        "<div class=\"panel scan-head\"><div class=\"scan-score\">{}</div><div class=\"scan-meta\"><div class=\"title-row\"><h1>Scan #{}</h1><span id=\"live-status\">{}</span></div><p class=\"target-url\"><a href=\"/targets/{}\">{}</a> · <code>{}</code></p><dl class=\"kv kv-inline\"><dt>Trigger</dt><dd>{}</dd>{times}<dt>Duration</dt><dd>{}</dd><dt>Requests</dt><dd>{}</dd><dt>Findings</dt><dd>{}</dd></dl></div></div>",
        if scan.status == ScanStatus::Done {
            grade_badge(scan.grade.as_deref(), scan.score, true)
        } else {
            format!(
                "<span class=\"badge badge-lg g-none\">{}</span>",
                if active { "…" } else { "–" }
            )
        },
        scan.id,
        status_chip(scan.status),
        target.id,
        esc(&target.name),
        esc(&target.url),
        esc(&scan.trigger),
        scan_duration(scan, now),
        opt_num(scan.requests_sent),
        severity_counts(scan.severities),
    );
    if let Some(from) = scan.requeued_from {
        let _ = write!(
            b,
            "<div class=\"note\">Re-queued after scan <a href=\"/scans/{from}\">#{from}</a> was interrupted.</div>"
        );
    }

    match scan.status {
        ScanStatus::Queued | ScanStatus::Running => {
            let (bar, text, phase) = match (&progress, scan.status) {
                (Some(p), _) if p.total > 0 => (
                    format!(
                        "<progress id=\"live-progress\" max=\"{}\" value=\"{}\"></progress>",
                        p.total,
                        p.done.min(p.total)
                    ),
                    format!("{} of {}", p.done.min(p.total), p.total),
                    esc(&p.phase),
                ),
                (p, ScanStatus::Running) => (
                    "<progress id=\"live-progress\"></progress>".to_string(),
                    "Starting…".to_string(),
                    p.as_ref().map(|p| esc(&p.phase)).unwrap_or_default(),
                ),
                _ => (
                    "<progress id=\"live-progress\"></progress>".to_string(),
                    "Waiting in the queue".to_string(),
                    "the scan starts when a worker is free".to_string(),
                ),
            };
            let _ = write!(
                b,
                "<section class=\"panel live\" id=\"live\" data-events=\"/scans/{}/events\"><h2>{}</h2>{bar}<p class=\"live-line\"><b id=\"live-text\">{text}</b> <span id=\"live-phase\" class=\"dim\">{phase}</span></p><p class=\"dim small\">This page updates by itself; the report shows here when the scan is done.</p></section>",
                scan.id,
                if scan.status == ScanStatus::Queued {
                    "Queued"
                } else {
                    "Scanning"
                }
            );
        }
        ScanStatus::Failed | ScanStatus::Interrupted => {
            let _ = write!(
                b,
                "<section class=\"panel error-panel\"><h2>{}</h2><pre class=\"err\">{}</pre>{}</section>",
                if scan.status == ScanStatus::Failed {
                    "The scan failed"
                } else {
                    "The scan was interrupted"
                },
                esc(scan.error.as_deref().unwrap_or("No reason was recorded.")),
                // An interrupted scan was re-queued by the server (its error names the
                // new scan): a second one would only be refused.
                if scan.status == ScanStatus::Failed {
                    scan_now_form(chrome, target.id, true)
                } else {
                    String::new()
                }
            );
        }
        ScanStatus::Done => {
            b.push_str("<div class=\"downloads\"><span class=\"dim\">Download the report:</span>");
            for (fmt, label) in FORMATS {
                let _ = write!(
                    b,
                    "<a class=\"btn btn-sm\" href=\"/api/v1/scans/{}/report?format={fmt}\" download>{label}</a>",
                    scan.id
                );
            }
            let _ = write!(
                b,
                "<a class=\"btn btn-sm\" href=\"/targets/{}\">History</a></div>",
                target.id
            );
            match report {
                Some(r) => {
                    b.push_str("<div class=\"report\">");
                    b.push_str(&crate::report::html::fragment(r));
                    b.push_str("</div>");
                }
                None => b.push_str(
                    "<div class=\"panel\"><p class=\"dim\">The report of this scan is not available.</p></div>",
                ),
            }
        }
    }
    let head = if active {
        "<script src=\"/static/live.js\" defer></script><noscript><meta http-equiv=\"refresh\" content=\"3\"></noscript>"
    } else {
        ""
    };
    page(chrome, head, &b)
}

// ---------------------------------------------------------------------------------------
// A diff.

fn findings_table(rows: &[FindingRow], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"dim empty-row\">{}</p>", esc(empty));
    }
    let mut s = String::from(
        "<div class=\"table-wrap\"><table class=\"grid findings-t\"><thead><tr><th>Severity</th><th>Check</th><th>Finding</th><th>Operation</th></tr></thead><tbody>",
    );
    for f in rows {
        let _ = write!(
            s,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            severity_chip(&f.severity),
            esc(&f.check_id),
            esc(&f.title),
            f.operation.as_deref().map_or_else(
                || "<span class=\"dim\">–</span>".into(),
                |o| format!("<code>{}</code>", esc(o))
            )
        );
    }
    s.push_str("</tbody></table></div>");
    s
}

/// `GET /targets/{id}/diff?from=A&to=B`: what changed between two finished scans.
pub fn diff(chrome: &Chrome, target: &Target, diff: &Diff, now: Millis) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<nav class=\"crumbs\"><a href=\"/\">Targets</a><span>/</span><a href=\"/targets/{}\">{}</a><span>/</span>Scan #{} → #{}</nav>",
        target.id,
        esc(&target.name),
        diff.from.id,
        diff.to.id
    );
    let side = |s: &ScanRow, label: &str| {
        format!(
            "<div class=\"side\"><div class=\"dim small\">{label}</div><a href=\"/scans/{id}\" class=\"side-id\">Scan #{id}</a>{}<div class=\"dim small\">{}</div></div>",
            grade_badge(s.grade.as_deref(), s.score, true),
            time::tag(s.finished_at.unwrap_or(s.created_at), now),
            id = s.id,
        )
    };
    let (delta_class, delta_text) = match diff.score_delta {
        d if d > 0 => ("delta-up", format!("+{d}")),
        d if d < 0 => ("delta-down", format!("−{}", d.unsigned_abs())),
        _ => ("delta-flat", "±0".to_string()),
    };
    let _ = write!(
        b,
        "<div class=\"page-head\"><div><h1>What changed</h1><p class=\"target-url\"><code>{}</code></p></div></div>\
<div class=\"panel diff-head\">{}<div class=\"arrow\"><span class=\"delta {delta_class}\" title=\"Score change\">{delta_text}</span><span class=\"dim small\">points</span></div>{}\
<div class=\"diff-sum\"><span class=\"cnt-new\">{} new</span><span class=\"cnt-fixed\">{} fixed</span><span class=\"cnt-same\">{} unchanged</span></div></div>",
        esc(&target.url),
        side(&diff.from, "From"),
        side(&diff.to, "To"),
        diff.new.len(),
        diff.fixed.len(),
        diff.unchanged.len(),
    );
    let _ = write!(
        b,
        "<section class=\"panel sect-new\"><h2>New <span class=\"count-pill\">{}</span></h2>{}</section>",
        diff.new.len(),
        findings_table(&diff.new, "No new findings.")
    );
    let _ = write!(
        b,
        "<section class=\"panel sect-fixed\"><h2>Fixed <span class=\"count-pill\">{}</span></h2>{}</section>",
        diff.fixed.len(),
        findings_table(&diff.fixed, "Nothing was fixed.")
    );
    let _ = write!(
        b,
        "<section class=\"panel sect-same\"><details{}><summary><h2>Unchanged <span class=\"count-pill\">{}</span></h2></summary>{}</details></section>",
        if diff.unchanged.len() <= 10 {
            " open"
        } else {
            ""
        },
        diff.unchanged.len(),
        findings_table(&diff.unchanged, "No finding is in both scans.")
    );
    page(chrome, "", &b)
}

// ---------------------------------------------------------------------------------------
// Adding a target.

fn again_hint(set: bool) -> &'static str {
    if set {
        "<span class=\"again\">Entered before: enter it again (secrets are never sent back to the browser).</span>"
    } else {
        ""
    }
}

/// `GET /targets/new`, and `POST /targets` re-rendered with `error`. Secret inputs are
/// always empty.
pub fn new_target(chrome: &Chrome, form: &NewTargetForm, error: Option<&str>) -> String {
    let mut b = String::from(
        "<nav class=\"crumbs\"><a href=\"/\">Targets</a><span>/</span>Add target</nav><div class=\"page-head\"><div><h1>Add a target</h1><p class=\"dim\">An API endpoint, or a whole API with its OpenAPI description, to scan now and over time.</p></div></div>",
    );
    if let Some(e) = error {
        let _ = write!(b, "<div class=\"alert\" role=\"alert\">{}</div>", esc(e));
    }
    let mut f = String::new();
    let _ = write!(
        f,
        "<section class=\"panel\"><h2>What to scan</h2><div class=\"form-grid\">\
<label for=\"url\">URL <span class=\"req\">required</span></label><div><input id=\"url\" name=\"url\" type=\"url\" required placeholder=\"https://api.example.com/v1/me\" value=\"{url}\"><p class=\"help\">A protected endpoint: the scan sends it requests with and without your credentials.</p></div>\
<label for=\"name\">Name</label><div><input id=\"name\" name=\"name\" type=\"text\" placeholder=\"Payments API (staging)\" value=\"{name}\"><p class=\"help\">Defaults to the URL's host.</p></div>\
<label for=\"spec\">API description</label><div><input id=\"spec\" name=\"spec\" type=\"text\" placeholder=\"auto, or https://api.example.com/openapi.json\" value=\"{spec}\"><p class=\"help\">Empty: scan the URL alone. <code>auto</code>: discover the OpenAPI document. A URL: scan every operation it describes.</p></div>\
<label for=\"checks\">Checks</label><div><input id=\"checks\" name=\"checks\" type=\"text\" placeholder=\"all\" value=\"{checks}\"><p class=\"help\">Comma-separated check ids or families (e.g. <code>jwt,tls</code>); empty runs them all.</p></div>\
</div></section>\
<section class=\"panel\"><h2>Schedule</h2><p class=\"dim\">Empty: scan only on demand. Otherwise an interval or a cron expression, not both; never more often than every {floor} minutes.</p><div class=\"form-grid\">\
<label for=\"schedule_minutes\">Rescan every</label><div><input id=\"schedule_minutes\" name=\"schedule_minutes\" type=\"number\" min=\"{floor}\" max=\"525600\" step=\"1\" inputmode=\"numeric\" placeholder=\"minutes\" value=\"{sched}\" class=\"short\"> <span class=\"dim\">minutes</span><p class=\"help\">Counted from the start of the last scan. 1440 is daily.</p></div>\
<label for=\"schedule_cron\">or at (cron)</label><div><input id=\"schedule_cron\" name=\"schedule_cron\" type=\"text\" spellcheck=\"false\" autocomplete=\"off\" placeholder=\"0 3 * * 1-5\" value=\"{cron}\"><p class=\"help\">Five fields, minute hour day-of-month month day-of-week, in <b>UTC</b>: <code>0 3 * * 1-5</code> is 03:00 UTC on weekdays.</p></div>\
<label for=\"schedule_jitter_minutes\">Jitter</label><div><input id=\"schedule_jitter_minutes\" name=\"schedule_jitter_minutes\" type=\"number\" min=\"0\" max=\"1440\" step=\"1\" inputmode=\"numeric\" placeholder=\"0\" value=\"{jitter}\" class=\"short\"> <span class=\"dim\">minutes at most</span><p class=\"help\">Each scheduled scan starts up to this much later, by an amount fixed for this target, so targets on the same schedule do not all start at once.</p></div>\
</div></section>",
        url = esc(&form.url),
        name = esc(&form.name),
        spec = esc(&form.spec),
        checks = esc(&form.checks),
        sched = esc(&form.schedule_minutes),
        cron = esc(&form.schedule_cron),
        jitter = esc(&form.schedule_jitter_minutes),
        floor = crate::store::schedule::MIN_MINUTES,
    );
    let _ = write!(
        f,
        "<section class=\"panel\"><h2>Credentials</h2><p class=\"dim\">What a legitimate client sends. They are encrypted at rest, used only to scan, and never shown again: the pages show only which kinds a target has.</p><div class=\"form-grid\">\
<label for=\"bearer\">Bearer token</label><div><input id=\"bearer\" name=\"bearer\" type=\"password\" autocomplete=\"off\" spellcheck=\"false\">{}</div>\
<label for=\"basic_user\">Basic user</label><div class=\"pair\"><input id=\"basic_user\" name=\"basic_user\" type=\"text\" autocomplete=\"off\" value=\"{}\"><input id=\"basic_password\" name=\"basic_password\" type=\"password\" autocomplete=\"off\" placeholder=\"password\" aria-label=\"Basic password\">{}</div>\
<label for=\"api_key\">API keys</label><div><textarea id=\"api_key\" name=\"api_key\" rows=\"2\" spellcheck=\"false\" autocomplete=\"off\" placeholder=\"X-Api-Key=…\"></textarea><p class=\"help\">One <code>NAME=VALUE</code> per line.</p>{}</div>\
<label for=\"header\">Headers</label><div><textarea id=\"header\" name=\"header\" rows=\"2\" spellcheck=\"false\" autocomplete=\"off\" placeholder=\"X-Tenant: acme\"></textarea><p class=\"help\">One <code>Name: value</code> per line, sent with every request.</p>{}</div>\
</div><details class=\"tls-creds\"{}><summary>Mutual TLS and server CA</summary><div class=\"form-grid\">\
<label for=\"client_cert_pem\">Client certificate</label><div><textarea id=\"client_cert_pem\" name=\"client_cert_pem\" rows=\"4\" spellcheck=\"false\" placeholder=\"-----BEGIN CERTIFICATE-----\"></textarea>{}</div>\
<label for=\"client_key_pem\">Client key</label><div><textarea id=\"client_key_pem\" name=\"client_key_pem\" rows=\"4\" spellcheck=\"false\" autocomplete=\"off\" placeholder=\"-----BEGIN PRIVATE KEY-----\"></textarea>{}</div>\
<label for=\"server_ca_pem\">Server CA</label><div><textarea id=\"server_ca_pem\" name=\"server_ca_pem\" rows=\"4\" spellcheck=\"false\" placeholder=\"-----BEGIN CERTIFICATE-----\">{}</textarea><p class=\"help\">The certificate that signs the API's server certificate, when it is not publicly trusted.</p></div>\
</div></details></section>",
        again_hint(form.bearer_set),
        esc(&form.basic_user),
        again_hint(form.basic_password_set),
        again_hint(form.api_key_set),
        again_hint(form.header_set),
        if form.client_cert_set || form.client_key_set || !form.server_ca_pem.is_empty() {
            " open"
        } else {
            ""
        },
        again_hint(form.client_cert_set),
        again_hint(form.client_key_set),
        esc(&form.server_ca_pem),
    );
    let _ = write!(
        f,
        "<div class=\"form-actions\"><label class=\"check\"><input type=\"checkbox\" name=\"scan_now\" value=\"1\"{}> Scan now</label><button type=\"submit\" class=\"btn btn-primary btn-lg\">Add target</button><a href=\"/\" class=\"btn btn-ghost\">Cancel</a></div>",
        if form.scan_later { "" } else { " checked" }
    );
    b.push_str(&post_form(chrome, "/targets", "target-form", &f));
    page(chrome, "", &b)
}

// ---------------------------------------------------------------------------------------
// Webhooks.

/// A webhook as its page lists it: the target it is limited to (if any) and its latest
/// deliveries, newest first.
pub struct WebhookRow {
    pub webhook: Webhook,
    pub target: Option<Target>,
    pub deliveries: Vec<Delivery>,
}

fn event_tags(w: &Webhook) -> String {
    let e = &w.events;
    let mut tags: Vec<String> = Vec::new();
    if e.new_findings {
        tags.push("new findings".into());
    }
    if e.fixed_findings {
        tags.push("fixed findings".into());
    }
    if let Some(points) = e.score_drop {
        tags.push(format!("score drop ≥ {points}"));
    }
    if e.grade_change {
        tags.push("grade change".into());
    }
    tags.iter()
        .map(|t| format!("<span class=\"tag\">{}</span>", esc(t)))
        .collect()
}

fn deliveries_table(rows: &[Delivery], now: Millis) -> String {
    if rows.is_empty() {
        return "<p class=\"dim empty-row\">Nothing sent yet: a delivery is queued when a scan of its target finishes with a change it listens for.</p>".into();
    }
    let mut s = String::from(
        "<div class=\"table-wrap\"><table class=\"grid\"><thead><tr><th>Delivery</th><th>Scan</th><th>Events</th><th>Status</th><th>Attempts</th><th>Last answer</th><th>Next attempt</th><th>Queued</th></tr></thead><tbody>",
    );
    for d in rows {
        let answer = match (d.last_status_code, d.last_error.as_deref()) {
            (_, Some(e)) => format!("<code>{}</code>", esc(e)),
            (Some(code), None) => code.to_string(),
            (None, None) => "<span class=\"dim\">–</span>".into(),
        };
        let _ = write!(
            s,
            "<tr><td>#{}</td><td><a href=\"/scans/{scan}\">#{scan}</a></td><td>{}</td><td><span class=\"st st-{status}\">{status}</span></td><td>{}</td><td>{answer}</td><td>{}</td><td>{}</td></tr>",
            d.id,
            esc(&d.events.join(", ")),
            d.attempts,
            d.next_attempt_at.map_or_else(
                || "<span class=\"dim\">–</span>".into(),
                |t| time::tag(t, now)
            ),
            time::tag(d.created_at, now),
            scan = d.scan_id,
            status = d.status.as_str(),
        );
    }
    s.push_str("</tbody></table></div>");
    s
}

const WEBHOOK_EXAMPLE: &str = "curl -H \"Authorization: Bearer $ADMIN_KEY\" -H 'content-type: application/json' \\\n  http://HOST:7878/api/v1/webhooks \\\n  -d '{\"url\": \"https://hooks.example.com/authprobe\", \"events\": {\"new_findings\": true, \"score_drop\": 5}}'";

/// `GET /webhooks`: every webhook and its latest deliveries. They are made through the
/// API (an admin key): the page only shows them.
pub fn webhooks(chrome: &Chrome, rows: &[WebhookRow], now: Millis) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<div class=\"page-head\"><div><h1>Webhooks</h1><p class=\"dim\">Signed POSTs to your endpoints when a finished scan differs from the previous one: new findings, fixed findings, a score drop, a grade change.</p></div></div>\
<div class=\"note\">Webhooks are created and deleted through the REST API with an admin API key (<code>POST /api/v1/webhooks</code>, <code>DELETE /api/v1/webhooks/{{id}}</code>); this page shows them and their deliveries. The signing secret is shown once, when a webhook is created. See <code>docs/webhooks.md</code>.</div>"
    );
    if rows.is_empty() {
        let _ = write!(
            b,
            "<div class=\"panel empty\"><h2>No webhooks yet</h2><p>Create one with the admin API key:</p><pre class=\"example\">{}</pre></div>",
            esc(WEBHOOK_EXAMPLE)
        );
        return page(chrome, "", &b);
    }
    for r in rows {
        let w = &r.webhook;
        let target = match &r.target {
            Some(t) => format!("<a href=\"/targets/{}\">{}</a>", t.id, esc(&t.name)),
            None if w.target_id.is_some() => "<span class=\"dim\">a deleted target</span>".into(),
            None => "every target".into(),
        };
        let _ = write!(
            b,
            "<section class=\"panel\"><div class=\"title-row\"><h2>Webhook #{}</h2><span class=\"tag\">{}</span></div>\
<dl class=\"kv\"><dt>Sends to</dt><dd><code>{}</code></dd><dt>Scans of</dt><dd>{target}</dd><dt>Fires on</dt><dd>{}</dd><dt>Created</dt><dd>{}</dd></dl>\
<div class=\"hook-log\"><h3>Latest deliveries</h3>{}</div></section>",
            w.id,
            w.format.as_str(),
            esc(&crate::service::webhooks::redacted_url(&w.url)),
            event_tags(w),
            time::tag(w.created_at, now),
            deliveries_table(&r.deliveries, now),
        );
    }
    page(chrome, "", &b)
}

// ---------------------------------------------------------------------------------------
// Errors.

/// 404, 403, 500...: what happened and the way back. Never a stack trace.
pub fn error_page(chrome: &Chrome, status: u16, heading: &str, detail: &str) -> String {
    let b = format!(
        "<div class=\"panel error-page\"><div class=\"status\">{status}</div><h1>{}</h1><p>{}</p><p><a class=\"btn btn-primary\" href=\"/\">Back to the targets</a></p></div>",
        esc(heading),
        esc(detail)
    );
    page(chrome, "", &b)
}
