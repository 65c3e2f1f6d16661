//! Inputs the user gave that cannot be used are reported as such: a check that needed them
//! says what was wrong with them, instead of "needs the signing key" or a quiet pass.

mod common;

use authprobe::report::Report;
use authprobe_lab::Profile;

async fn scan_with(
    flaws: &[&str],
    checks: &[&str],
    edit: impl FnOnce(&mut authprobe::engine::ScanOptions),
) -> Report {
    let lab = common::lab(Profile::Hardened, flaws).await;
    let mut opts = common::options(&lab, common::quick_limits());
    opts.only = common::strings(checks);
    edit(&mut opts);
    common::scan(opts).await
}

fn inconclusive<'a>(r: &'a Report, id: &str) -> Option<&'a str> {
    r.inconclusive
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.reason.as_str())
}

#[tokio::test]
async fn an_unusable_jwt_key_is_reported_by_the_checks_that_needed_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not-a-key.pem");
    std::fs::write(
        &bad,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let r = scan_with(&["jwt.expired_accepted"], &["jwt.expired_accepted"], |o| {
        o.jwt.key = Some(bad.clone());
    })
    .await;
    let reason = inconclusive(&r, "jwt.expired_accepted")
        .unwrap_or_else(|| panic!("inconclusive, not skipped or passed: {r:#?}"));
    assert!(
        reason.contains("--jwt-key") && reason.contains("not-a-key.pem"),
        "{reason}"
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[tokio::test]
async fn an_unusable_jwt_public_key_is_reported_by_key_confusion() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not-a-public-key.pem");
    std::fs::write(&bad, "hello").unwrap();
    let r = scan_with(&[], &["jwt.key_confusion"], |o| {
        o.jwt.public_key = Some(bad.clone());
    })
    .await;
    let reason = inconclusive(&r, "jwt.key_confusion")
        .unwrap_or_else(|| panic!("inconclusive, not skipped or passed: {r:#?}"));
    assert!(reason.contains("--jwt-public-key"), "{reason}");
}
