//! Every report format, rendered from whole-API reports (`--spec`, `--targets`) built by
//! hand: operations probed, clean, public, skipped and not probed for the budget, findings
//! on one operation and a deep suite's finding covering several.

mod formats;

use authprobe::finding::{Confidence, Evidence, Finding, RemediationText, Severity};
use authprobe::report::api::{ApiKind, ApiSummary, BudgetUse, OperationReport, OperationStatus};
use authprobe::report::{Report, Skipped, html, jsonl, junit, markdown, pretty, sarif};
use formats::{assert_valid_sarif, assert_well_formed_xml, attr};
use serde_json::Value;

const BASE: &str = "https://api.example.test/v1/";
const ORDERS: &str = "GET /orders/{orderId}";
const ME: &str = "GET /me";
const HEALTH: &str = "GET /health";
const DELETE: &str = "DELETE /orders/{orderId}";
const REPORTS: &str = "GET /reports";
const UNSAFE: &str = "unsafe method: DELETE is not sent without --unsafe-methods";
const BUDGET: &str = "the request budget (--max-requests 200) ran out first";
const ENFORCEMENT: [&str; 3] = [
    "auth.missing",
    "auth.method_bypass",
    "auth.malformed_token_accepted",
];

fn finding(id: &str, severity: Severity, operations: &[&str]) -> Finding {
    Finding {
        id: id.into(),
        title: format!("{id} title"),
        severity,
        confidence: Confidence::Confirmed,
        cwe: vec!["CWE-306".into()],
        owasp: vec!["API2:2023 Broken Authentication".into()],
        description: format!("{id} was observed"),
        evidence: Evidence {
            request: "GET /v1/orders/1 HTTP/1.1\nHost: api.example.test".into(),
            status: Some(200),
            excerpt: "{\"order\":1}".into(),
            curl: "curl -sk https://api.example.test/v1/orders/1".into(),
        },
        remediation: RemediationText {
            summary: format!("fix {id}"),
            frameworks: Default::default(),
        },
        operations: operations.iter().map(|s| s.to_string()).collect(),
    }
}

fn probed(id: &str, url: &str, score: u32, grade: &str, findings: Vec<Finding>) -> OperationReport {
    let (method, path) = id.split_once(' ').unwrap();
    OperationReport {
        id: id.into(),
        method: method.into(),
        path: Some(path.into()),
        url: url.into(),
        operation_id: Some(format!("op{}", path.len())),
        tags: vec!["orders".into()],
        declared_security: Some("bearerAuth".into()),
        status: OperationStatus::Probed,
        reason: None,
        score: Some(score),
        grade: Some(grade.into()),
        requests_sent: 6,
        checks_run: ENFORCEMENT.iter().map(|s| s.to_string()).collect(),
        findings,
        inconclusive: Vec::new(),
        checks_skipped: Vec::new(),
    }
}

fn not_probed(id: &str, status: OperationStatus, reason: &str) -> OperationReport {
    let (method, path) = id.split_once(' ').unwrap();
    let mut o = OperationReport::not_probed(
        id.into(),
        method.into(),
        format!("{}{}", BASE.trim_end_matches('/'), path),
        status,
        reason.into(),
    );
    o.path = Some(path.into());
    o
}

