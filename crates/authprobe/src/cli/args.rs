//! The command line's arguments: every command, option and value parser (clap derive),
//! and nothing else. What they mean for a scan is in [`super::convert`].

use authprobe::finding::Severity;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "authprobe",
    version,
    about = "Black-box scanner for the authentication layer of HTTP APIs: JWT, mutual TLS, HTTP Basic and the TLS under them.",
    after_help = "Exit codes: 0 scan done and gates pass · 1 a gate (--fail-on, --min-score) failed · 2 usage, connection or target error.\nRun `authprobe demo` to see a scan of the built-in vulnerable lab."
)]
pub struct Cli {
    /// Diagnostics on stderr: -v info, -vv debug, -vvv trace (default: RUST_LOG, else
    /// warnings only).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// No progress indicator and no notes on stderr; errors and failed gates still show.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Colour on stdout and stderr: auto (a terminal, unless NO_COLOR is set or
    /// CLICOLOR_FORCE asks for it anyway), always or never.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        global = true,
        value_name = "WHEN"
    )]
    pub color: ColorWhen,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// Print a shell completion script, e.g. `authprobe completions bash >
    /// ~/.local/share/bash-completion/completions/authprobe`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `authprobe man | man -l -`.
    Man,
    /// Run the dashboard and REST API with scan history (SQLite by default).
    Serve(ServeArgs),
    /// Run scans from a PostgreSQL job queue shared with `serve` (any number of workers,
    /// on any number of machines).
    Worker(WorkerArgs),
    /// Serve the scanner to AI assistants over MCP on stdin/stdout, inside a fixed scope
    /// and with credentials named by profile (docs/mcp.md).
    Mcp(McpArgs),
}

#[derive(Args)]
pub struct McpArgs {
    /// The configuration file (YAML): allow_targets, profiles, max_requests, max_time, db.
    #[arg(long, value_name = "PATH", env = "AUTHPROBE_MCP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Allow scans of HOST (a name, *.domain, an IP address) or CIDR, added to the file's
    /// allow_targets (repeatable). Without either, only loopback may be scanned.
    #[arg(long = "allow-target", value_name = "HOST|CIDR")]
    pub allow_target: Vec<String>,
    /// The history store: sqlite://PATH or postgres://… [default: serve's, sqlite://DATA_DIR/authprobe.db]
    #[arg(long, value_name = "URL", env = "AUTHPROBE_DB")]
    pub db: Option<String>,
    /// Where the default database and the credentials key file are [default: the user's
    /// data directory, as for serve].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Requests one tool call may send [default: 400, or the file's max_requests].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_requests: Option<u32>,
    /// Time one scan may take, e.g. 2m [default: 5m, or the file's max_time].
    #[arg(long, value_name = "DURATION", value_parser = scan_max_time)]
    pub max_time: Option<Duration>,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on. The default serves this machine only.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    pub listen: std::net::SocketAddr,
    /// sqlite://PATH or postgres://USER:PASSWORD@HOST/DB [default: sqlite://DATA_DIR/authprobe.db]
    #[arg(long, value_name = "URL", env = "AUTHPROBE_DB")]
    pub db: Option<String>,
    /// Allow scans of HOST (a name, *.domain, an IP address) or CIDR (repeatable). Without
    /// it only loopback may be scanned: an API that starts scans must not reach whatever
    /// its network can.
    #[arg(long = "allow-target", value_name = "HOST|CIDR")]
    pub allow_target: Vec<String>,
    /// Write {"url", "db", "admin_key_file"} to PATH once serving.
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
    /// Where the default database, the credentials key file and the admin key file go
    /// [default: the user's data directory, e.g. ~/.local/share/authprobe].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Scans this server runs at once. On PostgreSQL, 0 leaves every scan to `authprobe
    /// worker` processes.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=64))]
    pub workers: u32,
    #[command(flatten)]
    pub jobs: JobArgs,
    /// Serve HTTPS with this certificate chain (PEM); with --tls-key. Without it, serve
    /// plain HTTP for loopback or a TLS proxy in front.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The MCP endpoint's configuration (profiles, max_requests, max_time; the scope is
    /// --allow-target's). Without it, /mcp has the AUTHPROBE_MCP_PROFILE_* profiles only.
    #[arg(long, value_name = "PATH", env = "AUTHPROBE_MCP_CONFIG")]
    pub mcp_config: Option<PathBuf>,
    /// The wait before a failed webhook delivery is tried again, four times longer after
    /// each failure (at most 1h), eight attempts in all.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = webhook_retry_base)]
    pub webhook_retry_base: Duration,
}

