//! The scan engine: takes the baselines the oracle needs, runs every applicable check
//! concurrently under the HTTP layer's limits, and assembles the report. It knows no check
//! by name.

mod evidence;
pub mod preflight;

use crate::checks::{self, Check, Need, Outcome, Phase};
use crate::finding::Finding;
use crate::http::{ClientIdentity, Exchange, Http, Limits, Probe, SendError, TlsSettings, Value};
use crate::oracle::{Class, Oracle, Sample};
use crate::report::{Report, Skipped};
use base64::Engine as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};
use thiserror::Error;
use url::Url;

pub use evidence::curl_line;

/// What the user gave us to authenticate with.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub bearer: Option<String>,
    pub basic: Option<(String, String)>,
    /// `--header` pairs, sent on every request.
    pub headers: Vec<(String, String)>,
    pub client: Option<Arc<ClientIdentity>>,
    /// `--client-cert2/--client-key2`: a second certificate of the same user (another
    /// device), over which the user's token must be refused (`mtls.token_not_bound`).
    pub client2: Option<Arc<ClientIdentity>>,
    /// `--revoked-cert/--revoked-key`: a certificate the CA has revoked.
    pub revoked: Option<Arc<ClientIdentity>>,
    pub client_ca: Option<(PathBuf, PathBuf)>,
    /// Other secrets given for the JWT checks (expired or alternate tokens, the HMAC
    /// secret), redacted like the rest.
    pub extra_secrets: Vec<String>,
}

impl Credentials {
    pub fn has_app_credentials(&self) -> bool {
        self.bearer.is_some() || self.basic.is_some()
    }

    pub fn has_any(&self) -> bool {
        self.has_app_credentials() || self.client.is_some()
    }

    /// Every secret string that must never appear in output unless the user asks.
    pub fn secrets(&self) -> Vec<String> {
        let mut s = Vec::new();
        if let Some(t) = &self.bearer {
            s.push(t.clone());
            // A server that echoes a tampered or truncated token (checks send both) would
            // otherwise show most of the signature.
            let cut = t.len().saturating_sub(10);
            if cut >= 16 && t.is_char_boundary(cut) {
                s.push(t[..cut].to_string());
            }
        }
        if let Some((u, p)) = &self.basic {
            s.push(base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}")));
            s.push(p.clone());
        }
        for (name, value) in &self.headers {
            if is_secret_header(name) {
                s.push(value.clone());
            }
        }
        if let Some(sig) = self
            .bearer
            .as_deref()
            .and_then(|t| t.rsplit_once('.'))
            .map(|(_, s)| s)
            && sig.len() >= 16
        {
            // The signature alone, with the claims one can read in a forged token, would
            // rebuild the credential.
            s.push(sig.to_string());
        }
        s.extend(self.extra_secrets.iter().cloned());
        s.retain(|v| v.len() >= 4);
        s
    }
}

/// Headers whose values are credentials by convention.
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "auth", "token", "key", "secret", "cookie", "session", "password",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// What the JWT checks may use beyond the bearer token.
#[derive(Clone, Debug, Default)]
pub struct JwtOptions {
    /// `--jwt-secret`: the HMAC secret.
    pub secret: Option<String>,
    /// `--jwt-key`: a private signing key (PEM).
    pub key: Option<PathBuf>,
    /// `--jwt-public-key`: the server's public key (PEM), for key confusion.
    pub public_key: Option<PathBuf>,
    /// `--expired-token`: a genuinely issued token whose `exp` has passed.
    pub expired_token: Option<String>,
    /// `--alt-token`: a genuinely issued token for another audience.
    pub alt_token: Option<String>,
    /// `--callback-url`: a URL the target can reach that serves what the scanner's jku
    /// listener serves (for targets off this machine).
    pub callback_url: Option<Url>,
    /// `--wordlist`: extra candidate secrets for the HMAC cracker.
    pub wordlists: Vec<PathBuf>,
    /// `--crack-time`.
    pub crack_time: std::time::Duration,
    /// `--max-token-lifetime`, seconds.
    pub max_lifetime: u64,
}

