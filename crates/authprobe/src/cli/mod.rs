//! The command line. Exit codes: 0 scan done and gates pass; 1 a gate failed; 2 usage,
//! connection or target error, with a one-line reason on stderr.

use crate::checks;
use crate::engine::{self, BasicOptions, Credentials, JwtOptions, Progress, ScanOptions};
use crate::finding::Severity;
use crate::http::{Limits, TlsSettings, load_identity, load_identity_pass_used};
use crate::report::{Report, pretty};
mod crack;
mod token;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "authprobe",
    version,
    about = "Black-box scanner for the authentication layer of HTTP APIs: JWT, mutual TLS, HTTP Basic and the TLS under them.",
    after_help = "Exit codes: 0 scan done and gates pass · 1 a gate (--fail-on, --min-score) failed · 2 usage, connection or target error.\nRun `authprobe demo` to see a scan of the built-in vulnerable lab."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan one protected API resource.
    Scan(Box<ScanArgs>),
    /// Run the built-in target API with switchable flaws (for tests and demos).
    Lab(LabArgs),
    /// Start the vulnerable lab in-process and scan it.
    Demo(DemoArgs),
    /// List the checks authprobe runs.
    Checks(ChecksArgs),
    /// Probe one TLS endpoint only: protocols, suites, groups and certificate (the tls.*
    /// transport checks), without any HTTP request.
    Tls(TlsArgs),
    /// Recover the HMAC secret of an HS256/384/512 token offline.
    Crack(CrackArgs),
    /// Work with a token offline.
    #[command(subcommand)]
    Token(TokenCommand),
    /// With a test CA: mint a client certificate for a subject and the CRL that revokes
    /// it; deploy the CRL, then scan with --revoked-cert/--revoked-key.
    MintRevoked(MintRevokedArgs),
}

#[derive(Args)]
struct MintRevokedArgs {
    /// The test CA's certificate (PEM).
    #[arg(long, value_name = "PEM")]
    client_ca_cert: PathBuf,
    /// The test CA's private key (PEM).
    #[arg(long, value_name = "PEM")]
    client_ca_key: PathBuf,
    /// A client certificate (PEM) whose subject the revoked one copies.
    #[arg(long, value_name = "PEM")]
    subject_from: PathBuf,
    /// Directory for revoked.pem, revoked.key and crl.pem (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Decode a JWT and report what it reveals on its own (nothing is sent).
    Inspect(InspectArgs),
}

#[derive(Args)]
struct InspectArgs {
    /// The token (or set AUTHPROBE_BEARER).
    #[arg(env = "AUTHPROBE_BEARER", hide_env_values = true)]
    token: String,
    #[arg(long, value_enum, default_value = "pretty")]
    format: Format,
    /// Longest acceptable token lifetime, e.g. 24h, 90m.
    #[arg(long, default_value = "24h", value_parser = token_lifetime)]
    max_token_lifetime: Duration,
}

#[derive(Args)]
struct CrackArgs {
    /// The HS256/384/512 token (or set AUTHPROBE_BEARER); not needed with --benchmark.
    #[arg(
        env = "AUTHPROBE_BEARER",
        hide_env_values = true,
        required_unless_present = "benchmark"
    )]
    token: Option<String>,
    /// Candidate secrets, one per line; `-` for stdin; gzip is detected (repeatable).
    #[arg(long, short = 'w', value_name = "FILE")]
    wordlist: Vec<PathBuf>,
    /// Mangling rules: default, none, or a rule file.
    #[arg(long, default_value = "default")]
    rules: String,
    /// Skip the built-in list of default and example secrets.
    #[arg(long)]
    no_builtin: bool,
    /// Worker threads (default: every core; at most 1024).
    #[arg(long, value_parser = crack_threads)]
    threads: Option<usize>,
    /// Give up after this long, e.g. 30s, 10m (at most a year).
    #[arg(long, value_parser = crack_max_time)]
    max_time: Option<Duration>,
    #[arg(long, value_enum, default_value = "pretty")]
    format: Format,
    /// Print the recovered secret in clear (masked otherwise, except in JSON).
    #[arg(long)]
    show_secret: bool,
    /// Measure candidates/s on a fixed token for SECS seconds and compare with the
    /// machine's SHA-256 compression rate.
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "5")]
    benchmark: Option<f64>,
    /// Write the token in hashcat's mode 16500 format to FILE, for GPU cracking.
    #[arg(long, value_name = "FILE")]
    export_hashcat: Option<PathBuf>,
    /// Never draw the progress bar.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Pretty,
    Json,
}

/// What a scan report can be rendered as; every one comes from the same [`Report`].
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum ReportFormat {
    Pretty,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
    /// GitHub-flavoured Markdown, for PR comments and job summaries.
    Markdown,
    /// One self-contained HTML page.
    Html,
}

impl ReportFormat {
    /// The format a file name asks for: .json, .sarif, .xml (JUnit), .md, .html.
    fn from_path(path: &std::path::Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "json" => Self::Json,
            "sarif" => Self::Sarif,
            "xml" => Self::Junit,
            "md" | "markdown" => Self::Markdown,
            "html" | "htm" => Self::Html,
            "txt" => Self::Pretty,
            _ => return None,
        })
    }
}

