//! Verdicts that hold on real frameworks: the lab's modes play the behaviours that once
//! fooled the scanner (issue 12's observations), each tested three ways where it applies:
//! the flaw fires, the hardened variant is silent, and refused credentials stop the scan.

mod common;

use authprobe::engine::{self, Progress, ScanError, ScanOptions};
use authprobe::report::Report;
use authprobe_lab::{Lab, LabOptions, Profile};
use std::sync::Arc;

async fn lab(flaws: &[&str], modes: &[&str]) -> Lab {
    common::lab_with(LabOptions {
        profile: Profile::Hardened,
        flaws: common::strings(flaws),
        modes: common::strings(modes),
        origin: false,
        ..Default::default()
    })
    .await
}

fn options(lab: &Lab, checks: &[&str]) -> ScanOptions {
    let mut o = common::options(lab, common::quick_limits());
    o.only = checks.iter().map(|s| s.to_string()).collect();
    o
}

/// The lab's signing key, as a user who knows their staging key gives it.
fn with_key(mut o: ScanOptions, lab: &Lab) -> ScanOptions {
    common::give_signing_key(&mut o, lab);
    o
}

/// Certificate only: no token, no Basic pair.
fn cert_only(mut o: ScanOptions) -> ScanOptions {
    o.creds.bearer = None;
    o.creds.basic = None;
    o.basic.url = None;
    o
}

async fn scan(o: ScanOptions) -> Result<Report, ScanError> {
    engine::scan(o, Arc::new(Progress::default())).await
}

use common::sorted_ids as ids;

fn inconclusive<'a>(r: &'a Report, id: &str) -> Option<&'a str> {
    r.inconclusive
        .iter()
        .find(|i| i.id == id)
        .map(|i| i.reason.as_str())
}

fn refused(r: Result<Report, ScanError>) -> String {
    match r {
        Err(ScanError::CredentialsRefused(m)) => m,
        Err(e) => panic!("expected refused credentials, got another error: {e}"),
        Ok(r) => panic!("expected the scan to stop, got findings {:?}", ids(&r)),
    }
}

// Observation 2: a server that decodes without verifying still looks the user up from
// `sub`. Forgeries that keep every claim find it; a changed `sub` would only meet 401.
#[tokio::test]
async fn unverified_signatures_are_found_where_the_user_is_looked_up_from_sub() {
    let l = lab(&["jwt.signature_not_verified"], &["unknown-user-401"]).await;
    let r = scan(options(&l, &["jwt"])).await.unwrap();
    assert_eq!(
        ids(&r),
        vec!["jwt.signature_not_verified"],
        "{:?}",
        r.inconclusive
    );
    for dependent in ["jwt.alg_none", "jwt.empty_signature", "jwt.kid_injection"] {
        assert!(
            inconclusive(&r, dependent)
                .is_some_and(|why| why.starts_with("explained by jwt.signature_not_verified")),
            "{dependent}: {:?}",
            r.inconclusive
        );
    }
}

// The same on a GraphQL-style server that answers every refusal with 200 and `errors`.
#[tokio::test]
async fn errors_served_with_200_are_refusals() {
    let l = lab(
        &["jwt.signature_not_verified"],
        &["errors-200", "unknown-user-401"],
    )
    .await;
    let r = scan(options(&l, &["auth", "jwt"])).await.unwrap();
    assert_eq!(
        ids(&r),
        vec!["jwt.signature_not_verified"],
        "{:?}",
        r.inconclusive
    );

    let hardened = lab(&[], &["errors-200"]).await;
    let r = scan(options(&hardened, &["auth", "jwt"])).await.unwrap();
    assert!(ids(&r).is_empty(), "{:?}", ids(&r));
    assert!(
        inconclusive(&r, "auth.malformed_token_accepted").is_none(),
        "{:?}",
        r.inconclusive
    );

    // A garbage token is refused with 200 and an `errors` body: the scan stops.
    let mut o = options(&hardened, &["auth"]);
    o.creds.bearer = Some("not-a-token".into());
    let why = refused(scan(o).await);
    assert!(
        why.contains("refused your --bearer") && why.contains("200"),
        "{why}"
    );
}

