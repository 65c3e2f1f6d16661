//! End to end: the lab on 127.0.0.1, scanned through the engine exactly as the CLI does.
//! Each flaw alone must make its check fire; the hardened lab must give nothing above
//! info and grade A.

mod common;

use authprobe::engine::{self, Progress};
use authprobe::finding::Severity;
use authprobe::http::Limits;
use authprobe::report::Report;
use authprobe_lab::{LabOptions, Profile};
use common::{give_signing_key, ids};
use std::sync::Arc;
use std::time::Instant;

async fn scan_lab(profile: Profile, flaws: &[&str]) -> Report {
    let lab = common::lab(profile, flaws).await;
    let mut opts = common::options(&lab, common::quick_limits());
    give_signing_key(&mut opts, &lab);
    common::scan(opts).await
}

async fn assert_flaw_fires_alone(flaw: &str) {
    assert_flaw_fires(flaw, &[flaw]).await;
}

/// For a flaw that necessarily shows up in more than its own check: `expected` lists
/// every check that must fire, and nothing else may.
async fn assert_flaw_fires(flaw: &str, expected: &[&str]) -> Report {
    let r = scan_lab(Profile::Hardened, &[flaw]).await;
    let mut got = ids(&r);
    got.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(
        got, want,
        "with only {flaw} switched on, exactly {expected:?} must fire; inconclusive: {:?}",
        r.inconclusive
    );
    for f in &r.findings {
        assert!(!f.evidence.curl.is_empty() && f.evidence.curl.starts_with("curl "));
        assert!(!f.evidence.request.is_empty());
        assert!(!f.cwe.is_empty() && !f.owasp.is_empty());
        assert!(!f.remediation.frameworks.is_empty());
    }
    r
}

