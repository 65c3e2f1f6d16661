//! `authprobe mcp` driven by the official MCP Python SDK (`tests/mcp/client.py`, pinned in
//! `tests/mcp/requirements.txt`), over stdio and over Streamable HTTP under `serve`:
//! discovery, the tools' schemas, scans of a real lab with progress, reports, history and
//! diffs; the scope and profile refusals with no request sent; and a canary: the lab's
//! token, client key and Basic password appear in no tool result.

use super::common::server::{BIN, Server, lab_url};
use super::common::*;
use authprobe_lab::{Lab, Profile};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const CHECKS: &[&str] = &["jwt.alg_none", "jwt.missing_exp", "tls.hsts_missing"];

fn client_py() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/client.py")
}

/// Runs the Python client with `transport` arguments and `plan`; its JSON transcript, and
/// the raw text (for the canary).
async fn run_client(
    transport: Vec<String>,
    plan: Value,
    envs: Vec<(String, String)>,
) -> (Value, String) {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new("python3")
            .arg(client_py())
            .arg("--timeout")
            .arg("150")
            .args(&transport)
            .envs(envs)
            .env_remove("AUTHPROBE_DB")
            .env_remove("AUTHPROBE_MCP_CONFIG")
            .env_remove("AUTHPROBE_SECRET_KEY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs the MCP client (pip install -r tests/mcp/requirements.txt)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(plan.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().expect("client output");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "the MCP client failed: {}\nstdout: {stdout}\nstderr: {stderr}",
            out.status
        );
        let v: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("client output is not JSON: {e}\n{stdout}\n{stderr}"));
        (v, format!("{stdout}\n{stderr}"))
    })
    .await
    .expect("join")
}

/// The lab's secrets: none may appear in anything the server answers.
fn canaries(lab: &Lab) -> Vec<String> {
    let r = &lab.ready;
    let mut v = vec![r.token.clone()];
    // The signature alone is the part of a JWT nothing but the token itself carries.
    v.push(r.token.rsplit('.').next().unwrap().to_string());
    let key = std::fs::read_to_string(&r.client_key).unwrap();
    v.extend(
        key.lines()
            .filter(|l| !l.starts_with("-----") && l.len() > 20)
            .map(str::to_string),
    );
    v
}

fn assert_no_canary(text: &str, canaries: &[String]) {
    for c in canaries {
        assert!(
            !text.contains(c.as_str()),
            "a secret reached a tool result: {}…",
            &c[..12.min(c.len())]
        );
    }
}

fn step(v: &Value, i: usize) -> &Value {
    &v["steps"][i]
}

fn ok(v: &Value, i: usize) -> &Value {
    let s = step(v, i);
    assert!(s["error"].is_null(), "step {i}: protocol error {s}");
    assert_eq!(s["isError"], false, "step {i}: {s}");
    assert!(s["output_schema_error"].is_null(), "step {i}: {s}");
    &s["structured"]
}

fn refused(v: &Value, i: usize) -> &str {
    let s = step(v, i);
    assert!(
        s["isError"] == true || !s["error"].is_null(),
        "step {i} should be refused: {s}"
    );
    s["text"]
        .as_str()
        .filter(|t| !t.is_empty())
        .or(s["error"].as_str())
        .unwrap_or_default()
}

/// The calls both transports make, on `lab` through profile `lab`.
fn flow_plan(lab: &Lab) -> Value {
    let url = lab_url(lab);
    let tls_host = lab
        .ready
        .https_url
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_string();
    json!([
        {"list_tools": true},
        {"call": "scan_api", "progress": true,
         "args": {"url": url, "checks": CHECKS, "credential_profile": "lab", "wait_seconds": 60}},
        {"call": "get_scan", "args": {"scan_id": "${1.scan_id}"}},
        {"call": "get_report", "args": {"scan_id": "${1.scan_id}", "format": "json"}},
        {"call": "get_report", "args": {"scan_id": "${1.scan_id}"}},
        {"call": "scan_api", "progress": true,
         "args": {"url": url, "checks": CHECKS, "credential_profile": "lab", "wait_seconds": 60}},
        {"call": "list_scans", "args": {"target": "${1.target.name}", "limit": 10}},
        {"call": "diff_scans", "args": {"from": "${1.scan_id}", "to": "${5.scan_id}"}},
        {"call": "inspect_token", "args": {"token": lab.ready.token}},
        {"call": "explain_check", "args": {"id": "jwt.alg_none", "framework": "Express"}},
        {"call": "tls_scan", "args": {"host": tls_host}},
        // Whatever the arguments, no unsafe method and no credential from the model.
        {"call": "scan_api", "args": {"url": url, "method": "DELETE"}},
        {"call": "scan_api", "args": {"url": url, "bearer": "x"}},
        {"call": "scan_api", "args": {"url": url, "credential_profile": "prod-admin"}},
    ])
}

