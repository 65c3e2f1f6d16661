//! The dashboard's speed on a large history: 10,000 scans and 500,000 findings seeded
//! from a real report of the lab, then the targets list, a target's history, a scan page
//! and a diff each requested many times from a real `authprobe serve`, p50/p95 printed.
//! Ignored by default (it takes minutes); run it with
//! `bash crates/authprobe/bench/serve-pages.sh` (SQLite, and PostgreSQL when installed).

mod common;

use authprobe::report::Report;
use authprobe::store::crypto::Sealer;
use authprobe::store::{NewTarget, Store};
use authprobe_lab::Profile;
use common::server::Server;
use common::*;
use std::time::{Duration, Instant};

fn env_usize(k: &str, d: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

/// A real report of the vulnerable lab, trimmed or padded to `n` findings.
async fn template(n: usize) -> Report {
    let lab = lab(Profile::Vulnerable, &[]).await;
    let mut opts = options(&lab, quick_limits());
    opts.jwt.crack_time = Duration::from_secs(2);
    let mut r = scan(opts).await;
    assert!(!r.findings.is_empty());
    let base = r.findings.clone();
    r.findings = (0..n)
        .map(|i| {
            let mut f = base[i % base.len()].clone();
            if i >= base.len() {
                // Distinct findings, as a whole-API scan has per operation.
                f.operations = vec![format!("op{i}")];
            }
            f
        })
        .collect();
    r
}

fn pct(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i].as_secs_f64() * 1000.0
}

async fn bench(db: String, dir: &std::path::Path, label: &str) {
    let targets = env_usize("BENCH_TARGETS", 200);
    let per = env_usize("BENCH_SCANS_PER_TARGET", 50);
    // 51: each seeded scan drops one, so 50 remain (500,000 in all).
    let findings = env_usize("BENCH_FINDINGS_PER_SCAN", 51);
    let rounds = env_usize("BENCH_ROUNDS", 200);
    let tpl = template(findings).await;
    let (sealer, _) = Sealer::from_env_or_file(None, &dir.join("secret.key")).unwrap();
    let store = Store::open(&db, sealer).await.unwrap();
    let before = store.size_bytes().await.unwrap();
    let seed = Instant::now();
    let mut ids = Vec::new();
    for t in 0..targets {
        let target = store
            .create_target(NewTarget {
                url: format!("https://api{t}.example.test/v1/me"),
                ..NewTarget::default()
            })
            .await
            .unwrap();
        let mut last = Vec::new();
        for s in 0..per {
            let mut r = tpl.clone();
            r.target = target.url.clone();
            r.score = ((t * 7 + s * 13) % 100) as u32;
            // Every scan differs a little from the one before: a diff has work to do.
            let drop = (t + s) % r.findings.len();
            r.findings.remove(drop);
            let row = store.import_report(target.id, &r).await.unwrap();
            last.push(row.id);
        }
        ids.push((target.id, last));
    }
    let seeded = seed.elapsed();
    let after = store.size_bytes().await.unwrap();
    let scans = targets * per;
    eprintln!(
        "[{label}] seeded {scans} scans, {} findings in {:.1} s; database {:.1} MiB, {:.1} KiB per scan",
        scans * (findings - 1),
        seeded.as_secs_f64(),
        after as f64 / 1048576.0,
        (after - before) as f64 / 1024.0 / scans as f64
    );
    let user = store
        .create_user("bench", "bench password 1")
        .await
        .unwrap();
    let (token, _) = store
        .create_session(user.id, Duration::from_secs(3600))
        .await
        .unwrap();
    drop(store);

    let server = Server::start(&db, dir, &[]).await;
    let cookie = format!("{}={token}", authprobe::service::auth::COOKIE);
    let c = &server.client;
    let (tid, scan_ids) = &ids[ids.len() / 2];
    let pages = [
        ("targets list", "/".to_string()),
        ("target history", format!("/targets/{tid}")),
        ("scan page", format!("/scans/{}", scan_ids[per / 2])),
        (
            "diff",
            format!(
                "/targets/{tid}/diff?from={}&to={}",
                scan_ids[per / 2 - 1],
                scan_ids[per / 2]
            ),
        ),
    ];
    for (name, path) in &pages {
        let mut times = Vec::new();
        for _ in 0..rounds {
            let t = Instant::now();
            let r = c
                .get(server.at(path))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            let body = r.bytes().await.unwrap();
            assert!(body.len() > 100);
            times.push(t.elapsed());
        }
        eprintln!(
            "[{label}] {name:15} p50 {:6.1} ms  p95 {:6.1} ms  ({rounds} requests, {path})",
            pct(times.clone(), 0.50),
            pct(times, 0.95)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: bash crates/authprobe/bench/serve-pages.sh"]
async fn pages_on_a_large_history_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("authprobe.db").display());
    bench(db, dir.path(), "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: bash crates/authprobe/bench/serve-pages.sh"]
async fn pages_on_a_large_history_postgres() {
    let Some(pg) = common::pg::database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    bench(pg.url().to_string(), dir.path(), "postgres").await;
}