impl JwtOptions {
    pub fn defaults() -> Self {
        Self {
            crack_time: std::time::Duration::from_secs(10),
            max_lifetime: 24 * 3600,
            ..Self::default()
        }
    }
}

/// How far the HTTP Basic checks may go.
#[derive(Clone, Debug)]
pub struct BasicOptions {
    /// Where the `--basic` pair is used (a login or token endpoint, GET), when not the
    /// target itself.
    pub url: Option<Url>,
    /// Failed logins `basic.no_lockout` sends for the user's own account.
    pub lockout_attempts: usize,
    /// Extra USER:PASSWORD pairs for `basic.default_credentials`.
    pub wordlist: Vec<(String, String)>,
    /// Whether the user's real Basic pair may be sent to the plain-HTTP URL to confirm
    /// `basic.cleartext` (off by default: that request is itself a leak).
    pub allow_cleartext: bool,
}

impl Default for BasicOptions {
    fn default() -> Self {
        Self {
            url: None,
            lockout_attempts: 20,
            wordlist: Vec::new(),
            allow_cleartext: false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub target: Url,
    pub http_url: Option<Url>,
    pub origin: Option<Url>,
    pub creds: Credentials,
    pub limits: Limits,
    pub tls: TlsSettings,
    pub show_secrets: bool,
    pub allow_unsafe_methods: bool,
    /// `--checks`: run only these (ids, or family names such as `jwt`); empty = all.
    pub only: Vec<String>,
    pub jwt: JwtOptions,
    pub basic: BasicOptions,
}

/// Answers to the reference requests, each taken twice.
pub struct Baseline {
    pub class: Class,
    pub exchanges: Vec<Exchange>,
}

pub struct Baselines {
    /// With every credential the user gave.
    pub authorized: Option<Baseline>,
    /// With no credential at all (no certificate either).
    pub anonymous: Baseline,
    /// The client certificate only, no application credential.
    pub transport_only: Option<Baseline>,
    /// The certificate (if any) with the token's signature or the Basic password altered,
    /// or an obviously invalid bearer when the user gave no credential at all. None for a
    /// certificate-only API: there is no application credential to spoil.
    pub invalid: Option<Baseline>,
    /// The application credential without the client certificate (when both were given).
    pub app_without_cert: Option<Baseline>,
}

/// What a probe changed in the user's authorized request: the one thing it tests
/// (DESIGN.md principle 3). Each names the refused baselines a probe of that kind is told
/// apart from, so that a check cannot compare a probe with a baseline that differs from it
/// in something else than the thing tested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// The application credential (token, Basic pair) replaced by the probe's value; the
    /// client certificate, if any, kept.
    AppCredentialSwapped,
    /// The application credential removed; the client certificate kept. With no
    /// application credential (a certificate-only API) every credential is removed.
    /// Build the probe with [`Ctx::unauthenticated_probe`].
    AppCredentialRemoved,
    /// The anonymous baseline itself (no credential at all, no certificate), judged
    /// against the other refusals.
    Anonymous,
    /// The client certificate replaced; the application credential kept.
    CertSwapped,
    /// The client certificate removed; the application credential kept.
    CertRemoved,
    /// The client certificate alone (the application credential removed), judged as
    /// possibly enough by itself: against no credential, a spoiled application
    /// credential and the application credential without the certificate.
    CertAlone,
}

/// A probe, what it was, and the oracle's verdict on its answer: the one shape every
/// check's trials take.
pub struct Trial {
    pub label: String,
    pub exchange: Exchange,
    pub verdict: crate::oracle::Verdict,
}

impl Trial {
    pub fn accepted(&self) -> bool {
        matches!(self.verdict, crate::oracle::Verdict::Accepted { .. })
    }
}

/// A check id and the root cause that explains it, declared in check metadata.
pub fn explained_reason(root: &checks::CheckMeta) -> String {
    format!("explained by {}: {}", root.id, root.title.to_lowercase())
}

#[derive(Debug, Error)]
pub enum ScanError {
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    Invalid(String),
    /// The authorized baseline is not a success, or not apart from the refusals: every
    /// verdict would compare refusals with refusals, so the scan stops.
    #[error("{0}")]
    CredentialsRefused(String),
}

/// Everything a check may use.
pub struct Ctx {
    pub opts: ScanOptions,
    pub http: Http,
    pub baselines: Baselines,
    /// Facts checks compute once and share (a recovered key, a root cause); the engine
    /// only holds them.
    pub shared: checks::Shared,
}

pub const BEARER_VAR: &str = "AUTHPROBE_BEARER";
pub const BASIC_VAR: &str = "AUTHPROBE_BASIC";

impl Ctx {
    /// A GET to the target with the user's plain headers and nothing else.
    pub fn bare(&self, method: &str) -> Probe {
        bare_probe(&self.opts, method)
    }

