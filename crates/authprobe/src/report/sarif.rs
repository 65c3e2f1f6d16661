//! SARIF 2.1.0, shaped for GitHub code scanning: one run, a rule per catalog check, one
//! result per finding located at the scanned URL. In a whole-API scan a finding is located
//! at each operation it names (up to [`MAX_LOCATIONS`]), and a finding on one operation
//! is fingerprinted by check and operation, so code scanning keeps one alert per
//! operation.

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

/// What identifies one finding of a check on one operation across runs: the check and the
/// operation's id (`GET /orders/{orderId}`: the method tells apart operations sharing a
/// path). A target of a list is its URL, keyed as [`finding_key`] keys a single-URL scan,
/// so the query string is left out and an earlier scan of that URL matches.
pub fn operation_key(check_id: &str, operation: &str) -> String {
    match url::Url::parse(operation) {
        Ok(u) if u.has_host() => finding_key(check_id, operation),
        _ => format!("{check_id}|{operation}"),
    }
}

/// Every key of a finding: one per operation it names, or its check and the report's
/// target when it names none (a single-URL scan, and every report of schema version 1).
pub fn finding_keys(f: &Finding, target: &str) -> Vec<String> {
    if f.operations.is_empty() {
        vec![finding_key(&f.id, target)]
    } else {
        f.operations
            .iter()
            .map(|op| operation_key(&f.id, op))
            .collect()
    }
}

/// FNV-1a 64: stable across Rust versions and platforms (the std hasher is not), and a
/// fingerprint needs no collision resistance against an adversary.
pub fn fingerprint(check_id: &str, target: &str) -> String {
    fnv(&finding_key(check_id, target))
}

fn fnv(key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
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

/// How many operations a result names as locations; the rest are counted in its
/// `operationsOmitted` property (and all of them listed in `operations`).
pub const MAX_LOCATIONS: usize = 20;

/// The root is the base itself, and "." resolves to exactly that. "/" would replace
/// whatever path a base has, so validators refuse it (SARIF1004); an empty reference
/// some consumers refuse.
fn relative(path: String) -> String {
    if path.is_empty() {
        ".".to_string()
    } else {
        path
    }
}

fn location(artifact: Value) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": artifact,
            // Code scanning wants a region; a URL has no lines, so the first stands in.
            "region": { "startLine": 1 }
        }
    })
}

/// What a whole-API report's results are located against: the API's base URL when it has
/// one, else the report's target.
fn base_of(report: &Report) -> &str {
    match &report.api {
        Some(a) if report.is_whole_api() => a.base_url.as_deref().unwrap_or(&report.target),
        _ => &report.target,
    }
}

/// Each operation of a whole-API report by id, for locating the findings that name it.
type Urls<'a> = std::collections::HashMap<&'a str, &'a str>;

/// A location per operation the finding names (its URL, relative to the base when it
/// shares the base's origin), the fingerprint, and how many operations were left out.
fn api_locations(f: &Finding, report: &Report, urls: &Urls) -> (Vec<Value>, String, usize) {
    let base = base_of(report);
    let (origin, _) = split_target(base);
    let locations = f
        .operations
        .iter()
        .take(MAX_LOCATIONS)
        .map(|op| {
            let url = urls.get(op.as_str()).copied().unwrap_or(&report.target);
            let (o, path) = split_target(url);
            let artifact = if o == origin {
                json!({ "uri": relative(path), "uriBaseId": URI_BASE_ID })
            } else {
                json!({ "uri": format!("{o}{path}") })
            };
            let mut l = location(artifact);
            l["message"] = json!({ "text": op });
            l
        })
        .collect::<Vec<_>>();
    let fp = match super::api::owning_operation(report, f) {
        Some(op) => fnv(&operation_key(&f.id, op)),
        None => fingerprint(&f.id, base),
    };
    let omitted = f.operations.len().saturating_sub(MAX_LOCATIONS);
    if locations.is_empty() {
        let (_, path) = split_target(base);
        let artifact = json!({ "uri": relative(path), "uriBaseId": URI_BASE_ID });
        return (vec![location(artifact)], fp, 0);
    }
    (locations, fp, omitted)
}

fn result(f: &Finding, index: Option<usize>, report: &Report, urls: &Urls) -> Value {
    let (locations, fp, omitted) = if report.is_whole_api() {
        api_locations(f, report, urls)
    } else {
        let (_, path) = split_target(&report.target);
        let artifact = json!({ "uri": relative(path), "uriBaseId": URI_BASE_ID });
        (
            vec![location(artifact)],
            fingerprint(&f.id, &report.target),
            0,
        )
    };
    let mut r = json!({
        "ruleId": f.id,
        "level": level(f.severity),
        "message": { "text": format!("{}: {}", f.title, f.description) },
        "locations": locations,
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
    if report.is_whole_api() && !f.operations.is_empty() {
        r["properties"]["operations"] = json!(f.operations);
        if omitted > 0 {
            r["properties"]["operationsOmitted"] = json!(omitted);
        }
    }
    r
}

pub fn render(report: &Report) -> String {
    let registry = checks::registry();
    let metas: Vec<&'static CheckMeta> = registry.iter().map(|c| c.meta()).collect();
    let rules: Vec<Value> = metas.iter().map(|m| rule(m)).collect();
    let urls: Urls = report
        .operations
        .iter()
        .map(|o| (o.id.as_str(), o.url.as_str()))
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, metas.iter().position(|m| m.id == f.id), report, &urls))
        .collect();
    let (origin, _) = split_target(base_of(report));
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
                "id": automation_id(base_of(report)),
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
    let mut log = log;
    if report.is_whole_api() {
        log["runs"][0]["properties"]["api"] = json!(report.api_summary());
    }
    serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
