//! `authprobe serve` end to end, as a process, on SQLite and on a throwaway PostgreSQL
//! cluster: the REST API against real labs (targets, scans, reports in every format,
//! diffs, imports and `scan --upload`), the target scope, the dashboard's own security
//! (keys, sessions, CSRF, sign-in throttle), `kill -9` in the middle of a scan, and
//! `authprobe scan --spec` pointed at the server's own API.

mod common;
#[path = "mcp/tests.rs"]
mod mcp;
#[path = "schedules/tests.rs"]
mod schedules;
#[path = "webhooks/tests.rs"]
mod webhooks;

use authprobe_lab::Profile;
use common::server::{Server, lab_credentials, lab_url, run_bin, tarpit};
use common::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// Checks small enough to run in seconds, whose lab flaws tell two labs apart.
const CHECKS: &[&str] = &["jwt.alg_none", "jwt.missing_exp", "tls.hsts_missing"];

fn ids_of(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn upload_args(ready: &Path, server: &str) -> Vec<String> {
    let mut v = vec![
        "scan".to_string(),
        "--lab".into(),
        ready.display().to_string(),
    ];
    for a in [
        "--checks",
        "jwt.missing_exp",
        "--format",
        "json",
        "-o",
        "-",
        "--upload",
        server,
    ] {
        v.push(a.to_string());
    }
    v
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("authprobe.db").display())
}

