//! The command line as a newcomer meets it: help, completions and the man page from the
//! same definitions, durations with units, `-o` mistakes caught before any request, the
//! colour policy, plurals, and `scan --lab`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_authprobe");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run authprobe")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Kills the lab however the test ends.
struct Lab {
    child: Child,
    ready: PathBuf,
    /// The lines the lab printed on stderr up to its "ready" note.
    stderr: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_lab(args: &[&str]) -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready.json");
    let mut child = Command::new(BIN)
        .arg("lab")
        .args(args)
        .arg("--ready-file")
        .arg(&ready)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn lab");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut stderr = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    // The lab prints two notes once the ready file is written.
    while stderr.len() < 2 {
        assert!(Instant::now() < deadline, "lab did not become ready");
        match lines.next() {
            Some(Ok(l)) => stderr.push(l),
            _ => panic!("lab ended early: {stderr:?}"),
        }
    }
    // Keep draining so the lab never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    assert!(ready.exists());
    Lab {
        child,
        ready,
        stderr,
        _dir: dir,
    }
}

fn ready_arg(lab: &Lab) -> &str {
    lab.ready.to_str().unwrap()
}

#[test]
fn completions_for_every_shell_mention_scan() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        let s = text(&out.stdout);
        assert!(s.len() > 200, "{shell}: {s}");
        assert!(s.contains("scan"), "{shell}");
        assert!(s.contains("fail-on"), "{shell}");
    }
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_page_is_roff_with_the_scan_options() {
    let out = run(&["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.starts_with(".ie") || s.starts_with(".TH"), "{}", &s[..80]);
    assert!(s.contains(".TH authprobe"), "{}", &s[..200]);
    assert!(s.contains("AUTHPROBE SCAN"));
    for opt in ["client\\-cert", "fail\\-on", "timeout", "lab"] {
        assert!(s.contains(opt), "{opt}");
    }
}

#[test]
fn scan_help_groups_options_and_ends_with_examples() {
    let out = run(&["scan", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    let at = |h: &str| {
        s.find(&format!("\n{h}:\n"))
            .unwrap_or_else(|| panic!("{h} missing:\n{s}"))
    };
    for h in ["Credentials", "mTLS", "JWT", "Basic", "Safety and limits"] {
        assert!(
            at("Target") < at(h) && at(h) < at("Output and gates"),
            "{h}"
        );
    }
    assert!(at("Output and gates") < at("Examples"));
    assert!(s.contains("critical, high, medium, low, info"), "{s}");
    assert!(s.contains("scan --lab ready.json"));
}

#[test]
fn durations_take_units_and_bare_seconds() {
    // --timeout 10s used to be refused; parsing must now succeed and the run fail only at
    // the unreachable port.
    for t in ["10s", "1.5", "500ms"] {
        let out = run(&["scan", "http://127.0.0.1:1/", "--timeout", t]);
        let e = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{t}: {e}");
        assert!(e.contains("cannot reach"), "{t}: {e}");
    }
    let out = run(&["scan", "http://127.0.0.1:1/", "--timeout", "11m"]);
    assert!(text(&out.stderr).contains("--timeout must be between"));
    let out = run(&["scan", "http://127.0.0.1:1/", "--max-time", "90"]);
    assert!(text(&out.stderr).contains("cannot reach"));
}

/// A listener that counts the connections it receives.
fn counting_listener() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    let n = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = n.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(c);
        }
    });
    (url, n)
}

#[test]
fn a_bad_output_path_fails_before_any_request() {
    let (url, connections) = counting_listener();
    let started = Instant::now();
    let out = run(&["scan", &url, "-o", "/nonexistent-dir/x.json"]);
    let took = started.elapsed();
    let e = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("/nonexistent-dir/x.json"), "{e}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);

    let dir = tempfile::tempdir().unwrap();
    let out = run(&["scan", &url, "-o", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("directory"));
    // The check leaves no file behind.
    let probe = dir.path().join("r.pdf");
    let out = run(&["scan", &url, "-o", probe.to_str().unwrap()]);
    let e = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("unknown extension .pdf"), "{e}");
    for ext in [".json", ".sarif", ".xml", ".md", ".html", ".txt"] {
        assert!(e.contains(ext), "{e}");
    }
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(!probe.exists());
}

