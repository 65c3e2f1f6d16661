//! Every report format, rendered from reports of the vulnerable and the hardened lab (and
//! from hand-built reports for the edge cases a lab does not produce).

use authprobe::checks;
use authprobe::engine::{self, Progress};
use authprobe::http::Limits;
use authprobe::report::{Report, sarif};
use authprobe_lab::{LabOptions, Profile};
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

struct Labs {
    vulnerable: Report,
    hardened: Report,
}

async fn scan_lab(profile: Profile) -> Report {
    let lab = authprobe_lab::start(LabOptions {
        profile,
        flaws: Vec::new(),
    })
    .await
    .expect("lab starts");
    let limits = Limits {
        timeout: Duration::from_secs(5),
        ..Limits::default()
    };
    let opts = authprobe::cli::lab_scan_options(&lab.ready, limits).expect("options");
    let (report, _) = engine::scan(opts, Arc::new(Progress::default()))
        .await
        .expect("scan completes");
    report
}

/// One scan of each lab, shared by every test: the reports are plain data once made.
fn labs() -> &'static Labs {
    static LABS: OnceLock<Labs> = OnceLock::new();
    LABS.get_or_init(|| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            Labs {
                vulnerable: scan_lab(Profile::Vulnerable).await,
                hardened: scan_lab(Profile::Hardened).await,
            }
        })
    })
}

fn sarif_of(r: &Report) -> Value {
    serde_json::from_str(&sarif::render(r)).expect("SARIF is JSON")
}

fn schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(include_str!("data/sarif-2.1.0-rtm.5.json")).expect("schema parses");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .expect("schema compiles");
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

fn assert_valid_sarif(doc: &Value) {
    let errors = schema_errors(doc);
    assert!(errors.is_empty(), "SARIF schema violations: {errors:#?}");
}

#[test]
fn sarif_validates_against_the_schema_for_both_labs() {
    for r in [&labs().vulnerable, &labs().hardened] {
        assert_valid_sarif(&sarif_of(r));
    }
    // The validator does bite: a wrong level and a result without a message are refused.
    let mut broken = sarif_of(&labs().vulnerable);
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    broken["runs"][0]["results"][1]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert_eq!(
        schema_errors(&broken).len(),
        2,
        "{:?}",
        schema_errors(&broken)
    );
}

