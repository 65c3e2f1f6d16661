//! The scanner's HTTP client: one place that enforces the safety contract of DESIGN.md
//! (request budget, per-host concurrency and rate, timeouts, body cap, no redirects) and
//! records every exchange so a finding can show the request that proves it.

mod tls;
mod value;

pub use tls::{AcceptAny, ClientIdentity, KeyForm, TlsSettings};
pub use value::{Seg, Value};

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::{Mutex, Semaphore};
use url::Url;

/// A request a check wants sent. Header values keep their exact bytes for the wire and a
/// redacted, shell-ready form for evidence.
#[derive(Clone, Debug)]
pub struct Probe {
    pub method: String,
    pub url: Url,
    pub headers: Vec<(String, Value)>,
    /// The client certificate to present, if any.
    pub identity: Option<Arc<ClientIdentity>>,
    /// A request body (unsafe methods of a whole-API scan the user opted into).
    pub body: Option<Body>,
}

/// A request body and its media type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Body {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Probe {
    pub fn new(method: &str, url: Url) -> Self {
        Self {
            method: method.to_string(),
            url,
            headers: Vec::new(),
            identity: None,
            body: None,
        }
    }

    pub fn with_body(mut self, body: Option<Body>) -> Self {
        self.body = body;
        self
    }

    pub fn header(mut self, name: &str, value: Value) -> Self {
        self.headers.push((name.to_string(), value));
        self
    }

    pub fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    pub fn with_identity(mut self, identity: Option<Arc<ClientIdentity>>) -> Self {
        self.identity = identity;
        self
    }

    pub fn with_url(mut self, url: Url) -> Self {
        self.url = url;
        self
    }

    pub fn with_method(mut self, method: &str) -> Self {
        self.method = method.to_string();
        self
    }
}

/// What came back over HTTP.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    /// Header names lower-cased, values lossily decoded, in wire order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub truncated: bool,
    pub elapsed: Duration,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why no HTTP answer came back. A refused TLS handshake is an answer of sorts (the server
/// rejected the credentials at the transport), so the oracle treats it as such.
#[derive(Clone, Debug, Error)]
pub enum TransportError {
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    /// The peer ended the handshake with a fatal alert (the text is the whole cause).
    #[error("TLS handshake failed: {0}")]
    TlsAlert(String),
    /// The server's certificate did not verify against the trusted roots.
    #[error("TLS handshake failed: {0}")]
    ServerCertificate(String),
    /// What came back to the ClientHello was not TLS at all (typically a plain-HTTP
    /// `400 Bad Request`): an `https://` URL pointing at a plain-HTTP port.
    #[error("TLS handshake failed: {0}")]
    NotTls(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("request failed: {0}")]
    Other(String),
}

impl TransportError {
    /// The peer refused the TLS handshake with an alert (a client certificate it will not
    /// take): an answer that says "no". Any other transport error says nothing.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::TlsAlert(_))
    }
}

#[derive(Clone, Debug, Error)]
pub enum SendError {
    #[error("request budget of {0} exhausted")]
    Budget(usize),
    /// The scan's time limit passed: nothing more is sent, and what was in flight is cut.
    #[error("scan time limit of {} reached (--max-time)", humantime::format_duration(*.0))]
    Deadline(Duration),
    /// The host timed out this many times in a row: nothing more is sent to it.
    #[error("host {host} stopped answering: {timeouts} consecutive timeouts")]
    HostDown { host: String, timeouts: usize },
    #[error("the request cannot be sent: {0}")]
    Invalid(String),
    /// The target's address is outside the scan scope ([`AddressGuard`]).
    #[error("{0}")]
    OutOfScope(String),
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// One request and what happened to it.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub probe: Probe,
    pub result: Result<Answer, TransportError>,
}

impl Exchange {
    pub fn answer(&self) -> Option<&Answer> {
        self.result.as_ref().ok()
    }
}