/// How scans run as jobs, for `serve` and `worker` alike.
#[derive(Args, Clone)]
pub struct JobArgs {
    /// Starts of one scan in all: a scan that fails in a way that may pass (the target did
    /// not answer, the database restarted, its worker stopped) is tried again until then.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// The wait before a failed scan's second start; each later one waits four times
    /// longer, at most 10m.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = retry_backoff)]
    pub retry_backoff: Duration,
    /// Scans of one host (host:port) at once, across every worker sharing the database.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub host_concurrency: u32,
    /// Requests in flight to its host from one scan (its connections): lower it for
    /// fragile hosts.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub scan_concurrency: u32,
    /// Requests per second to one host, all its scans together (each running scan gets
    /// its share).
    #[arg(long, value_name = "N", default_value_t = 100.0, value_parser = host_rate)]
    pub host_rate: f64,
    /// On SIGTERM, how long to let the scans in hand finish before handing them back to the
    /// queue (PostgreSQL).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = grace)]
    pub grace: Duration,
}

#[derive(Args)]
pub struct WorkerArgs {
    /// The PostgreSQL database `serve` uses: postgres://USER:PASSWORD@HOST/DB. The
    /// credentials key must be the server's too: AUTHPROBE_SECRET_KEY, or `secret.key` in
    /// --data-dir.
    #[arg(long, value_name = "URL", env = "AUTHPROBE_DB")]
    pub db: String,
    /// Scans this worker runs at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// What this worker may scan (repeatable), as `serve --allow-target`: give every
    /// worker the server's list. Without it, only loopback.
    #[arg(long = "allow-target", value_name = "HOST|CIDR")]
    pub allow_target: Vec<String>,
    /// Where `secret.key` is when AUTHPROBE_SECRET_KEY is not set [default: the user's
    /// data directory].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Write {"worker", "db"} to PATH once taking jobs.
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
    #[command(flatten)]
    pub jobs: JobArgs,
}

#[derive(Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

/// `--color`: when styled output is wanted; NO_COLOR and CLICOLOR_FORCE refine `auto`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Args)]
pub struct MintRevokedArgs {
    /// The test CA's certificate (PEM).
    #[arg(long, value_name = "PEM")]
    pub client_ca_cert: PathBuf,
    /// The test CA's private key (PEM).
    #[arg(long, value_name = "PEM")]
    pub client_ca_key: PathBuf,
    /// A client certificate (PEM) whose subject the revoked one copies.
    #[arg(long, value_name = "PEM")]
    pub subject_from: PathBuf,
    /// Directory for revoked.pem, revoked.key and crl.pem (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Decode a JWT and report what it reveals on its own (nothing is sent).
    Inspect(InspectArgs),
}

#[derive(Args)]
pub struct InspectArgs {
    /// The token (or set AUTHPROBE_BEARER).
    #[arg(env = "AUTHPROBE_BEARER", hide_env_values = true)]
    pub token: String,
    #[arg(long, value_enum, default_value = "pretty")]
    pub format: Format,
    /// Longest acceptable token lifetime, e.g. 24h, 90m.
    #[arg(long, default_value = "24h", value_parser = token_lifetime)]
    pub max_token_lifetime: Duration,
}

