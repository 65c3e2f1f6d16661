//! JUnit XML for CI test reports: a testsuite per check family, a testcase per check. A
//! finding fails its testcase; a check that did not apply, or could not decide, is
//! skipped: an inconclusive check proved nothing either way, so showing it as passed would
//! claim a safety nobody saw.

use super::Report;
use super::markup::escape as xml_escape;
use crate::checks;
use crate::finding::{Family, Finding};
use std::collections::BTreeMap;
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

fn failure_body(f: &Finding) -> String {
    let mut s = format!(
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

    let mut suites: BTreeMap<String, Vec<Case>> = BTreeMap::new();
    let mut seen = Vec::new();
    let run_ids = report
        .checks_run
        .iter()
        .map(String::as_str)
        // A finding whose check is missing from checks_run still has to fail somewhere.
        .chain(report.findings.iter().map(|f| f.id.as_str()));
    for id in run_ids {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let found: Vec<&Finding> = report.findings.iter().filter(|f| f.id == id).collect();
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
        if seen.contains(&s.id.as_str()) {
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

    let count = |cases: &[Case], pred: fn(&Outcome) -> bool| {
        cases.iter().filter(|c| pred(&c.outcome)).count()
    };
    let is_failure = |o: &Outcome| matches!(o, Outcome::Failed(_));
    let is_skipped = |o: &Outcome| matches!(o, Outcome::Skipped(_) | Outcome::Inconclusive(_));
    // Seconds as JUnit wants them; a check decided without running took none.
    let secs_of =
        |id: &str| report.check_durations_ms.get(id).copied().unwrap_or(0) as f64 / 1000.0;
    let all: Vec<&Case> = suites.values().flatten().collect();
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
    for (family, cases) in &suites {
        let _ = writeln!(
            x,
            "  <testsuite name=\"authprobe.{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" timestamp=\"{}\" time=\"{:.3}\">",
            xml_escape(family),
            cases.len(),
            count(cases, is_failure),
            count(cases, is_skipped),
            xml_escape(&report.started_at),
            // The family's checks run concurrently, so this sum can exceed the scan's time.
            cases.iter().map(|c| secs_of(c.id)).sum::<f64>(),
        );
        let _ = writeln!(
            x,
            "    <properties>\n      <property name=\"target\" value=\"{}\"/>\n      <property name=\"score\" value=\"{}\"/>\n      <property name=\"grade\" value=\"{}\"/>{}\n    </properties>",
            xml_escape(&report.target),
            report.score,
            xml_escape(&report.grade),
            report
                .warnings
                .iter()
                .map(|w| format!(
                    "\n      <property name=\"warning\" value=\"{}\"/>",
                    xml_escape(w)
                ))
                .collect::<String>()
        );
        for c in cases {
            let name = if c.title.is_empty() {
                xml_escape(c.id)
            } else {
                xml_escape(&format!("{}: {}", c.id, c.title))
            };
            let open = format!(
                "    <testcase classname=\"authprobe.{}\" name=\"{name}\" time=\"{:.3}\"",
                xml_escape(family),
                secs_of(c.id),
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
                            xml_escape(&failure_body(f))
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
