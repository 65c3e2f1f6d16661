//! The dashboard in a real browser: Playwright (`playwright-core`, tests/ui) drives
//! Debian's Chromium through the whole flow against a real `authprobe serve` and two labs,
//! on SQLite and on PostgreSQL. Screenshots land in target/dashboard-screenshots (and in
//! docs/img with AUTHPROBE_UPDATE_SCREENSHOTS=1).

mod common;

use authprobe_lab::Profile;
use common::server::{Server, lab_credentials, lab_url};
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui")
}

/// Node, playwright-core and Chromium, or why not. In CI they must all be there.
fn browser_tools() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing = if !ui_dir().join("node_modules/playwright-core").exists() {
        Some("tests/ui/node_modules (npm ci --prefix crates/authprobe/tests/ui)")
    } else if !Path::new(&chromium).exists() {
        Some("Chromium (apt-get install chromium)")
    } else if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        Some("node")
    } else {
        None
    };
    match missing {
        None => Some(chromium),
        Some(what) if std::env::var_os("CI").is_some() => panic!("CI must have {what}"),
        Some(what) => {
            eprintln!("SKIPPED: the dashboard browser test needs {what}");
            None
        }
    }
}

async fn flow(db: String, dir: &Path, shots: &str) {
    let Some(chromium) = browser_tools() else {
        return;
    };
    let a = lab(Profile::Hardened, &["jwt.alg_none", "tls.hsts_missing"]).await;
    let b = lab(Profile::Hardened, &["jwt.missing_exp", "tls.hsts_missing"]).await;
    let server = Server::start(&db, dir, &[]).await;
    let side = |l: &authprobe_lab::Lab| {
        let mut c = lab_credentials(l);
        c["url"] = json!(lab_url(l));
        c["bearer"] = json!(l.ready.token);
        c.to_string()
    };
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/dashboard-screenshots")
        .join(shots);
    // Bounded: coreutils' timeout kills a hung browser flow after 400 s.
    let mut node = std::process::Command::new("timeout");
    node.args(["-s", "KILL", "400", "node"])
        .arg(ui_dir().join("dashboard.mjs"))
        .env("BASE", &server.url)
        .env("KEY", &server.key)
        .env("SHOTS", &out_dir)
        .env("LAB_A", side(&a))
        .env("LAB_B", side(&b))
        .env("CHECKS", "jwt.alg_none,jwt.missing_exp,tls.hsts_missing")
        .env("CHROMIUM", &chromium);
    let out = tokio::task::spawn_blocking(move || node.output().expect("node runs"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let result: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no result from the browser flow\n{stdout}\n{stderr}"));
    assert_eq!(result["ok"], true, "{result}\n{stderr}");
    if std::env::var_os("AUTHPROBE_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/img");
        std::fs::create_dir_all(&docs).unwrap();
        for e in std::fs::read_dir(&out_dir).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(
                &p,
                docs.join(format!(
                    "dashboard-{}",
                    p.file_name().unwrap().to_string_lossy()
                )),
            )
            .unwrap();
        }
    }
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_chromium_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("authprobe.db").display());
    flow(db, dir.path(), "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_chromium_on_postgres() {
    let Some(pg) = common::pg::database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    flow(pg.url().to_string(), dir.path(), "postgres").await;
}