#[derive(Args)]
pub struct CrackArgs {
    /// The HS256/384/512 token (or set AUTHPROBE_BEARER); not needed with --benchmark.
    #[arg(
        env = "AUTHPROBE_BEARER",
        hide_env_values = true,
        required_unless_present = "benchmark"
    )]
    pub token: Option<String>,
    /// Candidate secrets, one per line; `-` for stdin; gzip is detected (repeatable).
    #[arg(long, short = 'w', value_name = "FILE")]
    pub wordlist: Vec<PathBuf>,
    /// Mangling rules: default, none, or a rule file.
    #[arg(long, default_value = "default")]
    pub rules: String,
    /// Skip the built-in list of default and example secrets.
    #[arg(long)]
    pub no_builtin: bool,
    /// Worker threads (default: every core; at most 1024).
    #[arg(long, value_parser = crack_threads)]
    pub threads: Option<usize>,
    /// Give up after this long, e.g. 30s, 10m (at most a year).
    #[arg(long, value_parser = crack_max_time)]
    pub max_time: Option<Duration>,
    #[arg(long, value_enum, default_value = "pretty")]
    pub format: Format,
    /// Print the recovered secret in clear (masked otherwise, except in JSON).
    #[arg(long)]
    pub show_secret: bool,
    /// Measure candidates/s on a fixed token for this long (e.g. 5s; a bare number is
    /// seconds) and compare with the machine's SHA-256 compression rate.
    #[arg(long, value_name = "DURATION", num_args = 0..=1, default_missing_value = "5s", value_parser = benchmark_time)]
    pub benchmark: Option<Duration>,
    /// Write the token in hashcat's mode 16500 format to FILE, for GPU cracking.
    #[arg(long, value_name = "FILE")]
    pub export_hashcat: Option<PathBuf>,
    /// Never draw the progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Pretty,
    Json,
}

/// What a scan report can be rendered as; every one comes from the same [`Report`].
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum ReportFormat {
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
    /// JSON Lines: one object per finding and per finished operation or target, streamed
    /// as the scan goes, then a summary (docs/report-schema.md).
    Jsonl,
}

#[derive(Args, Clone)]
pub struct OutputArgs {
    /// Output format on stdout.
    #[arg(
        help_heading = "Output and gates",
        long,
        value_enum,
        default_value = "pretty"
    )]
    pub format: ReportFormat,
    /// Also write the report to FILE, in the format its extension names (.json, .sarif,
    /// .xml for JUnit, .md, .html, .txt; --format without an extension; `-` is stdout).
    /// Each FILE is checked for writability before the scan. Repeatable.
    #[arg(
        help_heading = "Output and gates",
        short = 'o',
        long = "output",
        value_name = "FILE"
    )]
    pub output: Vec<PathBuf>,
    /// An earlier JSON report: report only findings new since it (same check id and
    /// target) and gate only on them.
    #[arg(help_heading = "Output and gates", long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,
    /// Also send the JSON report to an `authprobe serve` at URL (its base URL), with the
    /// API key in AUTHPROBE_SERVER_KEY, so CI runs join the dashboard's history.
    #[arg(help_heading = "Output and gates", long, value_name = "URL")]
    pub upload: Option<String>,
    /// Exit 1 when a finding of this severity or worse is reported.
    #[arg(
        help_heading = "Output and gates",
        long,
        value_name = "SEVERITY",
        value_parser = severity(),
    )]
    pub fail_on: Option<Severity>,
    /// Exit 1 when the score is below N.
    #[arg(
        help_heading = "Output and gates",
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(0..=100),
    )]
    pub min_score: Option<u32>,
    /// Exit 1 when a check that ran could not decide (inconclusive); with =N, only when
    /// more than N could not. An undecided check is not a pass.
    #[arg(
        help_heading = "Output and gates",
        long,
        value_name = "N",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "0"
    )]
    pub fail_on_inconclusive: Option<usize>,
    /// Show tokens and passwords in the report instead of shell variables.
    #[arg(help_heading = "Output and gates", long)]
    pub show_secrets: bool,
    /// Write every shell variable the evidence uses (`export NAME='…'`, mode 0600), so
    /// that `source FILE` makes each curl line runnable.
    #[arg(long, value_name = "FILE")]
    pub secrets_file: Option<PathBuf>,
    /// Keep the minted certificates, keys and served key sets in DIR (the curl lines then
    /// point there) instead of a temporary directory removed when the scan ends.
    #[arg(long, value_name = "DIR")]
    pub keep_artifacts: Option<PathBuf>,
    /// Never draw the progress indicator.
    #[arg(help_heading = "Output and gates", long)]
    pub no_progress: bool,
}

