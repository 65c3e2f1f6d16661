//! JUnit XML for CI test reports: a testsuite per check family, a testcase per check. A
//! finding fails its testcase; a check that did not apply, or could not decide, is
//! skipped: an inconclusive check proved nothing either way, so showing it as passed would
//! claim a safety nobody saw.
//!
//! A whole-API scan adds a testsuite per operation (named by its id, in the description's
//! order) with a testcase per check run on it; the family suites keep the checks run once
//! for the whole API (the deep suites). An operation that was not probed (public, skipped,
//! not probed for the budget, failed) has a testcase named by its status, skipped with the
//! reason.

use super::Report;
use super::api::{OperationReport, OperationStatus};
use super::markup::escape as xml_escape;
use crate::checks;
use crate::finding::{Family, Finding};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

enum Outcome<'a> {
    Passed,
    Failed(Vec<&'a Finding>),
    Inconclusive(&'a str),
    Skipped(&'a str),
}

struct Case<'a> {
    id: &'a str,
    title: String,
    outcome: Outcome<'a>,
}

fn family_of(id: &str, families: &BTreeMap<&'static str, Family>) -> String {
    match families.get(id) {
        Some(f) => f.as_str().to_string(),
        None => id.split('.').next().unwrap_or(id).to_string(),
    }
}

fn failure_body(f: &Finding, whole_api: bool) -> String {
    let mut s = String::new();
    if whole_api && f.operations.len() > 1 {
        let _ = writeln!(
            s,
            "{}: {}\n",
            super::api::covers(f.operations.len()),
            super::api::list_ids(&f.operations, 10)
        );
    }
    let _ = write!(
        s,
        "{} [{} severity, {:?} confidence; {}; {}]\n\n{}\n\nRequest:\n{}\n\n",
        f.title,
        f.severity.as_str(),
        f.confidence,
        f.cwe.join(", "),
        f.owasp.join(", "),
        f.description,
        f.evidence.request,
    );
    if let Some(status) = f.evidence.status {
        let _ = writeln!(s, "Status: {status}\n");
    }
    let _ = write!(
        s,
        "Response excerpt:\n{}\n\nReproduce:\n{}\n\nFix: {}",
        f.evidence.excerpt, f.evidence.curl, f.remediation.summary
    );
    s
}

/// One `<testsuite>`: its name, the classname of its testcases, its properties (name,
/// raw value) and whether its cases take the report's per-check times.
struct Suite<'a> {
    name: String,
    classname: String,
    properties: Vec<(&'static str, String)>,
    cases: Vec<Case<'a>>,
    timed: bool,
}

/// The testcases of one operation: a case per check run on it (failed by its findings in
/// the report, which `--baseline` may have thinned), skipped for the checks it could not
/// decide or that did not apply, and a case for its status when it was not simply probed.
fn operation_cases<'a>(
    op: &'a OperationReport,
    found: &[&'a Finding],
    title: &dyn Fn(&str) -> String,
) -> Vec<Case<'a>> {
    let mut cases = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let ids = op
        .checks_run
        .iter()
        .map(String::as_str)
        .chain(found.iter().map(|f| f.id.as_str()));
    for id in ids {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let mine: Vec<&Finding> = found.iter().copied().filter(|f| f.id == id).collect();
        let outcome = if !mine.is_empty() {
            Outcome::Failed(mine)
        } else if let Some(i) = op.inconclusive.iter().find(|i| i.id == id) {
            Outcome::Inconclusive(&i.reason)
        } else {
            Outcome::Passed
        };
        cases.push(Case {
            id,
            title: title(id),
            outcome,
        });
    }
    for s in &op.checks_skipped {
        if !seen.contains(&s.id.as_str()) {
            seen.push(&s.id);
            cases.push(Case {
                id: &s.id,
                title: title(&s.id),
                outcome: Outcome::Skipped(&s.reason),
            });
        }
    }
    if op.status != OperationStatus::Probed {
        let status = op.status.as_str();
        cases.push(Case {
            id: status,
            title: String::new(),
            outcome: Outcome::Skipped(op.reason.as_deref().unwrap_or(status)),
        });
    }
    cases
}

