//! The scanner's verdicts on real, unmodified libraries and servers (issue 12, item 10):
//! small apps on real JWT libraries (Flask + PyJWT, Flask + flask-jwt-extended, Express +
//! jsonwebtoken / express-jwt) and a certificate-only app behind real mutual-TLS proxies
//! (HAProxy, Apache httpd mod_ssl), all on 127.0.0.1 ephemeral ports, each scanned by the
//! `authprobe` binary with `--format json`.
//!
//! Every app runs in a hardened configuration, which must give no finding of the family
//! under test, and in configurations with one named flaw, which must give exactly the
//! finding for it. The apps' sources are in `tests/real/`; each takes its configuration
//! from argv and prints `PORT n` once listening. Tokens are ES256, minted here with a key
//! generated here; identity is looked up from `sub`, and an unknown `sub` gets 401.
//!
//! What they need: python3 with `tests/real/requirements.txt`, node with `npm ci` run in
//! `tests/real/express_jsonwebtoken`, haproxy and apache2-bin (Debian). `.ci/run` installs
//! them all. Under `CI=true` a missing tool fails the test; elsewhere the test prints why
//! it skips.
//!
//! Run: `cargo test -p authprobe --test real_servers -- --nocapture` (each scan's finding
//! ids, inconclusive ids with reasons and exit code are printed).

use authprobe_jwt::{Alg, Draft, PrivateKey, SigningKey};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

const BIN: &str = env!("CARGO_BIN_EXE_authprobe");
const AUDIENCE: &str = "https://api.example.test";
const ISSUER: &str = "https://idp.example.test/";
/// Wall-clock bound of one scan; the scanner's own per-request timeout is 5 s.
const SCAN_LIMIT: Duration = Duration::from_secs(90);

fn real_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real")
}

// ---------------------------------------------------------------------------------------
// What must be installed
// ---------------------------------------------------------------------------------------

/// `ok` or, when not: a failure under CI (a missing tool must not pass vacuously), a
/// printed skip elsewhere.
fn require(what: &str, ok: bool, install: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{what} is not installed but CI is set: {install}");
    }
    eprintln!("SKIP: {what} is not installed ({install})");
    false
}

fn runs(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn python_with(modules: &str) -> bool {
    require(
        &format!("python3 with {modules}"),
        runs("python3", &["-c", &format!("import {modules}")]),
        "pip install -r crates/authprobe/tests/real/requirements.txt",
    )
}

fn express_installed() -> bool {
    let dir = real_dir().join("express_jsonwebtoken");
    require(
        "node with the Express app's packages",
        runs("node", &["--version"])
            && ["express", "jsonwebtoken", "express-jwt"].iter().all(|m| {
                dir.join("node_modules")
                    .join(m)
                    .join("package.json")
                    .exists()
            }),
        "npm ci --prefix crates/authprobe/tests/real/express_jsonwebtoken",
    )
}

/// Debian puts apache2 in /usr/sbin, which a non-root PATH may lack.
fn apache2_bin() -> String {
    if runs("apache2", &["-v"]) {
        "apache2".into()
    } else {
        "/usr/sbin/apache2".into()
    }
}

// ---------------------------------------------------------------------------------------
// Processes: killed on drop, started within a bound
// ---------------------------------------------------------------------------------------

/// A child process killed (and reaped) when dropped; its stderr goes to `log`.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts an app that prints `PORT n` as its first line of stdout, and returns it with
/// the port once it listens (at most 30 s: a cold Python import of `cryptography` on a
/// busy machine takes seconds).
fn start_app(name: &str, mut cmd: Command, dir: &Path) -> (Proc, u16) {
    let log = dir.join(format!("{name}.log"));
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {name}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
        // The pipe is dropped here; the apps print nothing after the port.
    });
    let mut app = Proc {
        name: name.to_string(),
        child,
        log,
    };
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| {
            let status = app.child.try_wait().ok().flatten();
            panic!(
                "{name} did not print its port (first line {line:?}, exit {status:?}):\n{}",
                app.log()
            )
        });
    wait_listening(&mut app, SocketAddr::from(([127, 0, 0, 1], port)));
    (app, port)
}

