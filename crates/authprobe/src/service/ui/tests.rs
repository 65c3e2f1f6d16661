use super::*;
use crate::finding::{Confidence, Evidence, Finding, RemediationText, Severity};
use crate::report::{GradeCap, Skipped, Tool};
use crate::store::{
    CredentialKinds, Delivery, DeliveryStatus, Diff, FindingRow, ScanRow, ScanStatus, Target,
    TargetSummary, Webhook, WebhookEvents, WebhookFormat,
};

const XSS: &str = "<script>alert(1)</script>";
const NOW: Millis = 1_765_022_050_000;
const MIN: Millis = 60_000;

fn nasty(s: &str) -> String {
    format!("{s} {XSS} \"q\" 'a' <img src=x onerror=alert(2)>")
}

fn a_target(id: i64, name: &str, url: &str) -> Target {
    Target {
        id,
        name: name.into(),
        url: url.into(),
        spec: Some("auto".into()),
        checks: vec!["jwt".into(), "tls".into()],
        schedule_minutes: Some(1440),
        schedule_cron: None,
        schedule_jitter_seconds: Some(600),
        next_run_at: Some(NOW + 3 * 60 * MIN),
        credentials: CredentialKinds {
            bearer: true,
            basic: false,
            api_keys: vec!["X-Api-Key".into()],
            headers: vec![],
            client_certificate: true,
            server_ca: false,
        },
        created_at: NOW - 40 * 86_400_000,
        updated_at: NOW - 86_400_000,
    }
}

fn a_scan(id: i64, target_id: i64, status: ScanStatus, score: u32, ago_min: i64) -> ScanRow {
    let done = status == ScanStatus::Done;
    let grade = super::score_grade(score).0;
    let created = NOW - ago_min * MIN;
    ScanRow {
        id,
        target_id,
        status,
        trigger: if id % 3 == 0 { "schedule" } else { "ui" }.into(),
        created_at: created,
        started_at: (status != ScanStatus::Queued).then_some(created + 2_000),
        finished_at: matches!(
            status,
            ScanStatus::Done | ScanStatus::Failed | ScanStatus::Interrupted
        )
        .then_some(created + 95_000),
        score: done.then_some(score),
        grade: done.then(|| grade.to_string()),
        findings: done.then_some(5),
        severities: done.then_some(if score >= 90 {
            [0, 0, 0, 1, 2]
        } else {
            [1, 2, 1, 0, 1]
        }),
        requests_sent: (status != ScanStatus::Queued).then_some(412),
        duration_ms: done.then_some(93_400),
        error: match status {
            ScanStatus::Failed => Some(nasty("connection refused:")),
            ScanStatus::Interrupted => {
                Some("the server stopped during the scan; re-queued as scan 41".into())
            }
            _ => None,
        },
        requeued_from: None,
        attempts: u32::from(status != ScanStatus::Queued),
        worker: None,
        run_after: None,
        heartbeat_at: None,
    }
}

fn a_finding(id: &str, severity: Severity, title: &str) -> Finding {
    Finding {
        id: id.into(),
        title: title.into(),
        severity,
        confidence: Confidence::Confirmed,
        cwe: vec!["CWE-347".into()],
        owasp: vec!["API2:2023 Broken Authentication".into()],
        description: format!("The server accepted a forged token. {}", nasty("It said")),
        evidence: Evidence {
            request: "GET /v1/me HTTP/1.1\nHost: api.example.test\nAuthorization: Bearer ${AUTHPROBE_FORGED}".into(),
            status: Some(200),
            excerpt: nasty("{\"user\":\"alice\"}"),
            curl: "curl -sk https://api.example.test/v1/me -H \"Authorization: Bearer ${AUTHPROBE_FORGED}\"".into(),
        },
        remediation: RemediationText {
            summary: "Verify the signature with the expected algorithm and key.".into(),
            frameworks: [("nginx".to_string(), "auth_jwt on;".to_string())].into(),
        },
        operations: vec![],
    }
}

fn a_report() -> Report {
    Report {
        schema_version: 2,
        tool: Tool {
            name: "authprobe".into(),
            version: "0.1.0".into(),
        },
        target: format!("https://api.example.test/v1/me?q={XSS}"),
        started_at: "2025-12-06T11:20:00Z".into(),
        duration_ms: 93_400,
        requests_sent: 412,
        score: 46,
        grade: "F".into(),
        grade_caps: vec![GradeCap {
            grade: "F".into(),
            reason: "1 critical finding".into(),
        }],
        categories: [
            ("jwt".to_string(), 40),
            ("tls".to_string(), 96),
            ("auth".to_string(), 100),
        ]
        .into(),
        findings: vec![
            a_finding(
                "jwt.alg_none",
                Severity::Critical,
                &nasty("The API accepts unsigned tokens"),
            ),
            a_finding(
                "jwt.expired_accepted",
                Severity::High,
                "Expired tokens are accepted",
            ),
            a_finding(
                "jwt.long_lifetime",
                Severity::Medium,
                "Tokens live longer than a day",
            ),
            a_finding("tls.hsts_missing", Severity::Low, "HSTS is not set"),
        ],
        checks_run: vec![
            "jwt.alg_none".into(),
            "jwt.expired_accepted".into(),
            "jwt.long_lifetime".into(),
            "tls.hsts_missing".into(),
            "auth.missing".into(),
            "jwt.key_confusion".into(),
        ],
        checks_skipped: vec![Skipped {
            id: "basic.no_lockout".into(),
            reason: "no Basic credentials were given".into(),
        }],
        inconclusive: vec![Skipped {
            id: "jwt.key_confusion".into(),
            reason: nasty("the two refusals look alike"),
        }],
        tls: None,
        client_auth: None,
        baseline: None,
        warnings: vec![],
        check_durations_ms: Default::default(),
        variables: Default::default(),
        api: None,
        operations: vec![],
    }
}

