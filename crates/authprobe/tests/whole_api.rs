//! Whole-API scans end to end: the lab serves its own OpenAPI 3.1 and Swagger 2.0
//! descriptions, and the scan must find every operation the lab leaves unenforced, no
//! other, never the one declared public, report the apiKey-in-query scheme, skip unsafe
//! operations by default, and list what the budget left unprobed.

mod common;

use authprobe::engine::api::{ApiScan, Event, scan_api};
use authprobe::engine::{Progress, ScanOptions};
use authprobe::http::{Http, Limits};
use authprobe::report::Report;
use authprobe::report::api::OperationStatus;
use authprobe::spec;
use authprobe_lab::{Lab, LabOptions, Profile};
use common::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use url::Url;

/// The checks these tests need: the enforcement ones and the static spec ones. The deep
/// suites have their own tests; here they would only slow every run.
fn whole_options(lab: &Lab) -> ScanOptions {
    let mut o = options(lab, quick_limits());
    o.creds.api_keys = authprobe::lab_target::api_keys(&lab.ready);
    o.only = strings(&["auth", "jwt.token_in_url", "mtls.not_required", "spec"]);
    o
}

/// The whole-API scan of the description at `url`, its paths resolved against its own
/// server, with `opts` (their target replaced) and, when given, `--max-requests`.
async fn try_scan_spec(
    url: &str,
    mut opts: ScanOptions,
    budget: Option<usize>,
) -> Result<Report, authprobe::engine::ScanError> {
    let limits = Limits {
        max_body: spec::MAX_SPEC_BYTES,
        ..quick_limits()
    };
    let http = Http::new(limits, opts.tls.clone());
    let (s, spec_url) = spec::fetch(&http, &Url::parse(url).unwrap())
        .await
        .expect("the description loads");
    let base = spec::base_url(&s, None, Some(&spec_url)).expect("base URL");
    opts.target = base.clone();
    if let Some(n) = budget {
        opts.limits.max_requests = n;
    }
    let api = ApiScan {
        spec: Arc::new(s),
        base,
        budget_given: budget.is_some(),
        time_given: true,
    };
    let mut sink = |_: Event| {};
    scan_api(opts, api, Arc::new(Progress::default()), &mut sink).await
}

async fn scan_spec(url: &str, opts: ScanOptions, budget: Option<usize>) -> Report {
    try_scan_spec(url, opts, budget)
        .await
        .expect("the whole-API scan completes")
}

/// The operations (by operationId) an enforcement check reported.
fn flagged(r: &Report, id: &str) -> BTreeSet<String> {
    r.operations
        .iter()
        .filter(|o| o.findings.iter().any(|f| f.id == id))
        .filter_map(|o| o.operation_id.clone())
        .collect()
}

/// The operations of unsafe methods: the lab has at least ten.
fn unsafe_operations(r: &Report) -> Vec<&authprobe::report::api::OperationReport> {
    let ops: Vec<_> = r
        .operations
        .iter()
        .filter(|o| !matches!(o.method.as_str(), "GET" | "HEAD" | "OPTIONS"))
        .collect();
    assert!(ops.len() >= 10, "{}", ops.len());
    ops
}

fn op<'a>(r: &'a Report, operation_id: &str) -> &'a authprobe::report::api::OperationReport {
    r.operations
        .iter()
        .find(|o| o.operation_id.as_deref() == Some(operation_id))
        .unwrap_or_else(|| panic!("{operation_id} is in the report"))
}

