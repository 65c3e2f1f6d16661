//! The history store that `serve` (and later the workers and MCP) share: targets, their
//! encrypted credentials, scans with their whole reports, findings normalised by a stable
//! fingerprint, API keys, users and sessions. One code path over sqlx's Any driver for
//! SQLite (the default, WAL) and PostgreSQL; each backend has its own migrations because
//! their DDL differs (identity columns, BLOB/BYTEA), the queries do not.
//!
//! Nothing below the service imports this module.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::report::Report;

pub mod crypto;

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
    /// Rescan every N minutes; `None`: only on demand.
    pub schedule_minutes: Option<i64>,
    pub credentials: TargetCredentials,
}

/// A change to a target; `None` leaves a field alone. `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default)]
pub struct TargetPatch {
    pub name: Option<String>,
    pub url: Option<String>,
    pub spec: Option<Option<String>>,
    pub checks: Option<Vec<String>>,
    pub schedule_minutes: Option<Option<i64>>,
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
/// target URL and operation (empty for a single URL), NUL-separated.
pub fn fingerprint(check_id: &str, target: &str, operation: Option<&str>) -> String {
    let _ = (check_id, target, operation);
    todo!()
}

pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[derive(Clone)]
pub struct Store {
    _private: (),
}

impl Store {
    /// Opens (creating it when absent) and migrates the database. `sqlite://PATH` (a file,
    /// WAL, foreign keys on, busy timeout) or `postgres://...`.
    pub async fn open(url: &str, sealer: crypto::Sealer) -> Result<Store> {
        let _ = (url, sealer);
        todo!()
    }
    pub fn backend(&self) -> Backend {
        todo!()
    }

    // API keys: 32 random bytes, shown once as `ap_<base64url>`; stored as SHA-256.
    pub async fn api_key_count(&self) -> Result<i64> {
        todo!()
    }
    /// Returns the key's record and its plaintext (never stored).
    pub async fn create_api_key(&self, name: &str, admin: bool) -> Result<(ApiKeyInfo, String)> {
        let _ = (name, admin);
        todo!()
    }
    /// The key's record when `presented` is a live key (updates `last_used_at`).
    pub async fn verify_api_key(&self, presented: &str) -> Result<Option<ApiKeyInfo>> {
        let _ = presented;
        todo!()
    }

    // Users: argon2id password hashes.
    pub async fn user_count(&self) -> Result<i64> {
        todo!()
    }
    /// `Conflict` when the name is taken.
    pub async fn create_user(&self, username: &str, password: &str) -> Result<User> {
        let _ = (username, password);
        todo!()
    }
    /// Verifies against a dummy hash when the user does not exist, so timing does not tell.
    pub async fn verify_login(&self, username: &str, password: &str) -> Result<Option<User>> {
        let _ = (username, password);
        todo!()
    }
    /// A new session: returns (cookie token, the session). Stored as SHA-256 of the token.
    pub async fn create_session(&self, user_id: i64, ttl: Duration) -> Result<(String, Session)> {
        let _ = (user_id, ttl);
        todo!()
    }
    /// A live (unexpired) session.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let _ = token;
        todo!()
    }
    pub async fn delete_session(&self, token: &str) -> Result<()> {
        let _ = token;
        todo!()
    }

    // Targets.
    pub async fn create_target(&self, new: NewTarget) -> Result<Target> {
        let _ = new;
        todo!()
    }
    pub async fn target(&self, id: i64) -> Result<Option<Target>> {
        let _ = id;
        todo!()
    }
    /// Decrypted credentials, for the scan runner only.
    pub async fn target_credentials(&self, id: i64) -> Result<Option<TargetCredentials>> {
        let _ = id;
        todo!()
    }
    /// Every target with its latest finished scan, its active one and up to `sparkline`
    /// recent scores; ordered by name.
    pub async fn list_targets(&self, sparkline: usize) -> Result<Vec<TargetSummary>> {
        let _ = sparkline;
        todo!()
    }
    pub async fn update_target(&self, id: i64, patch: TargetPatch) -> Result<Option<Target>> {
        let _ = (id, patch);
        todo!()
    }
    /// Deletes the target, its scans, reports and findings. False when absent.
    pub async fn delete_target(&self, id: i64) -> Result<bool> {
        let _ = id;
        todo!()
    }
    /// The target with this exact URL (first by id), or a new one without credentials (for
    /// imported reports).
    pub async fn target_for_url(&self, url: &str) -> Result<Target> {
        let _ = url;
        todo!()
    }
    /// Targets with a schedule whose last scan was created more than its interval ago (or
    /// never) and that have no queued or running scan.
    pub async fn due_targets(&self, now: Millis) -> Result<Vec<Target>> {
        let _ = now;
        todo!()
    }

    // Scans.
    /// A queued scan; `Conflict` when the target already has one queued or running.
    pub async fn enqueue_scan(&self, target_id: i64, trigger: &str) -> Result<ScanRow> {
        let _ = (target_id, trigger);
        todo!()
    }
    /// Atomically moves the oldest queued scan to running (sets `started_at`) and returns
    /// it; `None` when the queue is empty. Safe with several callers.
    pub async fn claim_next_scan(&self) -> Result<Option<ScanRow>> {
        todo!()
    }
    /// In one transaction: stores the report and its findings and marks the scan done.
    /// Only a running scan can finish (`Conflict` otherwise), so an interrupted scan that
    /// was re-queued never gets a late report.
    pub async fn finish_scan(&self, scan_id: i64, report: &Report) -> Result<ScanRow> {
        let _ = (scan_id, report);
        todo!()
    }
    pub async fn fail_scan(&self, scan_id: i64, error: &str) -> Result<()> {
        let _ = (scan_id, error);
        todo!()
    }
    /// A report made elsewhere (the CLI's `--upload`, `POST /reports`): a done scan with
    /// trigger `import`, in one transaction.
    pub async fn import_report(&self, target_id: i64, report: &Report) -> Result<ScanRow> {
        let _ = (target_id, report);
        todo!()
    }
    /// At start: every `running` scan becomes `interrupted` (error says so) and a new
    /// queued scan (trigger `requeue`, `requeued_from` set) replaces it. Returns the pairs
    /// (interrupted, new).
    pub async fn recover_interrupted(&self) -> Result<Vec<(i64, i64)>> {
        todo!()
    }
    pub async fn scan(&self, id: i64) -> Result<Option<ScanRow>> {
        let _ = id;
        todo!()
    }
    /// Newest first; `before` is a scan id (keyset pagination).
    pub async fn list_scans(
        &self,
        target: Option<i64>,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<ScanRow>> {
        let _ = (target, limit, before);
        todo!()
    }
    /// The stored report of a done scan.
    pub async fn report(&self, scan_id: i64) -> Result<Option<Report>> {
        let _ = scan_id;
        todo!()
    }
    pub async fn findings(&self, scan_id: i64) -> Result<Vec<FindingRow>> {
        let _ = scan_id;
        todo!()
    }
    /// What changed from `from` to `to` (both done); `None` when either is missing or
    /// not done.
    pub async fn diff(&self, from: i64, to: i64) -> Result<Option<Diff>> {
        let _ = (from, to);
        todo!()
    }
    /// Size of the database in bytes (SQLite: page_count * page_size; PostgreSQL:
    /// pg_database_size), for the benchmark.
    pub async fn size_bytes(&self) -> Result<u64> {
        todo!()
    }
}
