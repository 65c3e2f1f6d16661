//! The `jwt.*` suite end to end: each lab flaw alone makes exactly its check fire; the
//! hardened lab yields no `jwt.*` finding; and the traps that fool status-code scanners
//! (200 error pages, redirects on bad tokens) give no finding.

use authprobe::engine::{self, Progress, ScanOptions};
use authprobe::http::Limits;
use authprobe::report::Report;
use authprobe_lab::{Lab, LabOptions, Profile};
use std::sync::Arc;
use std::time::Duration;

async fn lab(flaws: &[&str]) -> Lab {
    authprobe_lab::start(LabOptions {
        profile: Profile::Hardened,
        flaws: flaws.iter().map(|s| s.to_string()).collect(),
        origin: false,
        modes: Vec::new(),
    })
    .await
    .expect("lab starts")
}

/// Scan options as a user who knows the staging signing key would pass them.
fn options(lab: &Lab, with_key: bool) -> ScanOptions {
    let limits = Limits {
        timeout: Duration::from_secs(5),
        ..Limits::default()
    };
    let mut o = authprobe::cli::lab_scan_options(&lab.ready, limits).unwrap();
    let key = &lab.jwt_key;
    if with_key {
        let text = std::fs::read_to_string(key).unwrap();
        if text.contains("-----BEGIN") {
            o.jwt.key = Some(key.clone());
        } else {
            o.jwt.secret = Some(text);
        }
    }
    o
}

async fn scan(o: ScanOptions) -> Report {
    engine::scan(o, Arc::new(Progress::default()))
        .await
        .expect("scan completes")
        .0
}

fn jwt_ids(r: &Report) -> Vec<&str> {
    r.findings
        .iter()
        .map(|f| f.id.as_str())
        .filter(|id| id.starts_with("jwt."))
        .collect()
}

/// With only `flaw` on, exactly `flaw` fires among all checks.
async fn fires_alone(flaw: &str, with_key: bool) -> Report {
    let lab = lab(&[flaw]).await;
    let r = scan(options(&lab, with_key)).await;
    let ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![flaw],
        "with only {flaw} on; inconclusive: {:?}",
        r.inconclusive
    );
    r
}

#[tokio::test]
async fn alg_none() {
    let r = fires_alone("jwt.alg_none", true).await;
    // The forged identity was followed: the lab echoes the changed role claim.
    assert_eq!(
        serde_json::to_value(r.findings[0].confidence).unwrap(),
        "confirmed"
    );
}

#[tokio::test]
async fn signature_not_verified_explains_every_other_forgery() {
    let r = fires_alone("jwt.signature_not_verified", true).await;
    // The other forgeries are accepted too, but reported as implied, not as findings.
    for id in ["jwt.alg_none", "jwt.empty_signature", "jwt.kid_injection"] {
        let i = r
            .inconclusive
            .iter()
            .find(|i| i.id == id)
            .unwrap_or_else(|| panic!("{id} must be inconclusive"));
        assert!(i.reason.contains("jwt.signature_not_verified"));
    }
}

#[tokio::test]
async fn empty_signature() {
    fires_alone("jwt.empty_signature", true).await;
}

#[tokio::test]
async fn weak_hmac_secret_is_cracked_and_masked() {
    // No key given: the cracker must recover it.
    let r = fires_alone("jwt.weak_hmac_secret", false).await;
    let json = r.to_json();
    assert!(!json.contains(authprobe_lab::WEAK_SECRET));
    assert!(r.findings[0].description.contains("su**********ey"));
}

#[tokio::test]
async fn weak_hmac_secret_key_feeds_the_claim_checks() {
    // Together with an exp flaw, the cracked key mints the expired token.
    let lab = lab(&["jwt.weak_hmac_secret", "jwt.expired_accepted"]).await;
    let r = scan(options(&lab, false)).await;
    let mut ids = jwt_ids(&r);
    ids.sort();
    assert_eq!(ids, vec!["jwt.expired_accepted", "jwt.weak_hmac_secret"]);
}

#[tokio::test]
async fn key_confusion() {
    fires_alone("jwt.key_confusion", true).await;
}

#[tokio::test]
async fn embedded_jwk() {
    fires_alone("jwt.embedded_jwk", true).await;
}

#[tokio::test]
async fn jku_injection() {
    fires_alone("jwt.jku_injection", true).await;
}

#[tokio::test]
async fn kid_injection_implies_key_confusion() {
    // The flawed loader reads the key file named by kid and lets the token's alg decide
    // how to use its bytes; the legitimate kid's file holds the public key PEM, so an
    // HS256 token keyed with that PEM passes too. That is key confusion, genuinely
    // present, so both fire.
    let lab = lab(&["jwt.kid_injection"]).await;
    let r = scan(options(&lab, true)).await;
    let mut ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, vec!["jwt.key_confusion", "jwt.kid_injection"]);
}

#[tokio::test]
async fn psychic_signature() {
    fires_alone("jwt.psychic_signature", true).await;
}

#[tokio::test]
async fn expired_accepted() {
    let r = fires_alone("jwt.expired_accepted", true).await;
    // The minted token is a live credential: never in the report.
    assert!(
        r.findings[0]
            .evidence
            .request
            .contains("${AUTHPROBE_MINTED_TOKEN}")
    );
}

