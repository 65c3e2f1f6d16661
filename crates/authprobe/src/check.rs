//! The check API: what a check declares ([`CheckMeta`], [`Need`], [`Phase`]) and what it
//! returns ([`Outcome`]). It depends on the finding model and on the scan handle a check
//! is run with ([`crate::scan::Scan`]), nothing else: the catalog (`checks`) lists checks,
//! the engine schedules them, and neither is needed to write one.

use crate::finding::{Confidence, Evidence, Family, Finding, RemediationText, Severity};
use crate::scan::Scan;
use std::future::Future;
use std::pin::Pin;

/// What a check needs from the user before it can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// A bearer token (`--bearer`).
    Token,
    /// A Basic pair (`--basic`).
    Basic,
    /// A client certificate and key (`--client-cert/--client-key`).
    Cert,
    /// A CA able to mint client certificates (`--client-ca-cert/--client-ca-key`).
    CaKey,
    /// An `https://` target.
    Https,
}

impl Need {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Token => "needs a bearer token (--bearer)",
            Self::Basic => "needs Basic credentials (--basic)",
            Self::Cert => "needs a client certificate (--client-cert and --client-key)",
            Self::CaKey => "needs a test CA (--client-ca-cert and --client-ca-key)",
            Self::Https => "needs an https:// target",
        }
    }
}

pub struct Remediation {
    pub summary: &'static str,
    pub frameworks: &'static [(&'static str, &'static str)],
}

pub struct CheckMeta {
    pub id: &'static str,
    pub title: &'static str,
    pub family: Family,
    pub severity: Severity,
    pub cwe: &'static [u32],
    /// OWASP API Security Top 10 (2023) ids, e.g. "API2".
    pub owasp: &'static [&'static str],
    pub description: &'static str,
    pub needs: &'static [Need],
    /// Root causes whose finding implies this check's result by construction (nothing
    /// verifies signatures, so `alg: none` proves nothing more). When one of them is
    /// found, the engine does not run this check and reports it inconclusive, "explained
    /// by" the root. Only by construction: where this check's probe can still tell
    /// something new (an expired certificate where a self-signed one passed), it is not
    /// listed and runs.
    pub explained_by: &'static [&'static str],
    pub remediation: Remediation,
}

pub fn owasp_name(id: &str) -> &'static str {
    match id {
        "API1" => "API1:2023 Broken Object Level Authorization",
        "API2" => "API2:2023 Broken Authentication",
        "API3" => "API3:2023 Broken Object Property Level Authorization",
        "API4" => "API4:2023 Unrestricted Resource Consumption",
        "API5" => "API5:2023 Broken Function Level Authorization",
        "API6" => "API6:2023 Unrestricted Access to Sensitive Business Flows",
        "API7" => "API7:2023 Server Side Request Forgery",
        "API8" => "API8:2023 Security Misconfiguration",
        "API9" => "API9:2023 Improper Inventory Management",
        "API10" => "API10:2023 Unsafe Consumption of APIs",
        _ => "unknown OWASP API Top 10 id",
    }
}

impl CheckMeta {
    pub fn cwe_ids(&self) -> Vec<String> {
        self.cwe.iter().map(|c| format!("CWE-{c}")).collect()
    }

    pub fn owasp_ids(&self) -> Vec<String> {
        self.owasp
            .iter()
            .map(|o| owasp_name(o).to_string())
            .collect()
    }

    pub fn remediation_text(&self) -> RemediationText {
        RemediationText {
            summary: self.remediation.summary.to_string(),
            frameworks: self
                .remediation
                .frameworks
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A finding of this check with its catalog metadata filled in.
    pub fn finding(
        &self,
        confidence: Confidence,
        description: String,
        evidence: Evidence,
    ) -> Finding {
        Finding {
            id: self.id.to_string(),
            title: self.title.to_string(),
            severity: self.severity,
            confidence,
            cwe: self.cwe_ids(),
            owasp: self.owasp_ids(),
            description,
            evidence,
            remediation: self.remediation_text(),
        }
    }
}

/// How a check ended.
pub enum Outcome {
    /// Probed, and the flaw is absent.
    Pass,
    Found(Box<Finding>),
    /// Probed, but the answers do not decide; never a finding.
    Inconclusive(String),
    /// Does not apply to this target (reported with the skipped checks).
    NotApplicable(String),
}

impl Outcome {
    pub fn found(f: Finding) -> Self {
        Self::Found(Box::new(f))
    }
}

pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// When the engine runs a check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Phase {
    /// With every other check, concurrently.
    #[default]
    Concurrent,
    /// After all concurrent checks, one at a time in registry order: for checks that
    /// change the server's state for the user's account (failed logins that trip a
    /// throttle or lockout), which would otherwise make other checks' answers flip.
    Last,
}

pub trait Check: Send + Sync {
    fn meta(&self) -> &'static CheckMeta;
    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a>;
    fn phase(&self) -> Phase {
        Phase::Concurrent
    }
}
