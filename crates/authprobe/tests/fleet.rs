//! A fleet on one PostgreSQL job queue: `serve` (running no scan itself) and several
//! `authprobe worker` processes scan many targets spread over a few labs. In the middle,
//! one worker is killed with SIGKILL and PostgreSQL is restarted. Every target must be
//! scanned exactly once (one scan row, done, with one report), and no lab may ever have
//! answered more requests at once than its per-host limit allows: scans of one host at
//! once (`--host-concurrency`) times requests in flight per scan (`--scan-concurrency`).
//!
//! Its own test binary: it restarts the binary's PostgreSQL cluster. The CI-sized run is
//! `a_fleet_survives_a_killed_worker_and_a_database_restart`; the load test (1,000
//! targets, three workers, ignored) prints the throughput:
//! `cargo test --release -p authprobe --test fleet -- --ignored --nocapture`.

mod common;

use authprobe_lab::{Lab, LabOptions, Profile};
use common::server::{BIN, Server, lab_credentials, lab_url, tarpit};
use common::{lab_with, pg, strings};
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Checks quick enough for many scans, each making a few requests.
const CHECKS: &[&str] = &["jwt.alg_none", "jwt.missing_exp", "tls.hsts_missing"];

struct Run {
    targets: usize,
    labs: usize,
    workers: usize,
    /// Scans each worker runs at once.
    concurrency: u32,
    /// Scans of one host at once, across the fleet.
    host_limit: u32,
    /// Requests in flight per scan.
    scan_concurrency: u32,
}

struct Figures {
    elapsed: Duration,
    per_minute: f64,
    /// Per lab: the most requests it answered at once.
    max_in_flight: Vec<usize>,
    /// Scans started more than once (their worker was killed, or the database went away).
    restarted: i64,
}

