//! Webhooks and their delivery queue. A webhook's signing secret is sealed like target
//! credentials (its own AAD) and shown once, when it is made. Deliveries are claimed
//! with a lease, so that any number of senders (this process's, or a fleet's against one
//! PostgreSQL) never send one delivery twice at once; every change after a claim names
//! the attempt it belongs to, so a sender whose lease ran out cannot overwrite the work
//! of the one that took over.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Millis, Result, Store, StoreError, db, now_millis};

/// What webhook secrets are sealed to: a blob copied from the targets' credentials (or
/// the other way) does not open.
const SECRET_AAD: &[u8] = b"authprobe:webhook-secret:v1";

/// A caller's own secret: long enough not to be guessed, short enough to paste.
const MIN_SECRET: usize = 16;
const MAX_SECRET: usize = 256;
const MAX_URL: usize = 2048;

/// Which changes between two finished scans of a target fire a webhook.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEvents {
    /// A finding the previous scan did not have.
    pub new_findings: bool,
    /// A finding of the previous scan that is gone.
    pub fixed_findings: bool,
    /// The score fell by at least this many points (1 to 100).
    pub score_drop: Option<u32>,
    /// The grade letter changed, either way.
    pub grade_change: bool,
}

impl WebhookEvents {
    fn any(&self) -> bool {
        self.new_findings || self.fixed_findings || self.score_drop.is_some() || self.grade_change
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// authprobe's own payload (docs/webhooks.md).
    #[default]
    Json,
    /// A Slack incoming-webhook message (`text` and `blocks`).
    Slack,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Slack => "slack",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "json" => Some(Self::Json),
            "slack" => Some(Self::Slack),
            _ => None,
        }
    }
}

/// What a new webhook is made of.
#[derive(Clone, Debug, Default)]
pub struct NewWebhook {
    pub url: String,
    /// `None`: the scans of every target.
    pub target_id: Option<i64>,
    pub events: WebhookEvents,
    pub format: WebhookFormat,
    /// The signing secret; `None`: 256 random bits are made.
    pub secret: Option<String>,
}

/// A webhook as the API and the pages show it: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: i64,
    pub target_id: Option<i64>,
    pub url: String,
    pub events: WebhookEvents,
    pub format: WebhookFormat,
    pub created_at: Millis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// A delivery as its log shows it: never its body's secret (there is none) nor the
/// webhook's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub scan_id: i64,
    pub events: Vec<String>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// When the next attempt is due; only while pending.
    pub next_attempt_at: Option<Millis>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub delivered_at: Option<Millis>,
}

/// A delivery to queue.
#[derive(Clone, Debug)]
pub struct NewDelivery {
    pub webhook_id: i64,
    pub scan_id: i64,
    pub events: Vec<String>,
    /// The exact bytes to send (and sign).
    pub body: Vec<u8>,
}

/// A delivery a sender holds the lease of: what it needs to send one attempt.
#[derive(Clone)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub scan_id: i64,
    pub url: String,
    /// The webhook's signing secret, opened.
    pub secret: Vec<u8>,
    pub events: Vec<String>,
    pub body: Vec<u8>,
    /// This attempt's number (1 for the first); the marks after it name it.
    pub attempt: u32,
}

impl std::fmt::Debug for ClaimedDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedDelivery")
            .field("id", &self.id)
            .field("webhook_id", &self.webhook_id)
            .field("scan_id", &self.scan_id)
            .field("events", &self.events)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

const WEBHOOK_COLS: &str = "id, target_id, url, on_new_findings, on_fixed_findings, score_drop, \
     on_grade_change, format, created_at";

const DELIVERY_COLS: &str = "id, webhook_id, scan_id, events, status, attempts, next_attempt_at, \
     last_status_code, last_error, created_at, delivered_at";

fn webhook_from_row(row: &AnyRow) -> Result<Webhook> {
    let flag = |column: &str| -> Result<bool> { Ok(row.try_get::<i64, _>(column)? != 0) };
    let format: String = row.try_get("format")?;
    let score_drop: Option<i64> = row.try_get("score_drop")?;
    Ok(Webhook {
        id: row.try_get("id")?,
        target_id: row.try_get("target_id")?,
        url: row.try_get("url")?,
        events: WebhookEvents {
            new_findings: flag("on_new_findings")?,
            fixed_findings: flag("on_fixed_findings")?,
            score_drop: score_drop
                .map(|d| {
                    u32::try_from(d).map_err(|_| StoreError::Corrupt(format!("score_drop {d}")))
                })
                .transpose()?,
            grade_change: flag("on_grade_change")?,
        },
        format: WebhookFormat::parse(&format)
            .ok_or_else(|| StoreError::Corrupt(format!("webhook format {format:?}")))?,
        created_at: row.try_get("created_at")?,
    })
}

