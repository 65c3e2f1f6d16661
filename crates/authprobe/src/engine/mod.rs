//! The scan engine: takes the baselines the oracle needs, then schedules the catalog's
//! checks (root causes first, state-changing checks last) under the HTTP layer's limits,
//! and assembles the report from their outcomes and the facts gathered on the way. It
//! knows no check by name and no family.

pub mod api;
mod mistakes;
pub mod preflight;
pub mod targets;

pub use mistakes::{is_loopback, plain_http_credentials};

use crate::check::{Check, CheckMeta, Need, Outcome, Phase};
use crate::checks;
use crate::creds::{authorized_probe, bare_probe, invalid_probe};
use crate::finding::Finding;
use crate::http::{Http, Probe};
use crate::oracle::{Class, Sample};
use crate::report::{Report, Skipped};
use crate::scan::{Baseline, Baselines, RUNNING, Running, Scan};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};
use thiserror::Error;

pub use crate::evidence::curl_line;
// The entry point takes these; re-exported so a caller needs one path.
pub use crate::options::{BasicOptions, Credentials, JwtOptions, ScanOptions};

/// A check id and the root cause that explains it, declared in check metadata.
pub fn explained_reason(root: &CheckMeta) -> String {
    format!("explained by {}: {}", root.id, root.title.to_lowercase())
}

#[derive(Debug, Error)]
pub enum ScanError {
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    Invalid(String),
    /// The authorized baseline is not a success, or not apart from the refusals: every
    /// verdict would compare refusals with refusals, so the scan stops.
    #[error("{0}")]
    CredentialsRefused(String),
}

async fn take_baseline(http: &Http, label: &str, probe: Probe) -> Result<Baseline, ScanError> {
    let (a, b) = tokio::join!(http.exchange(probe.clone()), http.exchange(probe));
    let exchanges = vec![
        a.map_err(|e| ScanError::Invalid(e.to_string()))?,
        b.map_err(|e| ScanError::Invalid(e.to_string()))?,
    ];
    let class = Class::new(label, exchanges.iter().map(Sample::from_exchange).collect());
    Ok(Baseline { class, exchanges })
}

/// How long a probe may wait for its answer: ten times the slowest baseline answer, at
/// least 2 s (and never beyond `--timeout`). A server that decodes a token it cannot
/// parse into an exception it never answers would otherwise hold the scan for the whole
/// `--timeout` on every such probe; the check then says the probe got no answer.
fn answer_timeout(b: &Baselines) -> std::time::Duration {
    let slowest = [
        b.authorized.as_ref(),
        Some(&b.anonymous),
        b.transport_only.as_ref(),
        b.invalid.as_ref(),
        b.app_without_cert.as_ref(),
    ]
    .into_iter()
    .flatten()
    .flat_map(|b| b.exchanges.iter())
    .filter_map(|x| x.answer().map(|a| a.elapsed))
    .max()
    .unwrap_or_default();
    (slowest * 10).max(std::time::Duration::from_secs(2))
}

/// Progress counters the CLI may draw while the scan runs.
#[derive(Default)]
pub struct Progress {
    pub checks_total: AtomicUsize,
    pub checks_done: AtomicUsize,
}

pub fn needs_missing(meta_needs: &[Need], opts: &ScanOptions) -> Option<String> {
    fn met(n: &Need, opts: &ScanOptions) -> bool {
        match n {
            Need::Token => opts.creds.bearer.is_some(),
            Need::Basic => opts.creds.basic.is_some(),
            Need::Cert => opts.creds.client.is_some(),
            Need::CaKey => opts.creds.client_ca.is_some(),
            Need::Https => opts.target.scheme() == "https",
            Need::Spec => opts.spec.is_some(),
            Need::AnyOf(alts) => alts.iter().any(|a| met(a, opts)),
        }
    }
    meta_needs
        .iter()
        .find(|n| !met(n, opts))
        .map(|n| n.describe().into_owned())
}

