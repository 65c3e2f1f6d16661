//! Webhooks on regressions. When a scan finishes, [`on_scan_finished`] compares it with
//! the target's previous finished scan and queues one delivery per webhook whose events
//! fired; [`spawn_deliverer`] sends the queue with retries. Each delivery's body is fixed
//! when it is queued (a retry sends the same bytes) and signed again at every attempt
//! with a fresh timestamp, so a receiver can refuse replays ([`verify_signature`]).
//! docs/webhooks.md is the receiver's side of all this.
//!
//! Nothing sent carries a credential: findings are named by check, severity, title and
//! operation, and the target's URL loses any user name or password it has.

use crate::store::{
    ClaimedDelivery, Diff, FindingRow, NewDelivery, ScanRow, ScanStatus, Store, StoreError, Target,
    Webhook, WebhookEvents, WebhookFormat, now_millis,
};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub const SIGNATURE_HEADER: &str = "Authprobe-Signature";
pub const EVENT_HEADER: &str = "Authprobe-Event";
pub const DELIVERY_HEADER: &str = "Authprobe-Delivery";
/// The replay window docs/webhooks.md tells receivers to use, in seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;
/// Attempts per delivery, the first included.
pub const MAX_ATTEMPTS: u32 = 8;
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Connecting, sending and reading the answer, all told.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// What is read of a receiver's answer.
pub const MAX_ANSWER: usize = 64 * 1024;
/// How long a claimed delivery stays hidden from other senders: well past
/// [`SEND_TIMEOUT`], so only a sender that died loses it.
const LEASE: Duration = Duration::from_secs(60);
/// The longest an idle sender sleeps: deliveries queued by another process are not
/// announced.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Deliveries in flight at once: one slow receiver must not hold up the others.
const SENDERS: usize = 4;
/// Findings listed per kind in a JSON payload (the totals say how many there are).
const MAX_LISTED: usize = 100;
/// Findings listed per kind in a Slack message.
const SLACK_LISTED: usize = 15;
/// A signature header longer than this is not parsed.
const MAX_SIGNATURE_HEADER: usize = 4096;

pub const NEW_FINDINGS: &str = "new_findings";
pub const FIXED_FINDINGS: &str = "fixed_findings";
pub const SCORE_DROP: &str = "score_drop";
pub const GRADE_CHANGE: &str = "grade_change";

/// The events of `selected` that the change `diff` fires, in a fixed order.
pub fn fired(selected: &WebhookEvents, diff: &Diff) -> Vec<&'static str> {
    let mut events = Vec::new();
    if selected.new_findings && !diff.new.is_empty() {
        events.push(NEW_FINDINGS);
    }
    if selected.fixed_findings && !diff.fixed.is_empty() {
        events.push(FIXED_FINDINGS);
    }
    if let Some(threshold) = selected.score_drop
        && threshold > 0
        && -diff.score_delta >= i64::from(threshold)
    {
        events.push(SCORE_DROP);
    }
    if selected.grade_change && diff.from.grade != diff.to.grade {
        events.push(GRADE_CHANGE);
    }
    events
}

/// Compares the done scan `scan_id` with the previous done scan of its target and queues
/// a delivery to each of the target's and the global webhooks whose events fired.
/// Returns how many were queued: none without a previous done scan or when nothing a
/// webhook listens for changed. Calling it again for the same scan queues nothing more.
pub async fn on_scan_finished(store: &Store, scan_id: i64) -> Result<usize, StoreError> {
    let Some(scan) = store.scan(scan_id).await? else {
        return Ok(0);
    };
    if scan.status != ScanStatus::Done {
        return Ok(0);
    }
    let hooks = store.webhooks_for_target(scan.target_id).await?;
    if hooks.is_empty() {
        return Ok(0);
    }
    let Some(previous) = store.previous_done_scan(scan.target_id, scan.id).await? else {
        return Ok(0);
    };
    let (Some(diff), Some(target)) = (
        store.diff(previous.id, scan.id).await?,
        store.target(scan.target_id).await?,
    ) else {
        return Ok(0);
    };
    let deliveries: Vec<NewDelivery> = hooks
        .iter()
        .filter_map(|hook| {
            let events = fired(&hook.events, &diff);
            (!events.is_empty()).then(|| NewDelivery {
                webhook_id: hook.id,
                scan_id: scan.id,
                events: events.iter().map(|e| e.to_string()).collect(),
                body: body(hook, &target, &diff, &events),
            })
        })
        .collect();
    store.insert_deliveries(&deliveries).await
}

