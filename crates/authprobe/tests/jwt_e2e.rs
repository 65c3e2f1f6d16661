//! The `jwt.*` suite end to end: each lab flaw alone makes exactly its check fire; the
//! hardened lab yields no `jwt.*` finding; and the traps that fool status-code scanners
//! (200 error pages, redirects on bad tokens) give no finding.

mod common;

use authprobe::engine::ScanOptions;
use authprobe::http::Limits;
use authprobe::report::Report;
use authprobe_lab::{Lab, LabOptions, Profile};
use common::scan;
use std::sync::Arc;
use std::time::Duration;

async fn lab(flaws: &[&str]) -> Lab {
    common::lab(Profile::Hardened, flaws).await
}

/// Scan options as a user who knows the staging signing key would pass them.
fn options(lab: &Lab, with_key: bool) -> ScanOptions {
    let mut o = common::options(lab, common::quick_limits());
    if with_key {
        common::give_signing_key(&mut o, lab);
    }
    o
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
    primary_probes_keep_every_claim(&r, &lab.ready.token);
    r
}

/// The checks whose evidence is a forgery of the user's token: the root cause (the
/// signature is not verified) and every check it explains, read from the catalog so that
/// a new forgery check is held to the same rule without being listed here.
fn is_forgery(id: &str) -> bool {
    const ROOT: &str = "jwt.signature_not_verified";
    id == ROOT
        || authprobe::checks::registry()
            .iter()
            .any(|c| c.meta().id == id && c.meta().explained_by.contains(&ROOT))
}

/// The bearer token a finding's evidence sent (its signature may be a shell expansion).
fn evidence_token(f: &authprobe::finding::Finding) -> String {
    f.evidence
        .request
        .lines()
        .find_map(|l| l.strip_prefix("Authorization: Bearer "))
        .unwrap_or_else(|| panic!("{}: no bearer in {}", f.id, f.evidence.request))
        .to_string()
}

