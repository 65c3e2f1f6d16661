//! Webhooks end to end: `authprobe serve` with a short retry base, real labs as targets,
//! and receivers on 127.0.0.1 that record what they get. A rescan that changes nothing
//! sends nothing; one that changes findings sends a signed JSON body (retried after a
//! 500) and a Slack message; the signature verifies with the secret shown at creation
//! and with nothing else; only an admin key makes or deletes a webhook.

use super::common::server::{Server, lab_credentials, lab_url};
use super::common::*;
use authprobe::service::webhooks::{DEFAULT_TOLERANCE_SECS, verify_signature};
use authprobe_lab::Profile;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHECKS: &[&str] = &["jwt.alg_none", "jwt.missing_exp", "tls.hsts_missing"];

struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
    /// Unix seconds when it arrived.
    at: i64,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// What a receiver got, and the statuses it answers with next (then 200).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

async fn record(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    r.got.lock().unwrap().push(Received {
        headers,
        body: body.to_vec(),
        at: unix_now(),
    });
    let next = r.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(next).unwrap()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A receiver on 127.0.0.1 answering `answers` first: its URL and its record.
async fn receiver(answers: &[u16]) -> (String, Receiver, tokio::task::JoinHandle<()>) {
    let r = Receiver::default();
    r.answers.lock().unwrap().extend(answers);
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(record))
        .with_state(r.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let h = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, r, h)
}

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn scan_done(server: &Server, target: i64) -> i64 {
    let (s, scan) = server
        .post(&format!("/api/v1/targets/{target}/scans"), json!({}))
        .await;
    assert_eq!(s, 202, "{scan}");
    let id = scan["id"].as_i64().unwrap();
    let end = server.wait_scan(id, Duration::from_secs(60)).await;
    assert_eq!(end["status"], "done", "{end}");
    id
}