    /// The target with only the transport credential (client certificate) if any.
    pub fn transport_probe(&self, method: &str) -> Probe {
        self.bare(method)
            .with_identity(self.opts.creds.client.clone())
    }

    pub fn authorized_probe(&self, method: &str) -> Probe {
        authorized_probe(&self.opts, method)
    }

    pub fn bearer_value(&self) -> Option<Value> {
        self.opts.creds.bearer.as_deref().map(bearer_value)
    }

    pub fn authorized_class(&self) -> Option<&Class> {
        self.baselines.authorized.as_ref().map(|b| &b.class)
    }

    /// A certificate was given and no token or Basic pair: the certificate is the
    /// credential, and bearer probes have nothing to test.
    pub fn cert_only(&self) -> bool {
        self.opts.creds.client.is_some() && !self.opts.creds.has_app_credentials()
    }

    /// The request without its application credential: the certificate kept when there
    /// is an application credential to remove, else nothing at all (for a
    /// certificate-only API the certificate *is* the credential).
    pub fn unauthenticated_probe(&self, method: &str) -> Probe {
        if self.opts.creds.has_app_credentials() {
            self.transport_probe(method)
        } else {
            self.bare(method)
        }
    }

    /// The baseline an unauthenticated probe of the same method is compared with.
    pub fn unauthenticated_baseline(&self) -> &Baseline {
        let b = &self.baselines;
        match (&b.transport_only, self.opts.creds.has_app_credentials()) {
            (Some(t), true) => t,
            _ => &b.anonymous,
        }
    }

    /// The oracle for probes of kind `cmp`: the authorized answer as the only success,
    /// and the refused baselines that differ from such a probe only in what it tests. A
    /// probe that is itself a refusal is rejected even where the oracle cannot accept.
    pub fn oracle(&self, cmp: Compare) -> Oracle<'_> {
        let b = &self.baselines;
        let refused: Vec<Option<&Baseline>> = match cmp {
            Compare::AppCredentialSwapped | Compare::AppCredentialRemoved => {
                vec![b.invalid.as_ref(), Some(self.unauthenticated_baseline())]
            }
            Compare::Anonymous => vec![
                b.invalid.as_ref(),
                b.transport_only.as_ref(),
                b.app_without_cert.as_ref(),
            ],
            Compare::CertSwapped => vec![
                Some(&b.anonymous),
                b.invalid.as_ref(),
                b.transport_only.as_ref(),
                b.app_without_cert.as_ref(),
            ],
            Compare::CertRemoved => vec![
                Some(&b.anonymous),
                b.invalid.as_ref(),
                b.transport_only.as_ref(),
            ],
            Compare::CertAlone => vec![
                Some(&b.anonymous),
                b.invalid.as_ref(),
                b.app_without_cert.as_ref(),
            ],
        };
        let refused = refused.into_iter().flatten().map(|b| &b.class).collect();
        Oracle::new(self.authorized_class(), refused)
    }