/// Which addresses a scan may connect to: the scope of `serve` and `mcp`. Judged on the
/// addresses each connection is then opened to, so a name that resolves somewhere else
/// after the scope was first checked (DNS rebinding) is refused too.
pub trait AddressGuard: Send + Sync + std::fmt::Debug {
    /// `Ok` when `host` (a name, or an address literal) may be reached at every one of
    /// `addrs`; else why not, in words that say how to widen the scope.
    fn allow(&self, host: &str, addrs: &[std::net::IpAddr]) -> Result<(), String>;
}

/// The addresses `host:port` resolves to, each allowed by `guard` when there is one. Every
/// connection the scanner opens itself (the TLS prober, client-auth discovery) resolves
/// through here; the HTTP client through [`GuardedResolver`].
pub async fn resolve(
    host: &str,
    port: u16,
    guard: Option<&Arc<dyn AddressGuard>>,
) -> Result<Vec<std::net::SocketAddr>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if let Some(g) = guard {
        let ips: Vec<std::net::IpAddr> = addrs.iter().map(|a| a.ip()).collect();
        g.allow(host, &ips)?;
    }
    Ok(addrs)
}

/// reqwest's resolver when a guard is set: the addresses it hands the connector are the
/// ones the guard allowed.
struct GuardedResolver(Arc<dyn AddressGuard>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let addrs = resolve(name.as_str(), 0, Some(&guard)).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[derive(Clone, Debug)]
pub struct Limits {
    pub concurrency: usize,
    /// Requests per second per host; 0 means no rate limit.
    pub rate: f64,
    pub max_requests: usize,
    pub timeout: Duration,
    pub max_body: usize,
    /// The whole scan's time limit, counted from [`Http::new`]: once it passes, every
    /// request fails at once with [`SendError::Deadline`] and requests in flight are cut.
    pub max_time: Duration,
    /// Consecutive timeouts after which a host is given up ([`SendError::HostDown`]);
    /// 0 never gives up.
    pub max_timeouts_per_host: usize,
}

/// The default `--max-time`.
pub const DEFAULT_MAX_TIME: Duration = Duration::from_secs(5 * 60);
/// The default number of consecutive timeouts after which a host is given up.
pub const DEFAULT_MAX_TIMEOUTS_PER_HOST: usize = 3;
/// The slowest rate `--rate` accepts (one request every 10 s): slower than this, a scan of
/// a few hundred requests would outlast any sensible `--max-time`.
pub const MIN_RATE: f64 = 0.1;

impl Default for Limits {
    fn default() -> Self {
        Self {
            concurrency: 8,
            rate: 100.0,
            max_requests: 600,
            timeout: Duration::from_secs(10),
            max_body: 1024 * 1024,
            max_time: DEFAULT_MAX_TIME,
            max_timeouts_per_host: DEFAULT_MAX_TIMEOUTS_PER_HOST,
        }
    }
}

struct HostGate {
    /// `host:port`, for error messages.
    name: String,
    /// Shared with the TLS prober, so handshakes count against the same per-host cap.
    slots: Arc<Semaphore>,
    next_start: Mutex<Instant>,
    /// Timeouts since the host last answered (or failed in another way).
    consecutive_timeouts: AtomicUsize,
}

/// Where requests go when not straight to the target (`--proxy`).
#[derive(Clone, Debug)]
pub enum ProxyRoute {
    /// An `http://`, `https://`, `socks5://` or `socks5h://` proxy URL.
    Url(Url),
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`, as curl reads them.
    Env,
}

/// `--proxy` and `--proxy-ca`.
#[derive(Clone, Debug)]
pub struct Proxy {
    pub route: ProxyRoute,
    /// An intercepting proxy's CA (Burp, ZAP), trusted beside the target's own anchors:
    /// such a proxy re-signs the target's certificate, and speaks TLS itself when its URL
    /// is `https://`.
    pub ca: Option<(
        std::path::PathBuf,
        Vec<rustls_pki_types::CertificateDer<'static>>,
    )>,
}

impl Proxy {
    /// The proxy as the report and notes name it: the URL without its password.
    pub fn describe(&self) -> String {
        match &self.route {
            ProxyRoute::Env => "the proxy of HTTPS_PROXY/HTTP_PROXY/ALL_PROXY".to_string(),
            ProxyRoute::Url(u) => {
                let mut u = u.clone();
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                u.to_string()
            }
        }
    }
}

tokio::task_local! {
    /// Requests sent from within a task scope, whatever [`Http`] sent them: a whole-API
    /// scan shares one client (one budget, one limiter per host) across its operations and
    /// still tells how many requests each operation cost.
    pub static SENT_HERE: Arc<AtomicUsize>;
}

pub struct Http {
    limits: Limits,
    tls: TlsSettings,
    proxy: Option<Proxy>,
    guard: Option<Arc<dyn AddressGuard>>,
    sent: AtomicUsize,
    /// When the scan's time is up; `None` when `max_time` is too large to represent.
    deadline: Option<tokio::time::Instant>,
    clients: Mutex<HashMap<Option<u64>, reqwest::Client>>,
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
    /// How long a probe waits for its answer once the baselines showed how fast the
    /// server is (milliseconds; 0 until then: `limits.timeout`).
    answer_timeout_ms: std::sync::atomic::AtomicU64,
}

impl Http {
    pub fn new(limits: Limits, tls: TlsSettings) -> Self {
        let deadline = tokio::time::Instant::now().checked_add(limits.max_time);
        Self {
            limits,
            tls,
            proxy: None,
            guard: None,
            sent: AtomicUsize::new(0),
            deadline,
            clients: Mutex::new(HashMap::new()),
            hosts: Mutex::new(HashMap::new()),
            answer_timeout_ms: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Sends every request through `proxy` (`None`: straight to the target, whatever the
    /// environment says).
    pub fn with_proxy(mut self, proxy: Option<Proxy>) -> Self {
        self.proxy = proxy;
        self
    }

    /// Connects only to addresses `guard` allows (`None`: anywhere).
    pub fn with_guard(mut self, guard: Option<Arc<dyn AddressGuard>>) -> Self {
        self.guard = guard;
        self
    }

    pub fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }

    /// Shortens how long each later request waits for its answer (never beyond
    /// `--timeout`): a server that answers its baselines in milliseconds and then leaves
    /// a probe hanging must not hold the scan for the whole `--timeout`.
    pub fn set_answer_timeout(&self, d: Duration) {
        let d = d.min(self.limits.timeout);
        self.answer_timeout_ms.store(
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1),
            Ordering::Relaxed,
        );
    }

    /// The wait for one answer: `--timeout`, or less once [`Http::set_answer_timeout`] ran.
    pub fn answer_timeout(&self) -> Duration {
        match self.answer_timeout_ms.load(Ordering::Relaxed) {
            0 => self.limits.timeout,
            ms => Duration::from_millis(ms),
        }
    }

    /// Time left before the scan's `max_time` runs out (`None`: no limit).
    pub fn time_left(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(tokio::time::Instant::now()))
    }

    fn deadline_error(&self) -> SendError {
        SendError::Deadline(self.limits.max_time)
    }

    fn check_deadline(&self) -> Result<(), SendError> {
        match self.time_left() {
            Some(left) if left.is_zero() => Err(self.deadline_error()),
            _ => Ok(()),
        }
    }

    fn check_host(&self, gate: &HostGate) -> Result<(), SendError> {
        let max = self.limits.max_timeouts_per_host;
        let timeouts = gate.consecutive_timeouts.load(Ordering::Relaxed);
        if max > 0 && timeouts >= max {
            // Probes already in flight may time out after the host was given up; the
            // reason names the threshold that gave it up, the same on every run.
            return Err(SendError::HostDown {
                host: gate.name.clone(),
                timeouts: max,
            });
        }
        Ok(())
    }

    pub fn requests_sent(&self) -> usize {
        self.sent
            .load(Ordering::Relaxed)
            .min(self.limits.max_requests)
    }

    pub fn tls(&self) -> &TlsSettings {
        &self.tls
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Sends a probe and records the exchange; budget exhaustion is the only error that
    /// does not produce an exchange.
    pub async fn exchange(&self, probe: Probe) -> Result<Exchange, SendError> {
        // Method, host and path only: headers and query strings (a token in the URL) carry
        // secrets.
        tracing::debug!(
            method = %probe.method,
            host = probe.url.host_str().unwrap_or(""),
            path = probe.url.path(),
            "request"
        );
        match self.send(&probe).await {
            Ok(answer) => Ok(Exchange {
                probe,
                result: Ok(answer),
            }),
            Err(SendError::Transport(e)) => Ok(Exchange {
                probe,
                result: Err(e),
            }),
            Err(e) => Err(e),
        }
    }

    pub async fn send(&self, probe: &Probe) -> Result<Answer, SendError> {
        // Neither a request past the deadline nor one to a host that stopped answering is
        // sent, so neither counts against the budget.
        self.check_deadline()?;
        // An address literal is never resolved, so the guard judges it here; names are
        // judged by the resolver on the addresses the connection uses.
        if let (Some(guard), Some(host)) = (&self.guard, probe.url.host()) {
            let ip = match host {
                url::Host::Ipv4(ip) => Some(std::net::IpAddr::V4(ip)),
                url::Host::Ipv6(ip) => Some(std::net::IpAddr::V6(ip)),
                url::Host::Domain(_) => None,
            };
            if let Some(ip) = ip {
                guard
                    .allow(&ip.to_string(), &[ip])
                    .map_err(SendError::OutOfScope)?;
            }
        }
        let gate = self.gate(&probe.url).await;
        self.check_host(&gate)?;
        if self.sent.fetch_add(1, Ordering::Relaxed) >= self.limits.max_requests {
            return Err(SendError::Budget(self.limits.max_requests));
        }
        let _ = SENT_HERE.try_with(|n| n.fetch_add(1, Ordering::Relaxed));
        let client = self.client_for(probe.identity.as_ref()).await?;
        let method = reqwest::Method::from_bytes(probe.method.as_bytes())
            .map_err(|_| SendError::Invalid(format!("bad method {:?}", probe.method)))?;
        let mut builder = client.request(method, probe.url.clone());
        for (name, value) in &probe.headers {
            let v = reqwest::header::HeaderValue::from_bytes(value.raw())
                .map_err(|_| SendError::Invalid(format!("header {name} has a forbidden byte")))?;
            let n = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| SendError::Invalid(format!("bad header name {name:?}")))?;
            builder = builder.header(n, v);
        }
        if let Some(body) = &probe.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, body.content_type.as_str())
                .body(body.bytes.clone());
        }
        let request = builder
            .build()
            .map_err(|e| SendError::Invalid(e.to_string()))?;

        let delivery = self.deliver(&client, request, &gate);
        match self.deadline {
            // Waiting for a slot, pacing and the exchange itself all end at the deadline.
            Some(at) => tokio::time::timeout_at(at, delivery)
                .await
                .unwrap_or_else(|_| Err(self.deadline_error())),
            None => delivery.await,
        }
    }

    async fn deliver(
        &self,
        client: &reqwest::Client,
        request: reqwest::Request,
        gate: &HostGate,
    ) -> Result<Answer, SendError> {
        let _slot = gate
            .slots
            .acquire()
            .await
            .map_err(|_| SendError::Invalid("scanner shutting down".into()))?;
        // The requests queued behind the ones that timed out learn it here.
        self.check_host(gate)?;
        self.pace(gate).await?;

        let started = Instant::now();
        let timeout = self.answer_timeout();
        let mut request = request;
        *request.timeout_mut() = Some(timeout);
        let work = async {
            let mut resp = client
                .execute(request)
                .await
                .map_err(|e| classify(e, timeout))?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let mut body = Vec::new();
            let mut truncated = false;
            while let Some(chunk) = resp.chunk().await.map_err(|e| classify(e, timeout))? {
                let room = self.limits.max_body.saturating_sub(body.len());
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, TransportError>(Answer {
                status,
                headers,
                body,
                truncated,
                elapsed: started.elapsed(),
            })
        };
        // reqwest's own timeout covers most phases; this outer one also bounds the body read.
        let result = match tokio::time::timeout(timeout + Duration::from_millis(500), work).await {
            Ok(r) => r,
            Err(_) => Err(TransportError::Timeout(timeout)),
        };
        if matches!(result, Err(TransportError::Timeout(_))) {
            gate.consecutive_timeouts.fetch_add(1, Ordering::Relaxed);
        } else {
            gate.consecutive_timeouts.store(0, Ordering::Relaxed);
        }
        result.map_err(SendError::Transport)
    }

    /// Waits for this host's next slot under `rate`. A slot that would come after the
    /// deadline is refused at once instead of slept for.
    async fn pace(&self, gate: &HostGate) -> Result<(), SendError> {
        let rate = self.limits.rate;
        if !(rate.is_finite() && rate > 0.0) {
            return Ok(());
        }
        // The command line refuses rates under MIN_RATE; a library caller's extreme value
        // must not panic either (1 / 1e-300 seconds is no Duration).
        let interval = Duration::try_from_secs_f64(1.0 / rate)
            .unwrap_or(Duration::MAX)
            .min(Duration::from_secs(365 * 24 * 3600));
        let wait = {
            let mut next = gate.next_start.lock().await;
            let now = Instant::now();
            let start = (*next).max(now);
            if let Some(left) = self.time_left()
                && start - now >= left
            {
                return Err(self.deadline_error());
            }
            *next = start.checked_add(interval).unwrap_or(start);
            start - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// The per-host connection limiter for `url`, for connections made outside this
    /// client (the TLS prober's handshakes).
    pub async fn host_limiter(&self, url: &Url) -> Arc<Semaphore> {
        self.gate(url).await.slots.clone()
    }

    async fn gate(&self, url: &Url) -> Arc<HostGate> {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut hosts = self.hosts.lock().await;
        hosts
            .entry(key)
            .or_insert_with_key(|name| {
                Arc::new(HostGate {
                    name: name.clone(),
                    slots: Arc::new(Semaphore::new(self.limits.concurrency.max(1))),
                    next_start: Mutex::new(Instant::now()),
                    consecutive_timeouts: AtomicUsize::new(0),
                })
            })
            .clone()
    }

    async fn client_for(
        &self,
        identity: Option<&Arc<ClientIdentity>>,
    ) -> Result<reqwest::Client, SendError> {
        // One client (and so one connection pool) per presented certificate: a pooled
        // connection keeps the certificate it was opened with.
        let key = identity.map(|i| i.id);
        let mut clients = self.clients.lock().await;
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let proxy_ca = self
            .proxy
            .as_ref()
            .and_then(|p| p.ca.as_ref())
            .map_or(&[][..], |(_, certs)| certs.as_slice());
        let config = self
            .tls
            .client_config_trusting(identity.map(|i| i.as_ref()), proxy_ca)
            .map_err(|e| SendError::Invalid(format!("TLS configuration: {e}")))?;
        let builder = reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.limits.timeout)
            .read_timeout(self.limits.timeout)
            .timeout(self.limits.timeout)
            .pool_max_idle_per_host(self.limits.concurrency.max(1))
            .user_agent(concat!("authprobe/", env!("CARGO_PKG_VERSION")))
            .http1_only();
        // reqwest reads the proxy variables by default; a scanner carrying credentials
        // must not hand them to whatever proxy a shell happens to export.
        let builder = match self.proxy.as_ref().map(|p| &p.route) {
            None => builder.no_proxy(),
            Some(ProxyRoute::Env) => builder,
            Some(ProxyRoute::Url(u)) => builder.proxy(
                reqwest::Proxy::all(u.as_str())
                    .map_err(|e| SendError::Invalid(format!("--proxy {u}: {e}")))?,
            ),
        };
        let builder = match &self.guard {
            Some(g) => builder.dns_resolver(Arc::new(GuardedResolver(g.clone()))),
            None => builder,
        };
        let client = builder
            .build()
            .map_err(|e| SendError::Invalid(format!("HTTP client: {e}")))?;
        clients.insert(key, client.clone());
        Ok(client)
    }
}

fn classify(e: reqwest::Error, limit: Duration) -> TransportError {
    // reqwest wraps the cause in layers ("error sending request for url (…)", "client
    // error (Connect)"); the innermost messages are the ones a user can act on.
    let mut causes = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    let inner: Vec<&str> = causes
        .iter()
        .map(String::as_str)
        .filter(|c| !c.starts_with("error sending request") && !c.starts_with("client error"))
        .collect();
    let text = if inner.is_empty() {
        causes.last().cloned().unwrap_or_default()
    } else {
        inner.join(": ")
    };
    if e.is_timeout() {
        return TransportError::Timeout(limit);
    }
    match rustls_error(&e) {
        Some(rustls::Error::AlertReceived(_)) => TransportError::TlsAlert(text),
        Some(rustls::Error::InvalidCertificate(_)) => TransportError::ServerCertificate(text),
        // A record whose content type or version is no TLS one: the peer is not speaking
        // TLS. A real TLS server's corrupt message would fail later, as another error.
        Some(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType
            | rustls::InvalidMessage::UnknownProtocolVersion,
        )) => TransportError::NotTls(text),
        Some(_) => TransportError::Tls(text),
        None if e.is_connect() => TransportError::Connect(text),
        None => TransportError::Other(text),
    }
}