fn finding_row(check: &str, sev: &str, title: &str, op: Option<&str>) -> FindingRow {
    FindingRow {
        fingerprint: format!("fp-{check}"),
        check_id: check.into(),
        severity: sev.into(),
        title: title.into(),
        operation: op.map(str::to_string),
    }
}

fn a_diff(delta: i64) -> Diff {
    let from = a_scan(7, 1, ScanStatus::Done, 64, 3 * 1440);
    let mut to = a_scan(9, 1, ScanStatus::Done, 46, 30);
    to.score = Some((64 + delta).clamp(0, 100) as u32);
    Diff {
        from,
        to,
        new: vec![
            finding_row(
                "jwt.alg_none",
                "critical",
                &nasty("Unsigned tokens"),
                Some("GET /v1/me"),
            ),
            finding_row("jwt.long_lifetime", "medium", "Tokens live long", None),
        ],
        fixed: vec![finding_row(
            "tls.hsts_missing",
            "low",
            "HSTS is not set",
            None,
        )],
        unchanged: vec![finding_row(
            "auth.verbose_errors",
            "info",
            "Verbose errors",
            Some("POST /v1/orders"),
        )],
        score_delta: delta,
    }
}

fn chrome<'a>(title: &'a str, user: Option<&'a str>) -> Chrome<'a> {
    Chrome {
        title,
        user,
        csrf: user.map(|_| "tok-3f9a\"<x>"),
        flash: None,
    }
}

/// Every page, rendered with hostile strings wherever a user or a server could put them.
fn all_pages() -> Vec<(&'static str, String)> {
    let user = nasty("alice");
    let mut c = chrome("Targets", Some(&user));
    let flash = nasty("Scan 12 queued");
    c.flash = Some(&flash);
    let name = nasty("Payments");
    let url = format!("https://api.example.test/{XSS}");
    let t = a_target(1, &name, &url);
    let history = vec![
        a_scan(12, 1, ScanStatus::Running, 0, 1),
        a_scan(11, 1, ScanStatus::Done, 46, 60),
        a_scan(10, 1, ScanStatus::Failed, 0, 3 * 60),
        a_scan(9, 1, ScanStatus::Done, 64, 2 * 1440),
        a_scan(8, 1, ScanStatus::Done, 92, 9 * 1440),
    ];
    let summary = TargetSummary {
        target: t.clone(),
        latest: Some(history[1].clone()),
        recent_scores: vec![92, 64, 46],
        active: Some(history[0].clone()),
    };
    let idle = TargetSummary {
        target: Target {
            schedule_minutes: None,
            schedule_cron: Some(nasty("cron")),
            ..a_target(2, "Orders API", "https://orders.example.test/")
        },
        latest: None,
        recent_scores: vec![],
        active: None,
    };
    let report = a_report();
    let error = nasty("bad URL");
    let form = NewTargetForm {
        name: nasty("name"),
        url: nasty("url"),
        spec: nasty("spec"),
        checks: nasty("checks"),
        schedule_minutes: nasty("sched"),
        schedule_cron: nasty("cron"),
        schedule_jitter_minutes: nasty("jitter"),
        basic_user: nasty("user"),
        server_ca_pem: nasty("ca"),
        bearer_set: true,
        ..Default::default()
    };
    let progress = || Progress {
        done: 17,
        total: 52,
        phase: nasty("jwt.alg_none"),
    };
    vec![
        (
            "login",
            login(&chrome("Sign in", None), Some(&error), &user, true),
        ),
        ("setup", setup(&chrome("Set up", None), Some(&error), &user)),
        (
            "targets",
            targets(&c, &[summary.clone(), idle.clone()], NOW),
        ),
        ("targets-empty", targets(&c, &[], NOW)),
        ("target", target(&c, &summary, &history, NOW)),
        ("target-empty", target(&c, &idle, &[], NOW)),
        (
            "scan-done",
            scan(&c, &t, &history[1], Some(&report), None, NOW),
        ),
        (
            "scan-running",
            scan(&c, &t, &history[0], None, Some(progress()), NOW),
        ),
        (
            "scan-queued",
            scan(
                &c,
                &t,
                &a_scan(13, 1, ScanStatus::Queued, 0, 0),
                None,
                None,
                NOW,
            ),
        ),
        ("scan-failed", scan(&c, &t, &history[2], None, None, NOW)),
        (
            "scan-interrupted",
            scan(
                &c,
                &t,
                &a_scan(40, 1, ScanStatus::Interrupted, 0, 5),
                None,
                None,
                NOW,
            ),
        ),
        ("diff", diff(&c, &t, &a_diff(-18), NOW)),
        ("new-target", new_target(&c, &form, Some(&error))),
        ("webhooks", webhooks(&c, &webhook_rows(&t), NOW)),
        ("webhooks-empty", webhooks(&c, &[], NOW)),
        (
            "error",
            error_page(
                &chrome("Not found", None),
                404,
                &nasty("Not found"),
                &nasty("No such scan"),
            ),
        ),
    ]
}

