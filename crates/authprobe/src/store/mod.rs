//! The history store that `serve` (and later the workers and MCP) share: targets, their
//! encrypted credentials, scans with their whole reports, findings normalised by a stable
//! fingerprint, API keys, users and sessions, webhooks and their delivery queue
//! ([`webhooks`]). One code path over sqlx's Any driver for SQLite (the default, WAL) and
//! PostgreSQL; each backend has its own migrations because their DDL differs (identity
//! columns, BLOB/BYTEA), the queries do not.
//!
//! Nothing below the service imports this module.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::report::Report;

pub mod crypto;
mod db;
pub mod schedule;
pub mod webhooks;

pub use webhooks::{
    ClaimedDelivery, Delivery, DeliveryStatus, NewDelivery, NewWebhook, Webhook, WebhookEvents,
    WebhookFormat,
};

/// Unix milliseconds (UTC). Stored as BIGINT on both backends.
pub type Millis = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error(
        "the stored target credentials cannot be decrypted: AUTHPROBE_SECRET_KEY (or the key file) is not the key they were written with"
    )]
    WrongKey,
    #[error("{0}")]
    Conflict(String),
    /// What the call names (a target, a scan, a user) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A value the store refuses (an empty name, a short password, a bad URL).
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Secrets a target is scanned with. Sealed with AEAD at rest ([`crypto::Sealer`]); never
/// serialised into an API answer or a page (the service shows only [`CredentialKinds`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetCredentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer: Option<String>,
    /// `user:password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic: Option<String>,
    /// `NAME=VALUE`, as `--api-key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_keys: Vec<String>,
    /// `Name: value`, as `--header`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_pem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key_pem: Option<String>,
    /// Trust anchor for the target's server certificate (not secret, kept with the rest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_ca_pem: Option<String>,
}

/// Which credentials a target has, without their values: what the API and the UI show.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialKinds {
    pub bearer: bool,
    pub basic: bool,
    pub api_keys: Vec<String>,
    pub headers: Vec<String>,
    pub client_certificate: bool,
    pub server_ca: bool,
}

impl TargetCredentials {
    pub fn kinds(&self) -> CredentialKinds {
        let name =
            |s: &String, sep: char| s.split(sep).next().unwrap_or_default().trim().to_string();
        CredentialKinds {
            bearer: self.bearer.is_some(),
            basic: self.basic.is_some(),
            api_keys: self.api_keys.iter().map(|k| name(k, '=')).collect(),
            headers: self.headers.iter().map(|h| name(h, ':')).collect(),
            client_certificate: self.client_cert_pem.is_some() && self.client_key_pem.is_some(),
            server_ca: self.server_ca_pem.is_some(),
        }
    }
}

/// What a new target is made of; only `url` is required.
#[derive(Clone, Debug, Default)]
pub struct NewTarget {
    pub name: Option<String>,
    pub url: String,
    /// `auto`, a URL or nothing (a single-URL scan).
    pub spec: Option<String>,
    /// Check ids or families to run (`--checks`); empty: all.
    pub checks: Vec<String>,
    /// Rescan every N minutes; `None`: only on demand (or on `schedule_cron`).
    pub schedule_minutes: Option<i64>,
    /// Rescan at the times of this 5-field cron expression, in UTC; at most one of it and
    /// `schedule_minutes`.
    pub schedule_cron: Option<String>,
    /// Each target's scheduled runs come up to this many seconds late, by an amount fixed
    /// per target ([`schedule::jitter_offset`]).
    pub schedule_jitter_seconds: Option<i64>,
    pub credentials: TargetCredentials,
}