#[derive(Args, Clone)]
struct OutputArgs {
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "pretty")]
    format: ReportFormat,
    /// Also write the report to FILE, in the format its extension names (.json, .sarif,
    /// .xml for JUnit, .md, .html; --format otherwise). Repeatable.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Vec<PathBuf>,
    /// An earlier JSON report: report only findings new since it (same check id and
    /// target) and gate only on them.
    #[arg(long, value_name = "REPORT.json")]
    baseline: Option<PathBuf>,
    /// Exit 1 when a finding of this severity or worse is reported.
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    /// Exit 1 when the score is below N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    min_score: Option<u32>,
    /// Exit 1 when a check that ran could not decide (inconclusive); with =N, only when
    /// more than N could not. An undecided check is not a pass.
    #[arg(
        long,
        value_name = "N",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "0"
    )]
    fail_on_inconclusive: Option<usize>,
    /// Show tokens and passwords in the report instead of shell variables.
    #[arg(long)]
    show_secrets: bool,
    /// Never draw the progress indicator.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Args, Clone)]
struct LimitArgs {
    /// Concurrent requests per host.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    concurrency: u32,
    /// Requests per second per host, at least 0.1 (0: unlimited).
    #[arg(long, default_value_t = 100.0, value_parser = rate)]
    rate: f64,
    /// Stop sending after N requests.
    #[arg(long, default_value_t = 600)]
    max_requests: usize,
    /// Seconds allowed for each connect, TLS handshake and response (at most 600).
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Time limit for the whole scan, e.g. 90s, 10m (1s to 24h): past it nothing more is
    /// sent and the checks still waiting are reported inconclusive. A host that times out
    /// 3 times in a row gets no further request either.
    #[arg(long, default_value = "5m", value_parser = scan_max_time)]
    max_time: Duration,
    /// Read at most this many bytes of each response body (at most 64 MiB).
    #[arg(long, default_value_t = 1024 * 1024, value_parser = max_body)]
    max_body: usize,
    /// Allow POST probes (off by default: only GET, HEAD and OPTIONS are sent).
    #[arg(long)]
    allow_unsafe_methods: bool,
    /// Run only these checks: ids or families, comma-separated (e.g. auth,jwt.alg_none).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    checks: Vec<String>,
    /// Failed logins basic.no_lockout sends for the --basic user (it runs only with --basic).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(3..=200))]
    lockout_attempts: u32,
    /// Let basic.cleartext confirm its finding by sending the real --basic pair to the
    /// plain-HTTP URL (a leak of that password if anyone watches the path).
    #[arg(long)]
    allow_cleartext_basic: bool,
}

#[derive(Args)]
struct ScanArgs {
    /// The protected resource, e.g. https://api.example.com/v1/me
    url: String,
    /// A valid bearer token (JWT or opaque) for the resource.
    #[arg(long, env = "AUTHPROBE_BEARER", hide_env_values = true)]
    bearer: Option<String>,
    /// Valid HTTP Basic credentials, USER:PASSWORD.
    #[arg(
        long,
        env = "AUTHPROBE_BASIC",
        hide_env_values = true,
        value_name = "USER:PASSWORD"
    )]
    basic: Option<String>,
    /// Extra header sent with every request, 'Name: value' (repeatable).
    #[arg(long = "header", short = 'H', value_name = "'K: V'")]
    headers: Vec<String>,
    /// Client certificate to present: PEM (chain, leaf first), or PKCS#12 (.p12/.pfx)
    /// holding the key too.
    #[arg(long, value_name = "PEM|P12")]
    client_cert: Option<PathBuf>,
    /// Private key of --client-cert (PEM: PKCS#8, encrypted PKCS#8, PKCS#1 or SEC1); not
    /// with PKCS#12, nor when the PEM certificate file holds the key.
    #[arg(long, value_name = "PEM", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// Passphrase of encrypted keys and PKCS#12 files (all certificate options share it).
    #[arg(
        long,
        env = "AUTHPROBE_CLIENT_KEY_PASS",
        hide_env_values = true,
        value_name = "PASS"
    )]
    client_key_pass: Option<String>,
    /// A second certificate of the same user (e.g. another device): its token must be
    /// refused over it (mtls.token_not_bound). PEM or PKCS#12, as --client-cert.
    #[arg(long, value_name = "PEM|P12")]
    client_cert2: Option<PathBuf>,
    /// Private key of --client-cert2.
    #[arg(long, value_name = "PEM", requires = "client_cert2")]
    client_key2: Option<PathBuf>,
    /// A client certificate your CA has revoked (mtls.revoked_cert_accepted). PEM or
    /// PKCS#12, as --client-cert.
    #[arg(long, value_name = "PEM|P12")]
    revoked_cert: Option<PathBuf>,
    /// Private key of --revoked-cert.
    #[arg(long, value_name = "PEM", requires = "revoked_cert")]
    revoked_key: Option<PathBuf>,
    /// A test CA certificate able to mint client certificates (staging, the lab).
    #[arg(long, value_name = "PEM", requires = "client_ca_key")]
    client_ca_cert: Option<PathBuf>,
    /// The key of --client-ca-cert.
    #[arg(long, value_name = "PEM", requires = "client_ca_cert")]
    client_ca_key: Option<PathBuf>,
    /// Trust this CA (PEM) for the server certificate instead of the system store.
    #[arg(long, value_name = "PEM")]
    server_ca: Option<PathBuf>,
    /// Do not verify the server certificate (credentials may then reach an impostor).
    #[arg(long, conflicts_with = "server_ca")]
    insecure: bool,
    /// The plain-HTTP URL of the same resource, when not http:// on port 80 of the host.
    #[arg(long, value_name = "URL")]
    http_url: Option<String>,
    /// The same resource at the application's own address behind the TLS proxy.
    #[arg(long, value_name = "URL")]
    origin: Option<String>,
    /// Where the --basic pair is used (a login or token endpoint answering GET), when it
    /// is not the target URL.
    #[arg(long, value_name = "URL")]
    basic_url: Option<String>,
    /// Extra USER:PASSWORD pairs (one per line, # comments) for basic.default_credentials.
    #[arg(long, value_name = "FILE")]
    basic_wordlist: Option<PathBuf>,
    #[command(flatten)]
    jwt: JwtArgs,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args, Clone)]
