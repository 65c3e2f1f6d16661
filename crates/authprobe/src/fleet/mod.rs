//! Scans on a PostgreSQL job queue that `serve` and any number of `authprobe worker`
//! processes share, on the `underway` crate.
//!
//! Why underway (0.2): it claims with `FOR UPDATE SKIP LOCKED`, records a heartbeat per
//! running job and hands a job whose heartbeat stopped to another worker (the visibility
//! timeout), retries with exponential backoff, holds a transaction-scoped advisory lock per
//! job (or per concurrency key) so no two workers run one job at once, and stops on a
//! shutdown token after the jobs in hand. It is built on sqlx 0.8, the store's own. The
//! others: graphile_worker's current releases pull sqlx 0.9 (Rust 1.94, a second sqlx in
//! the build); apalis 0.7 keeps one heartbeat per worker, and every worker that starts
//! re-queues the running jobs of all workers seen before that instant, live ones included;
//! apalis 1.0 is on sqlx 0.9 too.
//!
//! The scans table stays the record: a job only carries a scan id. Running it claims the
//! scan row ([`Store::claim_scan`]), and a report is stored only while the row is running,
//! so a job delivered twice, or re-run after its worker died, stores one report. The
//! per-host limit holds across every worker: a scan holds one of the host's slots, a
//! PostgreSQL advisory lock taken in the job's transaction, which a worker that dies
//! releases with its connection.

use crate::service::runner::{GRACE, HEARTBEAT, Outcome, Runner, SILENCE, host_key};
use crate::store::{ScanStatus, Store};
use jiff::ToSpan;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, Transaction};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use underway::task::{Error as TaskError, Result as TaskResult, RetryPolicy};
use underway::{Queue, Task, Worker};

/// The queue's name in underway's tables.
pub const QUEUE: &str = "authprobe_scans";
/// How long a scan may wait for one of its host's slots before the attempt fails.
const HOST_WAIT: Duration = Duration::from_secs(30 * 60);
/// How often a worker looks at the queue without being notified.
const POLL: Duration = Duration::from_secs(1);
/// How often a running scan makes sure the connection holding its host's slot is alive.
const PING: Duration = Duration::from_millis(250);
/// A database that started this recently has forgotten every slot its workers held: a
/// slot taken then waits until their scans have learnt it and stopped.
const FRESH_SERVER: Duration = Duration::from_secs(10);

/// What a job carries: the scan to run.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct ScanInput {
    pub scan_id: i64,
}

/// The job: one start of one scan.
#[derive(Clone)]
pub struct ScanJob {
    runner: Runner,
    /// Scans of one host at once, across every worker.
    host_limit: usize,
    /// Cancelled when a worker stopping gives up waiting for its scans: they are handed
    /// back to the queue instead.
    hand_back: CancellationToken,
}

impl Task for ScanJob {
    type Input = ScanInput;
    type Output = ();

    async fn execute(&self, mut tx: Transaction<'_, Postgres>, input: ScanInput) -> TaskResult<()> {
        let store = &self.runner.store;
        let worker = &self.runner.worker;
        let id = input.scan_id;
        let transient = |e: crate::store::StoreError| TaskError::Retryable(e.to_string());
        // The host's slot first, the scan row after: a scan waiting for its host is not
        // yet anybody's, so it never looks like a scan whose worker went silent.
        let Some(scan) = store.scan(id).await.map_err(transient)? else {
            return Ok(());
        };
        if !matches!(scan.status, ScanStatus::Queued | ScanStatus::Running) {
            return Ok(());
        }
        let Some(target) = store.target(scan.target_id).await.map_err(transient)? else {
            fail(store, id, "the target was deleted").await;
            return Ok(());
        };
        let host = host_key(&target.url);
        let slot = tokio::select! {
            s = host_slot(&mut tx, &host, self.host_limit) => s,
            () = self.waiting(id) => Ok(-1),
            () = self.hand_back.cancelled() => Err("the worker stopped while the scan waited for its host".into()),
        };
        if slot == Ok(-1) {
            // No longer queued: another job started it meanwhile.
            return Ok(());
        }
        slot.map_err(TaskError::Retryable)?;
        let silent_since = crate::store::now_millis() - SILENCE.as_millis() as i64;
        let scan = match store
            .claim_scan(id, worker, silent_since)
            .await
            .map_err(transient)?
        {
            Some(scan) => scan,
            None => {
                return match store.scan(id).await.map_err(transient)? {
                    // Its worker was heard from lately: dead or not, not for long enough to
                    // tell. Later, when the silence has lasted, this job takes it over.
                    Some(s) if s.status == ScanStatus::Running => Err(TaskError::Retryable(
                        format!("scan {id} is running on {}", s.worker.unwrap_or_default()),
                    )),
                    // Done, failed or deleted: a job delivered twice runs once.
                    _ => Ok(()),
                };
            }
        };
        let max = self.runner.policy.max_attempts;
        if scan.attempts > max {
            // Only scans whose workers died get here: a failure is counted at once.
            let message = format!(
                "the scan was started {} times and its worker stopped each time",
                scan.attempts - 1
            );
            fail(store, id, &message).await;
            return Err(TaskError::Fatal(message));
        }
        let outcome = tokio::select! {
            o = self.runner.run(scan) => o,
            () = self.hand_back.cancelled() => {
                let why = format!("handed back by {worker}, which was stopping");
                let _ = store.requeue_scan(id, &why, crate::store::now_millis()).await;
                return Err(TaskError::Retryable(why));
            }
            // Without the connection that holds the host's slot, another worker may take
            // the slot: this scan stops rather than exceed the host's limit.
            lost = hold(&mut tx) => {
                let why = format!("{worker} lost its database connection mid-scan: {lost}");
                let _ = store.requeue_scan(id, &why, crate::store::now_millis()).await;
                return Err(TaskError::Retryable(why));
            }
        };
        match outcome {
            Outcome::Done | Outcome::Skipped => Ok(()),
            Outcome::Retry(e) => Err(TaskError::Retryable(e)),
            Outcome::Failed(e) => Err(TaskError::Fatal(e)),
        }
    }

