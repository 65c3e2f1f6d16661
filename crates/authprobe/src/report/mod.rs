//! The report model (the JSON contract of DESIGN.md) and its renderings. Every format is
//! rendered from this one model, never by re-running checks.

pub mod api;
pub mod html;
pub mod jsonl;
pub mod junit;
pub mod markdown;
pub mod markup;
pub mod pretty;
pub mod redact;
pub mod sarif;
pub mod score;
pub mod tls;

use crate::check::CheckMeta;
use crate::finding::{Finding, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// 1: a single URL. 2 (this one): adds `api`, `operations` and `Finding::operations` for
/// whole-API scans (`--spec`, `--targets`); a single-URL report is otherwise unchanged, and
/// version 1 reports still load. Every change is listed in docs/report-schema.md.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub id: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeCap {
    /// The best grade the finding allows.
    pub grade: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub target: String,
    pub started_at: String,
    pub duration_ms: u64,
    pub requests_sent: usize,
    pub score: u32,
    pub grade: String,
    pub grade_caps: Vec<GradeCap>,
    pub categories: BTreeMap<String, u32>,
    pub findings: Vec<Finding>,
    pub checks_run: Vec<String>,
    pub checks_skipped: Vec<Skipped>,
    pub inconclusive: Vec<Skipped>,
    /// What the TLS prober saw, when the `tls.*` transport checks ran.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tls: Option<tls::TlsSection>,
    /// Whether the server requests client certificates, and which CAs it names, when the
    /// `mtls.*` checks probed it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_auth: Option<crate::facts::client_auth::ClientAuthSection>,
    /// Present when `--baseline` removed findings already known from an earlier report.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub baseline: Option<Baseline>,
    /// What makes the verdicts weaker than they look (most checks undecided), one line
    /// each; every format shows them above the findings.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
    /// Wall-clock milliseconds each check that ran took, by id (JUnit's `time`). Empty in
    /// reports written before it existed, and for verdicts decided without running.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub check_durations_ms: BTreeMap<String, u64>,
    /// What each `${AUTHPROBE_…}` variable of the evidence holds: live credentials, never
    /// rendered, only written by `--secrets-file`.
    #[serde(skip)]
    pub variables: BTreeMap<String, String>,
    /// A whole-API scan: what the description or target list held and how much of it was
    /// probed. Absent for a single URL.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub api: Option<api::ApiSummary>,
    /// A whole-API scan: each operation or target, in the description's order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub operations: Vec<api::OperationReport>,
}

/// The warning every format carries when most checks that ran could not decide: a grade
/// from a handful of decided checks is not a clean bill of health.
pub fn undecided_warning(run: usize, inconclusive: usize) -> Option<String> {
    (run > 0 && inconclusive * 2 > run).then(|| {
        format!(
            "{inconclusive} of the {run} checks run could not decide (inconclusive): the score rests on the rest; see each reason, and use --fail-on-inconclusive to gate on it"
        )
    })
}

/// What `--baseline` did: findings matched (check id and target, or in a whole-API scan
/// check id and operation) in the earlier report are left out of this one, so gates and
/// reviewers see only new ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// The earlier report's path, as given.
    pub file: String,
    pub suppressed: usize,
    pub suppressed_ids: Vec<String>,
}

