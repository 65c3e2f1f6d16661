//! The whole-API part of the report model (schema version 2): what a scan from an API
//! description (`--spec`) or a target list (`--targets`) covered, and each operation or
//! target with its declared security, the checks run on it, its findings and its score.

use super::Skipped;
use crate::finding::Finding;
use serde::{Deserialize, Serialize};

/// Where a whole-API scan's operations came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    /// An OpenAPI 3.x or Swagger 2.0 document (`--spec`).
    Openapi,
    /// A list of URLs (`--targets`).
    Targets,
}

/// The API as a whole: its description and how many of its operations were probed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiSummary {
    pub kind: ApiKind,
    /// The spec's path or URL (for `--spec auto`, the URL found), or the targets file.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// "2.0", "3.0.3", "3.1.0"…
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub spec_version: Option<String>,
    /// The URL the operations' paths were resolved against.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub base_url: Option<String>,
    /// Every operation (or target) in the description, whatever became of it.
    pub operations_total: usize,
    pub probed: usize,
    /// Declared public (`security: []`): never probed as protected.
    pub public: usize,
    /// Not probed by choice or necessity (unsafe method, no matching credential,
    /// undeclared security), each with its reason in `operations`.
    pub skipped: usize,
    /// Not probed because the request budget (`--max-requests`) ran out.
    pub not_probed_budget: usize,
    /// Probed, but the scan of it failed (unreachable, credentials refused there).
    pub failed: usize,
    /// The operation the deep suites (`jwt.*`, `mtls.*`, `basic.*`, `tls.*`, `spec.*`)
    /// ran on, once for the whole API.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub deep_suite_operation: Option<String>,
    /// How the request budget was spent (docs/scoring.md, "Budget").
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub budget: Option<BudgetUse>,
}

/// The request budget of a whole-API scan and how it was shared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetUse {
    /// `--max-requests` for the whole run.
    pub max_requests: usize,
    /// What one operation's enforcement checks may send at most (baselines included).
    pub per_operation: usize,
    /// Spent by the deep suites.
    pub deep_suite: usize,
}

/// What became of one operation or target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    Probed,
    /// Declared public; not probed as protected.
    Public,
    /// Not probed, for the reason given.
    Skipped,
    /// Not probed: the request budget ran out first.
    NotProbedBudget,
    /// Probed, but the scan could not be completed (reason given).
    Failed,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Probed => "probed",
            Self::Public => "public",
            Self::Skipped => "skipped",
            Self::NotProbedBudget => "not probed (budget)",
            Self::Failed => "failed",
        }
    }
}

/// One operation of the API description, or one target of the list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperationReport {
    /// `"GET /orders/{orderId}"` for an operation, the URL for a target; findings name
    /// operations by it (`Finding::operations`).
    pub id: String,
    pub method: String,
    /// The path template, for an operation.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
    /// The URL probed (parameters filled in).
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub operation_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tags: Vec<String>,
    /// What the description requires ("bearerAuth", "bearerAuth or (headerKey and
    /// mtls)", "public", "undeclared"); absent for a target of a list.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub declared_security: Option<String>,
    pub status: OperationStatus,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// The score of the checks run on this operation (absent when none ran).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub score: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub grade: Option<String>,
    pub requests_sent: usize,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub checks_run: Vec<String>,
    /// The findings of the checks run on this operation (the same objects, with
    /// `operations`, are in the report's top-level `findings`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub inconclusive: Vec<Skipped>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub checks_skipped: Vec<Skipped>,
}

impl OperationReport {
    /// An operation or target with nothing known of it yet but where it is and its status.
    pub fn new(id: String, method: String, url: String, status: OperationStatus) -> Self {
        Self {
            id,
            method,
            path: None,
            url,
            operation_id: None,
            tags: Vec::new(),
            declared_security: None,
            status,
            reason: None,
            score: None,
            grade: None,
            requests_sent: 0,
            checks_run: Vec::new(),
            findings: Vec::new(),
            inconclusive: Vec::new(),
            checks_skipped: Vec::new(),
        }
    }

    /// An operation that was not probed, with why.
    pub fn not_probed(
        id: String,
        method: String,
        url: String,
        status: OperationStatus,
        reason: String,
    ) -> Self {
        Self {
            reason: Some(reason),
            ..Self::new(id, method, url, status)
        }
    }
}

