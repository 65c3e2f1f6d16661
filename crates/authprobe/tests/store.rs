//! The history store on both backends: every test body runs on a SQLite file and on a
//! throwaway PostgreSQL cluster (tests/common/pg.rs; skipped with a note when PostgreSQL
//! is not installed, unless CI is set).

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use authprobe::report::Report;
use authprobe::store::crypto::Sealer;
use authprobe::store::{
    Backend, DeliveryStatus, NewDelivery, NewTarget, NewWebhook, ScanStatus, Store, StoreError,
    TargetCredentials, TargetPatch, WebhookEvents, WebhookFormat, fingerprint, now_millis,
};
use common::pg;

/// A fresh database and a store on it.
struct Ctx {
    store: Store,
    url: String,
    /// The SQLite file, to look for plaintext in it.
    file: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<pg::PgDatabase>,
}

const KEY: [u8; 32] = [42; 32];

impl Ctx {
    async fn sqlite() -> Ctx {
        let dir = tempfile::tempdir().unwrap();
        // A directory that does not exist yet: open creates it.
        let file = dir.path().join("data").join("history.db");
        let url = format!("sqlite://{}", file.display());
        let store = Store::open(&url, Sealer::new(KEY))
            .await
            .expect("open sqlite");
        assert_eq!(store.backend(), Backend::Sqlite);
        Ctx {
            store,
            url,
            file: Some(file),
            _dir: Some(dir),
            _pg: None,
        }
    }
    async fn postgres() -> Option<Ctx> {
        let db = pg::database()?;
        let url = db.url().to_string();
        let store = Store::open(&url, Sealer::new(KEY))
            .await
            .expect("open postgres");
        assert_eq!(store.backend(), Backend::Postgres);
        Some(Ctx {
            store,
            url,
            file: None,
            _dir: None,
            _pg: Some(db),
        })
    }
    /// A second connection that bypasses the store, for raw looks at the rows.
    async fn raw(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = match &self.file {
            Some(file) => format!("sqlite://{}", file.display()),
            None => self.url.clone(),
        };
        sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("raw connection")
    }
}

/// Each body runs as `<name>::sqlite` and `<name>::postgres`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name(super::Ctx::sqlite().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(ctx) = super::Ctx::postgres().await {
                    super::$name(ctx).await;
                }
            }
        }
    )*};
}

on_both!(
    migrations_are_idempotent,
    api_keys,
    users_and_logins,
    sessions,
    targets_and_sealed_credentials,
    wrong_key_cannot_open_credentials,
    enqueue_conflicts_while_active,
    claims_are_atomic,
    finish_stores_report_and_findings,
    finish_refuses_a_scan_not_running,
    fail_and_import,
    recover_requeues_running_scans,
    list_scans_pages_newest_first,
    list_targets_summaries,
    diff_by_fingerprint,
    delete_target_cascades,
    due_targets_follow_schedules,
    schedules_are_stored_and_switched,
    due_targets_follow_cron_and_jitter,
    size_is_reported,
    scans_are_jobs,
    webhooks_keep_their_secret_sealed,
    deliveries_queue_lease_and_finish,
    delivery_claims_are_exclusive,
);

fn finding(id: &str, severity: &str, operations: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "title": format!("title of {id}"),
        "severity": severity,
        "confidence": "firm",
        "cwe": [],
        "owasp": [],
        "description": "d",
        "evidence": {"request": "GET /", "status": 200, "excerpt": "", "curl": "curl"},
        "remediation": {"summary": "fix it", "frameworks": {}},
        "operations": operations,
    })
}

fn report(target: &str, score: u32, findings: Vec<serde_json::Value>) -> Report {
    serde_json::from_value(serde_json::json!({
        "schema_version": 2,
        "tool": {"name": "authprobe", "version": "test"},
        "target": target,
        "started_at": "2026-01-01T00:00:00Z",
        "duration_ms": 1234,
        "requests_sent": 56,
        "score": score,
        "grade": if score >= 90 { "A" } else { "C" },
        "grade_caps": [],
        "categories": {},
        "findings": findings,
        "checks_run": ["jwt.alg_none"],
        "checks_skipped": [],
        "inconclusive": [],
    }))
    .expect("a valid report")
}

fn new_target(url: &str) -> NewTarget {
    NewTarget {
        url: url.to_string(),
        ..NewTarget::default()
    }
}

/// A target with a scan that is now running.
async fn running_scan(store: &Store, url: &str) -> (i64, i64) {
    let target = store.create_target(new_target(url)).await.unwrap();
    let scan = store.enqueue_scan(target.id, "api").await.unwrap();
    let claimed = store
        .claim_next_scan("test")
        .await
        .unwrap()
        .expect("a queued scan");
    assert_eq!(claimed.id, scan.id);
    (target.id, scan.id)
}

async fn migrations_are_idempotent(ctx: Ctx) {
    let key = ctx.store.create_api_key("first", true).await.unwrap();
    drop(ctx.store);
    for _ in 0..2 {
        let again = Store::open(&ctx.url, Sealer::new(KEY))
            .await
            .expect("reopen");
        assert_eq!(again.api_key_count().await.unwrap(), 1);
        assert!(again.verify_api_key(&key.1).await.unwrap().is_some());
    }
}

