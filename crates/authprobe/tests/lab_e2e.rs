//! End to end: the lab on 127.0.0.1, scanned through the engine exactly as the CLI does.
//! Each flaw alone must make its check fire; the hardened lab must give nothing above
//! info and grade A.

use authprobe::engine::{self, Progress};
use authprobe::finding::Severity;
use authprobe::http::Limits;
use authprobe::report::Report;
use authprobe_lab::{LabOptions, Profile};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn scan_lab(profile: Profile, flaws: &[&str]) -> Report {
    let lab = authprobe_lab::start(LabOptions {
        profile,
        flaws: flaws.iter().map(|s| s.to_string()).collect(),
    })
    .await
    .expect("lab starts");
    let limits = Limits {
        timeout: Duration::from_secs(5),
        ..Limits::default()
    };
    let opts = authprobe::cli::lab_scan_options(&lab.ready, limits).expect("options");
    let (report, _) = engine::scan(opts, Arc::new(Progress::default()))
        .await
        .expect("scan completes");
    report
}

fn ids(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.id.as_str()).collect()
}

async fn assert_flaw_fires_alone(flaw: &str) {
    let r = scan_lab(Profile::Hardened, &[flaw]).await;
    assert_eq!(
        ids(&r),
        vec![flaw],
        "with only {flaw} switched on, exactly its check must fire; inconclusive: {:?}",
        r.inconclusive
    );
    let f = &r.findings[0];
    assert!(!f.evidence.curl.is_empty() && f.evidence.curl.starts_with("curl "));
    assert!(!f.evidence.request.is_empty());
    assert!(!f.cwe.is_empty() && !f.owasp.is_empty());
    assert!(!f.remediation.frameworks.is_empty());
}

#[tokio::test]
async fn auth_missing_fires_on_its_flaw() {
    assert_flaw_fires_alone("auth.missing").await;
}

#[tokio::test]
async fn auth_method_bypass_fires_on_its_flaw() {
    assert_flaw_fires_alone("auth.method_bypass").await;
}

#[tokio::test]
async fn auth_malformed_token_accepted_fires_on_its_flaw() {
    assert_flaw_fires_alone("auth.malformed_token_accepted").await;
}

#[tokio::test]
async fn tls_plaintext_http_fires_on_its_flaw() {
    assert_flaw_fires_alone("tls.plaintext_http").await;
}

#[tokio::test]
async fn tls_hsts_missing_fires_on_its_flaw() {
    assert_flaw_fires_alone("tls.hsts_missing").await;
}

#[tokio::test]
async fn tls_forwarded_proto_trusted_fires_on_its_flaw() {
    assert_flaw_fires_alone("tls.forwarded_proto_trusted").await;
}

#[tokio::test]
async fn tls_insecure_cookie_fires_on_its_flaw() {
    assert_flaw_fires_alone("tls.insecure_cookie").await;
    let r = scan_lab(Profile::Hardened, &["tls.insecure_cookie"]).await;
    let f = &r.findings[0];
    assert!(
        f.description
            .contains("lab_session lacks Secure, HttpOnly, SameSite"),
        "{}",
        f.description
    );
    assert!(
        !f.description.contains("lab_csrf"),
        "the hardened CSRF cookie is fine"
    );
    // Cookie values are credentials: never in the report.
    assert!(
        f.evidence.excerpt.contains("lab_session=[REDACTED]"),
        "{}",
        f.evidence.excerpt
    );
}

