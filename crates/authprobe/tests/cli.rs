//! The binary's contract: the lab's ready JSON, the JSON report's shape, exit codes and
//! one-line errors.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_authprobe");

/// The JSON report as DESIGN.md documents it; unknown fields are refused so the test
/// fails if the report grows fields the contract does not list.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Report {
    schema_version: u32,
    tool: Tool,
    target: String,
    started_at: String,
    duration_ms: u64,
    requests_sent: u64,
    score: u8,
    grade: String,
    grade_caps: Vec<serde_json::Value>,
    categories: BTreeMap<String, u8>,
    findings: Vec<Finding>,
    checks_run: Vec<String>,
    checks_skipped: Vec<IdReason>,
    inconclusive: Vec<IdReason>,
    /// Present when the tls.* transport checks ran (https targets, `authprobe tls`).
    tls: Option<TlsSection>,
    /// Present when the mtls.* checks probed the server's client-auth request.
    client_auth: Option<ClientAuthSection>,
    /// Present when most checks run could not decide.
    warnings: Option<Vec<String>>,
    /// Milliseconds each check that ran took, by id (JUnit's `time`); absent in reports
    /// written before it was added.
    check_durations_ms: Option<BTreeMap<String, u64>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ClientAuthSection {
    mode: String,
    versions: Vec<VersionClientAuth>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct VersionClientAuth {
    protocol: String,
    mode: String,
    ca_names: Vec<String>,
    signature_algorithms: Vec<String>,
    without_certificate: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct TlsSection {
    target: String,
    address: String,
    sni: Option<String>,
    handshakes: u32,
    duration_ms: u64,
    protocols: Vec<serde_json::Value>,
    certificate_chain: Vec<serde_json::Value>,
    chain_source: String,
    trust_anchors: String,
    certificate_problems: Vec<String>,
    client_auth_cas: Option<Vec<String>>,
    dh_prime_bits: Option<u32>,
    mozilla_intermediate: ProfileComparison,
    errors: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ProfileComparison {
    profile: String,
    compliant: bool,
    deviations: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Tool {
    name: String,
    version: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Finding {
    id: String,
    title: String,
    severity: String,
    confidence: String,
    cwe: Vec<String>,
    owasp: Vec<String>,
    description: String,
    evidence: Evidence,
    remediation: Remediation,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Evidence {
    request: String,
    status: Option<u16>,
    excerpt: String,
    curl: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Remediation {
    summary: String,
    frameworks: BTreeMap<String, String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct IdReason {
    id: String,
    reason: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Ready {
    https_url: String,
    http_url: String,
    origin_url: Option<String>,
    protected_path: String,
    ca_cert: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
    client_ca_key: PathBuf,
    token: String,
    basic: String,
    flaws: Vec<String>,
    modes: Vec<String>,
    openapi_url: String,
    swagger_url: String,
    api_key: String,
    unenforced_operations: Vec<String>,
    public_operations: Vec<String>,
}

/// Kills the lab however the test ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct LabProcess {
    _child: KillOnDrop,
    ready: Ready,
}

fn start_lab(args: &[&str]) -> LabProcess {
    let dir = tempfile::tempdir().unwrap();
    let ready_path = dir.path().join("ready.json");
    let child = KillOnDrop(
        Command::new(BIN)
            .arg("lab")
            .args(args)
            .arg("--ready-file")
            .arg(&ready_path)
            .spawn()
            .expect("spawn lab"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(&ready_path) {
            let ready: Ready =
                serde_json::from_str(&text).expect("ready JSON matches the contract");
            // Keep the temp dir alive only as long as we need the file.
            drop(dir);
            return LabProcess {
                _child: child,
                ready,
            };
        }
        assert!(Instant::now() < deadline, "lab did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn scan(lab: &LabProcess, extra: &[&str]) -> Output {
    let r = &lab.ready;
    let target = format!("{}{}", r.https_url, r.protected_path);
    let http = format!("{}{}", r.http_url, r.protected_path);
    Command::new(BIN)
        .args(["scan", &target, "--http-url", &http])
        .args(["--bearer", &r.token])
        .arg("--client-cert")
        .arg(&r.client_cert)
        .arg("--client-key")
        .arg(&r.client_key)
        .arg("--server-ca")
        .arg(&r.ca_cert)
        .args(extra)
        .output()
        .expect("run scan")
}

fn exists(p: &Path) -> bool {
    std::fs::metadata(p).is_ok()
}

#[test]
fn json_report_of_vulnerable_lab_matches_the_contract() {
    let lab = start_lab(&["--profile", "vulnerable"]);
    let r = &lab.ready;
    assert!(r.https_url.starts_with("https://127.0.0.1:"));
    assert!(r.http_url.starts_with("http://127.0.0.1:"));
    // The vulnerable profile has the header-spoofing flaw, whose origin trusts headers.
    assert!(
        r.origin_url
            .as_deref()
            .is_some_and(|o| o.starts_with("http://127.0.0.1:"))
    );
    assert!(r.flaws.iter().any(|f| f == "auth.missing"));
    assert!(r.modes.is_empty());
    assert!(r.basic.contains(':'));
    for p in [&r.ca_cert, &r.client_cert, &r.client_key, &r.client_ca_key] {
        assert!(exists(p), "{} must exist", p.display());
    }

    let out = scan(&lab, &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Report = serde_json::from_slice(&out.stdout).expect("report matches the contract");
    assert_eq!(report.schema_version, 2);
    assert_eq!(report.tool.name, "authprobe");
    assert_eq!(report.grade, "F");
    assert!(report.score < 50);
    assert!(report.requests_sent > 0);
    for f in &report.findings {
        assert!(f.cwe.iter().all(|c| c.starts_with("CWE-")));
        assert!(
            f.owasp
                .iter()
                .all(|o| o.starts_with("API") && o.contains(":2023"))
        );
        assert!(f.evidence.curl.starts_with("curl "));
        assert!(["confirmed", "firm", "tentative"].contains(&f.confidence.as_str()));
    }
    let ids: Vec<_> = report.findings.iter().map(|f| f.id.as_str()).collect();
    assert!(ids.contains(&"auth.missing"));
    let tls = report.tls.as_ref().expect("https target: tls section");
    assert!(tls.handshakes > 0);
    assert!(tls.mozilla_intermediate.compliant);
    // The token was given on the command line; it must not come back in the report.
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&r.token));
}

#[test]
fn gates_set_the_exit_code() {
    let lab = start_lab(&["--flaw", "tls.hsts_missing"]);
    // One low finding: --fail-on high passes, --fail-on low fails.
    let ok = scan(&lab, &["--fail-on", "high"]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let fail = scan(&lab, &["--fail-on", "low"]);
    assert_eq!(fail.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&fail.stderr);
    assert!(stderr.contains("--fail-on low"), "{stderr}");
    let score = scan(&lab, &["--min-score", "99"]);
    assert_eq!(score.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&score.stderr).contains("--min-score 99"));
    let pretty = String::from_utf8_lossy(&ok.stdout);
    assert!(pretty.contains("tls.hsts_missing"));
    assert!(pretty.contains("Grade A"));
}

#[test]
fn output_file_gets_json() {
    let lab = start_lab(&[]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let out = scan(&lab, &["-o", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let report: Report = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(report.grade, "A");
    assert!(report.findings.is_empty());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Grade A"));
}

fn one_line_error(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "args {args:?}");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{err}");
    err
}

#[test]
fn user_errors_are_one_line_and_exit_2() {
    let e = one_line_error(&["scan", "not a url"]);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("not a valid URL"));
    let e = one_line_error(&["scan", "https://127.0.0.1:1/x", "--timeout", "2"]);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("cannot reach"));
    let e = one_line_error(&[
        "scan",
        "https://127.0.0.1:1/",
        "--client-cert",
        "/nonexistent.pem",
        "--client-key",
        "/nonexistent.key",
    ]);
    assert!(e.contains("/nonexistent.pem"));
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, b"\x00\xffnot pem at all").unwrap();
    let e = one_line_error(&[
        "scan",
        "https://127.0.0.1:1/",
        "--server-ca",
        junk.to_str().unwrap(),
    ]);
    assert!(e.contains("server CA"), "{e}");
    let e = one_line_error(&["lab", "--flaw", "no.such_flaw"]);
    assert!(e.contains("known flaws"), "{e}");
    let e = one_line_error(&["lab", "--mode", "no-such-mode"]);
    assert!(e.contains("known modes"), "{e}");
    one_line_error(&["scan"]);
}

#[test]
fn lab_modes_are_in_the_ready_json() {
    let lab = start_lab(&["--mode", "token-first", "--mode", "errors-200"]);
    assert_eq!(lab.ready.modes, ["errors-200", "token-first"]);
}

#[test]
fn the_ready_json_names_the_api_description_and_its_special_operations() {
    let lab = start_lab(&["--profile", "hardened", "--open-operation", "getInvoice"]);
    let r = &lab.ready;
    assert_eq!(r.openapi_url, format!("{}/openapi.json", r.https_url));
    assert_eq!(r.swagger_url, format!("{}/swagger.json", r.https_url));
    assert!(r.api_key.len() >= 16, "{}", r.api_key);
    assert_eq!(r.unenforced_operations, ["getInvoice"]);
    assert_eq!(r.public_operations, ["getStatus"]);
}

#[test]
fn catalog_lists_the_checks() {
    let out = Command::new(BIN)
        .args(["checks", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<_> = list
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    for id in [
        "auth.missing",
        "auth.method_bypass",
        "auth.malformed_token_accepted",
        "tls.plaintext_http",
        "tls.hsts_missing",
        "auth.scheme_confusion",
        "auth.verbose_errors",
        "auth.user_enumeration",
        "basic.cleartext",
        "basic.default_credentials",
        "basic.no_lockout",
        "basic.realm_leak",
        "tls.legacy_protocol",
        "tls.weak_cipher",
        "tls.no_forward_secrecy",
        "tls.no_tls13",
        "tls.cert_invalid",
        "tls.cert_weak_key",
        "tls.forwarded_proto_trusted",
        "tls.insecure_cookie",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id}");
    }
}

fn hs256_token(secret: &[u8]) -> String {
    use base64::Engine;
    use hmac::Mac;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let input = format!(
        "{}.{}",
        b64.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64.encode(
            r#"{"sub":"alice","email":"alice@example.test","iat":1700000000,"exp":1700003600}"#
        )
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64.encode(mac.finalize().into_bytes()))
}

#[test]
fn crack_finds_masks_and_exits_by_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let words = dir.path().join("words.txt");
    std::fs::write(&words, "alpha\nbravo\ncorrect-horse-battery\ndelta\n").unwrap();
    let token = hs256_token(b"correct-horse-battery");

    let found = Command::new(BIN)
        .args([
            "crack",
            &token,
            "--no-builtin",
            "--rules",
            "none",
            "--no-progress",
        ])
        .arg("--wordlist")
        .arg(&words)
        .output()
        .unwrap();
    assert_eq!(found.status.code(), Some(0));
    let out = String::from_utf8_lossy(&found.stdout);
    assert!(out.contains("co*****************ry"), "{out}");
    assert!(
        !out.contains("correct-horse-battery"),
        "masked by default: {out}"
    );

    let shown = Command::new(BIN)
        .args([
            "crack",
            &token,
            "--no-builtin",
            "--rules",
            "none",
            "--show-secret",
            "--format",
            "json",
        ])
        .arg("--wordlist")
        .arg(&words)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(v["secret"], "correct-horse-battery");
    assert_eq!(v["stopped"], "found");

    let absent = hs256_token(b"not-in-any-list-4f8a9c");
    let missing = Command::new(BIN)
        .args(["crack", &absent, "--no-builtin", "--rules", "none"])
        .arg("--wordlist")
        .arg(&words)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stdout).contains("not found"));
}

#[test]
fn crack_reads_stdin_and_exports_hashcat() {
    use std::io::Write;
    let token = hs256_token(b"from-stdin-secret");
    let dir = tempfile::tempdir().unwrap();
    let hc = dir.path().join("token.16500");
    let mut child = Command::new(BIN)
        .args([
            "crack",
            &token,
            "--no-builtin",
            "--rules",
            "none",
            "--wordlist",
            "-",
        ])
        .arg("--export-hashcat")
        .arg(&hc)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"one\ntwo\nfrom-stdin-secret\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&hc).unwrap().trim(), token);
}

#[test]
fn crack_rejects_non_hmac_tokens_with_one_line() {
    let e = one_line_error(&["crack", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"]);
    assert!(e.contains("HS256"), "{e}");
    let e = one_line_error(&["crack", "not-a-token"]);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
}

#[test]
fn crack_benchmark_states_the_figures() {
    let out = Command::new(BIN)
        .args([
            "crack",
            "--benchmark",
            "0.5",
            "--threads",
            "1",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["candidates_per_sec"].as_f64().unwrap() > 0.0);
    assert!(v["fraction_of_bound"].as_f64().unwrap() > 0.0);
}

#[test]
fn token_inspect_reports_and_masks() {
    let token = hs256_token(b"whatever-secret-value");
    let out = Command::new(BIN)
        .args(["token", "inspect", &token, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&"jwt.missing_audience_or_issuer".to_string()));
    assert!(ids.contains(&"jwt.sensitive_claims".to_string()));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("alice@example.test"),
        "e-mail masked: {text}"
    );
    assert!(text.contains("<redacted>"), "signature withheld");
}

#[test]
fn basic_wordlist_pairs_are_tried_at_the_basic_url() {
    // The hardened lab has no default account; a wordlist holding alice's real pair stands
    // in for a site-specific default, and --basic is not given so it is not skipped as the
    // user's own.
    let lab = start_lab(&[]);
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("pairs.txt");
    std::fs::write(&list, format!("# site defaults\n\n{}\n", lab.ready.basic)).unwrap();
    let login = format!("{}/api/v1/login", lab.ready.https_url);
    let out = scan(
        &lab,
        &[
            "--format",
            "json",
            "--basic-url",
            &login,
            "--basic-wordlist",
            list.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<_> = report.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, vec!["basic.default_credentials"]);
    assert!(report.findings[0].description.contains("pair 31 tried"));

    std::fs::write(&list, "no colon here\n").unwrap();
    let e = one_line_error(&[
        "scan",
        "https://127.0.0.1:1/",
        "--basic-wordlist",
        list.to_str().unwrap(),
    ]);
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn checks_selects_a_subset() {
    let lab = start_lab(&["--flaw", "tls.hsts_missing", "--flaw", "auth.missing"]);
    let out = scan(&lab, &["--format", "json", "--checks", "tls"]);
    assert_eq!(out.status.code(), Some(0));
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.checks_run.iter().all(|c| c.starts_with("tls.")));
    let ids: Vec<_> = report.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, vec!["tls.hsts_missing"]);
    let e = one_line_error(&["scan", "https://127.0.0.1:1/", "--checks", "jwt.nope"]);
    assert!(e.contains("names no check"), "{e}");
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_quietly() {
    // The reader is gone before the first line is printed, as with `authprobe checks | true`.
    let mut child = Command::new(BIN)
        .args(["checks", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "a panic exits 101");
}

#[test]
fn several_outputs_take_their_format_from_the_extension() {
    let lab = start_lab(&["--flaw", "tls.hsts_missing"]);
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let mut args: Vec<String> = Vec::new();
    for name in ["r.json", "r.sarif"] {
        args.push("-o".into());
        args.push(p(name).to_str().unwrap().into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = scan(&lab, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Report = serde_json::from_str(&std::fs::read_to_string(p("r.json")).unwrap())
        .expect("the .json file is the JSON report");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("r.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"][0]["ruleId"],
        json.findings[0].id.as_str()
    );
    // stdout keeps --format (pretty by default) whatever the files get.
    assert!(String::from_utf8_lossy(&out.stdout).contains("Grade A"));
}

#[test]
fn baseline_suppresses_known_findings_and_gates_only_on_new_ones() {
    // The baseline knows the HSTS finding; the second scan adds a cookie flaw.
    let before = start_lab(&["--flaw", "tls.hsts_missing"]);
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    let out = scan(&before, &["-o", base.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    drop(before);

    // Same lab, same flaw: the known finding no longer fails --fail-on low.
    let same = start_lab(&["--flaw", "tls.hsts_missing"]);
    // The ports differ from run to run; point the baseline at this lab's target.
    let text = std::fs::read_to_string(&base).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["target"] = format!("{}{}", same.ready.https_url, same.ready.protected_path).into();
    std::fs::write(&base, v.to_string()).unwrap();
    let gated = scan(&same, &["--fail-on", "low", "--format", "json"]);
    assert_eq!(
        gated.status.code(),
        Some(1),
        "without the baseline the gate fails"
    );
    let out = scan(
        &same,
        &[
            "--fail-on",
            "low",
            "--format",
            "json",
            "--baseline",
            base.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("1 known finding suppressed, 0 new"),
        "{stderr}"
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["findings"].as_array().unwrap().is_empty());
    assert_eq!(r["baseline"]["suppressed"], 1);
    assert_eq!(r["baseline"]["suppressed_ids"][0], "tls.hsts_missing");
    drop(same);

    // A new flaw on top: only it is reported and gated on.
    let worse = start_lab(&[
        "--flaw",
        "tls.hsts_missing",
        "--flaw",
        "auth.verbose_errors",
    ]);
    v["target"] = format!("{}{}", worse.ready.https_url, worse.ready.protected_path).into();
    std::fs::write(&base, v.to_string()).unwrap();
    let out = scan(
        &worse,
        &[
            "--fail-on",
            "low",
            "--format",
            "json",
            "--baseline",
            base.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fail-on low"));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["auth.verbose_errors"]);

    // A missing baseline is a usage error before any scan.
    let err = one_line_error(&[
        "scan",
        "https://127.0.0.1:1/",
        "--baseline",
        "/nonexistent/base.json",
    ]);
    assert!(err.contains("--baseline"), "{err}");
}

#[test]
fn every_format_by_extension_and_by_flag() {
    let lab = start_lab(&["--flaw", "tls.hsts_missing"]);
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let names = ["r.md", "r.html", "r.xml"];
    let mut args: Vec<String> = Vec::new();
    for name in names {
        args.push("-o".into());
        args.push(p(name).to_str().unwrap().into());
    }
    args.extend(["--format".to_string(), "sarif".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = scan(&lab, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is SARIF");
    assert_eq!(stdout["version"], "2.1.0");
    let md = std::fs::read_to_string(p("r.md")).unwrap();
    assert!(
        md.contains("Grade A") && md.contains("`tls.hsts_missing`"),
        "{md}"
    );
    let html = std::fs::read_to_string(p("r.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("tls.hsts_missing"));
    let xml = std::fs::read_to_string(p("r.xml")).unwrap();
    assert!(
        xml.contains("<testsuites ") && xml.contains("<failure "),
        "{xml}"
    );
}

#[test]
fn action_script_writes_outputs_and_summary() {
    let lab = start_lab(&["--flaw", "tls.hsts_missing"]);
    let r = &lab.ready;
    let dir = tempfile::tempdir().unwrap();
    let gh_out = dir.path().join("github_output");
    let summary = dir.path().join("step_summary");
    let runner_temp = dir.path().join("runner");
    std::fs::create_dir(&runner_temp).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/action-run.sh");
    let out = Command::new("bash")
        .arg(&script)
        .env("AUTHPROBE_BIN", BIN)
        .env("INPUT_URL", format!("{}{}", r.https_url, r.protected_path))
        .env("INPUT_BEARER", &r.token)
        .env(
            "INPUT_CLIENT_CERT",
            std::fs::read_to_string(&r.client_cert).unwrap(),
        )
        .env(
            "INPUT_CLIENT_KEY",
            std::fs::read_to_string(&r.client_key).unwrap(),
        )
        .env(
            "INPUT_EXTRA_ARGS",
            format!(
                "--server-ca {} --http-url {}{}",
                r.ca_cert.display(),
                r.http_url,
                r.protected_path
            ),
        )
        .env("INPUT_FAIL_ON", "low")
        .env("INPUT_MIN_SCORE", "50")
        .env("GITHUB_OUTPUT", &gh_out)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("RUNNER_TEMP", &runner_temp)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The low HSTS finding trips --fail-on low: exit 1, outputs written all the same.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--fail-on low"), "{stderr}");
    let outputs = std::fs::read_to_string(&gh_out).unwrap();
    let get = |k: &str| {
        outputs
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} in {outputs}"))
            .to_string()
    };
    let score: u32 = get("score").parse().unwrap();
    assert!(score > 90 && score < 100, "{outputs}");
    assert_eq!(get("grade"), "A");
    assert_eq!(get("findings"), "1");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(get("sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "tls.hsts_missing");
    assert!(
        std::fs::read_to_string(get("html"))
            .unwrap()
            .contains("tls.hsts_missing")
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains(&format!("Score {score}/100 · Grade A")), "{md}");
    // The token went through the environment and is masked; no key file is left behind.
    assert!(!md.contains(&r.token));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("::add-mask::{}", r.token)));
    let leftovers: Vec<_> = std::fs::read_dir(&runner_temp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("authprobe-secrets"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn mint_revoked_writes_a_certificate_and_the_crl_that_revokes_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::default();
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Staging client CA");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let mut leaf = rcgen::CertificateParams::default();
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, "svc-billing");
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = leaf.signed_by(&leaf_key, &issuer).unwrap();
    std::fs::write(d.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(d.join("ca.key"), issuer.key().serialize_pem()).unwrap();
    std::fs::write(d.join("me.pem"), leaf.pem()).unwrap();
    let mint = |ca_key: &str, out: &str| {
        Command::new(BIN)
            .args(["mint-revoked", "--client-ca-cert"])
            .arg(d.join("ca.pem"))
            .arg("--client-ca-key")
            .arg(d.join(ca_key))
            .arg("--subject-from")
            .arg(d.join("me.pem"))
            .arg("--out")
            .arg(d.join(out))
            .output()
            .unwrap()
    };
    let out = mint("ca.key", "out");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--revoked-cert"), "{text}");
    let cert_pem = std::fs::read(d.join("out/revoked.pem")).unwrap();
    let (_, cert) = x509_parser::pem::parse_x509_pem(&cert_pem).unwrap();
    let cert = cert.parse_x509().unwrap();
    assert_eq!(cert.subject().to_string(), "CN=svc-billing");
    let crl_pem = std::fs::read(d.join("out/crl.pem")).unwrap();
    let (_, crl) = x509_parser::pem::parse_x509_pem(&crl_pem).unwrap();
    let (_, crl) = x509_parser::parse_x509_crl(&crl.contents).unwrap();
    assert!(
        crl.iter_revoked_certificates()
            .any(|r| r.raw_serial() == cert.raw_serial())
    );
    // A CA key that is not a key is a one-line error, exit 2.
    let out = mint("me.pem", "out2");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim().lines().count(),
        1
    );
}

/// `authprobe scan` of the lab's protected resource with the given credential flags only.
fn scan_with(lab: &LabProcess, creds: &[&str], extra: &[&str]) -> Output {
    let r = &lab.ready;
    let target = format!("{}{}", r.https_url, r.protected_path);
    Command::new(BIN)
        .args(["scan", &target])
        .arg("--server-ca")
        .arg(&r.ca_cert)
        .args(creds)
        .args(extra)
        .output()
        .expect("run scan")
}

#[test]
fn refused_credentials_stop_the_scan_with_exit_2() {
    let lab = start_lab(&[]);
    let r = &lab.ready;
    let cert = r.client_cert.to_str().unwrap();
    let key = r.client_key.to_str().unwrap();
    let expired = hs256_token(b"not-the-lab-key");
    for (label, creds) in [
        (
            "garbage bearer with the certificate",
            vec![
                "--bearer",
                "not-a-token",
                "--client-cert",
                cert,
                "--client-key",
                key,
            ],
        ),
        ("garbage bearer alone", vec!["--bearer", "not-a-token"]),
        (
            "expired token with the certificate",
            vec![
                "--bearer",
                &expired,
                "--client-cert",
                cert,
                "--client-key",
                key,
            ],
        ),
    ] {
        let out = scan_with(&lab, &creds, &["--fail-on", "low", "--format", "json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{label}: {stderr}");
        assert!(out.stdout.is_empty(), "{label}: no report is written");
        let line = stderr
            .lines()
            .find(|l| l.starts_with("authprobe: error:"))
            .unwrap_or_else(|| panic!("{label}: {stderr}"));
        assert!(line.contains("refused your --bearer"), "{label}: {line}");
        // The lab answers 401 for a bad token and 403 when the certificate is missing.
        assert!(
            line.contains(": 401 ") || line.contains(": 403 "),
            "{label}: {line}"
        );
        assert!(!line.contains(&expired), "{label}: the token stays out");
        if label.starts_with("expired") {
            // Read locally before anything was sent, and repeated in the reason.
            assert!(
                stderr.contains("note: --bearer: the token's exp passed"),
                "{stderr}"
            );
            assert!(
                line.contains("exp passed") && line.contains("UTC"),
                "{line}"
            );
        }
    }
}

#[test]
fn fail_on_inconclusive_gates_undecided_checks() {
    let lab = start_lab(&[]);
    let r = &lab.ready;
    // The lab binds its tokens to the certificate: without the signing key a certificate
    // minted for an unknown subject cannot carry a token the binding accepts, so
    // mtls.identity_not_mapped cannot decide.
    let creds = [
        "--bearer",
        r.token.as_str(),
        "--client-cert",
        r.client_cert.to_str().unwrap(),
        "--client-key",
        r.client_key.to_str().unwrap(),
        "--client-ca-cert",
        r.ca_cert.to_str().unwrap(),
        "--client-ca-key",
        r.client_ca_key.to_str().unwrap(),
        "--checks",
        "mtls.identity_not_mapped",
    ];
    let plain = scan_with(&lab, &creds, &["--format", "json"]);
    assert_eq!(
        plain.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert_eq!(v["inconclusive"][0]["id"], "mtls.identity_not_mapped");
    // One check run, one undecided: most checks could not decide.
    assert!(
        v["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("could not decide")),
        "{v}"
    );
    let gated = scan_with(&lab, &creds, &["--fail-on-inconclusive"]);
    assert_eq!(gated.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&gated.stderr);
    assert!(
        stderr.contains(
            "--fail-on-inconclusive: 1 check could not decide (mtls.identity_not_mapped)"
        ),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&gated.stdout)
            .contains("warning: 1 of the 1 checks run could not decide"),
        "the pretty output carries the warning"
    );
    let threshold = scan_with(&lab, &creds, &["--fail-on-inconclusive=1"]);
    assert_eq!(threshold.status.code(), Some(0));
}

#[test]
fn token_inspect_says_expired_with_dates() {
    let token = hs256_token(b"whatever-secret-value");
    let out = Command::new(BIN)
        .args(["token", "inspect", &token])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("exp     2023-11-14 23:13 UTC"), "{text}");
    assert!(text.contains("status  EXPIRED: exp passed"), "{text}");
    let json = Command::new(BIN)
        .args(["token", "inspect", &token, "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["validity"], "EXPIRED");
}