/// The bytes a webhook receives for this change: authprobe's JSON or a Slack message.
pub fn body(hook: &Webhook, target: &Target, diff: &Diff, events: &[&str]) -> Vec<u8> {
    let value = match hook.format {
        WebhookFormat::Json => json_payload(hook.id, target, diff, events),
        WebhookFormat::Slack => slack_payload(target, diff, events),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

/// A URL without its user name and password.
fn without_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

/// A webhook URL as shown to those who may not send with it: its origin only, since the
/// path of some (Slack's) is itself the credential.
pub fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.path() == "/" && u.query().is_none() => u.origin().ascii_serialization(),
        Ok(u) => format!("{}/…", u.origin().ascii_serialization()),
        Err(_) => "…".into(),
    }
}

fn scan_json(s: &ScanRow) -> Value {
    json!({"id": s.id, "score": s.score, "grade": s.grade, "finished_at": s.finished_at})
}

fn finding_json(f: &FindingRow) -> Value {
    json!({"check": f.check_id, "severity": f.severity, "title": f.title, "operation": f.operation})
}

fn json_payload(webhook_id: i64, target: &Target, diff: &Diff, events: &[&str]) -> Value {
    let list = |rows: &[FindingRow]| -> Vec<Value> {
        rows.iter().take(MAX_LISTED).map(finding_json).collect()
    };
    json!({
        "id": format!("scan-{}-webhook-{webhook_id}", diff.to.id),
        "events": events,
        "target": {"id": target.id, "name": target.name, "url": without_userinfo(&target.url)},
        "scan": scan_json(&diff.to),
        "previous": scan_json(&diff.from),
        "score_delta": diff.score_delta,
        "new_findings": list(&diff.new),
        "new_findings_total": diff.new.len(),
        "fixed_findings": list(&diff.fixed),
        "fixed_findings_total": diff.fixed.len(),
    })
}

/// Slack's mrkdwn treats these three as markup.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters (Slack refuses a section over 3000).
fn clip(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s,
    }
}

fn grade_score(s: &ScanRow) -> String {
    format!(
        "{} ({})",
        s.grade.as_deref().unwrap_or("?"),
        s.score.map_or_else(|| "?".into(), |n| n.to_string())
    )
}

fn plural(n: usize, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

fn slack_payload(target: &Target, diff: &Diff, events: &[&str]) -> Value {
    let delta = match diff.score_delta {
        d if d > 0 => format!("+{d}"),
        d => d.to_string(),
    };
    let mut changes = Vec::new();
    if !diff.new.is_empty() {
        changes.push(plural(diff.new.len(), "new finding"));
    }
    if !diff.fixed.is_empty() {
        changes.push(format!("{} fixed", diff.fixed.len()));
    }
    let name = slack_escape(&target.name);
    let text = format!(
        "authprobe: {name} scan #{}: {} → {} ({delta}){}{}",
        diff.to.id,
        grade_score(&diff.from),
        grade_score(&diff.to),
        if changes.is_empty() { "" } else { "; " },
        changes.join(", ")
    );
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip(format!(
            "*{name}* `{}`\nScan #{} against #{}: grade {} → {}, score {delta}\nEvents: {}",
            slack_escape(&without_userinfo(&target.url)),
            diff.to.id,
            diff.from.id,
            grade_score(&diff.from),
            grade_score(&diff.to),
            events.join(", ")
        ), 2900)}
    })];
    for (heading, rows) in [("New findings", &diff.new), ("Fixed findings", &diff.fixed)] {
        if rows.is_empty() {
            continue;
        }
        let mut lines = vec![format!("*{heading} ({})*", rows.len())];
        for f in rows.iter().take(SLACK_LISTED) {
            lines.push(format!(
                "• `{}` {}: {}{}",
                slack_escape(&f.severity),
                slack_escape(&f.check_id),
                slack_escape(&f.title),
                f.operation
                    .as_deref()
                    .map(|o| format!(" ({})", slack_escape(o)))
                    .unwrap_or_default()
            ));
        }
        if rows.len() > SLACK_LISTED {
            lines.push(format!("… and {} more", rows.len() - SLACK_LISTED));
        }
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip(lines.join("\n"), 2900)}
        }));
    }
    json!({"text": text, "blocks": blocks})
}