    /// [`Ctx::oracle`], when it can decide at all; `Err` says why not (the check is then
    /// inconclusive).
    pub fn judge(&self, cmp: Compare) -> Result<Oracle<'_>, String> {
        let o = self.oracle(cmp);
        o.usable()?;
        Ok(o)
    }

    /// Sends a probe; `Err` carries the reason the check should be inconclusive. A probe
    /// that got no answer (not even a refusal) is noted against the running check, which
    /// then cannot pass (see `run_one`).
    pub async fn send(&self, probe: Probe) -> Result<Exchange, String> {
        let r = self.http.exchange(probe).await.map_err(|e| match e {
            SendError::Budget(n) => format!("request budget of {n} exhausted (--max-requests)"),
            other => other.to_string(),
        });
        let failure = match &r {
            Ok(x) => x
                .result
                .as_ref()
                .err()
                .filter(|e| !e.is_refusal())
                .map(|e| e.to_string()),
            Err(e) => Some(e.clone()),
        };
        if let Some(f) = failure {
            let _ = UNANSWERED.try_with(|u| u.note(f));
        }
        r
    }

    pub fn evidence(&self, x: &Exchange) -> crate::finding::Evidence {
        evidence::evidence(x, &self.opts.tls, self.opts.show_secrets)
    }

    pub fn sample(x: &Exchange) -> Sample {
        Sample::from_exchange(x)
    }
}

fn bare_probe(opts: &ScanOptions, method: &str) -> Probe {
    let mut p = Probe::new(method, opts.target.clone());
    for (name, value) in &opts.creds.headers {
        let v = if is_secret_header(name) {
            Value::from_segs(vec![crate::http::Seg::Secret {
                expr: format!("${{AUTHPROBE_HEADER_{}}}", env_name(name)),
                raw: value.clone(),
            }])
        } else {
            Value::lit(value.clone())
        };
        p = p.header(name, v);
    }
    p
}

fn env_name(header: &str) -> String {
    header
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

pub fn bearer_value(token: &str) -> Value {
    Value::prefixed_secret("Bearer ", &format!("${{{BEARER_VAR}}}"), token)
}

/// `Basic base64(user:pass)` with the pair shown as `${AUTHPROBE_BASIC}`.
pub fn basic_value(user: &str, pass: &str) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    Value::prefixed_secret(
        "Basic ",
        &format!("$(printf %s \"${{{BASIC_VAR}}}\" | base64 -w0)"),
        &b64,
    )
}

fn authorized_probe(opts: &ScanOptions, method: &str) -> Probe {
    let mut p = bare_probe(opts, method).with_identity(opts.creds.client.clone());
    if let Some(t) = &opts.creds.bearer {
        p = p.header("Authorization", bearer_value(t));
    } else if let Some((u, pw)) = &opts.creds.basic {
        p = p.header("Authorization", basic_value(u, pw));
    }
    p
}

/// The user's token with its last five characters replaced: same shape, broken signature.
/// Five base64url characters carry at least 26 bits of the signature, so the bytes change.
pub fn tampered_token_value(token: &str) -> Value {
    let keep = token.len().saturating_sub(5);
    let tail: String = token[keep..]
        .chars()
        .map(|c| if c.is_ascii_uppercase() { 'z' } else { 'A' })
        .collect();
    Value::from_segs(vec![
        crate::http::Seg::Lit("Bearer ".into()),
        crate::http::Seg::Secret {
            expr: format!("${{{BEARER_VAR}%?????}}"),
            raw: token[..keep].to_string(),
        },
        crate::http::Seg::Lit(tail),
    ])
}