struct Worker {
    child: Child,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The flags of a load run's workers.
fn worker_flags(run: &Run) -> Vec<String> {
    [
        "--concurrency",
        &run.concurrency.to_string(),
        "--host-concurrency",
        &run.host_limit.to_string(),
        "--scan-concurrency",
        &run.scan_concurrency.to_string(),
        "--max-attempts",
        "5",
        "--retry-backoff",
        "1s",
    ]
    .map(str::to_string)
    .to_vec()
}

/// Worker `n` on `db`, with `flags`, once it takes jobs.
fn worker(db: &str, dir: &Path, n: usize, flags: &[String]) -> Worker {
    let ready = dir.join(format!("worker-{n}.json"));
    let child = Command::new(BIN)
        .args(["worker", "--db", db])
        .arg("--data-dir")
        .arg(dir)
        .args(flags)
        .arg("--ready-file")
        .arg(&ready)
        .env_remove("AUTHPROBE_SECRET_KEY")
        .env_remove("AUTHPROBE_DB")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the worker starts");
    let mut w = Worker { child };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready.exists() {
        if let Ok(Some(status)) = w.child.try_wait() {
            panic!("worker {n} exited before it was ready: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "worker {n} not ready within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    w
}

async fn counts(pool: &sqlx::PgPool) -> Option<(i64, i64)> {
    sqlx::query_as::<_, (i64, i64)>(
        "SELECT COUNT(*) FILTER (WHERE status = 'done'), \
         COUNT(*) FILTER (WHERE status IN ('failed', 'interrupted')) FROM scans",
    )
    .fetch_one(pool)
    .await
    .ok()
}

async fn fleet(run: Run) -> Option<Figures> {
    let db = pg::database()?;
    let labs: Vec<Lab> = {
        let mut v = Vec::new();
        for _ in 0..run.labs {
            // Answers that take a while, as over a network: two scans of one lab at once
            // then show as two requests in flight, which the limit must prevent.
            v.push(
                lab_with(LabOptions {
                    profile: Profile::Hardened,
                    flaws: strings(&["jwt.alg_none"]),
                    latency: Duration::from_millis(20),
                    ..Default::default()
                })
                .await,
            );
        }
        v
    };
    let dir = tempfile::tempdir().unwrap();
    let host_limit = run.host_limit.to_string();
    let server = Server::start(
        db.url(),
        dir.path(),
        &[
            "--workers",
            "0",
            "--host-concurrency",
            &host_limit,
            "--max-attempts",
            "5",
            "--retry-backoff",
            "1s",
        ],
    )
    .await;
    let mut ids = Vec::with_capacity(run.targets);
    for i in 0..run.targets {
        let l = &labs[i % labs.len()];
        let (s, t) = server
            .post(
                "/api/v1/targets",
                json!({
                    "name": format!("tenant {i}"),
                    "url": format!("{}?tenant={i}", lab_url(l)),
                    "credentials": lab_credentials(l),
                    "checks": CHECKS,
                }),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        ids.push(t["id"].as_i64().unwrap());
    }
    let mut workers: Vec<Option<Worker>> = (0..run.workers)
        .map(|n| Some(worker(db.url(), dir.path(), n, &worker_flags(&run))))
        .collect();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(db.url())
        .await
        .unwrap();

    let started = Instant::now();
    for id in &ids {
        let (s, v) = server
            .post(&format!("/api/v1/targets/{id}/scans"), json!({}))
            .await;
        assert_eq!(s, 202, "{v}");
    }
    let n = run.targets as i64;
    let limit = Duration::from_secs(180 + run.targets as u64);
    let (mut killed, mut restarted_db) = (false, false);
    loop {
        let (done, failed) = counts(&pool).await.unwrap_or((0, 0));
        if done + failed >= n {
            break;
        }
        if !killed && done >= n / 4 {
            // SIGKILL while it runs a scan: the scan is taken over once its heartbeats stop.
            let pid = workers[0].as_ref().map(|w| w.child.id()).unwrap_or(0);
            let busy: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM scans WHERE status = 'running' AND worker LIKE $1",
            )
            .bind(format!("worker@%:{pid}"))
            .fetch_one(&pool)
            .await
            .unwrap_or(0);
            if busy > 0 {
                workers[0].take();
                killed = true;
            }
        }
        if !restarted_db && done >= n / 2 {
            tokio::task::spawn_blocking(pg::restart).await.unwrap();
            restarted_db = true;
        }
        assert!(
            started.elapsed() < limit,
            "{done} done, {failed} failed of {n} after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = started.elapsed();
    assert!(
        killed && restarted_db,
        "the run ended before the disruptions"
    );

    // Every target scanned exactly once, every scan done, one report each.
    let (scans, targets_scanned, done, reports, orphans): (i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM scans), (SELECT COUNT(DISTINCT target_id) FROM scans), \
             (SELECT COUNT(*) FROM scans WHERE status = 'done'), (SELECT COUNT(*) FROM reports), \
             (SELECT COUNT(*) FROM scans s WHERE s.status = 'done' \
              AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.scan_id = s.id))",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
    let failures: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, error FROM scans WHERE status <> 'done' LIMIT 5")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(scans, n, "one scan per target");
    assert_eq!(targets_scanned, n, "every target scanned");
    assert_eq!(done, n, "every scan done: {failures:?}");
    assert_eq!(reports, n, "one report per scan, none lost or duplicated");
    assert_eq!(orphans, 0);
    let restarted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scans WHERE attempts > 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    // The per-host limit held across the whole fleet, by the labs' own count.
    let bound = (run.host_limit * run.scan_concurrency) as usize;
    let max_in_flight: Vec<usize> = labs.iter().map(Lab::max_in_flight).collect();
    for (i, m) in max_in_flight.iter().enumerate() {
        assert!(
            *m <= bound,
            "lab {i} answered {m} requests at once; the limit is {bound}"
        );
    }
    drop(workers);
    drop(server);
    Some(Figures {
        elapsed,
        per_minute: n as f64 / elapsed.as_secs_f64() * 60.0,
        max_in_flight,
        restarted,
    })
}

fn report(run: &str, f: &Figures) {
    eprintln!(
        "{run}: {:.1}s, {:.0} scans/minute, most requests at once per lab {:?}, {} scans started more than once",
        f.elapsed.as_secs_f64(),
        f.per_minute,
        f.max_in_flight,
        f.restarted
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_survives_a_killed_worker_and_a_database_restart() {
    let run = Run {
        targets: 40,
        labs: 2,
        workers: 2,
        concurrency: 3,
        host_limit: 1,
        scan_concurrency: 1,
    };
    if let Some(f) = fleet(run).await {
        report("fleet (40 targets, 2 workers)", &f);
        assert!(
            f.restarted >= 1,
            "the killed worker's scans were taken over"
        );
    }
}

/// The load test of docs/fleet.md: 1,000 targets on four labs, three workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "load test: about two minutes; run with --ignored --nocapture"]
async fn load_1000_targets_three_workers() {
    let run = Run {
        targets: 1000,
        labs: 4,
        workers: 3,
        concurrency: 4,
        host_limit: 2,
        scan_concurrency: 1,
    };
    if let Some(f) = fleet(run).await {
        report("fleet (1,000 targets, 3 workers)", &f);
    }
}

/// The deployment examples (deploy/systemd, deploy/kubernetes) give authprobe flags it
/// has: each command line is parsed by the binary itself (`--help` after the flags stops
/// it there; a flag it does not know fails before).
#[test]
fn deployment_examples_use_real_flags() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    for unit in ["authprobe-serve.service", "authprobe-worker.service"] {
        let text = std::fs::read_to_string(root.join("systemd").join(unit)).unwrap();
        let exec = text
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .expect("ExecStart");
        let mut words = exec.split_whitespace();
        assert!(words.next().unwrap().ends_with("/authprobe"), "{exec}");
        lines.push((unit.into(), words.map(str::to_string).collect()));
    }
    let text = std::fs::read_to_string(root.join("kubernetes/authprobe.yaml")).unwrap();
    for doc in text.split("\n---\n") {
        let v: serde_json::Value = serde_saphyr::from_str(doc).expect("YAML");
        if let Some(containers) = v.pointer("/spec/template/spec/containers") {
            for c in containers.as_array().unwrap() {
                let args: Vec<String> = c["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect();
                lines.push((format!("kubernetes {}", c["name"]), args));
            }
        }
    }
    assert_eq!(lines.len(), 4);
    for (what, args) in lines {
        let out = Command::new(BIN)
            .args(&args)
            .arg("--help")
            .output()
            .expect("the binary runs");
        assert!(
            out.status.success(),
            "{what}: {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// SIGTERM: the worker takes no new scan, lets the one in hand run for `--grace`, then
/// hands it back to the queue and exits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_worker_hands_back_its_scan() {
    let Some(db) = pg::database() else {
        return;
    };
    // Its scan outlasts the grace.
    let (url, held) = tarpit().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(db.url(), dir.path(), &["--workers", "0"]).await;
    let (_, t) = server
        .post(
            "/api/v1/targets",
            json!({"url": url, "credentials": {"bearer": "tok"}}),
        )
        .await;
    let (_, scan) = server
        .post(&format!("/api/v1/targets/{}/scans", t["id"]), json!({}))
        .await;
    let id = scan["id"].as_i64().unwrap();
    let mut w = worker(db.url(), dir.path(), 0, &["--grace".into(), "1s".into()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, v) = server.get(&format!("/api/v1/scans/{id}")).await;
        if v["status"] == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "never started: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = w.child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = w.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the worker did not stop");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status}");
    let (_, v) = server.get(&format!("/api/v1/scans/{id}")).await;
    assert_eq!(v["status"], "queued", "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .contains("handed back"),
        "{v}"
    );
    held.abort();
}