// ---------------------------------------------------------------------------------------
// Signatures.

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A SHA-256 MAC in hex: exactly 64 hex digits.
fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// HMAC-SHA256 of `<t>.<body>` under `secret`; `t` exactly as the header carries it.
fn mac(secret: &[u8], t: &str, body: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .expect("HMAC takes a key of any length");
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// The `Authprobe-Signature` value for `body` sent at `t` (unix seconds):
/// `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature_header(secret: &[u8], t: i64, body: &[u8]) -> String {
    let t = t.to_string();
    format!("t={t},v1={}", hex(&mac(secret, &t, body)))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a receiver checks: that `header` (an `Authprobe-Signature` value) signs `body`
/// under `secret`, and that its timestamp is within `tolerance_secs` of `now_secs` either
/// way, so a captured request cannot be replayed later. Any `v1=` that matches will do
/// (more than one may be sent). The error says which check failed, never the expected
/// signature.
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), String> {
    if header.len() > MAX_SIGNATURE_HEADER {
        return Err(format!(
            "the signature header is longer than {MAX_SIGNATURE_HEADER} bytes"
        ));
    }
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err("the signature header is not t=…,v1=…".into());
        };
        match key.trim() {
            "t" if t.is_some() => return Err("the signature header has two timestamps".into()),
            "t" => t = Some(value.trim()),
            "v1" => signatures.push(value.trim()),
            // Other schemes a later version may add.
            _ => {}
        }
    }
    let t = t.ok_or("the signature header has no timestamp (t=)")?;
    let at: i64 = t
        .parse()
        .map_err(|_| "the signature's timestamp is not a whole number of seconds")?;
    if now_secs.abs_diff(at) > tolerance_secs.max(0).unsigned_abs() {
        return Err(format!(
            "the signature's timestamp is {} s from now, outside the {tolerance_secs} s window (a replay, or a clock off)",
            now_secs.saturating_sub(at)
        ));
    }
    if signatures.is_empty() {
        return Err("the signature header has no v1= signature".into());
    }
    let expected = mac(secret, t, body);
    let matched = signatures
        .iter()
        .filter_map(|s| unhex(s))
        .any(|s| constant_time_eq(&s, &expected));
    if matched {
        Ok(())
    } else {
        Err("the signature does not match the body (another secret, or a changed body)".into())
    }
}

// ---------------------------------------------------------------------------------------
// Delivery.

/// The wait after failed attempt `attempt` (1 for the first): `base × 4^(attempt-1)`, at
/// most [`MAX_BACKOFF`].
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 4u32.checked_pow(attempt.saturating_sub(1));
    factor
        .and_then(|f| base.checked_mul(f))
        .map_or(MAX_BACKOFF, |d| d.min(MAX_BACKOFF))
}

fn client() -> Result<reqwest::Client, String> {
    let tls = crate::http::TlsSettings::default()
        .client_config(None)
        .map_err(|e| format!("TLS configuration: {e}"))?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        // A delivery goes where the webhook says, not through whatever proxy the server's
        // environment names, and a redirect is not followed to somewhere else.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(SEND_TIMEOUT)
        .timeout(SEND_TIMEOUT)
        .user_agent(concat!("authprobe/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// Starts the background sender: it claims due deliveries (up to four in flight) and
/// POSTs them; `retry_base` is the first wait after a failure (`serve
/// --webhook-retry-base`).
pub fn spawn_deliverer(store: Store, retry_base: Duration) {
    let client = match client() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("webhooks: no deliveries will be sent: {e}");
            return;
        }
    };
    tokio::spawn(async move {
        let slots = Arc::new(tokio::sync::Semaphore::new(SENDERS));
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            match store.claim_delivery(now_millis(), LEASE).await {
                Ok(Some(claim)) => {
                    let (store, client) = (store.clone(), client.clone());
                    tokio::spawn(async move {
                        deliver(&store, &client, claim, retry_base).await;
                        drop(slot);
                    });
                }
                Ok(None) => {
                    drop(slot);
                    tokio::time::sleep(idle_wait(&store).await).await;
                }
                Err(e) => {
                    drop(slot);
                    tracing::error!("webhooks: claiming a delivery: {e}");
                    tokio::time::sleep(IDLE_POLL).await;
                }
            }
        }
    });
}

