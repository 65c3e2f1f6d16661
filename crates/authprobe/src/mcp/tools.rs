//! The tools' inputs and results. Every input refuses unknown fields (its schema says
//! `additionalProperties: false`), so a model that invents an argument (`method`,
//! `allow_unsafe`, `bearer`) is told so instead of having it ignored in silence.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The longest a `scan_api` call waits for its scan before answering with the progress.
pub const MAX_WAIT_SECONDS: u32 = 60;
pub const DEFAULT_WAIT_SECONDS: u32 = 20;
/// `get_report` answers at most this much of a report (a whole-API HTML report can be
/// megabytes; a model's context cannot take it anyway).
pub const MAX_REPORT_CHARS: usize = 512 * 1024;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanArgs {
    /// The http:// or https:// URL to scan. It must be inside the scope the user configured
    /// (loopback only by default); names are judged by every address they resolve to.
    pub url: String,
    /// `auto` to look for the API's OpenAPI description next to the URL, or the
    /// description's URL: every operation it lists is scanned (GET, HEAD and OPTIONS only).
    #[serde(default)]
    pub spec: Option<String>,
    /// Check ids or families to run (`jwt`, `tls`, `jwt.alg_none`); all when absent.
    /// `explain_check` describes each.
    #[serde(default)]
    pub checks: Vec<String>,
    /// The name of a credential profile the user configured for this server. The
    /// credentials themselves never pass through this conversation.
    #[serde(default)]
    pub credential_profile: Option<String>,
    /// Seconds to wait for the scan to end before answering with its progress (0 to 60,
    /// default 20). A scan still running is followed with `get_scan`.
    #[serde(default)]
    pub wait_seconds: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanIdArgs {
    /// The scan's id, as `scan_api` or `list_scans` gave it.
    pub scan_id: i64,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Json,
    Markdown,
    Sarif,
    Junit,
    Html,
}

impl ReportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Markdown => "markdown",
            Self::Sarif => "sarif",
            Self::Junit => "junit",
            Self::Html => "html",
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportArgs {
    pub scan_id: i64,
    /// `markdown` (the default) reads best; `json` is the whole machine-readable report.
    #[serde(default)]
    pub format: Option<ReportFormat>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// A target's id, name or exact URL; every target when absent.
    #[serde(default)]
    pub target: Option<String>,
    /// How many scans, newest first (1 to 100, default 20).
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiffArgs {
    /// The earlier scan's id.
    pub from: i64,
    /// The later scan's id, of the same target.
    pub to: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenArgs {
    /// A JWT (compact form). It is read here only: nothing is sent anywhere, and the
    /// answer shows it redacted.
    pub token: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainArgs {
    /// A check id such as `jwt.alg_none` (see `list` in the answer to an unknown id).
    pub id: String,
    /// The stack to give the fix for: express, django, spring, go, fastapi, nginx,
    /// haproxy, envoy, gateway.
    #[serde(default)]
    pub framework: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsArgs {
    /// `host`, `host:port` (443 by default) or an https:// URL, inside the scope.
    pub host: String,
}

// Results.

#[derive(Debug, Serialize, JsonSchema)]
pub struct TargetRef {
    pub id: i64,
    pub name: String,
    pub url: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Progress {
    pub phase: String,
    pub checks_done: u32,
    pub checks_total: u32,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Severities {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
    pub info: u32,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FindingBrief {
    /// The check id (`explain_check` tells more).
    pub check: String,
    pub severity: String,
    pub title: String,
    /// The operation, in a whole-API scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Summary {
    pub score: u32,
    pub grade: String,
    pub findings: u32,
    pub severities: Severities,
    pub requests_sent: u64,
    pub duration_ms: u64,
    /// The most severe findings first, at most 25.
    pub top_findings: Vec<FindingBrief>,
}

/// A scan as `scan_api` and `get_scan` answer it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ScanState {
    pub scan_id: i64,
    pub target: TargetRef,
    /// queued, running, done, failed or interrupted.
    pub status: String,
    /// What started it: mcp, api, ui, schedule, import, requeue.
    pub trigger: String,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at_ms: Option<i64>,
    /// While it runs in this server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
    /// Once done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What to call next.
    pub next: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ReportOut {
    pub scan_id: i64,
    pub format: ReportFormat,
    pub content: String,
    /// The report was longer than the answer may be; ask for `markdown` or `json`.
    pub truncated: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScanListItem {
    pub scan_id: i64,
    pub target: TargetRef,
    pub status: String,
    pub trigger: String,
    pub created_at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScanList {
    pub scans: Vec<ScanListItem>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DiffOut {
    pub from: i64,
    pub to: i64,
    pub target: TargetRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade_to: Option<String>,
    pub score_delta: i64,
    /// In `to`, not in `from`.
    pub new: Vec<FindingBrief>,
    /// In `from`, not in `to`.
    pub fixed: Vec<FindingBrief>,
    pub unchanged: Vec<FindingBrief>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TimeClaim {
    pub claim: String,
    pub utc: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PassiveFinding {
    pub check: String,
    pub severity: String,
    pub title: String,
    pub detail: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TokenOut {
    /// The token, redacted.
    pub token: String,
    pub header: serde_json::Map<String, serde_json::Value>,
    /// The claims, sensitive values (emails, phone numbers, secrets) masked.
    pub claims: serde_json::Value,
    pub notes: Vec<String>,
    /// EXPIRED or NOT YET VALID, by this machine's clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity: Option<String>,
    pub times: Vec<TimeClaim>,
    pub findings: Vec<PassiveFinding>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FrameworkAdvice {
    pub framework: String,
    pub advice: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckOut {
    pub id: String,
    pub title: String,
    pub family: String,
    pub severity: String,
    pub cwe: Vec<String>,
    pub owasp: Vec<String>,
    /// How the check decides, and what it sends.
    pub description: String,
    /// What a finding proves.
    pub finds: String,
    /// The fix, in general.
    pub remediation: String,
    /// The fix for the stack asked for, when there is advice for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework_advice: Option<FrameworkAdvice>,
    /// The stacks with specific advice.
    pub frameworks: Vec<String>,
    pub references: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FindingDetail {
    pub check: String,
    pub severity: String,
    pub title: String,
    pub description: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TlsOut {
    pub target: String,
    pub score: u32,
    pub grade: String,
    pub findings: Vec<FindingDetail>,
    /// What the prober saw: protocols, cipher suites, the certificate chain.
    pub tls: serde_json::Value,
}