fn invalid_probe(opts: &ScanOptions) -> Option<Probe> {
    if opts.creds.client.is_some() && !opts.creds.has_app_credentials() {
        return None;
    }
    let p = bare_probe(opts, "GET").with_identity(opts.creds.client.clone());
    if let Some(t) = &opts.creds.bearer {
        if !t.is_char_boundary(t.len().saturating_sub(5)) {
            return None;
        }
        Some(p.header("Authorization", tampered_token_value(t)))
    } else if opts.creds.basic.is_none() {
        // No credential to spoil: an obviously invalid bearer still shows how the server
        // refuses, which is the contrast the oracle needs.
        Some(p.header(
            "Authorization",
            Value::lit("Bearer authprobe.invalid.token"),
        ))
    } else {
        opts.creds.basic.as_ref().map(|(u, pw)| {
            let b64 = base64::engine::general_purpose::STANDARD
                .encode(format!("{u}:{pw}-authprobe-wrong"));
            p.header(
                "Authorization",
                Value::prefixed_secret(
                    "Basic ",
                    &format!("$(printf %s \"${{{BASIC_VAR}}}-authprobe-wrong\" | base64 -w0)"),
                    &b64,
                ),
            )
        })
    }
}

async fn take_baseline(http: &Http, label: &str, probe: Probe) -> Result<Baseline, ScanError> {
    let (a, b) = tokio::join!(http.exchange(probe.clone()), http.exchange(probe));
    let exchanges = vec![
        a.map_err(|e| ScanError::Invalid(e.to_string()))?,
        b.map_err(|e| ScanError::Invalid(e.to_string()))?,
    ];
    let class = Class::new(label, exchanges.iter().map(Sample::from_exchange).collect());
    Ok(Baseline { class, exchanges })
}

/// How long a probe may wait for its answer: ten times the slowest baseline answer, at
/// least 2 s (and never beyond `--timeout`). A server that decodes a token it cannot
/// parse into an exception it never answers would otherwise hold the scan for the whole
/// `--timeout` on every such probe; the check then says the probe got no answer.
fn answer_timeout(b: &Baselines) -> std::time::Duration {
    let slowest = [
        b.authorized.as_ref(),
        Some(&b.anonymous),
        b.transport_only.as_ref(),
        b.invalid.as_ref(),
        b.app_without_cert.as_ref(),
    ]
    .into_iter()
    .flatten()
    .flat_map(|b| b.exchanges.iter())
    .filter_map(|x| x.answer().map(|a| a.elapsed))
    .max()
    .unwrap_or_default();
    (slowest * 10).max(std::time::Duration::from_secs(2))
}

/// Whether `id` is chosen by `--checks` (an id, a family name, or `family.*`).
pub fn selected(only: &[String], id: &str) -> bool {
    only.is_empty()
        || only.iter().any(|p| {
            let p = p.trim().trim_end_matches(".*");
            id == p || id.split('.').next() == Some(p)
        })
}

/// Progress counters the CLI may draw while the scan runs.
#[derive(Default)]
pub struct Progress {
    pub checks_total: AtomicUsize,
    pub checks_done: AtomicUsize,
}

pub fn needs_missing(meta_needs: &[Need], opts: &ScanOptions) -> Option<String> {
    fn met(n: &Need, opts: &ScanOptions) -> bool {
        match n {
            Need::Token => opts.creds.bearer.is_some(),
            Need::Basic => opts.creds.basic.is_some(),
            Need::Cert => opts.creds.client.is_some(),
            Need::CaKey => opts.creds.client_ca.is_some(),
            Need::Https => opts.target.scheme() == "https",
            Need::AnyOf(alts) => alts.iter().any(|a| met(a, opts)),
        }
    }
    meta_needs
        .iter()
        .find(|n| !met(n, opts))
        .map(|n| n.describe().into_owned())
}

/// Probes of the running check that got no answer: a transport error is not a refusal,
/// so a check that met one cannot claim the flaw is absent.
#[derive(Default)]
struct Unanswered {
    count: AtomicUsize,
    first: std::sync::Mutex<Option<String>>,
}