#[derive(Args, Clone)]
pub struct LimitArgs {
    /// Concurrent requests per host.
    #[arg(
        help_heading = "Safety and limits",
        long,
        default_value_t = 8,
        value_parser = clap::value_parser!(u32).range(1..=256),
    )]
    pub concurrency: u32,
    /// Requests per second per host, at least 0.1 (0: unlimited).
    #[arg(
        help_heading = "Safety and limits",
        long,
        default_value_t = 100.0,
        value_parser = rate,
    )]
    pub rate: f64,
    /// Stop sending after N requests [default: 600; with --spec, 600 for the deep suites
    /// of each origin and credential plus what each operation's checks may send; with
    /// --targets, per target].
    #[arg(help_heading = "Safety and limits", long, value_name = "N")]
    pub max_requests: Option<usize>,
    /// Time allowed for each connect, TLS handshake and response, e.g. 10s, 500ms (a bare
    /// number is seconds; at most 10m).
    #[arg(
        help_heading = "Safety and limits",
        long,
        default_value = "10s",
        value_parser = timeout,
    )]
    pub timeout: Duration,
    /// Time limit for the whole scan, e.g. 90s, 10m (1s to 24h): past it nothing more is
    /// sent and the checks still waiting are reported inconclusive. A host that times out
    /// 3 times in a row gets no further request either [default: 5m; with --spec, at
    /// least twice what the request budget takes at --rate].
    #[arg(
        help_heading = "Safety and limits",
        long,
        value_name = "DURATION",
        value_parser = scan_max_time,
    )]
    pub max_time: Option<Duration>,
    /// Read at most this many bytes of each response body (at most 64 MiB).
    #[arg(
        help_heading = "Safety and limits",
        long,
        default_value_t = 1024 * 1024,
        value_parser = max_body,
    )]
    pub max_body: usize,
    /// Allow POST probes (off by default: only GET, HEAD and OPTIONS are sent).
    #[arg(help_heading = "Safety and limits", long)]
    pub allow_unsafe_methods: bool,
    /// Run only these checks: ids or families, comma-separated (e.g. auth,jwt.alg_none).
    #[arg(
        help_heading = "Target",
        long,
        value_delimiter = ',',
        value_name = "LIST"
    )]
    pub checks: Vec<String>,
    /// Failed logins basic.no_lockout sends for the --basic user (it runs only with --basic).
    #[arg(
        help_heading = "Basic",
        long,
        value_name = "N",
        default_value_t = 20,
        value_parser = clap::value_parser!(u32).range(3..=200),
    )]
    pub lockout_attempts: u32,
    /// Let basic.cleartext confirm its finding by sending the real --basic pair to the
    /// plain-HTTP URL (a leak of that password if anyone watches the path).
    #[arg(help_heading = "Basic", long)]
    pub allow_cleartext_basic: bool,
    /// Send --bearer, --basic and credential headers to an http:// target that is not
    /// this machine (refused otherwise: anyone on the path can read them).
    #[arg(long)]
    pub allow_plain_http_credentials: bool,
}

