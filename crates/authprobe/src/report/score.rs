//! Deterministic scoring. The formula (also in docs/scoring.md):
//!
//! * Each finding costs points by severity: critical 40, high 20, medium 10, low 4,
//!   info 0; a tentative finding costs half.
//! * score = max(0, 100 − total cost), rounded down.
//! * grade from score: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, E ≥ 50, F below.
//! * caps: any critical finding caps the grade at F, any high at C, any medium at B;
//!   the grade is the worse of the score's grade and every cap, and each cap is
//!   reported with its reason.
//! * per-family scores use the same cost table on that family's findings, for each
//!   family with at least one check run.

use super::GradeCap;
use crate::check::CheckMeta;
use crate::finding::{Confidence, Finding, Severity};
use std::collections::BTreeMap;

pub struct Scored {
    pub score: u32,
    pub grade: String,
    pub caps: Vec<GradeCap>,
    pub categories: BTreeMap<String, u32>,
}

pub fn cost(f: &Finding) -> f64 {
    let base = match f.severity {
        Severity::Critical => 40.0,
        Severity::High => 20.0,
        Severity::Medium => 10.0,
        Severity::Low => 4.0,
        Severity::Info => 0.0,
    };
    if f.confidence == Confidence::Tentative {
        base / 2.0
    } else {
        base
    }
}

fn score_of<'a>(findings: impl Iterator<Item = &'a Finding>) -> u32 {
    let total: f64 = findings.map(cost).sum();
    (100.0 - total).max(0.0).floor() as u32
}

const GRADES: [&str; 6] = ["A", "B", "C", "D", "E", "F"];

pub fn grade_for(score: u32) -> usize {
    match score {
        90.. => 0,
        80..=89 => 1,
        70..=79 => 2,
        60..=69 => 3,
        50..=59 => 4,
        _ => 5,
    }
}

pub fn score(findings: &[Finding], checks_run: &[&CheckMeta]) -> Scored {
    let score = score_of(findings.iter());
    let mut grade = grade_for(score);
    let mut caps = Vec::new();
    for (sev, cap) in [
        (Severity::Critical, 5),
        (Severity::High, 2),
        (Severity::Medium, 1),
    ] {
        let n = findings.iter().filter(|f| f.severity == sev).count();
        if n > 0 {
            caps.push(GradeCap {
                grade: GRADES[cap].to_string(),
                reason: format!(
                    "{n} {} finding{}",
                    sev.as_str(),
                    if n == 1 { "" } else { "s" }
                ),
            });
            grade = grade.max(cap);
        }
    }
    let mut categories = BTreeMap::new();
    for meta in checks_run {
        let fam = meta.family.as_str();
        categories.entry(fam.to_string()).or_insert_with(|| {
            score_of(
                findings
                    .iter()
                    .filter(|f| f.id.split('.').next() == Some(fam)),
            )
        });
    }
    Scored {
        score,
        grade: GRADES[grade].to_string(),
        caps,
        categories,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Evidence, RemediationText};

    fn f(id: &str, severity: Severity, confidence: Confidence) -> Finding {
        Finding {
            id: id.into(),
            title: String::new(),
            severity,
            confidence,
            cwe: vec![],
            owasp: vec![],
            description: String::new(),
            evidence: Evidence {
                request: String::new(),
                status: None,
                excerpt: String::new(),
                curl: String::new(),
            },
            remediation: RemediationText {
                summary: String::new(),
                frameworks: Default::default(),
            },
            operations: vec![],
        }
    }

    #[test]
    fn clean_scan_is_a() {
        let s = score(&[], &[]);
        assert_eq!((s.score, s.grade.as_str()), (100, "A"));
        assert!(s.caps.is_empty());
    }

    #[test]
    fn one_critical_caps_at_f_whatever_the_score() {
        let s = score(
            &[f("auth.missing", Severity::Critical, Confidence::Firm)],
            &[],
        );
        assert_eq!(s.score, 60);
        assert_eq!(s.grade, "F");
        assert_eq!(s.caps[0].reason, "1 critical finding");
    }

    #[test]
    fn high_caps_at_c_and_tentative_costs_half() {
        let s = score(
            &[f(
                "tls.plaintext_http",
                Severity::High,
                Confidence::Tentative,
            )],
            &[],
        );
        assert_eq!(s.score, 90);
        assert_eq!(s.grade, "C");
        let s = score(
            &[f("tls.hsts_missing", Severity::Low, Confidence::Firm)],
            &[],
        );
        assert_eq!((s.score, s.grade.as_str()), (96, "A"));
    }

    #[test]
    fn score_floors_at_zero() {
        let many: Vec<_> = (0..4)
            .map(|_| f("auth.missing", Severity::Critical, Confidence::Firm))
            .collect();
        assert_eq!(score(&many, &[]).score, 0);
    }
}