/// The claims of a (possibly forged) token, when its payload is a JSON object.
fn claims_of(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The evidence of every forgery finding is its primary probe: the user's claims, byte for
/// byte, only the signature or the header broken.
fn primary_probes_keep_every_claim(r: &Report, user_token: &str) {
    let user_payload = user_token.split('.').nth(1).unwrap();
    for f in r.findings.iter().filter(|f| is_forgery(&f.id)) {
        let token = evidence_token(f);
        assert_eq!(
            token.split('.').nth(1),
            Some(user_payload),
            "{}: the primary probe changed the claims: {token}",
            f.id
        );
        assert_eq!(claims_of(&token).unwrap()["sub"], "alice", "{}", f.id);
    }
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

/// The claim flaws, each found only by a minted token.
const CLAIM_FLAWS: [&str; 4] = [
    "jwt.audience_not_checked",
    "jwt.expired_accepted",
    "jwt.issuer_not_checked",
    "jwt.nbf_not_enforced",
];

/// With `source` and every claim flaw on and no key given, the scan's own way of signing
/// mints the claim checks' tokens, and each finding says how it was obtained (`how`).
async fn found_key_feeds_the_claim_checks(source: &str, how: &str) {
    let mut flaws = vec![source];
    flaws.extend(CLAIM_FLAWS);
    let lab = lab(&flaws).await;
    let r = scan(options(&lab, false)).await;
    let mut ids = jwt_ids(&r);
    ids.sort();
    let mut want = flaws.clone();
    want.sort();
    assert_eq!(ids, want, "inconclusive: {:?}", r.inconclusive);
    for f in r
        .findings
        .iter()
        .filter(|f| CLAIM_FLAWS.contains(&f.id.as_str()))
    {
        assert!(f.description.contains(how), "{}: {}", f.id, f.description);
        // The minted token is withheld, and it kept the user's identity: the lab looks the
        // user up from sub, so acceptance proves it (an unknown user gets 401).
        // Each check's minted token has its own variable, named after the check.
        let var = format!(
            "${{AUTHPROBE_MINTED_{}}}",
            f.id.trim_start_matches("jwt.").to_uppercase()
        );
        assert!(f.evidence.request.contains(&var), "{}", f.evidence.request);
    }
    primary_probes_keep_every_claim(&r, &lab.ready.token);
}

#[tokio::test]
async fn key_confusion_key_feeds_the_claim_checks() {
    // HS256 keyed with the lab's public key from its JWKS: a key the server accepts.
    found_key_feeds_the_claim_checks("jwt.key_confusion", "confused").await;
}

#[tokio::test]
async fn key_confusion_alone_feeds_expired() {
    let lab = lab(&["jwt.key_confusion", "jwt.expired_accepted"]).await;
    let r = scan(options(&lab, false)).await;
    let mut ids = jwt_ids(&r);
    ids.sort();
    assert_eq!(ids, vec!["jwt.expired_accepted", "jwt.key_confusion"]);
    let expired = r
        .findings
        .iter()
        .find(|f| f.id == "jwt.expired_accepted")
        .unwrap();
    assert!(
        expired.description.contains("confused"),
        "{}",
        expired.description
    );
    // The other claim checks had the key too, and were refused: not "needs the signing key".
    for id in [
        "jwt.nbf_not_enforced",
        "jwt.audience_not_checked",
        "jwt.issuer_not_checked",
    ] {
        assert!(r.checks_run.iter().any(|c| c == id), "{id} must run");
        assert!(!r.checks_skipped.iter().any(|s| s.id == id), "{id} skipped");
    }
}

#[tokio::test]
async fn alg_none_feeds_the_claim_checks() {
    found_key_feeds_the_claim_checks("jwt.alg_none", "alg \"none\"").await;
}

#[tokio::test]
async fn unverified_signature_feeds_the_claim_checks() {
    let lab = lab(&["jwt.signature_not_verified", "jwt.expired_accepted"]).await;
    let r = scan(options(&lab, false)).await;
    let mut ids = jwt_ids(&r);
    ids.sort();
    assert_eq!(
        ids,
        vec!["jwt.expired_accepted", "jwt.signature_not_verified"]
    );
    let expired = r
        .findings
        .iter()
        .find(|f| f.id == "jwt.expired_accepted")
        .unwrap();
    assert!(
        expired.description.contains("does not verify signatures"),
        "{}",
        expired.description
    );
    primary_probes_keep_every_claim(&r, &lab.ready.token);
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
            .contains("${AUTHPROBE_MINTED_EXPIRED_ACCEPTED}")
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
        let mut o = authprobe::lab_target::scan_options(
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

mod identity_lookup {
    //! An API like DRF with `verify_signature: False`, Express with `jwt.decode()`: the user
    //! is looked up from `sub` (an unknown one gets 401), the token carries no role claim,
    //! and the signature is checked only in the hardened variant. Every token the scanner
    //! sends is recorded, so the test can say that none of them changed the identity.
    use super::*;
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    const SECRET: &[u8] = b"a-long-random-secret-nobody-guesses-0a1b2c3d4e5f";

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn mac(input: &str) -> String {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET).unwrap();
        mac.update(input.as_bytes());
        b64(&mac.finalize().into_bytes())
    }

    /// Whether `token` gets the user in: sub names alice, exp/nbf/iss/aud hold, and (when
    /// `verify`) the HS256 signature matches.
    fn authorized(token: &str, verify: bool) -> bool {
        let now = authprobe_jwt::attacks::unix_now();
        let parts: Vec<&str> = token.split('.').collect();
        let [h, p, sig] = parts[..] else {
            return false;
        };
        if verify && mac(&format!("{h}.{p}")) != sig {
            return false;
        }
        let Some(c) = claims_of(token) else {
            return false;
        };
        let num = |n: &str| c.get(n).and_then(|v| v.as_u64());
        c.get("sub").and_then(|v| v.as_str()) == Some("alice")
            && num("exp").is_some_and(|e| e > now)
            && num("nbf").is_none_or(|n| n <= now + 30)
            && c.get("iss").and_then(|v| v.as_str()) == Some("https://idp.example.test/")
            && c.get("aud").and_then(|v| v.as_str()) == Some("api")
    }

    /// How the API treats a bearer token.
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        /// Verifies the HS256 signature.
        Verify,
        /// Decodes without verifying.
        Decode,
        /// Decodes without verifying, and never answers a token that does not decode (an
        /// Express app whose `jwt.decode()` returns null, then throws in an async handler).
        DecodeHangs,
    }

    async fn server(mode: Mode, seen: Arc<Mutex<Vec<String>>>) -> String {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16384];
                    let Ok(n) = s.read(&mut buf).await else {
                        return;
                    };
                    let head = String::from_utf8_lossy(&buf[..n]).to_string();
                    let token = head.lines().find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        let value = value.trim();
                        (name.eq_ignore_ascii_case("authorization")
                            && value.len() > 7
                            && value[..7].eq_ignore_ascii_case("bearer "))
                        .then(|| value[7..].to_string())
                    });
                    if let Some(t) = &token {
                        seen.lock().unwrap().push(t.clone());
                    }
                    if mode == Mode::DecodeHangs
                        && token
                            .as_deref()
                            .is_some_and(|t| t.split('.').count() != 3 || claims_of(t).is_none())
                    {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        return;
                    }
                    let rid: u64 = rand::random();
                    let verify = mode == Mode::Verify;
                    let resp = if token.as_deref().is_some_and(|t| authorized(t, verify)) {
                        let body = format!(
                            r#"{{"user":"alice","orders":[{{"id":"o-1","total":"12.50"}},{{"id":"o-2","total":"99.00"}}],"request_id":"{rid:x}"}}"#
                        );
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    } else {
                        let body = format!(
                            r#"{{"detail":"Given token not valid for any token type","request_id":"{rid:x}"}}"#
                        );
                        format!(
                            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"api\"\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    };
                    let _ = s.write_all(resp.as_bytes()).await;
                });
            }
        });
        format!("http://{addr}/api/me")
    }

    /// Scans the API; returns the report and every bearer token the server received.
    async fn scan_api(mode: Mode, only: &[&str]) -> (Report, Vec<String>) {
        let now = authprobe_jwt::attacks::unix_now();
        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let payload = format!(
            r#"{{"sub":"alice","iss":"https://idp.example.test/","aud":"api","iat":{now},"nbf":{now},"exp":{},"jti":"5f2c9e"}}"#,
            now + 3600
        );
        let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let token = format!("{input}.{}", mac(&input));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let url = server(mode, seen.clone()).await;
        let mut o = authprobe::lab_target::scan_options(
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
            bearer: Some(token.clone()),
            ..Default::default()
        };
        o.jwt.crack_time = Duration::from_secs(2);
        o.only = only.iter().map(|s| s.to_string()).collect();
        let r = scan(o).await;
        let seen = seen.lock().unwrap().clone();
        // No token the scanner derived from the user's (they keep its jti) changed the
        // user's identity. Tokens of its own making (`{}.{}.` and other garbage) carry none.
        let mut derived = 0;
        for t in &seen {
            if let Some(c) = claims_of(t)
                && c.get("jti") == Some(&serde_json::json!("5f2c9e"))
            {
                derived += 1;
                assert_eq!(c.get("sub"), Some(&serde_json::json!("alice")), "{t}");
            }
        }
        assert!(derived >= 10, "{derived} tokens derived from the user's");
        (r, seen)
    }

    #[tokio::test]
    async fn a_server_that_looks_the_user_up_and_ignores_signatures_is_found() {
        let (r, _) = scan_api(Mode::Decode, &[]).await;
        assert_eq!(jwt_ids(&r), vec!["jwt.signature_not_verified"]);
        let f = &r
            .findings
            .iter()
            .find(|f| f.id.starts_with("jwt."))
            .unwrap();
        // An added claim went through under the old signature: the claims are not
        // protected. The answer shows no role, so nothing more is confirmed.
        assert_eq!(serde_json::to_value(f.confidence).unwrap(), "firm");
        assert!(
            f.description.contains("claim \"authprobe\" added"),
            "{}",
            f.description
        );
        // The primary probe kept every claim: only the signature is random.
        let token = evidence_token(f);
        assert_eq!(claims_of(&token).unwrap()["jti"], "5f2c9e");
        for id in ["jwt.alg_none", "jwt.empty_signature", "jwt.kid_injection"] {
            let i = r.inconclusive.iter().find(|i| i.id == id).unwrap();
            assert!(i.reason.contains("jwt.signature_not_verified"), "{id}");
        }
    }

    #[tokio::test]
    async fn the_same_server_verifying_signatures_gives_no_jwt_finding() {
        let (r, _) = scan_api(Mode::Verify, &[]).await;
        assert!(jwt_ids(&r).is_empty(), "{:?}", jwt_ids(&r));
    }

    #[tokio::test]
    async fn an_api_that_never_answers_undecodable_tokens_costs_no_timeout() {
        // Issue 12, observation 8: such scans took the 10 s timeout. Nothing in the jwt
        // suite needs an answer to a token the server cannot decode once it is known not
        // to verify signatures: the forgeries are explained, the garbage probe unneeded.
        let (r, _) = scan_api(Mode::DecodeHangs, &["jwt"]).await;
        assert_eq!(jwt_ids(&r), vec!["jwt.signature_not_verified"]);
        assert!(
            r.duration_ms < 5_000,
            "{} ms: a probe waited for the timeout",
            r.duration_ms
        );
    }
}