#[tokio::test]
async fn nbf_not_enforced() {
    fires_alone("jwt.nbf_not_enforced", true).await;
}

#[tokio::test]
async fn audience_not_checked() {
    fires_alone("jwt.audience_not_checked", true).await;
}

#[tokio::test]
async fn issuer_not_checked() {
    fires_alone("jwt.issuer_not_checked", true).await;
}

#[tokio::test]
async fn missing_exp() {
    fires_alone("jwt.missing_exp", true).await;
}

#[tokio::test]
async fn long_lifetime() {
    fires_alone("jwt.long_lifetime", true).await;
}

#[tokio::test]
async fn missing_audience_or_issuer() {
    fires_alone("jwt.missing_audience_or_issuer", true).await;
}

#[tokio::test]
async fn sensitive_claims() {
    let r = fires_alone("jwt.sensitive_claims", true).await;
    assert!(!r.to_json().contains("alice@example-logistics.test"));
}

#[tokio::test]
async fn token_in_url() {
    let r = fires_alone("jwt.token_in_url", true).await;
    assert!(r.findings[0].evidence.curl.contains("${AUTHPROBE_BEARER}"));
}

#[tokio::test]
async fn hardened_lab_yields_no_jwt_finding_with_or_without_the_key() {
    for with_key in [true, false] {
        let lab = lab(&[]).await;
        let r = scan(options(&lab, with_key)).await;
        assert!(
            r.findings.is_empty(),
            "with_key={with_key}: {:?}",
            jwt_ids(&r)
        );
        assert_eq!(r.grade, "A");
        eprintln!(
            "hardened lab, full scan (key given: {with_key}): {} requests, {} ms",
            r.requests_sent, r.duration_ms
        );
    }
}

mod traps {
    //! Servers that fool status-code scanners. Each accepts only the exact token it issued
    //! (so any JWT finding would be a false positive), and refuses in a misleading way.
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[derive(Clone, Copy)]
    enum Refusal {
        /// 200 with an error body.
        ErrorPage200,
        /// 302 to a login page.
        RedirectToLogin,
    }

    fn hs256(secret: &[u8], header: &str, payload: &str) -> String {
        use base64::Engine;
        use hmac::Mac;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let input = format!("{}.{}", b64.encode(header), b64.encode(payload));
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
        mac.update(input.as_bytes());
        format!("{input}.{}", b64.encode(mac.finalize().into_bytes()))
    }

    async fn server(token: String, refusal: Refusal) -> String {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let token = token.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16384];
                    let Ok(n) = s.read(&mut buf).await else {
                        return;
                    };
                    let head = String::from_utf8_lossy(&buf[..n]).to_string();
                    let authorized = head
                        .lines()
                        .any(|l| l.eq_ignore_ascii_case(&format!("authorization: bearer {token}")));
                    let rid: u64 = rand::random();
                    let resp = if authorized {
                        let body = format!(
                            r#"{{"user":"alice","orders":[{{"id":"o-1","total":"12.50"}},{{"id":"o-2","total":"99.00"}}],"request_id":"{rid:x}"}}"#
                        );
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nStrict-Transport-Security: max-age=31536000\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    } else {
                        match refusal {
                            Refusal::ErrorPage200 => {
                                let body = format!(
                                    r#"<html><body><h1>Sign-in required</h1><p>Your session is invalid or has expired.</p><!-- {rid:x} --></body></html>"#
                                );
                                format!(
                                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                    body.len()
                                )
                            }
                            Refusal::RedirectToLogin => format!(
                                "HTTP/1.1 302 Found\r\nLocation: /login?next=%2Fme&r={rid:x}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            ),
                        }
                    };
                    let _ = s.write_all(resp.as_bytes()).await;
                });
            }
        });
        format!("http://{addr}/me")
    }

    async fn scan_trap(refusal: Refusal) -> Report {
        // A payload with escaped slashes, which must survive every edit byte-exact.
        let now = authprobe_jwt::attacks::unix_now();
        let token = hs256(
            b"a-long-random-secret-nobody-guesses-9f8e7d6c5b4a",
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &format!(
                r#"{{"sub":"alice","role":"user","iss":"https:\/\/idp.example.test\/","aud":"api","iat":{now},"exp":{}}}"#,
                now + 3600
            ),
        );
        let url = server(token.clone(), refusal).await;
        let mut o = authprobe::cli::lab_scan_options(
            &authprobe_lab::start(LabOptions::default())
                .await
                .unwrap()
                .ready,
            Limits::default(),
        )
        .unwrap();
        o.target = url.parse().unwrap();
        o.http_url = None;
        o.creds = authprobe::engine::Credentials {
            bearer: Some(token),
            ..Default::default()
        };
        o.jwt.crack_time = Duration::from_secs(2);
        scan(o).await
    }

    #[tokio::test]
    async fn a_200_error_page_for_bad_tokens_gives_no_jwt_finding() {
        let r = scan_trap(Refusal::ErrorPage200).await;
        assert!(jwt_ids(&r).is_empty(), "{:?}", jwt_ids(&r));
        assert!(!r.checks_run.is_empty());
    }

    #[tokio::test]
    async fn a_redirect_for_bad_tokens_gives_no_jwt_finding() {
        let r = scan_trap(Refusal::RedirectToLogin).await;
        assert!(jwt_ids(&r).is_empty(), "{:?}", jwt_ids(&r));
    }
}
