//! The lab's modes, each seen by a raw client as the scanner would meet the framework it
//! imitates, and the TLS-layer flaws combined as real proxies combine them.

mod support;

use authprobe_lab::LabOptions;
use serde_json::{Value, json};
use support::{
    Answer, Kind, alice, bit_flipped, lab, login, me, mint, payload_with, resigned, segments, send,
};

const NOT_PROVIDED: &str = "Authentication credentials were not provided.";

fn ok(r: Result<Answer, String>) -> Answer {
    r.unwrap_or_else(|e| panic!("no answer: {e}"))
}

#[tokio::test]
async fn unknown_mode_is_refused_and_modes_are_in_the_ready_json() {
    let err = authprobe_lab::start(LabOptions {
        modes: vec!["graphql".into()],
        ..LabOptions::default()
    })
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("known modes"), "{err}");
    let l = lab(&[], &["token-first", "errors-200"]).await;
    assert_eq!(l.ready.modes, ["errors-200", "token-first"]);
    assert!(lab(&[], &[]).await.ready.modes.is_empty());
}

#[tokio::test]
async fn cert_only_maps_the_certificate_and_never_reads_a_token() {
    let l = lab(&[], &["cert-only"]).await;
    let a = ok(me(&l, None, Some(&l.ready.token)).await);
    assert_eq!(
        (a.status, a.json()["detail"].as_str()),
        (401, Some(NOT_PROVIDED))
    );
    for token in [None, Some("garbage"), Some(l.ready.token.as_str())] {
        let a = ok(me(&l, Some(&alice(&l)), token).await);
        assert_eq!(
            (a.status, a.json()["user"].as_str()),
            (200, Some("alice")),
            "{token:?}"
        );
    }
    let mallory = mint(&l, "mallory", Kind::Good);
    let a = ok(me(&l, Some(&mallory), Some(&l.ready.token)).await);
    assert_eq!(a.status, 403, "{}", a.body);
    let admin = ok(send(&l, Some(&alice(&l)), authprobe_lab::ADMIN_PATH, "").await);
    assert_eq!(admin.status, 403);

    let l = lab(&["mtls.identity_not_mapped"], &["cert-only"]).await;
    let a = ok(me(&l, Some(&mint(&l, "mallory", Kind::Good)), None).await);
    assert_eq!(
        (a.status, a.json()["user"].as_str()),
        (200, Some("svc-readonly"))
    );
    assert_eq!(ok(me(&l, None, None).await).status, 401);

    let l = lab(&["mtls.not_required"], &["cert-only"]).await;
    let a = ok(me(&l, None, None).await);
    assert_eq!(
        (a.status, a.json()["user"].as_str()),
        (200, Some("anonymous"))
    );
    assert_eq!(
        ok(me(&l, Some(&mint(&l, "mallory", Kind::Good)), None).await).status,
        403
    );
}

#[tokio::test]
async fn unknown_user_401_looks_the_subject_up_before_anything_else() {
    let user_not_found = json!({ "detail": "User not found", "code": "user_not_found" });
    let l = lab(&[], &["unknown-user-401"]).await;
    let cert = alice(&l);
    assert_eq!(
        ok(me(&l, Some(&cert), Some(&l.ready.token)).await).status,
        200
    );
    let nobody = resigned(&l, &l.ready.token, "sub", "nobody");
    let a = ok(me(&l, Some(&cert), Some(&nobody)).await);
    assert_eq!((a.status, a.stable_json()), (401, user_not_found.clone()));
    assert!(a.challenged());
    // A subject that names another user is still the certificate's business.
    let admin = resigned(&l, &l.ready.token, "sub", "root-admin");
    assert_eq!(ok(me(&l, Some(&cert), Some(&admin)).await).status, 403);
    // Without the mode the same token is a 403.
    let plain = lab(&[], &[]).await;
    let nobody = resigned(&plain, &plain.ready.token, "sub", "nobody");
    let a = ok(me(&plain, Some(&alice(&plain)), Some(&nobody)).await);
    assert_eq!(a.status, 403);

    // A DRF app decoding with verify_signature False still looks the user up.
    let l = lab(&["jwt.signature_not_verified"], &["unknown-user-401"]).await;
    let cert = alice(&l);
    let (h, p, s) = segments(&l.ready.token);
    let changed = format!("{h}.{}.{s}", payload_with(&l.ready.token, "sub", "nobody"));
    let a = ok(me(&l, Some(&cert), Some(&changed)).await);
    assert_eq!((a.status, a.stable_json()), (401, user_not_found));
    let random = format!("{h}.{p}.{}", "A".repeat(86));
    for kept in [bit_flipped(&l.ready.token), random, format!("{h}.{p}.")] {
        let a = ok(me(&l, Some(&cert), Some(&kept)).await);
        assert_eq!(
            (a.status, a.json()["user"].as_str()),
            (200, Some("alice")),
            "{kept}"
        );
    }
}