fn events_from(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

fn delivery_from_row(row: &AnyRow) -> Result<Delivery> {
    let status: String = row.try_get("status")?;
    let status = match status.as_str() {
        "pending" => DeliveryStatus::Pending,
        "delivered" => DeliveryStatus::Delivered,
        "failed" => DeliveryStatus::Failed,
        other => return Err(StoreError::Corrupt(format!("delivery status {other:?}"))),
    };
    let attempts: i64 = row.try_get("attempts")?;
    let code: Option<i64> = row.try_get("last_status_code")?;
    let next: i64 = row.try_get("next_attempt_at")?;
    let events: String = row.try_get("events")?;
    Ok(Delivery {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        scan_id: row.try_get("scan_id")?,
        events: events_from(&events),
        status,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("attempts {attempts}")))?,
        next_attempt_at: (status == DeliveryStatus::Pending).then_some(next),
        last_status_code: code.and_then(|c| u16::try_from(c).ok()),
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

/// An http(s) URL with a host and no user name or password in it.
fn valid_webhook_url(url: &str) -> Result<String> {
    let url = url.trim();
    if url.len() > MAX_URL {
        return Err(StoreError::Invalid(format!(
            "the webhook URL is longer than {MAX_URL} characters"
        )));
    }
    let parsed = url::Url::parse(url)
        .map_err(|e| StoreError::Invalid(format!("the webhook URL is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(StoreError::Invalid(
            "the webhook URL must be an http:// or https:// URL with a host".into(),
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(StoreError::Invalid(
            "the webhook URL must not carry a user name or password: deliveries are signed instead"
                .into(),
        ));
    }
    Ok(parsed.to_string())
}

fn valid_secret(secret: Option<String>) -> Result<String> {
    let Some(secret) = secret else {
        return Ok(format!("whsec_{}", db::random_token()));
    };
    if secret.len() < MIN_SECRET || secret.len() > MAX_SECRET {
        return Err(StoreError::Invalid(format!(
            "the webhook secret must be {MIN_SECRET} to {MAX_SECRET} bytes (leave it out for a random one)"
        )));
    }
    if secret.chars().any(char::is_control) || secret.trim() != secret {
        return Err(StoreError::Invalid(
            "the webhook secret must not hold control characters or surrounding white space".into(),
        ));
    }
    Ok(secret)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Stores a webhook and returns it with its signing secret: the caller's, or 256
    /// random bits (`whsec_` and 43 base64url characters). The secret is never returned
    /// again.
    pub async fn create_webhook(&self, new: NewWebhook) -> Result<(Webhook, String)> {
        let url = valid_webhook_url(&new.url)?;
        if !new.events.any() {
            return Err(StoreError::Invalid(
                "a webhook needs at least one event: new_findings, fixed_findings, score_drop or grade_change".into(),
            ));
        }
        if let Some(drop) = new.events.score_drop
            && !(1..=100).contains(&drop)
        {
            return Err(StoreError::Invalid(
                "score_drop must be between 1 and 100 points".into(),
            ));
        }
        let secret = valid_secret(new.secret)?;
        let sealed = self.sealer.seal(secret.as_bytes(), SECRET_AAD);
        let now = now_millis();
        // The target is looked up in the insert itself: one that is deleted meanwhile
        // leaves no webhook behind it.
        let sql = format!(
            "INSERT INTO webhooks (target_id, url, secret, on_new_findings, on_fixed_findings, \
             score_drop, on_grade_change, format, created_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
             WHERE $1 IS NULL OR EXISTS (SELECT 1 FROM targets WHERE id = $1) \
             RETURNING {WEBHOOK_COLS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.target_id)
            .bind(url)
            .bind(sealed)
            .bind(i64::from(new.events.new_findings))
            .bind(i64::from(new.events.fixed_findings))
            .bind(new.events.score_drop.map(i64::from))
            .bind(i64::from(new.events.grade_change))
            .bind(new.format.as_str())
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Err(StoreError::Invalid(format!(
                "target_id {} names no target",
                new.target_id.unwrap_or_default()
            )));
        };
        Ok((webhook_from_row(&row)?, secret))
    }

    /// Every webhook, oldest first.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLS} FROM webhooks ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(webhook_from_row).collect()
    }

    pub async fn webhook(&self, id: i64) -> Result<Option<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLS} FROM webhooks WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(webhook_from_row).transpose()
    }

    /// The webhooks a scan of `target_id` goes to: the target's own and the global ones.
    pub async fn webhooks_for_target(&self, target_id: i64) -> Result<Vec<Webhook>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLS} FROM webhooks WHERE target_id = $1 OR target_id IS NULL ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(target_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(webhook_from_row).collect()
    }

    /// Deletes the webhook and its delivery log. False when absent.
    pub async fn delete_webhook(&self, id: i64) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }

    /// The webhook's deliveries, newest first, at most `limit`.
    pub async fn webhook_deliveries(&self, webhook_id: i64, limit: u32) -> Result<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(webhook_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    pub async fn delivery(&self, id: i64) -> Result<Option<Delivery>> {
        let sql = format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(delivery_from_row).transpose()
    }

    /// Queues the deliveries, due now, in one transaction. A (webhook, scan) pair already
    /// queued is left as it is, so reporting a finished scan twice sends nothing twice.
    /// Returns how many were queued.
    pub async fn insert_deliveries(&self, deliveries: &[NewDelivery]) -> Result<usize> {
        if deliveries.is_empty() {
            return Ok(0);
        }
        let now = now_millis();
        let mut tx = self.begin().await?;
        let mut queued = 0;
        for d in deliveries {
            let inserted = sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, scan_id, events, body, status, attempts, \
                 next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) \
                 ON CONFLICT (scan_id, webhook_id) DO NOTHING",
            )
            .bind(d.webhook_id)
            .bind(d.scan_id)
            .bind(d.events.join(","))
            .bind(d.body.clone())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            queued += inserted.rows_affected() as usize;
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Takes the pending delivery that has been due longest, if any is due at `now` and
    /// nobody holds it, for `lease`: counts the attempt and hides the delivery from other
    /// claimers until the lease ends (a sender that dies mid-send leaves it to be taken
    /// again then). Safe with any number of claimers, in this process or others.
    pub async fn claim_delivery(
        &self,
        now: Millis,
        lease: Duration,
    ) -> Result<Option<ClaimedDelivery>> {
        let due = "status = 'pending' AND next_attempt_at <= $1 \
                   AND (locked_until IS NULL OR locked_until <= $1)";
        let sql = match self.backend {
            // Concurrent claimers skip the row another one has locked; the outer WHERE
            // re-reads the row once the lock is won.
            Backend::Postgres => format!(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, locked_until = $2 WHERE id = \
                 (SELECT id FROM webhook_deliveries WHERE {due} ORDER BY next_attempt_at, id LIMIT 1 \
                 FOR UPDATE SKIP LOCKED) AND {due} \
                 RETURNING id, webhook_id, scan_id, events, body, attempts"
            ),
            // One writer at a time: the statement takes the write lock before it reads.
            Backend::Sqlite => format!(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, locked_until = $2 WHERE id = \
                 (SELECT id FROM webhook_deliveries WHERE {due} ORDER BY next_attempt_at, id LIMIT 1) \
                 AND {due} \
                 RETURNING id, webhook_id, scan_id, events, body, attempts"
            ),
        };
        let row = sqlx::query(&sql)
            .bind(now)
            .bind(now.saturating_add(millis(lease)))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get("id")?;
        let webhook_id: i64 = row.try_get("webhook_id")?;
        let attempts: i64 = row.try_get("attempts")?;
        let events: String = row.try_get("events")?;
        let hook: Option<(String, Vec<u8>)> =
            sqlx::query_as("SELECT url, secret FROM webhooks WHERE id = $1")
                .bind(webhook_id)
                .fetch_optional(&self.pool)
                .await?;
        // Deleted in between: its deliveries went with it.
        let Some((url, sealed)) = hook else {
            return Ok(None);
        };
        let Some(secret) = self.sealer.open(&sealed, SECRET_AAD) else {
            // As a target whose credentials do not open fails its scan: the delivery
            // cannot be signed by this server, and its log says why.
            self.delivery_failed(
                id,
                u32::try_from(attempts).unwrap_or(u32::MAX),
                None,
                "the webhook's secret cannot be decrypted: AUTHPROBE_SECRET_KEY (or the key file) is not the key it was written with",
            )
            .await?;
            return Err(StoreError::WrongKey);
        };
        Ok(Some(ClaimedDelivery {
            id,
            webhook_id,
            scan_id: row.try_get("scan_id")?,
            url,
            secret,
            events: events_from(&events),
            body: row.try_get("body")?,
            attempt: u32::try_from(attempts)
                .map_err(|_| StoreError::Corrupt(format!("attempts {attempts}")))?,
        }))
    }

    /// When the next pending delivery may be claimed (its due time, or its lease's end),
    /// for a sender deciding how long to sleep.
    pub async fn next_delivery_due(&self) -> Result<Option<Millis>> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(CASE WHEN locked_until IS NOT NULL AND locked_until > next_attempt_at \
             THEN locked_until ELSE next_attempt_at END) FROM webhook_deliveries WHERE status = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(next)
    }

    /// Attempt `attempt` of the delivery was answered 2xx. False when that attempt no
    /// longer holds the delivery (its lease ran out and another sender took it).
    pub async fn delivery_succeeded(
        &self,
        id: i64,
        attempt: u32,
        status_code: u16,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $3, \
             last_status_code = $4, last_error = NULL, locked_until = NULL \
             WHERE id = $1 AND attempts = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(i64::from(attempt))
        .bind(now_millis())
        .bind(i64::from(status_code))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Attempt `attempt` failed; the next one is due at `next_at`. False as for
    /// [`Self::delivery_succeeded`].
    pub async fn delivery_retry(
        &self,
        id: i64,
        attempt: u32,
        next_at: Millis,
        status_code: Option<u16>,
        error: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = $3, last_status_code = $4, \
             last_error = $5, locked_until = NULL \
             WHERE id = $1 AND attempts = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(i64::from(attempt))
        .bind(next_at)
        .bind(status_code.map(i64::from))
        .bind(error.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Attempt `attempt` failed and was the last. False as for
    /// [`Self::delivery_succeeded`].
    pub async fn delivery_failed(
        &self,
        id: i64,
        attempt: u32,
        status_code: Option<u16>,
        error: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'failed', last_status_code = $3, \
             last_error = $4, locked_until = NULL \
             WHERE id = $1 AND attempts = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(i64::from(attempt))
        .bind(status_code.map(i64::from))
        .bind(error.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The latest done scan of the target before `scan_id` (by id: scans are numbered in
    /// the order they were made), what a finished scan is compared with.
    pub async fn previous_done_scan(
        &self,
        target_id: i64,
        scan_id: i64,
    ) -> Result<Option<super::ScanRow>> {
        let sql = format!(
            "SELECT {} FROM scans WHERE target_id = $1 AND id < $2 AND status = 'done' \
             ORDER BY id DESC LIMIT 1",
            db::SCAN_COLS
        );
        let row = sqlx::query(&sql)
            .bind(target_id)
            .bind(scan_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(db::scan_from_row).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_secrets_are_checked() {
        assert_eq!(
            valid_webhook_url(" https://hooks.example.com/a?b=c ").unwrap(),
            "https://hooks.example.com/a?b=c"
        );
        for bad in [
            "ftp://hooks.example.com/",
            "file:///etc/passwd",
            "https://user:pw@hooks.example.com/",
            "not a url",
            "",
        ] {
            assert!(
                matches!(valid_webhook_url(bad), Err(StoreError::Invalid(_))),
                "{bad}"
            );
        }
        assert!(valid_webhook_url(&format!("https://h.example/{}", "a".repeat(3000))).is_err());

        let made = valid_secret(None).unwrap();
        assert!(made.starts_with("whsec_") && made.len() == 6 + 43, "{made}");
        assert_ne!(made, valid_secret(None).unwrap());
        assert_eq!(
            valid_secret(Some("0123456789abcdef".into())).unwrap(),
            "0123456789abcdef"
        );
        for bad in [
            "short",
            " 0123456789abcdef",
            "0123456789abcdef\n",
            "0123456789\u{7}abcdef",
        ] {
            assert!(valid_secret(Some(bad.into())).is_err(), "{bad:?}");
        }
        assert!(valid_secret(Some("x".repeat(MAX_SECRET + 1))).is_err());
    }
}