async fn every_unenforced_operation_is_found(doc: &str) {
    let lab = lab(Profile::Hardened, &["auth.missing", "spec.apikey_in_query"]).await;
    let url = match doc {
        "openapi" => lab.ready.openapi_url.clone(),
        _ => lab.ready.swagger_url.clone(),
    };
    let report = scan_spec(&url, whole_options(&lab), None).await;
    let api = report.api.as_ref().expect("a whole-API report");
    assert!(api.operations_total >= 50, "{api:?}");
    let expected: BTreeSet<String> = lab.ready.unenforced_operations.iter().cloned().collect();
    assert!(!expected.is_empty());
    assert_eq!(flagged(&report, "auth.missing"), expected, "{doc}");
    // Each names the declared security, and the overall grade reflects it.
    for o in report
        .operations
        .iter()
        .filter(|o| o.findings.iter().any(|f| f.id == "auth.missing"))
    {
        let f = o.findings.iter().find(|f| f.id == "auth.missing").unwrap();
        assert!(f.description.contains("declares"), "{}", f.description);
        assert_eq!(f.operations, vec![o.id.clone()]);
    }
    assert_eq!(report.grade, "F");
    // Every credential group's variables reach --secrets-file, not only the first's.
    for var in ["AUTHPROBE_BEARER", "AUTHPROBE_BASIC"] {
        assert!(
            report.variables.contains_key(var),
            "{var}: {:?}",
            report.variables.keys()
        );
    }
    // The terminal shows the check once, with the operations it was found on.
    let text = authprobe::report::pretty::render(&report, Default::default());
    let lines: Vec<_> = text
        .lines()
        .filter(|l| l.contains("CRITICAL") && l.contains("auth.missing"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        text.contains(&format!("on {} operations", expected.len())),
        "{text}"
    );
    // The operation declared public answers anyone and is never reported.
    for public in &lab.ready.public_operations {
        let o = op(&report, public);
        assert_eq!(o.status, OperationStatus::Public, "{o:?}");
        assert!(o.findings.is_empty());
    }
    // The apiKey-in-query scheme is a finding of the description itself.
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.id == "spec.apikey_in_query"),
        "{:?}",
        ids(&report)
    );
    // Unsafe operations are listed, not sent.
    let unsafe_ops = unsafe_operations(&report);
    for o in unsafe_ops {
        assert_eq!(o.status, OperationStatus::Skipped, "{o:?}");
        assert!(
            o.reason
                .as_deref()
                .unwrap_or("")
                .contains("--allow-unsafe-methods"),
            "{o:?}"
        );
        assert_eq!(o.requests_sent, 0);
    }
    // No enforced operation is reported by any enforcement check.
    for o in &report.operations {
        if !expected.contains(o.operation_id.as_deref().unwrap_or("")) {
            assert!(
                o.findings.is_empty(),
                "{} reported {:?}",
                o.id,
                o.findings.iter().map(|f| &f.id).collect::<Vec<_>>()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn openapi_31_every_unenforced_operation_is_found_and_nothing_else() {
    every_unenforced_operation_is_found("openapi").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn swagger_20_every_unenforced_operation_is_found_and_nothing_else() {
    every_unenforced_operation_is_found("swagger").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hardened_api_has_no_finding_on_any_operation() {
    let lab = lab(Profile::Hardened, &[]).await;
    let report = scan_spec(&lab.ready.openapi_url, whole_options(&lab), None).await;
    let api = report.api.as_ref().unwrap();
    assert!(api.probed >= 30, "{api:?}");
    assert_eq!(api.failed, 0, "{:?}", report.operations);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.severity <= authprobe::finding::Severity::Info),
        "{:?}",
        ids(&report)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operations_the_user_opens_are_found_wherever_they_are() {
    let lab = lab_with(LabOptions {
        profile: Profile::Hardened,
        open_operations: strings(&["getInvoice", "listTeams"]),
        ..LabOptions::default()
    })
    .await;
    let report = scan_spec(&lab.ready.openapi_url, whole_options(&lab), None).await;
    let expected: BTreeSet<String> = lab.ready.unenforced_operations.iter().cloned().collect();
    assert_eq!(expected.len(), 2, "{expected:?}");
    assert_eq!(flagged(&report, "auth.missing"), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_small_budget_lists_what_it_did_not_probe() {
    let lab = lab(Profile::Hardened, &[]).await;
    let report = scan_spec(&lab.ready.openapi_url, whole_options(&lab), Some(150)).await;
    let api = report.api.as_ref().unwrap();
    assert!(api.not_probed_budget > 0, "{api:?}");
    assert!(report.requests_sent <= 150, "{}", report.requests_sent);
    for o in report
        .operations
        .iter()
        .filter(|o| o.status == OperationStatus::NotProbedBudget)
    {
        assert!(
            o.reason.as_deref().unwrap_or("").contains("budget"),
            "{o:?}"
        );
    }
    assert!(report.warnings.iter().any(|w| w.contains("budget")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refused_credentials_stop_a_whole_api_scan() {
    let lab = lab(Profile::Hardened, &[]).await;
    let mut opts = whole_options(&lab);
    opts.creds.bearer =
        Some("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl".into());
    let err = try_scan_spec(&lab.ready.openapi_url, opts, None)
        .await
        .expect_err("a refused token stops the scan");
    assert!(
        matches!(err, authprobe::engine::ScanError::CredentialsRefused(_)),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unsafe_operations_are_sent_with_their_bodies_only_when_allowed() {
    let lab = lab(Profile::Hardened, &["auth.missing"]).await;
    let mut opts = whole_options(&lab);
    opts.only = strings(&["auth.missing"]);
    opts.allow_unsafe_methods = true;
    let report = scan_spec(&lab.ready.openapi_url, opts, None).await;
    let unsafe_ops = unsafe_operations(&report);
    for o in unsafe_ops {
        // The authorized request, with its body, succeeded: the operation was judged.
        assert_eq!(o.status, OperationStatus::Probed, "{o:?}");
        assert!(o.requests_sent > 0);
        assert!(o.findings.is_empty(), "{}: {:?}", o.id, o.findings);
    }
    let expected: BTreeSet<String> = lab.ready.unenforced_operations.iter().cloned().collect();
    assert_eq!(flagged(&report, "auth.missing"), expected);
}

/// A server of our own: `/open` answers everyone the same data (unenforced); `/login-page`
/// answers a request without a token with a 200 sign-in page, and a wrong token with 401
/// (enforced, the way many web frameworks do it). Only the first is `auth.missing`.
async fn declared_but_different_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let spec = r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},
        "components":{"securitySchemes":{"bearerAuth":{"type":"http","scheme":"bearer"}}},
        "security":[{"bearerAuth":[]}],
        "paths":{"/open":{"get":{"operationId":"open"}},"/login-page":{"get":{"operationId":"loginPage"}}}}"#;
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let auth = head
                    .lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                    .map(|l| l[14..].trim().to_string());
                let data = r#"{"user":"alice","items":[{"id":1,"name":"first"},{"id":2,"name":"second"}]}"#;
                let (status, ctype, body) = match (path.as_str(), auth.as_deref()) {
                    ("/openapi.json", _) => ("200 OK", "application/json", spec.to_string()),
                    ("/open", _) => ("200 OK", "application/json", data.to_string()),
                    ("/login-page", Some("Bearer good-token-1234567890")) => {
                        ("200 OK", "application/json", data.to_string())
                    }
                    ("/login-page", Some(_)) => (
                        "401 Unauthorized",
                        "application/json",
                        r#"{"error":"invalid_token"}"#.to_string(),
                    ),
                    ("/login-page", None) => (
                        "200 OK",
                        "text/html",
                        "<html><body><h1>Sign in</h1><form method=post action=/session><input name=user><input type=password name=password></form></body></html>".to_string(),
                    ),
                    _ => ("404 Not Found", "text/plain", "no".to_string()),
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_the_authorized_answer_without_credentials_breaks_a_declaration() {
    let base = declared_but_different_server().await;
    let opts = ScanOptions::new(Url::parse(&base).unwrap())
        .with_credentials(authprobe::engine::Credentials {
            bearer: Some("good-token-1234567890".into()),
            ..Default::default()
        })
        .with_limits(quick_limits())
        .with_only(strings(&["auth.missing"]));
    let report = scan_spec(&format!("{base}/openapi.json"), opts, None).await;
    assert_eq!(
        flagged(&report, "auth.missing"),
        BTreeSet::from(["open".to_string()]),
        "{:#?}",
        report.operations
    );
}
