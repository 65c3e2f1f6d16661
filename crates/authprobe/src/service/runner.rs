//! The scans of `serve` and `authprobe worker`: a scan is a job. It is claimed (by the
//! in-process loop here on SQLite, by the `underway` queue on PostgreSQL: [`crate::fleet`]),
//! run with the library as the CLI runs it, and its report and findings are stored in one
//! transaction, only while the scan is still running, so a report is stored once whatever
//! happens to the workers. A failure that may pass (the target did not answer, the
//! database went away) is retried with backoff up to [`JobPolicy::max_attempts`]; one that
//! cannot (out of scope, bad credentials, the target was deleted) fails the scan at once.
//! The scope is checked again right before the first request, with the description's base
//! URL too, since a document can name any server.

use super::live::{Live, LiveState};
use super::scope::Scope;
use crate::engine::api::{ApiScan, scan_api};
use crate::engine::{self, Progress};
use crate::http::{Http, Limits, TlsSettings};
use crate::options::{ApiKey, Credentials, KeyLocation, ScanOptions};
use crate::report::Report;
use crate::spec;
use crate::store::{ScanRow, Store, StoreError, Target, TargetCredentials};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use url::Url;

/// How long past its time limit a scan may take to wind up before it is failed.
pub const GRACE: Duration = Duration::from_secs(30);
/// How often an idle worker looks at the queue without being woken.
const IDLE_POLL: Duration = Duration::from_secs(2);
/// How often a running scan's worker records that it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// A running scan whose worker has been silent this long may be taken over (two missed
/// heartbeats). A live worker that was only slow learns at its next heartbeat that the
/// scan is no longer its own, and stops.
pub const SILENCE: Duration = Duration::from_secs(20);
/// How long a finished scan's report is retried against a database that is away (a
/// PostgreSQL restart) before the attempt counts as failed.
const STORE_RETRY: Duration = Duration::from_secs(60);

/// Retries of a scan that failed in a way that may pass.
#[derive(Clone, Copy, Debug)]
pub struct JobPolicy {
    /// Starts of one scan in all, the first included.
    pub max_attempts: u32,
    /// The wait before the second start; each later one waits four times longer, at most
    /// ten minutes.
    pub backoff: Duration,
}

impl Default for JobPolicy {
    fn default() -> Self {
        JobPolicy {
            max_attempts: 3,
            backoff: Duration::from_secs(10),
        }
    }
}

impl JobPolicy {
    /// The wait after the `attempt`-th start failed.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 4u32.saturating_pow(attempt.saturating_sub(1));
        self.backoff
            .saturating_mul(factor)
            .min(Duration::from_secs(600))
    }
}

/// What became of one start of a scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The report is stored.
    Done,
    /// Back in the queue, to be tried again after the backoff.
    Retry(String),
    /// Failed for good, with this error.
    Failed(String),
    /// Not run: it was done, failed or deleted already (a job delivered twice).
    Skipped,
}

/// Why a scan gave no report, and whether another start may give one.
struct Failure {
    message: String,
    retry: bool,
}

impl Failure {
    fn fatal(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retry: false,
        }
    }
    fn transient(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retry: true,
        }
    }
}

/// Scans of one host at once in this process: the per-host limit of a single machine. On
/// PostgreSQL the fleet holds it across every worker instead ([`crate::fleet`]).
#[derive(Default)]
pub struct LocalHosts {
    limit: usize,
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl LocalHosts {
    pub fn new(limit: usize) -> Self {
        LocalHosts {
            limit: limit.max(1),
            slots: Mutex::new(HashMap::new()),
        }
    }
    async fn acquire(&self, host: &str) -> tokio::sync::OwnedSemaphorePermit {
        let sem = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(host.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.limit)))
            .clone();
        sem.acquire_owned().await.expect("never closed")
    }
}

/// The host (`host:port`) a target's scans count against.
pub fn host_key(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => format!(
            "{}:{}",
            u.host_str().unwrap_or_default().to_ascii_lowercase(),
            u.port_or_known_default().unwrap_or(0)
        ),
        Err(_) => url.to_string(),
    }
}