    fn retry_policy(&self) -> RetryPolicy {
        let p = self.runner.policy;
        let ms = |d: Duration| i32::try_from(d.as_millis()).unwrap_or(i32::MAX);
        // Two more than the scan's own: a start stolen by a worker that found the job's
        // heartbeat a moment late costs underway an attempt and the scan none; the scan's
        // count decides when it has failed.
        RetryPolicy::builder()
            .max_attempts(p.max_attempts.saturating_add(2) as i32)
            .initial_interval_ms(ms(p.backoff))
            .backoff_coefficient(4.0)
            .max_interval_ms(600_000)
            .build()
    }

    fn timeout(&self) -> jiff::Span {
        let limits = &self.runner.limits;
        let secs = (limits.max_time + GRACE + HOST_WAIT).as_secs();
        (secs.min(i64::MAX as u64) as i64).seconds()
    }

    // underway hands on a job whose heartbeat is older than one interval.
    fn heartbeat(&self) -> jiff::Span {
        (HEARTBEAT.as_secs() as i64).seconds()
    }
}

impl ScanJob {
    /// While the job waits for its host, says so on the scan every [`HEARTBEAT`], so the
    /// reconciler does not take it for an orphan; returns if the scan stops being queued.
    async fn waiting(&self, id: i64) {
        loop {
            match self
                .runner
                .store
                .touch_queued_scan(id, &self.runner.worker)
                .await
            {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => tracing::warn!("heartbeat of queued scan {id}: {e}"),
            }
            tokio::time::sleep(HEARTBEAT).await;
        }
    }
}

async fn fail(store: &Store, id: i64, message: &str) {
    if let Err(e) = store.fail_scan(id, message).await {
        tracing::error!("marking scan {id} failed: {e}");
    }
}

