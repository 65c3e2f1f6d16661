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
    /// An operation that was not probed, with why.
    pub fn not_probed(
        id: String,
        method: String,
        url: String,
        status: OperationStatus,
        reason: String,
    ) -> Self {
        Self {
            id,
            method,
            path: None,
            url,
            operation_id: None,
            tags: Vec::new(),
            declared_security: None,
            status,
            reason: Some(reason),
            score: None,
            grade: None,
            requests_sent: 0,
            checks_run: Vec::new(),
            findings: Vec::new(),
            inconclusive: Vec::new(),
            checks_skipped: Vec::new(),
        }
    }
}