#[derive(Clone)]
pub struct Runner {
    pub store: Store,
    pub scope: Arc<Scope>,
    pub live: Live,
    pub wake: Arc<Notify>,
    /// Each scan's limits; their `rate` is the host's share for one scan (the host rate
    /// divided by the scans a host may have at once), so the host's rate holds together.
    pub limits: Limits,
    /// `limits.max_requests` is a hard cap for whole-API scans too, instead of a budget
    /// that grows with the operations (the MCP server's request budget per call).
    pub fixed_budget: bool,
    /// This process's name in the scans' `worker` column.
    pub worker: String,
    pub policy: JobPolicy,
    pub hosts: Arc<LocalHosts>,
}

/// A name for this process in the scans it runs: host name and process id.
pub fn worker_name(role: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{role}@{host}:{}", std::process::id())
}

impl Runner {
    /// Starts `workers` tasks that drain the queue until the process ends (the in-process
    /// queue: SQLite).
    pub fn spawn(&self, workers: usize) {
        for _ in 0..workers.max(1) {
            let me = self.clone();
            tokio::spawn(async move { me.work().await });
        }
    }

    async fn work(self) {
        loop {
            match self.store.claim_next_scan(&self.worker).await {
                Ok(Some(scan)) => {
                    let host = match self.store.target(scan.target_id).await {
                        Ok(Some(t)) => host_key(&t.url),
                        _ => String::new(),
                    };
                    let _slot = self.hosts.acquire(&host).await;
                    self.run(scan).await;
                }
                Ok(None) => {
                    let _ = tokio::time::timeout(IDLE_POLL, self.wake.notified()).await;
                }
                Err(e) => {
                    tracing::error!("claiming a scan: {e}");
                    tokio::time::sleep(IDLE_POLL).await;
                }
            }
        }
    }

    /// Runs a scan that is already running in the store to its end: report, retry or
    /// failure.
    pub(crate) async fn run(&self, scan: ScanRow) -> Outcome {
        let tx = self.live.start(scan.id);
        self.run_live(scan, tx).await
    }

    /// [`Self::run`] publishing on a live channel the caller opened (and may already
    /// listen to).
    pub(crate) async fn run_live(
        &self,
        scan: ScanRow,
        tx: tokio::sync::watch::Sender<LiveState>,
    ) -> Outcome {
        let result = tokio::select! {
            r = self.scan(&scan, &tx) => Some(r),
            () = self.heartbeats(scan.id) => None,
        };
        let outcome = match result {
            // Taken back after this worker was silent too long (it lost the database):
            // whoever runs it now stores its report.
            None => {
                tracing::warn!(
                    "scan {} was queued again elsewhere; stopping it here",
                    scan.id
                );
                Outcome::Skipped
            }
            Some(Ok(report)) => match self.store_report(scan.id, &report).await {
                Ok(()) => {
                    // The scan is stored whatever its webhooks do.
                    if let Err(e) = super::webhooks::on_scan_finished(&self.store, scan.id).await {
                        tracing::error!("webhooks of scan {}: {e}", scan.id);
                    }
                    Outcome::Done
                }
                Err(e) => self.failed(&scan, Failure::transient(e)).await,
            },
            Some(Err(f)) => self.failed(&scan, f).await,
        };
        let status = match &outcome {
            Outcome::Done => "done",
            Outcome::Retry(_) => "queued",
            Outcome::Failed(_) | Outcome::Skipped => "failed",
        };
        tracing::info!("scan {} (attempt {}) {status}", scan.id, scan.attempts);
        self.live.finish(scan.id, status);
        outcome
    }