#[tokio::test]
async fn errors_200_wraps_every_answer_of_the_protected_routes() {
    let l = lab(&[], &["errors-200"]).await;
    let cert = alice(&l);
    let a = ok(me(&l, Some(&cert), Some(&l.ready.token)).await);
    assert_eq!(
        (a.status, a.json()["data"]["user"].as_str()),
        (200, Some("alice"))
    );
    assert!(a.json()["data"]["account"].is_object());

    let refusals = [
        (Some(&cert), None, "UNAUTHENTICATED"),
        (
            Some(&cert),
            Some(bit_flipped(&l.ready.token)),
            "UNAUTHENTICATED",
        ),
        (None, Some(l.ready.token.clone()), "FORBIDDEN"),
    ];
    for (cert, token, code) in refusals {
        let a = ok(me(&l, cert, token.as_deref()).await);
        let v = a.json();
        assert_eq!((a.status, &v["data"]), (200, &Value::Null), "{}", a.body);
        let e = &v["errors"][0];
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        assert_eq!(e["extensions"]["code"], code, "{v}");
        assert!(!a.challenged());
    }
    // Only the protected routes speak GraphQL.
    let health = ok(send(&l, None, "/health", "").await);
    assert_eq!(health.json()["status"], "ok");
}

#[tokio::test]
async fn status_403_missing_keeps_401_for_invalid_credentials() {
    let l = lab(&[], &["status-403-missing"]).await;
    let cert = alice(&l);
    let a = ok(me(&l, Some(&cert), None).await);
    assert_eq!(
        (a.status, a.json()["detail"].as_str()),
        (403, Some(NOT_PROVIDED))
    );
    assert!(!a.challenged());
    for bad in [bit_flipped(&l.ready.token), "garbage".to_string()] {
        let a = ok(me(&l, Some(&cert), Some(&bad)).await);
        assert_eq!(a.status, 401, "{bad}");
        assert!(a.challenged());
    }
    assert_eq!(
        ok(me(&l, Some(&cert), Some(&l.ready.token)).await).status,
        200
    );
}

#[tokio::test]
async fn status_422_malformed_only_for_values_that_are_not_jwts() {
    let l = lab(&[], &["status-422-malformed"]).await;
    let cert = alice(&l);
    let (h, p, s) = segments(&l.ready.token);
    for garbage in [
        "garbage".to_string(),
        format!("{h}.{p}"),
        format!("!!!.{p}.{s}"),
        format!("{h}.bm90IGpzb24.{s}"),
    ] {
        let a = ok(me(&l, Some(&cert), Some(&garbage)).await);
        let body = a.stable_json();
        assert_eq!(
            (a.status, body),
            (422, json!({ "msg": "Not enough segments" })),
            "{garbage}"
        );
    }
    let a = ok(me(&l, Some(&cert), Some(&bit_flipped(&l.ready.token))).await);
    assert_eq!(a.status, 401);
    assert_eq!(
        ok(me(&l, Some(&cert), Some(&l.ready.token)).await).status,
        200
    );
    let plain = lab(&[], &[]).await;
    assert_eq!(
        ok(me(&plain, Some(&alice(&plain)), Some("garbage")).await).status,
        401
    );
}

