//! What the store's queries share: connecting, row decoding, validation, hashing.

use std::sync::OnceLock;

use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Executor, Row};

use super::schedule::{Schedule, next_run};
use super::{
    Backend, CredentialKinds, FindingRow, Millis, Result, ScanRow, ScanStatus, StoreError, Target,
};
use crate::report::Report;

pub(super) type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

pub(super) const TARGET_COLS: &str = "id, name, url, spec, checks_json, schedule_minutes, \
     schedule_cron, schedule_jitter_seconds, credential_kinds_json, created_at, updated_at";

/// A SELECT of targets (`t`) with the start of each one's latest scan, which its next run
/// counts from ([`target_from_row`] wants it), followed by `rest` (WHERE, ORDER BY...).
/// The subquery walks the (target_id, id) index backwards: one row per target.
pub(super) fn select_targets(rest: &str) -> String {
    format!(
        "SELECT {}, (SELECT l.created_at FROM scans l WHERE l.target_id = t.id ORDER BY l.id DESC LIMIT 1) \
         AS last_scan_at FROM targets t {rest}",
        prefixed("t.", TARGET_COLS)
    )
}

pub(super) const SCAN_COLS: &str = "id, target_id, status, trigger_kind, created_at, started_at, \
     finished_at, score, grade, findings_count, sev_critical, sev_high, sev_medium, sev_low, \
     sev_info, requests_sent, duration_ms, error, requeued_from, attempts, worker, run_after, heartbeat_at";

/// `cols` with every column qualified by `prefix` (`t.`).
pub(super) fn prefixed(prefix: &str, cols: &str) -> String {
    cols.split(',')
        .map(|c| format!("{prefix}{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sqlx URL for `url` and its backend; a SQLite file's directory is created.
fn database_url(url: &str) -> Result<(String, Backend, bool)> {
    let unsupported = || StoreError::UnsupportedUrl(url.to_string());
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((url.to_string(), Backend::Postgres, false));
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Err(unsupported());
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path == ":memory:" {
        // Each connection of the Any driver would open its own in-memory database; the
        // pool keeps one connection (tests only).
        return Ok(("sqlite::memory:".into(), Backend::Sqlite, true));
    }
    if path.is_empty() {
        return Err(unsupported());
    }
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| unsupported())?;
    let path = std::path::absolute(decoded.as_ref()).map_err(|_| unsupported())?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            StoreError::Db(sqlx::Error::Configuration(
                format!("cannot create the directory {}: {e}", parent.display()).into(),
            ))
        })?;
    }
    // Re-encoded absolute, so that the URL parser the Any driver goes through cannot read
    // a relative path's first component as a host.
    const PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let encoded =
        percent_encoding::utf8_percent_encode(path.to_str().ok_or_else(unsupported)?, PATH);
    let mut params: Vec<&str> = query
        .map(|q| q.split('&').filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    if !params.iter().any(|p| p.starts_with("mode=")) {
        params.push("mode=rwc");
    }
    Ok((
        format!("sqlite://{encoded}?{}", params.join("&")),
        Backend::Sqlite,
        false,
    ))
}

pub(super) async fn connect(url: &str) -> Result<(AnyPool, Backend)> {
    static DRIVERS: std::sync::Once = std::sync::Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
    let (url, backend, memory) = database_url(url)?;
    let mut options = AnyPoolOptions::new();
    options = match backend {
        Backend::Postgres => options.max_connections(10),
        Backend::Sqlite if memory => options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None),
        Backend::Sqlite => options.max_connections(8).after_connect(|conn, _| {
            Box::pin(async move {
                // Per connection. synchronous=NORMAL: in WAL mode a committed transaction
                // survives the process being killed (kill -9); only an OS crash or power
                // loss may lose the last transactions, never corrupt the file. FULL would
                // fsync the WAL on every commit for that last bit.
                conn.execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
                )
                .await?;
                Ok(())
            })
        }),
    };
    let pool = options.connect(&url).await?;
    if backend == Backend::Sqlite {
        // Persistent in the file: once set, every later connection is in WAL mode.
        pool.execute("PRAGMA journal_mode = WAL").await?;
        if memory {
            pool.execute("PRAGMA foreign_keys = ON").await?;
        }
    }
    Ok((pool, backend))
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(text.as_bytes()))
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random number generator works");
    bytes
}