/// Takes one of `host`'s `limit` slots for the rest of the job's transaction, waiting while
/// all are taken. The slots are advisory locks keyed on the host: held by whichever worker
/// holds them, released when its transaction ends or its connection drops.
async fn host_slot(
    tx: &mut Transaction<'_, Postgres>,
    host: &str,
    limit: usize,
) -> Result<i32, String> {
    let key = host_lock_key(host);
    let deadline = tokio::time::Instant::now() + HOST_WAIT;
    loop {
        for slot in 0..limit.max(1) as i32 {
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1, $2)")
                .bind(key)
                .bind(slot)
                .fetch_one(&mut **tx)
                .await
                .map_err(|e| format!("taking a slot of {host}: {e}"))?;
            if got {
                fence(tx).await?;
                return Ok(slot);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "{host} had no free slot for {} minutes",
                HOST_WAIT.as_secs() / 60
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Right after a database restart every slot looks free, while the scans that held them
/// may still be running until their next ping fails: a slot taken then is used only after
/// that ping has had time to come.
async fn fence(tx: &mut Transaction<'_, Postgres>) -> Result<(), String> {
    let age: f64 = sqlx::query_scalar(
        "SELECT EXTRACT(EPOCH FROM (now() - pg_postmaster_start_time()))::float8",
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| format!("reading the database's start time: {e}"))?;
    if age < FRESH_SERVER.as_secs_f64() {
        tokio::time::sleep(PING * 3).await;
    }
    Ok(())
}

/// Returns when the job's connection (the one holding the host's slot) stops answering.
async fn hold(tx: &mut Transaction<'_, Postgres>) -> String {
    loop {
        tokio::time::sleep(PING).await;
        let ping = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&mut **tx);
        match tokio::time::timeout(Duration::from_secs(10), ping).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return e.to_string(),
            Err(_) => return "no answer within 10 s".into(),
        }
    }
}

/// The first key of a host's advisory locks: 32 bits of SHA-256 of its name. (The second
/// key is the slot; two-key advisory locks do not collide with underway's one-key ones.)
fn host_lock_key(host: &str) -> i32 {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!("authprobe-host:{host}").as_bytes());
    i32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// The queue and its job, for `serve` (which enqueues and may run workers) and `authprobe
/// worker` (which runs them).
#[derive(Clone)]
pub struct Fleet {
    pg: PgPool,
    queue: Arc<Queue<ScanJob>>,
    job: ScanJob,
}

/// How a fleet member runs its scans.
#[derive(Clone, Copy, Debug)]
pub struct FleetOptions {
    /// Scans of one host at once, across all workers.
    pub host_limit: usize,
    /// Connections to PostgreSQL for the queue (each running job holds one).
    pub connections: u32,
}

impl Fleet {
    /// Connects to `url`, creates underway's tables if needed, and opens the queue.
    pub async fn connect(
        url: &str,
        runner: Runner,
        options: FleetOptions,
    ) -> anyhow::Result<Fleet> {
        use anyhow::Context;
        let pg = sqlx::postgres::PgPoolOptions::new()
            .max_connections(options.connections.max(4))
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .context("connecting the job queue to PostgreSQL")?;
        // Several processes may start at once: one migrates, the others wait on the lock.
        underway::run_migrations(&pg)
            .await
            .context("creating the job queue's tables")?;
        let queue = Queue::builder()
            .name(QUEUE)
            .pool(pg.clone())
            .build()
            .await
            .context("opening the job queue")?;
        Ok(Fleet {
            pg,
            queue: Arc::new(queue),
            job: ScanJob {
                runner,
                host_limit: options.host_limit.max(1),
                hand_back: CancellationToken::new(),
            },
        })
    }

    /// Queues a job for a scan already queued in the store.
    pub async fn enqueue(&self, scan_id: i64) -> Result<(), String> {
        self.queue
            .enqueue(&self.pg, &self.job, &ScanInput { scan_id })
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Runs up to `concurrency` jobs at once until `stop` is cancelled; then takes no new
    /// job, waits up to `grace` for the scans in hand, and hands back those still running.
    /// A worker loop that fails (PostgreSQL restarting) starts again.
    pub async fn work(&self, concurrency: usize, stop: CancellationToken, grace: Duration) {
        let hand_back = self.job.hand_back.clone();
        {
            let stop = stop.clone();
            tokio::spawn(async move {
                stop.cancelled().await;
                tokio::time::sleep(grace).await;
                hand_back.cancel();
            });
        }
        loop {
            let mut worker = Worker::new(self.queue.clone(), self.job.clone());
            worker.set_concurrency_limit(concurrency.max(1));
            worker.set_shutdown_token(stop.clone());
            let period = (POLL.as_secs() as i64).seconds();
            match worker.run_every(period).await {
                Ok(()) => return,
                Err(e) => {
                    if stop.is_cancelled() {
                        return;
                    }
                    tracing::warn!("job queue worker: {e}; starting again");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }

    /// Every `every`: queues again the running scans whose worker went silent (it died,
    /// or lost the database while its job's record did not), and queues a job for every
    /// queued scan that has none (a process stopped between storing the scan and queuing
    /// its job).
    pub fn spawn_reconciler(&self, every: Duration) {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let silent_since = crate::store::now_millis() - SILENCE.as_millis() as i64;
                match me.job.runner.store.requeue_silent(silent_since).await {
                    Ok(ids) => {
                        // A job of its own each: the old one may still look alive to the
                        // queue, and a second job for a scan runs it at most once.
                        for id in ids {
                            tracing::warn!("scan {id}: its worker went silent; queued again");
                            if let Err(e) = me.enqueue(id).await {
                                tracing::warn!("queuing scan {id}: {e}");
                            }
                        }
                    }
                    Err(e) => tracing::warn!("looking for silent workers' scans: {e}"),
                }
                match me.orphans().await {
                    Ok(ids) => {
                        for id in ids {
                            tracing::info!("scan {id} had no job; queuing one");
                            if let Err(e) = me.enqueue(id).await {
                                tracing::warn!("queuing scan {id}: {e}");
                            }
                        }
                    }
                    Err(e) => tracing::warn!("looking for scans without a job: {e}"),
                }
            }
        });
    }

    /// Queued scans that nobody waits to start: due, silent for [`SILENCE`] (a job waiting
    /// for the scan's host says so every [`HEARTBEAT`]), and with no job pending.
    async fn orphans(&self) -> Result<Vec<i64>, sqlx::Error> {
        let now = crate::store::now_millis();
        let silent_since = now - SILENCE.as_millis() as i64;
        sqlx::query_scalar(
            "SELECT s.id FROM scans s WHERE s.status = 'queued' \
             AND COALESCE(s.run_after, 0) <= $1 \
             AND COALESCE(s.heartbeat_at, s.created_at) < $2 \
             AND NOT EXISTS (SELECT 1 FROM underway.task t WHERE t.task_queue_name = $3 \
             AND t.state = 'pending' AND (t.input->>'scan_id')::bigint = s.id) \
             ORDER BY s.id LIMIT 1000",
        )
        .bind(now)
        .bind(silent_since)
        .bind(QUEUE)
        .fetch_all(&self.pg)
        .await
    }
}