// Observation 3: behind a proxy that verifies the certificate and maps it to a user, the
// certificate is the credential. Nothing is compared with a baseline taken without it.
#[tokio::test]
async fn a_certificate_only_api_is_judged_without_tokens() {
    let l = lab(&[], &["cert-only"]).await;
    let r = scan(cert_only(options(&l, &["auth", "mtls"])))
        .await
        .unwrap();
    assert!(ids(&r).is_empty(), "{:?}; {:?}", ids(&r), r.inconclusive);
    let skipped = |id: &str| {
        r.checks_skipped
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.reason.clone())
    };
    assert!(
        skipped("auth.malformed_token_accepted").is_some_and(|s| s.contains("certificate-only")),
        "{:?}",
        r.checks_skipped
    );
    assert!(r.checks_run.iter().any(|c| c == "auth.method_bypass"));
    assert!(
        r.checks_run
            .iter()
            .any(|c| c == "mtls.untrusted_cert_accepted")
    );

    let flawed = lab(&["mtls.untrusted_cert_accepted"], &["cert-only"]).await;
    let r = scan(cert_only(options(&flawed, &["auth", "mtls"])))
        .await
        .unwrap();
    assert_eq!(
        ids(&r),
        vec!["mtls.untrusted_cert_accepted"],
        "{:?}",
        r.inconclusive
    );
}

// Observation 4: the application checks the token before the certificate's mapping, so a
// certificate alone always gets the same 401. That likeness is not acceptance.
#[tokio::test]
async fn two_refusals_alike_do_not_make_a_finding() {
    let l = lab(&[], &["token-first"]).await;
    let checks = ["mtls.identity_not_mapped", "mtls.untrusted_cert_accepted"];
    let r = scan(options(&l, &checks)).await.unwrap();
    assert!(ids(&r).is_empty(), "{:?}", ids(&r));
    // Without the key, a token re-bound to the probe certificate cannot be made.
    assert!(
        inconclusive(&r, "mtls.identity_not_mapped").is_some_and(|w| w.contains("cnf")),
        "{:?}",
        r.inconclusive
    );
    let r = scan(with_key(options(&l, &checks), &l)).await.unwrap();
    assert!(ids(&r).is_empty(), "{:?}", ids(&r));
    assert!(r.inconclusive.is_empty(), "{:?}", r.inconclusive);

    let flawed = lab(&["mtls.identity_not_mapped"], &["token-first"]).await;
    let r = scan(with_key(options(&flawed, &checks), &flawed))
        .await
        .unwrap();
    assert_eq!(
        ids(&r),
        vec!["mtls.identity_not_mapped"],
        "{:?}",
        r.inconclusive
    );
    assert!(
        r.findings[0].description.contains("re-bound"),
        "{}",
        r.findings[0].description
    );
}

// Observation 7: unfamiliar refusal statuses are refusals.
#[tokio::test]
async fn unfamiliar_refusal_statuses_are_refusals() {
    for modes in [&["status-422-malformed"][..], &["status-403-missing"][..]] {
        let l = lab(&[], modes).await;
        let r = scan(options(&l, &["auth", "jwt"])).await.unwrap();
        // The 422 body is flask-jwt-extended's default, PyJWT's own exception text: that
        // is auth.verbose_errors' finding by the catalog's rules, and the only one.
        let expected: &[&str] = if modes == ["status-422-malformed"] {
            &["auth.verbose_errors"]
        } else {
            &[]
        };
        assert_eq!(ids(&r), expected, "{modes:?}: {:?}", r.inconclusive);
        assert!(
            r.inconclusive
                .iter()
                .all(|i| !i.reason.contains("resembles neither")),
            "{modes:?}: {:?}",
            r.inconclusive
        );
        assert!(
            inconclusive(&r, "auth.malformed_token_accepted").is_none(),
            "{modes:?}: {:?}",
            r.inconclusive
        );
    }
    let flawed = lab(
        &["auth.malformed_token_accepted"],
        &["status-422-malformed"],
    )
    .await;
    let r = scan(options(&flawed, &["auth"])).await.unwrap();
    assert_eq!(
        ids(&r),
        vec!["auth.malformed_token_accepted"],
        "{:?}",
        r.inconclusive
    );
}

// Observation 1: refused credentials are noticed before any probe.
#[tokio::test]
async fn refused_credentials_stop_the_scan_in_every_mode() {
    for modes in [
        &[][..],
        &["unknown-user-401"][..],
        &["status-403-missing"][..],
        &["status-422-malformed"][..],
    ] {
        let l = lab(&[], modes).await;
        let mut o = options(&l, &[]);
        o.creds.bearer = Some("not-a-token".into());
        let why = refused(scan(o).await);
        assert!(why.contains("refused your --bearer"), "{modes:?}: {why}");
    }
}