#[derive(Args)]
#[command(after_help = SCAN_EXAMPLES)]
pub struct ScanArgs {
    /// The protected resource, e.g. https://api.example.com/v1/me; with --spec, the base
    /// URL the description's paths are resolved against (its `servers` otherwise).
    #[arg(help_heading = "Target", required_unless_present_any = ["lab", "targets", "spec"])]
    pub url: Option<String>,
    /// Scan every operation of the API's OpenAPI 3.x or Swagger 2.0 document (JSON or
    /// YAML): a file, a URL, or `auto` to look for it on the target's origin
    /// (/openapi.json, /swagger.json, /v3/api-docs...).
    #[arg(
        help_heading = "Whole API",
        long,
        value_name = "FILE|URL|auto",
        conflicts_with = "targets"
    )]
    pub spec: Option<String>,
    /// Scan every URL of FILE (one per line, # comments; `-` reads stdin) with the same
    /// credentials.
    #[arg(
        help_heading = "Whole API",
        long,
        value_name = "FILE|-",
        conflicts_with_all = ["url", "lab"]
    )]
    pub targets: Option<String>,
    /// With --targets: how many hosts are scanned at once (each keeps its own
    /// --concurrency and --rate).
    #[arg(
        help_heading = "Whole API",
        long,
        value_name = "N",
        default_value_t = 4,
        value_parser = clap::value_parser!(u32).range(1..=64),
    )]
    pub host_concurrency: u32,
    /// Scan the lab described by its ready JSON (`authprobe lab --ready-file PATH`): target,
    /// token, Basic pair, certificates and CAs all come from it; limits, checks and output
    /// options still apply.
    #[arg(
        help_heading = "Target",
        long,
        value_name = "READY.json",
        conflicts_with_all = ["url", "http_url", "origin", "server_ca", "insecure", "client_cert", "client_ca_cert", "basic_url"]
    )]
    pub lab: Option<PathBuf>,
    /// A valid bearer token (JWT or opaque) for the resource.
    #[arg(
        help_heading = "Credentials",
        long,
        env = "AUTHPROBE_BEARER",
        hide_env_values = true
    )]
    pub bearer: Option<String>,
    /// Valid HTTP Basic credentials, USER:PASSWORD.
    #[arg(
        help_heading = "Credentials",
        long,
        env = "AUTHPROBE_BASIC",
        hide_env_values = true,
        value_name = "USER:PASSWORD"
    )]
    pub basic: Option<String>,
    /// An API key, sent where the API description's apiKey scheme NAME says (header,
    /// query or cookie; a header without --spec). Repeatable.
    #[arg(
        help_heading = "Credentials",
        long = "api-key",
        value_name = "NAME=VALUE"
    )]
    pub api_keys: Vec<String>,
    /// Extra header sent with every request, 'Name: value' (repeatable).
    #[arg(
        help_heading = "Credentials",
        long = "header",
        short = 'H',
        value_name = "'K: V'"
    )]
    pub headers: Vec<String>,
    /// Client certificate to present: PEM (chain, leaf first), or PKCS#12 (.p12/.pfx)
    /// holding the key too.
    #[arg(help_heading = "mTLS", long, value_name = "PEM|P12")]
    pub client_cert: Option<PathBuf>,
    /// Private key of --client-cert (PEM: PKCS#8, encrypted PKCS#8, PKCS#1 or SEC1); not
    /// with PKCS#12, nor when the PEM certificate file holds the key.
    #[arg(
        help_heading = "mTLS",
        long,
        value_name = "PEM",
        requires = "client_cert"
    )]
    pub client_key: Option<PathBuf>,
    /// Passphrase of encrypted keys and PKCS#12 files (all certificate options share it).
    #[arg(
        help_heading = "mTLS",
        long,
        env = "AUTHPROBE_CLIENT_KEY_PASS",
        hide_env_values = true,
        value_name = "PASS"
    )]
    pub client_key_pass: Option<String>,
    /// A second certificate of the same user (e.g. another device): its token must be
    /// refused over it (mtls.token_not_bound). PEM or PKCS#12, as --client-cert.
    #[arg(help_heading = "mTLS", long, value_name = "PEM|P12")]
    pub client_cert2: Option<PathBuf>,
    /// Private key of --client-cert2.
    #[arg(
        help_heading = "mTLS",
        long,
        value_name = "PEM",
        requires = "client_cert2"
    )]
    pub client_key2: Option<PathBuf>,
    /// A client certificate your CA has revoked (mtls.revoked_cert_accepted). PEM or
    /// PKCS#12, as --client-cert.
    #[arg(help_heading = "mTLS", long, value_name = "PEM|P12")]
    pub revoked_cert: Option<PathBuf>,
    /// Private key of --revoked-cert.
    #[arg(
        help_heading = "mTLS",
        long,
        value_name = "PEM",
        requires = "revoked_cert"
    )]
    pub revoked_key: Option<PathBuf>,
    /// A test CA certificate able to mint client certificates (staging, the lab).
    #[arg(
        help_heading = "mTLS",
        long,
        value_name = "PEM",
        requires = "client_ca_key"
    )]
    pub client_ca_cert: Option<PathBuf>,
    /// The key of --client-ca-cert.
    #[arg(
        help_heading = "mTLS",
        long,
        value_name = "PEM",
        requires = "client_ca_cert"
    )]
    pub client_ca_key: Option<PathBuf>,
    /// Trust this CA (PEM) for the server certificate instead of the system store.
    #[arg(help_heading = "Target", long, value_name = "PEM")]
    pub server_ca: Option<PathBuf>,
    /// Do not verify the server certificate (credentials may then reach an impostor).
    #[arg(help_heading = "Target", long, conflicts_with = "server_ca")]
    pub insecure: bool,
    /// Send every request through this proxy: http://, https://, socks5:// or socks5h://
    /// (e.g. Burp or ZAP at http://127.0.0.1:8080); `env` takes it from HTTPS_PROXY,
    /// HTTP_PROXY, ALL_PROXY and NO_PROXY, which are ignored otherwise. The TLS prober and
    /// client-auth discovery open their own connections and are skipped.
    #[arg(long, value_name = "URL|env")]
    pub proxy: Option<String>,
    /// Also trust this CA (PEM) for the server certificate: an intercepting proxy's.
    #[arg(long, value_name = "PEM", requires = "proxy")]
    pub proxy_ca: Option<PathBuf>,
    /// The plain-HTTP URL of the same resource, when not http:// on port 80 of the host.
    #[arg(help_heading = "Target", long, value_name = "URL")]
    pub http_url: Option<String>,
    /// The same resource at the application's own address behind the TLS proxy.
    #[arg(help_heading = "Target", long, value_name = "URL")]
    pub origin: Option<String>,
    /// Where the --basic pair is used (a login or token endpoint answering GET), when it
    /// is not the target URL.
    #[arg(help_heading = "Basic", long, value_name = "URL")]
    pub basic_url: Option<String>,
    /// Extra USER:PASSWORD pairs (one per line, # comments) for basic.default_credentials.
    #[arg(help_heading = "Basic", long, value_name = "FILE")]
    pub basic_wordlist: Option<PathBuf>,
    #[command(flatten)]
    pub jwt: JwtArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