fn check_flow(v: &Value, lab: &Lab) {
    assert_eq!(v["server"]["name"], "authprobe", "{}", v["server"]);
    let tools = &step(v, 0)["tools"];
    let mut names: Vec<&str> = tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "diff_scans",
            "explain_check",
            "get_report",
            "get_scan",
            "inspect_token",
            "list_scans",
            "scan_api",
            "tls_scan"
        ]
    );
    assert_eq!(step(v, 0)["schema_errors"], json!([]), "{}", step(v, 0));
    for t in tools.as_array().unwrap() {
        assert!(
            t["outputSchema"].is_object(),
            "{} has no output schema",
            t["name"]
        );
        assert_eq!(
            t["inputSchema"]["additionalProperties"], false,
            "{}",
            t["name"]
        );
    }

    let first = ok(v, 1);
    assert_eq!(first["status"], "done", "{first}");
    let progress = step(v, 1)["progress"].as_array().unwrap();
    assert!(
        !progress.is_empty(),
        "no progress notification during the scan"
    );
    let summary = &first["summary"];
    let found: Vec<&str> = summary["top_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert!(found.contains(&"jwt.alg_none"), "{summary}");
    assert!(found.contains(&"tls.hsts_missing"), "{summary}");
    assert!(
        !found.contains(&"jwt.missing_exp"),
        "a hardened lab's exp is checked: {summary}"
    );
    assert!(summary["grade"].as_str().is_some_and(|g| !g.is_empty()));

    assert_eq!(ok(v, 2)["status"], "done");
    let report: Value =
        serde_json::from_str(ok(v, 3)["content"].as_str().unwrap()).expect("the JSON report");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "jwt.alg_none")
    );
    assert!(
        ok(v, 4)["content"]
            .as_str()
            .unwrap()
            .contains("jwt.alg_none"),
        "markdown report"
    );

    assert_eq!(ok(v, 5)["status"], "done");
    let scans = ok(v, 6)["scans"].as_array().unwrap();
    assert_eq!(scans.len(), 2, "{scans:?}");
    assert!(scans.iter().all(|s| s["trigger"] == "mcp"));
    let diff = ok(v, 7);
    assert_eq!(diff["score_delta"], 0, "{diff}");
    assert!(
        diff["new"].as_array().unwrap().is_empty() && diff["fixed"].as_array().unwrap().is_empty(),
        "{diff}"
    );
    assert!(
        diff["unchanged"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "jwt.alg_none"),
        "{diff}"
    );

    let token = ok(v, 8);
    assert!(token["header"]["alg"].is_string(), "{token}");
    assert!(token["claims"].is_object(), "{token}");
    assert_ne!(token["token"], json!(lab.ready.token));

    let explain = ok(v, 9);
    assert_eq!(explain["id"], "jwt.alg_none");
    assert_eq!(
        explain["framework_advice"]["framework"], "express",
        "{explain}"
    );
    assert!(
        explain["cwe"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().starts_with("CWE-"))
    );

    let tls = ok(v, 10);
    assert!(tls["grade"].is_string(), "{tls}");
    assert!(tls["tls"].is_object(), "{tls}");

    assert!(refused(v, 11).contains("method"), "{}", step(v, 11));
    assert!(refused(v, 12).contains("bearer"), "{}", step(v, 12));
    let e = refused(v, 13);
    assert!(
        e.contains("no credential profile \"prod-admin\"") && e.contains("lab"),
        "{e}"
    );
}