async fn api_flow(db: String, dir: &Path) {
    let a = lab(Profile::Hardened, &["jwt.alg_none", "tls.hsts_missing"]).await;
    let b = lab(Profile::Hardened, &["jwt.missing_exp", "tls.hsts_missing"]).await;
    let server = Server::start(&db, dir, &[]).await;
    let c = &server.client;

    // The document is public; everything else wants a key.
    let (s, doc) = server.get("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let r = c.get(server.at("/api/v1/targets")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    let r = c
        .get(server.at("/api/v1/targets"))
        .bearer_auth("ap_not-a-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Only the URL is needed to create a target.
    let (s, bare) = server
        .post("/api/v1/targets", json!({"url": "http://127.0.0.1:9/x"}))
        .await;
    assert_eq!(s, 201, "{bare}");
    // Outside the default scope: refused, naming the setting.
    let (s, v) = server
        .post("/api/v1/targets", json!({"url": "http://10.1.2.3/api"}))
        .await;
    assert_eq!(s, 403, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("--allow-target"),
        "{v}"
    );
    let (s, v) = server
        .post(
            "/api/v1/targets",
            json!({"url": "http://127.0.0.1:9/", "spec": "/etc/passwd"}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = server
        .post(
            "/api/v1/targets",
            json!({"url": "http://127.0.0.1:9/", "nonsense": 1}),
        )
        .await;
    assert_eq!(s, 422, "unknown fields are refused: {v}");

    // The real target, with the lab's credentials; none comes back.
    let (s, t) = server
        .post(
            "/api/v1/targets",
            json!({"url": lab_url(&a), "name": "lab", "checks": CHECKS, "credentials": lab_credentials(&a)}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    let shown = t.to_string();
    assert!(
        !shown.contains(&a.ready.token),
        "the token came back: {shown}"
    );
    assert!(!shown.contains("PRIVATE KEY"), "the key came back");
    assert_eq!(t["credentials"]["bearer"], true);
    assert_eq!(t["credentials"]["client_certificate"], true);

    let (s, first) = server
        .post(&format!("/api/v1/targets/{id}/scans"), json!({}))
        .await;
    assert_eq!(s, 202, "{first}");
    let first_id = first["id"].as_i64().unwrap();
    let (s, _) = server
        .post(&format!("/api/v1/targets/{id}/scans"), json!({}))
        .await;
    assert_eq!(s, 409, "a second scan of a busy target is refused");
    let done = server.wait_scan(first_id, Duration::from_secs(120)).await;
    assert_eq!(done["status"], "done", "{done}");

    let (s, report) = server
        .get(&format!("/api/v1/scans/{first_id}/report"))
        .await;
    assert_eq!(s, 200);
    let found: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(found.contains(&"jwt.alg_none"), "{found:?}");
    assert!(!found.contains(&"jwt.missing_exp"), "{found:?}");
    assert_eq!(done["score"], report["score"]);
    for (format, ctype, needle) in [
        ("sarif", "application/sarif+json", "\"version\""),
        ("junit", "application/xml", "<testsuite"),
        ("markdown", "text/markdown", "jwt.alg_none"),
        ("html", "text/html", "<html"),
    ] {
        let (s, ct, body) = server
            .get_text(&format!("/api/v1/scans/{first_id}/report?format={format}"))
            .await;
        assert_eq!(s, 200, "{format}");
        assert!(ct.starts_with(ctype), "{format}: {ct}");
        assert!(body.contains(needle), "{format}");
        assert!(!body.contains(&a.ready.token), "{format} carries the token");
    }
    let (s, _, _) = server
        .get_text(&format!("/api/v1/scans/{first_id}/report?format=pdf"))
        .await;
    assert_eq!(s, 400);

    // The API moves to another lab (other flaws, other credentials): same target.
    let (s, v) = server
        .send(
            Method::PATCH,
            &format!("/api/v1/targets/{id}"),
            Some(json!({"url": lab_url(&b), "credentials": lab_credentials(&b)})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, second) = server
        .post(&format!("/api/v1/targets/{id}/scans"), json!({}))
        .await;
    let second_id = second["id"].as_i64().unwrap();
    let done2 = server.wait_scan(second_id, Duration::from_secs(120)).await;
    assert_eq!(done2["status"], "done", "{done2}");

    let (s, diff) = server
        .get(&format!(
            "/api/v1/scans/{second_id}/diff?against={first_id}"
        ))
        .await;
    assert_eq!(s, 200, "{diff}");
    assert_eq!(ids_of(&diff["new"]), vec!["jwt.missing_exp"], "{diff}");
    assert_eq!(ids_of(&diff["fixed"]), vec!["jwt.alg_none"], "{diff}");
    assert_eq!(
        ids_of(&diff["unchanged"]),
        vec!["tls.hsts_missing"],
        "{diff}"
    );
    assert_eq!(
        diff["score_delta"].as_i64().unwrap(),
        done2["score"].as_i64().unwrap() - done["score"].as_i64().unwrap()
    );
    let (s, _) = server
        .get(&format!("/api/v1/scans/{second_id}/diff?against=999999"))
        .await;
    assert_eq!(s, 404, "no such scan");
    // Two scans of different targets do not compare.
    let (_, other) = server
        .post(&format!("/api/v1/targets/{}/scans", bare["id"]), json!({}))
        .await;
    let other_id = other["id"].as_i64().unwrap();
    let other_end = server.wait_scan(other_id, Duration::from_secs(60)).await;
    assert_eq!(
        other_end["status"], "failed",
        "nothing listens there: {other_end}"
    );
    let (s, v) = server
        .get(&format!(
            "/api/v1/scans/{second_id}/diff?against={other_id}"
        ))
        .await;
    assert_eq!(s, 400, "{v}");

    // Paging, newest first.
    let (_, page) = server
        .get(&format!("/api/v1/scans?target={id}&limit=1"))
        .await;
    assert_eq!(page["scans"][0]["id"], second_id);
    let before = page["next_before"].as_i64().unwrap();
    let (_, page2) = server
        .get(&format!(
            "/api/v1/scans?target={id}&limit=1&before={before}"
        ))
        .await;
    assert_eq!(page2["scans"][0]["id"], first_id);

    // The list shows the latest score and the trend.
    let (_, list) = server.get("/api/v1/targets").await;
    let row = list["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["target"]["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(row["latest"]["id"], second_id);
    assert_eq!(row["recent_scores"].as_array().unwrap().len(), 2);

    // A report from the CLI, uploaded as CI would.
    let ready = dir.join("lab-b.json");
    std::fs::write(&ready, serde_json::to_string(&b.ready).unwrap()).unwrap();
    let out = run_bin(
        upload_args(&ready, &server.url),
        vec![("AUTHPROBE_SERVER_KEY".into(), server.key.clone())],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{stderr}"
    );
    assert!(stderr.contains("uploaded as scan"), "{stderr}");
    let (_, all) = server.get("/api/v1/scans?limit=500").await;
    let imported: Vec<&Value> = all["scans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["trigger"] == "import")
        .collect();
    assert_eq!(imported.len(), 1, "{all}");
    assert_eq!(imported[0]["status"], "done");
    // A wrong key: the scan's report is still written, the exit code says the upload failed.
    let out = run_bin(
        upload_args(&ready, &server.url),
        vec![("AUTHPROBE_SERVER_KEY".into(), ("ap_wrong").to_string())],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"schema_version\""));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("401"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Garbage is not a report.
    let r = server
        .client
        .post(server.at("/api/v1/reports"))
        .bearer_auth(&server.key)
        .body("{\"hello\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // At rest the credentials are sealed: neither the token nor the key is in the file.
    if let Some(path) = db.strip_prefix("sqlite://") {
        let mut bytes = std::fs::read(path).unwrap();
        for side in ["-wal", "-shm"] {
            if let Ok(more) = std::fs::read(format!("{path}{side}")) {
                bytes.extend(more);
            }
        }
        let hay = String::from_utf8_lossy(&bytes);
        assert!(
            !hay.contains(&b.ready.token),
            "the token is stored in clear"
        );
        assert!(
            !hay.contains("PRIVATE KEY"),
            "a client key is stored in clear"
        );
        assert!(!hay.contains(&server.key), "the API key is stored in clear");
    }

    // Deleting a target takes its scans along.
    let (s, _) = server
        .send(Method::DELETE, &format!("/api/v1/targets/{id}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = server.get(&format!("/api/v1/scans/{first_id}")).await;
    assert_eq!(s, 404);
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_flow_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    api_flow(sqlite_url(dir.path()), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_flow_on_postgres() {
    let Some(pg) = common::pg::database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    api_flow(pg.url().to_string(), dir.path()).await;
}

/// A page following a running scan gets its state at once, then the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_progress_streams_until_the_scan_ends() {
    let (url, pit) = tarpit().await;
    let dir = tempfile::tempdir().unwrap();
    // One start: the failure is the end (a retry would end the stream as `queued`).
    let server = Server::start(
        &sqlite_url(dir.path()),
        dir.path(),
        &["--max-attempts", "1"],
    )
    .await;
    let (_, t) = server
        .post(
            "/api/v1/targets",
            json!({"url": url, "credentials": {"bearer": "tok"}}),
        )
        .await;
    let (_, scan) = server
        .post(&format!("/api/v1/targets/{}/scans", t["id"]), json!({}))
        .await;
    let id = scan["id"].as_i64().unwrap();
    let running = std::time::Instant::now() + Duration::from_secs(20);
    while server.get(&format!("/api/v1/scans/{id}")).await.1["status"] != "running" {
        assert!(std::time::Instant::now() < running);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cookie = server.session_cookie().await;
    let mut r = server
        .client
        .get(server.at(&format!("/scans/{id}/events")))
        .header("cookie", &cookie)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut seen = String::new();
    let first = r.chunk().await.unwrap().unwrap();
    seen.push_str(&String::from_utf8_lossy(&first));
    assert!(seen.contains("event: progress"), "{seen}");
    assert!(seen.contains("\"status\":\"running\""), "{seen}");
    // The target goes away: the scan fails, and the stream says so and ends.
    pit.abort();
    while let Some(c) = r.chunk().await.unwrap() {
        seen.push_str(&String::from_utf8_lossy(&c));
    }
    assert!(seen.contains("event: done"), "{seen}");
    assert!(seen.contains("\"status\":\"failed\""), "{seen}");
}

/// A server killed in the middle of a scan. On SQLite the restarted server ran every
/// scan, so it marks the scan interrupted and queues a new one; on PostgreSQL the job's
/// heartbeat stops and the queue hands the same scan to the restarted server's worker.
/// Either way one scan ends, once, with its reason, and no partial report is stored.
async fn kill_9(db: String, dir: &Path, postgres: bool) {
    // Two starts, the second soon after the first fails: the retry path runs too.
    let jobs = ["--max-attempts", "2", "--retry-backoff", "200ms"];
    let (url, pit) = tarpit().await;
    let mut server = Server::start(&db, dir, &jobs).await;
    let (_, t) = server
        .post(
            "/api/v1/targets",
            json!({"url": url, "credentials": {"bearer": "tok"}}),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    let (_, scan) = server
        .post(&format!("/api/v1/targets/{id}/scans"), json!({}))
        .await;
    let scan_id = scan["id"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, v) = server.get(&format!("/api/v1/scans/{scan_id}")).await;
        if v["status"] == "running" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never ran: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill9();
    pit.abort();
    drop(server);

    let server = Server::start(&db, dir, &jobs).await;
    let (_, list) = server.get(&format!("/api/v1/scans?target={id}")).await;
    let rows = list["scans"].as_array().unwrap().clone();
    // The tarpit is gone: what runs now ends, as a failure with its reason.
    let ended = if postgres {
        assert_eq!(
            rows.len(),
            1,
            "the same scan is handed on, not copied: {list}"
        );
        let end = server.wait_scan(scan_id, Duration::from_secs(90)).await;
        assert_eq!(end["attempts"], 2, "killed once, then run again: {end}");
        end
    } else {
        let (_, old) = server.get(&format!("/api/v1/scans/{scan_id}")).await;
        assert_eq!(old["status"], "interrupted", "{old}");
        assert!(
            old["error"].as_str().unwrap().contains("re-queued"),
            "{old}"
        );
        let again: Vec<&Value> = rows
            .iter()
            .filter(|s| s["requeued_from"] == scan_id)
            .collect();
        assert_eq!(again.len(), 1, "re-queued once: {list}");
        assert_eq!(again[0]["trigger"], "requeue");
        let (s, _, _) = server
            .get_text(&format!("/api/v1/scans/{scan_id}/report"))
            .await;
        assert_eq!(s, 409, "the interrupted scan has no report");
        let end = server
            .wait_scan(again[0]["id"].as_i64().unwrap(), Duration::from_secs(90))
            .await;
        assert_eq!(end["attempts"], 2, "failed, retried once: {end}");
        end
    };
    assert_eq!(ended["status"], "failed", "{ended}");
    assert_eq!(
        ended["score"],
        Value::Null,
        "no partial result is stored as a result"
    );
    let error = ended["error"].as_str().unwrap_or_default();
    assert!(error.contains("attempt 2 of 2"), "{ended}");
    assert!(
        !ended.to_string().contains("tok\""),
        "the token is not in the error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_scan_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    kill_9(sqlite_url(dir.path()), dir.path(), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_scan_on_postgres() {
    let Some(pg) = common::pg::database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    kill_9(pg.url().to_string(), dir.path(), true).await;
}

/// The scope is judged by address, and again when the scan starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_is_enforced_by_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &sqlite_url(dir.path()),
        dir.path(),
        &["--allow-target", "10.0.0.0/8"],
    )
    .await;
    // `localhost` is loopback, which this server may no longer scan.
    let (s, v) = server
        .post("/api/v1/targets", json!({"url": "http://localhost:9/"}))
        .await;
    assert_eq!(s, 403, "{v}");
    assert!(v["error"].as_str().unwrap().contains("resolves to"), "{v}");
    let (s, _) = server
        .post("/api/v1/targets", json!({"url": "http://127.0.0.1:9/"}))
        .await;
    assert_eq!(s, 403);
    let (s, v) = server
        .post(
            "/api/v1/targets",
            json!({"url": "http://10.0.0.1/", "spec": "http://127.0.0.1:9/openapi.json"}),
        )
        .await;
    assert_eq!(s, 403, "a description outside the scope: {v}");
    let (s, v) = server
        .post("/api/v1/targets", json!({"url": "http://10.0.0.1/"}))
        .await;
    assert_eq!(s, 201, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_outside_the_scope_fails_without_a_request() {
    // Made in scope, then the server restarts with a narrower scope: the scan is refused
    // before anything is sent to the target.
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x", l.local_addr().unwrap());
    let counter = hits.clone();
    let listener = tokio::spawn(async move {
        while let Ok((_s, _)) = l.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let server = Server::start(&db, dir.path(), &[]).await;
    let (_, t) = server.post("/api/v1/targets", json!({"url": url})).await;
    let id = t["id"].as_i64().unwrap();
    drop(server);
    let server = Server::start(&db, dir.path(), &["--allow-target", "192.0.2.0/24"]).await;
    let (_, scan) = server
        .post(&format!("/api/v1/targets/{id}/scans"), json!({}))
        .await;
    let end = server
        .wait_scan(scan["id"].as_i64().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(end["status"], "failed");
    assert!(
        end["error"].as_str().unwrap().contains("--allow-target"),
        "{end}"
    );
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a request reached the target"
    );
    listener.abort();
}

/// Sign-in, CSRF and the first account, as a browser would send them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_security() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&sqlite_url(dir.path()), dir.path(), &[]).await;
    let c = &server.client;
    // Pages want a session.
    let r = c.get(server.at("/")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    // The first account needs the admin key.
    let form = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", percent(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let post = |path: &str, body: String, cookie: Option<&str>| {
        let mut r = c
            .post(server.at(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(ck) = cookie {
            r = r.header("cookie", ck);
        }
        r.send()
    };
    let r = post(
        "/setup",
        form(&[
            ("admin_key", "ap_guess"),
            ("username", "eve"),
            ("password", "long enough pw"),
            ("password2", "long enough pw"),
        ]),
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let r = post(
        "/setup",
        form(&[
            ("admin_key", &server.key),
            ("username", "alice"),
            ("password", "correct horse battery"),
            ("password2", "correct horse battery"),
        ]),
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "__Host-"] {
        assert!(set.contains(attr), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    // Setup is closed once an account exists.
    let r = c.get(server.at("/setup")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    // A page carries the CSRF token; a form without it changes nothing.
    let page = c
        .get(server.at("/targets/new"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .or_else(|| html.split("name=csrf value=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .expect("a csrf input")
        .to_string();
    let r = post(
        "/targets",
        form(&[("url", "http://127.0.0.1:9/")]),
        Some(&cookie),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let r = post(
        "/targets",
        form(&[("csrf", "wrong"), ("url", "http://127.0.0.1:9/")]),
        Some(&cookie),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let (_, list) = server.get("/api/v1/targets").await;
    assert_eq!(list["targets"].as_array().unwrap().len(), 0);
    let r = post(
        "/targets",
        form(&[
            ("csrf", &csrf),
            ("url", "http://127.0.0.1:9/"),
            ("bearer", "s3cr3t-canary"),
        ]),
        Some(&cookie),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    // The cookie does not let a cross-site request use the API for changes.
    let r = c
        .post(server.at("/api/v1/targets"))
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .body(r#"{"url":"http://127.0.0.1:9/"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // No page shows the credential.
    let (_, list) = server.get("/api/v1/targets").await;
    let tid = list["targets"][0]["target"]["id"].as_i64().unwrap();
    let page = c
        .get(server.at(&format!("/targets/{tid}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(!page.text().await.unwrap().contains("s3cr3t-canary"));
    // Five wrong passwords lock the name for a while, even with the right one after.
    for _ in 0..5 {
        let r = post(
            "/login",
            form(&[("username", "alice"), ("password", "wrong password!")]),
            None,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = post(
        "/login",
        form(&[("username", "alice"), ("password", "correct horse battery")]),
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 429);
    // Logging out ends the session.
    let r = post("/logout", form(&[("csrf", &csrf)]), Some(&cookie))
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c
        .get(server.at("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // Oversized bodies are refused.
    let big = "x".repeat(2 * 1024 * 1024);
    let r = c
        .post(server.at("/api/v1/targets"))
        .bearer_auth(&server.key)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Something for every GET operation of the API to read: a target and a done scan (a lab
/// report imported, as `--upload` sends it), and a webhook (to a closed port: an import
/// sends nothing).
async fn import_a_lab_report(server: &Server) {
    let (s, v) = server
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "events": {"new_findings": true}}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let l = lab(Profile::Hardened, &["jwt.missing_exp"]).await;
    let mut opts = options(&l, quick_limits());
    opts.only = vec!["jwt.missing_exp".into()];
    let report = scan(opts).await;
    let r = server
        .client
        .post(server.at("/api/v1/reports"))
        .bearer_auth(&server.key)
        .body(report.to_json())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

/// `authprobe scan --spec` on the server's own document with its admin key: the report,
/// its finding ids and what the command printed on stderr.
async fn scan_own_api(server: &Server, extra: &[&str]) -> (Value, Vec<String>, String) {
    let doc = server.at("/api/v1/openapi.json");
    let mut args: Vec<String> = ["scan", "--spec", &doc, "--bearer", &server.key]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--format", "json", "-o", "-"].map(String::from));
    let out = run_bin(args, vec![]).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no report: {stderr}"));
    let ids = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    (report, ids, stderr)
}

/// `authprobe scan --spec` on the server's own API: every operation enforces its key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_own_api_has_no_authentication_flaw() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&sqlite_url(dir.path()), dir.path(), &[]).await;
    import_a_lab_report(&server).await;
    let (report, ids, stderr) = scan_own_api(&server, &[]).await;
    let auth: Vec<&String> = ids.iter().filter(|id| !id.starts_with("tls.")).collect();
    assert!(
        auth.is_empty(),
        "authentication findings on our own API: {auth:?}\n{stderr}"
    );
    // Every GET operation but the public document was probed (the others change state).
    let probed = report["api"]["probed"].as_u64().unwrap_or(0);
    assert_eq!(probed, 8, "{}", report["api"]);
    assert_eq!(
        report["api"]["failed"].as_u64(),
        Some(0),
        "{}",
        report["api"]
    );
}

/// The document validates as OpenAPI 3.1 (openapi-spec-validator, as CI installs it) and
/// lists every API route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_document_validates() {
    let doc = authprobe::service::openapi::document();
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    for p in [
        "/targets",
        "/targets/{id}",
        "/targets/{id}/scans",
        "/scans",
        "/scans/{id}",
        "/scans/{id}/report",
        "/scans/{id}/diff",
        "/reports",
        "/openapi.json",
        "/webhooks",
        "/webhooks/{id}",
        "/webhooks/{id}/deliveries",
    ] {
        assert!(paths.iter().any(|k| *k == p), "{p} is not documented");
    }
    let have = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have openapi-spec-validator"
        );
        eprintln!("SKIPPED: pip install openapi-spec-validator");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A client that never finishes its request head is cut off after the header timeout,
/// instead of holding a connection forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_that_never_ends_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&sqlite_url(dir.path()), dir.path(), &[]).await;
    let addr = server.url.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 256];
    let end = tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf)).await;
    let waited = started.elapsed();
    assert!(end.is_ok(), "the connection was still open after 30 s");
    assert!(
        waited >= Duration::from_secs(8),
        "cut off after {waited:?}, before the timeout"
    );
    // Complete requests are still served meanwhile and after.
    let (status, _) = server.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
}

/// `--tls-cert/--tls-key`: the server speaks HTTPS itself (HSTS, no plain-HTTP warning on
/// the sign-in page), and `authprobe scan --spec` on its own API over HTTPS finds nothing
/// at all, transport included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_with_its_own_certificate_and_scans_clean() {
    let dir = tempfile::tempdir().unwrap();
    let ca = authprobe_lab::pki::LabCa::generate().unwrap();
    let leaf = ca.server_cert().unwrap();
    let (ca_pem, cert, key) = (
        dir.path().join("ca.pem"),
        dir.path().join("server.pem"),
        dir.path().join("server.key"),
    );
    std::fs::write(&ca_pem, &ca.issued.cert_pem).unwrap();
    std::fs::write(&cert, &leaf.cert_pem).unwrap();
    std::fs::write(&key, &leaf.key_pem).unwrap();
    let tls_args = [
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let mut server = Server::start(&sqlite_url(dir.path()), dir.path(), &tls_args).await;
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.issued.cert_der.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    server.client = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = server.client.get(server.at("/login")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    assert!(!r.text().await.unwrap().contains("plain HTTP"));
    // Plain HTTP on the TLS port gets no answer.
    let plain = common::server::client()
        .get(server.url.replace("https://", "http://") + "/healthz")
        .timeout(Duration::from_secs(15))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    // Something for every GET operation to read, then the scan of the API itself.
    import_a_lab_report(&server).await;
    let (report, ids, stderr) =
        scan_own_api(&server, &["--server-ca", ca_pem.to_str().unwrap()]).await;
    assert!(
        ids.is_empty(),
        "findings on our own API over HTTPS: {ids:?}\n{stderr}"
    );
    assert_eq!(
        report["api"]["probed"].as_u64(),
        Some(8),
        "{}",
        report["api"]
    );
    assert!(
        report["checks_run"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "tls.weak_cipher"),
        "the transport checks ran"
    );
    server.kill9();
}