/// 32 random bytes, base64url without padding.
pub(super) fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A display name: trimmed, 1..=`max` characters, no control characters.
pub(super) fn valid_name(what: &str, name: &str, max: usize) -> Result<String> {
    let name = name.trim();
    let count = name.chars().count();
    if count == 0 {
        return Err(StoreError::Invalid(format!("the {what} is empty")));
    }
    if count > max {
        return Err(StoreError::Invalid(format!(
            "the {what} is longer than {max} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "the {what} holds control characters"
        )));
    }
    Ok(name.to_string())
}

pub(super) fn valid_username(username: &str) -> Result<()> {
    let checked = valid_name("user name", username, 64)?;
    if checked != username {
        return Err(StoreError::Invalid(
            "the user name starts or ends with white space".into(),
        ));
    }
    Ok(())
}

pub(super) const MIN_PASSWORD: usize = 10;
const MAX_PASSWORD: usize = 1024;

pub(super) fn valid_password(password: &str) -> Result<()> {
    let count = password.chars().count();
    if count < MIN_PASSWORD {
        return Err(StoreError::Invalid(format!(
            "the password is shorter than {MIN_PASSWORD} characters"
        )));
    }
    if password.len() > MAX_PASSWORD {
        return Err(StoreError::Invalid(format!(
            "the password is longer than {MAX_PASSWORD} bytes"
        )));
    }
    Ok(())
}

fn argon2_hash(password: &[u8]) -> Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| StoreError::Corrupt(format!("password salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password, &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| StoreError::Corrupt(format!("password hash: {e}")))
}

/// argon2id with the crate's default parameters, off the async threads.
pub(super) async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || argon2_hash(password.as_bytes()))
        .await
        .map_err(|e| StoreError::Corrupt(format!("password hashing: {e}")))?
}

/// Whether `password` matches `hash`; with no hash (no such user), the same work against
/// a dummy hash, and false.
pub(super) async fn verify_password(password: String, hash: Option<String>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        if password.len() > MAX_PASSWORD {
            return false;
        }
        let real = hash.is_some();
        let hash = match hash {
            Some(hash) => hash,
            None => DUMMY
                .get_or_init(|| {
                    argon2_hash(&random_bytes::<24>()).unwrap_or_else(|_| String::new())
                })
                .clone(),
        };
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let ok = argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && real
    })
    .await
    .unwrap_or(false)
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

pub(super) fn unique_to_conflict(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(message())
    } else {
        StoreError::Db(e)
    }
}

/// An http(s) URL with a host.
pub(super) fn valid_url(url: &str) -> Result<()> {
    let parsed = url::Url::parse(url.trim())
        .map_err(|e| StoreError::Invalid(format!("the target URL {url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(StoreError::Invalid(format!(
            "the target URL {url:?} is not an http:// or https:// URL"
        )));
    }
    Ok(())
}

pub(super) const BOTH_SCHEDULES: &str =
    "a target is scheduled by an interval or by a cron expression, not both";

/// The expression as stored (single spaces), or `None` for none.
pub(super) fn valid_cron(cron: Option<&str>) -> Result<Option<String>> {
    cron.map(|c| {
        super::schedule::Cron::parse(c)
            .map(|c| c.as_str().to_string())
            .map_err(StoreError::Invalid)
    })
    .transpose()
}

pub(super) fn valid_jitter(seconds: Option<i64>) -> Result<()> {
    if let Some(s) = seconds {
        super::schedule::check_jitter(s).map_err(StoreError::Invalid)?;
    }
    Ok(())
}

pub(super) fn valid_schedule(minutes: Option<i64>) -> Result<()> {
    match minutes {
        Some(m) if !(1..=525_600).contains(&m) => Err(StoreError::Invalid(format!(
            "a schedule of {m} minutes: use 1 to 525600 (a year), or none"
        ))),
        _ => Ok(()),
    }
}