fn profile_env(lab: &Lab) -> Vec<(String, String)> {
    let r = &lab.ready;
    let p = |f: &str| format!("AUTHPROBE_MCP_PROFILE_LAB_{f}");
    vec![
        (p("BEARER"), r.token.clone()),
        (p("CLIENT_CERT"), r.client_cert.display().to_string()),
        (p("CLIENT_KEY"), r.client_key.display().to_string()),
        (p("SERVER_CA"), r.ca_cert.display().to_string()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_over_stdio_scans_reports_and_diffs() {
    let lab = lab(Profile::Hardened, &["jwt.alg_none", "tls.hsts_missing"]).await;
    let dir = tempfile::tempdir().unwrap();
    let transport = vec![
        "--stdio".to_string(),
        BIN.to_string(),
        "mcp".into(),
        "--data-dir".into(),
        dir.path().display().to_string(),
    ];
    let (v, raw) = run_client(transport.clone(), flow_plan(&lab), profile_env(&lab)).await;
    assert_eq!(
        v["server"]["protocol_version"], "2026-07-28",
        "{}",
        v["server"]
    );
    check_flow(&v, &lab);
    assert_no_canary(&raw, &canaries(&lab));
    // The history is the store `serve` would open on the same data directory.
    assert!(dir.path().join("authprobe.db").exists());

    // A client of the tasks extension gets a task at once and polls it to the end.
    let mut with_tasks = vec!["--tasks".to_string()];
    with_tasks.extend(transport);
    let plan = json!([
        {"call_task": "scan_api", "args": {"url": lab_url(&lab), "checks": CHECKS, "credential_profile": "lab"}},
        {"call": "list_scans", "args": {"limit": 100}},
    ]);
    let (v, raw) = run_client(with_tasks, plan, profile_env(&lab)).await;
    let task = &step(&v, 0)["task"];
    let statuses: Vec<&str> = task["statuses"]
        .as_array()
        .unwrap_or_else(|| panic!("no task: {}", step(&v, 0)))
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(statuses.first(), Some(&"working"), "{task}");
    assert_eq!(statuses.last(), Some(&"completed"), "{task}");
    let done = ok(&v, 0);
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        ok(&v, 1)["scans"].as_array().unwrap().len(),
        3,
        "the history holds all three scans"
    );
    assert_no_canary(&raw, &canaries(&lab));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_over_http_under_serve() {
    let lab = lab(Profile::Hardened, &["jwt.alg_none", "tls.hsts_missing"]).await;
    let dir = tempfile::tempdir().unwrap();
    // Profiles from a file, secrets read from files it names.
    let token_file = dir.path().join("token.txt");
    std::fs::write(&token_file, &lab.ready.token).unwrap();
    let config = dir.path().join("mcp.yaml");
    std::fs::write(
        &config,
        format!(
            "max_requests: 300\nprofiles:\n  lab:\n    bearer: {{file: {}}}\n    client_cert: {}\n    client_key: {}\n    server_ca: {}\n",
            token_file.display(),
            lab.ready.client_cert.display(),
            lab.ready.client_key.display(),
            lab.ready.ca_cert.display()
        ),
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    let server = Server::start(&db, dir.path(), &["--mcp-config", config.to_str().unwrap()]).await;

    // No key, a wrong key: nothing reaches the MCP server.
    let r = server
        .client
        .post(server.at("/mcp"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let r = server
        .client
        .post(server.at("/mcp"))
        .bearer_auth("nope")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The handshake of protocol 2025-11-25, as clients of the year before speak it.
    let transport = vec![
        "--mode".to_string(),
        "legacy".into(),
        "--http".into(),
        server.at("/mcp"),
        "--key".into(),
        server.key.clone(),
    ];
    let (v, raw) = run_client(transport, flow_plan(&lab), Vec::new()).await;
    assert_eq!(
        v["server"]["protocol_version"], "2025-11-25",
        "{}",
        v["server"]
    );
    check_flow(&v, &lab);
    assert_no_canary(&raw, &canaries(&lab));
    // The scans are the dashboard's too.
    let (s, list) = server.get("/api/v1/scans").await;
    assert_eq!(s, 200);
    assert_eq!(
        list["scans"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["trigger"] == "mcp")
            .count(),
        2,
        "{list}"
    );
}

/// Every refusal comes before the first request: a listener on the target counts none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_refuses_out_of_scope_targets_and_unknown_profiles_without_a_request() {
    let hits = Arc::new(AtomicUsize::new(0));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let counter = hits.clone();
    let listener = tokio::spawn(async move {
        while let Ok((_s, _)) = l.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mcp.yaml");
    // The scope is one other loopback address: 127.0.0.1, and `localhost`, are outside.
    std::fs::write(
        &config,
        "allow_targets: [127.0.0.2]\nprofiles:\n  ci:\n    basic: ci-user:canary-pass-123\n",
    )
    .unwrap();
    let transport = vec![
        "--stdio".to_string(),
        BIN.to_string(),
        "mcp".into(),
        "--config".into(),
        config.display().to_string(),
        "--data-dir".into(),
        dir.path().display().to_string(),
    ];
    let plan = json!([
        {"call": "scan_api", "args": {"url": format!("http://127.0.0.1:{port}/x")}},
        {"call": "scan_api", "args": {"url": format!("http://localhost:{port}/x"), "credential_profile": "ci"}},
        {"call": "scan_api", "args": {"url": format!("http://127.0.0.2:{port}/x"), "credential_profile": "nope"}},
        {"call": "scan_api", "args": {"url": format!("http://127.0.0.2:{port}/x"), "spec": format!("http://127.0.0.1:{port}/openapi.json")}},
        {"call": "tls_scan", "args": {"host": format!("127.0.0.1:{port}")}},
        {"call": "scan_api", "args": {"url": format!("file:///etc/passwd")}},
        {"call": "list_scans", "args": {}},
    ]);
    let (v, raw) = run_client(transport, plan, Vec::new()).await;
    let e = refused(&v, 0);
    assert!(
        e.contains("outside")
            && e.contains("allow_targets")
            && e.contains("--allow-target 127.0.0.1"),
        "{e}"
    );
    assert!(
        e.contains(config.to_str().unwrap()),
        "the refusal names the file to change: {e}"
    );
    let e = refused(&v, 1);
    assert!(e.contains("resolves to 127.0.0.1"), "{e}");
    let e = refused(&v, 2);
    assert!(
        e.contains("no credential profile \"nope\"") && e.contains("ci"),
        "{e}"
    );
    assert!(refused(&v, 3).contains("spec"), "{}", step(&v, 3));
    assert!(refused(&v, 4).contains("outside"), "{}", step(&v, 4));
    assert!(refused(&v, 5).contains("http"), "{}", step(&v, 5));
    assert_eq!(ok(&v, 6)["scans"], json!([]), "nothing was started");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a request reached the target"
    );
    assert!(!raw.contains("canary-pass-123"));
    listener.abort();
}

/// A whole-API scan through MCP: the lab's description lists POST, PUT and DELETE
/// operations; none is sent, and the scan keeps to the request budget of the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_whole_api_scans_send_no_unsafe_method_and_keep_the_budget() {
    let lab = lab(Profile::Hardened, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    const BUDGET: usize = 40;
    let transport = vec![
        "--stdio".to_string(),
        BIN.to_string(),
        "mcp".into(),
        "--data-dir".into(),
        dir.path().display().to_string(),
        "--max-requests".into(),
        BUDGET.to_string(),
    ];
    let plan = json!([
        {"call": "scan_api", "args": {
            "url": lab.ready.https_url, "spec": lab.ready.openapi_url,
            "credential_profile": "lab", "wait_seconds": 60}},
    ]);
    let before = lab.requests();
    let (v, _) = run_client(transport, plan, profile_env(&lab)).await;
    let state = ok(&v, 0);
    assert!(
        matches!(state["status"].as_str(), Some("done" | "failed")),
        "{state}"
    );
    assert_eq!(lab.unsafe_requests(), 0, "an unsafe method reached the lab");
    // The description itself is fetched outside the scan's budget, once.
    let sent = lab.requests() - before;
    assert!(
        sent <= BUDGET + 1,
        "{sent} requests for a budget of {BUDGET}: {state}"
    );
    if state["status"] == "done" {
        assert!(
            state["summary"]["requests_sent"].as_u64().unwrap() <= BUDGET as u64,
            "{state}"
        );
    }
}