/// Five operations: one with a critical auth.missing, one clean (but with an undecided
/// check), one public, one skipped, one not probed for the budget; a deep jwt finding
/// covers the two probed ones.
fn api_report() -> Report {
    let missing = finding("auth.missing", Severity::Critical, &[ORDERS]);
    let deep = finding("jwt.alg_none", Severity::High, &[ORDERS, ME]);
    let mut me = probed(ME, "https://api.example.test/v1/me", 100, "A", Vec::new());
    me.inconclusive.push(Skipped {
        id: "auth.method_bypass".into(),
        reason: "every method answers 405".into(),
    });
    let mut public = not_probed(
        HEALTH,
        OperationStatus::Public,
        "declared public (security: [])",
    );
    public.declared_security = Some("public".into());
    let operations = vec![
        probed(
            ORDERS,
            "https://api.example.test/v1/orders/1?expand=items",
            60,
            "F",
            vec![missing.clone()],
        ),
        me,
        public,
        not_probed(DELETE, OperationStatus::Skipped, UNSAFE),
        not_probed(REPORTS, OperationStatus::NotProbedBudget, BUDGET),
    ];
    let mut checks_run: Vec<String> = ENFORCEMENT.iter().map(|s| s.to_string()).collect();
    checks_run.extend([
        "jwt.alg_none".to_string(),
        "jwt.expired_accepted".to_string(),
    ]);
    Report {
        schema_version: 2,
        tool: authprobe::report::Tool {
            name: "authprobe".into(),
            version: "0.1.0".into(),
        },
        target: BASE.into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        duration_ms: 4200,
        requests_sent: 180,
        score: 40,
        grade: "F".into(),
        grade_caps: vec![authprobe::report::GradeCap {
            grade: "F".into(),
            reason: "1 critical finding".into(),
        }],
        categories: [("auth".to_string(), 60), ("jwt".to_string(), 80)].into(),
        findings: vec![missing, deep],
        checks_run,
        checks_skipped: vec![Skipped {
            id: "basic.no_lockout".into(),
            reason: "no --basic".into(),
        }],
        inconclusive: Vec::new(),
        tls: None,
        client_auth: None,
        baseline: None,
        warnings: Vec::new(),
        check_durations_ms: [("jwt.alg_none".to_string(), 300)].into(),
        variables: Default::default(),
        api: Some(ApiSummary {
            kind: ApiKind::Openapi,
            source: "openapi.yaml".into(),
            title: Some("Shop API".into()),
            spec_version: Some("3.0.3".into()),
            base_url: Some(BASE.into()),
            operations_total: 5,
            probed: 2,
            public: 1,
            skipped: 1,
            not_probed_budget: 1,
            failed: 0,
            deep_suite_operation: Some(ME.into()),
            budget: Some(BudgetUse {
                max_requests: 200,
                per_operation: 20,
                deep_suite: 150,
            }),
        }),
        operations,
    }
}

fn sarif_of(r: &Report) -> Value {
    serde_json::from_str(&sarif::render(r)).expect("SARIF is JSON")
}