/// A port the kernel just gave out, for servers that must be told theirs (HAProxy,
/// Apache). Another process could take it in between: the wait then fails clearly.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(p: &mut Proc, addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(status)) = p.child.try_wait() {
            panic!("{} exited early ({status}):\n{}", p.name, p.log());
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} not listening on {addr}:\n{}",
            p.name,
            p.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------
// The scanner
// ---------------------------------------------------------------------------------------

struct Scan {
    label: String,
    code: i32,
    stdout: String,
    stderr: String,
    report: Option<Value>,
}

impl Scan {
    fn report(&self) -> &Value {
        self.report.as_ref().unwrap_or_else(|| {
            panic!(
                "{}: no JSON report (exit {}):\nstdout: {}\nstderr: {}",
                self.label, self.code, self.stdout, self.stderr
            )
        })
    }

    /// Finding ids above `info` (a hardened target "reports nothing above info").
    fn findings(&self) -> BTreeSet<String> {
        self.report()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] != "info")
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    }

    fn inconclusive(&self) -> Vec<(String, String)> {
        self.report()["inconclusive"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["id"].as_str().unwrap().to_string(),
                    i["reason"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    fn inconclusive_reason(&self, id: &str) -> Option<String> {
        self.inconclusive()
            .into_iter()
            .find(|(i, _)| i == id)
            .map(|(_, r)| r)
    }

    /// What the scan said, for the record and for assertion messages.
    fn summary(&self) -> String {
        let Some(r) = &self.report else {
            return format!(
                "{}: exit {}, no report; stderr: {}",
                self.label,
                self.code,
                self.stderr.trim()
            );
        };
        let mut s = format!(
            "{}: exit {}, findings {:?}",
            self.label,
            self.code,
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| format!("{} ({})", f["id"].as_str().unwrap(), f["severity"]))
                .collect::<Vec<_>>()
        );
        for (id, reason) in self.inconclusive() {
            s.push_str(&format!("\n    inconclusive {id}: {reason}"));
        }
        s
    }
}

/// Runs `authprobe scan URL ARGS --format json --timeout 5 --fail-on low`, bounded in
/// time. `--fail-on low` makes the exit code say whether anything above info was found:
/// 0 for a clean scan, 1 for a finding, 2 for a refused scan.
fn scan(label: &str, url: &str, args: &[&str]) -> Scan {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stdout");
    let err = dir.path().join("stderr");
    let mut child = Command::new(BIN)
        .arg("scan")
        .arg(url)
        .args(args)
        .args(["--format", "json", "--timeout", "5", "--fail-on", "low"])
        .env_remove("AUTHPROBE_BEARER")
        .env_remove("AUTHPROBE_BASIC")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("spawn authprobe");
    let deadline = Instant::now() + SCAN_LIMIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{label}: the scan ran over {SCAN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&out).unwrap();
    let stderr = std::fs::read_to_string(&err).unwrap();
    let report = serde_json::from_str(&stdout).ok();
    let s = Scan {
        label: label.to_string(),
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
        report,
    };
    eprintln!("RESULT {}", s.summary());
    // REAL_SERVERS_REPORTS=DIR keeps every report, for reading the evidence.
    if let Some(keep) = std::env::var_os("REAL_SERVERS_REPORTS") {
        let name: String = label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let _ = std::fs::create_dir_all(&keep);
        let _ = std::fs::write(Path::new(&keep).join(format!("{name}.json")), &s.stdout);
        let _ = std::fs::write(Path::new(&keep).join(format!("{name}.stderr")), &s.stderr);
    }
    s
}

/// The scan finished (exit 0 when `expected` is empty, 1 otherwise under `--fail-on
/// low`) with exactly the findings `expected` above info.
#[track_caller]
fn assert_findings(s: &Scan, expected: &[&str], app_log: &str) {
    let want: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        s.findings(),
        want,
        "\n{}\n--- app log (tail) ---\n{}",
        s.summary(),
        tail(app_log, 40)
    );
    let code = if expected.is_empty() { 0 } else { 1 };
    assert_eq!(s.code, code, "{}\nstderr: {}", s.summary(), s.stderr);
}