    /// Records every [`HEARTBEAT`] that this worker still runs the scan; returns when the
    /// scan is no longer its own.
    async fn heartbeats(&self, id: i64) {
        loop {
            tokio::time::sleep(HEARTBEAT).await;
            match self.store.heartbeat_scan(id, &self.worker).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => tracing::warn!("heartbeat of scan {id}: {e}"),
            }
        }
    }

    /// Stores the report, waiting out a database that is briefly away. Only a scan still
    /// running can finish, so a report is never stored twice.
    async fn store_report(&self, id: i64, report: &Report) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + STORE_RETRY;
        loop {
            match self.store.finish_scan(id, report).await {
                Ok(_) => return Ok(()),
                Err(StoreError::Db(e)) if tokio::time::Instant::now() < deadline => {
                    tracing::warn!("storing scan {id}: {e}; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(format!("storing the report failed: {e}")),
            }
        }
    }

    /// Back in the queue with backoff when another start may help and starts are left;
    /// else failed with the reason.
    async fn failed(&self, scan: &ScanRow, f: Failure) -> Outcome {
        if f.retry && scan.attempts < self.policy.max_attempts {
            let wait = self.policy.delay(scan.attempts);
            let message = format!(
                "attempt {} of {} failed: {}; trying again in {}s",
                scan.attempts,
                self.policy.max_attempts,
                f.message,
                wait.as_secs()
            );
            let at = crate::store::now_millis() + wait.as_millis() as i64;
            match self.store.requeue_scan(scan.id, &message, at).await {
                Ok(true) => {
                    self.wake_later(wait);
                    return Outcome::Retry(f.message);
                }
                Ok(false) => return Outcome::Skipped,
                Err(e) => tracing::error!("re-queuing scan {}: {e}", scan.id),
            }
        }
        let message = if scan.attempts > 1 {
            format!(
                "{} (attempt {} of {})",
                f.message, scan.attempts, self.policy.max_attempts
            )
        } else {
            f.message
        };
        if let Err(e) = self.store.fail_scan(scan.id, &message).await {
            tracing::error!("marking scan {} failed: {e}", scan.id);
        }
        Outcome::Failed(message)
    }

    /// The in-process queue looks again when a backoff ends.
    fn wake_later(&self, after: Duration) {
        let wake = self.wake.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            wake.notify_one();
        });
    }

    /// The report, or why there is none (one line, no secrets: the scanner's errors never
    /// carry credentials).
    async fn scan(
        &self,
        scan: &ScanRow,
        tx: &tokio::sync::watch::Sender<LiveState>,
    ) -> Result<Report, Failure> {
        let target = self
            .store
            .target(scan.target_id)
            .await
            .map_err(|e| Failure::transient(e.to_string()))?
            .ok_or_else(|| Failure::fatal("the target was deleted"))?;
        let creds = self
            .store
            .target_credentials(target.id)
            .await
            .map_err(|e| Failure::transient(e.to_string()))?
            .unwrap_or_default();
        let url =
            Url::parse(&target.url).map_err(|e| Failure::fatal(format!("target URL: {e}")))?;
        self.scope
            .check(&url)
            .await
            .map_err(|e| Failure::fatal(e.to_string()))?;
        let mut opts = options(&target, &creds, url, &self.limits).map_err(Failure::fatal)?;
        // Every connection of the scan is judged again on the addresses it is opened to.
        opts.guard = Some(self.scope.clone());
        let progress = Arc::new(Progress::default());
        let watcher = {
            let progress = progress.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    let done = progress.checks_done.load(Ordering::Relaxed) as u32;
                    let total = progress.checks_total.load(Ordering::Relaxed) as u32;
                    tx.send_if_modified(|s| {
                        let changed = s.done != done || s.total != total;
                        s.done = done;
                        s.total = total;
                        s.phase = if total == 0 {
                            "baselines".into()
                        } else {
                            "checks".into()
                        };
                        changed
                    });
                }
            })
        };
        let result = match target.spec.as_deref() {
            None => {
                let max = opts.limits.max_time + GRACE;
                match tokio::time::timeout(max, engine::scan(opts, progress)).await {
                    Ok(r) => r.map_err(|e| Failure::transient(e.to_string())),
                    Err(_) => Err(Failure::transient(format!(
                        "the scan did not end within {}s",
                        max.as_secs()
                    ))),
                }
            }
            Some(spec_arg) => self.scan_api(opts, spec_arg, progress, tx).await,
        };
        watcher.abort();
        result
    }

    async fn scan_api(
        &self,
        mut opts: ScanOptions,
        spec_arg: &str,
        progress: Arc<Progress>,
        tx: &tokio::sync::watch::Sender<LiveState>,
    ) -> Result<Report, Failure> {
        tx.send_modify(|s| s.phase = "reading the API description".into());
        let http = Http::new(spec::fetch_limits(&opts.limits), opts.tls.clone())
            .with_guard(opts.guard.clone());
        let (doc, doc_url) = if spec_arg == "auto" {
            spec::discover(&http, &opts.target).await
        } else {
            let u = Url::parse(spec_arg).map_err(|e| Failure::fatal(format!("spec URL: {e}")))?;
            self.scope
                .check(&u)
                .await
                .map_err(|e| Failure::fatal(format!("spec: {e}")))?;
            spec::fetch(&http, &u).await
        }
        .map_err(|e| Failure::transient(e.to_string()))?;
        let base = spec::base_url(&doc, None, Some(&doc_url))
            .map_err(|e| Failure::fatal(e.to_string()))?;
        // The description names the server the operations are sent to: it must be in scope.
        self.scope
            .check(&base)
            .await
            .map_err(|e| Failure::fatal(format!("the description's server: {e}")))?;
        opts.target = base.clone();
        let api = ApiScan {
            spec: Arc::new(doc),
            base,
            budget_given: self.fixed_budget,
            time_given: self.fixed_budget,
        };
        let max = engine::api::time_limit(&opts, &api) + GRACE;
        let mut sink = |_: engine::api::Event| {};
        match tokio::time::timeout(max, scan_api(opts, api, progress, &mut sink)).await {
            Ok(r) => r.map_err(|e| Failure::transient(e.to_string())),
            Err(_) => Err(Failure::transient(format!(
                "the scan did not end within {}s",
                max.as_secs()
            ))),
        }
    }
}