struct JwtArgs {
    /// The token's HMAC secret, if known (mints tokens for the exp/nbf/aud/iss checks).
    #[arg(long, env = "AUTHPROBE_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// The token's private signing key (PEM), if known.
    #[arg(long, value_name = "PEM")]
    jwt_key: Option<PathBuf>,
    /// The server's public key (PEM), for jwt.key_confusion when no JWKS is served.
    #[arg(long, value_name = "PEM")]
    jwt_public_key: Option<PathBuf>,
    /// A genuinely issued token whose exp has passed (for jwt.expired_accepted without a key).
    #[arg(long, env = "AUTHPROBE_EXPIRED_TOKEN", hide_env_values = true)]
    expired_token: Option<String>,
    /// A genuinely issued token for another audience (for jwt.audience_not_checked).
    #[arg(long, env = "AUTHPROBE_ALT_TOKEN", hide_env_values = true)]
    alt_token: Option<String>,
    /// A URL the target can reach that forwards to this machine's 127.0.0.1:PORT (PORT
    /// from the URL), for jwt.jku_injection against remote targets.
    #[arg(long, value_name = "URL")]
    callback_url: Option<String>,
    /// Extra candidate secrets for jwt.weak_hmac_secret (repeatable; gzip detected).
    #[arg(long, value_name = "FILE")]
    wordlist: Vec<PathBuf>,
    /// Time the scan may spend cracking an HS* token, e.g. 30s (at most 1h and --max-time;
    /// default 10s, or --max-time when shorter).
    #[arg(long, value_parser = crack_time)]
    crack_time: Option<Duration>,
    /// Longest acceptable token lifetime for jwt.long_lifetime, e.g. 24h.
    #[arg(long, default_value = "24h", value_parser = token_lifetime)]
    max_token_lifetime: Duration,
}

/// A duration from the command line within `[min, max]`, or a one-line reason.
fn duration_in(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (e.g. 30s, 10m, 2h)"))?;
    if d < min || d > max {
        let show = |d: Duration| humantime::format_duration(d).to_string();
        return Err(if min.is_zero() {
            format!("must be at most {}", show(max))
        } else {
            format!("must be between {} and {}", show(min), show(max))
        });
    }
    Ok(d)
}

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);
/// A year as humantime counts it (365.25 days), so limits print as `1year`, `100years`.
const YEAR: Duration = Duration::from_secs(31_557_600);

fn scan_max_time(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::from_secs(1), DAY)
}

fn crack_time(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::ZERO, HOUR)
}

fn crack_max_time(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::ZERO, YEAR)
}

fn token_lifetime(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::from_secs(1), 100 * YEAR)
}

fn rate(s: &str) -> Result<f64, String> {
    let r: f64 = s
        .parse()
        .map_err(|_| "must be a number of requests per second".to_string())?;
    if !r.is_finite() || r < 0.0 {
        return Err("must be a number of requests per second, 0 for unlimited".into());
    }
    if r > 0.0 && r < crate::http::MIN_RATE {
        return Err(format!(
            "is below the minimum of {} requests per second (one every {} s); 0 means unlimited",
            crate::http::MIN_RATE,
            1.0 / crate::http::MIN_RATE
        ));
    }
    Ok(r)
}

/// The largest `--max-body`: every answer of a scan may be held at once.
const MAX_BODY_LIMIT: usize = 64 * 1024 * 1024;

fn max_body(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| "must be a number of bytes".to_string())?;
    if !(1..=MAX_BODY_LIMIT).contains(&n) {
        return Err(format!("must be between 1 and {MAX_BODY_LIMIT} (64 MiB)"));
    }
    Ok(n)
}

fn crack_threads(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| "must be a number of threads".to_string())?;
    if !(1..=authprobe_crack::MAX_THREADS).contains(&n) {
        return Err(format!(
            "must be between 1 and {}",
            authprobe_crack::MAX_THREADS
        ));
    }
    Ok(n)
}

