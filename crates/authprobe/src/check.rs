//! The check API: what a check declares ([`CheckMeta`], [`Need`], [`Phase`]) and what it
//! returns ([`Outcome`]). It depends on the finding model and on the scan handle a check
//! is run with ([`crate::scan::Scan`]), nothing else: the catalog (`checks`) lists checks,
//! the engine schedules them, and neither is needed to write one.

use crate::finding::{Confidence, Evidence, Family, Finding, RemediationText, Severity};
use crate::scan::Scan;
use std::borrow::Cow;
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
    /// An API description (`--spec`).
    Spec,
    /// Any one of these ("a token or a Basic pair"): a check that works with whichever
    /// application credential it is given declares it here, so the engine skips it with a
    /// reason instead of the check finding out in its body.
    AnyOf(&'static [Need]),
}

impl Need {
    /// Borrowed for the single needs (most callers), owned only when alternatives are
    /// joined.
    pub fn describe(self) -> Cow<'static, str> {
        match self {
            Self::Token => "needs a bearer token (--bearer)".into(),
            Self::Basic => "needs Basic credentials (--basic)".into(),
            Self::Cert => "needs a client certificate (--client-cert and --client-key)".into(),
            Self::CaKey => "needs a test CA (--client-ca-cert and --client-ca-key)".into(),
            Self::Https => "needs an https:// target".into(),
            Self::Spec => "needs an API description (--spec)".into(),
            Self::AnyOf(alts) => alts
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let d = n.describe();
                    match d.strip_prefix("needs ") {
                        Some(rest) if i > 0 => rest.to_string(),
                        _ => d.into_owned(),
                    }
                })
                .collect::<Vec<_>>()
                .join(" or ")
                .into(),
        }
    }

    /// The catalog's short name ("token", "cert", "token or basic").
    pub fn short(self) -> String {
        match self {
            Self::Token => "token".into(),
            Self::Basic => "basic".into(),
            Self::Cert => "cert".into(),
            Self::CaKey => "ca-key".into(),
            Self::Https => "https".into(),
            Self::Spec => "spec".into(),
            Self::AnyOf(alts) => alts
                .iter()
                .map(|n| n.short())
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

/// The most requests one run of a check may send (on one operation, with a spec). The
/// shared facts it asks for (a JWKS lookup, the alg-none probes a minted token builds on)
/// are gathered outside it: they serve every check. The engine holds each check to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// Sends no request of its own: reads the token, the baselines or what others probed.
    Passive,
    /// At most this many requests.
    Fixed(u32),
    /// `fixed` plus one per `--lockout-attempts` (a burst the user sizes).
    PerLockoutAttempt { fixed: u32 },
    /// `fixed` plus one per pair of `--basic-wordlist` (a list the user sizes).
    PerWordlistPair { fixed: u32 },
    /// No HTTP request: TLS handshakes of the shared prober, bounded by its own design
    /// (about one per accepted suite and version) and its deadline.
    TlsHandshakes,
}

impl Budget {
    /// The request budget for the given user-sized inputs; `None` for budgets that are not
    /// counted in requests (passive checks, TLS handshakes).
    pub fn requests(self, lockout_attempts: u32, wordlist_pairs: u32) -> Option<u32> {
        match self {
            Self::Passive | Self::TlsHandshakes => None,
            Self::Fixed(n) => Some(n),
            Self::PerLockoutAttempt { fixed } => Some(fixed.saturating_add(lockout_attempts)),
            Self::PerWordlistPair { fixed } => Some(fixed.saturating_add(wordlist_pairs)),
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
    /// Standards sections, CVEs and vendor documents behind the check, for readers who
    /// want the primary source: "RFC 8725 §3.1", "CVE-2022-21449", a URL.
    pub references: &'static [&'static str],
    pub budget: Budget,
    /// The lab's `--flaw` switch that this check finds (its own id), or `None` when the
    /// lab cannot exhibit it (TLS protocol and certificate properties of rustls).
    pub lab_flaw: Option<&'static str>,
    /// What a finding proves, one sentence for the README's table.
    pub finds: &'static str,
    /// What the check needs beyond [`Self::needs`], as the README's table says it ("+ key,
    /// or `--expired-token`"); empty when nothing.
    pub needs_note: &'static str,
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
            operations: Vec::new(),
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