/// The rustls error somewhere in `e`'s causes, found by type rather than by its words
/// (reqwest's own `is_timeout`/`is_connect` work the same way). `std::io::Error` does not
/// list the error it wraps among its sources, so that layer is opened by hand, and it may
/// wrap another `io::Error` (hyper-rustls wraps tokio-rustls's with `io::Error::other`).
pub fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            let inner: &'a (dyn std::error::Error + 'static) = inner;
            cur = Some(inner);
            continue;
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Allows nothing: what a scope says of an address a name rebound to after the scan's
    /// first check.
    #[derive(Debug)]
    struct Nowhere;
    impl AddressGuard for Nowhere {
        fn allow(&self, host: &str, addrs: &[std::net::IpAddr]) -> Result<(), String> {
            Err(format!("{host} ({addrs:?}) is outside the scope"))
        }
    }

    #[tokio::test]
    async fn a_guard_judges_the_addresses_each_connection_uses() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let accept = tokio::spawn(async move {
            while let Ok((_s, _)) = l.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = Http::new(Limits::default(), TlsSettings::default())
            .with_guard(Some(Arc::new(Nowhere)));
        // An address literal is judged before anything is sent.
        let literal = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        match http.send(&Probe::new("GET", literal)).await {
            Err(SendError::OutOfScope(e)) => assert!(e.contains("outside the scope"), "{e}"),
            other => panic!("{other:?}"),
        }
        // A name is judged on what it resolves to when the connection is opened.
        let name = Url::parse(&format!("http://localhost:{port}/")).unwrap();
        let e = http.send(&Probe::new("GET", name)).await.unwrap_err();
        assert!(e.to_string().contains("outside the scope"), "{e}");
        assert_eq!(hits.load(Ordering::SeqCst), 0, "a connection was opened");
        // Without a guard the same name connects.
        let open = Http::new(Limits::default(), TlsSettings::default());
        let name = Url::parse(&format!("http://localhost:{port}/")).unwrap();
        let _ =
            tokio::time::timeout(Duration::from_secs(2), open.send(&Probe::new("GET", name))).await;
        assert!(hits.load(Ordering::SeqCst) >= 1);
        accept.abort();
    }
}