async fn send_as(
    server: &Server,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = server
        .client
        .request(method, server.at(path))
        .bearer_auth(key);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&b).unwrap());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, super::common::server::json(r).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_fire_on_regressions_signed_and_retried() {
    let a = lab(Profile::Hardened, &["jwt.alg_none", "tls.hsts_missing"]).await;
    let b = lab(Profile::Hardened, &["jwt.missing_exp", "tls.hsts_missing"]).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("authprobe.db").display());
    let server = Server::start(&db, dir.path(), &["--webhook-retry-base", "200ms"]).await;
    let (json_url, json_rx, _j) = receiver(&[500]).await;
    let (slack_url, slack_rx, _s) = receiver(&[]).await;

    let (s, t) = server
        .post(
            "/api/v1/targets",
            json!({"url": lab_url(&a), "name": "lab", "checks": CHECKS, "credentials": lab_credentials(&a)}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let target = t["id"].as_i64().unwrap();

    // (e) A webhook sends data out of the server: not with an ordinary key.
    let (s, k) = server.post("/api/v1/keys", json!({"name": "ci"})).await;
    assert_eq!(s, 201, "{k}");
    let ci_key = k["key"].as_str().unwrap().to_string();
    let hook_body = json!({
        "url": json_url,
        "target_id": target,
        "events": {"new_findings": true, "fixed_findings": true, "score_drop": 1, "grade_change": true},
    });
    let (s, v) = send_as(
        &server,
        &ci_key,
        Method::POST,
        "/api/v1/webhooks",
        Some(hook_body.clone()),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    assert!(v["error"].as_str().unwrap().contains("admin"), "{v}");
    let (_, list) = server.get("/api/v1/webhooks").await;
    assert_eq!(list["webhooks"], json!([]), "nothing was made");
    // Bad input is refused, unknown fields too.
    for (bad, status) in [
        (
            json!({"url": "ftp://127.0.0.1/x", "events": {"new_findings": true}}),
            400,
        ),
        (json!({"url": json_url, "events": {}}), 400),
        (json!({"url": json_url, "events": {"score_drop": 0}}), 400),
        (
            json!({"url": json_url, "events": {"new_findings": true}, "format": "xml"}),
            400,
        ),
        (
            json!({"url": json_url, "events": {"new_findings": true}, "target_id": 999}),
            400,
        ),
        (
            json!({"url": json_url, "events": {"new_findings": true}, "secret": "short"}),
            400,
        ),
        (
            json!({"url": json_url, "events": {"new_findings": true}, "nonsense": 1}),
            422,
        ),
        (
            json!({"url": json_url, "events": {"new_findings": true, "nonsense": 1}}),
            422,
        ),
    ] {
        let (s, v) = server.post("/api/v1/webhooks", bad.clone()).await;
        assert_eq!(s, status, "{bad}: {v}");
    }

    let (s, made) = server.post("/api/v1/webhooks", hook_body).await;
    assert_eq!(s, 201, "{made}");
    let secret = made["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{made}");
    let hook = made["webhook"]["id"].as_i64().unwrap();
    assert_eq!(made["webhook"]["url"], json_url);
    assert_eq!(made["webhook"]["format"], "json");
    let (s, slack) = server
        .post(
            "/api/v1/webhooks",
            json!({"url": slack_url, "format": "slack", "events": {"new_findings": true}, "secret": "a caller's own secret"}),
        )
        .await;
    assert_eq!(s, 201, "{slack}");
    assert_eq!(slack["secret"], "a caller's own secret");
    assert_eq!(slack["webhook"]["target_id"], Value::Null, "global");
    let slack_hook = slack["webhook"]["id"].as_i64().unwrap();
    // The secret is shown once: no listing has it; a non-admin sees only the URL's origin.
    let (_, list) = server.get("/api/v1/webhooks").await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains(&secret), "{list}");
    assert!(!list.to_string().contains("own secret"), "{list}");
    let (s, theirs) = send_as(&server, &ci_key, Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(s, 200);
    assert!(!theirs.to_string().contains("/hook"), "{theirs}");

    // The first scan has nothing to compare with; a rescan finds the same: nothing sent.
    scan_done(&server, target).await;
    let same = scan_done(&server, target).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        json_rx.count() + slack_rx.count(),
        0,
        "a rescan without change sent something"
    );
    let (_, log) = server
        .get(&format!("/api/v1/webhooks/{hook}/deliveries"))
        .await;
    assert_eq!(log["deliveries"], json!([]), "{log}");

    // The API moves to the other lab: one finding new, one fixed.
    let (s, v) = server
        .send(
            Method::PATCH,
            &format!("/api/v1/targets/{target}"),
            Some(json!({"url": lab_url(&b), "credentials": lab_credentials(&b)})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let changed = scan_done(&server, target).await;

    // (b) 500 first, then 200: two attempts, delivered.
    wait_for("two attempts", Duration::from_secs(20), || {
        json_rx.count() >= 2
    })
    .await;
    wait_for("the Slack message", Duration::from_secs(20), || {
        slack_rx.count() >= 1
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let entry = loop {
        let (s, log) = server
            .get(&format!("/api/v1/webhooks/{hook}/deliveries"))
            .await;
        assert_eq!(s, 200, "{log}");
        let entry = log["deliveries"][0].clone();
        if entry["status"] == "delivered" {
            assert_eq!(log["deliveries"].as_array().unwrap().len(), 1, "{log}");
            break entry;
        }
        assert!(Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(entry["attempts"], 2, "{entry}");
    assert_eq!(entry["last_status_code"], 200, "{entry}");
    assert_eq!(entry["scan_id"], changed);
    assert_eq!(entry["next_attempt_at"], Value::Null);
    assert!(entry["delivered_at"].is_i64(), "{entry}");
    assert!(!entry.to_string().contains(&secret));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(json_rx.count(), 2, "no attempt after the 200");

    {
        let got = json_rx.got.lock().unwrap();
        let delivery_id = entry["id"].as_i64().unwrap().to_string();
        for r in got.iter() {
            // (a) Each attempt is signed afresh, with the secret shown at creation.
            let sig = r.header("authprobe-signature");
            assert_eq!(
                verify_signature(
                    secret.as_bytes(),
                    sig,
                    &r.body,
                    r.at,
                    DEFAULT_TOLERANCE_SECS
                ),
                Ok(()),
                "{sig}"
            );
            let mut changed_body = r.body.clone();
            changed_body.extend_from_slice(b" ");
            assert!(verify_signature(secret.as_bytes(), sig, &changed_body, r.at, 300).is_err());
            assert!(verify_signature(b"whsec_another", sig, &r.body, r.at, 300).is_err());
            let stale = r.at + DEFAULT_TOLERANCE_SECS + 60;
            let e = verify_signature(
                secret.as_bytes(),
                sig,
                &r.body,
                stale,
                DEFAULT_TOLERANCE_SECS,
            )
            .unwrap_err();
            assert!(e.contains("window"), "{e}");
            assert_eq!(r.header("authprobe-delivery"), delivery_id);
            assert_eq!(r.header("content-type"), "application/json");
            assert!(
                r.header("user-agent").starts_with("authprobe/"),
                "{:?}",
                r.headers
            );
            let events: Vec<&str> = r.header("authprobe-event").split(',').collect();
            assert!(
                events.contains(&"new_findings") && events.contains(&"fixed_findings"),
                "{events:?}"
            );
        }
        assert_eq!(got[0].body, got[1].body, "a retry sends the same body");
        // The payload names the change, never a credential.
        let p = got[1].json();
        assert_eq!(
            p["scan"]["id"], changed,
            "the first delivery is the changed scan's: {p}"
        );
        assert_eq!(p["previous"]["id"], same, "{p}");
        assert_eq!(p["target"]["id"], target);
        assert_eq!(p["target"]["name"], "lab");
        assert_eq!(p["target"]["url"], lab_url(&b));
        let checks = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|f| f["check"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(checks(&p["new_findings"]), ["jwt.missing_exp"], "{p}");
        assert_eq!(checks(&p["fixed_findings"]), ["jwt.alg_none"], "{p}");
        assert_eq!(p["events"][0], "new_findings");
        assert_eq!(
            p["score_delta"].as_i64().unwrap(),
            p["scan"]["score"].as_i64().unwrap() - p["previous"]["score"].as_i64().unwrap()
        );
        let text = String::from_utf8_lossy(&got[1].body);
        for secret_value in [
            b.ready.token.as_str(),
            a.ready.token.as_str(),
            "PRIVATE KEY",
            secret.as_str(),
        ] {
            assert!(!text.contains(secret_value), "the payload carries a secret");
        }
    }

    // (d) The Slack webhook (global) got a message with text.
    {
        let got = slack_rx.got.lock().unwrap();
        assert_eq!(got.len(), 1);
        let m = got[0].json();
        let text = m["text"].as_str().expect("a text field");
        assert!(
            text.contains("lab") && text.contains("new finding"),
            "{text}"
        );
        assert!(m["blocks"].as_array().is_some_and(|b| !b.is_empty()), "{m}");
        assert!(
            verify_signature(
                b"a caller's own secret",
                got[0].header("authprobe-signature"),
                &got[0].body,
                got[0].at,
                300
            )
            .is_ok()
        );
    }

    // The dashboard lists both webhooks with their deliveries.
    let cookie = server.session_cookie().await;
    let r = server
        .client
        .get(server.at("/webhooks"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("Webhook #{hook}")), "{html}");
    assert!(html.contains(&format!("Webhook #{slack_hook}")));
    assert!(html.contains("st-delivered"));
    assert!(!html.contains("/hook"), "the page shows URLs' origins only");
    assert!(!html.contains(&secret));
    assert!(!html.contains(" style=") && !html.contains("<script>"));
    let r = server
        .client
        .get(server.at("/webhooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "signed-in users only");

    // Deleting: admin only, and the log goes with it.
    let path = format!("/api/v1/webhooks/{hook}");
    let (s, _) = send_as(&server, &ci_key, Method::DELETE, &path, None).await;
    assert_eq!(s, 403);
    let (s, _) = server.send(Method::DELETE, &path, None).await;
    assert_eq!(s, 204);
    let (s, _) = server.send(Method::DELETE, &path, None).await;
    assert_eq!(s, 404);
    let (s, _) = server.get(&format!("{path}/deliveries")).await;
    assert_eq!(s, 404);
    let (s, _) = server
        .get(&format!("/api/v1/webhooks/{slack_hook}/deliveries?limit=0"))
        .await;
    assert_eq!(s, 400);
    drop((a, b));
}