fn a_webhook(id: i64, target_id: Option<i64>, url: &str, format: WebhookFormat) -> Webhook {
    Webhook {
        id,
        target_id,
        url: url.into(),
        events: WebhookEvents {
            new_findings: true,
            fixed_findings: false,
            score_drop: Some(5),
            grade_change: true,
        },
        format,
        created_at: NOW - 86_400_000,
    }
}

fn a_delivery(id: i64, status: DeliveryStatus, error: Option<&str>) -> Delivery {
    Delivery {
        id,
        webhook_id: 1,
        scan_id: 11,
        events: vec!["new_findings".into(), "grade_change".into()],
        status,
        attempts: if status == DeliveryStatus::Delivered {
            2
        } else {
            8
        },
        next_attempt_at: (status == DeliveryStatus::Pending).then_some(NOW + 40_000),
        last_status_code: Some(if status == DeliveryStatus::Delivered {
            200
        } else {
            500
        }),
        last_error: error.map(Into::into),
        created_at: NOW - 5 * MIN,
        delivered_at: (status == DeliveryStatus::Delivered).then_some(NOW - 4 * MIN),
    }
}

/// A target's webhook with a hostile answer in its log, a global Slack one, and one whose
/// target is gone.
fn webhook_rows(t: &Target) -> Vec<WebhookRow> {
    vec![
        WebhookRow {
            webhook: a_webhook(
                1,
                Some(t.id),
                "https://hooks.example.test/in",
                WebhookFormat::Json,
            ),
            target: Some(t.clone()),
            deliveries: vec![
                a_delivery(3, DeliveryStatus::Pending, Some(&nasty("answered 500"))),
                a_delivery(2, DeliveryStatus::Failed, Some("no answer within 10 s")),
                a_delivery(1, DeliveryStatus::Delivered, None),
            ],
        },
        WebhookRow {
            webhook: a_webhook(
                2,
                None,
                "https://hooks.slack.com/services/T0/B0/SLACKSECRETPART",
                WebhookFormat::Slack,
            ),
            target: None,
            deliveries: vec![],
        },
        WebhookRow {
            webhook: a_webhook(3, Some(99), "http://127.0.0.1:9/", WebhookFormat::Json),
            target: None,
            deliveries: vec![],
        },
    ]
}

#[test]
fn the_webhooks_page_shows_each_log_and_no_secret_url() {
    let c = chrome("Webhooks", Some("alice"));
    let t = a_target(1, "Payments", "https://p.test/");
    let h = webhooks(&c, &webhook_rows(&t), NOW);
    assert!(
        h.contains("href=\"/webhooks\">Webhooks</a>"),
        "the nav links it"
    );
    assert!(
        h.contains("POST /api/v1/webhooks"),
        "it says how to make one"
    );
    // Slack's URL path is the credential: only the origin shows.
    assert!(!h.contains("SLACKSECRETPART"));
    assert!(h.contains("https://hooks.slack.com/…"));
    assert!(h.contains("every target"));
    assert!(h.contains("a deleted target"));
    assert!(h.contains("<a href=\"/targets/1\">Payments</a>"));
    assert!(h.contains("score drop ≥ 5"));
    for status in ["pending", "failed", "delivered"] {
        assert!(
            h.contains(&format!("<span class=\"st st-{status}\">{status}</span>")),
            "{status}"
        );
    }
    assert!(h.contains("no answer within 10 s"));
    assert!(h.contains("<a href=\"/scans/11\">#11</a>"));
    assert_eq!(h.matches("Nothing sent yet").count(), 2);
    // No form: the page only shows.
    assert!(!h.contains("<form method=\"post\" action=\"/webhooks"));

    let empty = webhooks(&c, &[], NOW);
    assert!(empty.contains("No webhooks yet"));
    assert!(empty.contains("/api/v1/webhooks"));
    assert!(!empty.contains("<table"));
}

/// Every start tag of a page: `(name, the whole tag)`.
fn tags(h: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = h;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let end = rest.find('>').expect("every tag closes");
        let tag = &rest[..end];
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        out.push((name, tag.to_string()));
    }
    out
}

#[test]
fn hostile_strings_are_escaped_everywhere() {
    for (name, h) in all_pages() {
        let lower = h.to_ascii_lowercase();
        let scripts = lower.matches("<script").count();
        let ours = lower
            .matches("<script src=\"/static/live.js\" defer></script>")
            .count();
        assert_eq!(scripts, ours, "{name}: a <script> that is not ours");
        assert!(!lower.contains("<img"), "{name}: unescaped <img");
        assert!(!h.contains(XSS), "{name}: unescaped payload");
        assert!(
            h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{name}: the payload shows, escaped"
        );
        for (tag, whole) in tags(&h) {
            assert!(
                [
                    "html", "head", "meta", "title", "link", "script", "noscript", "body",
                    "header", "div", "a", "span", "nav", "form", "input", "button", "main",
                    "footer", "h1", "h2", "h3", "p", "code", "table", "thead", "tbody", "tr", "th",
                    "td", "svg", "title", "line", "circle", "polyline", "rect", "text", "time",
                    "section", "dl", "dt", "dd", "label", "select", "option", "details", "summary",
                    "progress", "pre", "b", "textarea", "ul", "li", "article", "path", "strong",
                ]
                .contains(&tag.as_str()),
                "{name}: unexpected tag <{whole}>"
            );
        }
    }
}

