//! `authprobe serve`: the history store ([`crate::store`]) behind a REST API (`/api/v1`,
//! described by [`openapi`]) and a server-rendered dashboard, with scan workers and a
//! webhook sender ([`webhooks`]) in the same process. It sits above the library and scans
//! with it as the CLI does; nothing below it knows it exists.
//!
//! Its own security: API keys hashed at rest, argon2 passwords, HttpOnly SameSite=Strict
//! session cookies and CSRF tokens on every form, target credentials sealed with AEAD
//! ([`crate::store::crypto`]) and never returned, a target scope ([`scope`]) checked on
//! every URL before anything is sent, a body-size limit and a timeout on every endpoint.

pub mod api;
pub mod auth;
pub mod live;
pub mod openapi;
pub mod runner;
pub mod scope;
pub mod targets;
pub mod ui;
pub mod web;
pub mod webhooks;

use crate::http::Limits;
use crate::store::{ScanRow, Store, crypto::Sealer};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Bodies of ordinary requests (JSON, forms).
pub const MAX_BODY: usize = 1024 * 1024;
/// `POST /api/v1/reports`: a whole-API report can be large.
pub const MAX_REPORT_BODY: usize = 32 * 1024 * 1024;
/// Every request but the event streams must be answered within this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub scope: Arc<scope::Scope>,
    pub live: live::Live,
    pub wake: Arc<Notify>,
    pub throttle: Arc<Throttle>,
    /// Served over HTTPS (`--tls-cert`): browsers keep the Secure cookie from any host.
    pub tls: bool,
    /// The MCP endpoint (`/mcp`), when built with it.
    #[cfg(feature = "mcp")]
    pub mcp: Option<crate::mcp::McpServer>,
    /// The PostgreSQL job queue; `None` on SQLite, where this process runs every scan.
    pub fleet: Option<crate::fleet::Fleet>,
}

impl AppState {
    pub fn new(store: Store, scope: scope::Scope) -> Self {
        AppState {
            store,
            scope: Arc::new(scope),
            live: live::Live::default(),
            wake: Arc::new(Notify::new()),
            throttle: Arc::new(Throttle::default()),
            tls: false,
            #[cfg(feature = "mcp")]
            mcp: None,
            fleet: None,
        }
    }

    /// Queues a scan of the target and wakes a worker.
    pub async fn start_scan(&self, target: i64, trigger: &str) -> Result<ScanRow, api::ApiError> {
        if self.store.target(target).await?.is_none() {
            return Err(api::ApiError::not_found("target"));
        }
        let scan = self.store.enqueue_scan(target, trigger).await?;
        if let Some(fleet) = &self.fleet
            && let Err(e) = fleet.enqueue(scan.id).await
        {
            // The scan is stored: the reconciler queues its job once the queue is back.
            tracing::warn!("queuing the job of scan {}: {e}", scan.id);
        }
        self.wake.notify_one();
        Ok(scan)
    }

    /// The runner of this process's scans, named `role@host:pid` in the scans it runs.
    pub fn runner(&self, limits: Limits, jobs: &Jobs, role: &str) -> runner::Runner {
        runner::Runner {
            store: self.store.clone(),
            scope: self.scope.clone(),
            live: self.live.clone(),
            wake: self.wake.clone(),
            limits: jobs.scan_limits(limits),
            fixed_budget: false,
            worker: runner::worker_name(role),
            policy: jobs.policy,
            hosts: Arc::new(runner::LocalHosts::new(jobs.host_limit)),
        }
    }
}

/// How scans run as jobs: retries, and what each host may take.
#[derive(Clone, Debug)]
pub struct Jobs {
    pub policy: runner::JobPolicy,
    /// Scans of one host at once (across every worker on PostgreSQL).
    pub host_limit: usize,
    /// Requests per second to one host, all its scans together.
    pub host_rate: f64,
    /// Requests in flight to its host from one scan.
    pub scan_concurrency: usize,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs {
            policy: runner::JobPolicy::default(),
            host_limit: 2,
            host_rate: 100.0,
            scan_concurrency: Limits::default().concurrency,
        }
    }
}

impl Jobs {
    /// One scan's limits: its share of the host's rate, its requests in flight.
    pub fn scan_limits(&self, mut limits: Limits) -> Limits {
        limits.concurrency = self.scan_concurrency.max(1);
        if self.host_rate > 0.0 {
            limits.rate = self.host_rate / self.host_limit.max(1) as f64;
        }
        limits
    }
}