/// No check is inconclusive because an answer "resembles neither" baseline: every answer
/// of these apps is either the authorized one or a 401/422 refusal.
#[track_caller]
fn assert_no_resembles_neither(s: &Scan) {
    for (id, reason) in s.inconclusive() {
        assert!(
            !reason.contains("resembles neither"),
            "{id}: {reason}\n{}",
            s.summary()
        );
    }
}

/// Each of `ids` is inconclusive "explained by" `cause`.
#[track_caller]
fn assert_explained(s: &Scan, ids: &[&str], cause: &str) {
    for id in ids {
        let reason = s.inconclusive_reason(id).unwrap_or_default();
        assert!(
            reason.contains("explained by") && reason.contains(cause),
            "{id} should be inconclusive, explained by {cause}:\n{}",
            s.summary()
        );
    }
}

/// Exit 2, nothing on stdout, and one line on stderr saying why.
#[track_caller]
fn assert_refused(s: &Scan) {
    assert_eq!(s.code, 2, "{}\nstdout: {}", s.summary(), s.stdout);
    assert!(
        s.stdout.trim().is_empty(),
        "{}: a refused scan writes no report, got: {}",
        s.label,
        s.stdout
    );
    // One line of reason; an expired token is also noted, locally, before anything is sent.
    let lines: Vec<&str> = s
        .stderr
        .trim()
        .lines()
        .filter(|l| !l.starts_with("authprobe: note: --bearer: the token"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{}: one-line reason, got: {lines:?}",
        s.label
    );
    assert!(
        lines[0].starts_with("authprobe: error: the server refused your --bearer"),
        "{}: {}",
        s.label,
        lines[0]
    );
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// ---------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------

/// An ES256 key pair generated for one test: the private key (PKCS#8 PEM) is what the
/// scanner gets as `--jwt-key`; the apps only get the public key.
struct JwtKeys {
    key: SigningKey,
    private_pem: PathBuf,
    public_pem: PathBuf,
}

fn jwt_keys(dir: &Path) -> JwtKeys {
    let private = PrivateKey::generate_p256();
    let private_pem = dir.join("jwt-private.pem");
    let public_pem = dir.join("jwt-public.pem");
    std::fs::write(&private_pem, private.to_pkcs8_pem().unwrap()).unwrap();
    std::fs::write(&public_pem, private.public_key().to_spki_pem().unwrap()).unwrap();
    JwtKeys {
        key: SigningKey::Private(private),
        private_pem,
        public_pem,
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A token as the identity provider would issue it: ES256, `sub`, the API's audience,
/// the issuer, issued now, valid `lifetime` seconds from `issued` (relative to now).
fn token(keys: &JwtKeys, sub: &str, issued: i64, lifetime: i64) -> String {
    let iat = now() + issued;
    let claims = json!({
        "iss": ISSUER,
        "sub": sub,
        "aud": AUDIENCE,
        "iat": iat,
        "exp": iat + lifetime,
        "scope": "profile:read",
    });
    Draft::new(r#"{"alg":"ES256","typ":"JWT"}"#, &claims.to_string())
        .unwrap()
        .sign(Alg::Es256, &keys.key)
        .unwrap()
}

fn valid_token(keys: &JwtKeys) -> String {
    token(keys, "alice", 0, 900)
}

// ---------------------------------------------------------------------------------------
// The JWT apps
// ---------------------------------------------------------------------------------------

enum JwtApp {
    FlaskPyjwt,
    FlaskJwtExtended,
    Express,
}

/// An app on a real JWT library, in `config`, verifying with `keys`' public key.
struct RunningJwtApp {
    app: Proc,
    url: String,
    keys: JwtKeys,
    _dir: tempfile::TempDir,
}

fn start_jwt_app(which: JwtApp, config: &str) -> RunningJwtApp {
    let dir = tempfile::tempdir().unwrap();
    let keys = jwt_keys(dir.path());
    let (name, mut cmd) = match which {
        JwtApp::FlaskPyjwt => ("flask_pyjwt", Command::new("python3")),
        JwtApp::FlaskJwtExtended => ("flask_jwt_extended", Command::new("python3")),
        JwtApp::Express => ("express_jsonwebtoken", Command::new("node")),
    };
    let script = match which {
        JwtApp::Express => real_dir().join(name).join("app.js"),
        _ => real_dir().join(name).join("app.py"),
    };
    cmd.arg(script)
        .arg(config)
        .env("JWT_PUBLIC_KEY_FILE", &keys.public_pem)
        .env("JWT_AUDIENCE", AUDIENCE)
        .env("JWT_ISSUER", ISSUER)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("NODE_ENV", "production");
    let (app, port) = start_app(&format!("{name}-{config}"), cmd, dir.path());
    RunningJwtApp {
        app,
        url: format!("http://127.0.0.1:{port}/api/me"),
        keys,
        _dir: dir,
    }
}

impl RunningJwtApp {
    /// Scans with a fresh valid token, and with `--jwt-key` when `with_key`.
    fn scan(&self, label: &str, with_key: bool) -> Scan {
        let token = valid_token(&self.keys);
        let key = self.keys.private_pem.display().to_string();
        let mut args = vec!["--bearer", token.as_str(), "--checks", "auth,jwt"];
        if with_key {
            args.extend(["--jwt-key", key.as_str()]);
        }
        scan(label, &self.url, &args)
    }
}

/// The forgeries that a server which ignores signatures accepts by construction.
const FORGERIES: &[&str] = &[
    "jwt.alg_none",
    "jwt.empty_signature",
    "jwt.embedded_jwk",
    "jwt.psychic_signature",
];

// --- 1. Flask + PyJWT --------------------------------------------------------------------

#[test]
fn flask_pyjwt_hardened_gives_nothing() {
    if !python_with("flask, jwt, cryptography") {
        return;
    }
    let app = start_jwt_app(JwtApp::FlaskPyjwt, "hardened");
    let s = app.scan("flask+pyjwt hardened (--jwt-key)", true);
    assert_findings(&s, &[], &app.app.log());
}

#[test]
fn flask_pyjwt_verify_signature_off_is_signature_not_verified() {
    if !python_with("flask, jwt, cryptography") {
        return;
    }
    let app = start_jwt_app(JwtApp::FlaskPyjwt, "verify_signature_off");
    let s = app.scan("flask+pyjwt verify_signature=False", false);
    // PyJWT 2 turns every other verify_* default off with verify_signature: tokens the
    // scan mints over the unverified path (edited claims, original signature) show that
    // exp, nbf, aud and iss go unchecked too; each finding says how it was signed.
    assert_findings(
        &s,
        &[
            "jwt.signature_not_verified",
            "jwt.expired_accepted",
            "jwt.nbf_not_enforced",
            "jwt.audience_not_checked",
            "jwt.issuer_not_checked",
        ],
        &app.app.log(),
    );
    assert_explained(&s, FORGERIES, "jwt.signature_not_verified");
}

#[test]
fn flask_pyjwt_without_audience_check_is_audience_not_checked() {
    if !python_with("flask, jwt, cryptography") {
        return;
    }
    let app = start_jwt_app(JwtApp::FlaskPyjwt, "no_audience");
    let s = app.scan("flask+pyjwt verify_aud=False (--jwt-key)", true);
    assert_findings(&s, &["jwt.audience_not_checked"], &app.app.log());
}

#[test]
fn flask_pyjwt_without_exp_check_is_expired_accepted() {
    if !python_with("flask, jwt, cryptography") {
        return;
    }
    let app = start_jwt_app(JwtApp::FlaskPyjwt, "no_exp");
    let s = app.scan("flask+pyjwt verify_exp=False (--jwt-key)", true);
    assert_findings(&s, &["jwt.expired_accepted"], &app.app.log());
}

// --- 5. Refused credentials stop the scan --------------------------------------------------

#[test]
fn flask_pyjwt_refused_credentials_stop_the_scan() {
    if !python_with("flask, jwt, cryptography") {
        return;
    }
    let app = start_jwt_app(JwtApp::FlaskPyjwt, "hardened");
    let expired = token(&app.keys, "alice", -7200, 900);
    let unknown_user = token(&app.keys, "mallory", 0, 900);
    let scans: Vec<Scan> = [
        ("flask+pyjwt hardened, expired --bearer", expired.as_str()),
        ("flask+pyjwt hardened, --bearer not-a-token", "not-a-token"),
        (
            "flask+pyjwt hardened, --bearer for an unknown sub",
            unknown_user.as_str(),
        ),
    ]
    .into_iter()
    .map(|(label, bearer)| {
        scan(
            label,
            &app.url,
            &["--bearer", bearer, "--checks", "auth,jwt"],
        )
    })
    .collect();
    for s in &scans {
        assert_refused(s);
    }
}

// --- 2. Flask + flask-jwt-extended -------------------------------------------------------

#[test]
fn flask_jwt_extended_hardened_gives_nothing_despite_its_422() {
    if !python_with("flask, flask_jwt_extended, cryptography") {
        return;
    }
    let app = start_jwt_app(JwtApp::FlaskJwtExtended, "hardened");
    let s = app.scan("flask-jwt-extended hardened (--jwt-key)", true);
    assert_findings(&s, &[], &app.app.log());
    // 422 for a malformed token or a bad signature, 401 without one: two refusals, neither
    // like the authorized answer, so every probe is "refused", none "resembles neither".
    assert_no_resembles_neither(&s);
}

#[test]
fn flask_jwt_extended_default_messages_are_verbose_errors() {
    if !python_with("flask, flask_jwt_extended, cryptography") {
        return;
    }
    // The library's default refusals return PyJWT's exception text ({"msg": "Not enough
    // segments"}, "Signature verification failed"): auth.verbose_errors, and nothing else.
    let app = start_jwt_app(JwtApp::FlaskJwtExtended, "default_messages");
    let s = app.scan("flask-jwt-extended default messages (--jwt-key)", true);
    assert_findings(&s, &["auth.verbose_errors"], &app.app.log());
    // Each refusal is a 422 (or 401) with its own message ("Not enough segments", "The
    // specified alg value is not allowed", "Invalid audience"): still refusals.
    assert_no_resembles_neither(&s);
}

// --- 3. Express + jsonwebtoken / express-jwt ---------------------------------------------

#[test]
fn express_jsonwebtoken_verify_gives_nothing() {
    if !express_installed() {
        return;
    }
    let app = start_jwt_app(JwtApp::Express, "hardened");
    let s = app.scan("express+jsonwebtoken verify (--jwt-key)", true);
    assert_findings(&s, &[], &app.app.log());
}

#[test]
fn express_jwt_middleware_gives_nothing() {
    if !express_installed() {
        return;
    }
    let app = start_jwt_app(JwtApp::Express, "express_jwt");
    let s = app.scan("express-jwt middleware (--jwt-key)", true);
    assert_findings(&s, &[], &app.app.log());
}

#[test]
fn express_jsonwebtoken_decode_is_signature_not_verified() {
    if !express_installed() {
        return;
    }
    let app = start_jwt_app(JwtApp::Express, "decode_only");
    let s = app.scan("express+jsonwebtoken decode()", false);
    // decode() checks nothing at all: tokens minted over the unverified path (edited
    // claims, original signature) show exp, nbf, aud and iss unchecked too.
    assert_findings(
        &s,
        &[
            "jwt.signature_not_verified",
            "jwt.expired_accepted",
            "jwt.nbf_not_enforced",
            "jwt.audience_not_checked",
            "jwt.issuer_not_checked",
        ],
        &app.app.log(),
    );
    assert_explained(&s, FORGERIES, "jwt.signature_not_verified");
}

// ---------------------------------------------------------------------------------------
// 4. Mutual TLS proxies in front of a certificate-only app
// ---------------------------------------------------------------------------------------

/// A test CA, a server certificate for 127.0.0.1 and a client certificate for "alice"
/// (clientAuth), as PEM files in a temp dir.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let validity = |p: &mut rcgen::CertificateParams| {
            p.not_before = (SystemTime::now() - Duration::from_secs(3600)).into();
            p.not_after = (SystemTime::now() + Duration::from_secs(86_400)).into();
        };
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::default();
        ca.distinguished_name
            .push(rcgen::DnType::OrganizationName, "authprobe real servers");
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "authprobe test client CA");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        validity(&mut ca);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        std::fs::write(d.join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(d.join("ca.key"), ca_key.serialize_pem()).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);

        let leaf = |cn: &str, eku: rcgen::ExtendedKeyUsagePurpose, sans: Vec<String>| {
            let mut p = rcgen::CertificateParams::new(sans.clone()).unwrap();
            if !sans.is_empty() {
                p.subject_alt_names
                    .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
            }
            p.distinguished_name.push(rcgen::DnType::CommonName, cn);
            p.extended_key_usages = vec![eku];
            p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
            validity(&mut p);
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = p.signed_by(&key, &issuer).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let server = leaf(
            "localhost",
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            vec!["localhost".into()],
        );
        std::fs::write(d.join("server.pem"), &server.0).unwrap();
        std::fs::write(d.join("server.key"), &server.1).unwrap();
        // HAProxy takes certificate and key in one file.
        std::fs::write(
            d.join("server.bundle.pem"),
            format!("{}{}", server.0, server.1),
        )
        .unwrap();
        let client = leaf(
            "alice",
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
            Vec::new(),
        );
        std::fs::write(d.join("alice.pem"), &client.0).unwrap();
        std::fs::write(d.join("alice.key"), &client.1).unwrap();
        Pki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// The certificate-only app (it maps X-SSL-Client-CN to a user).
fn start_cert_app(dir: &Path) -> (Proc, u16) {
    let mut cmd = Command::new("python3");
    cmd.arg(real_dir().join("cert_app/app.py"))
        .arg("X-SSL-Client-CN")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    start_app("cert_app", cmd, dir)
}

/// HAProxy terminating TLS on `port` with `verify` on its bind line, forwarding the
/// client certificate's CN (and the certificate) to the app on `app_port` and dropping
/// any such header the client sent.
fn start_haproxy(pki: &Pki, verify: &str, app_port: u16) -> (Proc, u16) {
    let port = free_port();
    let d = pki.dir.path();
    let conf = format!(
        "global\n  log stderr format raw local0 info\n\
         defaults\n  mode http\n  log global\n  option httplog\n\
         \x20 timeout connect 5s\n  timeout client 10s\n  timeout server 10s\n\
         frontend fe\n  bind 127.0.0.1:{port} ssl crt {bundle} ca-file {ca} {verify}\n\
         \x20 http-request del-header X-SSL-Client-CN\n\
         \x20 http-request del-header X-SSL-Client-Cert\n\
         \x20 http-request set-header X-SSL-Client-CN %[ssl_c_s_dn(cn)] if {{ ssl_c_used }}\n\
         \x20 http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64] if {{ ssl_c_used }}\n\
         \x20 default_backend app\n\
         backend app\n  server app 127.0.0.1:{app_port}\n",
        bundle = pki.path("server.bundle.pem"),
        ca = pki.path("ca.pem"),
    );
    let cfg = d.join(format!("haproxy-{port}.cfg"));
    std::fs::write(&cfg, conf).unwrap();
    let log = d.join(format!("haproxy-{port}.log"));
    let child = Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn haproxy");
    let mut p = Proc {
        name: "haproxy".into(),
        child,
        log,
    };
    wait_listening(&mut p, SocketAddr::from(([127, 0, 0, 1], port)));
    (p, port)
}

/// Apache httpd with mod_ssl on `port`, `SSLVerifyClient {mode}` against the test CA,
/// proxying to the app with the certificate's CN in X-SSL-Client-CN. One process (`-X`),
/// everything in the temp dir.
fn start_apache(pki: &Pki, mode: &str, app_port: u16) -> (Proc, u16) {
    let port = free_port();
    let d = pki.dir.path().join(format!("apache-{port}"));
    std::fs::create_dir_all(&d).unwrap();
    let m = "/usr/lib/apache2/modules";
    let p = d.display();
    let modules: String = [
        ("mpm_event", "mod_mpm_event"),
        ("authz_core", "mod_authz_core"),
        ("headers", "mod_headers"),
        ("proxy", "mod_proxy"),
        ("proxy_http", "mod_proxy_http"),
        ("socache_shmcb", "mod_socache_shmcb"),
        ("ssl", "mod_ssl"),
    ]
    .iter()
    .map(|(name, file)| format!("LoadModule {name}_module {m}/{file}.so\n"))
    .collect();
    let conf = format!(
        "ServerRoot {p}\n{modules}ServerName localhost\nListen 127.0.0.1:{port}\n\
         PidFile {p}/httpd.pid\nDefaultRuntimeDir {p}\nErrorLog /dev/stderr\n\
         LogLevel warn ssl:info\nSSLSessionCache none\n\
         <VirtualHost 127.0.0.1:{port}>\n\
         \x20 SSLEngine on\n\
         \x20 SSLProtocol -all +TLSv1.2 +TLSv1.3\n\
         \x20 SSLCertificateFile {cert}\n\
         \x20 SSLCertificateKeyFile {key}\n\
         \x20 SSLCACertificateFile {ca}\n\
         \x20 SSLVerifyClient {mode}\n\
         \x20 SSLVerifyDepth 2\n\
         \x20 RequestHeader unset X-SSL-Client-CN\n\
         \x20 RequestHeader set X-SSL-Client-CN \"%{{SSL_CLIENT_S_DN_CN}}s\"\n\
         \x20 ProxyPass / http://127.0.0.1:{app_port}/\n\
         </VirtualHost>\n",
        cert = pki.path("server.pem"),
        key = pki.path("server.key"),
        ca = pki.path("ca.pem"),
    );
    let cfg = d.join("httpd.conf");
    std::fs::write(&cfg, conf).unwrap();
    let child = Command::new(apache2_bin())
        .arg("-X")
        .arg("-f")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(d.join("error.log")).unwrap())
        .spawn()
        .expect("spawn apache2");
    let mut proc = Proc {
        name: "apache2".into(),
        child,
        log: d.join("error.log"),
    };
    wait_listening(&mut proc, SocketAddr::from(([127, 0, 0, 1], port)));
    (proc, port)
}

/// The mTLS scan: the user's certificate and no token, the server CA, and the test CA
/// for the minted probe certificates (expired, serverAuth-only, unmapped CN).
fn scan_mtls(label: &str, pki: &Pki, port: u16) -> Scan {
    scan(
        label,
        &format!("https://127.0.0.1:{port}/api/me"),
        &[
            "--client-cert",
            &pki.path("alice.pem"),
            "--client-key",
            &pki.path("alice.key"),
            "--server-ca",
            &pki.path("ca.pem"),
            "--client-ca-cert",
            &pki.path("ca.pem"),
            "--client-ca-key",
            &pki.path("ca.key"),
            "--checks",
            "auth,mtls",
        ],
    )
}

fn haproxy_ready() -> bool {
    python_with("flask")
        && require(
            "haproxy",
            runs("haproxy", &["-v"]),
            "apt-get install haproxy",
        )
}

fn apache_ready() -> bool {
    python_with("flask")
        && require(
            "apache2 (mod_ssl, mod_proxy_http, mod_headers)",
            runs(&apache2_bin(), &["-v"])
                && Path::new("/usr/lib/apache2/modules/mod_ssl.so").exists(),
            "apt-get install apache2-bin",
        )
}

#[test]
fn haproxy_verify_required_gives_nothing() {
    if !haproxy_ready() {
        return;
    }
    let pki = Pki::new();
    let (app, app_port) = start_cert_app(pki.dir.path());
    let (proxy, port) = start_haproxy(&pki, "verify required", app_port);
    let s = scan_mtls("haproxy verify required", &pki, port);
    let logs = format!("{}\n{}", proxy.log(), app.log());
    // In particular no auth.method_bypass (HEAD and OPTIONS without a certificate fail
    // the handshake) and no auth.malformed_token_accepted (the app reads no token: a
    // garbage bearer beside the certificate proves nothing about tokens).
    assert_findings(&s, &[], &logs);
}

#[test]
fn haproxy_ignoring_verify_errors_accepts_untrusted_expired_and_server_only_certs() {
    if !haproxy_ready() {
        return;
    }
    let pki = Pki::new();
    let (app, app_port) = start_cert_app(pki.dir.path());
    let (proxy, port) = start_haproxy(
        &pki,
        "verify optional crt-ignore-err all ca-ignore-err all",
        app_port,
    );
    let s = scan_mtls("haproxy verify optional + ignore-err all", &pki, port);
    let logs = format!("{}\n{}", proxy.log(), app.log());
    // Each probe certificate is sent and each is accepted: the expired and the
    // serverAuth-only ones are not implied by the self-signed one, they are tested.
    assert_findings(
        &s,
        &[
            "mtls.eku_not_checked",
            "mtls.expired_cert_accepted",
            "mtls.untrusted_cert_accepted",
        ],
        &logs,
    );
}

#[test]
fn apache_verify_require_gives_nothing() {
    if !apache_ready() {
        return;
    }
    let pki = Pki::new();
    let (app, app_port) = start_cert_app(pki.dir.path());
    let (proxy, port) = start_apache(&pki, "require", app_port);
    let s = scan_mtls("apache SSLVerifyClient require", &pki, port);
    let logs = format!("{}\n{}", proxy.log(), app.log());
    assert_findings(&s, &[], &logs);
}

#[test]
fn apache_optional_no_ca_accepts_untrusted_but_not_expired() {
    if !apache_ready() {
        return;
    }
    let pki = Pki::new();
    let (app, app_port) = start_cert_app(pki.dir.path());
    let (proxy, port) = start_apache(&pki, "optional_no_ca", app_port);
    let s = scan_mtls("apache SSLVerifyClient optional_no_ca", &pki, port);
    let logs = format!("{}\n{}", proxy.log(), app.log());
    // optional_no_ca forgives only chain errors (self-signed, unknown issuer): an
    // expired or serverAuth-only certificate from the CA still fails the handshake.
    assert_findings(&s, &["mtls.untrusted_cert_accepted"], &logs);
    // Those two probes can be sent, so they are, and their refusal is the verdict: not
    // "explained by" the self-signed certificate's acceptance.
    for id in ["mtls.expired_cert_accepted", "mtls.eku_not_checked"] {
        assert!(
            s.inconclusive_reason(id).is_none(),
            "{id} was probed and refused:\n{}",
            s.summary()
        );
    }
}
