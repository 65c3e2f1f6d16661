//! `authprobe scan --spec` and `--targets` as a user runs them: JSON Lines streamed,
//! target lists from a file and from stdin, one failed target making the exit code 2, and
//! hostile descriptions refused at once with one line.

mod common;

use authprobe_lab::{Lab, Profile};
use common::*;
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_authprobe");

fn ready_file(lab: &Lab, dir: &tempfile::TempDir) -> std::path::PathBuf {
    let p = dir.path().join("ready.json");
    std::fs::write(&p, serde_json::to_string(&lab.ready).unwrap()).unwrap();
    p
}

/// Runs the binary off the async runtime (the lab serves on it meanwhile).
async fn run(args: Vec<String>, stdin: Option<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(BIN)
            .args(&args)
            .env_remove("AUTHPROBE_BEARER")
            .env_remove("AUTHPROBE_BASIC")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("authprobe runs");
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn spec_auto_streams_json_lines_ending_with_the_summary() {
    let lab = lab(Profile::Hardened, &["auth.missing"]).await;
    let dir = tempfile::tempdir().unwrap();
    let ready = ready_file(&lab, &dir);
    let out = run(
        strings(&[
            "scan",
            "--lab",
            ready.to_str().unwrap(),
            "--spec",
            "auto",
            "--checks",
            "auth.missing,spec",
            "--format",
            "jsonl",
        ]),
        None,
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("--spec auto: using"), "{stderr}");
    assert!(stderr.contains("/openapi.json"), "{stderr}");
    let l = lines(&out);
    let kind = |v: &Value| v["type"].as_str().unwrap_or("").to_string();
    let last = l.last().expect("some lines");
    assert_eq!(kind(last), "summary", "{last}");
    assert_eq!(last["grade"], "F");
    let total = last["api"]["operations_total"].as_u64().unwrap() as usize;
    let ops = l.iter().filter(|v| kind(v) == "operation").count();
    assert_eq!(ops, total);
    let missing: Vec<_> = l
        .iter()
        .filter(|v| kind(v) == "finding" && v["id"] == "auth.missing")
        .collect();
    assert_eq!(missing.len(), lab.ready.unenforced_operations.len());
    // Findings come before the summary, as they are found.
    assert!(l.iter().position(|v| kind(v) == "finding").unwrap() < l.len() - 1);
}

/// The lab user's credentials, and only the auth checks: enough to tell an unenforced
/// target from an enforced one.
fn lab_credentials(lab: &Lab) -> Vec<String> {
    let mut args: Vec<String> = lab_cli_credentials(lab)
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    args.extend(strings(&["--checks", "auth"]));
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_target_list_scans_every_host_and_a_dead_one_makes_exit_2() {
    // Two labs share one CA? No: each has its own, so both run from one lab's
    // credentials only against that lab; the second target is the same lab at another
    // path, and the third a port nothing listens on.
    let a = lab(Profile::Hardened, &["auth.missing"]).await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let list = format!(
        "# staging\n{}{}\n\n{}/api/v1/admin  # the admin route\nhttps://127.0.0.1:{dead}/api/v1/me\n",
        a.ready.https_url, a.ready.protected_path, a.ready.https_url
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.txt");
    std::fs::write(&file, &list).unwrap();
    let report = dir.path().join("r.json");
    let mut args = strings(&["scan", "--targets", file.to_str().unwrap()]);
    args.extend(lab_credentials(&a));
    args.extend(strings(&[
        "--timeout",
        "2s",
        "-o",
        report.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let out = run(args, None).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("could not be scanned"), "{stderr}");
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["schema_version"], 2);
    assert_eq!(r["api"]["kind"], "targets");
    let ops = r["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 3);
    assert_eq!(ops[0]["status"], "probed");
    assert!(
        ops[0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "auth.missing"),
        "{}",
        ops[0]
    );
    assert_eq!(ops[2]["status"], "failed");
    assert!(
        ops[2]["reason"].as_str().unwrap().contains("cannot reach"),
        "{}",
        ops[2]
    );

    // The same list on stdin, streamed: one operation line per target.
    let mut args = strings(&["scan", "--targets", "-", "--format", "jsonl"]);
    args.extend(lab_credentials(&a));
    args.extend(strings(&["--timeout", "2s"]));
    let out = run(args, Some(list)).await;
    assert_eq!(out.status.code(), Some(2));
    let l = lines(&out);
    assert_eq!(l.iter().filter(|v| v["type"] == "operation").count(), 3);
    assert_eq!(l.last().unwrap()["type"], "summary");
}

#[tokio::test]
async fn target_list_mistakes_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.txt");
    for (text, says) in [
        ("# only comments\n\n", "no target"),
        ("ftp://example.com/\n", "line 1"),
        ("https://ok.example/\nnot a url\n", "line 2"),
    ] {
        std::fs::write(&file, text).unwrap();
        let out = run(
            strings(&["scan", "--targets", file.to_str().unwrap()]),
            None,
        )
        .await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(says), "{text}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

/// A description that would take a naive parser down ends with a clear error, fast.
#[tokio::test]
async fn hostile_descriptions_end_in_a_clear_error_within_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: Vec<u8>| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // 100 MB: refused by its size before it is read.
    let mut huge = b"{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"x\",\"version\":\"1\"},\"paths\":{},\"x\":\"".to_vec();
    huge.resize(100 * 1024 * 1024, b'a');
    huge.extend_from_slice(b"\"}");
    let huge = write("huge.json", huge);
    // 10,000 levels of nesting, in JSON and in YAML.
    let deep_json = write(
        "deep.json",
        format!(
            "{{\"openapi\":\"3.1.0\",\"paths\":{{}},\"x\":{}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        )
        .into_bytes(),
    );
    let deep_yaml = write(
        "deep.yaml",
        format!("openapi: 3.1.0\npaths: {{}}\nx: {}\n", "[".repeat(10_000)).into_bytes(),
    );
    // A $ref cycle through path items and parameters.
    let cyclic = write(
        "cyclic.json",
        br##"{"openapi":"3.1.0","info":{"title":"c","version":"1"},
        "paths":{"/a":{"$ref":"#/paths/~1b"},"/b":{"$ref":"#/paths/~1a"}}}"##
            .to_vec(),
    );
    for (file, says) in [
        (&huge, "MiB"),
        (&deep_json, "nest"),
        (&deep_yaml, "nest"),
        (&cyclic, "cycle"),
    ] {
        let clock = Instant::now();
        let out = run(
            strings(&[
                "scan",
                "https://127.0.0.1:9/",
                "--spec",
                file.to_str().unwrap(),
            ]),
            None,
        )
        .await;
        let took = clock.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", file.display());
        assert!(
            stderr.to_lowercase().contains(&says.to_lowercase()),
            "{}: {stderr}",
            file.display()
        );
        assert!(
            took < Duration::from_secs(2),
            "{}: {took:?}",
            file.display()
        );
    }
}

/// A description saved to a file, in YAML, with its server on another host: the base URL
/// given (an origin alone) moves the paths there, and the scan finds the same operations.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_yaml_file_with_a_base_url_scans_the_operations_there() {
    let lab = lab(Profile::Hardened, &["auth.missing"]).await;
    let opts = options(&lab, quick_limits());
    let http = authprobe::http::Http::new(quick_limits(), opts.tls.clone());
    let url = url::Url::parse(&format!("{}/openapi.yaml", lab.ready.https_url)).unwrap();
    let answer = http
        .send(&authprobe::http::Probe::new("GET", url))
        .await
        .expect("the lab serves its YAML description");
    // The description as a production server would name itself.
    let yaml = String::from_utf8(answer.body)
        .unwrap()
        .replace(&lab.ready.https_url, "https://api.example.invalid");
    assert!(yaml.contains("https://api.example.invalid"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.yaml");
    std::fs::write(&file, yaml).unwrap();
    let report = dir.path().join("r.json");
    let mut args = strings(&[
        "scan",
        &lab.ready.https_url,
        "--spec",
        file.to_str().unwrap(),
        "-o",
        report.to_str().unwrap(),
    ]);
    args.extend(lab_credentials(&lab));
    let out = run(args, None).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert!(
        r["api"]["base_url"]
            .as_str()
            .unwrap()
            .starts_with(&lab.ready.https_url),
        "{}",
        r["api"]
    );
    let flagged: std::collections::BTreeSet<String> = r["operations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| {
            o["findings"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["id"] == "auth.missing"))
        })
        .map(|o| o["operation_id"].as_str().unwrap().to_string())
        .collect();
    let expected: std::collections::BTreeSet<String> =
        lab.ready.unenforced_operations.iter().cloned().collect();
    assert_eq!(flagged, expected);
}