fn uris(res: &Value) -> Vec<String> {
    res["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn sarif_locates_each_finding_at_the_operations_it_covers() {
    let r = api_report();
    let doc = sarif_of(&r);
    assert_valid_sarif(&doc);
    let run = &doc["runs"][0];
    assert_eq!(
        run["originalUriBaseIds"][sarif::URI_BASE_ID]["uri"],
        "https://api.example.test/"
    );
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    // The operation's URL, its query left out; the operation named in the message.
    assert_eq!(uris(&results[0]), ["v1/orders/1"]);
    assert_eq!(results[0]["locations"][0]["message"]["text"], ORDERS);
    // The deep finding: a location per covered operation.
    assert_eq!(uris(&results[1]), ["v1/orders/1", "v1/me"]);
    assert_eq!(
        results[1]["properties"]["operations"],
        serde_json::json!([ORDERS, ME])
    );
    assert!(results[1]["properties"].get("operationsOmitted").is_none());
    assert_eq!(run["properties"]["api"]["operations_total"], 5);

    // The same check on two operations: two alerts, told apart by their fingerprints.
    let mut two = r.clone();
    two.findings
        .push(finding("auth.missing", Severity::Critical, &[ME]));
    let doc = sarif_of(&two);
    assert_valid_sarif(&doc);
    let fps: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["ruleId"] == "auth.missing")
        .map(|x| {
            x["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(fps.len(), 2);
    assert_ne!(fps[0], fps[1]);
    // Stable: another run, another query string, the same fingerprint.
    let mut again = two.clone();
    again.operations[0].url = "https://api.example.test/v1/orders/1?expand=none".into();
    again.started_at = "2030-01-01T00:00:00Z".into();
    let again_doc = sarif_of(&again);
    assert_eq!(
        again_doc["runs"][0]["results"][0]["partialFingerprints"],
        doc["runs"][0]["results"][0]["partialFingerprints"]
    );
    // Two operations sharing a path differ by method.
    assert_ne!(
        sarif::operation_key("auth.missing", ORDERS),
        sarif::operation_key("auth.missing", DELETE)
    );
}

#[test]
fn sarif_caps_the_locations_of_a_finding_covering_many_operations() {
    let mut r = api_report();
    let ids: Vec<String> = (0..47).map(|i| format!("GET /items/{i}")).collect();
    for id in &ids {
        r.operations.push(probed(
            id,
            &format!("{BASE}{}", &id[5..]),
            100,
            "A",
            Vec::new(),
        ));
    }
    // An operation the report does not list falls back to the target.
    r.findings[1].operations = ids.clone();
    r.findings[1].operations.insert(0, "GET /unlisted".into());
    let doc = sarif_of(&r);
    assert_valid_sarif(&doc);
    let res = &doc["runs"][0]["results"][1];
    let u = uris(res);
    assert_eq!(u.len(), sarif::MAX_LOCATIONS);
    assert_eq!(u[0], "v1/");
    assert_eq!(u[1], "v1/items/0");
    assert_eq!(
        res["properties"]["operationsOmitted"],
        48 - sarif::MAX_LOCATIONS
    );
    // Another origin is located absolutely.
    r.operations[0].url = "https://other.example.test/orders/1".into();
    let doc = sarif_of(&r);
    assert_valid_sarif(&doc);
    let loc = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(loc["uri"], "https://other.example.test/orders/1");
    assert!(loc.get("uriBaseId").is_none());
}

fn suite<'a>(x: &'a str, name: &str) -> &'a str {
    let at = x
        .find(&format!("<testsuite name=\"{name}\""))
        .unwrap_or_else(|| panic!("suite {name}"));
    &x[at..at + x[at..].find("</testsuite>").unwrap()]
}

#[test]
fn junit_has_a_suite_per_operation() {
    let r = api_report();
    let x = junit::render(&r);
    assert_well_formed_xml(&x);
    let orders = suite(&x, &html::esc(ORDERS));
    assert_eq!(orders.matches("<testcase ").count(), 3, "{orders}");
    assert_eq!(orders.matches("<failure ").count(), 1);
    assert!(orders.contains("name=\"auth.missing: "));
    assert!(orders.contains(&format!("classname=\"{}\"", html::esc(ORDERS))));
    let head = &orders[..orders.find('>').unwrap()];
    assert_eq!(attr(head, "failures"), "1");
    let me = suite(&x, ME);
    assert_eq!(me.matches("<failure ").count(), 0);
    assert!(me.contains("<skipped message=\"inconclusive: every method answers 405\"/>"));
    // Not probed: a testcase skipped with the reason.
    let del = suite(&x, DELETE);
    assert_eq!(del.matches("<testcase ").count(), 1);
    assert!(del.contains("name=\"skipped\""));
    assert!(del.contains(&format!("<skipped message=\"{UNSAFE}\"/>")));
    assert!(suite(&x, REPORTS).contains(&format!("<skipped message=\"{BUDGET}\"/>")));
    assert!(suite(&x, HEALTH).contains("name=\"public\""));
    // The deep suites' checks stay in their family suite, the covered operations named.
    let jwt = suite(&x, "authprobe.jwt");
    assert_eq!(jwt.matches("<testcase ").count(), 2);
    assert!(jwt.contains("covers 2 operations: GET /orders/{orderId}, GET /me"));
    assert!(jwt.contains("time=\"0.300\""));
    assert!(
        !x.contains("<testsuite name=\"authprobe.auth\""),
        "auth checks ran per operation"
    );
    assert!(suite(&x, "authprobe.basic").contains("<skipped message=\"no --basic\"/>"));
    // 2 failures (auth.missing on ORDERS, jwt.alg_none), 3+1+1+1 skipped cases.
    let root = &x[x.find("<testsuites ").unwrap()..];
    let root = &root[..root.find('>').unwrap()];
    assert_eq!(attr(root, "failures"), "2");
    assert_eq!(attr(root, "skipped"), "5");
    assert_eq!(attr(root, "tests"), (3 + 3 + 1 + 1 + 1 + 2 + 1).to_string());
    assert_eq!(x.matches("<testsuite ").count(), 5 + 2);
}

/// Where each operation id first shows in `text` after `from`.
fn positions(text: &str, from: &str, ids: &[&str]) -> Vec<usize> {
    let start = text.find(from).unwrap_or_else(|| panic!("{from}"));
    ids.iter()
        .map(|id| {
            start
                + text[start..]
                    .find(id)
                    .unwrap_or_else(|| panic!("{id} after {from}"))
        })
        .collect()
}

fn ascending(v: &[usize]) -> bool {
    v.windows(2).all(|w| w[0] < w[1])
}

#[test]
fn markdown_groups_by_operation_worst_first() {
    let r = api_report();
    let m = markdown::render(&r);
    assert!(m.contains("### API"));
    assert!(m.contains("Shop API"));
    assert!(
        m.contains("5 operations: 2 probed, 1 public, 1 skipped, 1 not probed (budget), 0 failed")
    );
    assert!(m.contains("| Operation | Security | Status | Grade | Score | Findings | Requests |"));
    let md = |s: &str| markdown::inline(s);
    let order = positions(&m, "### Operations", &[&md(ORDERS), &md(ME), &md(REPORTS)]);
    assert!(ascending(&order), "worst first: {order:?}");
    let row = m
        .lines()
        .find(|l| l.starts_with(&format!("| {}", md(ORDERS))))
        .unwrap();
    assert_eq!(
        row,
        format!("| {} | bearerAuth | probed | F | 60 | 1 | 6 |", md(ORDERS))
    );
    // Findings: the API-wide group naming what it covers, then each operation's.
    let groups = positions(
        &m,
        "### Findings",
        &["#### API-wide", &format!("#### {}", md(ORDERS))],
    );
    assert!(ascending(&groups));
    assert!(m.contains(&format!(
        "jwt.alg\\_none covers 2 operations: {}, {}",
        md(ORDERS),
        md(ME)
    )));
    assert_eq!(m.matches("<details>").count(), 2);
    // Not probed: each reason, never dropped.
    let np = &m[m.find("### Not probed").unwrap()..];
    assert!(np.contains(&md(UNSAFE)) && np.contains(&md(BUDGET)));
    assert!(np.contains(&md(DELETE)) && np.contains(&md(HEALTH)));
    assert!(!m.contains("Cut to fit"));
}

#[test]
fn html_groups_by_operation_worst_first() {
    let r = api_report();
    let h = html::render(&r);
    assert!(h.starts_with("<!DOCTYPE html>") && h.trim_end().ends_with("</html>"));
    assert!(h.contains("<h2>API</h2>") && h.contains("Shop API"));
    let e = |s: &str| html::esc(s);
    let order = positions(
        &h,
        "<h2>Operations</h2>",
        &[&e(ORDERS), &e(ME), &e(REPORTS)],
    );
    assert!(ascending(&order), "worst first: {order:?}");
    assert!(h.contains(&format!("<a href=\"#op0\"><code>{}</code></a>", e(ORDERS))));
    assert!(h.contains(&format!("id=\"op0\"><code>{}</code>", e(ORDERS))));
    assert!(h.contains("API-wide"));
    assert!(h.contains("covers 2 operations"));
    assert_eq!(h.matches("<article class=\"finding\"").count(), 2);
    assert!(h.contains(&format!(
        "<p class=\"on\">on <code>{}</code></p>",
        e(ORDERS)
    )));
    let np = &h[h.find("<h2>Not probed</h2>").unwrap()..];
    assert!(np.contains(&e(UNSAFE)) && np.contains(&e(BUDGET)));
    assert!(
        !h.contains("<details class=\"more\""),
        "a short list is not folded"
    );
}

#[test]
fn pretty_shows_the_counts_and_the_worst_operations_first() {
    let mut r = api_report();
    let mut worse = probed(
        "POST /orders",
        "https://api.example.test/v1/orders",
        20,
        "F",
        Vec::new(),
    );
    worse.findings.push(finding(
        "auth.method_bypass",
        Severity::High,
        &["POST /orders"],
    ));
    r.findings.push(worse.findings[0].clone());
    r.operations.push(worse);
    let p = pretty::render(
        &r,
        pretty::Style {
            colour: false,
            width: Some(80),
        },
    );
    assert!(
        p.contains("5 operations: 2 probed, 1 public, 1 skipped, 1 not probed (budget), 0 failed"),
        "{p}"
    );
    let worst = &p[p.find("Worst operations:").expect("worst operations")..];
    let lines: Vec<&str> = worst.lines().skip(1).take(2).collect();
    assert!(
        lines[0].contains("F   20  POST /orders  auth.method_bypass (high)"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains(&format!("F   60  {ORDERS}  auth.missing (critical)")),
        "{lines:?}"
    );
    // Each finding names its operation(s).
    assert!(p.contains(&format!("on {ORDERS}")));
    assert!(p.contains(&format!("on 2 operations: {ORDERS}, {ME}")));
    assert!(p.contains(&format!("skipped: {UNSAFE}")) || p.contains("skipped: unsafe method"));
    for line in p.lines() {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
}

#[test]
fn jsonl_writes_a_line_per_finding_and_operation_then_the_summary() {
    let r = api_report();
    let out = jsonl::render(&r);
    assert!(out.ends_with('\n'));
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), r.findings.len() + r.operations.len() + 1);
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        types.iter().filter(|t| **t == "finding").count(),
        r.findings.len()
    );
    assert_eq!(
        types.iter().filter(|t| **t == "operation").count(),
        r.operations.len()
    );
    assert_eq!(types.last(), Some(&"summary"));
    assert_eq!(lines[0]["operations"], serde_json::json!([ORDERS]));
    let op = &lines[2];
    assert_eq!(op["id"], ORDERS);
    assert_eq!(op["findings_count"], 1);
    assert!(op.get("findings").is_none());
    let summary = lines.last().unwrap();
    assert_eq!(summary["score"], 40);
    assert_eq!(summary["api"]["operations_total"], 5);
    assert!(summary.get("findings").is_none() && summary.get("operations").is_none());
    // Each line alone, as an engine streams them.
    assert_eq!(
        jsonl::finding_line(&r.findings[1]),
        out.lines().nth(1).unwrap()
    );
    assert_eq!(jsonl::summary_line(&r), out.lines().last().unwrap());
    // A single-URL report: its findings, then the summary.
    let mut single = r.clone();
    single.api = None;
    single.operations.clear();
    assert_eq!(
        jsonl::render(&single).lines().count(),
        single.findings.len() + 1
    );
}