#[tokio::test]
async fn token_first_answers_alike_whatever_the_certificate_until_the_token_is_valid() {
    let l = lab(&[], &["token-first"]).await;
    let token = l.ready.token.clone();
    let mallory = mint(&l, "mallory", Kind::Good);
    let twin = mint(&l, "alice", Kind::Good);
    let first = ok(me(&l, Some(&alice(&l)), None).await);
    assert_eq!(first.stable_json(), json!({ "detail": NOT_PROVIDED }));
    assert_eq!(first.status, 401);
    assert!(first.challenged());
    let flipped = bit_flipped(&token);
    let attempts = [
        (Some(&mallory), None),
        (Some(&twin), None),
        (None, None),
        (Some(&mallory), Some(flipped.as_str())),
        (Some(&alice(&l)), Some("garbage")),
    ];
    for (i, (cert, token)) in attempts.into_iter().enumerate() {
        let a = ok(me(&l, cert, token).await);
        assert_eq!(
            (a.status, a.stable_json()),
            (401, first.stable_json()),
            "attempt {i}"
        );
    }
    // A valid token does not make an unmapped or unbound certificate acceptable.
    assert_eq!(ok(me(&l, Some(&mallory), Some(&token)).await).status, 403);
    assert_eq!(ok(me(&l, Some(&twin), Some(&token)).await).status, 403);
    assert_eq!(ok(me(&l, None, Some(&token)).await).status, 403);
    assert_eq!(ok(me(&l, Some(&alice(&l)), Some(&token)).await).status, 200);
    // Without the mode the certificate's mapping answers first.
    let plain = lab(&[], &[]).await;
    let mallory = mint(&plain, "mallory", Kind::Good);
    assert_eq!(ok(me(&plain, Some(&mallory), None).await).status, 403);
}

/// Whether `kind` reaches the protected resource (with a token bound to it), or the
/// handshake alert that refused it.
async fn reaches(l: &authprobe_lab::Lab, kind: Kind) -> Result<(), String> {
    let cert = mint(l, "alice", kind);
    // The handshake alone first: login must not be where a refusal surfaces.
    me(l, Some(&cert), None).await?;
    let token = login(l, &cert).await;
    let a = ok(me(l, Some(&cert), Some(&token)).await);
    assert_eq!(a.status, 200, "{kind:?}: {}", a.body);
    Ok(())
}

#[tokio::test]
async fn apache_optional_no_ca_forgives_the_issuer_and_nothing_else() {
    let l = lab(&["mtls.untrusted_cert_accepted"], &[]).await;
    for kind in [Kind::SelfSigned, Kind::ForeignCa, Kind::Good] {
        assert_eq!(reaches(&l, kind).await, Ok(()), "{kind:?}");
    }
    for (kind, alert) in [
        (Kind::Expired, "CertificateExpired"),
        (Kind::ServerAuthOnly, "UnsupportedCertificate"),
        (Kind::SelfSignedExpired, "CertificateExpired"),
    ] {
        let r = reaches(&l, kind).await;
        assert!(
            r.as_ref().is_err_and(|e| e.contains(alert)),
            "{kind:?}: {r:?}"
        );
    }
}

#[tokio::test]
async fn haproxy_ignore_all_errors_accepts_every_certificate() {
    let flaws = [
        "mtls.untrusted_cert_accepted",
        "mtls.expired_cert_accepted",
        "mtls.eku_not_checked",
    ];
    let l = lab(&flaws, &[]).await;
    for kind in [
        Kind::SelfSigned,
        Kind::ForeignCa,
        Kind::Expired,
        Kind::ServerAuthOnly,
        Kind::SelfSignedExpired,
    ] {
        assert_eq!(reaches(&l, kind).await, Ok(()), "{kind:?}");
    }
}