#[tokio::test]
async fn hardened_lab_is_clean_grade_a_and_fast() {
    let started = Instant::now();
    let r = scan_lab(Profile::Hardened, &[]).await;
    let took = started.elapsed();
    assert!(
        r.findings.iter().all(|f| f.severity <= Severity::Info),
        "hardened lab must report nothing above info: {:?}",
        ids(&r)
    );
    assert_eq!(r.grade, "A");
    assert_eq!(r.score, 100);
    assert!(r.inconclusive.is_empty(), "{:?}", r.inconclusive);
    for id in [
        "auth.missing",
        "auth.method_bypass",
        "auth.malformed_token_accepted",
        "tls.plaintext_http",
        "tls.hsts_missing",
        "tls.legacy_protocol",
        "tls.weak_cipher",
        "tls.no_forward_secrecy",
        "tls.no_tls13",
        "tls.cert_invalid",
        "tls.cert_weak_key",
        "tls.forwarded_proto_trusted",
        "tls.insecure_cookie",
    ] {
        assert!(r.checks_run.iter().any(|c| c == id), "{id} must have run");
    }
    // The lab's rustls listener is what the Mozilla intermediate profile asks for.
    let tls = r.tls.as_ref().expect("the report has a tls section");
    let accepted: Vec<&str> = tls
        .protocols
        .iter()
        .filter(|p| p.accepted)
        .map(|p| p.version.as_str())
        .collect();
    assert_eq!(accepted, vec!["TLSv1.2", "TLSv1.3"]);
    assert!(
        tls.mozilla_intermediate.compliant,
        "{:?}",
        tls.mozilla_intermediate.deviations
    );
    assert!(tls.certificate_problems.is_empty());
    assert_eq!(tls.certificate_chain.len(), 2, "leaf and lab CA");
    assert!(
        tls.certificate_chain[0]
            .sans
            .contains(&"IP:127.0.0.1".to_string())
    );
    assert!(tls.handshakes > 0);
    // A figure for the record, not a timing assertion (speed is measured elsewhere).
    eprintln!(
        "hardened lab scan: {} requests and {} TLS handshakes in {} ms (lab start included: {:?})",
        r.requests_sent, tls.handshakes, r.duration_ms, took
    );
}

#[tokio::test]
async fn vulnerable_lab_fires_every_check_and_keeps_secrets_out() {
    let lab = authprobe_lab::start(LabOptions {
        profile: Profile::Vulnerable,
        flaws: vec![],
    })
    .await
    .unwrap();
    let opts = authprobe::cli::lab_scan_options(&lab.ready, Limits::default()).unwrap();
    let (r, _) = engine::scan(opts, Arc::new(Progress::default()))
        .await
        .unwrap();
    let mut got = ids(&r);
    got.sort();
    assert_eq!(
        got,
        vec![
            "auth.malformed_token_accepted",
            "auth.method_bypass",
            "auth.missing",
            "tls.forwarded_proto_trusted",
            "tls.hsts_missing",
            "tls.insecure_cookie",
            "tls.plaintext_http",
        ]
    );
    assert_eq!(r.grade, "F");
    assert!(r.grade_caps.iter().any(|c| c.reason.contains("critical")));
    let json = r.to_json();
    let token = &lab.ready.token;
    let password = lab.ready.basic.split_once(':').unwrap().1;
    // Neither the token nor any long piece of it (the signature) may leak.
    let signature = token.rsplit('.').next().unwrap();
    assert!(!json.contains(token.as_str()));
    assert!(!json.contains(&signature[..20]));
    assert!(!json.contains(password));
    assert!(json.contains("${AUTHPROBE_BEARER"));
}

#[tokio::test]
async fn scan_without_credentials_still_finds_missing_auth_tentatively() {
    let lab = authprobe_lab::start(LabOptions {
        profile: Profile::Hardened,
        flaws: vec!["auth.missing".into()],
    })
    .await
    .unwrap();
    let mut opts = authprobe::cli::lab_scan_options(&lab.ready, Limits::default()).unwrap();
    opts.creds = Default::default();
    let (r, _) = engine::scan(opts, Arc::new(Progress::default()))
        .await
        .unwrap();
    let f = r
        .findings
        .iter()
        .find(|f| f.id == "auth.missing")
        .expect("auth.missing without any baseline credential");
    assert_eq!(
        serde_json::to_value(f.confidence).unwrap(),
        serde_json::json!("tentative")
    );
}