/// The attribute names of a start tag (quoted values skipped, so escaped text inside a
/// value is not mistaken for an attribute).
fn attr_names(tag: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = tag.split_once(char::is_whitespace).map_or("", |(_, r)| r);
    loop {
        rest = rest.trim_start();
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        if end == 0 {
            match rest.chars().next() {
                Some('/') => rest = &rest[1..],
                _ => break,
            }
            continue;
        }
        names.push(rest[..end].to_ascii_lowercase());
        rest = rest[end..].trim_start();
        if let Some(v) = rest.strip_prefix('=') {
            let v = v.trim_start();
            rest = match v.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let close = v[1..].find(q).expect("quoted value closes") + 2;
                    &v[close..]
                }
                _ => v.find(char::is_whitespace).map_or("", |i| &v[i..]),
            };
        }
    }
    names
}

#[test]
fn the_csp_holds_no_inline_style_or_script_or_handler() {
    assert_eq!(
        attr_names("input a=\"x onerror=1 style=2\" b c='d' e=f/"),
        ["a", "b", "c", "e"]
    );
    for (name, h) in all_pages() {
        assert!(!h.contains("<style"), "{name}: inline <style>");
        for (tag, whole) in tags(&h) {
            for attr in attr_names(&whole) {
                assert!(attr != "style", "{name}: style attribute in <{whole}>");
                assert!(!attr.starts_with("on"), "{name}: handler in <{whole}>");
            }
            if tag == "script" {
                assert!(whole.contains("src=\"/static/live.js\""), "{name}: {whole}");
            }
            if tag == "link" || tag == "a" || tag == "form" {
                assert!(
                    !whole.contains("http://") && !whole.contains("https://"),
                    "{name}: external reference in <{whole}>"
                );
            }
        }
    }
    // The report fragment alone: no style attribute (they were the grade colours).
    let f = crate::report::html::fragment(&a_report());
    assert!(!f.contains("style="), "{f}");
    assert!(!f.contains("<style") && !f.contains("<html") && !f.contains("<head>"));
    assert!(f.contains("class=\"letter sc-f\""));
}

#[test]
fn every_post_form_carries_the_csrf_token() {
    let token_input = "<input type=\"hidden\" name=\"csrf\" value=\"tok-3f9a&quot;&lt;x&gt;\">";
    let mut posts = 0;
    for (name, h) in all_pages() {
        let mut rest = h.as_str();
        while let Some(i) = rest.find("<form") {
            let end = rest[i..].find("</form>").expect("form closes") + i;
            let form = &rest[i..end];
            let open = &form[..form.find('>').unwrap()];
            if open.contains("method=\"post\"") {
                posts += 1;
                // Login and setup have no session (and no token) yet.
                if !name.starts_with("login") && !name.starts_with("setup") && name != "error" {
                    assert_eq!(form.matches("name=\"csrf\"").count(), 1, "{name}: {open}");
                    assert!(form.contains(token_input), "{name}: {form}");
                }
            } else {
                assert!(open.contains("method=\"get\""), "{name}: {open}");
                assert!(
                    !form.contains("name=\"csrf\""),
                    "{name}: token in a GET form"
                );
            }
            rest = &rest[end..];
        }
        if !["login", "setup", "error"].contains(&name) {
            assert!(h.contains("action=\"/logout\""), "{name}: log out");
        }
    }
    assert!(posts >= 15, "{posts}");
    // And a page with a session but a form-free body still has the logout form's token.
    let c = Chrome {
        title: "x",
        user: Some("bob"),
        csrf: Some("T"),
        flash: None,
    };
    let h = error_page(&c, 403, "Forbidden", "no");
    assert_eq!(h.matches("<form").count(), 1);
    assert!(h.contains("name=\"csrf\" value=\"T\""));
}

#[test]
fn secrets_are_never_refilled() {
    const CANARY: &str = "CANARY-9c1e";
    let form = NewTargetForm {
        name: "n".into(),
        url: "https://x.test/".into(),
        bearer_set: true,
        basic_password_set: true,
        api_key_set: true,
        header_set: true,
        client_cert_set: true,
        client_key_set: true,
        ..Default::default()
    };
    let c = chrome("Add target", Some("alice"));
    let h = new_target(&c, &form, Some("the URL does not answer"));
    assert!(!h.contains(CANARY));
    for (tag, whole) in tags(&h) {
        let named = |n: &str| whole.contains(&format!("name=\"{n}\""));
        if tag == "input" && (named("bearer") || named("basic_password")) {
            assert!(whole.contains("type=\"password\""), "{whole}");
            assert!(!whole.contains("value="), "{whole}");
        }
    }
    for field in ["api_key", "header", "client_cert_pem", "client_key_pem"] {
        let at = h.find(&format!("name=\"{field}\"")).unwrap();
        let open_end = h[at..].find('>').unwrap() + at + 1;
        assert!(
            h[open_end..].starts_with("</textarea>"),
            "{field} is empty: {}",
            &h[at..open_end + 20]
        );
    }
    // They ask for them again.
    assert_eq!(h.matches("Entered before").count(), 6);
    // Every field name the service parses is there.
    for field in [
        "csrf",
        "name",
        "url",
        "spec",
        "checks",
        "schedule_minutes",
        "schedule_cron",
        "schedule_jitter_minutes",
        "bearer",
        "basic_user",
        "basic_password",
        "api_key",
        "header",
        "client_cert_pem",
        "client_key_pem",
        "server_ca_pem",
        "scan_now",
    ] {
        assert!(h.contains(&format!("name=\"{field}\"")), "{field}");
    }
    assert!(h.contains("name=\"scan_now\" value=\"1\" checked"));
    let later = new_target(
        &c,
        &NewTargetForm {
            scan_later: true,
            ..Default::default()
        },
        None,
    );
    assert!(!later.contains("checked"));
    assert!(!later.contains("role=\"alert\""));
}