pub fn render(report: &Report) -> String {
    let registry = checks::registry();
    let families: BTreeMap<&'static str, Family> = registry
        .iter()
        .map(|c| (c.meta().id, c.meta().family))
        .collect();
    let titles: BTreeMap<&'static str, &'static str> = registry
        .iter()
        .map(|c| (c.meta().id, c.meta().title))
        .collect();
    let title = |id: &str| titles.get(id).map(|t| t.to_string()).unwrap_or_default();

    // In a whole-API scan the family suites keep what ran once for the whole API: the
    // checks no operation ran, and the findings that name no single known operation.
    let whole_api = report.is_whole_api();
    let known_ops: HashSet<&str> = report.operations.iter().map(|o| o.id.as_str()).collect();
    let op_checks: HashSet<&str> = report
        .operations
        .iter()
        .flat_map(|o| o.checks_run.iter().map(String::as_str))
        .collect();
    let mut by_op: HashMap<&str, Vec<&Finding>> = HashMap::new();
    let mut wide: Vec<&Finding> = Vec::new();
    for f in &report.findings {
        match super::api::owning_operation(report, f)
            .filter(|op| whole_api && known_ops.contains(op))
        {
            Some(op) => by_op.entry(op).or_default().push(f),
            None => wide.push(f),
        }
    }

    let mut suites: BTreeMap<String, Vec<Case>> = BTreeMap::new();
    let mut seen = Vec::new();
    let run_ids = report
        .checks_run
        .iter()
        .map(String::as_str)
        .filter(|id| !op_checks.contains(id))
        // A finding whose check is missing from checks_run still has to fail somewhere.
        .chain(wide.iter().map(|f| f.id.as_str()));
    for id in run_ids {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let found: Vec<&Finding> = wide.iter().copied().filter(|f| f.id == id).collect();
        let outcome = if !found.is_empty() {
            Outcome::Failed(found)
        } else if let Some(i) = report.inconclusive.iter().find(|i| i.id == id) {
            Outcome::Inconclusive(&i.reason)
        } else {
            Outcome::Passed
        };
        suites
            .entry(family_of(id, &families))
            .or_default()
            .push(Case {
                id,
                title: title(id),
                outcome,
            });
    }
    for s in &report.checks_skipped {
        if seen.contains(&s.id.as_str()) || op_checks.contains(s.id.as_str()) {
            continue;
        }
        suites
            .entry(family_of(&s.id, &families))
            .or_default()
            .push(Case {
                id: &s.id,
                title: title(&s.id),
                outcome: Outcome::Skipped(&s.reason),
            });
    }
    let mut all_suites: Vec<Suite> = suites
        .into_iter()
        .map(|(family, cases)| Suite {
            name: format!("authprobe.{family}"),
            classname: format!("authprobe.{family}"),
            properties: [
                ("target", report.target.clone()),
                ("score", report.score.to_string()),
                ("grade", report.grade.clone()),
            ]
            .into_iter()
            .chain(report.warnings.iter().map(|w| ("warning", w.clone())))
            .collect(),
            cases,
            timed: true,
        })
        .collect();
    if whole_api {
        for op in &report.operations {
            let found = by_op.get(op.id.as_str()).map_or(&[][..], Vec::as_slice);
            let mut properties = vec![
                ("target", op.url.clone()),
                ("status", op.status.as_str().to_string()),
            ];
            if let Some(d) = &op.declared_security {
                properties.push(("declared_security", d.clone()));
            }
            if let (Some(score), Some(grade)) = (op.score, &op.grade) {
                properties.push(("score", score.to_string()));
                properties.push(("grade", grade.clone()));
            }
            properties.push(("requests_sent", op.requests_sent.to_string()));
            all_suites.push(Suite {
                name: op.id.clone(),
                classname: op.id.clone(),
                properties,
                cases: operation_cases(op, found, &title),
                timed: false,
            });
        }
    }

    let count = |cases: &[Case], pred: fn(&Outcome) -> bool| {
        cases.iter().filter(|c| pred(&c.outcome)).count()
    };
    let is_failure = |o: &Outcome| matches!(o, Outcome::Failed(_));
    let is_skipped = |o: &Outcome| matches!(o, Outcome::Skipped(_) | Outcome::Inconclusive(_));
    // Seconds as JUnit wants them; a check decided without running took none, and the
    // report keeps no time per operation.
    let secs_of = |suite: &Suite, id: &str| {
        if suite.timed {
            report.check_durations_ms.get(id).copied().unwrap_or(0) as f64 / 1000.0
        } else {
            0.0
        }
    };
    let all: Vec<&Case> = all_suites.iter().flat_map(|s| &s.cases).collect();
    let secs = report.duration_ms as f64 / 1000.0;
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"authprobe {}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{secs:.3}\">",
        xml_escape(&report.target),
        all.len(),
        all.iter().filter(|c| is_failure(&c.outcome)).count(),
        all.iter().filter(|c| is_skipped(&c.outcome)).count(),
    );
    for suite in &all_suites {
        let cases = &suite.cases;
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" timestamp=\"{}\" time=\"{:.3}\">",
            xml_escape(&suite.name),
            cases.len(),
            count(cases, is_failure),
            count(cases, is_skipped),
            xml_escape(&report.started_at),
            // The family's checks run concurrently, so this sum can exceed the scan's time.
            cases.iter().map(|c| secs_of(suite, c.id)).sum::<f64>(),
        );
        x.push_str("    <properties>");
        for (name, value) in &suite.properties {
            let _ = write!(
                x,
                "\n      <property name=\"{name}\" value=\"{}\"/>",
                xml_escape(value)
            );
        }
        x.push_str("\n    </properties>\n");
        for c in cases {
            let name = if c.title.is_empty() {
                xml_escape(c.id)
            } else {
                xml_escape(&format!("{}: {}", c.id, c.title))
            };
            let open = format!(
                "    <testcase classname=\"{}\" name=\"{name}\" time=\"{:.3}\"",
                xml_escape(&suite.classname),
                secs_of(suite, c.id),
            );
            match &c.outcome {
                Outcome::Passed => {
                    let _ = writeln!(x, "{open}/>");
                }
                Outcome::Failed(found) => {
                    let _ = writeln!(x, "{open}>");
                    for f in found {
                        let _ = writeln!(
                            x,
                            "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                            xml_escape(&format!("{}: {}", f.severity.as_str(), f.title)),
                            f.severity.as_str(),
                            xml_escape(&failure_body(f, whole_api))
                        );
                    }
                    let _ = writeln!(x, "    </testcase>");
                }
                Outcome::Inconclusive(reason) => {
                    let _ = writeln!(
                        x,
                        "{open}>\n      <skipped message=\"inconclusive: {}\"/>\n    </testcase>",
                        xml_escape(reason)
                    );
                }
                Outcome::Skipped(reason) => {
                    let _ = writeln!(
                        x,
                        "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml_escape(reason)
                    );
                }
            }
        }
        let _ = writeln!(x, "  </testsuite>");
    }
    x.push_str("</testsuites>\n");
    x
}
