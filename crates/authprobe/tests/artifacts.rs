//! No minted certificate or key outlives a scan unless the user asks: the binary, run
//! with its own TMPDIR, leaves no `authprobe-*` directory there; `--keep-artifacts DIR`
//! keeps them in DIR and the curl lines point there; the lab removes its directory when
//! it stops.

mod common;

use authprobe_lab::Profile;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_authprobe");

fn leftovers(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("authprobe-"))
        .collect()
}

/// `authprobe scan` of the lab with only `mtls.untrusted_cert_accepted`, which mints a
/// self-signed copy of the user's certificate, with TMPDIR set to `tmp`.
async fn scan(lab: &authprobe_lab::Lab, tmp: &Path, extra: &[&str]) -> Output {
    let r = &lab.ready;
    let mut cmd = Command::new(BIN);
    cmd.env("TMPDIR", tmp)
        .args(["scan", &format!("{}{}", r.https_url, r.protected_path)])
        .args(common::lab_cli_credentials(lab))
        // The lab binds its tokens to the certificate: the probe needs a re-bound token.
        .arg("--jwt-key")
        .arg(&lab.jwt_key)
        .args([
            "--checks",
            "mtls.untrusted_cert_accepted",
            "--format",
            "json",
        ])
        .args(extra);
    tokio::task::spawn_blocking(move || cmd.output().expect("run scan"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minted_certificates_are_removed_unless_kept() {
    let lab = common::lab(Profile::Hardened, &["mtls.untrusted_cert_accepted"]).await;
    let tmp = tempfile::tempdir().unwrap();

    let out = scan(&lab, tmp.path(), &[]).await;
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("mtls.untrusted_cert_accepted"),
        "the probe certificate was minted and used: {report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("--keep-artifacts"), "{report}");
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());

    let kept = tmp.path().join("kept");
    let out = scan(
        &lab,
        tmp.path(),
        &["--keep-artifacts", kept.to_str().unwrap()],
    )
    .await;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let curl = report["findings"][0]["evidence"]["curl"].as_str().unwrap();
    let cert = kept.join("self-signed.pem");
    let key = kept.join("self-signed.key");
    assert!(cert.is_file() && key.is_file());
    assert!(
        curl.contains(&format!("--cert '{}'", cert.display()))
            && curl.contains(&format!("--key '{}'", key.display())),
        "{curl}"
    );
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());

    // A second run into the same directory replaces the files.
    let out = scan(
        &lab,
        tmp.path(),
        &["--keep-artifacts", kept.to_str().unwrap()],
    )
    .await;
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("mtls.untrusted_cert_accepted"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_lab_removes_its_directory_when_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let ready = tmp.path().join("ready.json");
    let mut child = Command::new(BIN)
        .env("TMPDIR", tmp.path())
        .args(["lab", "--ready-file"])
        .arg(&ready)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready.exists() {
        assert!(Instant::now() < deadline, "lab did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(leftovers(tmp.path()).len(), 1, "the lab's own directory");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap();
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());
}