/// Until the next delivery is due, at most [`IDLE_POLL`].
async fn idle_wait(store: &Store) -> Duration {
    match store.next_delivery_due().await {
        Ok(Some(at)) => {
            let ms = at
                .saturating_sub(now_millis())
                .clamp(10, IDLE_POLL.as_millis() as i64);
            Duration::from_millis(ms as u64)
        }
        _ => IDLE_POLL,
    }
}

/// One attempt of a claimed delivery, and its outcome recorded.
async fn deliver(store: &Store, client: &reqwest::Client, claim: ClaimedDelivery, base: Duration) {
    let recorded = if claim.attempt > MAX_ATTEMPTS {
        // The sender of the last attempt stopped before it recorded an answer.
        store
            .delivery_failed(
                claim.id,
                claim.attempt,
                None,
                "the last attempt got no recorded answer (the server stopped during it)",
            )
            .await
    } else {
        match send(client, &claim).await {
            Ok(code) => {
                store
                    .delivery_succeeded(claim.id, claim.attempt, code)
                    .await
            }
            Err((code, error)) if claim.attempt >= MAX_ATTEMPTS => {
                store
                    .delivery_failed(claim.id, claim.attempt, code, &error)
                    .await
            }
            Err((code, error)) => {
                let wait = backoff(base, claim.attempt);
                let next = now_millis().saturating_add(wait.as_millis() as i64);
                store
                    .delivery_retry(claim.id, claim.attempt, next, code, &error)
                    .await
            }
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            "webhooks: delivery {} attempt {} ended after its lease: another sender has it",
            claim.id,
            claim.attempt
        ),
        Err(e) => tracing::error!("webhooks: recording delivery {}: {e}", claim.id),
    }
}

/// POSTs the delivery once, signed now: the 2xx status, or the status (if any) and why
/// it failed.
async fn send(
    client: &reqwest::Client,
    claim: &ClaimedDelivery,
) -> Result<u16, (Option<u16>, String)> {
    let now_secs = now_millis().div_euclid(1000);
    let answer = client
        .post(&claim.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            SIGNATURE_HEADER,
            signature_header(&claim.secret, now_secs, &claim.body),
        )
        .header(EVENT_HEADER, claim.events.join(","))
        .header(DELIVERY_HEADER, claim.id.to_string())
        .body(claim.body.clone())
        .send()
        .await
        .map_err(|e| (None, transport_error(&e)))?;
    let status = answer.status().as_u16();
    let text = read_capped(answer).await;
    if (200..300).contains(&status) {
        return Ok(status);
    }
    let excerpt = excerpt(&text);
    Err((
        Some(status),
        if excerpt.is_empty() {
            format!("answered {status}")
        } else {
            format!("answered {status}: {excerpt}")
        },
    ))
}

/// At most [`MAX_ANSWER`] bytes of the answer (the rest is not read).
async fn read_capped(mut answer: reqwest::Response) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = answer.chunk().await {
        let room = MAX_ANSWER - out.len();
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= MAX_ANSWER {
            break;
        }
    }
    out
}

/// The start of a receiver's answer as one line for the log.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(400)]);
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    clip(line.split_whitespace().collect::<Vec<_>>().join(" "), 200)
}