fn jwt_options(a: &JwtArgs, max_time: Duration) -> Result<JwtOptions> {
    // The checks read these files again when they need them: a key that does not parse
    // must stop the scan here, not turn into "needs the signing key" later.
    if let Some(p) = &a.jwt_key {
        let pem = pem_file(p, "--jwt-key")?;
        authprobe_jwt::PrivateKey::from_pem(&pem).map_err(|e| {
            anyhow!(
                "--jwt-key {} is not a private key authprobe can sign with (PEM: PKCS#8, PKCS#1 \
                 or SEC1; RSA, EC or Ed25519): {e}",
                p.display()
            )
        })?;
    }
    if let Some(p) = &a.jwt_public_key {
        let pem = pem_file(p, "--jwt-public-key")?;
        authprobe_jwt::PublicKey::from_pem(&pem).map_err(|e| {
            anyhow!(
                "--jwt-public-key {} holds no public key authprobe can read (PEM: PUBLIC \
                 KEY, RSA PUBLIC KEY, CERTIFICATE or a private key): {e}",
                p.display()
            )
        })?;
    }
    for w in &a.wordlist {
        std::fs::metadata(w).with_context(|| format!("cannot read wordlist {}", w.display()))?;
    }
    Ok(JwtOptions {
        secret: a.jwt_secret.clone(),
        key: a.jwt_key.clone(),
        public_key: a.jwt_public_key.clone(),
        expired_token: a.expired_token.clone(),
        alt_token: a.alt_token.clone(),
        callback_url: a
            .callback_url
            .as_deref()
            .map(|u| parse_url(u, "--callback-url"))
            .transpose()?,
        wordlists: a.wordlist.clone(),
        crack_time: a
            .crack_time
            .unwrap_or(JwtOptions::defaults().crack_time.min(max_time)),
        max_lifetime: a.max_token_lifetime.as_secs(),
    })
}

#[derive(Args)]
struct LabArgs {
    /// hardened: no flaw; vulnerable: every flaw but the two that hide others
    /// (auth.token_optional_with_cert, mtls.not_required: add them with --flaw).
    #[arg(long, default_value = "hardened", value_parser = ["hardened", "vulnerable"])]
    profile: String,
    /// Switch on the flaw behind catalog check ID (repeatable).
    #[arg(long = "flaw", value_name = "ID")]
    flaws: Vec<String>,
    /// Behave like a real framework in one respect (repeatable): cert-only,
    /// unknown-user-401, errors-200, status-403-missing, status-422-malformed, token-first.
    #[arg(long = "mode", value_name = "NAME")]
    modes: Vec<String>,
    /// Also serve the application on a plain-HTTP origin (origin_url) that trusts the
    /// client certificate in X-SSL-Client-Cert, as behind nginx; for putting a real TLS
    /// terminator in front of the lab.
    #[arg(long)]
    origin: bool,
    /// Write the ready JSON to PATH instead of stdout.
    #[arg(long, value_name = "PATH")]
    ready_file: Option<PathBuf>,
}

#[derive(Args)]
struct DemoArgs {
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args)]
struct TlsArgs {
    /// HOST:PORT (port 443 when omitted), [IPv6]:PORT, or an https:// URL.
    target: String,
    /// Server name to send (SNI) and to check the certificate for; defaults to HOST
    /// unless HOST is an IP address.
    #[arg(long, value_name = "NAME")]
    sni: Option<String>,
    /// Trust this CA (PEM) for the server certificate instead of the system store.
    #[arg(long, value_name = "PEM")]
    server_ca: Option<PathBuf>,
    /// TLS connections in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    concurrency: u32,
    /// Seconds allowed for each connect, and for each server answer.
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args)]
struct ChecksArgs {
    #[arg(long, value_enum, default_value = "pretty")]
    format: CatalogFormat,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum CatalogFormat {
    Pretty,
    Json,
    /// The README's table of checks.
    Markdown,
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("authprobe: error: cannot start the runtime: {e}");
            return 2;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Scan(a) => run_scan(*a).await,
            Command::Lab(a) => run_lab(a).await,
            Command::Demo(a) => run_demo(a).await,
            Command::Checks(a) => list_checks(a),
            Command::Crack(a) => crate::cli::crack::run(a.into()).await,
            Command::Token(TokenCommand::Inspect(a)) => {
                crate::cli::token::inspect(&a.token, a.format == Format::Json, a.max_token_lifetime)
            }
            Command::Tls(a) => run_tls(a).await,
            Command::MintRevoked(a) => mint_revoked(a),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("authprobe: error: {}", one_line(&e));
            2
        }
    }
}

fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
        .replace('\n', " ")
}