#[test]
fn baseline_matches_findings_by_operation() {
    let old = api_report();
    let mut new = api_report();
    // The same check on a newly unenforced operation, and the deep finding now covering
    // a third operation: both new. The old auth.missing on ORDERS is known.
    new.findings
        .push(finding("auth.missing", Severity::Critical, &[ME]));
    new.findings[1].operations.push(REPORTS.into());
    new.apply_baseline(&old, "old.json".into());
    let b = new.baseline.as_ref().unwrap();
    assert_eq!(b.suppressed_ids, ["auth.missing"]);
    let left: Vec<(&str, &[String])> = new
        .findings
        .iter()
        .map(|f| (f.id.as_str(), f.operations.as_slice()))
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert_eq!(left[0].0, "jwt.alg_none");
    assert_eq!(left[1].1, [ME]);
    assert!(
        new.operations[0].findings.is_empty(),
        "the operation's own copy goes too"
    );
    // Against itself, everything is known.
    let mut same = api_report();
    same.apply_baseline(&old, "old.json".into());
    assert!(same.findings.is_empty());
    // A version 1 baseline (no operations) still loads and matches targets of a list.
    let mut v1 = api_report();
    v1.api = None;
    v1.operations.clear();
    v1.target = "https://api.example.test/v1/orders/1?x=1".into();
    v1.findings = vec![finding("auth.missing", Severity::Critical, &[])];
    let mut json: Value = serde_json::from_str(&v1.to_json()).unwrap();
    json["schema_version"] = 1.into();
    let v1: Report = serde_json::from_value(json).unwrap();
    let mut targets = api_report();
    targets.findings = vec![finding(
        "auth.missing",
        Severity::Critical,
        &["https://api.example.test/v1/orders/1"],
    )];
    targets.apply_baseline(&v1, "v1.json".into());
    assert!(
        targets.findings.is_empty(),
        "a target is keyed by its URL, without the query"
    );
}