impl Unanswered {
    fn note(&self, e: String) {
        self.count.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut f) = self.first.lock()
            && f.is_none()
        {
            *f = Some(e);
        }
    }
}

tokio::task_local! {
    static UNANSWERED: Arc<Unanswered>;
}

/// The "explained by" reason when one of `meta`'s declared root causes was found.
fn explained(
    meta: &checks::CheckMeta,
    done: &[(&'static checks::CheckMeta, Outcome)],
) -> Option<String> {
    meta.explained_by.iter().find_map(|root| {
        done.iter()
            .find(|(m, o)| m.id == *root && matches!(o, Outcome::Found(_)))
            .map(|(m, _)| explained_reason(m))
    })
}

async fn run_one(
    check: &dyn Check,
    ctx: &Ctx,
    progress: &Progress,
) -> (&'static checks::CheckMeta, Outcome) {
    let unanswered = Arc::new(Unanswered::default());
    let mut out = UNANSWERED.scope(unanswered.clone(), check.run(ctx)).await;
    let n = unanswered.count.load(Ordering::Relaxed);
    if n > 0 && matches!(out, Outcome::Pass) {
        let first = unanswered
            .first
            .lock()
            .ok()
            .and_then(|f| f.clone())
            .unwrap_or_default();
        out = Outcome::Inconclusive(format!(
            "{n} probe{} got no answer, so the flaw cannot be ruled out: {first}",
            if n == 1 { "" } else { "s" }
        ));
    }
    progress.checks_done.fetch_add(1, Ordering::Relaxed);
    (check.meta(), out)
}

pub async fn scan(opts: ScanOptions, progress: Arc<Progress>) -> Result<(Report, Ctx), ScanError> {
    let registry = checks::registry()
        .into_iter()
        .filter(|c| selected(&opts.only, c.meta().id))
        .collect();
    scan_with(opts, registry, progress).await
}

pub async fn scan_with(
    opts: ScanOptions,
    registry: Vec<Box<dyn Check>>,
    progress: Arc<Progress>,
) -> Result<(Report, Ctx), ScanError> {
    let started_at = SystemTime::now();
    let clock = Instant::now();
    let http = Http::new(opts.limits.clone(), opts.tls.clone());

    let authorized = opts.creds.has_any().then(|| authorized_probe(&opts, "GET"));
    let transport_only = (opts.creds.client.is_some() && opts.creds.has_app_credentials())
        .then(|| bare_probe(&opts, "GET").with_identity(opts.creds.client.clone()));
    let app_without_cert = (opts.creds.client.is_some() && opts.creds.has_app_credentials())
        .then(|| authorized_probe(&opts, "GET").with_identity(None));
    let invalid = invalid_probe(&opts);

    let optional = |p: Option<Probe>, label: &'static str| {
        let http = &http;
        async move {
            match p {
                Some(p) => take_baseline(http, label, p).await.map(Some),
                None => Ok(None),
            }
        }
    };
    let (authorized, anonymous, transport_only, invalid, app_without_cert) = tokio::join!(
        optional(authorized, "authorized"),
        take_baseline(&http, "anonymous", bare_probe(&opts, "GET")),
        optional(transport_only, "certificate without token"),
        optional(invalid, "invalid credentials"),
        optional(app_without_cert, "credentials without a certificate"),
    );
    let baselines = Baselines {
        authorized: authorized?,
        anonymous: anonymous?,
        transport_only: transport_only?,
        invalid: invalid?,
        app_without_cert: app_without_cert?,
    };
    // If the authorized request cannot even be delivered, nothing else means anything.
    let reference = baselines
        .authorized
        .as_ref()
        .unwrap_or(&baselines.anonymous);
    if reference
        .exchanges
        .iter()
        .all(|x| x.result.as_ref().is_err_and(|e| !e.is_refusal()))
    {
        let err = reference.exchanges[0]
            .result
            .as_ref()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let hint = if err.contains("certificate") || err.contains("UnknownIssuer") {
            " (use --server-ca PEM to trust the server's CA, or --insecure)"
        } else {
            ""
        };
        return Err(ScanError::Unreachable(format!(
            "cannot reach {}: {err}{hint}",
            opts.target
        )));
    }
    preflight::check(&opts, &baselines)?;
    http.set_answer_timeout(answer_timeout(&baselines));

    let ctx = Ctx {
        opts,
        http,
        baselines,
        shared: checks::Shared::default(),
    };

    let mut runnable = Vec::new();
    let mut skipped = Vec::new();
    for check in &registry {
        let meta = check.meta();
        match needs_missing(meta.needs, &ctx.opts) {
            Some(reason) => skipped.push(Skipped {
                id: meta.id.to_string(),
                reason,
            }),
            None => runnable.push(check),
        }
    }
    progress
        .checks_total
        .store(runnable.len(), Ordering::Relaxed);
    let (last, concurrent): (Vec<_>, Vec<_>) =
        runnable.into_iter().partition(|c| c.phase() == Phase::Last);
    // Root causes run before the checks they explain (CheckMeta::explained_by), wave by
    // wave; a check whose root was found is not run: its result is implied.
    let mut outcomes: Vec<(&'static checks::CheckMeta, Outcome)> = Vec::new();
    let mut pending: Vec<&dyn Check> = concurrent.into_iter().map(|c| c.as_ref()).collect();
    while !pending.is_empty() {
        let waiting_on = |c: &dyn Check| {
            c.meta()
                .explained_by
                .iter()
                .any(|root| pending.iter().any(|p| p.meta().id == *root))
        };
        let (ready, later): (Vec<&dyn Check>, Vec<&dyn Check>) =
            pending.iter().partition(|c| !waiting_on(**c));
        // A cycle in the declarations would leave nothing ready: run the rest as they are.
        let (ready, later) = if ready.is_empty() {
            (later, Vec::new())
        } else {
            (ready, later)
        };
        let mut wave = Vec::new();
        for c in ready {
            match explained(c.meta(), &outcomes) {
                Some(reason) => {
                    progress.checks_done.fetch_add(1, Ordering::Relaxed);
                    outcomes.push((c.meta(), Outcome::Inconclusive(reason)));
                }
                None => wave.push(c),
            }
        }
        outcomes.extend(
            futures::future::join_all(wave.into_iter().map(|c| run_one(c, &ctx, &progress))).await,
        );
        pending = later;
    }
    // Checks that change the server's state for the user's account run after every
    // other check, one at a time, so a throttle they trip cannot disturb anyone.
    for c in last {
        match explained(c.meta(), &outcomes) {
            Some(reason) => outcomes.push((c.meta(), Outcome::Inconclusive(reason))),
            None => outcomes.push(run_one(c.as_ref(), &ctx, &progress).await),
        }
    }

    let mut findings: Vec<Finding> = Vec::new();
    let mut checks_run = Vec::new();
    let mut inconclusive = Vec::new();
    for (meta, out) in outcomes {
        match out {
            Outcome::Pass => checks_run.push(meta),
            Outcome::Found(f) => {
                checks_run.push(meta);
                findings.push(*f);
            }
            Outcome::Inconclusive(reason) => {
                checks_run.push(meta);
                inconclusive.push(Skipped {
                    id: meta.id.to_string(),
                    reason,
                });
            }
            Outcome::NotApplicable(reason) => skipped.push(Skipped {
                id: meta.id.to_string(),
                reason,
            }),
        }
    }
    let report = Report::assemble(
        &ctx,
        started_at,
        clock.elapsed(),
        findings,
        checks_run,
        skipped,
        inconclusive,
    );
    Ok((report, ctx))
}