#[test]
fn empty_states() {
    let c = chrome("Targets", Some("alice"));
    let h = targets(&c, &[], NOW);
    assert!(h.contains("Add your first target"));
    assert!(h.contains("href=\"/targets/new\""));
    assert!(h.contains("--upload http://HOST:PORT"));
    assert!(!h.contains("<table"));

    let idle = TargetSummary {
        target: a_target(2, "Orders", "https://o.test/"),
        latest: None,
        recent_scores: vec![],
        active: None,
    };
    let h = target(&c, &idle, &[], NOW);
    assert!(h.contains("No scans yet"));
    assert!(h.contains("action=\"/targets/2/scans\""));
    assert!(h.contains("No finished scans yet"));
    assert!(h.contains("Two finished scans are needed"));
    assert!(h.contains("action=\"/targets/2/delete\""));
    assert!(h.contains("name=\"confirm\""));

    let mut d = a_diff(0);
    d.new.clear();
    d.fixed.clear();
    d.unchanged.clear();
    let h = diff(&c, &idle.target, &d, NOW);
    assert!(h.contains("No new findings."));
    assert!(h.contains("Nothing was fixed."));
    assert!(h.contains("delta-flat\" title=\"Score change\">±0<"));
}

#[test]
fn target_page_compares_and_links_diffs() {
    let c = chrome("T", Some("alice"));
    let history = vec![
        a_scan(12, 1, ScanStatus::Done, 80, 10),
        a_scan(11, 1, ScanStatus::Failed, 0, 60),
        a_scan(10, 1, ScanStatus::Done, 70, 120),
        a_scan(9, 1, ScanStatus::Done, 60, 240),
    ];
    let s = TargetSummary {
        target: a_target(1, "API", "https://a.test/"),
        latest: Some(history[0].clone()),
        recent_scores: vec![60, 70, 80],
        active: None,
    };
    let h = target(&c, &s, &history, NOW);
    // Compare form defaults: previous done scan → latest.
    let from = &h[h.find("name=\"from\"").unwrap()..];
    let from = &from[..from.find("</select>").unwrap()];
    assert!(from.contains("<option value=\"10\" selected>"), "{from}");
    let to = &h[h.find("name=\"to\"").unwrap()..];
    let to = &to[..to.find("</select>").unwrap()];
    assert!(to.contains("<option value=\"12\" selected>"), "{to}");
    assert!(!to.contains("value=\"11\""), "failed scans are not offered");
    // Per-row diff links skip the failed scan; the oldest has none.
    assert!(h.contains("href=\"/targets/1/diff?from=10&amp;to=12\""));
    assert!(h.contains("href=\"/targets/1/diff?from=9&amp;to=10\""));
    assert_eq!(h.matches("/diff?from=").count(), 2);
    // The chart: one dot per done scan.
    let chart = &h[h.find("<svg class=\"chart\"").unwrap()..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    assert_eq!(chart.matches("<circle").count(), 3);
    // Credential kinds by name.
    for t in ["bearer token", "API key X-Api-Key", "client certificate"] {
        assert!(
            h.contains(&format!("<span class=\"tag\">{t}</span>")),
            "{t}"
        );
    }
    assert!(h.contains("every day"));
}

#[test]
fn schedules_and_next_runs_show() {
    let c = chrome("T", Some("alice"));
    let page_of = |t: Target, active: Option<ScanRow>| {
        let s = TargetSummary {
            target: t,
            latest: None,
            recent_scores: vec![],
            active,
        };
        target(&c, &s, &[], NOW)
    };
    let facts = |h: &str| {
        let at = h.find("<dt>Schedule</dt>").unwrap();
        h[at..at + h[at..].find("</dl>").unwrap()].to_string()
    };

    // An interval with jitter; the next run in 3 h, with its time in UTC.
    let daily = a_target(1, "API", "https://a.test/");
    let h = facts(&page_of(daily.clone(), None));
    assert!(h.contains("every day"), "{h}");
    assert!(h.contains("up to 10 min later"), "{h}");
    assert!(h.contains("<dt>Next scan</dt>"), "{h}");
    assert!(h.contains(">in 3 h</time>"), "{h}");
    assert!(h.contains(&time::utc(NOW + 3 * 60 * MIN)), "{h}");

    // A cron expression, said to be in UTC; no jitter shown when there is none.
    let weekdays = Target {
        schedule_minutes: None,
        schedule_cron: Some("0 3 * * 1-5".into()),
        schedule_jitter_seconds: None,
        next_run_at: Some(NOW + 20 * MIN),
        ..daily.clone()
    };
    let h = facts(&page_of(weekdays.clone(), None));
    assert!(h.contains("cron <code>0 3 * * 1-5</code> (UTC)"), "{h}");
    assert!(!h.contains("jitter"), "{h}");
    assert!(h.contains(">in 20 min</time>"), "{h}");

    // Due, or waiting for the scan in progress.
    let due = Target {
        next_run_at: Some(NOW - MIN),
        ..weekdays.clone()
    };
    assert!(facts(&page_of(due.clone(), None)).contains("<dd>due now</dd>"));
    let busy = facts(&page_of(
        due.clone(),
        Some(a_scan(3, 1, ScanStatus::Running, 0, 1)),
    ));
    assert!(busy.contains("after the scan in progress"), "{busy}");

    // No schedule.
    let manual = Target {
        schedule_minutes: None,
        schedule_cron: None,
        next_run_at: None,
        ..daily.clone()
    };
    let h = facts(&page_of(manual.clone(), None));
    assert!(
        h.contains("on demand") && h.contains("not scheduled"),
        "{h}"
    );

    // The list: the next run under the last scan, for idle scheduled targets only.
    let row = |t: Target, active: Option<ScanRow>| TargetSummary {
        target: t,
        latest: None,
        recent_scores: vec![],
        active,
    };
    let h = targets(
        &c,
        &[
            row(
                Target {
                    id: 1,
                    ..daily.clone()
                },
                None,
            ),
            row(Target { id: 2, ..due }, None),
            row(Target { id: 3, ..manual }, None),
            row(
                Target { id: 4, ..weekdays },
                Some(a_scan(5, 4, ScanStatus::Queued, 0, 0)),
            ),
        ],
        NOW,
    );
    assert_eq!(h.matches("class=\"next-run dim small\"").count(), 2, "{h}");
    assert!(h.contains("next <time"), "{h}");
    assert!(h.contains(">in 3 h</time>"), "{h}");
    assert!(h.contains("next due now"), "{h}");
}

#[test]
fn the_form_offers_an_interval_a_cron_expression_and_a_jitter() {
    let c = chrome("Add", Some("alice"));
    let form = NewTargetForm {
        schedule_cron: "0 3 * * 1-5".into(),
        schedule_jitter_minutes: "15".into(),
        ..Default::default()
    };
    let h = new_target(&c, &form, None);
    assert!(
        h.contains("name=\"schedule_minutes\" type=\"number\" min=\"5\""),
        "the floor"
    );
    assert!(h.contains("name=\"schedule_cron\" type=\"text\""));
    assert!(h.contains("value=\"0 3 * * 1-5\""), "refilled");
    assert!(h.contains("name=\"schedule_jitter_minutes\" type=\"number\" min=\"0\" max=\"1440\""));
    assert!(h.contains("value=\"15\""), "refilled");
    assert!(h.contains("in <b>UTC</b>"));
}

#[test]
fn scan_pages_by_status() {
    let c = chrome("Scan", Some("alice"));
    let t = a_target(1, "API", "https://a.test/");
    let refresh = "<noscript><meta http-equiv=\"refresh\" content=\"3\"></noscript>";

    let q = scan(
        &c,
        &t,
        &a_scan(5, 1, ScanStatus::Queued, 0, 0),
        None,
        None,
        NOW,
    );
    assert!(q.contains(refresh));
    assert!(q.contains("id=\"live\" data-events=\"/scans/5/events\""));
    assert!(q.contains("Waiting in the queue"));
    assert!(q.contains("<progress id=\"live-progress\"></progress>"));

    let p = Progress {
        done: 70,
        total: 52,
        phase: "tls".into(),
    };
    let r = scan(
        &c,
        &t,
        &a_scan(6, 1, ScanStatus::Running, 0, 1),
        None,
        Some(p),
        NOW,
    );
    assert!(r.contains(refresh));
    assert!(r.contains("<progress id=\"live-progress\" max=\"52\" value=\"52\"></progress>"));

    let done = a_scan(7, 1, ScanStatus::Done, 46, 30);
    let d = scan(&c, &t, &done, Some(&a_report()), None, NOW);
    assert!(!d.contains("refresh") && !d.contains("<script"));
    assert!(d.contains("<div class=\"report\">"));
    assert!(d.contains("<article class=\"finding\""));
    for f in ["json", "sarif", "junit", "markdown", "html"] {
        assert!(
            d.contains(&format!("href=\"/api/v1/scans/7/report?format={f}\"")),
            "{f}"
        );
    }
    let missing = scan(&c, &t, &done, None, None, NOW);
    assert!(missing.contains("not available"));

    let f = scan(
        &c,
        &t,
        &a_scan(8, 1, ScanStatus::Failed, 0, 30),
        None,
        None,
        NOW,
    );
    assert!(f.contains("The scan failed"));
    assert!(f.contains("connection refused:"));
    assert!(!f.contains("refresh"));
    let mut requeued = a_scan(41, 1, ScanStatus::Queued, 0, 1);
    requeued.requeued_from = Some(40);
    let rq = scan(&c, &t, &requeued, None, None, NOW);
    assert!(rq.contains("href=\"/scans/40\""));
    let i = scan(
        &c,
        &t,
        &a_scan(40, 1, ScanStatus::Interrupted, 0, 5),
        None,
        None,
        NOW,
    );
    assert!(i.contains("interrupted") && i.contains("re-queued as scan 41"));
    assert!(
        !i.contains("action=\"/targets/1/scans\""),
        "it was re-queued already"
    );
    assert!(
        f.contains("action=\"/targets/1/scans\""),
        "a failed scan can be retried"
    );
}

#[test]
fn diff_sections_and_delta_sign() {
    let c = chrome("Diff", Some("alice"));
    let t = a_target(1, "API", "https://a.test/");
    let down = diff(&c, &t, &a_diff(-18), NOW);
    assert!(down.contains("<span class=\"delta delta-down\" title=\"Score change\">−18</span>"));
    let sect = |h: &str, class: &str| -> String {
        let at = h
            .find(&format!("<section class=\"panel {class}\""))
            .unwrap();
        h[at..at + h[at..].find("</section>").unwrap()].to_string()
    };
    let new = sect(&down, "sect-new");
    assert_eq!(new.matches("<tr>").count(), 3, "header + 2");
    assert!(new.contains("<span class=\"sev sev-critical\">critical</span>"));
    assert!(new.contains("<code>GET /v1/me</code>"));
    assert!(sect(&down, "sect-fixed").contains("tls.hsts_missing"));
    assert!(sect(&down, "sect-same").contains("<details open>"));
    assert!(down.contains("2 new") && down.contains("1 fixed") && down.contains("1 unchanged"));
    let up = diff(&c, &t, &a_diff(12), NOW);
    assert!(up.contains("<span class=\"delta delta-up\" title=\"Score change\">+12</span>"));
    let mut many = a_diff(0);
    many.unchanged = (0..11)
        .map(|i| finding_row(&format!("c{i}"), "low", "t", None))
        .collect();
    assert!(diff(&c, &t, &many, NOW).contains("<details>"));
}

/// Elements nest and close: a small check that an SVG is well-formed.
fn assert_balanced(svg: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        let end = rest[i..].find('>').unwrap() + i;
        let tag = &rest[i + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "{svg}");
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap().to_string());
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "{svg}");
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
}