const XSS: &str = "<script>alert(1)</script>";

/// The whole-API report with markup in every string a description or server controls.
fn hostile_api_report() -> Report {
    let nasty = format!("{XSS} \"q\" 'a' `t` a|b & \u{1}\u{1b}[31m <img src=x onerror=alert(2)>");
    let mut r = api_report();
    let rename = |s: &str| format!("GET /{nasty}{s}");
    for o in &mut r.operations {
        o.id = rename(&o.id);
        o.tags = vec![nasty.clone()];
        o.declared_security = Some(nasty.clone());
        if let Some(reason) = &mut o.reason {
            reason.push_str(&nasty);
        }
        for f in &mut o.findings {
            f.operations = f.operations.iter().map(|s| rename(s)).collect();
        }
    }
    for f in &mut r.findings {
        f.operations = f.operations.iter().map(|s| rename(s)).collect();
    }
    let api = r.api.as_mut().unwrap();
    api.title = Some(nasty.clone());
    api.source = nasty.clone();
    api.deep_suite_operation = Some(nasty.clone());
    r
}

#[test]
fn hostile_operation_ids_tags_and_reasons_are_escaped() {
    let r = hostile_api_report();
    let h = html::render(&r);
    assert!(!h.to_ascii_lowercase().contains("<script"));
    assert!(!h.contains("<img") && !h.contains('\u{1b}'));
    assert!(h.matches("&lt;script&gt;").count() >= 10);
    let m = markdown::render(&r);
    assert!(!m.contains("<script") && !m.contains("<img") && !m.contains('\u{1b}'));
    // Table rows keep their cells: pipes in ids are escaped.
    for row in m.lines().filter(|l| l.starts_with("| GET")) {
        assert_eq!(row.matches(" | ").count(), 6, "{row}");
    }
    let x = junit::render(&r);
    assert_well_formed_xml(&x);
    assert!(!x.contains("<script"));
    assert_valid_sarif(&sarif_of(&r));
    for line in jsonl::render(&r).lines() {
        serde_json::from_str::<Value>(line).unwrap();
    }
}