fn parse_url(s: &str, what: &str) -> Result<url::Url> {
    let u = url::Url::parse(s).map_err(|e| anyhow!("{what} {s:?} is not a valid URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        bail!("{what} {s:?} must be an http:// or https:// URL");
    }
    if u.host_str().is_none() {
        bail!("{what} {s:?} has no host");
    }
    Ok(u)
}

fn limits(a: &LimitArgs) -> Result<Limits> {
    if !(a.timeout.is_finite() && a.timeout > 0.0 && a.timeout <= 600.0) {
        bail!("--timeout must be between 0 and 600 seconds");
    }
    Ok(Limits {
        concurrency: a.concurrency as usize,
        rate: a.rate,
        max_requests: a.max_requests,
        timeout: Duration::from_secs_f64(a.timeout),
        max_body: a.max_body,
        max_time: a.max_time,
        max_timeouts_per_host: crate::http::DEFAULT_MAX_TIMEOUTS_PER_HOST,
    })
}

/// A PEM file the user named (`what` is the option), read under the key-file cap.
fn pem_file(path: &std::path::Path, what: &str) -> Result<String> {
    let text = crate::files::read_pem_text(path, what)?;
    if !text.contains("-----BEGIN") {
        bail!("{what} {} is not a PEM file", path.display());
    }
    Ok(text)
}

fn check_selection(list: &[String]) -> Result<()> {
    let ids: Vec<&str> = checks::registry().iter().map(|c| c.meta().id).collect();
    for p in list {
        if !ids
            .iter()
            .any(|id| engine::selected(std::slice::from_ref(p), id))
        {
            bail!("--checks {p:?} names no check (see `authprobe checks`)");
        }
    }
    Ok(())
}

type Identity = Option<Arc<crate::http::ClientIdentity>>;

/// `--client-cert`, `--client-cert2` and `--revoked-cert` with their keys, all under the one
/// `--client-key-pass`: a passphrase none of them needed is an error naming them.
fn client_identities(a: &ScanArgs) -> Result<(Identity, Identity, Identity)> {
    let pass = a.client_key_pass.as_deref();
    let mut used = false;
    let mut given = Vec::new();
    let mut load = |cert: &Option<PathBuf>, key: &Option<PathBuf>| -> Result<Identity> {
        let Some(cert) = cert else { return Ok(None) };
        let (id, u) = load_identity_pass_used(cert, key.as_deref(), pass)?;
        used |= u;
        given.push(key.as_deref().unwrap_or(cert).display().to_string());
        Ok(Some(Arc::new(id)))
    };
    let client = load(&a.client_cert, &a.client_key)?;
    let client2 = load(&a.client_cert2, &a.client_key2)?;
    let revoked = load(&a.revoked_cert, &a.revoked_key)?;
    if pass.is_some() && !used {
        if given.is_empty() {
            bail!("--client-key-pass was given without a client certificate");
        }
        bail!(
            "--client-key-pass was given but no key needs it: {} not encrypted",
            match given.len() {
                1 => format!("{} is", given[0]),
                _ => format!("{} are", given.join(", ")),
            }
        );
    }
    Ok((client, client2, revoked))
}

fn scan_options(a: &ScanArgs) -> Result<ScanOptions> {
    check_selection(&a.limits.checks)?;
    let target = parse_url(&a.url, "target")?;
    let basic = match &a.basic {
        Some(b) => {
            let (u, p) = b
                .split_once(':')
                .ok_or_else(|| anyhow!("--basic must be USER:PASSWORD"))?;
            Some((u.to_string(), p.to_string()))
        }
        None => None,
    };
    if a.bearer.as_deref().is_some_and(|b| b.trim().is_empty()) {
        bail!("--bearer is empty");
    }
    let mut headers = Vec::new();
    for h in &a.headers {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| anyhow!("--header {h:?} must look like 'Name: value'"))?;
        let k = k.trim();
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            bail!("--header {h:?} has an invalid name");
        }
        headers.push((k.to_string(), v.trim().to_string()));
    }
    let (client, client2, revoked) = client_identities(a)?;
    let client_ca = match (&a.client_ca_cert, &a.client_ca_key) {
        (Some(c), Some(k)) => {
            pem_file(c, "--client-ca-cert")?;
            pem_file(k, "--client-ca-key")?;
            Some((c.clone(), k.clone()))
        }
        _ => None,
    };
    let limits = limits(&a.limits)?;
    let jwt = jwt_options(&a.jwt, limits.max_time)?;
    if let Some(t) = a.jwt.crack_time
        && t > limits.max_time
    {
        bail!(
            "--crack-time {} is longer than --max-time {}",
            humantime::format_duration(t),
            humantime::format_duration(limits.max_time)
        );
    }
    let server_ca = match &a.server_ca {
        Some(p) => Some((p.clone(), crate::http::load_server_ca(p)?)),
        None => None,
    };
    Ok(ScanOptions {
        target,
        http_url: a
            .http_url
            .as_deref()
            .map(|u| parse_url(u, "--http-url"))
            .transpose()?,
        origin: a
            .origin
            .as_deref()
            .map(|u| parse_url(u, "--origin"))
            .transpose()?,
        creds: Credentials {
            bearer: a.bearer.clone(),
            basic,
            headers,
            client,
            client_ca,
            client2,
            revoked,
            extra_secrets: [&a.jwt.jwt_secret, &a.jwt.expired_token, &a.jwt.alt_token]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
        },
        limits,
        tls: TlsSettings {
            server_ca,
            insecure: a.insecure,
        },
        show_secrets: a.output.show_secrets,
        allow_unsafe_methods: a.limits.allow_unsafe_methods,
        only: a.limits.checks.clone(),
        jwt,
        basic: BasicOptions {
            url: a
                .basic_url
                .as_deref()
                .map(|u| parse_url(u, "--basic-url"))
                .transpose()?,
            lockout_attempts: a.limits.lockout_attempts as usize,
            wordlist: match &a.basic_wordlist {
                Some(p) => read_wordlist(p)?,
                None => Vec::new(),
            },
            allow_cleartext: a.limits.allow_cleartext_basic,
        },
    })
}

/// Most pairs a wordlist may add: the request budget would stop a longer list anyway, and
/// a default-credentials check is not a brute-force tool.
const MAX_WORDLIST_PAIRS: usize = 1000;
/// The longest `USER:PASSWORD` line of `--basic-wordlist`.
const MAX_WORDLIST_LINE: usize = 1024;
/// Bytes of `--basic-wordlist` read at most (comments and blank lines included) before
/// [`MAX_WORDLIST_PAIRS`] pairs are found.
const MAX_WORDLIST_BYTES: u64 = 4 * 1024 * 1024;