#[test]
fn sarif_has_a_rule_per_check_and_a_result_per_finding() {
    let r = &labs().vulnerable;
    assert!(!r.findings.is_empty());
    let doc = sarif_of(r);
    assert_eq!(doc["version"], "2.1.0");
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let registry = checks::registry();
    assert_eq!(rules.len(), registry.len());
    for (rule, check) in rules.iter().zip(&registry) {
        let m = check.meta();
        assert_eq!(rule["id"], m.id);
        assert_eq!(rule["shortDescription"]["text"], m.title);
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert!(
            rule["help"]["text"]
                .as_str()
                .unwrap()
                .contains(m.remediation.summary)
        );
        let tags: Vec<&str> = rule["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        for c in m.cwe {
            assert!(tags.contains(&format!("CWE-{c}").as_str()), "{tags:?}");
        }
        for o in m.owasp {
            assert!(tags.iter().any(|t| t.contains(o)), "{tags:?}");
        }
        let want = match m.severity.as_str() {
            "critical" => "9.5",
            "high" => "8.0",
            "medium" => "5.5",
            "low" => "3.0",
            _ => "0.0",
        };
        assert_eq!(rule["properties"]["security-severity"], want, "{}", m.id);
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings.len());
    let base = run["originalUriBaseIds"][sarif::URI_BASE_ID]["uri"]
        .as_str()
        .unwrap();
    assert!(
        r.target.starts_with(base),
        "{base} is the origin of {}",
        r.target
    );
    for (res, f) in results.iter().zip(&r.findings) {
        assert_eq!(res["ruleId"], f.id.as_str());
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], f.id.as_str());
        let want = match f.severity.as_str() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(res["level"], want);
        assert!(res["message"]["text"].as_str().unwrap().contains(&f.title));
        let loc = &res["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(loc["uriBaseId"], sarif::URI_BASE_ID);
        assert_eq!(
            format!("{base}{}", loc["uri"].as_str().unwrap()),
            r.target.split('?').next().unwrap()
        );
        assert_eq!(
            res["properties"]["evidence"]["curl"],
            f.evidence.curl.as_str()
        );
    }
    // The hardened lab: the same rules, no results.
    let hard = sarif_of(&labs().hardened);
    assert_eq!(
        hard["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        registry.len()
    );
    assert!(hard["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn sarif_fingerprints_ignore_evidence_and_time() {
    let r = &labs().vulnerable;
    let fps = |r: &Report| -> Vec<String> {
        sarif_of(r)["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                x["partialFingerprints"]["authprobe/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let first = fps(r);
    let mut unique = first.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), first.len(), "one fingerprint per check");

    // A second run: other timings, other dynamic evidence, a query string; same findings.
    let mut again = r.clone();
    again.started_at = "2030-01-01T00:00:00Z".into();
    again.duration_ms += 1234;
    for f in &mut again.findings {
        f.evidence.excerpt.push_str(" nonce=8f1c2e");
        f.evidence.request.push_str("\nX-Request-Id: 42");
    }
    again.target = format!("{}?cache=bust", r.target);
    assert_eq!(fps(&again), first);

    // Another resource is another finding.
    let mut other = r.clone();
    other.target = format!("{}/other", r.target.trim_end_matches('/'));
    assert!(fps(&other).iter().zip(&first).all(|(a, b)| a != b));
}

const XSS: &str = "<script>alert(1)</script>";

/// A report as a hostile target could shape it: every string the target influences
/// carries markup, quotes, backticks, pipes and control characters.
fn hostile_report() -> Report {
    use authprobe::finding::{Confidence, Evidence, Finding, RemediationText, Severity};
    use authprobe::report::{GradeCap, Skipped, Tool};
    let nasty = format!(
        "{XSS} \"q\" 'a' `tick` ```fence``` a|b & \u{1}\u{7}\u{1b}[31m <img src=x onerror=alert(2)>"
    );
    let finding = Finding {
        id: "auth.missing".into(),
        title: "the protected resource answers without credentials".into(),
        severity: Severity::Critical,
        confidence: Confidence::Confirmed,
        cwe: vec!["CWE-306".into()],
        owasp: vec!["API2:2023 Broken Authentication".into()],
        description: format!("the server said {nasty}"),
        evidence: Evidence {
            request: format!("GET /api/{XSS} HTTP/1.1\nHost: x\nX-Echo: {nasty}"),
            status: Some(200),
            excerpt: format!("<html><body>{nasty}</body></html>"),
            curl: format!("curl -sk 'https://127.0.0.1/{XSS}' -H 'X: {nasty}'"),
        },
        remediation: RemediationText {
            summary: format!("fix {nasty}"),
            frameworks: [("nginx".to_string(), format!("auth_request {nasty};"))].into(),
        },
    };
    Report {
        schema_version: 1,
        tool: Tool {
            name: "authprobe".into(),
            version: "0.1.0".into(),
        },
        target: format!("https://127.0.0.1:8443/api/me?q={XSS}"),
        started_at: "2026-01-01T00:00:00Z".into(),
        duration_ms: 1200,
        requests_sent: 10,
        score: 60,
        grade: "F".into(),
        grade_caps: vec![GradeCap {
            grade: "F".into(),
            reason: format!("critical finding {XSS}"),
        }],
        categories: [("auth".to_string(), 60)].into(),
        findings: vec![finding],
        checks_run: vec![
            "auth.missing".into(),
            "jwt.alg_none".into(),
            "tls.hsts_missing".into(),
        ],
        checks_skipped: vec![Skipped {
            id: "basic.no_lockout".into(),
            reason: format!("no --basic {nasty}"),
        }],
        inconclusive: vec![Skipped {
            id: "jwt.alg_none".into(),
            reason: format!("baselines do not separate {nasty}"),
        }],
        tls: None,
        baseline: None,
    }
}

#[test]
fn sarif_of_a_hostile_report_is_valid_json_and_schema() {
    let doc = sarif_of(&hostile_report());
    assert_valid_sarif(&doc);
    assert!(
        doc["runs"][0]["results"][0]["properties"]["evidence"]["excerpt"]
            .as_str()
            .unwrap()
            .contains(XSS)
    );
}