fn polyline_points(svg: &str) -> usize {
    svg.find("points=\"").map_or(0, |at| {
        let rest = &svg[at + 8..];
        rest[..rest.find('"').unwrap()].split(' ').count()
    })
}

#[test]
fn sparkline_draws_every_point() {
    for scores in [vec![], vec![77], vec![40, 95], vec![100, 0, 55, 70, 90, 12]] {
        let s = sparkline(&scores);
        assert!(s.starts_with("<svg class=\"spark\"") && s.ends_with("</svg>"));
        assert!(s.contains("width=\"100\" height=\"24\""));
        assert_balanced(&s);
        match scores.len() {
            0 => assert!(s.contains("No scores yet") && !s.contains("<circle")),
            1 => {
                assert_eq!(polyline_points(&s), 0);
                assert_eq!(s.matches("<circle").count(), 1);
            }
            n => {
                assert_eq!(polyline_points(&s), n);
                assert_eq!(s.matches("<circle").count(), 1, "the last one dotted");
            }
        }
    }
    // 100 at the top, 0 at the bottom.
    let s = sparkline(&[100, 0]);
    assert!(s.contains("points=\"3.0,2.0 97.0,22.0\""), "{s}");
}

#[test]
fn score_chart_draws_every_point_with_bands_and_axes() {
    let day = 86_400_000;
    for n in [0usize, 1, 2, 7] {
        let points: Vec<(Millis, u32)> = (0..n)
            .map(|i| (NOW - (n - i) as i64 * day, (30 + 10 * i as u32).min(100)))
            .collect();
        let s = score_chart(&points);
        assert!(s.starts_with("<svg class=\"chart\"") && s.ends_with("</svg>"));
        assert_balanced(&s);
        assert_eq!(s.matches("<circle").count(), n);
        assert_eq!(s.matches("<title>").count(), n, "a tooltip per point");
        assert_eq!(polyline_points(&s), if n >= 2 { n } else { 0 });
        for band in ["A", "B", "C", "D", "E", "F"] {
            assert!(s.contains("class=\"band\" fill=\""), "{band}");
            assert!(s.contains(&format!(">{band}</text>")), "{band}");
        }
        for tick in [">0<", ">50<", ">100<"] {
            assert!(s.contains(tick));
        }
        if n == 0 {
            assert!(s.contains("No finished scans yet"));
        } else {
            assert!(s.contains(&time::date(points[0].0)) || s.contains(&time::utc(points[0].0)));
        }
    }
    // Same instant twice: spread by index, no division by zero.
    let s = score_chart(&[(NOW, 50), (NOW, 60)]);
    assert_balanced(&s);
    assert_eq!(polyline_points(&s), 2);
    // Grade bands follow report::score::grade_for.
    assert_eq!(score_grade(90).0, "A");
    assert_eq!(score_grade(89).0, "B");
    assert_eq!(score_grade(50).0, "E");
    assert_eq!(score_grade(49).0, "F");
}