fn thousand_operations() -> Report {
    let mut r = api_report();
    r.operations.clear();
    r.findings.clear();
    for i in 0..1_000 {
        let id = format!("GET /resources/{i:04}/items/{{itemId}}");
        let url = format!("{BASE}resources/{i:04}/items/1");
        let op = match i % 10 {
            0 => {
                let f = finding("auth.missing", Severity::Critical, &[&id]);
                r.findings.push(f.clone());
                probed(&id, &url, 60, "F", vec![f])
            }
            1 => not_probed(&id, OperationStatus::NotProbedBudget, BUDGET),
            2 => not_probed(&id, OperationStatus::Skipped, UNSAFE),
            _ => probed(&id, &url, 100, "A", Vec::new()),
        };
        r.operations.push(op);
    }
    let all: Vec<String> = r.operations.iter().map(|o| o.id.clone()).collect();
    let mut deep = finding("jwt.alg_none", Severity::High, &[]);
    deep.operations = all;
    r.findings.push(deep);
    r
}

#[test]
fn a_thousand_operations_fit_markdowns_cap_and_render_quickly() {
    let r = thousand_operations();
    let m = markdown::render(&r);
    let units = m.encode_utf16().count();
    assert!(units <= markdown::MAX_LEN, "{units} UTF-16 units");
    let note = m
        .lines()
        .find(|l| l.contains("Cut to fit GitHub's 65536-character comment limit"))
        .expect("the cut is said");
    assert!(note.contains("left out of the operations table"), "{note}");
    // Worst first: the operations with a finding are the ones kept.
    let first = m
        .lines()
        .find(|l| l.starts_with("| GET /resources/"))
        .unwrap();
    assert!(first.contains("| F | 60 |"), "{first}");
    // The not-probed reasons are there, each naming how many.
    assert!(m.contains(&format!("{} (100 operations: ", markdown::inline(UNSAFE))));
    assert!(m.contains("jwt.alg\\_none covers 1000 operations"));
    assert!(m.trim_end().ends_with("authprobe 0.1.0"));

    let started = std::time::Instant::now();
    let h = html::render(&r);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(h.contains("<details class=\"more\"><summary>975 more operations</summary>"));
    assert_eq!(h.matches("<article class=\"finding\"").count(), 101);
    let sarif = sarif_of(&r);
    assert_valid_sarif(&sarif);
    let x = junit::render(&r);
    assert_eq!(x.matches("<testsuite ").count(), 1_000 + 2);
    assert_eq!(jsonl::render(&r).lines().count(), 101 + 1_000 + 1);
    let p = pretty::render(
        &r,
        pretty::Style {
            colour: false,
            width: Some(80),
        },
    );
    assert!(
        p.contains("and 90 more with findings or a failed scan"),
        "{p}"
    );
}

#[test]
fn single_url_reports_are_not_grouped() {
    let mut r = api_report();
    r.api = None;
    r.operations.clear();
    assert!(!r.is_whole_api());
    assert!(!markdown::render(&r).contains("### Operations"));
    assert!(!html::render(&r).contains("<h2>Operations</h2>"));
    assert!(!junit::render(&r).contains(&html::esc(ORDERS)));
    assert!(!pretty::render(&r, pretty::Style::default()).contains("operations:"));
    let doc = sarif_of(&r);
    assert_eq!(
        doc["runs"][0]["results"][1]["locations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