/// A change to a target; `None` leaves a field alone. `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default)]
pub struct TargetPatch {
    pub name: Option<String>,
    pub url: Option<String>,
    pub spec: Option<Option<String>>,
    pub checks: Option<Vec<String>>,
    /// Setting an interval clears the cron expression, unless the patch sets that too.
    pub schedule_minutes: Option<Option<i64>>,
    /// Setting a cron expression clears the interval, unless the patch sets that too.
    pub schedule_cron: Option<Option<String>>,
    pub schedule_jitter_seconds: Option<Option<i64>>,
    /// Replaces every credential at once.
    pub credentials: Option<TargetCredentials>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub spec: Option<String>,
    pub checks: Vec<String>,
    pub schedule_minutes: Option<i64>,
    pub schedule_cron: Option<String>,
    pub schedule_jitter_seconds: Option<i64>,
    /// When the scheduler next starts a scan of it ([`schedule::next_run`]); `None` when it
    /// has no schedule. In the past while it is due: the scheduler starts it within its
    /// next round, or once the target's running scan ends.
    pub next_run_at: Option<Millis>,
    pub credentials: CredentialKinds,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A row of the targets list: the target, its latest finished scan and the scores of its
/// last finished scans, oldest first (the sparkline).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetSummary {
    pub target: Target,
    pub latest: Option<ScanRow>,
    pub recent_scores: Vec<u32>,
    /// A scan queued or running now, if any.
    pub active: Option<ScanRow>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanStatus {
    Queued,
    Running,
    Done,
    Failed,
    Interrupted,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

/// A scan without its report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanRow {
    pub id: i64,
    pub target_id: i64,
    pub status: ScanStatus,
    /// `api`, `ui`, `schedule`, `import`, `requeue`.
    pub trigger: String,
    pub created_at: Millis,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    /// Set when done.
    pub score: Option<u32>,
    pub grade: Option<String>,
    pub findings: Option<u32>,
    /// Counts by severity when done: critical, high, medium, low, info.
    pub severities: Option<[u32; 5]>,
    pub requests_sent: Option<u64>,
    pub duration_ms: Option<u64>,
    /// Why it failed or was interrupted.
    pub error: Option<String>,
    /// For a re-queued scan: the interrupted one it replaces.
    pub requeued_from: Option<i64>,
    /// How many times it was started (a retry after a failure, or after its worker
    /// stopped, starts it again).
    pub attempts: u32,
    /// The worker running it, or that ran it last.
    pub worker: Option<String>,
    /// A queued scan waits until then before it is tried again (backoff after a failure).
    pub run_after: Option<Millis>,
    /// When the worker running it last said it was alive.
    pub heartbeat_at: Option<Millis>,
}

/// One normalised finding of a finished scan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingRow {
    /// [`fingerprint`] of check id, target URL and operation.
    pub fingerprint: String,
    pub check_id: String,
    pub severity: String,
    pub title: String,
    /// The operation (`GET /path` or operationId) for whole-API scans, else `None`.
    pub operation: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub from: ScanRow,
    pub to: ScanRow,
    /// In `to`, not in `from`.
    pub new: Vec<FindingRow>,
    /// In `from`, not in `to`.
    pub fixed: Vec<FindingRow>,
    pub unchanged: Vec<FindingRow>,
    /// `to.score - from.score`.
    pub score_delta: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub id: i64,
    pub name: String,
    pub admin: bool,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub created_at: Millis,
}

#[derive(Clone, Debug)]
pub struct Session {
    pub user: User,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    pub expires_at: Millis,
}

/// Stable identity of a finding across scans: SHA-256 (hex, first 32 chars) of check id,
/// target and operation (empty for a single URL), NUL-separated. The store passes the
/// stored target (`target:ID`), not its URL, so findings keep their identity when the
/// target moves.
pub fn fingerprint(check_id: &str, target: &str, operation: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(check_id.as_bytes());
    hasher.update([0]);
    hasher.update(target.as_bytes());
    hasher.update([0]);
    hasher.update(operation.unwrap_or_default().as_bytes());
    let mut hex = db::hex(&hasher.finalize());
    hex.truncate(32);
    hex
}

pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What target credentials are sealed to: a blob copied to another column or table does
/// not open.
const CREDENTIALS_AAD: &[u8] = b"authprobe:target-credentials:v1";

#[derive(Clone)]
pub struct Store {
    pool: sqlx::AnyPool,
    backend: Backend,
    sealer: crypto::Sealer,
}