#[test]
fn the_report_css_is_scoped() {
    let css = scope_css(
        "*{box-sizing:border-box}\nbody{margin:0}\nth,td{padding:1px}\n@media (max-width:640px){\nmain{padding:0}.a .b{x:y}\n}\n@media print{body{background:#fff}pre{max-height:none}}\n",
        ".report",
    );
    assert_eq!(
        css,
        ".report *{box-sizing:border-box}\n.report{margin:0}\n.report th,.report td{padding:1px}\n@media (max-width:640px){.report main{padding:0}\n.report .a .b{x:y}\n}\n@media print{.report{background:#fff}\n.report pre{max-height:none}\n}\n"
    );
    let all = stylesheet();
    assert!(all.starts_with(STYLE_CSS));
    assert!(all.contains(".report .finding{"));
    assert!(all.contains(".report .sc-f{"));
    // Nothing of the report's escapes its scope.
    let report_part = &all[STYLE_CSS.len()..];
    for line in report_part
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("/*") && *l != "}")
    {
        let rule = match line.strip_prefix('@') {
            Some(at) => &at[at.find('{').unwrap() + 1..],
            None => line,
        };
        if rule.is_empty() {
            continue;
        }
        for sel in rule[..rule.find('{').unwrap()].split(',') {
            assert!(sel.starts_with(".report"), "{line}");
        }
    }
    assert!(STYLE_CSS.matches('{').count() == STYLE_CSS.matches('}').count());
    assert!(LIVE_JS.contains("EventSource") && LIVE_JS.contains("\"done\""));
    assert!(!LIVE_JS.contains("innerHTML"));
}