/// Failed sign-ins per user name (and forwarded address): five in a quarter of an hour
/// lock that name out for the rest of it. Kept in memory; a restart forgets it.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
const THROTTLE_MAX: u32 = 5;

impl Throttle {
    pub fn blocked(&self, who: &str) -> Option<Duration> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let (n, since) = map.get(who)?;
        let left = THROTTLE_WINDOW.checked_sub(since.elapsed())?;
        (*n >= THROTTLE_MAX).then_some(left)
    }
    pub fn failed(&self, who: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, t)| t.elapsed() < THROTTLE_WINDOW);
        }
        let e = map.entry(who.to_string()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= THROTTLE_WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }
    pub fn clear(&self, who: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(who);
    }
}

/// Headers every answer carries; pages get a CSP that allows only this server's own
/// stylesheet and script.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ));
    r
}

async fn timeout_layer(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => web::error(
            StatusCode::GATEWAY_TIMEOUT,
            "The server took too long",
            "This request did not finish in time; try again.",
        ),
    }
}

/// The whole application: API, dashboard and static files.
pub fn router(state: AppState) -> Router {
    let tls = state.tls;
    let api = Router::new()
        .route("/openapi.json", get(api::openapi))
        .route("/targets", post(api::create_target).get(api::list_targets))
        .route(
            "/targets/{id}",
            get(api::get_target)
                .patch(api::patch_target)
                .delete(api::delete_target),
        )
        .route("/targets/{id}/scans", post(api::start_scan))
        .route("/scans", get(api::list_scans))
        .route("/scans/{id}", get(api::get_scan))
        .route("/scans/{id}/report", get(api::get_report))
        .route("/scans/{id}/diff", get(api::diff))
        .route(
            "/reports",
            post(api::import_report).layer(DefaultBodyLimit::max(MAX_REPORT_BODY)),
        )
        .route("/users", post(api::create_user))
        .route("/keys", post(api::create_key))
        .route(
            "/webhooks",
            post(api::create_webhook).get(api::list_webhooks),
        )
        .route("/webhooks/{id}", delete(api::delete_webhook))
        .route("/webhooks/{id}/deliveries", get(api::webhook_deliveries))
        .fallback(api::not_found);
    let pages = Router::new()
        .route("/", get(web::targets))
        .route("/login", get(web::login_page).post(web::login))
        .route("/setup", get(web::setup_page).post(web::setup))
        .route("/logout", post(web::logout))
        .route("/targets/new", get(web::new_target))
        .route("/targets", post(web::create_target))
        .route("/targets/{id}", get(web::target))
        .route("/targets/{id}/scans", post(web::start_scan))
        .route("/targets/{id}/delete", post(web::delete_target))
        .route("/targets/{id}/diff", get(web::diff))
        .route("/scans/{id}", get(web::scan))
        .route("/webhooks", get(web::webhooks))
        .route("/static/app.css", get(web::stylesheet))
        .route("/static/live.js", get(web::script))
        .route("/healthz", get(|| async { "ok" }))
        // Browsers ask for it on every first visit; no icon is better than a 404 in the log.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .nest("/api/v1", api)
        .fallback(web::not_found)
        .layer(middleware::from_fn(timeout_layer));
    // The event stream lives as long as its scan: outside the request timeout.
    let mut app = Router::new().route("/scans/{id}/events", get(web::events));
    // So does an MCP call that streams a scan's progress.
    #[cfg(feature = "mcp")]
    if let Some(mcp) = state.mcp.clone() {
        app = app.merge(
            Router::new()
                .route_service("/mcp", crate::mcp::http_service(mcp))
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    auth::require_key,
                )),
        );
    }
    app.merge(pages)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(
            move |req: Request, next: Next| async move {
                let mut r = next.run(req).await;
                if tls {
                    r.headers_mut().insert(
                        header::STRICT_TRANSPORT_SECURITY,
                        HeaderValue::from_static("max-age=31536000"),
                    );
                }
                r
            },
        ))
        .with_state(state)
}

