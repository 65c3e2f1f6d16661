//! SARIF 2.1.0, shaped for GitHub code scanning: one run, a rule per catalog check, one
//! result per finding located at the scanned URL.

use super::Report;
use crate::check::CheckMeta;
use crate::checks;
use crate::finding::{Finding, Severity};
use serde_json::{Value, json};

/// The `uriBaseId` under which the scanned origin is declared; results name the path only,
/// so code scanning groups alerts of one API together whatever host served it.
pub const URI_BASE_ID: &str = "TARGET";

/// GitHub ranks code-scanning alerts by this number (its own bands: ≥9 critical,
/// ≥7 high, ≥4 medium, else low).
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// `(origin with a trailing slash, path relative to it)`; a target that is not a URL
/// (`authprobe tls host:port`) is all origin.
pub fn split_target(target: &str) -> (String, String) {
    match url::Url::parse(target) {
        Ok(u) if u.has_host() => {
            let origin = format!("{}/", u.origin().ascii_serialization());
            let path = u.path().trim_start_matches('/').to_string();
            (origin, path)
        }
        // `authprobe tls host:port` scans a TLS endpoint, not a URL.
        _ => (format!("https://{target}/"), String::new()),
    }
}

/// The project's page, which SARIF viewers link from the tool and each rule: the README's
/// checks section holds every check's table row, so one anchor serves all rules.
pub const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

pub fn help_uri() -> String {
    format!("{INFORMATION_URI}#checks")
}

/// `runAutomationDetails.id`: everything before its last `/` is the category, so one
/// category per scanned resource keeps code scanning from closing one target's alerts when
/// another target's run is uploaded. A bare `host:port` is an `authprobe tls` run, kept
/// apart from a scan of that host's root.
pub fn automation_id(target: &str) -> String {
    match url::Url::parse(target) {
        Ok(u) if u.has_host() => {
            let host = u.host_str().unwrap_or_default();
            let authority = match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            };
            let path = u.path().trim_matches('/');
            if path.is_empty() {
                format!("authprobe/{authority}/")
            } else {
                format!("authprobe/{authority}/{path}/")
            }
        }
        _ => format!("authprobe-tls/{target}/"),
    }
}

/// What identifies one finding across runs: the check and where it was found. The query
/// string and any evidence are left out on purpose, since they change from run to run.
pub fn finding_key(check_id: &str, target: &str) -> String {
    let (origin, path) = split_target(target);
    format!("{check_id}|{origin}{path}")
}

/// FNV-1a 64: stable across Rust versions and platforms (the std hasher is not), and a
/// fingerprint needs no collision resistance against an adversary.
pub fn fingerprint(check_id: &str, target: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in finding_key(check_id, target).bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn rule(m: &CheckMeta) -> Value {
    let remediation = m.remediation_text();
    let mut help = format!("{}\n", remediation.summary);
    let mut help_md = format!("{}\n", remediation.summary);
    for (fw, text) in &remediation.frameworks {
        help.push_str(&format!("\n{fw}: {text}"));
        help_md.push_str(&format!("\n- **{fw}**: {text}"));
    }
    let mut tags = vec!["security".to_string(), m.family.as_str().to_string()];
    for c in m.cwe {
        // The form GitHub's own queries use, which its UI turns into CWE links.
        tags.push(format!("external/cwe/cwe-{c}"));
    }
    tags.extend(m.cwe_ids());
    tags.extend(m.owasp.iter().map(|o| format!("OWASP-{o}:2023")));
    json!({
        // No `name`: the id is all the name a check has, and SARIF wants a name that
        // differs from the id or none (SARIF1001).
        "id": m.id,
        "helpUri": help_uri(),
        "shortDescription": { "text": m.title },
        "fullDescription": { "text": m.description },
        "help": { "text": help.trim_end(), "markdown": help_md.trim_end() },
        "defaultConfiguration": { "level": level(m.severity) },
        "properties": {
            "tags": tags,
            "security-severity": security_severity(m.severity),
            "precision": "high",
            "problem.severity": level(m.severity),
        }
    })
}

fn result(f: &Finding, index: Option<usize>, report: &Report) -> Value {
    let (_, path) = split_target(&report.target);
    // The root is the base itself, and "." resolves to exactly that. "/" would replace
    // whatever path a base has, so validators refuse it (SARIF1004); an empty reference
    // some consumers refuse.
    let path = if path.is_empty() {
        ".".to_string()
    } else {
        path
    };
    let fp = fingerprint(&f.id, &report.target);
    let mut r = json!({
        "ruleId": f.id,
        "level": level(f.severity),
        "message": { "text": format!("{}: {}", f.title, f.description) },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": path, "uriBaseId": URI_BASE_ID },
                // Code scanning wants a region; a URL has no lines, so the first stands in.
                "region": { "startLine": 1 }
            }
        }],
        // Code scanning keys an alert on the rule, the location's path and
        // `primaryLocationLineHash`; upload-sarif computes that hash only from a file in the
        // checkout, which a URL never is, so the scanner supplies it. `authprobe/v1` is the
        // same value under the scanner's own name, for other consumers and baselines.
        "partialFingerprints": {
            "primaryLocationLineHash": fp,
            "authprobe/v1": fp,
        },
        "properties": {
            "severity": f.severity,
            "confidence": f.confidence,
            "security-severity": security_severity(f.severity),
            "cwe": f.cwe,
            "owasp": f.owasp,
            "evidence": f.evidence,
            "remediation": f.remediation,
        }
    });
    if let Some(i) = index {
        r["ruleIndex"] = json!(i);
    }
    r
}

pub fn render(report: &Report) -> String {
    let registry = checks::registry();
    let metas: Vec<&'static CheckMeta> = registry.iter().map(|c| c.meta()).collect();
    let rules: Vec<Value> = metas.iter().map(|m| rule(m)).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, metas.iter().position(|m| m.id == f.id), report))
        .collect();
    let (origin, _) = split_target(&report.target);
    let notifications: Vec<Value> = report
        .warnings
        .iter()
        .map(|w| {
            json!({
                "level": "warning",
                "message": { "text": w },
            })
        })
        .chain(report.inconclusive.iter().map(|s| {
            let mut n = json!({
                "level": "note",
                "message": { "text": format!("{} inconclusive: {}", s.id, s.reason) },
            });
            // A notification about a check points at its rule; `descriptor` would name a
            // notification descriptor, which this tool does not declare.
            if let Some(i) = metas.iter().position(|m| m.id == s.id) {
                n["associatedRule"] = json!({ "id": s.id, "index": i });
            }
            n
        }))
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": report.tool.name,
                    "version": report.tool.version,
                    "semanticVersion": report.tool.version,
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "automationDetails": {
                "id": automation_id(&report.target),
            },
            "originalUriBaseIds": {
                URI_BASE_ID: { "uri": origin, "description": { "text": "The scanned API's origin." } }
            },
            "invocations": [{
                "executionSuccessful": true,
                "startTimeUtc": report.started_at,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {
                "target": report.target,
                "score": report.score,
                "grade": report.grade,
                "gradeCaps": report.grade_caps,
                "categories": report.categories,
                "requestsSent": report.requests_sent,
                "durationMs": report.duration_ms,
                "checksRun": report.checks_run,
                "checksSkipped": report.checks_skipped,
            }
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