impl Store {
    /// Opens (creating it when absent) and migrates the database. `sqlite://PATH` (a file,
    /// WAL, foreign keys on, busy timeout) or `postgres://...`.
    pub async fn open(url: &str, sealer: crypto::Sealer) -> Result<Store> {
        let (pool, backend) = db::connect(url).await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        Ok(Store {
            pool,
            backend,
            sealer,
        })
    }
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`),
    /// so a transaction that reads before it writes waits for other writers (busy
    /// timeout) instead of failing with SQLITE_BUSY when it upgrades.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    // API keys: 32 random bytes, shown once as `ap_<base64url>`; stored as SHA-256.
    pub async fn api_key_count(&self) -> Result<i64> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }
    /// Returns the key's record and its plaintext (never stored).
    pub async fn create_api_key(&self, name: &str, admin: bool) -> Result<(ApiKeyInfo, String)> {
        let name = db::valid_name("API key name", name, 100)?;
        let plaintext = format!("ap_{}", db::random_token());
        let now = now_millis();
        // The key is 256 random bits: a fast hash is enough (nothing to brute-force), and
        // it lets a presented key be found by its hash with one indexed lookup.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_keys (name, key_hash, admin, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name.clone())
        .bind(db::sha256_hex(&plaintext))
        .bind(i64::from(admin))
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        let info = ApiKeyInfo {
            id,
            name,
            admin,
            created_at: now,
            last_used_at: None,
        };
        Ok((info, plaintext))
    }
    /// The key's record when `presented` is a live key (updates `last_used_at`, at most
    /// once a minute per key so that every API request is not a write).
    pub async fn verify_api_key(&self, presented: &str) -> Result<Option<ApiKeyInfo>> {
        if !presented.starts_with("ap_") || presented.len() > 200 {
            return Ok(None);
        }
        let hash = db::sha256_hex(presented);
        let row = sqlx::query(
            "SELECT id, name, admin, created_at, last_used_at, key_hash FROM api_keys WHERE key_hash = $1",
        )
        .bind(hash.clone())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        use sqlx::Row;
        let stored: String = row.try_get("key_hash")?;
        if !db::constant_time_eq(stored.as_bytes(), hash.as_bytes()) {
            return Ok(None);
        }
        let mut info = ApiKeyInfo {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            admin: row.try_get::<i64, _>("admin")? != 0,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
        };
        let now = now_millis();
        if info.last_used_at.is_none_or(|last| now - last >= 60_000) {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(info.id)
                .execute(&self.pool)
                .await?;
            info.last_used_at = Some(now);
        }
        Ok(Some(info))
    }

    // Users: argon2id password hashes.
    pub async fn user_count(&self) -> Result<i64> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }
    /// `Conflict` when the name is taken.
    pub async fn create_user(&self, username: &str, password: &str) -> Result<User> {
        db::valid_username(username)?;
        db::valid_password(password)?;
        let hash = db::hash_password(password.to_string()).await?;
        let now = now_millis();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(username.to_string())
        .bind(hash)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db::unique_to_conflict(e, || format!("the user name {username:?} is taken")))?;
        Ok(User {
            id,
            username: username.to_string(),
            created_at: now,
        })
    }
    /// Verifies against a dummy hash when the user does not exist, so timing does not tell.
    pub async fn verify_login(&self, username: &str, password: &str) -> Result<Option<User>> {
        use sqlx::Row;
        let row = if username.len() > 256 {
            None
        } else {
            sqlx::query(
                "SELECT id, username, password_hash, created_at FROM users WHERE username = $1",
            )
            .bind(username.to_string())
            .fetch_optional(&self.pool)
            .await?
        };
        let Some(row) = row else {
            db::verify_password(password.to_string(), None).await;
            return Ok(None);
        };
        let hash: String = row.try_get("password_hash")?;
        if !db::verify_password(password.to_string(), Some(hash)).await {
            return Ok(None);
        }
        Ok(Some(User {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            created_at: row.try_get("created_at")?,
        }))
    }
    /// A new session: returns (cookie token, the session). Stored as SHA-256 of the token.
    pub async fn create_session(&self, user_id: i64, ttl: Duration) -> Result<(String, Session)> {
        use sqlx::Row;
        let row = sqlx::query("SELECT id, username, created_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no user {user_id}")))?;
        let user = User {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            created_at: row.try_get("created_at")?,
        };
        let now = now_millis();
        let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let expires_at = now.saturating_add(ttl);
        let token = db::random_token();
        let csrf = db::random_token();
        // Expired sessions go when new ones come (indexed, usually nothing to do).
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(db::sha256_hex(&token))
        .bind(user_id)
        .bind(csrf.clone())
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok((
            token,
            Session {
                user,
                csrf,
                expires_at,
            },
        ))
    }
    /// A live (unexpired) session.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        use sqlx::Row;
        if token.is_empty() || token.len() > 200 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT u.id, u.username, u.created_at, s.csrf, s.expires_at FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(db::sha256_hex(token))
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Session {
            user: User {
                id: row.try_get("id")?,
                username: row.try_get("username")?,
                created_at: row.try_get("created_at")?,
            },
            csrf: row.try_get("csrf")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }
    pub async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(db::sha256_hex(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // Targets.
    pub async fn create_target(&self, mut new: NewTarget) -> Result<Target> {
        db::valid_url(&new.url)?;
        db::valid_schedule(new.schedule_minutes)?;
        new.schedule_cron = db::valid_cron(new.schedule_cron.as_deref())?;
        db::valid_jitter(new.schedule_jitter_seconds)?;
        if new.schedule_minutes.is_some() && new.schedule_cron.is_some() {
            return Err(StoreError::Invalid(db::BOTH_SCHEDULES.into()));
        }
        self.insert_target(new).await
    }
    /// Inserts without validating the URL (imported reports name what they scanned).
    async fn insert_target(&self, new: NewTarget) -> Result<Target> {
        let name = match new.name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => db::valid_name("target name", name, 200)?,
            _ => db::default_name(&new.url),
        };
        let now = now_millis();
        // A new target has no scan yet: its last scan's time is NULL.
        let sql = format!(
            "INSERT INTO targets (name, url, spec, checks_json, schedule_minutes, credentials, \
             credential_kinds_json, created_at, updated_at, schedule_cron, schedule_jitter_seconds) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) \
             RETURNING {}, CAST(NULL AS BIGINT) AS last_scan_at",
            db::TARGET_COLS
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .bind(new.url.trim().to_string())
            .bind(new.spec)
            .bind(db::to_json(&new.checks)?)
            .bind(new.schedule_minutes)
            .bind(self.seal_credentials(&new.credentials)?)
            .bind(db::to_json(&new.credentials.kinds())?)
            .bind(now)
            .bind(new.schedule_cron)
            .bind(new.schedule_jitter_seconds)
            .fetch_one(&self.pool)
            .await?;
        db::target_from_row(&row)
    }
    fn seal_credentials(&self, credentials: &TargetCredentials) -> Result<Option<Vec<u8>>> {
        if *credentials == TargetCredentials::default() {
            return Ok(None);
        }
        let json = serde_json::to_vec(credentials)
            .map_err(|e| StoreError::Corrupt(format!("credentials: {e}")))?;
        Ok(Some(self.sealer.seal(&json, CREDENTIALS_AAD)))
    }
    pub async fn target(&self, id: i64) -> Result<Option<Target>> {
        let sql = db::select_targets("WHERE t.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(db::target_from_row).transpose()
    }
    /// The first target (by id) with exactly this name.
    pub async fn target_named(&self, name: &str) -> Result<Option<Target>> {
        let sql = db::select_targets("WHERE t.name = $1 ORDER BY t.id LIMIT 1");
        let row = sqlx::query(&sql)
            .bind(name.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(db::target_from_row).transpose()
    }
    /// Decrypted credentials, for the scan runner only.
    pub async fn target_credentials(&self, id: i64) -> Result<Option<TargetCredentials>> {
        let sealed: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT credentials FROM targets WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let Some(sealed) = sealed else {
            return Ok(Some(TargetCredentials::default()));
        };
        let json = self
            .sealer
            .open(&sealed, CREDENTIALS_AAD)
            .ok_or(StoreError::WrongKey)?;
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("credentials of target {id}: {e}")))
    }
    /// Every target with its latest finished scan, its active one and up to `sparkline`
    /// recent scores; ordered by name.
    pub async fn list_targets(&self, sparkline: usize) -> Result<Vec<TargetSummary>> {
        let sql = db::select_targets("ORDER BY t.name, t.id");
        let targets = sqlx::query(&sql).fetch_all(&self.pool).await?;
        // The scores of the last finished scans of every target in one query, over the
        // covering partial index (target_id, id, score) WHERE status = 'done'; then the
        // whole rows of the latest ones only.
        let keep = i64::try_from(sparkline.max(1)).unwrap_or(i64::MAX);
        let recent: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT target_id, id, score FROM (SELECT target_id, id, score, \
             ROW_NUMBER() OVER (PARTITION BY target_id ORDER BY id DESC) AS rn \
             FROM scans WHERE status = 'done') ranked WHERE rn <= $1 ORDER BY target_id, id",
        )
        .bind(keep)
        .fetch_all(&self.pool)
        .await?;
        let mut scores: HashMap<i64, Vec<u32>> = HashMap::new();
        let mut latest_ids: HashMap<i64, i64> = HashMap::new();
        for (target_id, id, score) in recent {
            latest_ids.insert(target_id, id);
            if let Some(score) = score.and_then(|s| u32::try_from(s).ok()) {
                scores.entry(target_id).or_default().push(score);
            }
        }
        let mut done: HashMap<i64, ScanRow> = HashMap::new();
        let latest_ids: Vec<i64> = latest_ids.into_values().collect();
        for chunk in latest_ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {} FROM scans WHERE id IN ({})",
                db::SCAN_COLS,
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                let scan = db::scan_from_row(&row)?;
                done.insert(scan.target_id, scan);
            }
        }
        let sql = format!(
            "SELECT {} FROM scans WHERE status IN ('queued', 'running') ORDER BY id",
            db::SCAN_COLS
        );
        let mut active: HashMap<i64, ScanRow> = HashMap::new();
        for row in sqlx::query(&sql).fetch_all(&self.pool).await? {
            let scan = db::scan_from_row(&row)?;
            active.entry(scan.target_id).or_insert(scan);
        }
        targets
            .iter()
            .map(|row| {
                let target = db::target_from_row(row)?;
                let latest = done.remove(&target.id);
                let mut recent_scores = scores.remove(&target.id).unwrap_or_default();
                let skip = recent_scores.len().saturating_sub(sparkline);
                recent_scores.drain(..skip);
                Ok(TargetSummary {
                    active: active.remove(&target.id),
                    target,
                    latest,
                    recent_scores,
                })
            })
            .collect()
    }
    pub async fn update_target(&self, id: i64, patch: TargetPatch) -> Result<Option<Target>> {
        let mut sets: Vec<&str> = Vec::new();
        let mut values: Vec<db::Param> = Vec::new();
        if let Some(name) = &patch.name {
            sets.push("name");
            values.push(db::Param::Text(Some(db::valid_name(
                "target name",
                name.trim(),
                200,
            )?)));
        }
        if let Some(url) = &patch.url {
            db::valid_url(url)?;
            sets.push("url");
            values.push(db::Param::Text(Some(url.trim().to_string())));
        }
        if let Some(spec) = patch.spec {
            sets.push("spec");
            values.push(db::Param::Text(spec));
        }
        if let Some(checks) = &patch.checks {
            sets.push("checks_json");
            values.push(db::Param::Text(Some(db::to_json(checks)?)));
        }
        // At most one of an interval and a cron expression: setting one clears the other.
        let cron = match patch.schedule_cron {
            Some(cron) => Some(db::valid_cron(cron.as_deref())?),
            None => None,
        };
        let (minutes, cron) = match (patch.schedule_minutes, cron) {
            (Some(Some(_)), Some(Some(_))) => {
                return Err(StoreError::Invalid(db::BOTH_SCHEDULES.into()));
            }
            (Some(Some(m)), None) => (Some(Some(m)), Some(None)),
            (None, Some(Some(c))) => (Some(None), Some(Some(c))),
            other => other,
        };
        if let Some(schedule) = minutes {
            db::valid_schedule(schedule)?;
            sets.push("schedule_minutes");
            values.push(db::Param::Int(schedule));
        }
        if let Some(cron) = cron {
            sets.push("schedule_cron");
            values.push(db::Param::Text(cron));
        }
        if let Some(jitter) = patch.schedule_jitter_seconds {
            db::valid_jitter(jitter)?;
            sets.push("schedule_jitter_seconds");
            values.push(db::Param::Int(jitter));
        }
        if let Some(credentials) = &patch.credentials {
            sets.push("credentials");
            values.push(db::Param::Blob(self.seal_credentials(credentials)?));
            sets.push("credential_kinds_json");
            values.push(db::Param::Text(Some(db::to_json(&credentials.kinds())?)));
        }
        sets.push("updated_at");
        values.push(db::Param::Int(Some(now_millis())));
        let assignments: Vec<String> = sets
            .iter()
            .enumerate()
            .map(|(i, column)| format!("{column} = ${}", i + 2))
            .collect();
        let sql = format!(
            "UPDATE targets SET {} WHERE id = $1",
            assignments.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(id);
        for value in values {
            query = value.bind(query);
        }
        if query.execute(&self.pool).await?.rows_affected() == 0 {
            return Ok(None);
        }
        self.target(id).await
    }
    /// Deletes the target, its scans, reports and findings. False when absent.
    pub async fn delete_target(&self, id: i64) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM targets WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }
    /// The target with this exact URL (first by id), or a new one without credentials (for
    /// imported reports).
    pub async fn target_for_url(&self, url: &str) -> Result<Target> {
        let sql = db::select_targets("WHERE t.url = $1 ORDER BY t.id LIMIT 1");
        let url = url.trim();
        if url.is_empty() {
            return Err(StoreError::Invalid("the report names no target URL".into()));
        }
        if let Some(row) = sqlx::query(&sql)
            .bind(url.to_string())
            .fetch_optional(&self.pool)
            .await?
        {
            return db::target_from_row(&row);
        }
        self.insert_target(NewTarget {
            url: url.to_string(),
            ..NewTarget::default()
        })
        .await
    }
    /// Targets with a schedule whose next run ([`schedule::next_run`]) is at or before
    /// `now` and that have no queued or running scan, by id. SQL cannot evaluate a cron
    /// expression: the scheduled idle targets are read and judged here.
    pub async fn due_targets(&self, now: Millis) -> Result<Vec<Target>> {
        let sql = db::select_targets(
            "WHERE (t.schedule_minutes IS NOT NULL OR t.schedule_cron IS NOT NULL) \
             AND NOT EXISTS (SELECT 1 FROM scans a WHERE a.target_id = t.id AND a.status IN ('queued', 'running')) \
             ORDER BY t.id",
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let mut due = Vec::new();
        for row in &rows {
            let target = db::target_from_row(row)?;
            match target.next_run_at {
                Some(at) if at <= now => due.push(target),
                Some(_) => {}
                None => tracing::warn!(
                    "target {} ({}) has a schedule that names no next run: {:?}",
                    target.id,
                    target.name,
                    target.schedule_cron
                ),
            }
        }
        Ok(due)
    }

    // Scans.
    /// A queued scan; `Conflict` when the target already has one queued or running.
    pub async fn enqueue_scan(&self, target_id: i64, trigger: &str) -> Result<ScanRow> {
        self.insert_scan(target_id, trigger, false).await
    }
    /// A scan that is running from the start, for a caller that runs it itself rather than
    /// leaving it to whichever worker claims the queue first (`authprobe mcp`, whose scope
    /// and credentials are its own). `Conflict` as for [`Self::enqueue_scan`].
    pub async fn start_scan_now(&self, target_id: i64, trigger: &str) -> Result<ScanRow> {
        self.insert_scan(target_id, trigger, true).await
    }
    async fn insert_scan(&self, target_id: i64, trigger: &str, running: bool) -> Result<ScanRow> {
        // One statement: the partial unique index on active scans settles any race.
        let sql = format!(
            "INSERT INTO scans (target_id, status, trigger_kind, created_at, started_at) \
             SELECT t.id, $4, $2, $3, $5 FROM targets t WHERE t.id = $1 \
             AND NOT EXISTS (SELECT 1 FROM scans a WHERE a.target_id = t.id AND a.status IN ('queued', 'running')) \
             RETURNING {}",
            db::SCAN_COLS
        );
        let now = now_millis();
        let inserted = sqlx::query(&sql)
            .bind(target_id)
            .bind(trigger.to_string())
            .bind(now)
            .bind(if running { "running" } else { "queued" })
            .bind(running.then_some(now))
            .fetch_optional(&self.pool)
            .await;
        match inserted {
            Ok(Some(row)) => db::scan_from_row(&row),
            Ok(None) => Err(self.why_not_enqueued(target_id).await),
            Err(e) if db::is_unique_violation(&e) => Err(self.why_not_enqueued(target_id).await),
            Err(e) => Err(e.into()),
        }
    }
    async fn why_not_enqueued(&self, target_id: i64) -> StoreError {
        let active: Result<Option<(i64, String)>, sqlx::Error> = sqlx::query_as(
            "SELECT id, status FROM scans WHERE target_id = $1 AND status IN ('queued', 'running') ORDER BY id LIMIT 1",
        )
        .bind(target_id)
        .fetch_optional(&self.pool)
        .await;
        match active {
            Ok(Some((id, status))) => StoreError::Conflict(format!(
                "target {target_id} already has a scan {status} (scan {id})"
            )),
            Ok(None) => match self.target(target_id).await {
                Ok(Some(_)) => StoreError::Conflict(format!(
                    "target {target_id} already has a scan queued or running"
                )),
                Ok(None) => StoreError::NotFound(format!("no target {target_id}")),
                Err(e) => e,
            },
            Err(e) => e.into(),
        }
    }
    /// Atomically moves the oldest queued scan to running (sets `started_at`) and returns
    /// it; `None` when the queue is empty. Safe with several callers.
    pub async fn claim_next_scan(&self, worker: &str) -> Result<Option<ScanRow>> {
        let due = "status = 'queued' AND (run_after IS NULL OR run_after <= $1)";
        let set = "status = 'running', started_at = $1, attempts = attempts + 1, worker = $2, \
                   run_after = NULL, heartbeat_at = $1";
        let sql = match self.backend {
            // Concurrent claimers skip the row another one has locked.
            Backend::Postgres => format!(
                "UPDATE scans SET {set} WHERE id = \
                 (SELECT id FROM scans WHERE {due} ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING {}",
                db::SCAN_COLS
            ),
            // One writer at a time: the statement takes the write lock before it reads.
            Backend::Sqlite => format!(
                "UPDATE scans SET {set} WHERE id = \
                 (SELECT id FROM scans WHERE {due} ORDER BY id LIMIT 1) AND status = 'queued' \
                 RETURNING {}",
                db::SCAN_COLS
            ),
        };
        let row = sqlx::query(&sql)
            .bind(now_millis())
            .bind(worker.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(db::scan_from_row).transpose()
    }
    /// Starts scan `id` for `worker` when it is queued, or running but its worker has been
    /// silent since `silent_since` (it died). `None` otherwise: done, failed, deleted, or
    /// running on a live worker, so a job delivered twice runs once.
    pub async fn claim_scan(
        &self,
        id: i64,
        worker: &str,
        silent_since: Millis,
    ) -> Result<Option<ScanRow>> {
        let sql = format!(
            "UPDATE scans SET status = 'running', started_at = $2, attempts = attempts + 1, \
             worker = $3, run_after = NULL, heartbeat_at = $2 \
             WHERE id = $1 AND (status = 'queued' OR (status = 'running' \
             AND COALESCE(heartbeat_at, started_at, created_at) < $4)) RETURNING {}",
            db::SCAN_COLS
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(now_millis())
            .bind(worker.to_string())
            .bind(silent_since)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(db::scan_from_row).transpose()
    }
    /// Records that `worker` is still running scan `id`. False when the scan is no longer
    /// running as its: finished, or taken back from a worker that was silent too long.
    pub async fn heartbeat_scan(&self, id: i64, worker: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE scans SET heartbeat_at = $3 WHERE id = $1 AND status = 'running' AND worker = $2",
        )
        .bind(id)
        .bind(worker.to_string())
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
    /// Records that `worker` holds queued scan `id` and is waiting to start it (for a slot
    /// of its host): the scan is not an orphan. False when it is no longer queued.
    pub async fn touch_queued_scan(&self, id: i64, worker: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE scans SET heartbeat_at = $3, worker = $2 WHERE id = $1 AND status = 'queued'",
        )
        .bind(id)
        .bind(worker.to_string())
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
    /// Puts back in the queue the running scans whose worker has said nothing since
    /// `silent_since`, and returns their ids: their worker died, or lost the database.
    pub async fn requeue_silent(&self, silent_since: Millis) -> Result<Vec<i64>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE scans SET status = 'queued', worker = NULL, \
             error = 'its worker stopped answering; queued again' \
             WHERE status = 'running' AND COALESCE(heartbeat_at, started_at, created_at) < $1 \
             RETURNING id",
        )
        .bind(silent_since)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }
    /// A running scan back in the queue, not before `run_after` (a retry with backoff, or
    /// a job its worker hands back at shutdown), keeping `error` as the reason. False when
    /// it was not running.
    pub async fn requeue_scan(&self, id: i64, error: &str, run_after: Millis) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE scans SET status = 'queued', error = $2, run_after = $3, heartbeat_at = NULL \
             WHERE id = $1 AND status = 'running'",
        )
        .bind(id)
        .bind(error.to_string())
        .bind(run_after)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
    /// In one transaction: stores the report and its findings and marks the scan done.
    /// Only a running scan can finish (`Conflict` otherwise), so an interrupted scan that
    /// was re-queued never gets a late report.
    pub async fn finish_scan(&self, scan_id: i64, report: &Report) -> Result<ScanRow> {
        let body = db::report_json(report)?;
        let summary = db::Summary::of(report);
        let now = now_millis();
        let mut tx = self.begin().await?;
        let sql = format!(
            "UPDATE scans SET status = 'done', finished_at = $2, score = $3, grade = $4, \
             findings_count = $5, sev_critical = $6, sev_high = $7, sev_medium = $8, sev_low = $9, \
             sev_info = $10, requests_sent = $11, duration_ms = $12, error = NULL \
             WHERE id = $1 AND status = 'running' RETURNING {}",
            db::SCAN_COLS
        );
        let row = summary
            .bind(sqlx::query(&sql).bind(scan_id).bind(now))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Err(match self.scan(scan_id).await? {
                Some(scan) => StoreError::Conflict(format!(
                    "scan {scan_id} is {}, not running: its report is not stored",
                    scan.status.as_str()
                )),
                None => StoreError::NotFound(format!("no scan {scan_id}")),
            });
        };
        let scan = db::scan_from_row(&row)?;
        db::insert_report(&mut tx, scan_id, body, report).await?;
        tx.commit().await?;
        Ok(scan)
    }
    pub async fn fail_scan(&self, scan_id: i64, error: &str) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE scans SET status = 'failed', finished_at = $2, error = $3 \
             WHERE id = $1 AND status IN ('queued', 'running')",
        )
        .bind(scan_id)
        .bind(now_millis())
        .bind(error.to_string())
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() > 0 {
            return Ok(());
        }
        Err(match self.scan(scan_id).await? {
            Some(scan) => StoreError::Conflict(format!(
                "scan {scan_id} is {}: only a queued or running scan can fail",
                scan.status.as_str()
            )),
            None => StoreError::NotFound(format!("no scan {scan_id}")),
        })
    }
    /// A report made elsewhere (the CLI's `--upload`, `POST /reports`): a done scan with
    /// trigger `import`, in one transaction.
    pub async fn import_report(&self, target_id: i64, report: &Report) -> Result<ScanRow> {
        let body = db::report_json(report)?;
        let summary = db::Summary::of(report);
        let now = now_millis();
        let started = now.saturating_sub(i64::try_from(report.duration_ms).unwrap_or(i64::MAX));
        let mut tx = self.begin().await?;
        let sql = format!(
            "INSERT INTO scans (target_id, status, trigger_kind, created_at, started_at, finished_at, \
             score, grade, findings_count, sev_critical, sev_high, sev_medium, sev_low, sev_info, \
             requests_sent, duration_ms) \
             SELECT t.id, 'done', 'import', $2, $13, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 \
             FROM targets t WHERE t.id = $1 RETURNING {}",
            db::SCAN_COLS
        );
        let row = summary
            .bind(sqlx::query(&sql).bind(target_id).bind(now))
            .bind(started)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("no target {target_id}")));
        };
        let scan = db::scan_from_row(&row)?;
        db::insert_report(&mut tx, scan.id, body, report).await?;
        tx.commit().await?;
        Ok(scan)
    }
    /// At start: every `running` scan becomes `interrupted` (error says so) and a new
    /// queued scan (trigger `requeue`, `requeued_from` set) replaces it. Returns the pairs
    /// (interrupted, new).
    pub async fn recover_interrupted(&self) -> Result<Vec<(i64, i64)>> {
        let running: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM scans WHERE status = 'running' ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let mut pairs = Vec::new();
        for id in running {
            let now = now_millis();
            let mut tx = self.begin().await?;
            // Interrupted first: the new queued scan would otherwise be a second active
            // scan of the target.
            let updated = sqlx::query(
                "UPDATE scans SET status = 'interrupted', finished_at = $2 WHERE id = $1 AND status = 'running'",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                tx.rollback().await?;
                continue;
            }
            let new: i64 = sqlx::query_scalar(
                "INSERT INTO scans (target_id, status, trigger_kind, created_at, requeued_from) \
                 SELECT target_id, 'queued', 'requeue', $2, id FROM scans WHERE id = $1 RETURNING id",
            )
            .bind(id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE scans SET error = $2 WHERE id = $1")
                .bind(id)
                .bind(format!(
                    "the server stopped while this scan ran; it was re-queued as scan {new}"
                ))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            pairs.push((id, new));
        }
        Ok(pairs)
    }
    pub async fn scan(&self, id: i64) -> Result<Option<ScanRow>> {
        let sql = format!("SELECT {} FROM scans WHERE id = $1", db::SCAN_COLS);
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(db::scan_from_row).transpose()
    }
    /// Newest first; `before` is a scan id (keyset pagination).
    pub async fn list_scans(
        &self,
        target: Option<i64>,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<ScanRow>> {
        // Each shape its own statement, so each gets a plan that uses its index.
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        if let Some(target) = target {
            binds.push(target);
            conditions.push(format!("target_id = ${}", binds.len()));
        }
        if let Some(before) = before {
            binds.push(before);
            conditions.push(format!("id < ${}", binds.len()));
        }
        binds.push(i64::from(limit));
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {} FROM scans {filter} ORDER BY id DESC LIMIT ${}",
            db::SCAN_COLS,
            binds.len()
        );
        let mut query = sqlx::query(&sql);
        for value in binds {
            query = query.bind(value);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(db::scan_from_row).collect()
    }
    /// The stored report of a done scan.
    pub async fn report(&self, scan_id: i64) -> Result<Option<Report>> {
        let body: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT body FROM reports WHERE scan_id = $1")
                .bind(scan_id)
                .fetch_optional(&self.pool)
                .await?;
        body.map(|body| {
            db::report_from_body(&body)
                .map_err(|e| StoreError::Corrupt(format!("the report of scan {scan_id}: {e}")))
        })
        .transpose()
    }
    pub async fn findings(&self, scan_id: i64) -> Result<Vec<FindingRow>> {
        let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT fingerprint, check_id, severity, title, operation FROM findings WHERE scan_id = $1 ORDER BY id",
        )
        .bind(scan_id)
        .fetch_all(&self.pool)
        .await?;
        let mut findings: Vec<FindingRow> = rows
            .into_iter()
            .map(
                |(fingerprint, check_id, severity, title, operation)| FindingRow {
                    fingerprint,
                    check_id,
                    severity,
                    title,
                    operation,
                },
            )
            .collect();
        db::sort_findings(&mut findings);
        Ok(findings)
    }
    /// What changed from `from` to `to` (both done); `None` when either is missing or
    /// not done.
    pub async fn diff(&self, from: i64, to: i64) -> Result<Option<Diff>> {
        let (Some(from_scan), Some(to_scan)) = (self.scan(from).await?, self.scan(to).await?)
        else {
            return Ok(None);
        };
        if from_scan.status != ScanStatus::Done || to_scan.status != ScanStatus::Done {
            return Ok(None);
        }
        let by_fingerprint = |rows: Vec<FindingRow>| {
            let mut map = BTreeMap::new();
            for row in rows {
                map.entry(row.fingerprint.clone()).or_insert(row);
            }
            map
        };
        let before = by_fingerprint(self.findings(from).await?);
        let mut after = by_fingerprint(self.findings(to).await?);
        let mut fixed = Vec::new();
        let mut unchanged = Vec::new();
        for (fingerprint, row) in before {
            match after.remove(&fingerprint) {
                Some(now) => unchanged.push(now),
                None => fixed.push(row),
            }
        }
        let mut new: Vec<FindingRow> = after.into_values().collect();
        for list in [&mut new, &mut fixed, &mut unchanged] {
            db::sort_findings(list);
        }
        let score_delta =
            i64::from(to_scan.score.unwrap_or(0)) - i64::from(from_scan.score.unwrap_or(0));
        Ok(Some(Diff {
            from: from_scan,
            to: to_scan,
            new,
            fixed,
            unchanged,
            score_delta,
        }))
    }
    /// Size of the database in bytes (SQLite: page_count * page_size; PostgreSQL:
    /// pg_database_size), for the benchmark.
    pub async fn size_bytes(&self) -> Result<u64> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT c.page_count * s.page_size FROM pragma_page_count() c, pragma_page_size() s"
            }
            Backend::Postgres => "SELECT pg_database_size(current_database())",
        };
        let size: i64 = sqlx::query_scalar(sql).fetch_one(&self.pool).await?;
        u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("database size {size}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_sha256_of_nul_separated_fields() {
        use sha2::{Digest, Sha256};
        let fp = fingerprint(
            "jwt.alg_none",
            "https://api.example.com/",
            Some("GET /orders"),
        );
        assert_eq!(fp.len(), 32);
        assert!(
            fp.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        let full = db::hex(&Sha256::digest(
            b"jwt.alg_none\0https://api.example.com/\0GET /orders",
        ));
        assert_eq!(fp, full[..32]);
        // Stable across runs (a changed scheme would split every history).
        assert_eq!(
            fingerprint("a", "b", None),
            db::hex(&Sha256::digest(b"a\0b\0"))[..32]
        );
    }

    #[test]
    fn fingerprint_separates_its_fields() {
        let base = fingerprint("check", "https://t/", None);
        assert_eq!(base, fingerprint("check", "https://t/", Some("")));
        assert_ne!(base, fingerprint("check", "https://t/", Some("GET /")));
        assert_ne!(base, fingerprint("check2", "https://t/", None));
        assert_ne!(base, fingerprint("check", "https://u/", None));
        // The separator keeps "ab"+"c" apart from "a"+"bc".
        assert_ne!(fingerprint("ab", "c", None), fingerprint("a", "bc", None));
        assert_ne!(
            fingerprint("a", "b", Some("c")),
            fingerprint("a", "b\0c", None)
        );
    }
}