const SCAN_EXAMPLES: &str = "\
Examples:
  # A bearer-protected API (the token from the environment keeps it out of shell history)
  AUTHPROBE_BEARER=eyJ... authprobe scan https://api.example.com/v1/me

  # Mutual TLS with a private CA, gating CI on high findings and writing SARIF
  authprobe scan https://api.internal/v1/me --client-cert me.pem --client-key me.key \\
      --server-ca ca.pem --fail-on high -o authprobe.sarif

  # HTTP Basic at a login endpoint, gentle on the server
  authprobe scan https://api.example.com/v1/me --basic alice:s3cret \\
      --basic-url https://api.example.com/login --rate 5 --timeout 5s

  # The built-in lab in two terminals
  authprobe lab --profile vulnerable --ready-file ready.json
  authprobe scan --lab ready.json -o report.html

Exit codes: 0 scan done and gates pass · 1 a gate (--fail-on, --min-score,
--fail-on-inconclusive) failed · 2 usage, connection or target error.";

#[derive(Args, Clone)]
pub struct JwtArgs {
    /// The token's HMAC secret, if known (mints tokens for the exp/nbf/aud/iss checks).
    #[arg(
        help_heading = "JWT",
        long,
        env = "AUTHPROBE_JWT_SECRET",
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,
    /// The token's private signing key (PEM), if known.
    #[arg(help_heading = "JWT", long, value_name = "PEM")]
    pub jwt_key: Option<PathBuf>,
    /// The server's public key (PEM), for jwt.key_confusion when no JWKS is served.
    #[arg(help_heading = "JWT", long, value_name = "PEM")]
    pub jwt_public_key: Option<PathBuf>,
    /// A genuinely issued token whose exp has passed (for jwt.expired_accepted without a key).
    #[arg(
        help_heading = "JWT",
        long,
        env = "AUTHPROBE_EXPIRED_TOKEN",
        hide_env_values = true
    )]
    pub expired_token: Option<String>,
    /// A genuinely issued token for another audience (for jwt.audience_not_checked).
    #[arg(
        help_heading = "JWT",
        long,
        env = "AUTHPROBE_ALT_TOKEN",
        hide_env_values = true
    )]
    pub alt_token: Option<String>,
    /// A URL the target can reach that forwards to this machine's 127.0.0.1:PORT (PORT
    /// from the URL), for jwt.jku_injection against remote targets.
    #[arg(help_heading = "JWT", long, value_name = "URL")]
    pub callback_url: Option<String>,
    /// Extra candidate secrets for jwt.weak_hmac_secret (repeatable; gzip detected).
    #[arg(help_heading = "JWT", long, value_name = "FILE")]
    pub wordlist: Vec<PathBuf>,
    /// Time the scan may spend cracking an HS* token, e.g. 30s (at most 1h and --max-time;
    /// default 10s, or --max-time when shorter).
    #[arg(help_heading = "JWT", long, value_parser = crack_time)]
    pub crack_time: Option<Duration>,
    /// Longest acceptable token lifetime for jwt.long_lifetime, e.g. 24h.
    #[arg(help_heading = "JWT", long, default_value = "24h", value_parser = token_lifetime)]
    pub max_token_lifetime: Duration,
}

