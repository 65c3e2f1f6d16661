//! What a check proves: the finding model shared by checks, scoring and every report.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Self::Info),
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            "critical" => Ok(Self::Critical),
            _ => Err(format!(
                "unknown severity {s:?}: expected critical, high, medium, low or info"
            )),
        }
    }
}

/// How sure the scanner is. `Confirmed`: the forged identity was followed (or the flaw is
/// a direct observation); `Firm`: the oracle separated accepted from rejected answers;
/// `Tentative`: inferred without an authorized baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Tentative,
    Firm,
    Confirmed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Auth,
    Jwt,
    Mtls,
    Tls,
    Basic,
    /// What an API description declares (static checks over `--spec`).
    Spec,
}

impl Family {
    pub const ALL: [Family; 6] = [
        Self::Auth,
        Self::Jwt,
        Self::Mtls,
        Self::Tls,
        Self::Basic,
        Self::Spec,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Jwt => "jwt",
            Self::Mtls => "mtls",
            Self::Tls => "tls",
            Self::Basic => "basic",
            Self::Spec => "spec",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The request as sent, secrets shown as shell variables.
    pub request: String,
    /// HTTP status, or null when the transport refused the request.
    pub status: Option<u16>,
    pub excerpt: String,
    /// A command that reproduces the request.
    pub curl: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediationText {
    pub summary: String,
    pub frameworks: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub cwe: Vec<String>,
    pub owasp: Vec<String>,
    pub description: String,
    pub evidence: Evidence,
    pub remediation: RemediationText,
    /// In a whole-API scan, the operations (`"GET /orders/{id}"`) or targets this finding
    /// covers: the one an enforcement check probed, or every operation behind the verifier
    /// a deep suite tested once. Empty in a single-URL scan.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub operations: Vec<String>,
}