fn scan_lab(lab: &Lab, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(["scan", "--lab", ready_arg(lab)]).args(extra);
    c.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run scan")
}

#[test]
fn scan_lab_finds_the_demo_findings_and_the_lab_prints_the_command() {
    let lab = start_lab(&["--profile", "vulnerable"]);
    assert!(
        lab.stderr[0].contains(&format!("scan --lab {}", ready_arg(&lab))),
        "{:?}",
        lab.stderr
    );
    assert!(
        lab.stderr[1].contains(" scan https://127.0.0.1:"),
        "{:?}",
        lab.stderr
    );

    let out = scan_lab(
        &lab,
        &["-o", "-", "--format", "json", "--max-time", "2m"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // `-o -` is stdout, written once.
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    // One per family, and the revoked certificate the lab writes beside the ready JSON's.
    for id in [
        "auth.missing",
        "jwt.signature_not_verified",
        "basic.cleartext",
        "mtls.revoked_cert_accepted",
        "tls.hsts_missing",
    ] {
        assert!(ids.contains(&id), "{id} not in {ids:?}");
    }
    // As many as the demo's 28, which scans the same profile.
    assert!(ids.len() >= 28, "{ids:?}");

    // The full command the lab printed scans the same lab.
    let line = lab.stderr[1]
        .split_once("scan it with: ")
        .map(|(_, c)| c)
        .unwrap_or_else(|| lab.stderr[1].split_once("in full: ").unwrap().1);
    assert!(
        line.contains("--bearer") && line.contains("--client-cert"),
        "{line}"
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{line} --format json --checks auth.missing,mtls"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut by_hand: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|i| *i == "auth.missing" || i.starts_with("mtls."))
        .collect();
    expected.sort();
    by_hand.sort();
    assert_eq!(by_hand, expected);
}

#[test]
fn colour_follows_the_policy_and_plurals_agree() {
    let lab = start_lab(&["--flaw", "tls.hsts_missing"]);
    let checks = ["--checks", "tls.hsts_missing"];
    let always = scan_lab(&lab, &[&checks[..], &["--color", "always"]].concat(), &[]);
    assert_eq!(always.status.code(), Some(0), "{}", text(&always.stderr));
    assert!(always.stdout.contains(&0x1b), "--color always styles");
    let s = text(&always.stdout);
    assert!(s.contains("1 check run,"), "{s}");
    assert!(s.contains("Family scores"), "{s}");

    let never = scan_lab(&lab, &[&checks[..], &["--color", "never"]].concat(), &[]);
    assert!(!never.stdout.contains(&0x1b));
    let no_color = scan_lab(&lab, &checks, &[("NO_COLOR", "1")]);
    assert!(!no_color.stdout.contains(&0x1b));
    // Piped without a flag: no colour, unless CLICOLOR_FORCE asks.
    let piped = scan_lab(&lab, &checks, &[]);
    assert!(!piped.stdout.contains(&0x1b));
    let forced = scan_lab(&lab, &checks, &[("CLICOLOR_FORCE", "1")]);
    assert!(forced.stdout.contains(&0x1b));
    // Piped output is not wrapped: one line per finding, same text as uncoloured.
    assert_eq!(
        text(&never.stdout).lines().count(),
        text(&piped.stdout).lines().count()
    );

    let two = scan_lab(
        &lab,
        &[
            "--checks",
            "tls.hsts_missing,auth.missing",
            "--color",
            "never",
        ],
        &[],
    );
    assert!(
        text(&two.stdout).contains("2 checks run,"),
        "{}",
        text(&two.stdout)
    );
}

#[test]
fn scan_lab_refuses_a_missing_or_foreign_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("not-ready.json");
    std::fs::write(&p, "{}").unwrap();
    let out = run(&["scan", "--lab", p.to_str().unwrap()]);
    let e = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("is not the ready JSON"), "{e}");
    let out = run(&["scan", "--lab", "/nonexistent/ready.json"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["scan", "https://x.example/", "--lab", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "URL and --lab conflict");
}