/// The "explained by" reason when one of `meta`'s declared root causes was found.
fn explained(meta: &CheckMeta, done: &[(&'static CheckMeta, Outcome)]) -> Option<String> {
    meta.explained_by.iter().find_map(|root| {
        done.iter()
            .find(|(m, o)| m.id == *root && matches!(o, Outcome::Found(_)))
            .map(|(m, _)| explained_reason(m))
    })
}

/// The check's request budget for this scan, from its metadata and the sizes the user
/// chose (`--lockout-attempts`, `--basic-wordlist`); 0 for checks whose budget is not
/// counted in HTTP requests.
fn budget_of(meta: &CheckMeta, opts: &ScanOptions) -> usize {
    let attempts = u32::try_from(opts.basic.lockout_attempts).unwrap_or(u32::MAX);
    let pairs = u32::try_from(opts.basic.wordlist.len()).unwrap_or(u32::MAX);
    meta.budget
        .requests(attempts, pairs)
        .map_or(0, |n| n as usize)
}

async fn run_one(
    check: &dyn Check,
    ctx: &Scan,
    progress: &Progress,
    timings: &Timings,
) -> (&'static CheckMeta, Outcome) {
    let clock = Instant::now();
    let running = Arc::new(Running::with_budget(budget_of(check.meta(), ctx.opts())));
    let mut out = RUNNING.scope(running.clone(), check.run(ctx)).await;
    let n = running.unanswered.load(Ordering::Relaxed);
    let spent = running.spent.load(Ordering::Relaxed);
    if running.budget > 0
        && spent > running.budget
        && !matches!(out, Outcome::Found(_) | Outcome::NotApplicable(_))
    {
        // The check wanted more than its declared budget: what it did not send cannot
        // have ruled the flaw out, whatever it concluded from the rest.
        out = Outcome::Inconclusive(format!(
            "the check's request budget of {} ran out before it finished",
            running.budget
        ));
    } else if n > 0 && matches!(out, Outcome::Pass) {
        let first = running
            .first
            .lock()
            .ok()
            .and_then(|f| f.clone())
            .unwrap_or_default();
        out = Outcome::Inconclusive(format!(
            "{n} probe{} got no answer, so the flaw cannot be ruled out: {first}",
            if n == 1 { "" } else { "s" }
        ));
    }
    progress.checks_done.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut t) = timings.lock() {
        t.insert(
            check.meta().id.to_string(),
            clock.elapsed().as_millis() as u64,
        );
    }
    let verdict = match &out {
        Outcome::Pass => "pass".to_string(),
        Outcome::Found(f) => format!("found ({:?})", f.confidence),
        Outcome::Inconclusive(r) => format!("inconclusive: {r}"),
        Outcome::NotApplicable(r) => format!("not applicable: {r}"),
    };
    tracing::info!(
        check = check.meta().id,
        requests = running.spent.load(Ordering::Relaxed),
        "{verdict}"
    );
    (check.meta(), out)
}

/// Each check's run time by id; checks of one wave run concurrently, hence the lock.
type Timings = std::sync::Mutex<std::collections::BTreeMap<String, u64>>;

pub async fn scan(opts: ScanOptions, progress: Arc<Progress>) -> Result<Report, ScanError> {
    let registry = checks::registry()
        .into_iter()
        .filter(|c| checks::selected(&opts.only, c.meta().id))
        .collect();
    scan_with(opts, registry, progress).await
}

pub async fn scan_with(
    opts: ScanOptions,
    registry: Vec<Box<dyn Check>>,
    progress: Arc<Progress>,
) -> Result<Report, ScanError> {
    let http = Arc::new(
        Http::new(opts.limits.clone(), opts.tls.clone())
            .with_proxy(opts.proxy.clone())
            .with_guard(opts.guard.clone()),
    );
    scan_on(opts, registry, progress, http).await
}

/// [`scan_with`] over an HTTP client shared with other scans (the operations of one API):
/// one request budget, one deadline and one limiter per host for all of them.
pub async fn scan_on(
    opts: ScanOptions,
    registry: Vec<Box<dyn Check>>,
    progress: Arc<Progress>,
    http: Arc<Http>,
) -> Result<Report, ScanError> {
    let started_at = SystemTime::now();
    let clock = Instant::now();
    mistakes::check_plain_http_credentials(&opts)?;

    let authorized = opts
        .creds
        .has_any()
        .then(|| authorized_probe(&opts, &opts.method));
    let transport_only = (opts.creds.client.is_some() && opts.creds.has_app_credentials())
        .then(|| bare_probe(&opts, &opts.method).with_identity(opts.creds.client.clone()));
    let app_without_cert = (opts.creds.client.is_some() && opts.creds.has_app_credentials())
        .then(|| authorized_probe(&opts, &opts.method).with_identity(None));
    let invalid = invalid_probe(&opts);

    let optional = |p: Option<Probe>, label: &'static str| {
        let http = &http;
        async move {
            match p {
                Some(p) => take_baseline(http, label, p).await.map(Some),
                None => Ok(None),
            }
        }
    };
    // An http:// target is first asked without credentials: if all it does is redirect
    // to HTTPS, the scan stops before any credential crosses the wire in clear.
    let mut anonymous_first = None;
    if opts.target.scheme() == "http" {
        let b = take_baseline(&http, "anonymous", bare_probe(&opts, &opts.method)).await?;
        if let Some(to) = mistakes::https_redirect(&opts.target, &b) {
            return Err(mistakes::redirect_error(&opts.target, &to));
        }
        anonymous_first = Some(b);
    }
    let anonymous = async {
        match anonymous_first {
            Some(b) => Ok(b),
            None => take_baseline(&http, "anonymous", bare_probe(&opts, &opts.method)).await,
        }
    };
    let (authorized, anonymous, transport_only, invalid, app_without_cert) = tokio::join!(
        optional(authorized, "authorized"),
        anonymous,
        optional(transport_only, "certificate without token"),
        optional(invalid, "invalid credentials"),
        optional(app_without_cert, "credentials without a certificate"),
    );
    let baselines = Baselines {
        authorized: authorized?,
        anonymous: anonymous?,
        transport_only: transport_only?,
        invalid: invalid?,
        app_without_cert: app_without_cert?,
    };
    // If the authorized request cannot even be delivered, nothing else means anything.
    let reference = baselines
        .authorized
        .as_ref()
        .unwrap_or(&baselines.anonymous);
    if reference
        .exchanges
        .iter()
        .all(|x| x.result.as_ref().is_err_and(|e| !e.is_refusal()))
    {
        let first = reference.exchanges[0].result.as_ref().err();
        let err = first.map(|e| e.to_string()).unwrap_or_default();
        let hint = mistakes::unreachable_hint(&opts, first, opts.limits.timeout).await;
        return Err(ScanError::Unreachable(format!(
            "cannot reach {}: {err}{hint}",
            opts.target
        )));
    }
    if opts.target.scheme() == "http"
        && let Some(e) =
            mistakes::bad_request_from_tls_port(&opts, reference, opts.limits.timeout).await
    {
        return Err(e);
    }
    preflight::check(&opts, &baselines)?;
    tracing::info!(target = %opts.target, "baselines taken; the credentials are accepted");
    http.set_answer_timeout(answer_timeout(&baselines));

    let ctx = Scan::new(opts, http, baselines);

    let mut runnable = Vec::new();
    let mut skipped = Vec::new();
    for check in &registry {
        let meta = check.meta();
        match needs_missing(meta.needs, ctx.opts()) {
            Some(reason) => skipped.push(Skipped {
                id: meta.id.to_string(),
                reason,
            }),
            None => runnable.push(check),
        }
    }
    progress
        .checks_total
        .store(runnable.len(), Ordering::Relaxed);
    let (last, concurrent): (Vec<_>, Vec<_>) =
        runnable.into_iter().partition(|c| c.phase() == Phase::Last);
    // Root causes run before the checks they explain (CheckMeta::explained_by), wave by
    // wave; a check whose root was found is not run: its result is implied.
    let mut outcomes: Vec<(&'static CheckMeta, Outcome)> = Vec::new();
    let timings = Timings::default();
    let mut pending: Vec<&dyn Check> = concurrent.into_iter().map(|c| c.as_ref()).collect();
    while !pending.is_empty() {
        let waiting_on = |c: &dyn Check| {
            c.meta()
                .explained_by
                .iter()
                .any(|root| pending.iter().any(|p| p.meta().id == *root))
        };
        let (ready, later): (Vec<&dyn Check>, Vec<&dyn Check>) =
            pending.iter().partition(|c| !waiting_on(**c));
        // A cycle in the declarations would leave nothing ready: run the rest as they are.
        let (ready, later) = if ready.is_empty() {
            (later, Vec::new())
        } else {
            (ready, later)
        };
        let mut wave = Vec::new();
        for c in ready {
            match explained(c.meta(), &outcomes) {
                Some(reason) => {
                    progress.checks_done.fetch_add(1, Ordering::Relaxed);
                    outcomes.push((c.meta(), Outcome::Inconclusive(reason)));
                }
                None => wave.push(c),
            }
        }
        outcomes.extend(
            futures::future::join_all(
                wave.into_iter()
                    .map(|c| run_one(c, &ctx, &progress, &timings)),
            )
            .await,
        );
        pending = later;
    }
    // Checks that change the server's state for the user's account run after every
    // other check, one at a time, so a throttle they trip cannot disturb anyone.
    for c in last {
        match explained(c.meta(), &outcomes) {
            Some(reason) => outcomes.push((c.meta(), Outcome::Inconclusive(reason))),
            None => outcomes.push(run_one(c.as_ref(), &ctx, &progress, &timings).await),
        }
    }

    let mut folded = Folded::from_outcomes(outcomes);
    folded.skipped.splice(0..0, skipped);
    let opts = ctx.opts();
    let facts = ctx.facts();
    let tls = facts
        .tls
        .get()
        .and_then(|r| r.as_ref().ok())
        .map(|f| crate::report::tls::TlsSection::from_facts(f));
    let mut report = Report::build(
        opts.target.to_string(),
        ctx.requests_sent(),
        started_at,
        clock.elapsed(),
        folded.findings,
        folded.run,
        folded.skipped,
        folded.inconclusive,
        tls,
    );
    report.client_auth = facts.client_auth.section();
    report.check_durations_ms = timings.into_inner().unwrap_or_default();
    report.variables = ctx.variables();
    if !opts.show_secrets {
        report.redact(&opts.creds.secrets());
    }
    Ok(report)
}

mod tls;
pub use tls::{TlsScanOptions, tls_scan};

/// Outcomes sorted into the report's lists: a check that decided, or could not, ran; one
/// that did not apply was skipped.
pub(crate) struct Folded {
    pub(crate) findings: Vec<Finding>,
    pub(crate) run: Vec<&'static CheckMeta>,
    pub(crate) skipped: Vec<Skipped>,
    pub(crate) inconclusive: Vec<Skipped>,
}

impl Folded {
    pub(crate) fn from_outcomes(outcomes: Vec<(&'static CheckMeta, Outcome)>) -> Self {
        let mut f = Self {
            findings: Vec::new(),
            run: Vec::new(),
            skipped: Vec::new(),
            inconclusive: Vec::new(),
        };
        for (meta, out) in outcomes {
            let because = |reason| Skipped {
                id: meta.id.to_string(),
                reason,
            };
            match out {
                Outcome::Pass => f.run.push(meta),
                Outcome::Found(finding) => {
                    f.run.push(meta);
                    f.findings.push(*finding);
                }
                Outcome::Inconclusive(reason) => {
                    f.run.push(meta);
                    f.inconclusive.push(because(reason));
                }
                Outcome::NotApplicable(reason) => f.skipped.push(because(reason)),
            }
        }
        f
    }
}