/// Every check that declares a lab flaw finds it with that flaw alone on, so a new check
/// with a lab flaw needs no test of its own to be held to it. Scans run a few at a time:
/// each lab is its own set of listeners, and the machines that run this have few cores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lab_flaw_is_found_by_its_check() {
    const AT_ONCE: usize = 4;
    let started = Instant::now();
    let flaws: Vec<&'static str> = authprobe::checks::registry()
        .iter()
        .filter_map(|c| c.meta().lab_flaw)
        .collect();
    assert!(!flaws.is_empty());
    let mut missed = Vec::new();
    for group in flaws.chunks(AT_ONCE) {
        let reports = futures::future::join_all(group.iter().map(|f| scan_lab_for(f))).await;
        for (flaw, r) in group.iter().zip(reports) {
            if !ids(&r).contains(flaw) {
                missed.push(format!(
                    "{flaw}: found {:?}; inconclusive {:?}; skipped {:?}",
                    ids(&r),
                    r.inconclusive,
                    r.checks_skipped
                ));
            }
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
    eprintln!(
        "{} lab flaws, each found by its check, in {:.1} s",
        flaws.len(),
        started.elapsed().as_secs_f64()
    );
}

/// [`scan_lab`] with the one flaw on, set up as the flaw's dedicated test does.
async fn scan_lab_for(flaw: &str) -> Report {
    let lab = common::lab(Profile::Hardened, &[flaw]).await;
    let mut opts = common::options(&lab, common::quick_limits());
    // The weak secret is to be recovered, not given.
    if flaw != "jwt.weak_hmac_secret" {
        give_signing_key(&mut opts, &lab);
    }
    // The lab's description is the flaw: read it as `--spec auto` would.
    if flaw.starts_with("spec.") {
        let limits = authprobe::http::Limits {
            max_body: authprobe::spec::MAX_SPEC_BYTES,
            ..common::quick_limits()
        };
        let http = authprobe::http::Http::new(limits, opts.tls.clone());
        let url = url::Url::parse(&lab.ready.openapi_url).expect("openapi_url");
        let (spec, _) = authprobe::spec::fetch(&http, &url)
            .await
            .expect("the lab serves its description");
        opts.spec = Some(std::sync::Arc::new(spec));
    }
    common::scan(opts).await
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
    // The whole API answers plain HTTP, the token endpoint included: Basic passwords are
    // then accepted in clear too, so basic.cleartext necessarily fires with it.
    assert_flaw_fires(
        "tls.plaintext_http",
        &["tls.plaintext_http", "basic.cleartext"],
    )
    .await;
}

#[tokio::test]
async fn auth_scheme_confusion_fires_on_its_flaw() {
    let r = assert_flaw_fires("auth.scheme_confusion", &["auth.scheme_confusion"]).await;
    // The made-up Basic user next to a valid token became the caller.
    assert!(
        r.findings[0].description.contains("made-up user"),
        "{}",
        r.findings[0].description
    );
}

#[tokio::test]
async fn auth_verbose_errors_fires_on_its_flaw() {
    assert_flaw_fires_alone("auth.verbose_errors").await;
}

#[tokio::test]
async fn auth_user_enumeration_fires_on_its_flaw_by_timing() {
    let r = assert_flaw_fires("auth.user_enumeration", &["auth.user_enumeration"]).await;
    // The bodies are identical by design: only the timing test can have found it.
    assert!(
        r.findings[0].description.contains("Mann-Whitney"),
        "{}",
        r.findings[0].description
    );
}

#[tokio::test]
async fn basic_cleartext_fires_on_its_flaw() {
    let r = assert_flaw_fires("basic.cleartext", &["basic.cleartext"]).await;
    assert!(r.findings[0].evidence.request.contains("[plain HTTP]"));
    assert!(
        r.findings[0]
            .evidence
            .request
            .contains("${AUTHPROBE_BASIC}")
    );
}

#[tokio::test]
async fn basic_default_credentials_fires_on_its_flaw() {
    let r = assert_flaw_fires("basic.default_credentials", &["basic.default_credentials"]).await;
    assert!(r.findings[0].description.contains("admin:admin"));
}

#[tokio::test]
async fn basic_no_lockout_fires_on_its_flaw() {
    assert_flaw_fires_alone("basic.no_lockout").await;
}

#[tokio::test]
async fn basic_realm_leak_fires_on_its_flaw() {
    assert_flaw_fires_alone("basic.realm_leak").await;
}

/// Runs only basic.no_lockout against a fresh lab and returns the lab to count what it got.
async fn lockout_only(flaws: &[&str], attempts: usize) -> (authprobe_lab::Lab, Report) {
    let lab = authprobe_lab::start(LabOptions {
        profile: Profile::Hardened,
        flaws: flaws.iter().map(|s| s.to_string()).collect(),
        origin: false,
        modes: Vec::new(),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut opts = authprobe::lab_target::scan_options(&lab.ready, Limits::default()).unwrap();
    opts.basic.lockout_attempts = attempts;
    let r = engine::scan_with(
        opts,
        vec![Box::new(authprobe::checks::basic::no_lockout::NoLockout)],
        Arc::new(Progress::default()),
    )
    .await
    .unwrap();
    (lab, r)
}

#[tokio::test]
async fn lockout_burst_stays_within_its_bound() {
    let (lab, r) = lockout_only(&["basic.no_lockout"], 7).await;
    assert_eq!(ids(&r), vec!["basic.no_lockout"]);
    // Two logins before, exactly the 7 failures asked for, one login after.
    assert_eq!(lab.failed_logins("alice"), 7);
    assert_eq!(lab.login_attempts("alice"), 2 + 7 + 1);
}

#[tokio::test]
async fn lockout_burst_stops_at_the_first_throttle() {
    let (lab, r) = lockout_only(&[], 20).await;
    assert!(r.findings.is_empty(), "{:?}", ids(&r));
    assert!(r.inconclusive.is_empty(), "{:?}", r.inconclusive);
    // The hardened lab throttles after THROTTLE_FAILURES: the burst stops at the first
    // 429 (the one attempt past the limit) and never tries the real password after it.
    assert_eq!(lab.failed_logins("alice"), authprobe_lab::THROTTLE_FAILURES);
    assert_eq!(
        lab.login_attempts("alice"),
        2 + authprobe_lab::THROTTLE_FAILURES + 1
    );
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
        "auth.scheme_confusion",
        "auth.verbose_errors",
        "auth.user_enumeration",
        "tls.plaintext_http",
        "tls.hsts_missing",
        "basic.cleartext",
        "basic.default_credentials",
        "basic.no_lockout",
        "basic.realm_leak",
        "tls.legacy_protocol",
        "tls.weak_cipher",
        "tls.no_forward_secrecy",
        "tls.no_tls13",
        "tls.cert_invalid",
        "tls.cert_weak_key",
        "tls.forwarded_proto_trusted",
        "tls.insecure_cookie",
        "auth.token_optional_with_cert",
        "mtls.not_required",
        "mtls.untrusted_cert_accepted",
        "mtls.expired_cert_accepted",
        "mtls.revoked_cert_accepted",
        "mtls.eku_not_checked",
        "mtls.identity_not_mapped",
        "mtls.header_spoofing",
        "mtls.token_not_bound",
    ] {
        assert!(r.checks_run.iter().any(|c| c == id), "{id} must have run");
    }
    // The lab asks for certificates optionally (so /health works without one) and names
    // its CA, on both protocol versions.
    let ca = r.client_auth.as_ref().expect("a client_auth section");
    assert_eq!(ca.mode, "optional");
    assert_eq!(ca.versions.len(), 2);
    for v in &ca.versions {
        assert_eq!(v.mode, "optional", "{v:?}");
        assert_eq!(
            v.ca_names,
            vec!["O=authprobe lab, CN=authprobe lab CA"],
            "{v:?}"
        );
        assert!(!v.signature_algorithms.is_empty());
        assert!(v.without_certificate.starts_with("HTTP/1.1 "), "{v:?}");
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
        origin: false,
        modes: Vec::new(),
        ..Default::default()
    })
    .await
    .unwrap();
    let opts = authprobe::lab_target::scan_options(&lab.ready, Limits::default()).unwrap();
    let r = engine::scan(opts, Arc::new(Progress::default()))
        .await
        .unwrap();
    let mut got = ids(&r);
    got.sort();
    // Every flaw is on but the two that mask others (MASKING_FLAWS). Root causes are
    // reported once where implied by construction: signature_not_verified explains the
    // other forgeries (reported inconclusive). The expired, revoked and wrong-EKU
    // certificates are each sent and each accepted: a proxy that takes self-signed
    // certificates does not necessarily take those, so they are findings of their own.
    assert_eq!(
        got,
        vec![
            "auth.malformed_token_accepted",
            "auth.method_bypass",
            "auth.missing",
            "auth.scheme_confusion",
            "auth.user_enumeration",
            "auth.verbose_errors",
            "basic.cleartext",
            "basic.default_credentials",
            "basic.no_lockout",
            "basic.realm_leak",
            "jwt.audience_not_checked",
            "jwt.expired_accepted",
            "jwt.issuer_not_checked",
            "jwt.missing_audience_or_issuer",
            "jwt.missing_exp",
            "jwt.nbf_not_enforced",
            "jwt.sensitive_claims",
            "jwt.signature_not_verified",
            "jwt.token_in_url",
            "jwt.weak_hmac_secret",
            "mtls.eku_not_checked",
            "mtls.expired_cert_accepted",
            "mtls.header_spoofing",
            "mtls.identity_not_mapped",
            "mtls.revoked_cert_accepted",
            "mtls.token_not_bound",
            "mtls.untrusted_cert_accepted",
            "tls.forwarded_proto_trusted",
            "tls.hsts_missing",
            "tls.insecure_cookie",
            "tls.plaintext_http",
        ]
    );
    // Every check the catalog says the unverified signature explains, read from the
    // metadata so that a new one is held to it without being listed here.
    let implied: Vec<&str> = authprobe::checks::registry()
        .iter()
        .map(|c| c.meta())
        .filter(|m| m.explained_by.contains(&"jwt.signature_not_verified"))
        .map(|m| m.id)
        .collect();
    assert!(implied.len() >= 5, "{implied:?}");
    for implied in implied {
        assert!(
            r.inconclusive.iter().any(|i| i.id == implied
                && i.reason
                    .starts_with("explained by jwt.signature_not_verified")),
            "{implied}: {:?}",
            r.inconclusive
        );
    }
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
        origin: false,
        modes: Vec::new(),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut opts = authprobe::lab_target::scan_options(&lab.ready, Limits::default()).unwrap();
    opts.creds = Default::default();
    let r = engine::scan(opts, Arc::new(Progress::default()))
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

#[tokio::test]
async fn auth_token_optional_with_cert_fires_on_its_flaw() {
    let r = assert_flaw_fires(
        "auth.token_optional_with_cert",
        &["auth.token_optional_with_cert"],
    )
    .await;
    // The checks that send the certificate with a broken token defer to it.
    for id in ["auth.malformed_token_accepted", "jwt.token_in_url"] {
        let i = r.inconclusive.iter().find(|i| i.id == id);
        assert!(
            i.is_some_and(|i| i.reason.contains("auth.token_optional_with_cert")),
            "{id}: {:?}",
            r.inconclusive
        );
    }
}

#[tokio::test]
async fn mtls_not_required_fires_on_its_flaw() {
    let r = assert_flaw_fires("mtls.not_required", &["mtls.not_required"]).await;
    assert!(r.findings[0].evidence.curl.contains("curl "));
    assert!(!r.findings[0].evidence.curl.contains("--cert "));
}

#[tokio::test]
async fn mtls_untrusted_cert_accepted_fires_on_its_flaw() {
    let r = assert_flaw_fires(
        "mtls.untrusted_cert_accepted",
        &["mtls.untrusted_cert_accepted"],
    )
    .await;
    // Like Apache's optional_no_ca, the flaw tolerates an unknown issuer only: the
    // expired, wrong-EKU and revoked certificates are still sent, and still refused.
    // Untrusted-accepted does not imply expired-accepted, so nothing is assumed.
    for id in [
        "mtls.expired_cert_accepted",
        "mtls.eku_not_checked",
        "mtls.revoked_cert_accepted",
    ] {
        assert!(r.checks_run.iter().any(|c| c == id), "{id} must run");
        assert!(
            !r.inconclusive.iter().any(|i| i.id == id),
            "{id}: {:?}",
            r.inconclusive
        );
    }
    assert!(r.findings[0].evidence.curl.contains("--cert "));
}

#[tokio::test]
async fn mtls_expired_cert_accepted_fires_on_its_flaw() {
    assert_flaw_fires_alone("mtls.expired_cert_accepted").await;
}

#[tokio::test]
async fn mtls_revoked_cert_accepted_fires_on_its_flaw() {
    assert_flaw_fires_alone("mtls.revoked_cert_accepted").await;
}

#[tokio::test]
async fn mtls_eku_not_checked_fires_on_its_flaw() {
    assert_flaw_fires_alone("mtls.eku_not_checked").await;
}

#[tokio::test]
async fn mtls_identity_not_mapped_fires_on_its_flaw() {
    let r = assert_flaw_fires_alone_report("mtls.identity_not_mapped").await;
    assert!(
        r.findings[0].description.contains("CN=authprobe-unmapped-"),
        "{}",
        r.findings[0].description
    );
}

#[tokio::test]
async fn mtls_header_spoofing_fires_on_its_flaw() {
    let r = assert_flaw_fires_alone_report("mtls.header_spoofing").await;
    let f = &r.findings[0];
    assert!(f.description.contains("the origin"), "{}", f.description);
    assert!(
        f.evidence.request.contains("X-SSL-Client-Cert"),
        "{}",
        f.evidence.request
    );
    // Over plain HTTP and with no certificate: what anyone on the network can send.
    assert!(f.evidence.curl.contains("http://127.0.0.1:"));
    assert!(!f.evidence.curl.contains("--cert "));
}

#[tokio::test]
async fn mtls_token_not_bound_fires_on_its_flaw() {
    let r = assert_flaw_fires_alone_report("mtls.token_not_bound").await;
    assert!(
        r.findings[0].description.contains("cnf.x5t#S256"),
        "{}",
        r.findings[0].description
    );
}

async fn assert_flaw_fires_alone_report(flaw: &str) -> Report {
    assert_flaw_fires(flaw, &[flaw]).await
}

#[tokio::test]
async fn a_tls_layer_that_ignores_every_certificate_error_is_reported_for_each() {
    // HAProxy `crt-ignore-err all ca-ignore-err all`: self-signed, expired and
    // serverAuth-only certificates all pass, and each is its own finding.
    let r = scan_lab(
        Profile::Hardened,
        &[
            "mtls.untrusted_cert_accepted",
            "mtls.expired_cert_accepted",
            "mtls.eku_not_checked",
        ],
    )
    .await;
    let mut got = ids(&r);
    got.sort();
    assert_eq!(
        got,
        vec![
            "mtls.eku_not_checked",
            "mtls.expired_cert_accepted",
            "mtls.untrusted_cert_accepted"
        ],
        "inconclusive: {:?}",
        r.inconclusive
    );
}