/// Why a request got no answer, without its URL (some webhook URLs are credentials).
fn transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", SEND_TIMEOUT.as_secs());
    }
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    let inner = parts.last().cloned().unwrap_or_else(|| {
        if e.is_connect() {
            "cannot connect".into()
        } else {
            "the request failed".into()
        }
    });
    clip(inner, 300)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CredentialKinds, FindingRow, ScanRow};

    const SECRET: &[u8] = b"whsec_test-secret-of-enough-length";

    fn scan(id: i64, score: u32, grade: &str) -> ScanRow {
        ScanRow {
            id,
            target_id: 1,
            status: ScanStatus::Done,
            trigger: "api".into(),
            created_at: 1_700_000_000_000,
            started_at: Some(1_700_000_000_000),
            finished_at: Some(1_700_000_001_000),
            score: Some(score),
            grade: Some(grade.into()),
            findings: Some(0),
            severities: Some([0; 5]),
            requests_sent: Some(1),
            duration_ms: Some(1000),
            error: None,
            requeued_from: None,
            attempts: 1,
            worker: None,
            run_after: None,
            heartbeat_at: None,
        }
    }

    fn row(check: &str, severity: &str, operation: Option<&str>) -> FindingRow {
        FindingRow {
            fingerprint: format!("fp-{check}"),
            check_id: check.into(),
            severity: severity.into(),
            title: format!("<b>{check}</b> & co"),
            operation: operation.map(Into::into),
        }
    }

    fn diff(from: (u32, &str), to: (u32, &str), new: usize, fixed: usize) -> Diff {
        Diff {
            from: scan(1, from.0, from.1),
            to: scan(2, to.0, to.1),
            new: (0..new)
                .map(|i| row(&format!("jwt.new{i}"), "high", Some("GET /x")))
                .collect(),
            fixed: (0..fixed)
                .map(|i| row(&format!("tls.fixed{i}"), "low", None))
                .collect(),
            unchanged: vec![row("tls.same", "low", None)],
            score_delta: i64::from(to.0) - i64::from(from.0),
        }
    }

    fn target() -> Target {
        Target {
            id: 1,
            name: "Payments <api>".into(),
            url: "https://user:hunter2@api.example.com/v1/me".into(),
            spec: None,
            checks: vec![],
            schedule_minutes: None,
            schedule_cron: None,
            schedule_jitter_seconds: None,
            next_run_at: None,
            credentials: CredentialKinds::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn hook(format: WebhookFormat) -> Webhook {
        Webhook {
            id: 7,
            target_id: None,
            url: "https://hooks.example.com/x".into(),
            events: WebhookEvents {
                new_findings: true,
                ..Default::default()
            },
            format,
            created_at: 0,
        }
    }

    #[test]
    fn a_signature_verifies_and_nothing_else_does() {
        let body = br#"{"id":"scan-2-webhook-7"}"#;
        let now = 1_700_000_000;
        let header = signature_header(SECRET, now, body);
        assert!(header.starts_with(&format!("t={now},v1=")), "{header}");
        assert_eq!(header.len(), format!("t={now},v1=").len() + 64);
        assert_eq!(verify_signature(SECRET, &header, body, now, 300), Ok(()));
        // Within the window either way.
        assert!(verify_signature(SECRET, &header, body, now + 300, 300).is_ok());
        assert!(verify_signature(SECRET, &header, body, now - 300, 300).is_ok());
        // Stale, or from the future: refused, and the error says why.
        let e = verify_signature(SECRET, &header, body, now + 301, 300).unwrap_err();
        assert!(e.contains("window"), "{e}");
        assert!(verify_signature(SECRET, &header, body, now - 301, 300).is_err());
        // Another body, another secret.
        let e = verify_signature(SECRET, &header, b"{\"id\":\"other\"}", now, 300).unwrap_err();
        assert!(e.contains("does not match"), "{e}");
        assert!(verify_signature(b"another secret", &header, body, now, 300).is_err());
        // The timestamp is signed: moving it breaks the signature.
        let moved = header.replacen(&format!("t={now}"), &format!("t={}", now + 1), 1);
        assert!(verify_signature(SECRET, &moved, body, now, 300).is_err());
        // Any one of several v1 values may match (a rotation).
        let v1 = header.split("v1=").nth(1).unwrap();
        let two = format!("t={now},v1={},v1={v1}", "0".repeat(64));
        assert_eq!(verify_signature(SECRET, &two, body, now, 300), Ok(()));
        // The framing receivers implement: HMAC-SHA256(secret, "<t>.<body>"), as Python's
        // hmac module computes it (docs/webhooks.md).
        assert_eq!(
            header,
            "t=1700000000,v1=41640c371b2b3444e978205fea450696154501a385c9d20cfdfc4716c876aedb"
        );
    }

    #[test]
    fn hostile_signature_headers_are_refused_without_panicking() {
        let body = b"{}";
        let now = 1_700_000_000;
        let good = signature_header(SECRET, now, body);
        for bad in [
            String::new(),
            "garbage".into(),
            "t=,v1=".into(),
            format!("t={now}"),
            format!("v1={}", "a".repeat(64)),
            format!("t={now},v1=zz"),
            format!("t={now},v1={}", "é".repeat(32)),
            format!("t={now},v1={}", "a".repeat(63)),
            format!("t={now},t={now},{}", good.split(',').nth(1).unwrap()),
            format!("t=99999999999999999999999,v1={}", "a".repeat(64)),
            format!("t={},v1={}", i64::MIN, "a".repeat(64)),
            format!("t={},v1={}", i64::MAX, "a".repeat(64)),
            format!("{good},{}", "x=".repeat(5000)),
            ",,,".into(),
            "=".into(),
        ] {
            assert!(
                verify_signature(SECRET, &bad, body, now, 300).is_err(),
                "{bad}"
            );
        }
        // Extreme clocks and windows do not overflow.
        assert!(verify_signature(SECRET, &good, body, 0, i64::MAX).is_ok());
        assert!(verify_signature(SECRET, &good, body, i64::MIN, i64::MAX).is_err());
        assert!(verify_signature(SECRET, &good, body, i64::MAX, 300).is_err());
        // A negative window is an empty one.
        assert!(verify_signature(SECRET, &good, body, now + 1, -5).is_err());
        // Unknown schemes beside v1 are ignored, spaces tolerated.
        let spaced = good.replace(',', " , v0=abc, ");
        assert_eq!(verify_signature(SECRET, &spaced, body, now, 300), Ok(()));
    }

    #[test]
    fn backoff_grows_by_four_and_stops_at_an_hour() {
        let base = Duration::from_secs(10);
        let waits: Vec<u64> = (1..=8).map(|a| backoff(base, a).as_secs()).collect();
        assert_eq!(waits, [10, 40, 160, 640, 2560, 3600, 3600, 3600]);
        assert_eq!(
            backoff(Duration::from_millis(200), 2),
            Duration::from_millis(800)
        );
        assert_eq!(backoff(base, 0), base);
        assert_eq!(backoff(base, u32::MAX), MAX_BACKOFF);
        assert_eq!(backoff(Duration::MAX, 1), MAX_BACKOFF);
    }

    #[test]
    fn events_fire_only_when_selected_and_changed() {
        let all = WebhookEvents {
            new_findings: true,
            fixed_findings: true,
            score_drop: Some(5),
            grade_change: true,
        };
        assert!(fired(&all, &diff((80, "B"), (80, "B"), 0, 0)).is_empty());
        assert_eq!(
            fired(&all, &diff((80, "B"), (70, "C"), 1, 2)),
            [NEW_FINDINGS, FIXED_FINDINGS, SCORE_DROP, GRADE_CHANGE]
        );
        // A drop below the threshold, or a rise, is no score_drop.
        assert_eq!(
            fired(&all, &diff((80, "B"), (76, "B"), 0, 0)),
            Vec::<&str>::new()
        );
        assert_eq!(fired(&all, &diff((80, "B"), (75, "B"), 0, 0)), [SCORE_DROP]);
        assert_eq!(
            fired(&all, &diff((70, "C"), (90, "A"), 0, 0)),
            [GRADE_CHANGE]
        );
        // Unselected events stay quiet.
        let only_new = WebhookEvents {
            new_findings: true,
            ..Default::default()
        };
        assert!(fired(&only_new, &diff((80, "B"), (10, "F"), 0, 3)).is_empty());
        assert_eq!(
            fired(&only_new, &diff((80, "B"), (80, "B"), 1, 0)),
            [NEW_FINDINGS]
        );
    }

    #[test]
    fn the_json_payload_has_its_documented_shape_and_no_credentials() {
        let d = diff((80, "B"), (70, "C"), 2, 1);
        let bytes = body(&hook(WebhookFormat::Json), &target(), &d, &[NEW_FINDINGS]);
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains("user:"),
            "{text}"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec![
            "events",
            "fixed_findings",
            "fixed_findings_total",
            "id",
            "new_findings",
            "new_findings_total",
            "previous",
            "scan",
            "score_delta",
            "target",
        ];
        want.sort();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, want);
        assert_eq!(v["id"], "scan-2-webhook-7");
        assert_eq!(v["events"], json!(["new_findings"]));
        assert_eq!(
            v["target"],
            json!({"id": 1, "name": "Payments <api>", "url": "https://api.example.com/v1/me"})
        );
        assert_eq!(
            v["scan"],
            json!({"id": 2, "score": 70, "grade": "C", "finished_at": 1_700_000_001_000i64})
        );
        assert_eq!(v["previous"]["id"], 1);
        assert_eq!(v["score_delta"], -10);
        assert_eq!(
            v["new_findings"][0],
            json!({"check": "jwt.new0", "severity": "high", "title": "<b>jwt.new0</b> & co", "operation": "GET /x"})
        );
        assert_eq!(v["fixed_findings"][0]["operation"], Value::Null);
        assert_eq!(v["new_findings_total"], 2);
        // Long lists are cut, the totals stay whole.
        let big = diff((80, "B"), (70, "C"), MAX_LISTED + 5, 0);
        let v: Value =
            serde_json::from_slice(&body(&hook(WebhookFormat::Json), &target(), &big, &[]))
                .unwrap();
        assert_eq!(v["new_findings"].as_array().unwrap().len(), MAX_LISTED);
        assert_eq!(v["new_findings_total"], MAX_LISTED + 5);
    }

    #[test]
    fn the_slack_payload_is_a_message_with_escaped_text() {
        let d = diff((80, "B"), (70, "C"), SLACK_LISTED + 3, 1);
        let bytes = body(
            &hook(WebhookFormat::Slack),
            &target(),
            &d,
            &[NEW_FINDINGS, GRADE_CHANGE],
        );
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let text = v["text"].as_str().unwrap();
        assert!(text.contains("Payments &lt;api&gt;"), "{text}");
        assert!(text.contains("B (80) → C (70) (-10)"), "{text}");
        assert!(text.contains("18 new findings, 1 fixed"), "{text}");
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 3);
        for b in blocks {
            assert_eq!(b["type"], "section");
            assert_eq!(b["text"]["type"], "mrkdwn");
            let t = b["text"]["text"].as_str().unwrap();
            assert!(t.chars().count() <= 2901);
            assert!(!t.contains("<b>"), "{t}");
        }
        let new = blocks[1]["text"]["text"].as_str().unwrap();
        assert!(
            new.contains("&lt;b&gt;jwt.new0&lt;/b&gt; &amp; co (GET /x)"),
            "{new}"
        );
        assert!(new.ends_with("… and 3 more"), "{new}");
        assert!(!String::from_utf8_lossy(&bytes).contains("hunter2"));
    }

    #[test]
    fn urls_are_shown_without_what_may_be_secret() {
        assert_eq!(
            redacted_url("https://hooks.slack.com/services/T0/B0/secretpart"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redacted_url("http://127.0.0.1:9000/"),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            redacted_url("https://h.example/?token=x"),
            "https://h.example/…"
        );
        assert_eq!(redacted_url("not a url"), "…");
        assert_eq!(
            without_userinfo("https://a:b@h.example/p?q=1"),
            "https://h.example/p?q=1"
        );
    }

    #[test]
    fn answers_become_one_short_line() {
        assert_eq!(
            excerpt(b"  Internal\r\n\tServer   Error \x1b[31m"),
            "Internal Server Error [31m"
        );
        assert_eq!(excerpt(&[0xff, 0xfe, b'a']), "\u{fffd}\u{fffd}a");
        assert!(excerpt(&vec![b'x'; 100_000]).chars().count() <= 201);
        assert_eq!(excerpt(b""), "");
    }
}