/// Streams `--basic-wordlist` a line at a time, stopping at [`MAX_WORDLIST_PAIRS`] pairs:
/// an endless or binary file (`/dev/zero`) fails at once with the limit it hit.
fn read_wordlist(path: &std::path::Path) -> Result<Vec<(String, String)>> {
    use std::io::{BufRead, Read};
    let what = || format!("--basic-wordlist {}", path.display());
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", what()))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        bail!("cannot read {}: it is a directory", what());
    }
    let mut reader = std::io::BufReader::new(file);
    let mut pairs = Vec::new();
    let mut read = 0u64;
    let mut raw = Vec::new();
    for n in 1.. {
        raw.clear();
        let got = (&mut reader)
            .take(MAX_WORDLIST_LINE as u64 + 2)
            .read_until(b'\n', &mut raw)
            .with_context(|| format!("cannot read {}", what()))?;
        if got == 0 {
            break;
        }
        read += got as u64;
        if read > MAX_WORDLIST_BYTES {
            bail!(
                "{} is larger than the {} limit for wordlists of USER:PASSWORD pairs",
                what(),
                crate::files::size(MAX_WORDLIST_BYTES)
            );
        }
        let body = raw.strip_suffix(b"\n").unwrap_or(&raw);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.len() > MAX_WORDLIST_LINE {
            bail!(
                "{} line {n} is longer than the {}-byte limit for a USER:PASSWORD line",
                what(),
                MAX_WORDLIST_LINE
            );
        }
        let line = std::str::from_utf8(body)
            .map_err(|_| anyhow!("{} line {n} is not UTF-8 text", what()))?;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (u, p) = line
            .split_once(':')
            .ok_or_else(|| anyhow!("{} line {n}: expected USER:PASSWORD", what()))?;
        pairs.push((u.to_string(), p.to_string()));
        if pairs.len() == MAX_WORDLIST_PAIRS {
            break;
        }
    }
    Ok(pairs)
}

async fn run_scan(a: ScanArgs) -> Result<i32> {
    let opts = scan_options(&a)?;
    // Read locally before anything is sent: the first thing to check when the server
    // then refuses the token.
    if let Some(note) = engine::preflight::token_time_note(&opts) {
        eprintln!("authprobe: note: --bearer: {note}");
    }
    scan_and_report(opts, &a.output).await
}

/// How long past `--max-time` a scan may take to wind up (checks turning their refused
/// requests into verdicts, work without HTTP) before the command gives up on it.
const MAX_TIME_GRACE: Duration = Duration::from_secs(30);

async fn scan_and_report(opts: ScanOptions, out: &OutputArgs) -> Result<i32> {
    // A wrong --baseline path should fail before the scan, not after it.
    if let Some(p) = &out.baseline {
        load_baseline(p)?;
    }
    let progress = Arc::new(Progress::default());
    let bar = (!out.no_progress && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(Duration::from_millis(100));
        b
    });
    let target = opts.target.to_string();
    // The HTTP layer stops every request at --max-time; this is the backstop for work
    // that sends no HTTP request (TLS handshakes, the cracker, listeners).
    let max_time = opts.limits.max_time;
    let hard_stop = tokio::time::Instant::now()
        .checked_add(max_time + MAX_TIME_GRACE)
        .unwrap_or_else(|| tokio::time::Instant::now() + DAY);
    let scan = engine::scan(opts, progress.clone());
    tokio::pin!(scan);
    let result = loop {
        tokio::select! {
            r = &mut scan => break r,
            _ = tokio::time::sleep_until(hard_stop) => {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                bail!(
                    "the scan of {target} did not end within --max-time {} and a grace of {}: \
                     no report was written",
                    humantime::format_duration(max_time),
                    humantime::format_duration(MAX_TIME_GRACE)
                );
            }
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                if let Some(b) = &bar {
                    b.set_message(format!(
                        "scanning {target} · checks {}/{}",
                        progress.checks_done.load(Ordering::Relaxed),
                        progress.checks_total.load(Ordering::Relaxed)
                    ));
                }
            }
        }
    };
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let (report, _ctx) = result?;
    finish(report, out, false)
}

/// Applies `--baseline`, writes every output, and returns the gates' exit code.
fn finish(mut report: Report, out: &OutputArgs, detail: bool) -> Result<i32> {
    if let Some(path) = &out.baseline {
        let known = load_baseline(path)?;
        report.apply_baseline(&known, path.display().to_string());
        if let Some(b) = &report.baseline {
            eprintln!(
                "authprobe: baseline {}: {} known findings suppressed, {} new",
                path.display(),
                b.suppressed,
                report.findings.len()
            );
        }
    }
    emit_with(&report, out, detail)?;
    Ok(gates(&report, out))
}

fn load_baseline(path: &std::path::Path) -> Result<Report> {
    let text = crate::files::read_capped(
        path,
        crate::files::MAX_REPORT_FILE,
        "--baseline",
        "JSON reports",
    )?;
    serde_json::from_slice(&text).map_err(|e| {
        anyhow!(
            "--baseline {} is not an authprobe JSON report: {e}",
            path.display()
        )
    })
}

/// `detail`: the TLS section in full (every suite) above the findings, for `authprobe tls`.
fn render_report(report: &Report, format: ReportFormat, colour: bool, detail: bool) -> String {
    match format {
        ReportFormat::Pretty => {
            let mut s = String::new();
            if detail && let Some(t) = &report.tls {
                s.push_str(&pretty::render_tls_detail(t));
            }
            s.push_str(&pretty::render(report, colour));
            s
        }
        ReportFormat::Json => report.to_json(),
        ReportFormat::Sarif => crate::report::sarif::render(report),
        ReportFormat::Junit => crate::report::junit::render(report),
        ReportFormat::Markdown => crate::report::markdown::render(report),
        ReportFormat::Html => crate::report::html::render(report),
    }
}