/// A duration from the command line within `[min, max]`, or a one-line reason. A bare
/// number is seconds (`1.5`), as `--timeout` always took; otherwise humantime (`10s`, `2h`).
fn duration_in(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let d = parse_duration(s)?;
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

fn parse_duration(s: &str) -> Result<Duration, String> {
    Ok(match s.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => {
            // Past `max` in any case: the range message below says so, not an overflow.
            Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
        }
        Ok(_) => return Err("must be a duration, e.g. 30s, 10m, 2h".into()),
        Err(_) => humantime::parse_duration(s).map_err(|e| format!("{e} (e.g. 30s, 10m, 2h)"))?,
    })
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
pub const DAY: Duration = Duration::from_secs(24 * 3600);
/// A year as humantime counts it (365.25 days), so limits print as `1year`, `100years`.
const YEAR: Duration = Duration::from_secs(31_557_600);

/// Kept in the message: scripts and the hostile tests match `--timeout must be between`.
fn timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_millis(1) || d > 10 * MINUTE {
        return Err("--timeout must be between 1ms and 10m".into());
    }
    Ok(d)
}

fn benchmark_time(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::from_millis(1), 10 * MINUTE)
}

/// `--fail-on`'s values, listed by clap in help, errors and completions; the library's
/// [`Severity`] stays free of the argument parser.
fn severity() -> impl clap::builder::TypedValueParser<Value = Severity> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["critical", "high", "medium", "low", "info"])
        .try_map(|s| s.parse::<Severity>())
}