/// Renders every page to /tmp/ui-preview (and the stylesheet to static/app.css), to look
/// at them: `python3 -m http.server -d /tmp/ui-preview 8765 --bind 127.0.0.1`.
#[test]
#[ignore]
fn preview() {
    let dir = std::path::Path::new("/tmp/ui-preview");
    std::fs::create_dir_all(dir.join("static")).unwrap();
    std::fs::write(dir.join("static/app.css"), stylesheet()).unwrap();
    std::fs::write(dir.join("static/live.js"), LIVE_JS).unwrap();
    // Realistic (not hostile) data for the eye.
    let c = Chrome {
        title: "Targets",
        user: Some("alice"),
        csrf: Some("t"),
        flash: Some("Scan 12 queued"),
    };
    let plain = Chrome { flash: None, ..c };
    let names = [
        ("Payments API", "https://payments.example.com/v1/me"),
        (
            "Orders (staging)",
            "https://staging.orders.example.com/api/orders",
        ),
        ("Identity gateway", "https://id.example.com/oauth/userinfo"),
        (
            "Legacy SOAP bridge",
            "https://legacy.example.com:8443/bridge",
        ),
    ];
    let mut rows = Vec::new();
    for (i, (n, u)) in names.iter().enumerate() {
        let id = i as i64 + 1;
        let mut t = a_target(id, n, u);
        if i == 2 {
            t.credentials = CredentialKinds::default();
        }
        let scores = [
            vec![62, 70, 78, 91, 94],
            vec![88, 64, 46],
            vec![],
            vec![100],
        ][i]
            .clone();
        let latest = scores
            .last()
            .map(|s| a_scan(id * 10, id, ScanStatus::Done, *s, [5, 180, 0, 9000][i]));
        rows.push(TargetSummary {
            target: t,
            latest,
            recent_scores: scores,
            active: match i {
                1 => Some(a_scan(33, 2, ScanStatus::Running, 0, 1)),
                2 => Some(a_scan(34, 3, ScanStatus::Queued, 0, 0)),
                _ => None,
            },
        });
    }
    let mut history = vec![
        a_scan(12, 1, ScanStatus::Done, 94, 5),
        a_scan(11, 1, ScanStatus::Done, 91, 1440),
        a_scan(10, 1, ScanStatus::Failed, 0, 2 * 1440),
        a_scan(9, 1, ScanStatus::Done, 78, 4 * 1440),
        a_scan(8, 1, ScanStatus::Done, 70, 9 * 1440),
        a_scan(7, 1, ScanStatus::Done, 62, 20 * 1440),
    ];
    history[2].error = Some("connect: connection refused (os error 111)".into());
    let mut report = a_report();
    report.target = "https://payments.example.com/v1/me".into();
    for f in &mut report.findings {
        f.title = f.title.split(" <script").next().unwrap().into();
        f.description = "The server accepted a token whose signature was never checked.".into();
        f.evidence.excerpt = "{\"user\":\"alice\",\"role\":\"admin\"}".into();
    }
    report.inconclusive[0].reason = "the two refusals look alike".into();
    let mut d = a_diff(-18);
    d.new[0].title = "The API accepts unsigned tokens (alg none)".into();
    let t = &rows[0].target;
    let pages = [
        (
            "login",
            login(
                &chrome("Sign in", None),
                Some("Wrong user name or password."),
                "alice",
                false,
            ),
        ),
        ("setup", setup(&chrome("Set up", None), None, "")),
        ("targets", targets(&c, &rows, NOW)),
        ("targets-empty", targets(&plain, &[], NOW)),
        ("target", target(&plain, &rows[0], &history, NOW)),
        ("target-empty", target(&plain, &rows[2], &[], NOW)),
        (
            "scan-done",
            scan(
                &plain,
                t,
                &a_scan(15, 1, ScanStatus::Done, 46, 30),
                Some(&report),
                None,
                NOW,
            ),
        ),
        (
            "scan-running",
            scan(
                &plain,
                t,
                &a_scan(13, 1, ScanStatus::Running, 0, 1),
                None,
                Some(Progress {
                    done: 17,
                    total: 52,
                    phase: "jwt.key_confusion".into(),
                }),
                NOW,
            ),
        ),
        (
            "scan-queued",
            scan(
                &plain,
                t,
                &a_scan(14, 1, ScanStatus::Queued, 0, 0),
                None,
                None,
                NOW,
            ),
        ),
        ("scan-failed", scan(&plain, t, &history[2], None, None, NOW)),
        ("diff", diff(&plain, t, &d, NOW)),
        (
            "new-target",
            new_target(
                &plain,
                &NewTargetForm {
                    url: "https://api.example.com/v1/me".into(),
                    bearer_set: true,
                    ..Default::default()
                },
                Some("The URL did not answer: connection refused."),
            ),
        ),
        (
            "error",
            error_page(
                &chrome("Not found", None),
                404,
                "Page not found",
                "There is no scan 999.",
            ),
        ),
    ];
    for (name, html) in pages {
        std::fs::write(dir.join(format!("{name}.html")), html).unwrap();
    }
}