/// Scan options for a stored target, built as the CLI builds them from its flags.
pub fn options(
    target: &Target,
    c: &TargetCredentials,
    url: Url,
    limits: &Limits,
) -> Result<ScanOptions, String> {
    // The PEMs are not files here: evidence and curl lines name them by role.
    let client = match (&c.client_cert_pem, &c.client_key_pem) {
        (Some(cert), Some(key)) => Some(Arc::new(
            crate::load::identity_from_bytes(
                Path::new("client.pem"),
                cert.as_bytes(),
                Some((Path::new("client.key"), key.as_bytes())),
                None,
            )
            .map_err(|e| format!("client certificate: {e}"))?
            .0,
        )),
        _ => None,
    };
    let server_ca = match &c.server_ca_pem {
        Some(pem) => Some((
            Path::new("server-ca.pem").to_path_buf(),
            crate::load::certs_from_pem(Path::new("server-ca.pem"), pem.as_bytes(), "server CA")
                .map_err(|e| e.to_string())?,
        )),
        None => None,
    };
    let creds = Credentials {
        client,
        ..app_credentials(c)?
    };
    let mut opts = ScanOptions::new(url)
        .with_credentials(creds)
        .with_limits(limits.clone())
        .with_tls(TlsSettings {
            server_ca,
            insecure: false,
        })
        .with_only(target.checks.clone());
    opts.jwt.crack_time = opts.jwt.crack_time.min(opts.limits.max_time);
    Ok(opts)
}

/// A stored target's bearer, Basic pair, headers and API keys as the scanner's
/// credentials (the client certificate aside): what [`options`] scans with, and what
/// `authprobe mcp` redacts from its results.
pub fn app_credentials(c: &TargetCredentials) -> Result<Credentials, String> {
    let basic = c
        .basic
        .as_deref()
        .map(|b| {
            b.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .ok_or("the stored Basic credential is not USER:PASSWORD")
        })
        .transpose()?;
    let headers = c
        .headers
        .iter()
        .filter_map(|h| h.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let api_keys = c
        .api_keys
        .iter()
        .filter_map(|kv| kv.split_once('='))
        .map(|(n, v)| ApiKey {
            name: n.trim().to_string(),
            value: v.to_string(),
            location: KeyLocation::Header,
        })
        .collect();
    Ok(Credentials {
        bearer: c.bearer.clone(),
        basic,
        headers,
        api_keys,
        ..Credentials::default()
    })
}

/// Queues the scans of targets whose schedule is due, every `every` (on the job queue
/// too, on PostgreSQL).
pub fn spawn_scheduler(state: super::AppState, every: Duration) {
    tokio::spawn(async move {
        loop {
            match state.store.due_targets(crate::store::now_millis()).await {
                Ok(due) => {
                    for t in due {
                        match state.start_scan(t.id, "schedule").await {
                            Ok(s) => tracing::info!("scheduled scan {} of {}", s.id, t.name),
                            Err(e) => tracing::debug!("schedule of {}: {}", t.name, e.message),
                        }
                    }
                }
                Err(e) => tracing::error!("reading schedules: {e}"),
            }
            tokio::time::sleep(every).await;
        }
    });
}
