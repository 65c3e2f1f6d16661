//! The first-hour mistakes, each explained on one line: the wrong scheme for the port, no
//! scheme at all, an http:// target that redirects to HTTPS, credentials about to go out
//! in clear, and a client key that is not the certificate's.

mod common;

use authprobe_lab::{Lab, Profile};
use std::process::Output;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const BIN: &str = env!("CARGO_BIN_EXE_authprobe");

/// `authprobe scan URL` with the lab's credentials and CA, off the test's runtime threads
/// (the lab serves on them).
async fn scan(lab: &Lab, url: &str, extra: &[&str]) -> Output {
    let r = &lab.ready;
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["scan", url, "--checks", "auth.missing", "--no-progress"])
        .args(["--bearer", &r.token])
        .arg("--server-ca")
        .arg(&r.ca_cert)
        .args(extra);
    run(cmd).await
}

async fn run(mut cmd: std::process::Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn port(url: &str) -> u16 {
    url::Url::parse(url).unwrap().port().unwrap()
}

/// Exit 2 and one line on stderr that says `says`.
fn one_line_error(out: &Output, says: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for s in says {
        assert!(err.contains(s), "expected {s:?} in {err}");
    }
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrong_scheme_for_the_port_suggests_the_other() {
    let lab = common::lab(Profile::Hardened, &[]).await;
    let path = &lab.ready.protected_path;
    let tls_port = port(&lab.ready.https_url);
    let plain_port = port(&lab.ready.http_url);

    // http:// on the TLS port: the lab answers the plain request with TLS.
    let out = scan(&lab, &format!("http://127.0.0.1:{tls_port}{path}"), &[]).await;
    one_line_error(
        &out,
        &[
            "speaks TLS on this port",
            &format!("try https://127.0.0.1:{tls_port}{path}"),
        ],
    );

    // https:// on the plain port: the answer to the ClientHello is plain HTTP.
    let out = scan(&lab, &format!("https://127.0.0.1:{plain_port}{path}"), &[]).await;
    one_line_error(
        &out,
        &[
            "answered in plain HTTP",
            &format!("try http://127.0.0.1:{plain_port}{path}"),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_and_port_without_a_scheme_is_taken_as_https_with_a_note() {
    let lab = common::lab(Profile::Hardened, &[]).await;
    let bare = format!(
        "127.0.0.1:{}{}",
        port(&lab.ready.https_url),
        lab.ready.protected_path
    );
    let r = &lab.ready;
    let cert = r.client_cert.to_str().unwrap();
    let key = r.client_key.to_str().unwrap();
    let out = scan(
        &lab,
        &bare,
        &[
            "--client-cert",
            cert,
            "--client-key",
            key,
            "--format",
            "json",
        ],
    )
    .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "authprobe: note: no scheme in \"{bare}\"; using https://{bare}"
        )),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["target"], format!("https://{bare}"));
    // --quiet silences the note, not the scan.
    let out = scan(
        &lab,
        &bare,
        &["--client-cert", cert, "--client-key", key, "-q"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("no scheme"));
}

/// A plain-HTTP server on 127.0.0.1 that redirects everything to `https://…/secure`, and
/// records whether any request carried an Authorization header.
async fn redirector() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = conn.read(&mut buf).await.unwrap_or(0);
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                let _ = conn
                    .write_all(
                        b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://127.0.0.1:1/secure\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await;
            });
        }
    });
    (port, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_target_redirecting_to_https_is_named_before_credentials_are_sent() {
    let (port, seen) = redirector().await;
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["scan", &format!("http://127.0.0.1:{port}/api")])
        .args(["--bearer", "secret-token-value", "--basic", "alice:pw"]);
    let out = run(cmd).await;
    one_line_error(
        &out,
        &[
            "redirects to https://127.0.0.1:1/secure",
            "scan https://127.0.0.1:1/secure instead",
            "no credential was sent",
        ],
    );
    let requests = seen.lock().unwrap().clone();
    assert!(!requests.is_empty());
    for r in &requests {
        let lower = r.to_ascii_lowercase();
        assert!(!lower.contains("authorization"), "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_not_sent_in_clear_off_this_machine_unless_allowed() {
    // 192.0.2.1 (TEST-NET-1) is never contacted: the refusal comes first.
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["scan", "http://192.0.2.1/api", "--bearer", "tok"]);
    one_line_error(
        &run(cmd).await,
        &[
            "refusing to send --bearer over plain HTTP to http://192.0.2.1/api",
            "--allow-plain-http-credentials",
        ],
    );
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["scan", "http://192.0.2.1/api", "--basic", "a:b"])
        .args(["-H", "X-Api-Key: k", "-H", "Accept: text/plain"]);
    let err = one_line_error(&run(cmd).await, &["--basic, --header X-Api-Key"]);
    assert!(!err.contains("Accept"), "{err}");

    // Allowed: the warning shows even with --quiet, then the scan goes on (and here
    // finds nobody home).
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["scan", "http://127.0.0.2:1/api", "--bearer", "tok"])
        .args(["--allow-plain-http-credentials", "-q", "--timeout", "2"]);
    let out = run(cmd).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    // 127.0.0.2 is loopback: nothing crosses a wire, so no warning either.
    assert!(!err.contains("WARNING"), "{err}");
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["scan", "http://localhost.invalid:1/api", "--bearer", "tok"])
        .args(["--allow-plain-http-credentials", "-q", "--timeout", "2"]);
    let out = run(cmd).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("WARNING: sending --bearer over plain HTTP to http://localhost.invalid:1/api"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_is_not_the_certificates_names_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let one = rcgen::generate_simple_self_signed(vec!["client".into()]).unwrap();
    let two = rcgen::generate_simple_self_signed(vec!["client".into()]).unwrap();
    let cert = dir.path().join("alice.crt");
    let key = dir.path().join("bob.key");
    std::fs::write(&cert, one.cert.pem()).unwrap();
    std::fs::write(&key, two.signing_key.serialize_pem()).unwrap();
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["scan", "https://127.0.0.1:1/"])
        .arg("--client-cert")
        .arg(&cert)
        .arg("--client-key")
        .arg(&key);
    one_line_error(
        &run(cmd).await,
        &[
            &cert.display().to_string(),
            &key.display().to_string(),
            "public keys differ",
        ],
    );
}