/// The order every format lists operations in, worst first: the lowest score, then (at
/// the same score, or with none) failed before the rest, then by id. Operations without a
/// score (public, skipped, not probed) come after every scored one.
pub fn worst_first(ops: &[OperationReport]) -> Vec<&OperationReport> {
    let mut v: Vec<&OperationReport> = ops.iter().collect();
    v.sort_by(|a, b| {
        let key = |o: &OperationReport| {
            (
                o.score.unwrap_or(u32::MAX),
                o.status != OperationStatus::Failed,
            )
        };
        key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
    });
    v
}

/// `GET /a, GET /b, GET /c and 44 more`: the first `shown` ids, then how many are left.
pub fn list_ids(ids: &[String], shown: usize) -> String {
    let mut s = ids
        .iter()
        .take(shown)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > shown {
        s.push_str(&format!(" and {} more", ids.len() - shown));
    }
    s
}

/// `covers 1 operation` or `covers 47 operations`.
pub fn covers(n: usize) -> String {
    format!("covers {n} operation{}", if n == 1 { "" } else { "s" })
}

/// The operation a finding belongs to when it names exactly one; a finding that names
/// none or several (a deep suite's, covering every operation behind one verifier) is
/// API-wide.
pub fn single_operation(f: &Finding) -> Option<&str> {
    match f.operations.as_slice() {
        [one] => Some(one.as_str()),
        _ => None,
    }
}

/// [`single_operation`], where the report says whose the finding is: only a finding of a
/// check run on that operation itself belongs to it. A deep suite that covered one
/// operation alone (the only one behind its credential) stays API-wide, so an operation's
/// findings are those its own score was made of.
pub fn owning_operation<'a>(r: &'a super::Report, f: &'a Finding) -> Option<&'a str> {
    let op = single_operation(f)?;
    match r.operations.iter().find(|o| o.id == op) {
        Some(o) if o.findings.iter().any(|g| g.id == f.id) => Some(op),
        Some(_) => None,
        // An operation the report does not list (a hand-made report): take the finding's
        // word for it.
        None => Some(op),
    }
}

/// The one-line count of a whole-API scan: `47 operations: 40 probed, 3 public, 2
/// skipped, 1 not probed (budget), 1 failed`.
pub fn counts_line(a: &ApiSummary) -> String {
    format!(
        "{} operation{}: {} probed, {} public, {} skipped, {} not probed (budget), {} failed",
        a.operations_total,
        if a.operations_total == 1 { "" } else { "s" },
        a.probed,
        a.public,
        a.skipped,
        a.not_probed_budget,
        a.failed
    )
}

/// The summary of a report that has operations but no `api` (counted from them).
pub fn summary_of(ops: &[OperationReport]) -> ApiSummary {
    let n = |s: OperationStatus| ops.iter().filter(|o| o.status == s).count();
    ApiSummary {
        kind: ApiKind::Targets,
        source: String::new(),
        title: None,
        spec_version: None,
        base_url: None,
        operations_total: ops.len(),
        probed: n(OperationStatus::Probed),
        public: n(OperationStatus::Public),
        skipped: n(OperationStatus::Skipped),
        not_probed_budget: n(OperationStatus::NotProbedBudget),
        failed: n(OperationStatus::Failed),
        deep_suite_operation: None,
        budget: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: &str, status: OperationStatus, score: Option<u32>) -> OperationReport {
        let mut o = OperationReport::not_probed(
            id.into(),
            "GET".into(),
            format!("https://x.test{}", id.trim_start_matches("GET ")),
            status,
            "r".into(),
        );
        o.score = score;
        o
    }

    #[test]
    fn worst_first_orders_by_score_then_failed_then_id() {
        let ops = vec![
            op("GET /z", OperationStatus::Skipped, None),
            op("GET /a", OperationStatus::Probed, Some(100)),
            op("GET /b", OperationStatus::Probed, Some(60)),
            op("GET /c", OperationStatus::Failed, None),
            op("GET /d", OperationStatus::Failed, Some(60)),
            op("GET /e", OperationStatus::Public, None),
        ];
        let ids: Vec<&str> = worst_first(&ops).iter().map(|o| o.id.as_str()).collect();
        assert_eq!(
            ids,
            ["GET /d", "GET /b", "GET /a", "GET /c", "GET /e", "GET /z"]
        );
    }

    #[test]
    fn lists_ids_with_how_many_more() {
        let ids: Vec<String> = (0..5).map(|i| format!("GET /{i}")).collect();
        assert_eq!(list_ids(&ids, 2), "GET /0, GET /1 and 3 more");
        assert_eq!(list_ids(&ids[..2], 10), "GET /0, GET /1");
        assert_eq!(covers(1), "covers 1 operation");
    }
}