async fn api_keys(ctx: Ctx) {
    let store = &ctx.store;
    assert_eq!(store.api_key_count().await.unwrap(), 0);
    let (info, key) = store.create_api_key("ci", false).await.unwrap();
    let (admin_info, admin_key) = store.create_api_key("admin", true).await.unwrap();
    assert_eq!(store.api_key_count().await.unwrap(), 2);
    assert!(key.starts_with("ap_") && key.len() == 3 + 43, "{key}");
    assert_ne!(key, admin_key);
    assert!(!info.admin && admin_info.admin);
    assert_eq!(info.last_used_at, None);

    let seen = store
        .verify_api_key(&key)
        .await
        .unwrap()
        .expect("valid key");
    assert_eq!(
        (seen.id, seen.name.as_str(), seen.admin),
        (info.id, "ci", false)
    );
    assert!(seen.last_used_at.is_some());
    let seen = store.verify_api_key(&admin_key).await.unwrap().unwrap();
    assert_eq!(seen.id, admin_info.id);
    assert!(seen.admin);

    // Tampered, truncated, wrong.
    let mut tampered = key.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    for bad in [
        String::from_utf8(tampered).unwrap(),
        key[..key.len() - 1].to_string(),
        format!("{key}x"),
        key.trim_start_matches("ap_").to_string(),
        String::new(),
        "ap_".to_string(),
    ] {
        assert_eq!(store.verify_api_key(&bad).await.unwrap(), None, "{bad}");
    }
    // Only the hash is stored.
    let raw = ctx.raw().await;
    let hashes: Vec<String> = sqlx::query_scalar("SELECT key_hash FROM api_keys")
        .fetch_all(&raw)
        .await
        .unwrap();
    assert_eq!(hashes.len(), 2);
    for hash in hashes {
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(key.trim_start_matches("ap_")));
    }
    assert!(matches!(
        store.create_api_key("  ", false).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn users_and_logins(ctx: Ctx) {
    let store = &ctx.store;
    assert_eq!(store.user_count().await.unwrap(), 0);
    let user = store
        .create_user("alice", "correct horse battery")
        .await
        .unwrap();
    assert_eq!(user.username, "alice");
    assert_eq!(store.user_count().await.unwrap(), 1);
    assert!(matches!(
        store.create_user("alice", "another long password").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_user("bob", "short").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_user("", "long enough password").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_user("bad\nname", "long enough password").await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.user_count().await.unwrap(), 1);

    let ok = store
        .verify_login("alice", "correct horse battery")
        .await
        .unwrap();
    assert_eq!(ok, Some(user.clone()));
    assert_eq!(
        store
            .verify_login("alice", "correct horse battery!")
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.verify_login("alice", "").await.unwrap(), None);
    assert_eq!(
        store
            .verify_login("mallory", "correct horse battery")
            .await
            .unwrap(),
        None
    );
    // The stored hash is argon2id, not the password.
    let raw = ctx.raw().await;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("horse"));
}

async fn sessions(ctx: Ctx) {
    let store = &ctx.store;
    let user = store
        .create_user("carol", "a long password!")
        .await
        .unwrap();
    let (token, session) = store
        .create_session(user.id, Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(session.user, user);
    assert!(token.len() >= 43 && session.csrf.len() >= 43);
    assert_ne!(token, session.csrf);
    let found = store.session(&token).await.unwrap().expect("live session");
    assert_eq!(found.user, user);
    assert_eq!(found.csrf, session.csrf);
    assert_eq!(found.expires_at, session.expires_at);
    assert!(store.session("nope").await.unwrap().is_none());
    assert!(store.session("").await.unwrap().is_none());

    // Expired.
    let (short, _) = store
        .create_session(user.id, Duration::from_millis(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(store.session(&short).await.unwrap().is_none());

    // Deleted.
    store.delete_session(&token).await.unwrap();
    assert!(store.session(&token).await.unwrap().is_none());
    store.delete_session(&token).await.unwrap();

    // The token is stored hashed.
    let (live, _) = store
        .create_session(user.id, Duration::from_secs(60))
        .await
        .unwrap();
    let raw = ctx.raw().await;
    let hashes: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(&raw)
        .await
        .unwrap();
    assert!(!hashes.is_empty());
    assert!(hashes.iter().all(|h| h != &live && h.len() == 64));
    assert!(matches!(
        store.create_session(9999, Duration::from_secs(60)).await,
        Err(StoreError::NotFound(_))
    ));
}

const SECRET: &str = "tok-3c0b1e5a9f-very-secret";

fn credentials() -> TargetCredentials {
    TargetCredentials {
        bearer: Some(SECRET.to_string()),
        basic: Some("admin:hunter2-secret".into()),
        api_keys: vec!["X-Api-Key=key-value-secret".into()],
        headers: vec!["X-Tenant: tenant-secret".into()],
        ..TargetCredentials::default()
    }
}

async fn targets_and_sealed_credentials(ctx: Ctx) {
    let store = &ctx.store;
    let plain = store
        .create_target(new_target("https://api.example.com:8443/v1"))
        .await
        .unwrap();
    assert_eq!(plain.name, "api.example.com:8443/v1");
    assert_eq!(plain.spec, None);
    assert!(plain.checks.is_empty());
    assert_eq!(plain.schedule_minutes, None);
    assert_eq!(plain.credentials, Default::default());
    assert_eq!(store.target(plain.id).await.unwrap(), Some(plain.clone()));
    assert_eq!(
        store.target_credentials(plain.id).await.unwrap(),
        Some(TargetCredentials::default())
    );

    let full = store
        .create_target(NewTarget {
            name: Some("Orders".into()),
            url: "https://orders.example.com/".into(),
            spec: Some("auto".into()),
            checks: vec!["jwt".into(), "tls.version".into()],
            schedule_minutes: Some(60),
            credentials: credentials(),
            ..NewTarget::default()
        })
        .await
        .unwrap();
    assert_eq!(full.name, "Orders");
    assert_eq!(full.checks, ["jwt", "tls.version"]);
    assert_eq!(full.schedule_minutes, Some(60));
    assert!(full.credentials.bearer && full.credentials.basic);
    assert_eq!(full.credentials.api_keys, ["X-Api-Key"]);
    assert_eq!(full.credentials.headers, ["X-Tenant"]);
    assert_eq!(
        store.target_credentials(full.id).await.unwrap(),
        Some(credentials())
    );
    assert_eq!(store.target_credentials(9999).await.unwrap(), None);
    assert_eq!(store.target(9999).await.unwrap(), None);

    // No secret in the row (raw) nor in the database file.
    let raw = ctx.raw().await;
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT credentials FROM targets WHERE id = $1")
        .bind(full.id)
        .fetch_one(&raw)
        .await
        .unwrap();
    assert!(sealed.len() > 28);
    let kinds: String =
        sqlx::query_scalar("SELECT credential_kinds_json FROM targets WHERE id = $1")
            .bind(full.id)
            .fetch_one(&raw)
            .await
            .unwrap();
    assert!(kinds.contains("X-Api-Key"));
    for secret in [SECRET, "hunter2", "key-value-secret", "tenant-secret"] {
        let needle = secret.as_bytes();
        assert!(!sealed.windows(needle.len()).any(|w| w == needle));
        assert!(!kinds.contains(secret));
    }
    if let Some(file) = &ctx.file {
        for path in [
            file.clone(),
            PathBuf::from(format!("{}-wal", file.display())),
        ] {
            let bytes = std::fs::read(&path).unwrap_or_default();
            for secret in [SECRET, "hunter2", "key-value-secret", "tenant-secret"] {
                let needle = secret.as_bytes();
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{secret} in {}",
                    path.display()
                );
            }
        }
        // ... while the kinds are there in clear: the scan finds what it looks for.
        let main = std::fs::read(file).unwrap_or_default();
        let wal = std::fs::read(format!("{}-wal", file.display())).unwrap_or_default();
        let needle = b"X-Api-Key";
        assert!(
            main.windows(needle.len()).any(|w| w == needle)
                || wal.windows(needle.len()).any(|w| w == needle)
        );
    }

    // Patch: fields left alone stay, Some(None) clears, credentials replaced at once.
    let before = store.target(full.id).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let patched = store
        .update_target(
            full.id,
            TargetPatch {
                name: Some("Orders v2".into()),
                spec: Some(None),
                schedule_minutes: Some(None),
                credentials: Some(TargetCredentials {
                    bearer: Some("new-bearer".into()),
                    ..TargetCredentials::default()
                }),
                ..TargetPatch::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patched.name, "Orders v2");
    assert_eq!(patched.url, before.url);
    assert_eq!(patched.checks, before.checks);
    assert_eq!(patched.spec, None);
    assert_eq!(patched.schedule_minutes, None);
    assert!(patched.credentials.bearer && !patched.credentials.basic);
    assert!(patched.credentials.api_keys.is_empty());
    assert!(patched.updated_at > before.updated_at);
    assert_eq!(patched.created_at, before.created_at);
    assert_eq!(
        store
            .target_credentials(full.id)
            .await
            .unwrap()
            .unwrap()
            .bearer
            .as_deref(),
        Some("new-bearer")
    );
    let patched = store
        .update_target(
            full.id,
            TargetPatch {
                url: Some("https://orders2.example.com/".into()),
                checks: Some(vec![]),
                schedule_minutes: Some(Some(15)),
                ..TargetPatch::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patched.url, "https://orders2.example.com/");
    assert!(patched.checks.is_empty());
    assert_eq!(patched.schedule_minutes, Some(15));
    assert_eq!(patched.name, "Orders v2");
    assert_eq!(
        store
            .update_target(9999, TargetPatch::default())
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        store
            .update_target(
                full.id,
                TargetPatch {
                    url: Some("ftp://x/".into()),
                    ..TargetPatch::default()
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_target(new_target("not a url")).await,
        Err(StoreError::Invalid(_))
    ));

    // Imports find the target by URL, or make one.
    let found = store
        .target_for_url("https://orders2.example.com/")
        .await
        .unwrap();
    assert_eq!(found.id, full.id);
    let made = store
        .target_for_url("https://imported.example.com/x")
        .await
        .unwrap();
    assert_eq!(made.name, "imported.example.com/x");
    assert_eq!(
        store
            .target_for_url("https://imported.example.com/x")
            .await
            .unwrap()
            .id,
        made.id
    );
}

async fn wrong_key_cannot_open_credentials(ctx: Ctx) {
    let target = ctx
        .store
        .create_target(NewTarget {
            credentials: credentials(),
            ..new_target("https://a.example.com/")
        })
        .await
        .unwrap();
    let plain = ctx
        .store
        .create_target(new_target("https://b.example.com/"))
        .await
        .unwrap();
    let other = Store::open(&ctx.url, Sealer::new([7; 32])).await.unwrap();
    assert!(matches!(
        other.target_credentials(target.id).await,
        Err(StoreError::WrongKey)
    ));
    // What needs no key still works.
    assert_eq!(
        other.target(target.id).await.unwrap().unwrap().credentials,
        credentials().kinds()
    );
    assert_eq!(
        other.target_credentials(plain.id).await.unwrap(),
        Some(TargetCredentials::default())
    );
    // A blob moved to another row under the right key still opens (same AAD), but a
    // corrupted one does not.
    let raw = ctx.raw().await;
    sqlx::query("UPDATE targets SET credentials = $1 WHERE id = $2")
        .bind(vec![1u8; 64])
        .bind(target.id)
        .execute(&raw)
        .await
        .unwrap();
    assert!(matches!(
        ctx.store.target_credentials(target.id).await,
        Err(StoreError::WrongKey)
    ));
}

async fn enqueue_conflicts_while_active(ctx: Ctx) {
    let store = &ctx.store;
    let target = store
        .create_target(new_target("https://q.example.com/"))
        .await
        .unwrap();
    let scan = store.enqueue_scan(target.id, "ui").await.unwrap();
    assert_eq!(scan.status, ScanStatus::Queued);
    assert_eq!(scan.trigger, "ui");
    assert_eq!(scan.target_id, target.id);
    assert_eq!(scan.started_at, None);
    assert_eq!(scan.score, None);
    assert!(matches!(
        store.enqueue_scan(target.id, "api").await,
        Err(StoreError::Conflict(_))
    ));
    let running = store.claim_next_scan("test").await.unwrap().unwrap();
    assert_eq!(running.status, ScanStatus::Running);
    assert!(running.started_at.is_some());
    assert!(matches!(
        store.enqueue_scan(target.id, "api").await,
        Err(StoreError::Conflict(_))
    ));
    store.fail_scan(scan.id, "boom").await.unwrap();
    let next = store.enqueue_scan(target.id, "api").await.unwrap();
    assert!(next.id > scan.id);
    assert!(matches!(
        store.enqueue_scan(9999, "api").await,
        Err(StoreError::NotFound(_))
    ));

    // Many enqueuers at once: exactly one wins.
    let other = store
        .create_target(new_target("https://race.example.com/"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.enqueue_scan(other.id, "api").await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won, 1);
}

async fn claims_are_atomic(ctx: Ctx) {
    let store = &ctx.store;
    assert!(store.claim_next_scan("test").await.unwrap().is_none());
    let mut queued = Vec::new();
    for i in 0..5 {
        let target = store
            .create_target(new_target(&format!("https://t{i}.example.com/")))
            .await
            .unwrap();
        queued.push(store.enqueue_scan(target.id, "api").await.unwrap().id);
    }
    let store = Arc::new(store.clone());
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(scan) = store.claim_next_scan("test").await.unwrap() {
                assert_eq!(scan.status, ScanStatus::Running);
                mine.push(scan.id);
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    claimed.sort();
    assert_eq!(claimed, queued, "each scan claimed exactly once");
    for id in queued {
        assert_eq!(
            store.scan(id).await.unwrap().unwrap().status,
            ScanStatus::Running
        );
    }
}

async fn finish_stores_report_and_findings(ctx: Ctx) {
    let store = &ctx.store;
    let url = "https://api.example.com/";
    let (target_id, scan_id) = running_scan(store, url).await;
    let report = report(
        url,
        72,
        vec![
            finding("jwt.alg_none", "critical", &[]),
            finding("auth.missing", "high", &["GET /a", "POST /b"]),
            finding("tls.version", "low", &[]),
            finding("info.banner", "info", &[]),
        ],
    );
    let done = store.finish_scan(scan_id, &report).await.unwrap();
    assert_eq!(done.status, ScanStatus::Done);
    assert_eq!(done.target_id, target_id);
    assert_eq!(done.score, Some(72));
    assert_eq!(done.grade.as_deref(), Some("C"));
    assert_eq!(done.findings, Some(4));
    assert_eq!(done.severities, Some([1, 1, 0, 1, 1]));
    assert_eq!(done.requests_sent, Some(56));
    assert_eq!(done.duration_ms, Some(1234));
    assert!(done.finished_at.is_some());
    assert_eq!(store.scan(scan_id).await.unwrap(), Some(done));
    assert_eq!(store.report(scan_id).await.unwrap(), Some(report));

    let findings = store.findings(scan_id).await.unwrap();
    let got: Vec<(&str, &str, Option<&str>)> = findings
        .iter()
        .map(|f| {
            (
                f.severity.as_str(),
                f.check_id.as_str(),
                f.operation.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("critical", "jwt.alg_none", None),
            ("high", "auth.missing", Some("GET /a")),
            ("high", "auth.missing", Some("POST /b")),
            ("low", "tls.version", None),
            ("info", "info.banner", None),
        ]
    );
    // Fingerprints name the stored target, so they survive a change of its URL.
    let key = format!("target:{target_id}");
    assert_eq!(
        findings[1].fingerprint,
        fingerprint("auth.missing", &key, Some("GET /a"))
    );
    assert_eq!(
        findings[0].fingerprint,
        fingerprint("jwt.alg_none", &key, None)
    );
    assert_eq!(findings[0].title, "title of jwt.alg_none");

    // Hundreds of findings go in (several INSERT batches).
    let (_, big) = running_scan(store, "https://big.example.com/").await;
    let ops: Vec<String> = (0..250).map(|i| format!("GET /op/{i}")).collect();
    let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
    let many = self::report(
        "https://big.example.com/",
        10,
        vec![
            finding("auth.missing", "high", &ops),
            finding("jwt.exp", "medium", &[]),
        ],
    );
    store.finish_scan(big, &many).await.unwrap();
    assert_eq!(store.findings(big).await.unwrap().len(), 251);
    assert_eq!(store.report(9999).await.unwrap(), None);
    assert!(store.findings(9999).await.unwrap().is_empty());
}

async fn finish_refuses_a_scan_not_running(ctx: Ctx) {
    let store = &ctx.store;
    let target = store
        .create_target(new_target("https://n.example.com/"))
        .await
        .unwrap();
    let queued = store.enqueue_scan(target.id, "api").await.unwrap();
    let report = report(
        "https://n.example.com/",
        50,
        vec![finding("a", "high", &[])],
    );
    let err = store.finish_scan(queued.id, &report).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(
        store.scan(queued.id).await.unwrap(),
        Some(queued.clone()),
        "nothing written"
    );
    assert_eq!(store.report(queued.id).await.unwrap(), None);
    assert!(store.findings(queued.id).await.unwrap().is_empty());

    // Finished once: a second report is refused and the first kept.
    store.claim_next_scan("test").await.unwrap().unwrap();
    let first = store.finish_scan(queued.id, &report).await.unwrap();
    let other = self::report("https://n.example.com/", 99, vec![]);
    assert!(matches!(
        store.finish_scan(queued.id, &other).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.scan(queued.id).await.unwrap(), Some(first));
    assert_eq!(store.report(queued.id).await.unwrap(), Some(report));
    assert_eq!(store.findings(queued.id).await.unwrap().len(), 1);
    assert!(matches!(
        store.finish_scan(9999, &other).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn fail_and_import(ctx: Ctx) {
    let store = &ctx.store;
    let (target_id, scan_id) = running_scan(store, "https://f.example.com/").await;
    store
        .fail_scan(scan_id, "connection refused")
        .await
        .unwrap();
    let failed = store.scan(scan_id).await.unwrap().unwrap();
    assert_eq!(failed.status, ScanStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("connection refused"));
    assert!(failed.finished_at.is_some());
    assert_eq!(failed.score, None);
    assert!(matches!(
        store.fail_scan(scan_id, "again").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.fail_scan(9999, "x").await,
        Err(StoreError::NotFound(_))
    ));

    let report = report(
        "https://f.example.com/",
        95,
        vec![finding("tls.version", "medium", &[])],
    );
    let before = now_millis();
    let imported = store.import_report(target_id, &report).await.unwrap();
    assert_eq!(imported.status, ScanStatus::Done);
    assert_eq!(imported.trigger, "import");
    assert_eq!(imported.score, Some(95));
    assert_eq!(imported.severities, Some([0, 0, 1, 0, 0]));
    let finished = imported.finished_at.unwrap();
    assert!(finished >= before);
    assert_eq!(imported.started_at, Some(finished - 1234));
    assert_eq!(
        store.report(imported.id).await.unwrap(),
        Some(report.clone())
    );
    assert_eq!(store.findings(imported.id).await.unwrap().len(), 1);
    assert!(matches!(
        store.import_report(9999, &report).await,
        Err(StoreError::NotFound(_))
    ));
    // An import is no active scan.
    store.enqueue_scan(target_id, "api").await.unwrap();
}

async fn recover_requeues_running_scans(ctx: Ctx) {
    let store = &ctx.store;
    let (target_a, running_a) = running_scan(store, "https://ra.example.com/").await;
    let (_, running_b) = running_scan(store, "https://rb.example.com/").await;
    let other = store
        .create_target(new_target("https://rc.example.com/"))
        .await
        .unwrap();
    let queued = store.enqueue_scan(other.id, "api").await.unwrap();

    // As after a restart: a new store on the same database.
    let restarted = Store::open(&ctx.url, Sealer::new(KEY)).await.unwrap();
    let pairs = restarted.recover_interrupted().await.unwrap();
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs[0].0, running_a);
    assert_eq!(pairs[1].0, running_b);
    for (old, new) in &pairs {
        let old_scan = store.scan(*old).await.unwrap().unwrap();
        assert_eq!(old_scan.status, ScanStatus::Interrupted);
        let error = old_scan.error.unwrap();
        assert!(
            error.contains(&format!("re-queued as scan {new}")),
            "{error}"
        );
        let new_scan = store.scan(*new).await.unwrap().unwrap();
        assert_eq!(new_scan.status, ScanStatus::Queued);
        assert_eq!(new_scan.trigger, "requeue");
        assert_eq!(new_scan.requeued_from, Some(*old));
        assert_eq!(new_scan.target_id, old_scan.target_id);
    }
    assert_eq!(
        store.scan(queued.id).await.unwrap().unwrap().status,
        ScanStatus::Queued
    );
    // The late report of an interrupted scan is refused.
    let late = report("https://ra.example.com/", 1, vec![]);
    assert!(matches!(
        store.finish_scan(running_a, &late).await,
        Err(StoreError::Conflict(_))
    ));
    // Nothing left to recover; the re-queued scan is the target's active one.
    assert!(restarted.recover_interrupted().await.unwrap().is_empty());
    assert!(matches!(
        store.enqueue_scan(target_a, "api").await,
        Err(StoreError::Conflict(_))
    ));
}

/// Enqueue, claim and finish one scan of `target` with `score` and these findings.
async fn done_scan(
    store: &Store,
    target: i64,
    url: &str,
    score: u32,
    findings: Vec<serde_json::Value>,
) -> i64 {
    let scan = store.enqueue_scan(target, "api").await.unwrap();
    let claimed = store.claim_next_scan("test").await.unwrap().unwrap();
    assert_eq!(claimed.id, scan.id);
    store
        .finish_scan(scan.id, &report(url, score, findings))
        .await
        .unwrap();
    scan.id
}

async fn list_scans_pages_newest_first(ctx: Ctx) {
    let store = &ctx.store;
    let a = store
        .create_target(new_target("https://la.example.com/"))
        .await
        .unwrap();
    let b = store
        .create_target(new_target("https://lb.example.com/"))
        .await
        .unwrap();
    let mut all = Vec::new();
    let mut of_a = Vec::new();
    for i in 0..5 {
        let id = done_scan(store, a.id, &a.url, 50 + i, vec![]).await;
        all.push(id);
        of_a.push(id);
        all.push(done_scan(store, b.id, &b.url, 60 + i, vec![]).await);
    }
    all.reverse();
    of_a.reverse();
    let ids = |rows: Vec<authprobe::store::ScanRow>| rows.iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_scans(None, 100, None).await.unwrap()), all);
    assert_eq!(
        ids(store.list_scans(None, 3, None).await.unwrap()),
        all[..3]
    );
    assert_eq!(
        ids(store.list_scans(None, 3, Some(all[2])).await.unwrap()),
        all[3..6]
    );
    assert_eq!(
        ids(store.list_scans(Some(a.id), 100, None).await.unwrap()),
        of_a
    );
    assert_eq!(
        ids(store
            .list_scans(Some(a.id), 2, Some(of_a[1]))
            .await
            .unwrap()),
        of_a[2..4]
    );
    assert!(
        store
            .list_scans(Some(9999), 10, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.list_scans(None, 0, None).await.unwrap().is_empty());
}

async fn list_targets_summaries(ctx: Ctx) {
    let store = &ctx.store;
    let mk = |name: &str, url: &str| NewTarget {
        name: Some(name.into()),
        ..new_target(url)
    };
    let busy = store
        .create_target(mk("b-busy", "https://busy.example.com/"))
        .await
        .unwrap();
    let empty = store
        .create_target(mk("c-empty", "https://empty.example.com/"))
        .await
        .unwrap();
    let active = store
        .create_target(mk("a-active", "https://active.example.com/"))
        .await
        .unwrap();
    let mut busy_ids = Vec::new();
    for score in [10, 20, 30, 40, 50, 60, 70] {
        busy_ids.push(
            done_scan(
                store,
                busy.id,
                &busy.url,
                score,
                vec![finding("x", "low", &[])],
            )
            .await,
        );
    }
    // A failed scan after them is not "latest finished".
    let (failed_target, failed) = (
        busy.id,
        store.enqueue_scan(busy.id, "api").await.unwrap().id,
    );
    store.claim_next_scan("test").await.unwrap().unwrap();
    store.fail_scan(failed, "x").await.unwrap();
    assert_eq!(failed_target, busy.id);
    let active_done = done_scan(store, active.id, &active.url, 88, vec![]).await;
    let queued = store.enqueue_scan(active.id, "schedule").await.unwrap();

    let list = store.list_targets(5).await.unwrap();
    let names: Vec<&str> = list.iter().map(|s| s.target.name.as_str()).collect();
    assert_eq!(names, ["a-active", "b-busy", "c-empty"]);

    assert_eq!(list[0].target, active);
    assert_eq!(list[0].latest.as_ref().unwrap().id, active_done);
    assert_eq!(list[0].recent_scores, [88]);
    assert_eq!(list[0].active.as_ref().map(|s| s.id), Some(queued.id));

    let latest = list[1].latest.as_ref().unwrap();
    assert_eq!(latest.id, *busy_ids.last().unwrap());
    assert_eq!(latest.score, Some(70));
    assert_eq!(latest.severities, Some([0, 0, 0, 1, 0]));
    assert_eq!(list[1].recent_scores, [30, 40, 50, 60, 70], "oldest first");
    assert!(list[1].active.is_none());

    assert_eq!(list[2].target, empty);
    assert!(list[2].latest.is_none() && list[2].active.is_none());
    assert!(list[2].recent_scores.is_empty());

    // No sparkline: still the latest.
    let list = store.list_targets(0).await.unwrap();
    assert!(list[1].recent_scores.is_empty());
    assert_eq!(list[1].latest.as_ref().unwrap().score, Some(70));
    let list = store.list_targets(100).await.unwrap();
    assert_eq!(list[1].recent_scores, [10, 20, 30, 40, 50, 60, 70]);
}

async fn diff_by_fingerprint(ctx: Ctx) {
    let store = &ctx.store;
    let target = store
        .create_target(new_target("https://d.example.com/"))
        .await
        .unwrap();
    let url = target.url.clone();
    let from = done_scan(
        store,
        target.id,
        &url,
        60,
        vec![
            finding("jwt.alg_none", "critical", &[]),
            finding("auth.missing", "high", &["GET /a", "GET /b"]),
            finding("tls.version", "low", &[]),
        ],
    )
    .await;
    let to = done_scan(
        store,
        target.id,
        &url,
        75,
        vec![
            finding("auth.missing", "high", &["GET /b", "GET /c"]),
            finding("tls.version", "low", &[]),
            finding("basic.weak", "medium", &[]),
            finding("info.x", "info", &[]),
        ],
    )
    .await;
    let diff = store.diff(from, to).await.unwrap().expect("both done");
    let keys = |rows: &[authprobe::store::FindingRow]| {
        rows.iter()
            .map(|r| format!("{}@{}", r.check_id, r.operation.as_deref().unwrap_or("-")))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(&diff.new),
        ["auth.missing@GET /c", "basic.weak@-", "info.x@-"]
    );
    assert_eq!(keys(&diff.fixed), ["jwt.alg_none@-", "auth.missing@GET /a"]);
    assert_eq!(
        keys(&diff.unchanged),
        ["auth.missing@GET /b", "tls.version@-"]
    );
    assert_eq!(diff.score_delta, 15);
    assert_eq!(diff.from.id, from);
    assert_eq!(diff.to.id, to);
    let back = store.diff(to, from).await.unwrap().unwrap();
    assert_eq!(back.score_delta, -15);
    assert_eq!(keys(&back.new), keys(&diff.fixed));
    assert_eq!(keys(&back.fixed), keys(&diff.new));

    // Not done, or missing: no diff.
    let queued = store.enqueue_scan(target.id, "api").await.unwrap();
    assert_eq!(store.diff(from, queued.id).await.unwrap(), None);
    assert_eq!(store.diff(from, 9999).await.unwrap(), None);
    assert_eq!(store.diff(9999, to).await.unwrap(), None);
}

async fn delete_target_cascades(ctx: Ctx) {
    let store = &ctx.store;
    let doomed = store
        .create_target(new_target("https://doomed.example.com/"))
        .await
        .unwrap();
    let kept = store
        .create_target(new_target("https://kept.example.com/"))
        .await
        .unwrap();
    let gone = done_scan(
        store,
        doomed.id,
        &doomed.url,
        5,
        vec![finding("a", "high", &["GET /x"])],
    )
    .await;
    let stays = done_scan(
        store,
        kept.id,
        &kept.url,
        5,
        vec![finding("a", "high", &[])],
    )
    .await;
    store.enqueue_scan(doomed.id, "api").await.unwrap();
    assert!(store.delete_target(doomed.id).await.unwrap());
    assert!(!store.delete_target(doomed.id).await.unwrap());
    assert_eq!(store.target(doomed.id).await.unwrap(), None);
    assert_eq!(store.scan(gone).await.unwrap(), None);
    assert_eq!(store.report(gone).await.unwrap(), None);
    assert!(
        store
            .list_scans(Some(doomed.id), 10, None)
            .await
            .unwrap()
            .is_empty()
    );
    let raw = ctx.raw().await;
    for (table, column) in [
        ("scans", "target_id"),
        ("reports", "scan_id"),
        ("findings", "scan_id"),
    ] {
        let value = if table == "scans" { doomed.id } else { gone };
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"))
                .bind(value)
                .fetch_one(&raw)
                .await
                .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    assert!(store.report(stays).await.unwrap().is_some());
    assert_eq!(store.findings(stays).await.unwrap().len(), 1);
    assert_eq!(store.list_targets(3).await.unwrap().len(), 1);
}

async fn due_targets_follow_schedules(ctx: Ctx) {
    let store = &ctx.store;
    let scheduled = |url: &str, minutes: Option<i64>| NewTarget {
        schedule_minutes: minutes,
        ..new_target(url)
    };
    let never_scanned = store
        .create_target(scheduled("https://n.example.com/", Some(60)))
        .await
        .unwrap();
    let recent = store
        .create_target(scheduled("https://r.example.com/", Some(60)))
        .await
        .unwrap();
    let busy = store
        .create_target(scheduled("https://b.example.com/", Some(1)))
        .await
        .unwrap();
    let unscheduled = store
        .create_target(scheduled("https://u.example.com/", None))
        .await
        .unwrap();
    let recent_scan = done_scan(store, recent.id, &recent.url, 50, vec![]).await;
    done_scan(store, unscheduled.id, &unscheduled.url, 50, vec![]).await;
    store.enqueue_scan(busy.id, "schedule").await.unwrap();
    let created = store.scan(recent_scan).await.unwrap().unwrap().created_at;

    let ids =
        |targets: Vec<authprobe::store::Target>| targets.iter().map(|t| t.id).collect::<Vec<_>>();
    let now = now_millis();
    assert_eq!(
        ids(store.due_targets(now).await.unwrap()),
        [never_scanned.id]
    );
    // An hour after the recent scan, it is due too; the busy one never while active.
    assert_eq!(
        ids(store.due_targets(created + 60 * 60_000).await.unwrap()),
        [never_scanned.id, recent.id]
    );
    assert_eq!(
        ids(store.due_targets(created + 60 * 60_000 - 1).await.unwrap()),
        [never_scanned.id]
    );
    assert_eq!(
        ids(store.due_targets(now + 1_000 * 60 * 60_000).await.unwrap()),
        [never_scanned.id, recent.id]
    );
    assert!(matches!(
        store
            .create_target(scheduled("https://z.example.com/", Some(0)))
            .await,
        Err(StoreError::Invalid(_))
    ));
}

/// Unix milliseconds of an RFC 3339 UTC time.
fn at(s: &str) -> i64 {
    humantime::parse_rfc3339(s)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn schedules_are_stored_and_switched(ctx: Ctx) {
    use authprobe::store::schedule::jitter_offset;
    let store = &ctx.store;
    let cron = store
        .create_target(NewTarget {
            schedule_cron: Some(" 0  3 * * 1-5 ".into()),
            schedule_jitter_seconds: Some(900),
            ..new_target("https://cron.example.com/")
        })
        .await
        .unwrap();
    assert_eq!(cron.schedule_cron.as_deref(), Some("0 3 * * 1-5"));
    assert_eq!(cron.schedule_jitter_seconds, Some(900));
    assert_eq!(cron.schedule_minutes, None);
    let next = cron.next_run_at.expect("a next run");
    assert!(next > cron.created_at && next - cron.created_at <= 4 * 86_400_000);
    assert_eq!(
        (next - jitter_offset(cron.id, 900)) % 86_400_000,
        3 * 3_600_000,
        "03:00 UTC, plus the target's offset"
    );
    // Stored with single spaces, as shown.
    let raw = ctx.raw().await;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT schedule_cron FROM targets WHERE id = $1")
            .bind(cron.id)
            .fetch_one(&raw)
            .await
            .unwrap();
    assert_eq!(stored.as_deref(), Some("0 3 * * 1-5"));
    assert_eq!(store.target(cron.id).await.unwrap(), Some(cron.clone()));
    let listed = store.list_targets(1).await.unwrap();
    assert_eq!(listed[0].target, cron);

    // Refused: both kinds, a bad expression, one too frequent, a jitter above a day.
    for (new, says) in [
        (
            NewTarget {
                schedule_minutes: Some(60),
                schedule_cron: Some("0 3 * * *".into()),
                ..new_target("https://x.example.com/")
            },
            "not both",
        ),
        (
            NewTarget {
                schedule_cron: Some("0 3 * *".into()),
                ..new_target("https://x.example.com/")
            },
            "has 4 fields",
        ),
        (
            NewTarget {
                schedule_cron: Some("*/2 * * * *".into()),
                ..new_target("https://x.example.com/")
            },
            "more often than every 5 minutes",
        ),
        (
            NewTarget {
                schedule_minutes: Some(60),
                schedule_jitter_seconds: Some(86_401),
                ..new_target("https://x.example.com/")
            },
            "0 to 86400",
        ),
    ] {
        match store.create_target(new).await {
            Err(StoreError::Invalid(m)) => assert!(m.contains(says), "{m}"),
            other => panic!("{says}: {other:?}"),
        }
    }

    // An interval replaces the expression, and the other way round.
    let patched = store
        .update_target(
            cron.id,
            TargetPatch {
                schedule_minutes: Some(Some(30)),
                ..TargetPatch::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patched.schedule_minutes, Some(30));
    assert_eq!(patched.schedule_cron, None);
    assert_eq!(patched.schedule_jitter_seconds, Some(900), "kept");
    assert_eq!(
        patched.next_run_at,
        Some(cron.created_at + jitter_offset(cron.id, 900)),
        "never scanned: due from its creation, plus its offset"
    );
    let patched = store
        .update_target(
            cron.id,
            TargetPatch {
                schedule_cron: Some(Some("30 4 1 * *".into())),
                schedule_jitter_seconds: Some(None),
                ..TargetPatch::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patched.schedule_minutes, None);
    assert_eq!(patched.schedule_cron.as_deref(), Some("30 4 1 * *"));
    assert_eq!(patched.schedule_jitter_seconds, None);
    let next = patched.next_run_at.unwrap();
    assert_eq!(next % 86_400_000, (4 * 60 + 30) * 60_000, "04:30 UTC");
    assert!(matches!(
        store
            .update_target(
                cron.id,
                TargetPatch {
                    schedule_minutes: Some(Some(60)),
                    schedule_cron: Some(Some("0 3 * * *".into())),
                    ..TargetPatch::default()
                },
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .update_target(
                cron.id,
                TargetPatch {
                    schedule_cron: Some(Some("* * * * *".into())),
                    ..TargetPatch::default()
                },
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    // Both cleared: on demand, no next run.
    let manual = store
        .update_target(
            cron.id,
            TargetPatch {
                schedule_cron: Some(None),
                ..TargetPatch::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (manual.schedule_minutes, manual.schedule_cron.as_deref()),
        (None, None)
    );
    assert_eq!(manual.next_run_at, None);
    assert!(store.due_targets(i64::MAX / 2).await.unwrap().is_empty());
}

async fn due_targets_follow_cron_and_jitter(ctx: Ctx) {
    use authprobe::store::schedule::jitter_offset;
    let store = &ctx.store;
    let raw = ctx.raw().await;
    let make =
        |url: &str, minutes: Option<i64>, cron: Option<&str>, jitter: Option<i64>| NewTarget {
            schedule_minutes: minutes,
            schedule_cron: cron.map(str::to_string),
            schedule_jitter_seconds: jitter,
            ..new_target(url)
        };
    let daily = store
        .create_target(make(
            "https://daily.example.com/",
            None,
            Some("0 3 * * *"),
            None,
        ))
        .await
        .unwrap();
    let jittered = store
        .create_target(make(
            "https://jit.example.com/",
            None,
            Some("0 3 * * *"),
            Some(3_600),
        ))
        .await
        .unwrap();
    let hourly = store
        .create_target(make(
            "https://hourly.example.com/",
            Some(60),
            None,
            Some(600),
        ))
        .await
        .unwrap();
    let busy = store
        .create_target(make(
            "https://busy.example.com/",
            None,
            Some("*/5 * * * *"),
            None,
        ))
        .await
        .unwrap();
    // All added on 1 March 2026 at 10:00 UTC.
    let created = at("2026-03-01T10:00:00Z");
    for t in [&daily, &jittered, &hourly, &busy] {
        sqlx::query("UPDATE targets SET created_at = $1 WHERE id = $2")
            .bind(created)
            .bind(t.id)
            .execute(&raw)
            .await
            .unwrap();
    }
    let due = |now: i64| async move {
        store
            .due_targets(now)
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>()
    };
    // Due from `next` on, not a millisecond before, and the target shows that time.
    let due_at = |id: i64, next: i64| async move {
        let shown = store.target(id).await.unwrap().unwrap().next_run_at;
        assert_eq!(shown, Some(next), "target {id}'s next run");
        assert!(!due(next - 1).await.contains(&id), "target {id} early");
        assert!(due(next).await.contains(&id), "target {id} on time");
    };
    let offset = jitter_offset(jittered.id, 3_600);
    let hourly_offset = jitter_offset(hourly.id, 600);
    assert!(offset > 0 && hourly_offset > 0);

    // Never scanned: the cron targets at the first 03:00 after they were added (the
    // jittered one its offset later), the interval one at once plus its offset.
    let three = at("2026-03-02T03:00:00Z");
    due_at(daily.id, three).await;
    due_at(jittered.id, three + offset).await;
    due_at(hourly.id, created + hourly_offset).await;
    due_at(busy.id, at("2026-03-01T10:05:00Z")).await;
    assert!(due(created - 1).await.is_empty());
    assert_eq!(
        due(three + offset).await,
        [daily.id, jittered.id, hourly.id, busy.id],
        "by id"
    );

    // A scan queued or running is never joined by a second: not due, and refused.
    store.enqueue_scan(busy.id, "schedule").await.unwrap();
    let far = three + 365 * 86_400_000;
    assert!(!due(far).await.contains(&busy.id));
    assert!(matches!(
        store.enqueue_scan(busy.id, "schedule").await,
        Err(StoreError::Conflict(_))
    ));
    let claimed = store.claim_next_scan("test").await.unwrap().unwrap();
    assert_eq!(claimed.target_id, busy.id);
    assert_eq!(claimed.status, ScanStatus::Running);
    assert!(!due(far).await.contains(&busy.id));
    assert!(matches!(
        store.enqueue_scan(busy.id, "schedule").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(due(far).await, [daily.id, jittered.id, hourly.id]);
    store.fail_scan(claimed.id, "x").await.unwrap();

    // Scanned (whatever the outcome): the next run counts from the start of the last scan.
    let daily_scan = done_scan(store, daily.id, &daily.url, 50, vec![]).await;
    let hourly_scan = done_scan(store, hourly.id, &hourly.url, 50, vec![]).await;
    let scanned_at = three + 5_000;
    for id in [daily_scan, hourly_scan, claimed.id] {
        sqlx::query("UPDATE scans SET created_at = $1 WHERE id = $2")
            .bind(scanned_at)
            .bind(id)
            .execute(&raw)
            .await
            .unwrap();
    }
    due_at(daily.id, at("2026-03-03T03:00:00Z")).await;
    due_at(hourly.id, scanned_at + 3_600_000 + hourly_offset).await;
    due_at(busy.id, at("2026-03-02T03:05:00Z")).await;
    due_at(jittered.id, three + offset).await;
    assert!(
        due(scanned_at + 60_000).await.is_empty(),
        "nothing due at 03:01"
    );

    // The list shows the same next runs as the scheduler keeps.
    for row in store.list_targets(1).await.unwrap() {
        let one = store.target(row.target.id).await.unwrap().unwrap();
        assert_eq!(row.target.next_run_at, one.next_run_at, "{}", one.name);
    }
}

async fn size_is_reported(ctx: Ctx) {
    let size = ctx.store.size_bytes().await.unwrap();
    assert!(size > 0);
    let target = ctx
        .store
        .create_target(new_target("https://s.example.com/"))
        .await
        .unwrap();
    let ops: Vec<String> = (0..400)
        .map(|i| format!("GET /{i}/{}", "x".repeat(100)))
        .collect();
    let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
    done_scan(
        &ctx.store,
        target.id,
        &target.url,
        1,
        vec![finding("a", "high", &ops)],
    )
    .await;
    let grown = ctx.store.size_bytes().await.unwrap();
    assert!(grown > size, "{grown} > {size}");
}

/// The job model: starts are counted and named, a retry waits out its backoff, a running
/// scan is taken over only once its worker has gone silent, and a silent worker's scans
/// go back to the queue.
async fn scans_are_jobs(ctx: Ctx) {
    let store = &ctx.store;
    let (_, id) = running_scan(store, "https://jobs.example/").await;
    let scan = store.scan(id).await.unwrap().unwrap();
    assert_eq!(scan.attempts, 1);
    assert_eq!(scan.worker.as_deref(), Some("test"));
    assert!(scan.heartbeat_at.is_some());
    assert!(store.heartbeat_scan(id, "test").await.unwrap());
    assert!(!store.heartbeat_scan(id, "someone-else").await.unwrap());

    // A second job for a scan whose worker is alive does not start it again.
    let long_ago = now_millis() - 3_600_000;
    assert!(
        store
            .claim_scan(id, "w2", long_ago)
            .await
            .unwrap()
            .is_none()
    );
    // Once that worker has been silent since before `silent_since`, it can.
    let later = now_millis() + 1;
    let taken = store.claim_scan(id, "w2", later).await.unwrap().unwrap();
    assert_eq!((taken.attempts, taken.worker.as_deref()), (2, Some("w2")));
    // The first worker learns it is no longer its scan.
    assert!(!store.heartbeat_scan(id, "test").await.unwrap());

    // A retry waits for its time: not claimable before it, claimable after.
    let soon = now_millis() + 60_000;
    assert!(
        store
            .requeue_scan(id, "attempt 2 failed", soon)
            .await
            .unwrap()
    );
    assert!(store.claim_next_scan("w3").await.unwrap().is_none());
    let raw = ctx.raw().await;
    sqlx::query("UPDATE scans SET run_after = $1 WHERE id = $2")
        .bind(now_millis() - 1)
        .bind(id)
        .execute(&raw)
        .await
        .unwrap();
    let third = store.claim_next_scan("w3").await.unwrap().unwrap();
    assert_eq!((third.id, third.attempts), (id, 3));
    // Requeue only moves a running scan.
    store.fail_scan(id, "gave up").await.unwrap();
    assert!(!store.requeue_scan(id, "x", 0).await.unwrap());
    assert!(store.claim_scan(id, "w4", later).await.unwrap().is_none());

    // A silent worker's running scans go back to the queue; a live one's stay.
    let (_, silent) = running_scan(store, "https://silent.example/").await;
    let (_, alive) = running_scan(store, "https://alive.example/").await;
    sqlx::query("UPDATE scans SET heartbeat_at = $1 WHERE id = $2")
        .bind(now_millis() - 120_000)
        .bind(silent)
        .execute(&raw)
        .await
        .unwrap();
    let requeued = store.requeue_silent(now_millis() - 60_000).await.unwrap();
    assert_eq!(requeued, vec![silent]);
    let back = store.scan(silent).await.unwrap().unwrap();
    assert_eq!(back.status, ScanStatus::Queued);
    assert!(back.error.unwrap().contains("stopped answering"));
    assert_eq!(
        store.scan(alive).await.unwrap().unwrap().status,
        ScanStatus::Running
    );
}

const HOOK_SECRET: &str = "hook-secret-7d41c2-do-not-leak";

fn on_new() -> WebhookEvents {
    WebhookEvents {
        new_findings: true,
        ..WebhookEvents::default()
    }
}

fn new_webhook(url: &str, target_id: Option<i64>, secret: Option<&str>) -> NewWebhook {
    NewWebhook {
        url: url.into(),
        target_id,
        events: on_new(),
        format: WebhookFormat::Json,
        secret: secret.map(Into::into),
    }
}

async fn webhooks_keep_their_secret_sealed(ctx: Ctx) {
    let store = &ctx.store;
    let a = store
        .create_target(new_target("https://wa.example.com/"))
        .await
        .unwrap();
    let b = store
        .create_target(new_target("https://wb.example.com/"))
        .await
        .unwrap();
    let (own, secret) = store
        .create_webhook(NewWebhook {
            events: WebhookEvents {
                new_findings: true,
                fixed_findings: true,
                score_drop: Some(7),
                grade_change: true,
            },
            format: WebhookFormat::Slack,
            ..new_webhook("https://hooks.example.com/a", Some(a.id), Some(HOOK_SECRET))
        })
        .await
        .unwrap();
    assert_eq!(secret, HOOK_SECRET);
    assert_eq!(own.target_id, Some(a.id));
    assert_eq!(own.format, WebhookFormat::Slack);
    assert_eq!(own.events.score_drop, Some(7));
    assert!(own.events.fixed_findings && own.events.grade_change);
    let (global, made) = store
        .create_webhook(new_webhook("https://hooks.example.com/all", None, None))
        .await
        .unwrap();
    assert!(made.starts_with("whsec_") && made.len() == 49, "{made}");
    let (of_b, _) = store
        .create_webhook(new_webhook("https://hooks.example.com/b", Some(b.id), None))
        .await
        .unwrap();
    assert_eq!(store.webhook(own.id).await.unwrap(), Some(own.clone()));
    assert_eq!(store.webhook(9999).await.unwrap(), None);
    let ids =
        |hooks: Vec<authprobe::store::Webhook>| hooks.iter().map(|w| w.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_webhooks().await.unwrap()),
        [own.id, global.id, of_b.id]
    );
    // A target's scans go to its own webhooks and the global ones, not another's.
    assert_eq!(
        ids(store.webhooks_for_target(a.id).await.unwrap()),
        [own.id, global.id]
    );
    assert_eq!(
        ids(store.webhooks_for_target(b.id).await.unwrap()),
        [global.id, of_b.id]
    );

    // Refusals: no event, a bad threshold, a bad URL, credentials in it, a short secret,
    // a target that does not exist.
    for bad in [
        NewWebhook {
            events: WebhookEvents::default(),
            ..new_webhook("https://h.example.com/", None, None)
        },
        NewWebhook {
            events: WebhookEvents {
                score_drop: Some(0),
                ..WebhookEvents::default()
            },
            ..new_webhook("https://h.example.com/", None, None)
        },
        new_webhook("ftp://h.example.com/", None, None),
        new_webhook("https://u:p@h.example.com/", None, None),
        new_webhook("https://h.example.com/", None, Some("short")),
        new_webhook("https://h.example.com/", Some(9999), None),
    ] {
        let url = bad.url.clone();
        assert!(
            matches!(store.create_webhook(bad).await, Err(StoreError::Invalid(_))),
            "{url}"
        );
    }
    assert_eq!(store.list_webhooks().await.unwrap().len(), 3);

    // The secret is sealed at rest: not in the row, not in the file.
    let raw = ctx.raw().await;
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT secret FROM webhooks WHERE id = $1")
        .bind(own.id)
        .fetch_one(&raw)
        .await
        .unwrap();
    assert!(sealed.len() >= 12 + HOOK_SECRET.len() + 16);
    assert!(
        !sealed
            .windows(HOOK_SECRET.len())
            .any(|w| w == HOOK_SECRET.as_bytes())
    );
    if let Some(file) = &ctx.file {
        for path in [
            file.clone(),
            PathBuf::from(format!("{}-wal", file.display())),
        ] {
            let bytes = std::fs::read(&path).unwrap_or_default();
            for secret in [HOOK_SECRET, made.as_str()] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret} in {}",
                    path.display()
                );
            }
        }
    }
    // ... and opens, under the same key only, for the sender that claims a delivery.
    let scan = done_scan(store, a.id, &a.url, 50, vec![]).await;
    store
        .insert_deliveries(&[NewDelivery {
            webhook_id: own.id,
            scan_id: scan,
            events: vec!["new_findings".into()],
            body: b"{}".to_vec(),
        }])
        .await
        .unwrap();
    let other_key = Store::open(&ctx.url, Sealer::new([7; 32])).await.unwrap();
    assert!(matches!(
        other_key
            .claim_delivery(now_millis(), Duration::from_secs(60))
            .await,
        Err(StoreError::WrongKey)
    ));
    // Unopenable is final for that delivery, and says why.
    let log = store.webhook_deliveries(own.id, 10).await.unwrap();
    assert_eq!(log[0].status, DeliveryStatus::Failed, "{log:?}");
    assert!(
        log[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("AUTHPROBE_SECRET_KEY")
    );

    // Deleting: the webhook, then a target takes its own webhooks along, not the global.
    assert!(store.delete_webhook(of_b.id).await.unwrap());
    assert!(!store.delete_webhook(of_b.id).await.unwrap());
    assert!(store.delete_target(a.id).await.unwrap());
    assert_eq!(ids(store.list_webhooks().await.unwrap()), [global.id]);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(left, 0, "the deliveries went with the target's webhook");
}

async fn deliveries_queue_lease_and_finish(ctx: Ctx) {
    let store = &ctx.store;
    let t = store
        .create_target(new_target("https://dq.example.com/"))
        .await
        .unwrap();
    let (hook, secret) = store
        .create_webhook(new_webhook(
            "https://hooks.example.com/q",
            Some(t.id),
            Some(HOOK_SECRET),
        ))
        .await
        .unwrap();
    let (other, _) = store
        .create_webhook(new_webhook("https://hooks.example.com/o", None, None))
        .await
        .unwrap();
    let first = done_scan(store, t.id, &t.url, 80, vec![]).await;
    let second = done_scan(store, t.id, &t.url, 70, vec![]).await;
    let failed = store.enqueue_scan(t.id, "api").await.unwrap().id;
    store.claim_next_scan("test").await.unwrap().unwrap();
    store.fail_scan(failed, "x").await.unwrap();
    let third = done_scan(store, t.id, &t.url, 60, vec![]).await;
    // The previous done scan skips the failed one; the first has none.
    let target_id = t.id;
    let prev = |id| async move {
        store
            .previous_done_scan(target_id, id)
            .await
            .unwrap()
            .map(|s| s.id)
    };
    assert_eq!(prev(third).await, Some(second));
    assert_eq!(prev(second).await, Some(first));
    assert_eq!(prev(first).await, None);

    assert!(
        store
            .claim_delivery(now_millis(), Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.next_delivery_due().await.unwrap(), None);
    let new = |webhook_id, scan_id, body: &str| NewDelivery {
        webhook_id,
        scan_id,
        events: vec!["new_findings".into(), "score_drop".into()],
        body: body.as_bytes().to_vec(),
    };
    let before = now_millis();
    assert_eq!(
        store
            .insert_deliveries(&[
                new(hook.id, third, "{\"a\":1}"),
                new(other.id, third, "{\"b\":2}")
            ])
            .await
            .unwrap(),
        2
    );
    // Once per webhook and scan, however often the scan is reported.
    assert_eq!(
        store
            .insert_deliveries(&[new(hook.id, third, "{\"again\":1}")])
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.insert_deliveries(&[]).await.unwrap(), 0);
    let log = store.webhook_deliveries(hook.id, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    let d = &log[0];
    assert_eq!((d.webhook_id, d.scan_id), (hook.id, third));
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert_eq!(d.attempts, 0);
    assert_eq!(d.events, ["new_findings", "score_drop"]);
    assert!(d.next_attempt_at.unwrap() >= before);
    assert!(store.next_delivery_due().await.unwrap().unwrap() <= now_millis());

    // Not yet due at a time before it was queued.
    assert!(
        store
            .claim_delivery(before - 1, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    // Claimed in queue order, with what a send needs.
    let now = now_millis();
    let c = store
        .claim_delivery(now, Duration::from_secs(60))
        .await
        .unwrap()
        .expect("due");
    assert_eq!(c.id, d.id);
    assert_eq!(c.attempt, 1);
    assert_eq!(c.url, "https://hooks.example.com/q");
    assert_eq!(c.secret, secret.as_bytes());
    assert_eq!(
        c.body, b"{\"a\":1}",
        "the first body, not the repeated one's"
    );
    assert!(
        !format!("{c:?}").contains(HOOK_SECRET),
        "Debug hides the secret"
    );
    let c2 = store
        .claim_delivery(now, Duration::from_secs(60))
        .await
        .unwrap()
        .expect("the other webhook's");
    assert_eq!(c2.webhook_id, other.id);
    // Both leased: nothing to claim, until a lease runs out.
    assert!(
        store
            .claim_delivery(now, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.next_delivery_due().await.unwrap(), Some(now + 60_000));

    // A failed attempt: retried later, the error and status kept.
    assert!(
        store
            .delivery_retry(c.id, 1, now + 5_000, Some(500), "answered 500")
            .await
            .unwrap()
    );
    let d = store.delivery(c.id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert_eq!(d.attempts, 1);
    assert_eq!(d.next_attempt_at, Some(now + 5_000));
    assert_eq!(d.last_status_code, Some(500));
    assert_eq!(d.last_error.as_deref(), Some("answered 500"));
    assert!(
        store
            .claim_delivery(now + 4_999, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    let again = store
        .claim_delivery(now + 5_000, Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id, again.attempt), (c.id, 2));
    // Its lease runs out: another sender takes it, and the late one's mark is refused.
    let taken = store
        .claim_delivery(now + 6_000, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id, taken.attempt), (c.id, 3));
    assert!(!store.delivery_succeeded(c.id, 2, 200).await.unwrap());
    assert!(!store.delivery_retry(c.id, 2, now, None, "x").await.unwrap());
    assert!(!store.delivery_failed(c.id, 2, None, "x").await.unwrap());
    assert!(store.delivery_succeeded(c.id, 3, 204).await.unwrap());
    let d = store.delivery(c.id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Delivered);
    assert_eq!(d.attempts, 3);
    assert_eq!(d.last_status_code, Some(204));
    assert_eq!(d.last_error, None);
    assert_eq!(d.next_attempt_at, None);
    assert!(d.delivered_at.is_some());
    // Done is done: no later mark changes it, nothing claims it again. Only the other
    // webhook's delivery comes back, once its lease is over.
    assert!(!store.delivery_failed(c.id, 3, None, "late").await.unwrap());
    let back = store
        .claim_delivery(now + 3_600_000, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((back.id, back.attempt), (c2.id, 2));
    assert!(
        store
            .claim_delivery(now + 3_600_000, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );

    // The last attempt fails: failed for good, with its reason.
    assert!(
        store
            .delivery_failed(c2.id, 2, None, "cannot connect")
            .await
            .unwrap()
    );
    let d2 = store.delivery(c2.id).await.unwrap().unwrap();
    assert_eq!(d2.status, DeliveryStatus::Failed);
    assert_eq!(d2.attempts, 2);
    assert_eq!(d2.last_status_code, None);
    assert_eq!(d2.last_error.as_deref(), Some("cannot connect"));
    assert_eq!(d2.next_attempt_at, None);
    assert!(
        store
            .claim_delivery(now + 86_400_000, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.next_delivery_due().await.unwrap(), None);

    // Newest first, limited.
    let fourth = done_scan(store, t.id, &t.url, 55, vec![]).await;
    store
        .insert_deliveries(&[new(hook.id, fourth, "{}")])
        .await
        .unwrap();
    let log = store.webhook_deliveries(hook.id, 10).await.unwrap();
    assert_eq!(
        log.iter().map(|d| d.scan_id).collect::<Vec<_>>(),
        [fourth, third]
    );
    assert_eq!(store.webhook_deliveries(hook.id, 1).await.unwrap().len(), 1);
    // Deleting a webhook takes its log along.
    assert!(store.delete_webhook(other.id).await.unwrap());
    assert!(store.delivery(c2.id).await.unwrap().is_none());
}

async fn delivery_claims_are_exclusive(ctx: Ctx) {
    let store = &ctx.store;
    let t = store
        .create_target(new_target("https://dx.example.com/"))
        .await
        .unwrap();
    let (hook, _) = store
        .create_webhook(new_webhook("https://hooks.example.com/x", None, None))
        .await
        .unwrap();
    for i in 0..12 {
        let scan = done_scan(store, t.id, &t.url, 50 + i, vec![]).await;
        store
            .insert_deliveries(&[NewDelivery {
                webhook_id: hook.id,
                scan_id: scan,
                events: vec!["new_findings".into()],
                body: format!("{{\"n\":{i}}}").into_bytes(),
            }])
            .await
            .unwrap();
    }
    let log = store.webhook_deliveries(hook.id, 100).await.unwrap();
    let mut ids: Vec<i64> = log.iter().map(|d| d.id).collect();
    ids.sort();
    assert_eq!(ids.len(), 12);
    // Two senders (and more) at once, each holding what it claims: every delivery is
    // claimed exactly once.
    let store = Arc::new(store.clone());
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(c) = store
                .claim_delivery(now_millis(), Duration::from_secs(600))
                .await
                .unwrap()
            {
                assert_eq!(c.attempt, 1);
                mine.push(c.id);
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    let mut senders_that_got_some = 0;
    for task in tasks {
        let mine = task.await.unwrap();
        senders_that_got_some += usize::from(!mine.is_empty());
        claimed.extend(mine);
    }
    claimed.sort();
    assert_eq!(claimed, ids, "each delivery claimed exactly once");
    assert!(senders_that_got_some >= 1);
    for d in store.webhook_deliveries(hook.id, 100).await.unwrap() {
        assert_eq!(d.attempts, 1, "{d:?}");
    }
}
