//! JSON Lines: one compact JSON object per line, each with a `type`, so a whole-API scan
//! can be streamed as it goes and read back line by line (`jq -c 'select(.type ==
//! "finding")'`) without holding the whole report.
//!
//! Line types (docs/report-schema.md has the fields):
//!
//! * `{"type":"finding", ...}`: one finding, with the fields of a report's `findings[]`
//!   entry, `operations` included (absent in a single-URL scan);
//! * `{"type":"operation", ...}`: one operation of an API description, or one target of
//!   a list, with the fields of a report's `operations[]` entry except its `findings`
//!   array (each of those is a `finding` line naming the operation), and `findings_count`
//!   instead;
//! * `{"type":"summary", ...}`: the report without `findings` and `operations`:
//!   `schema_version`, `tool`, `target`, `started_at`, `duration_ms`, `requests_sent`,
//!   `score`, `grade`, `grade_caps`, `categories`, `checks_run`, `checks_skipped`,
//!   `inconclusive`, then, when present, `api`, `warnings`, `baseline`, `tls`,
//!   `client_auth` and `check_durations_ms`. It comes last: the score is known only at
//!   the end.
//!
//! Each function renders one line without its newline; [`render`] writes a complete
//! report: every finding line, then every operation line, then the summary line.

use super::api::{OperationReport, OperationStatus};
use super::{Baseline, GradeCap, Report, Skipped, Tool};
use crate::finding::Finding;
use serde::Serialize;
use std::collections::BTreeMap;

/// `{"type":"<kind>", ...}`: the serialized object with the type first, the rest in the
/// struct's own order (serde_json's maps would sort the keys).
fn tagged<T: Serialize>(kind: &str, value: &T) -> String {
    match serde_json::to_string(value) {
        Ok(s) if s.len() > 2 && s.starts_with('{') => format!("{{\"type\":\"{kind}\",{}", &s[1..]),
        Ok(_) => format!("{{\"type\":\"{kind}\"}}"),
        Err(e) => serde_json::json!({ "type": kind, "error": e.to_string() }).to_string(),
    }
}

/// One finding, `operations` included.
pub fn finding_line(f: &Finding) -> String {
    tagged("finding", f)
}

/// An operation's fields (those of [`OperationReport`]) without its findings.
#[derive(Serialize)]
struct OperationLine<'a> {
    id: &'a str,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation_id: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    declared_security: Option<&'a str>,
    status: OperationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grade: Option<&'a str>,
    requests_sent: usize,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    checks_run: &'a [String],
    findings_count: usize,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    inconclusive: &'a [Skipped],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    checks_skipped: &'a [Skipped],
}

/// One operation (or target of a list) without its `findings`, counted in
/// `findings_count`.
pub fn operation_line(op: &OperationReport) -> String {
    tagged(
        "operation",
        &OperationLine {
            id: &op.id,
            method: &op.method,
            path: op.path.as_deref(),
            url: &op.url,
            operation_id: op.operation_id.as_deref(),
            tags: &op.tags,
            declared_security: op.declared_security.as_deref(),
            status: op.status,
            reason: op.reason.as_deref(),
            score: op.score,
            grade: op.grade.as_deref(),
            requests_sent: op.requests_sent,
            checks_run: &op.checks_run,
            findings_count: op.findings.len(),
            inconclusive: &op.inconclusive,
            checks_skipped: &op.checks_skipped,
        },
    )
}

/// The report's fields but `findings` and `operations`.
#[derive(Serialize)]
struct SummaryLine<'a> {
    schema_version: u32,
    tool: &'a Tool,
    target: &'a str,
    started_at: &'a str,
    duration_ms: u64,
    requests_sent: usize,
    score: u32,
    grade: &'a str,
    grade_caps: &'a [GradeCap],
    categories: &'a BTreeMap<String, u32>,
    checks_run: &'a [String],
    checks_skipped: &'a [Skipped],
    inconclusive: &'a [Skipped],
    #[serde(skip_serializing_if = "Option::is_none")]
    api: Option<&'a super::api::ApiSummary>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'a Baseline>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<&'a super::tls::TlsSection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_auth: Option<&'a crate::facts::client_auth::ClientAuthSection>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    check_durations_ms: &'a BTreeMap<String, u64>,
}

/// The report without its findings and operations: the line that closes a stream.
pub fn summary_line(r: &Report) -> String {
    tagged(
        "summary",
        &SummaryLine {
            schema_version: r.schema_version,
            tool: &r.tool,
            target: &r.target,
            started_at: &r.started_at,
            duration_ms: r.duration_ms,
            requests_sent: r.requests_sent,
            score: r.score,
            grade: &r.grade,
            grade_caps: &r.grade_caps,
            categories: &r.categories,
            checks_run: &r.checks_run,
            checks_skipped: &r.checks_skipped,
            inconclusive: &r.inconclusive,
            api: r.api.as_ref(),
            warnings: &r.warnings,
            baseline: r.baseline.as_ref(),
            tls: r.tls.as_ref(),
            client_auth: r.client_auth.as_ref(),
            check_durations_ms: &r.check_durations_ms,
        },
    )
}

/// A complete report as JSON Lines: its findings, its operations, then the summary, each
/// line ending in a newline.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let lines = r
        .findings
        .iter()
        .map(finding_line)
        .chain(r.operations.iter().map(operation_line))
        .chain(std::iter::once(summary_line(r)));
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    #[test]
    fn an_operation_line_is_the_operation_without_its_findings() {
        let mut op = OperationReport::not_probed(
            "GET /a".into(),
            "GET".into(),
            "https://x.test/a".into(),
            OperationStatus::Skipped,
            "unsafe method".into(),
        );
        op.path = Some("/a".into());
        op.operation_id = Some("getA".into());
        op.tags = vec!["t".into()];
        op.declared_security = Some("bearerAuth".into());
        op.score = Some(100);
        op.grade = Some("A".into());
        op.checks_run = vec!["auth.missing".into()];
        op.inconclusive = vec![Skipped {
            id: "x".into(),
            reason: "y".into(),
        }];
        op.checks_skipped = op.inconclusive.clone();
        let line = operation_line(&op);
        assert!(line.starts_with("{\"type\":\"operation\",\"id\":\"GET /a\""));
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        // Every field of the model but findings: a field added there and not here fails.
        let mut want = serde_json::to_value(&op).unwrap();
        let obj = want.as_object_mut().unwrap();
        obj.remove("findings");
        obj.insert("type".into(), "operation".into());
        obj.insert("findings_count".into(), 0.into());
        assert_eq!(v, want);
    }

    #[test]
    fn a_summary_line_is_the_report_without_findings_and_operations() {
        let mut r = Report::build(
            "https://x.test/".into(),
            3,
            std::time::SystemTime::UNIX_EPOCH,
            std::time::Duration::from_millis(5),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            None,
        );
        r.warnings.push("w".into());
        r.check_durations_ms.insert("auth.missing".into(), 3);
        r.api = Some(super::super::api::summary_of(&[]));
        let v: Value = serde_json::from_str(&summary_line(&r)).unwrap();
        let mut want = serde_json::to_value(&r).unwrap();
        let obj = want.as_object_mut().unwrap();
        obj.remove("findings");
        obj.insert("type".into(), "summary".into());
        assert_eq!(keys(&v), keys(&want));
        assert_eq!(v, want);
    }
}