pub struct Config {
    pub listen: SocketAddr,
    /// `sqlite://PATH` or `postgres://...`; None: `authprobe.db` in the data directory.
    pub db: Option<String>,
    pub allow_target: Vec<String>,
    pub ready_file: Option<PathBuf>,
    /// Where the default database, the key file and the admin key file go.
    pub data_dir: Option<PathBuf>,
    pub workers: usize,
    pub limits: Limits,
    /// `--tls-cert`, `--tls-key`: serve HTTPS with this PEM chain and key.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `--mcp-config`: the `/mcp` endpoint's profiles and budget.
    pub mcp_config: Option<PathBuf>,
    pub jobs: Jobs,
    /// On PostgreSQL: how long a stopping server waits for the scans it runs before it
    /// hands them back to the queue.
    pub grace: Duration,
    /// `--webhook-retry-base`: the wait after a webhook delivery's first failure (then
    /// four times longer after each, at most an hour).
    pub webhook_retry_base: Duration,
}

/// What `--ready-file` receives once the server listens.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Ready {
    pub url: String,
    /// The database URL with any password removed.
    pub db: String,
    /// Where the first admin API key was written (0600), if this server made one.
    pub admin_key_file: Option<PathBuf>,
}

/// Where the database, the key file and the admin key file go without `--data-dir`.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("authprobe")
}

/// A database URL safe to print.
pub fn redacted_db(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// The history store `serve` and `mcp` share, and where its secrets live.
pub struct OpenedStore {
    pub store: Store,
    /// The database URL (may hold a password: print [`redacted_db`] of it).
    pub url: String,
    /// The directory beside a SQLite file (the data directory for PostgreSQL), where the
    /// sealing key and the admin key file are kept.
    pub beside: PathBuf,
}

/// Opens `db` (`sqlite://…` or `postgres://…`; `None`: `authprobe.db` in the data
/// directory) with the sealing key from `AUTHPROBE_SECRET_KEY` or the key file beside it.
pub async fn open_store(
    db: Option<&str>,
    data_dir: Option<&std::path::Path>,
) -> anyhow::Result<OpenedStore> {
    use anyhow::Context;
    let data_dir = data_dir.map(PathBuf::from).unwrap_or_else(default_data_dir);
    let db = match db {
        Some(d) => d.to_string(),
        None => {
            std::fs::create_dir_all(&data_dir)
                .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
            format!("sqlite://{}", data_dir.join("authprobe.db").display())
        }
    };
    // Secrets beside a SQLite file; in the data directory for PostgreSQL.
    let beside = match db
        .strip_prefix("sqlite://")
        .or_else(|| db.strip_prefix("sqlite:"))
    {
        Some(path) => PathBuf::from(path)
            .parent()
            .map(PathBuf::from)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from(".")),
        None => data_dir.clone(),
    };
    std::fs::create_dir_all(&beside).with_context(|| format!("creating {}", beside.display()))?;
    let env_key = std::env::var("AUTHPROBE_SECRET_KEY").ok();
    let (sealer, source) =
        Sealer::from_env_or_file(env_key.as_deref(), &beside.join("secret.key"))?;
    if let crate::store::crypto::KeySource::Created(p) = &source {
        eprintln!(
            "authprobe: WARNING: no AUTHPROBE_SECRET_KEY: target credentials are encrypted with a new key in {} (0600). Back it up with the database, or set AUTHPROBE_SECRET_KEY (64 hex digits) instead.",
            p.display()
        );
    }
    let store = Store::open(&db, sealer)
        .await
        .with_context(|| format!("opening the database {}", redacted_db(&db)))?;
    Ok(OpenedStore {
        store,
        url: db,
        beside,
    })
}