/// host[:port] and path of the URL (`api.example.com/v1`), or the URL itself.
pub(super) fn default_name(url: &str) -> String {
    let url = url.trim();
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let Some(host) = parsed.host_str() else {
        return url.to_string();
    };
    let mut name = host.to_string();
    if let Some(port) = parsed.port() {
        name.push_str(&format!(":{port}"));
    }
    let path = parsed.path();
    if path != "/" {
        name.push_str(path);
    }
    name
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A target from a row of [`select_targets`] (or one with its columns and `last_scan_at`).
pub(super) fn target_from_row(row: &AnyRow) -> Result<Target> {
    let id: i64 = row.try_get("id")?;
    let checks: String = row.try_get("checks_json")?;
    let kinds: String = row.try_get("credential_kinds_json")?;
    let schedule_minutes: Option<i64> = row.try_get("schedule_minutes")?;
    let schedule_cron: Option<String> = row.try_get("schedule_cron")?;
    let schedule_jitter_seconds: Option<i64> = row.try_get("schedule_jitter_seconds")?;
    let created_at: Millis = row.try_get("created_at")?;
    let last_scan_at: Option<Millis> = row.try_get("last_scan_at")?;
    // An expression stored by another version that this one cannot read leaves the
    // target unscheduled (the scheduler logs it) rather than every page that lists it
    // failing.
    let next_run_at = match Schedule::from_columns(schedule_minutes, schedule_cron.as_deref()) {
        Ok(Some(schedule)) => next_run(
            &schedule,
            schedule_jitter_seconds,
            id,
            last_scan_at,
            created_at,
        ),
        Ok(None) | Err(_) => None,
    };
    Ok(Target {
        id,
        name: row.try_get("name")?,
        url: row.try_get("url")?,
        spec: row.try_get("spec")?,
        checks: from_json(&format!("checks of target {id}"), &checks)?,
        schedule_minutes,
        schedule_cron,
        schedule_jitter_seconds,
        next_run_at,
        credentials: from_json::<CredentialKinds>(
            &format!("credential kinds of target {id}"),
            &kinds,
        )?,
        created_at,
        updated_at: row.try_get("updated_at")?,
    })
}

fn count<T: TryFrom<i64>>(row: &AnyRow, column: &str) -> Result<Option<T>> {
    let value: Option<i64> = row.try_get(column)?;
    value
        .map(|v| T::try_from(v).map_err(|_| StoreError::Corrupt(format!("{column} is {v}"))))
        .transpose()
}

pub(super) fn scan_from_row(row: &AnyRow) -> Result<ScanRow> {
    let status: String = row.try_get("status")?;
    let status = match status.as_str() {
        "queued" => ScanStatus::Queued,
        "running" => ScanStatus::Running,
        "done" => ScanStatus::Done,
        "failed" => ScanStatus::Failed,
        "interrupted" => ScanStatus::Interrupted,
        other => return Err(StoreError::Corrupt(format!("scan status {other:?}"))),
    };
    let severities = [
        count::<u32>(row, "sev_critical")?,
        count(row, "sev_high")?,
        count(row, "sev_medium")?,
        count(row, "sev_low")?,
        count(row, "sev_info")?,
    ];
    let severities = match severities {
        [Some(c), Some(h), Some(m), Some(l), Some(i)] => Some([c, h, m, l, i]),
        _ => None,
    };
    Ok(ScanRow {
        id: row.try_get("id")?,
        target_id: row.try_get("target_id")?,
        status,
        trigger: row.try_get("trigger_kind")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        score: count(row, "score")?,
        grade: row.try_get("grade")?,
        findings: count(row, "findings_count")?,
        severities,
        requests_sent: count(row, "requests_sent")?,
        duration_ms: count(row, "duration_ms")?,
        error: row.try_get("error")?,
        requeued_from: row.try_get("requeued_from")?,
        attempts: count(row, "attempts")?.unwrap_or(0),
        worker: row.try_get("worker")?,
        run_after: row.try_get("run_after")?,
        heartbeat_at: row.try_get("heartbeat_at")?,
    })
}

/// A value for a statement built at run time.
pub(super) enum Param {
    Int(Option<i64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

impl Param {
    pub(super) fn bind(self, query: AnyQuery<'_>) -> AnyQuery<'_> {
        match self {
            Param::Int(v) => query.bind(v),
            Param::Text(v) => query.bind(v),
            Param::Blob(v) => query.bind(v),
        }
    }
}

/// The report compact (the pretty form is for people).
/// The largest report a stored body may inflate to: a bound on what one read allocates,
/// whatever the database holds.
pub(super) const MAX_REPORT_BYTES: u64 = 256 * 1024 * 1024;

/// The report as stored: compact JSON, zlib-compressed.
pub(super) fn report_json(report: &Report) -> Result<Vec<u8>> {
    use std::io::Write;
    let json =
        serde_json::to_vec(report).map_err(|e| StoreError::Corrupt(format!("the report: {e}")))?;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&json)
        .and_then(|()| z.finish())
        .map_err(|e| StoreError::Corrupt(format!("compressing the report: {e}")))
}

/// A stored body back to a report, inflating at most [`MAX_REPORT_BYTES`].
pub(super) fn report_from_body(body: &[u8]) -> std::result::Result<Report, String> {
    report_from_body_capped(body, MAX_REPORT_BYTES)
}

fn report_from_body_capped(body: &[u8], cap: u64) -> std::result::Result<Report, String> {
    use std::io::Read;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(body)
        .take(cap + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("inflating: {e}"))?;
    if json.len() as u64 > cap {
        return Err(format!("larger than {cap} bytes once inflated"));
    }
    serde_json::from_slice(&json).map_err(|e| e.to_string())
}

/// The columns of a done scan a report fills.
pub(super) struct Summary {
    score: i64,
    grade: String,
    findings: i64,
    severities: [i64; 5],
    requests_sent: i64,
    duration_ms: i64,
}

impl Summary {
    pub(super) fn of(report: &Report) -> Summary {
        use crate::finding::Severity;
        let mut severities = [0i64; 5];
        for finding in &report.findings {
            let slot = match finding.severity {
                Severity::Critical => 0,
                Severity::High => 1,
                Severity::Medium => 2,
                Severity::Low => 3,
                Severity::Info => 4,
            };
            severities[slot] += 1;
        }
        Summary {
            score: i64::from(report.score),
            grade: report.grade.clone(),
            findings: report.findings.len() as i64,
            severities,
            requests_sent: i64::try_from(report.requests_sent).unwrap_or(i64::MAX),
            duration_ms: i64::try_from(report.duration_ms).unwrap_or(i64::MAX),
        }
    }
    /// Binds score, grade, findings, the five severities, requests and duration (ten
    /// placeholders) after what `query` has bound.
    pub(super) fn bind<'q>(&self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        let mut query = query
            .bind(self.score)
            .bind(self.grade.clone())
            .bind(self.findings);
        for count in self.severities {
            query = query.bind(count);
        }
        query.bind(self.requests_sent).bind(self.duration_ms)
    }
}

/// Rows per multi-row INSERT of findings: 6 placeholders each, far below both backends'
/// limits.
const FINDINGS_PER_INSERT: usize = 100;

/// The report body and one finding row per (finding, operation).
pub(super) async fn insert_report(
    tx: &mut sqlx::Transaction<'static, Any>,
    scan_id: i64,
    body: Vec<u8>,
    report: &Report,
) -> Result<()> {
    sqlx::query("INSERT INTO reports (scan_id, body) VALUES ($1, $2)")
        .bind(scan_id)
        .bind(body)
        .execute(&mut **tx)
        .await?;
    // Fingerprints name the stored target, not the report's URL: a target that moves
    // (another port, a new deployment) keeps its findings' identities across the move.
    let (target_id,): (i64,) = sqlx::query_as("SELECT target_id FROM scans WHERE id = $1")
        .bind(scan_id)
        .fetch_one(&mut **tx)
        .await?;
    let target_key = format!("target:{target_id}");
    let target_key = &target_key;
    let rows: Vec<FindingRow> = report
        .findings
        .iter()
        .flat_map(|finding| {
            let operations: Vec<Option<&str>> = if finding.operations.is_empty() {
                vec![None]
            } else {
                finding
                    .operations
                    .iter()
                    .map(|o| Some(o.as_str()))
                    .collect()
            };
            operations.into_iter().map(move |operation| FindingRow {
                fingerprint: super::fingerprint(&finding.id, target_key, operation),
                check_id: finding.id.clone(),
                severity: finding.severity.as_str().to_string(),
                title: finding.title.clone(),
                operation: operation.map(str::to_string),
            })
        })
        .collect();
    for chunk in rows.chunks(FINDINGS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let n = i * 6;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO findings (scan_id, fingerprint, check_id, severity, title, operation) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = query
                .bind(scan_id)
                .bind(row.fingerprint.clone())
                .bind(row.check_id.clone())
                .bind(row.severity.clone())
                .bind(row.title.clone())
                .bind(row.operation.clone());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

fn severity_rank(severity: &str) -> u8 {
    match severity {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        "info" => 4,
        _ => 5,
    }
}

/// Critical first, then by check id, then by operation (none first).
pub(super) fn sort_findings(rows: &mut [FindingRow]) {
    rows.sort_by(|a, b| {
        (severity_rank(&a.severity), &a.check_id, &a.operation).cmp(&(
            severity_rank(&b.severity),
            &b.check_id,
            &b.operation,
        ))
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn stored_reports_inflate_within_a_cap() {
        use std::io::Write;
        let report: Report = serde_json::from_value(serde_json::json!({
            "schema_version": 2, "tool": {"name": "authprobe", "version": "0"},
            "target": "https://t/", "started_at": "now", "duration_ms": 1, "requests_sent": 1,
            "score": 90, "grade": "A", "grade_caps": [], "categories": {}, "findings": [],
            "checks_run": [], "checks_skipped": [], "inconclusive": []
        }))
        .unwrap();
        let body = report_json(&report).unwrap();
        assert_eq!(report_from_body(&body).unwrap(), report);
        // A bomb: a megabyte of zeros in a kilobyte does not inflate past the cap.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![b' '; 1 << 20]).unwrap();
        let bomb = z.finish().unwrap();
        assert!(bomb.len() < 4096);
        let e = report_from_body_capped(&bomb, 64 * 1024).unwrap_err();
        assert!(e.contains("once inflated"), "{e}");
        assert!(report_from_body(b"not zlib").is_err());
    }

    use super::*;

    #[test]
    fn sqlite_urls() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a b").join("history.db");
        let (url, backend, memory) = database_url(&format!("sqlite://{}", file.display())).unwrap();
        assert_eq!(backend, Backend::Sqlite);
        assert!(!memory);
        assert!(url.starts_with("sqlite:///"), "{url}");
        assert!(url.ends_with("a%20b/history.db?mode=rwc"), "{url}");
        assert!(file.parent().unwrap().is_dir());
        assert!(database_url("sqlite::memory:").unwrap().2);
        assert!(matches!(
            database_url("mysql://x/y"),
            Err(StoreError::UnsupportedUrl(_))
        ));
        assert!(matches!(
            database_url("sqlite://"),
            Err(StoreError::UnsupportedUrl(_))
        ));
        assert_eq!(
            database_url("postgres://u@h/db").unwrap().1,
            Backend::Postgres
        );
    }

    #[test]
    fn default_names() {
        assert_eq!(default_name("https://api.example.com/"), "api.example.com");
        assert_eq!(
            default_name("http://127.0.0.1:8080/v1/orders?x=1"),
            "127.0.0.1:8080/v1/orders"
        );
        assert_eq!(default_name("not a url"), "not a url");
    }

    #[test]
    fn findings_sort_critical_first() {
        let row = |severity: &str, check: &str, op: Option<&str>| FindingRow {
            fingerprint: String::new(),
            check_id: check.into(),
            severity: severity.into(),
            title: String::new(),
            operation: op.map(Into::into),
        };
        let mut rows = vec![
            row("info", "a", None),
            row("critical", "z", Some("GET /b")),
            row("critical", "z", Some("GET /a")),
            row("high", "b", None),
            row("critical", "y", None),
        ];
        sort_findings(&mut rows);
        let order: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.check_id.as_str(), r.operation.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            order,
            [
                ("y", ""),
                ("z", "GET /a"),
                ("z", "GET /b"),
                ("b", ""),
                ("a", "")
            ]
        );
    }
}
