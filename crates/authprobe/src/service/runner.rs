//! The scans of `serve`: worker tasks take queued scans from the store, scan with the
//! library as the CLI does, and store the report and its findings in one transaction. The
//! scope is checked again right before the first request, with the description's base
//! URL too, since a document can name any server.

use super::live::{Live, LiveState};
use super::scope::Scope;
use crate::engine::api::{ApiScan, scan_api};
use crate::engine::{self, Progress};
use crate::http::{Http, Limits, TlsSettings};
use crate::options::{ApiKey, Credentials, KeyLocation, ScanOptions};
use crate::report::Report;
use crate::spec;
use crate::store::{ScanRow, Store, Target, TargetCredentials};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::Notify;
use url::Url;

/// How long past its time limit a scan may take to wind up before it is failed.
const GRACE: Duration = Duration::from_secs(30);
/// How often an idle worker looks at the queue without being woken.
const IDLE_POLL: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct Runner {
    pub store: Store,
    pub scope: Arc<Scope>,
    pub live: Live,
    pub wake: Arc<Notify>,
    pub limits: Limits,
    /// `limits.max_requests` is a hard cap for whole-API scans too, instead of a budget
    /// that grows with the operations (the MCP server's request budget per call).
    pub fixed_budget: bool,
}

impl Runner {
    /// Starts `workers` tasks that drain the queue until the process ends.
    pub fn spawn(&self, workers: usize) {
        for _ in 0..workers.max(1) {
            let me = self.clone();
            tokio::spawn(async move { me.work().await });
        }
    }

    async fn work(self) {
        loop {
            match self.store.claim_next_scan().await {
                Ok(Some(scan)) => self.run(scan).await,
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

    /// Runs a scan that is already running in the store to its end: report or failure.
    pub(crate) async fn run(&self, scan: ScanRow) {
        let tx = self.live.start(scan.id);
        self.run_live(scan, tx).await
    }

    /// [`Self::run`] publishing on a live channel the caller opened (and may already
    /// listen to).
    pub(crate) async fn run_live(&self, scan: ScanRow, tx: tokio::sync::watch::Sender<LiveState>) {
        let outcome = self.scan(&scan, &tx).await;
        let status = match outcome {
            Ok(report) => match self.store.finish_scan(scan.id, &report).await {
                Ok(_) => {
                    // The scan is stored whatever its webhooks do.
                    if let Err(e) = super::webhooks::on_scan_finished(&self.store, scan.id).await {
                        tracing::error!("webhooks of scan {}: {e}", scan.id);
                    }
                    "done"
                }
                Err(e) => {
                    tracing::error!("storing scan {}: {e}", scan.id);
                    let _ = self
                        .store
                        .fail_scan(scan.id, &format!("storing the report failed: {e}"))
                        .await;
                    "failed"
                }
            },
            Err(reason) => {
                if let Err(e) = self.store.fail_scan(scan.id, &reason).await {
                    tracing::error!("marking scan {} failed: {e}", scan.id);
                }
                "failed"
            }
        };
        tracing::info!("scan {} {status}", scan.id);
        self.live.finish(scan.id, status);
    }

    /// The report, or why there is none (one line, no secrets: the scanner's errors never
    /// carry credentials).
    async fn scan(
        &self,
        scan: &ScanRow,
        tx: &tokio::sync::watch::Sender<LiveState>,
    ) -> Result<Report, String> {
        let target = self
            .store
            .target(scan.target_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the target was deleted")?;
        let creds = self
            .store
            .target_credentials(target.id)
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let url = Url::parse(&target.url).map_err(|e| format!("target URL: {e}"))?;
        self.scope.check(&url).await.map_err(|e| e.to_string())?;
        let mut opts = options(&target, &creds, url, &self.limits)?;
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
                    Ok(r) => r.map_err(|e| e.to_string()),
                    Err(_) => Err(format!("the scan did not end within {}s", max.as_secs())),
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
    ) -> Result<Report, String> {
        tx.send_modify(|s| s.phase = "reading the API description".into());
        let http = Http::new(spec::fetch_limits(&opts.limits), opts.tls.clone())
            .with_guard(opts.guard.clone());
        let (doc, doc_url) = if spec_arg == "auto" {
            spec::discover(&http, &opts.target).await
        } else {
            let u = Url::parse(spec_arg).map_err(|e| format!("spec URL: {e}"))?;
            self.scope
                .check(&u)
                .await
                .map_err(|e| format!("spec: {e}"))?;
            spec::fetch(&http, &u).await
        }
        .map_err(|e| e.to_string())?;
        let base = spec::base_url(&doc, None, Some(&doc_url)).map_err(|e| e.to_string())?;
        // The description names the server the operations are sent to: it must be in scope.
        self.scope
            .check(&base)
            .await
            .map_err(|e| format!("the description's server: {e}"))?;
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
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err(format!("the scan did not end within {}s", max.as_secs())),
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
        bearer: c.bearer.clone(),
        basic,
        headers,
        client,
        api_keys,
        ..Credentials::default()
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

/// Enqueues the scans of targets whose schedule is due, every `every`.
pub fn spawn_scheduler(store: Store, wake: Arc<Notify>, every: Duration) {
    tokio::spawn(async move {
        loop {
            match store.due_targets(crate::store::now_millis()).await {
                Ok(due) => {
                    for t in due {
                        match store.enqueue_scan(t.id, "schedule").await {
                            Ok(s) => tracing::info!("scheduled scan {} of {}", s.id, t.name),
                            Err(e) => tracing::debug!("schedule of {}: {e}", t.name),
                        }
                    }
                    wake.notify_waiters();
                }
                Err(e) => tracing::error!("reading schedules: {e}"),
            }
            tokio::time::sleep(every).await;
        }
    });
}