/// Opens the store, makes the first admin key, recovers interrupted scans, starts the
/// workers and serves until `shutdown` resolves.
pub async fn serve(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let scope = scope::Scope::parse(&config.allow_target).map_err(anyhow::Error::msg)?;
    let opened = open_store(config.db.as_deref(), config.data_dir.as_deref()).await?;
    let (store, db, beside) = (opened.store, opened.url, opened.beside);
    let key_file = beside.join("admin.key");
    let admin_key_file = if store.api_key_count().await? == 0 {
        let (_, key) = store.create_api_key("admin", true).await?;
        // A file left from a database that is gone holds a key nothing accepts.
        let _ = std::fs::remove_file(&key_file);
        let mut f = crate::load::files::create_private(&key_file)
            .with_context(|| format!("writing the admin API key to {}", key_file.display()))?;
        use std::io::Write;
        writeln!(f, "{key}")?;
        eprintln!(
            "authprobe: the admin API key was written to {} (0600); it is not shown again",
            key_file.display()
        );
        Some(key_file)
    } else {
        key_file.exists().then_some(key_file)
    };
    // On SQLite this process ran every scan, so whatever is still running was stopped by
    // its stop. On PostgreSQL other workers may be running theirs: a job whose worker
    // stopped is handed on by the queue when its heartbeat ends.
    let sqlite = store.backend() == crate::store::Backend::Sqlite;
    if sqlite {
        for (old, new) in store.recover_interrupted().await? {
            eprintln!("authprobe: scan {old} was interrupted by a stop; re-queued as scan {new}");
        }
    } else if config.workers == 0 {
        eprintln!(
            "authprobe: --workers 0: this server runs no scan; `authprobe worker` processes on the same database do"
        );
    }
    let tls = match &config.tls {
        Some((cert, key)) => Some(server_tls(cert, key)?),
        None => None,
    };
    let mut state = AppState::new(store.clone(), scope);
    state.tls = tls.is_some();
    #[cfg(feature = "mcp")]
    {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let mcp = crate::mcp::config::McpConfig::for_serve(
            config.mcp_config.as_deref(),
            &env,
            (*state.scope).clone(),
        )
        .map_err(anyhow::Error::msg)?;
        state.mcp = Some(crate::mcp::McpServer::new(
            store.clone(),
            state.live.clone(),
            mcp,
        ));
    }
    let runner = state.runner(config.limits.clone(), &config.jobs, "serve");
    let stop = tokio_util::sync::CancellationToken::new();
    let mut fleet_done = None;
    if sqlite {
        if config.workers == 0 {
            anyhow::bail!(
                "--workers 0 needs PostgreSQL (--db postgres://…): on SQLite this server runs every scan"
            );
        }
        runner.spawn(config.workers);
    } else {
        let fleet = crate::fleet::Fleet::connect(
            &db,
            runner,
            crate::fleet::FleetOptions {
                host_limit: config.jobs.host_limit,
                connections: config.workers as u32 + 6,
            },
        )
        .await?;
        fleet.spawn_reconciler(Duration::from_secs(10));
        if config.workers > 0 {
            let (f, stop, grace) = (fleet.clone(), stop.clone(), config.grace);
            fleet_done = Some(tokio::spawn(async move {
                f.work(config.workers, stop, grace).await
            }));
        }
        state.fleet = Some(fleet);
    }
    runner::spawn_scheduler(state.clone(), Duration::from_secs(30));
    webhooks::spawn_deliverer(store.clone(), config.webhook_retry_base);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let ready = Ready {
        url: format!("{}://{addr}", if tls.is_some() { "https" } else { "http" }),
        db: redacted_db(&db),
        admin_key_file,
    };
    eprintln!(
        "authprobe: serving {} · database {} · scan scope {}",
        ready.url,
        ready.db,
        state.scope.describe()
    );
    if let Some(path) = &config.ready_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec(&ready)?)?;
        std::fs::rename(&tmp, path)?;
    }
    serve_http(listener, router(state), shutdown, tls).await;
    // Scans in hand finish (or are handed back) before the process ends.
    stop.cancel();
    if let Some(done) = fleet_done {
        let _ = done.await;
    }
    Ok(())
}

/// A rustls server configuration from a PEM chain and key (read as the scanner reads
/// client identities: one PEM reader), HTTP/1.1 only.
fn server_tls(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let id = crate::load::load_identity(cert, key)?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(id.chain.clone(), id.key.clone_key())
    .map_err(|e| {
        anyhow::anyhow!(
            "--tls-cert {} with --tls-key {}: {e}",
            cert.display(),
            key.display()
        )
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// How long a client may take to send its request head.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections held at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 512;

/// HTTP/1.1 on `listener` until `shutdown`, then up to 10 s for requests in flight. Our own
/// loop because axum::serve has no header-read timeout and no connection cap.
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let tcp = tokio::select! {
            c = listener.accept() => match c {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .max_buf_size(64 * 1024);
        let service = TowerToHyperService::new(app.clone());
        match &acceptor {
            None => {
                let conn = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(permit);
                });
            }
            Some(acceptor) => {
                // The handshake is bounded like the request head; the connection is only
                // watched for shutdown once it speaks HTTP.
                let handshake = acceptor.accept(tcp);
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(HEADER_READ_TIMEOUT, handshake).await
                    {
                        let _ = watcher
                            .watch(http.serve_connection(TokioIo::new(stream), service))
                            .await;
                    }
                    drop(permit);
                });
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
}