impl Report {
    /// A report from its parts: the engine's outcomes and the facts it gathered.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        target: String,
        requests_sent: usize,
        started_at: SystemTime,
        elapsed: Duration,
        mut findings: Vec<Finding>,
        checks_run: Vec<&'static CheckMeta>,
        checks_skipped: Vec<Skipped>,
        inconclusive: Vec<Skipped>,
        tls: Option<tls::TlsSection>,
    ) -> Self {
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
        let scored = score::score(&findings, &checks_run);
        let warnings = undecided_warning(checks_run.len(), inconclusive.len())
            .into_iter()
            .collect();
        Self {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "authprobe".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            target,
            started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
            duration_ms: elapsed.as_millis() as u64,
            requests_sent,
            score: scored.score,
            grade: scored.grade,
            grade_caps: scored.caps,
            categories: scored.categories,
            findings,
            checks_run: checks_run.iter().map(|m| m.id.to_string()).collect(),
            checks_skipped,
            inconclusive,
            tls,
            client_auth: None,
            baseline: None,
            warnings,
            check_durations_ms: BTreeMap::new(),
            variables: BTreeMap::new(),
            api: None,
            operations: Vec::new(),
        }
    }

    /// Last line of defence: whatever a server echoed back, no user secret leaves in a
    /// report, in its own form or URL-, base64-, JSON- or HTML-encoded. Checks already show
    /// secrets as shell variables; this catches echoes. Credentials the server issued
    /// itself (a login's token, an echoed API key) are recognised by shape in the response
    /// excerpts ([`redact::server_secrets`]). Every format renders this one model, so all
    /// of them are covered.
    pub fn redact(&mut self, secrets: &[String]) {
        let forms: Vec<String> = secrets.iter().flat_map(|s| redact::encodings(s)).collect();
        let scrub = |s: &mut String| {
            for secret in &forms {
                if s.contains(secret.as_str()) {
                    *s = s.replace(secret.as_str(), "[REDACTED]");
                }
            }
        };
        let op_findings = self
            .operations
            .iter_mut()
            .flat_map(|o| o.findings.iter_mut());
        for f in self.findings.iter_mut().chain(op_findings) {
            scrub(&mut f.description);
            scrub(&mut f.evidence.request);
            scrub(&mut f.evidence.excerpt);
            scrub(&mut f.evidence.curl);
            if let std::borrow::Cow::Owned(clean) = redact::server_secrets(&f.evidence.excerpt) {
                f.evidence.excerpt = clean;
            }
        }
        let op_reasons = self.operations.iter_mut().flat_map(|o| {
            o.inconclusive
                .iter_mut()
                .chain(o.checks_skipped.iter_mut())
                .map(|s| &mut s.reason)
                .chain(o.reason.as_mut())
        });
        for s in self
            .inconclusive
            .iter_mut()
            .chain(self.checks_skipped.iter_mut())
            .map(|s| &mut s.reason)
            .chain(op_reasons)
        {
            scrub(s);
        }
    }

    /// Drops the findings `known` already reported for the same check and target, or, for
    /// a finding that names operations (a whole-API scan), for the same check on each of
    /// them: a finding is known only if every operation it names was, so a new operation
    /// left unenforced is not hidden by an old finding of the same check elsewhere. The
    /// operations' own `findings` lose the same ones. The score and grade stay those of
    /// the whole scan: the baseline hides what is known, it does not make the API any
    /// safer.
    pub fn apply_baseline(&mut self, known: &Report, file: String) {
        let keys: std::collections::HashSet<String> = known
            .findings
            .iter()
            .flat_map(|f| sarif::finding_keys(f, &known.target))
            .collect();
        let target = self.target.clone();
        let is_known = |f: &Finding| {
            sarif::finding_keys(f, &target)
                .iter()
                .all(|k| keys.contains(k))
        };
        let (old, new): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut self.findings)
            .into_iter()
            .partition(|f| is_known(f));
        for op in &mut self.operations {
            op.findings.retain(|f| !is_known(f));
        }
        self.findings = new;
        self.baseline = Some(Baseline {
            file,
            suppressed: old.len(),
            suppressed_ids: old.into_iter().map(|f| f.id).collect(),
        });
    }

    /// A whole-API scan (`--spec`, `--targets`): the formats group it by operation. A
    /// single-URL report renders as it always did.
    pub fn is_whole_api(&self) -> bool {
        self.api.is_some() || !self.operations.is_empty()
    }

    /// The API summary, or one counted from the operations when the report has none.
    pub fn api_summary(&self) -> std::borrow::Cow<'_, api::ApiSummary> {
        match &self.api {
            Some(a) => std::borrow::Cow::Borrowed(a),
            None => std::borrow::Cow::Owned(api::summary_of(&self.operations)),
        }
    }

    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