fn emit_with(report: &Report, out: &OutputArgs, detail: bool) -> Result<()> {
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for path in &out.output {
        let format = ReportFormat::from_path(path).unwrap_or(out.format);
        let text = render_report(report, format, false, detail);
        std::fs::write(path, text.trim_end().to_string() + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let text = render_report(report, out.format, colour, detail);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", text.trim_end()).context("writing to stdout")?;
    Ok(())
}

fn gates(report: &Report, out: &OutputArgs) -> i32 {
    let mut failed = Vec::new();
    if let (Some(limit), Some(worst)) = (out.fail_on, report.worst())
        && worst >= limit
    {
        failed.push(format!(
            "--fail-on {}: a {} finding was reported",
            limit.as_str(),
            worst.as_str()
        ));
    }
    if let Some(min) = out.min_score
        && report.score < min
    {
        failed.push(format!("--min-score {min}: the score is {}", report.score));
    }
    if let Some(max) = out.fail_on_inconclusive
        && report.inconclusive.len() > max
    {
        failed.push(format!(
            "--fail-on-inconclusive{}: {} check{} could not decide ({})",
            if max == 0 {
                String::new()
            } else {
                format!("={max}")
            },
            report.inconclusive.len(),
            if report.inconclusive.len() == 1 {
                ""
            } else {
                "s"
            },
            report
                .inconclusive
                .iter()
                .map(|i| i.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if failed.is_empty() {
        0
    } else {
        eprintln!("authprobe: gate failed: {}", failed.join("; "));
        1
    }
}

async fn run_lab(a: LabArgs) -> Result<i32> {
    let lab = authprobe_lab::start(authprobe_lab::LabOptions {
        profile: a.profile.parse()?,
        flaws: a.flaws,
        modes: a.modes,
        origin: a.origin,
    })
    .await?;
    let json = serde_json::to_string(&lab.ready)?;
    match &a.ready_file {
        Some(p) => {
            // Write then rename, so a reader polling for the file never sees half of it.
            let tmp = p.with_extension("tmp");
            std::fs::write(&tmp, &json)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, p).with_context(|| format!("cannot write {}", p.display()))?;
        }
        None => println!("{json}"),
    }
    wait_for_shutdown().await;
    drop(lab);
    Ok(0)
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// The certificate the lab revoked in its CRL, which it writes beside the user's (not in
/// the ready JSON, whose shape is a contract); a user of the lab passes it as
/// `--revoked-cert DIR/revoked.pem --revoked-key DIR/revoked.key`.
fn lab_revoked_identity(
    ready: &authprobe_lab::Ready,
) -> Result<Option<Arc<crate::http::ClientIdentity>>> {
    let cert = ready.client_cert.with_file_name("revoked.pem");
    let key = ready.client_cert.with_file_name("revoked.key");
    if !(cert.exists() && key.exists()) {
        return Ok(None);
    }
    Ok(Some(Arc::new(load_identity(&cert, &key)?)))
}

/// Scan options for the lab as a user would pass them on the command line.
pub fn lab_scan_options(ready: &authprobe_lab::Ready, limits: Limits) -> Result<ScanOptions> {
    let base = |s: &str| parse_url(s, "lab URL");
    let target = base(&format!("{}{}", ready.https_url, ready.protected_path))?;
    let http_url = base(&format!("{}{}", ready.http_url, ready.protected_path))?;
    let (user, pass) = ready
        .basic
        .split_once(':')
        .ok_or_else(|| anyhow!("lab basic credentials malformed"))?;
    Ok(ScanOptions {
        target,
        http_url: Some(http_url),
        // --origin names the same resource at the application's own address.
        origin: ready
            .origin_url
            .as_deref()
            .map(|o| base(&format!("{o}{}", ready.protected_path)))
            .transpose()?,
        creds: Credentials {
            bearer: Some(ready.token.clone()),
            basic: Some((user.to_string(), pass.to_string())),
            headers: Vec::new(),
            client: Some(Arc::new(load_identity(
                &ready.client_cert,
                &ready.client_key,
            )?)),
            client_ca: Some((ready.ca_cert.clone(), ready.client_ca_key.clone())),
            client2: None,
            revoked: lab_revoked_identity(ready)?,
            extra_secrets: Vec::new(),
        },
        limits,
        tls: TlsSettings {
            server_ca: Some((
                ready.ca_cert.clone(),
                crate::http::load_server_ca(&ready.ca_cert)?,
            )),
            insecure: false,
        },
        show_secrets: false,
        allow_unsafe_methods: false,
        only: Vec::new(),
        jwt: JwtOptions::defaults(),
        basic: BasicOptions {
            url: Some(base(&format!(
                "{}{}",
                ready.https_url,
                authprobe_lab::LOGIN_PATH
            ))?),
            // The lab's password is random, per run, and only ever crosses loopback.
            allow_cleartext: true,
            ..BasicOptions::default()
        },
    })
}

async fn run_demo(a: DemoArgs) -> Result<i32> {
    let lab = authprobe_lab::start(authprobe_lab::LabOptions {
        profile: authprobe_lab::Profile::Vulnerable,
        flaws: Vec::new(),
        modes: Vec::new(),
        origin: false,
    })
    .await?;
    eprintln!(
        "authprobe demo: lab serving at {} with flaws: {}",
        lab.ready.https_url,
        lab.ready.flaws.join(", ")
    );
    let mut opts = lab_scan_options(&lab.ready, limits(&a.limits)?)?;
    opts.jwt.crack_time = opts.jwt.crack_time.min(opts.limits.max_time);
    opts.show_secrets = a.output.show_secrets;
    opts.allow_unsafe_methods = a.limits.allow_unsafe_methods;
    opts.only = a.limits.checks.clone();
    opts.basic.lockout_attempts = a.limits.lockout_attempts as usize;
    let code = scan_and_report(opts, &a.output).await?;
    drop(lab);
    Ok(code)
}

fn mint_revoked(a: MintRevokedArgs) -> Result<i32> {
    use crate::checks::mtls::mint::{Minter, UserCert};
    // The minter reads the CA files whole: check they are PEM of a sane size first.
    pem_file(&a.client_ca_cert, "--client-ca-cert")?;
    pem_file(&a.client_ca_key, "--client-ca-key")?;
    let certs = crate::http::load_certs(&a.subject_from, "--subject-from certificate")?;
    let user = UserCert::parse(&certs[0])?;
    let m = Minter::in_dir((&a.client_ca_cert, &a.client_ca_key), &a.out)?;
    let (id, crl) = m.revoked_with_crl(&user)?;
    println!(
        "Revoked certificate for {}: {} (key {})\nCRL revoking it: {}\n\nDeploy the CRL where client certificates are verified (nginx: ssl_crl {}; HAProxy: crl-file), reload, then scan with:\n  --revoked-cert {} --revoked-key {}",
        user.subject_text,
        id.cert_path.display(),
        id.key_path.display(),
        crl.display(),
        crl.display(),
        id.cert_path.display(),
        id.key_path.display()
    );
    Ok(0)
}

async fn run_tls(a: TlsArgs) -> Result<i32> {
    use crate::checks::Outcome;
    use crate::checks::tls::transport::{GatherOptions, TlsTarget, gather};
    if !(a.timeout.is_finite() && a.timeout > 0.0 && a.timeout <= 600.0) {
        bail!("--timeout must be between 0 and 600 seconds");
    }
    let target = TlsTarget::parse(&a.target, a.sni.clone()).map_err(|e| anyhow!(e))?;
    let server_ca = match &a.server_ca {
        Some(p) => Some((p.clone(), crate::http::load_server_ca(p)?)),
        None => None,
    };
    let settings = TlsSettings {
        server_ca,
        insecure: false,
    };
    let started_at = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    let facts = gather(
        &target,
        &settings,
        &GatherOptions {
            timeout: Duration::from_secs_f64(a.timeout),
            concurrency: a.concurrency as usize,
            limiter: None,
        },
    )
    .await
    .map_err(|e| anyhow!(e))?;
    let mut findings = Vec::new();
    let mut run = Vec::new();
    let mut skipped = Vec::new();
    let mut inconclusive = Vec::new();
    for (meta, evaluate) in checks::tls::transport_checks() {
        let reason = |r: String| crate::report::Skipped {
            id: meta.id.to_string(),
            reason: r,
        };
        match evaluate(&facts) {
            Outcome::Pass => run.push(meta),
            Outcome::Found(f) => {
                run.push(meta);
                findings.push(*f);
            }
            Outcome::Inconclusive(r) => {
                run.push(meta);
                inconclusive.push(reason(r));
            }
            Outcome::NotApplicable(r) => skipped.push(reason(r)),
        }
    }
    let report = Report::build(
        target.display(),
        0,
        started_at,
        clock.elapsed(),
        findings,
        run,
        skipped,
        inconclusive,
        Some(crate::report::tls::TlsSection::from_facts(&facts)),
    );
    finish(report, &a.output, true)
}

fn list_checks(a: ChecksArgs) -> Result<i32> {
    let registry = checks::registry();
    if a.format == CatalogFormat::Markdown {
        print!("{}", checks::markdown_table());
    } else if a.format == CatalogFormat::Json {
        let list: Vec<_> = registry
            .iter()
            .map(|c| {
                let m = c.meta();
                serde_json::json!({
                    "id": m.id,
                    "title": m.title,
                    "family": m.family,
                    "severity": m.severity,
                    "cwe": m.cwe_ids(),
                    "owasp": m.owasp_ids(),
                    "description": m.description,
                    "needs": m.needs.iter().map(|n| n.describe()).collect::<Vec<_>>(),
                    "remediation": m.remediation_text(),
                    "references": m.references,
                    "budget": format!("{:?}", m.budget),
                    "lab_flaw": m.lab_flaw,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        let width = registry
            .iter()
            .map(|c| c.meta().id.len())
            .max()
            .unwrap_or(0);
        let cwe_width = registry
            .iter()
            .map(|c| c.meta().cwe_ids().join(",").len())
            .max()
            .unwrap_or(0);
        for c in &registry {
            let m = c.meta();
            println!(
                "{:<width$}  {:<8}  {:<cwe_width$}  {}",
                m.id,
                m.severity.as_str(),
                m.cwe_ids().join(","),
                m.title
            );
        }
    }
    Ok(0)
}

impl From<CrackArgs> for crack::CrackOptions {
    fn from(a: CrackArgs) -> Self {
        crack::CrackOptions {
            token: a.token,
            wordlists: a.wordlist,
            rules: a.rules,
            builtin: !a.no_builtin,
            threads: a.threads,
            max_time: a.max_time,
            json: a.format == Format::Json,
            show_secret: a.show_secret,
            benchmark: a.benchmark,
            export_hashcat: a.export_hashcat,
            progress: !a.no_progress,
        }
    }
}
