//! Target lists (`--targets`): every URL gets the whole single-URL scan with the same
//! credentials. Hosts are scanned concurrently (`--host-concurrency`), the targets of one
//! host one after another, so each host keeps its own `--concurrency` and `--rate`.
//!
//! With `retain == false` (`--format jsonl`) a finished target's findings go to the sink
//! and are dropped: the run keeps only each check's costliest finding (for the overall
//! score) and one small summary per target, so thousands of targets fit in memory.

use super::api::{Event, note_run, whole_score};
use super::{Progress, ScanError};
use crate::check::CheckMeta;
use crate::finding::Finding;
use crate::options::ScanOptions;
use crate::report::api::{ApiKind, ApiSummary, OperationReport, OperationStatus};
use crate::report::{Report, score};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use url::Url;

/// One line of a targets file, or why it is not a target.
pub fn parse_targets(text: &str) -> Result<Vec<Url>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split_once(" #").map_or(line, |(l, _)| l).trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let url = Url::parse(line).map_err(|e| format!("line {}: {line:?}: {e}", n + 1))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "line {}: {line:?} is not an http:// or https:// URL",
                n + 1
            ));
        }
        out.push(url);
    }
    if out.is_empty() {
        return Err("the list holds no target (one URL per line, # comments)".into());
    }
    Ok(out)
}

fn host_key(u: &Url) -> String {
    format!(
        "{}:{}",
        u.host_str().unwrap_or(""),
        u.port_or_known_default().unwrap_or(0)
    )
}

fn target_report(url: &Url) -> OperationReport {
    OperationReport::new(
        url.to_string(),
        "GET".into(),
        url.to_string(),
        OperationStatus::Probed,
    )
}

/// Scans every target; the report holds each as an operation of kind target. A target
/// that cannot be scanned (unreachable, credentials refused) is listed as failed with its
/// reason and does not stop the others.
pub async fn scan_targets(
    opts: ScanOptions,
    targets: Vec<Url>,
    source: String,
    host_concurrency: usize,
    retain: bool,
    progress: Arc<Progress>,
    sink: &mut (dyn FnMut(Event) + Send),
) -> Result<Report, ScanError> {
    let started_at = SystemTime::now();
    let clock = Instant::now();
    // Hosts in order of first appearance; each host's targets in list order.
    let mut hosts: Vec<(String, Vec<(usize, Url)>)> = Vec::new();
    for (i, u) in targets.iter().enumerate() {
        let k = host_key(u);
        match hosts.iter_mut().find(|(h, _)| *h == k) {
            Some((_, v)) => v.push((i, u.clone())),
            None => hosts.push((k, vec![(i, u.clone())])),
        }
    }
    progress
        .checks_total
        .store(targets.len(), std::sync::atomic::Ordering::Relaxed);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(usize, Result<Report, ScanError>)>(16);
    let gate = Arc::new(tokio::sync::Semaphore::new(host_concurrency.max(1)));
    for (_, list) in hosts {
        let tx = tx.clone();
        let gate = gate.clone();
        let opts = opts.clone();
        tokio::spawn(async move {
            let Ok(_slot) = gate.acquire_owned().await else {
                return;
            };
            for (i, url) in list {
                let mut o = opts.clone();
                o.target = url;
                let r = super::scan(o, Arc::new(Progress::default())).await;
                if tx.send((i, r)).await.is_err() {
                    return;
                }
            }
        });
    }
    drop(tx);

    let mut ops: Vec<Option<OperationReport>> = vec![None; targets.len()];
    let mut all_findings: Vec<Finding> = Vec::new();
    // Without retention only each check's costliest finding is kept, which is all the
    // overall score reads.
    let mut worst: BTreeMap<String, Finding> = BTreeMap::new();
    let mut run: Vec<&'static CheckMeta> = Vec::new();
    let mut requests = 0;
    let mut tls = None;
    let mut variables = BTreeMap::new();
    while let Some((i, result)) = rx.recv().await {
        let url = &targets[i];
        let mut op = target_report(url);
        match result {
            Ok(report) => {
                requests += report.requests_sent;
                note_run(&mut run, &report.checks_run);
                if tls.is_none() {
                    tls = report.tls.clone();
                }
                variables.extend(report.variables.clone());
                op.score = Some(report.score);
                op.grade = Some(report.grade);
                op.requests_sent = report.requests_sent;
                op.checks_run = report.checks_run;
                op.inconclusive = report.inconclusive;
                op.checks_skipped = report.checks_skipped;
                for mut f in report.findings {
                    f.operations = vec![op.id.clone()];
                    sink(Event::Finding(&f));
                    match worst.get(&f.id) {
                        Some(w) if score::cost(w) >= score::cost(&f) => {}
                        _ => {
                            worst.insert(f.id.clone(), f.clone());
                        }
                    }
                    if retain {
                        op.findings.push(f);
                    }
                }
            }
            Err(e) => {
                op.status = OperationStatus::Failed;
                op.reason = Some(e.to_string());
            }
        }
        progress
            .checks_done
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        sink(Event::Operation(&op));
        if retain {
            all_findings.extend(op.findings.iter().cloned());
        }
        ops[i] = Some(op);
    }
    let reports: Vec<OperationReport> = ops
        .into_iter()
        .zip(&targets)
        .map(|(o, u)| {
            o.unwrap_or_else(|| {
                let mut r = target_report(u);
                r.status = OperationStatus::Failed;
                r.reason = Some("the scan of this target did not finish".into());
                r
            })
        })
        .collect();
    let count = |s: OperationStatus| reports.iter().filter(|r| r.status == s).count();
    let scored = whole_score(&worst.into_values().collect::<Vec<_>>(), &run);
    all_findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
    let mut report = Report::build(
        source.clone(),
        requests,
        started_at,
        clock.elapsed(),
        Vec::new(),
        run,
        Vec::new(),
        Vec::new(),
        None,
    );
    report.score = scored.score;
    report.grade = scored.grade;
    report.grade_caps = scored.caps;
    report.categories = scored.categories;
    report.findings = all_findings;
    report.tls = tls;
    report.variables = variables;
    let failed = count(OperationStatus::Failed);
    if failed > 0 {
        report.warnings.push(format!(
            "{failed} of {} targets could not be scanned; each is listed with the reason",
            reports.len()
        ));
    }
    report.api = Some(ApiSummary {
        kind: ApiKind::Targets,
        source,
        title: None,
        spec_version: None,
        base_url: None,
        operations_total: reports.len(),
        probed: count(OperationStatus::Probed),
        public: 0,
        skipped: 0,
        not_probed_budget: 0,
        failed,
        deep_suite_operation: None,
        budget: None,
    });
    // Without retention the summaries stay (small); their findings went to the stream.
    report.operations = reports;
    Ok(report)
}
