//! Evidence reproduces after the scan: the lab scanned one flaw at a time, the secrets file
//! written, and each finding's `curl` line run in `bash` with that file sourced and nothing
//! else exported must get the evidence's status back.

mod common;

use authprobe::report::Report;
use authprobe_lab::Profile;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Findings whose status cannot come back on a rerun, and why.
const NOT_REPRODUCIBLE: &[(&str, &str)] = &[
    // The token names the scan's jku listener, which closed with the scan; the finding
    // says how to serve the key set again (--keep-artifacts, then a static server).
    ("jwt.jku_injection", "needs the scan's listener"),
];

/// Findings whose evidence is an answer of the login, which the lab throttles once the
/// scan's bursts (lockout, enumeration timing, cleartext Basic) have hit it: a rerun may
/// get the throttle's 429 instead of the evidence's status, and only that is excused.
const RATE_LIMITED: &[&str] = &[
    "auth.user_enumeration",
    "basic.cleartext",
    "basic.no_lockout",
];

/// The status of the first answer in curl's `-i`/`-I` output.
fn status_of(out: &str) -> Option<u16> {
    out.lines()
        .find(|l| l.starts_with("HTTP/"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
}

/// Runs `curl` with only the secrets file's variables (and PATH) in the environment.
fn rerun(curl: &str, secrets: &Path) -> Result<Option<u16>, String> {
    let out = Command::new("bash")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .arg("-c")
        .arg(format!(". {} && {curl}", secrets.display()))
        .output()
        .map_err(|e| format!("bash: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(status_of(&String::from_utf8_lossy(&out.stdout)))
}

/// Scans the lab with `flaw` alone, as `lab_e2e` does, keeping the artifacts, then reruns
/// every finding; returns one line per finding that did not reproduce, and the count.
async fn reproduce(flaw: &'static str) -> (Vec<String>, usize) {
    let lab = common::lab(Profile::Hardened, &[flaw]).await;
    let kept = tempfile::tempdir().unwrap();
    let mut opts = common::options(&lab, common::quick_limits());
    if flaw != "jwt.weak_hmac_secret" {
        common::give_signing_key(&mut opts, &lab);
    }
    opts.keep_artifacts = Some(kept.path().join("artifacts"));
    let report: Report = common::scan(opts).await;
    let secrets = kept.path().join("secrets.sh");
    let unknown = authprobe::secrets_file::write(&secrets, &report).unwrap();
    let mut failures = Vec::new();
    if !unknown.is_empty() {
        failures.push(format!(
            "{flaw}: variables not in the secrets file: {unknown:?}"
        ));
    }
    let findings: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.evidence.status.is_some())
        .filter(|f| !NOT_REPRODUCIBLE.iter().any(|(id, _)| *id == f.id))
        .map(|f| (f.id.clone(), f.evidence.status, f.evidence.curl.clone()))
        .collect();
    let checked = findings.len();
    let secrets2 = secrets.clone();
    let results = tokio::task::spawn_blocking(move || {
        findings
            .into_iter()
            .map(|(id, want, curl)| (id, want, rerun(&curl, &secrets2), curl))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (id, want, got, curl) in results {
        match got {
            Ok(got) if got == want => {}
            Ok(Some(429)) if RATE_LIMITED.contains(&id.as_str()) => {}
            other => failures.push(format!(
                "{flaw} / {id}: evidence status {want:?}, rerun gave {other:?}\n  {curl}"
            )),
        }
    }
    drop(lab);
    (failures, checked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_findings_curl_line_reproduces_its_status_with_the_secrets_file() {
    const AT_ONCE: usize = 4;
    let started = Instant::now();
    let flaws: Vec<&'static str> = authprobe::checks::registry()
        .iter()
        .filter_map(|c| c.meta().lab_flaw)
        .collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    for group in flaws.chunks(AT_ONCE) {
        for (f, n) in futures::future::join_all(group.iter().map(|f| reproduce(f))).await {
            failures.extend(f);
            checked += n;
        }
    }
    eprintln!(
        "{checked} curl lines rerun over {} single-flaw scans in {:.1} s (not rerun: {:?}; a 429 excused for: {:?})",
        flaws.len(),
        started.elapsed().as_secs_f64(),
        NOT_REPRODUCIBLE,
        RATE_LIMITED
    );
    assert!(checked > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