fn lab_latency(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::ZERO, Duration::from_secs(10))
}

fn retry_backoff(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::from_millis(100), HOUR)
}

fn grace(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::ZERO, DAY)
}

fn host_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 0.1 => Ok(r),
        _ => Err("must be a number of requests per second, at least 0.1".into()),
    }
}

fn scan_max_time(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::from_secs(1), DAY)
}

fn crack_time(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::ZERO, HOUR)
}

fn crack_max_time(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::ZERO, YEAR)
}

fn webhook_retry_base(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::from_millis(100), HOUR)
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
    if r > 0.0 && r < authprobe::http::MIN_RATE {
        return Err(format!(
            "is below the minimum of {} requests per second (one every {} s); 0 means unlimited",
            authprobe::http::MIN_RATE,
            1.0 / authprobe::http::MIN_RATE
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

#[derive(Args)]
pub struct LabArgs {
    /// hardened: no flaw; vulnerable: every flaw but the two that hide others
    /// (auth.token_optional_with_cert, mtls.not_required: add them with --flaw).
    #[arg(long, default_value = "hardened", value_parser = ["hardened", "vulnerable"])]
    pub profile: String,
    /// Switch on the flaw behind catalog check ID (repeatable).
    #[arg(long = "flaw", value_name = "ID")]
    pub flaws: Vec<String>,
    /// Behave like a real framework in one respect (repeatable): cert-only,
    /// unknown-user-401, errors-200, status-403-missing, status-422-malformed, token-first.
    #[arg(long = "mode", value_name = "NAME")]
    pub modes: Vec<String>,
    /// Also serve the application on a plain-HTTP origin (origin_url) that trusts the
    /// client certificate in X-SSL-Client-Cert, as behind nginx; for putting a real TLS
    /// terminator in front of the lab.
    #[arg(long)]
    pub origin: bool,
    /// Leave the API operation OPID (an operationId of /openapi.json) unenforced whatever
    /// the flaws: it answers any request, credentials or not (repeatable; listed in the
    /// ready JSON's unenforced_operations).
    #[arg(long = "open-operation", value_name = "OPID")]
    pub open_operations: Vec<String>,
    /// Add N operations GET /api/v1/gen/{n} (operationIds gen0..) to the API and its
    /// descriptions, enforced like the rest: for benchmarks on a large API.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub generated_operations: usize,
    /// Answer every request after this long, as a real API over a network would (e.g.
    /// 50ms): benchmarks and load tests then see requests overlap as they would there.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = lab_latency)]
    pub latency: Duration,
    /// Write the ready JSON to PATH instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct TlsArgs {
    /// HOST:PORT (port 443 when omitted), [IPv6]:PORT, or an https:// URL.
    pub target: String,
    /// Server name to send (SNI) and to check the certificate for; defaults to HOST
    /// unless HOST is an IP address.
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// Trust this CA (PEM) for the server certificate instead of the system store.
    #[arg(long, value_name = "PEM")]
    pub server_ca: Option<PathBuf>,
    /// TLS connections in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Time allowed for each connect, and for each server answer, e.g. 5s (a bare number
    /// is seconds; at most 10m).
    #[arg(long, default_value = "5s", value_parser = timeout)]
    pub timeout: Duration,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct ChecksArgs {
    #[arg(long, value_enum, default_value = "pretty")]
    pub format: CatalogFormat,
}

/// How `authprobe checks` prints the catalog.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum CatalogFormat {
    Pretty,
    Json,
    /// The README's table of checks.
    Markdown,
}
