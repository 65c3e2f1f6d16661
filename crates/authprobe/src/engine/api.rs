//! Whole-API scans from an API description (`--spec`): every operation's declared security
//! is compared with what the server enforces.
//!
//! * The light enforcement checks ([`ENFORCEMENT`]) run on every operation whose declared
//!   security is not public, each with its own baselines, so a verdict on one operation
//!   is never judged against another operation's answers.
//! * The deep suites (`jwt.*`, `mtls.*`, `basic.*`, `tls.*`, `spec.*`) test a verifier,
//!   not a route: they run once per origin and credential, on the first operation of that
//!   group, and their findings name every operation of the group.
//! * One HTTP client serves the whole run: one `--max-requests`, one `--max-time`, and
//!   each host's `--concurrency` and `--rate` hold across operations.
//!
//! The budget policy (docs/scoring.md, "Budget"): the deep suites come first; then
//! operations are probed in the description's order while what is left of the budget
//! covers one operation's worst case; the others are listed as not probed, never dropped.

use super::{Progress, ScanError, budget_of, scan_on};
use crate::check::{Check, CheckMeta};
use crate::checks;
use crate::finding::{Family, Finding};
use crate::http::{Body, Http, SENT_HERE};
use crate::options::{ApiKey, Credentials, KeyLocation, ScanOptions};
use crate::report::api::{ApiKind, ApiSummary, BudgetUse, OperationReport, OperationStatus};
use crate::report::{Report, Skipped, score};
use crate::spec::{ApiSpec, CredentialKind, Declared, Operation, Requirement};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};
use url::Url;

/// The checks that test whether one operation enforces authentication at all; they run
/// on every protected operation (CATALOG.md, "With a spec").
pub const ENFORCEMENT: &[&str] = &[
    "auth.missing",
    "auth.method_bypass",
    "auth.malformed_token_accepted",
    "jwt.token_in_url",
    "mtls.not_required",
];

const NOT_REQUIRED: &str = "mtls.not_required";

/// A group's state-changing checks, kept for the end of the run: the operation's options,
/// the operations the group covers, and the checks.
type LastRun = (ScanOptions, Vec<String>, Vec<Box<dyn Check>>);

/// The requests the deep suites of one group may send when the user set no
/// `--max-requests`: a single-URL scan's default.
pub const DEEP_SUITE_DEFAULT_BUDGET: usize = 600;

/// A whole-API scan's input beside the scan options.
pub struct ApiScan {
    pub spec: Arc<ApiSpec>,
    /// Where the operations' paths are resolved (BASE_URL, or the description's server).
    pub base: Url,
    /// Whether `--max-requests` was given: if not, the budget grows with the operations.
    pub budget_given: bool,
    /// Whether `--max-time` was given: if not, it grows with the budget (at `--rate`).
    pub time_given: bool,
}

/// The request budget of the run ([`DEEP_SUITE_DEFAULT_BUDGET`] per deep-suite group plus
/// each operation's worst case) unless `--max-requests` was given.
fn run_budget(groups: usize, to_probe: usize, per_op: usize) -> usize {
    DEEP_SUITE_DEFAULT_BUDGET
        .saturating_mul(groups.max(1))
        .saturating_add(per_op.saturating_mul(to_probe))
}

/// The run's request budget: `--max-requests` when given, else [`run_budget`].
fn budget_for(opts: &ScanOptions, api: &ApiScan, plan: &[Planned]) -> usize {
    if api.budget_given {
        return opts.limits.max_requests;
    }
    let to_probe = plan
        .iter()
        .filter(|x| matches!(x.verdict, Plan::Probe(..)))
        .count();
    run_budget(
        deep_groups(plan).len(),
        to_probe,
        per_operation_budget(opts),
    )
}

/// The run's time limit: `--max-time` when given; otherwise the single-URL default or,
/// when longer, twice what the request budget takes at `--rate` (a thousand operations at
/// 100 requests a second need minutes, and a default that cut them off would list most
/// as not probed). At most 24 h.
fn time_for(opts: &ScanOptions, api: &ApiScan, budget: usize) -> std::time::Duration {
    let max = opts.limits.max_time;
    if api.time_given || opts.limits.rate <= 0.0 {
        return max;
    }
    let needed = std::time::Duration::from_secs_f64(2.0 * budget as f64 / opts.limits.rate);
    max.max(needed)
        .min(std::time::Duration::from_secs(24 * 3600))
}

/// [`time_for`] the run `scan_api` will make, for a caller that supervises it.
pub fn time_limit(opts: &ScanOptions, api: &ApiScan) -> std::time::Duration {
    let p = plan(&api.spec, api, opts);
    time_for(opts, api, budget_for(opts, api, &p))
}

/// One deep-suite group per origin and credential, on its first safe operation (key,
/// index in the plan).
fn deep_groups(plan: &[Planned]) -> Vec<(String, usize)> {
    let mut groups: Vec<(String, usize)> = Vec::new();
    for (i, p) in plan.iter().enumerate() {
        if let Some(key) = &p.group
            && p.op.is_safe()
            && !groups.iter().any(|(k, _)| k == key)
        {
            groups.push((key.clone(), i));
        }
    }
    groups
}

/// The operations to probe in the deep-suite group `key`: what its suite speaks for.
fn in_group<'p, 'a>(
    plan: &'p [Planned<'a>],
    key: &'p str,
) -> impl Iterator<Item = &'p Planned<'a>> {
    plan.iter().filter(move |q| q.group.as_deref() == Some(key))
}

/// What a run streams as it goes (`--format jsonl`).
pub enum Event<'a> {
    Finding(&'a Finding),
    Operation(&'a OperationReport),
}

/// One operation and what the plan decided for it.
struct Planned<'a> {
    op: &'a Operation,
    url: Option<Url>,
    declared: String,
    verdict: Plan,
    /// The deep-suite group (origin and credential) of an operation to probe.
    group: Option<String>,
}

enum Plan {
    /// Probe it with these credentials (only those its declared security asks for).
    Probe(Box<Credentials>, Option<Body>),
    NotProbed(OperationStatus, String),
}

/// Whether `mtls.not_required` may judge this operation: where the description can say
/// that a client certificate is required (it defines a mutualTLS scheme), only where it
/// does say so for the operation; where it cannot (Swagger 2.0, OpenAPI 3.0 without one),
/// the certificate the user gave is the only claim, so the check runs once with the deep
/// suites, as it would on one URL, and never on each operation: a login route that takes
/// a password without a certificate may well be meant that way.
fn certificate_declared(spec: &ApiSpec, op: &Operation) -> Option<bool> {
    let defines = spec
        .schemes
        .values()
        .any(|s| matches!(s, crate::spec::SecurityScheme::MutualTls));
    if !defines {
        return None;
    }
    Some(match &op.security {
        Declared::Required(alts) => alts.iter().any(|a| {
            a.schemes.iter().any(|n| {
                matches!(
                    spec.schemes.get(n),
                    Some(crate::spec::SecurityScheme::MutualTls)
                )
            })
        }),
        _ => false,
    })
}

/// Who is allowed to be scanned with which credential: what one deep suite covers.
fn group_key(url: &Url, creds: &Credentials) -> String {
    format!(
        "{}|{}{}{}{}",
        url.origin().ascii_serialization(),
        u8::from(creds.bearer.is_some()),
        u8::from(creds.basic.is_some()),
        u8::from(creds.client.is_some()),
        creds
            .api_keys
            .iter()
            .map(|k| k.name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// The user's credentials narrowed to one alternative of what `op` declares, or why none
/// of them fits. The client certificate stays whatever the operation asks: it is how the
/// connection is made, and a server that wants one refuses the handshake without it.
fn credentials_for(
    spec: &ApiSpec,
    op: &Operation,
    given: &Credentials,
    alternatives: &[Requirement],
) -> Result<Credentials, String> {
    if !given.has_any() {
        // Nothing to present: the enforcement checks still compare the anonymous answer
        // with an invalid credential's (tentative findings).
        return Ok(given.clone());
    }
    'alt: for alt in alternatives {
        let mut c = Credentials {
            bearer: None,
            basic: None,
            api_keys: Vec::new(),
            ..given.clone()
        };
        for name in &alt.schemes {
            let Some(kind) = spec.schemes.get(name).and_then(crate::spec::scheme_needs) else {
                continue 'alt;
            };
            match kind {
                CredentialKind::Bearer if given.bearer.is_some() => c.bearer = given.bearer.clone(),
                CredentialKind::Basic if given.basic.is_some() => c.basic = given.basic.clone(),
                CredentialKind::ClientCert if given.client.is_some() => {}
                // Swagger 2.0 has no bearer scheme: the usual stand-in is an apiKey in the
                // Authorization header, which is what --bearer sends.
                CredentialKind::ApiKey {
                    name,
                    location: KeyLocation::Header,
                } if name.eq_ignore_ascii_case("authorization") && given.bearer.is_some() => {
                    c.bearer = given.bearer.clone();
                }
                CredentialKind::ApiKey { name, location } => {
                    let Some(k) = given
                        .api_keys
                        .iter()
                        .find(|k| k.name.eq_ignore_ascii_case(&name))
                    else {
                        continue 'alt;
                    };
                    c.api_keys.push(ApiKey {
                        name,
                        value: k.value.clone(),
                        location,
                    });
                }
                _ => continue 'alt,
            }
        }
        return Ok(c);
    }
    Err(format!(
        "{} declares {}; none of the credentials given satisfies it (--bearer, --basic, --api-key NAME=VALUE, --client-cert)",
        op.label(),
        op.security.describe()
    ))
}

/// The body of an unsafe operation, when it has one authprobe can build.
fn body_for(op: &Operation) -> Result<Option<Body>, String> {
    let Some(b) = &op.body else { return Ok(None) };
    let ct = b.content_type.to_ascii_lowercase();
    if ct.contains("json") {
        return Ok(Some(Body {
            content_type: b.content_type.clone(),
            bytes: serde_json::to_vec(&b.example).unwrap_or_default(),
        }));
    }
    if ct == "application/x-www-form-urlencoded" {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        if let Some(obj) = b.example.as_object() {
            for (k, v) in obj {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                form.append_pair(k, &v);
            }
        }
        return Ok(Some(Body {
            content_type: b.content_type.clone(),
            bytes: form.finish().into_bytes(),
        }));
    }
    if b.required {
        Err(format!(
            "requires a {} body, which authprobe does not build",
            b.content_type
        ))
    } else {
        Ok(None)
    }
}

fn plan<'a>(spec: &'a ApiSpec, api: &ApiScan, opts: &ScanOptions) -> Vec<Planned<'a>> {
    // A description that declares no security anywhere says nothing about which
    // operations are protected: each is probed with the credentials given, as one URL
    // would be. One that declares it for some operations and not others is read as it
    // says (spec.security_undeclared names the others).
    let declares_any = spec
        .operations
        .iter()
        .any(|o| !matches!(o.security, Declared::Undeclared));
    spec.operations
        .iter()
        .map(|op| {
            let url = op.url(&api.base);
            let declared = op.security.describe();
            let not = |s: OperationStatus, r: String| Plan::NotProbed(s, r);
            let verdict = match (&url, &op.security) {
                (Err(e), _) => not(OperationStatus::Skipped, format!("no URL to probe: {e}")),
                (_, Declared::Public) => not(
                    OperationStatus::Public,
                    "declared public (security: []): not probed as protected".into(),
                ),
                (_, Declared::Undeclared) if declares_any => not(
                    OperationStatus::Skipped,
                    "declares no security while other operations do (spec.security_undeclared): not probed as protected".into(),
                ),
                _ if !op.is_safe() && !opts.allow_unsafe_methods => not(
                    OperationStatus::Skipped,
                    format!(
                        "unsafe method {}: not sent without --allow-unsafe-methods",
                        op.method
                    ),
                ),
                (Ok(_), security) => {
                    let alternatives: Vec<Requirement> = match security {
                        Declared::Required(alts) => alts.clone(),
                        _ => Vec::new(),
                    };
                    let creds = if alternatives.is_empty() {
                        Ok(opts.creds.clone())
                    } else {
                        credentials_for(spec, op, &opts.creds, &alternatives)
                    };
                    match (creds, body_for(op)) {
                        (Ok(c), Ok(body)) => Plan::Probe(Box::new(c), body),
                        (Err(e), _) | (_, Err(e)) => not(OperationStatus::Skipped, e),
                    }
                }
            };
            let group = match (&verdict, &url) {
                (Plan::Probe(c, _), Ok(u)) => Some(group_key(u, c)),
                _ => None,
            };
            Planned {
                op,
                url: url.ok(),
                declared,
                verdict,
                group,
            }
        })
        .collect()
}

/// The requests one operation's enforcement checks may send: their baselines (each taken
/// twice) and each check's declared budget.
fn per_operation_budget(opts: &ScanOptions) -> usize {
    let c = &opts.creds;
    let mut baselines = 2; // anonymous
    if c.has_any() {
        baselines += 2;
    }
    if c.client.is_some() && c.has_app_credentials() {
        baselines += 4;
    }
    if c.client.is_none() || c.has_app_credentials() {
        baselines += 2;
    }
    baselines
        + checks::registry()
            .iter()
            .filter(|c| ENFORCEMENT.contains(&c.meta().id))
            .map(|c| budget_of(c.meta(), opts))
            .sum::<usize>()
}

fn op_options(
    base: &ScanOptions,
    url: &Url,
    op: &Operation,
    creds: &Credentials,
    body: &Option<Body>,
) -> ScanOptions {
    let mut o = base.clone();
    o.target = url.clone();
    o.creds = creds.clone();
    o.method = op.method.clone();
    o.body = body.clone();
    o.declared_protected = op.security.is_required();
    o
}

/// The checks `ids` accepts, of the phase asked: `last` for those that change the
/// server's state for the user's account (they run after every operation was probed, so a
/// throttle they trip cannot refuse the operations' credentials).
fn registry_of(
    ids: impl Fn(&CheckMeta) -> bool,
    only: &[String],
    last: bool,
) -> Vec<Box<dyn Check>> {
    checks::registry()
        .into_iter()
        .filter(|c| {
            ids(c.meta())
                && checks::selected(only, c.meta().id)
                && (c.phase() == crate::check::Phase::Last) == last
        })
        .collect()
}

/// Runs `scan_on` counting the requests it sends itself.
async fn counted(
    opts: ScanOptions,
    registry: Vec<Box<dyn Check>>,
    http: Arc<Http>,
) -> (Result<Report, ScanError>, usize) {
    let n = Arc::new(AtomicUsize::new(0));
    let r = SENT_HERE
        .scope(
            n.clone(),
            scan_on(opts, registry, Arc::new(Progress::default()), http),
        )
        .await;
    (r, n.load(Ordering::Relaxed))
}

fn operation_report(
    p: &Planned,
    status: OperationStatus,
    reason: Option<String>,
) -> OperationReport {
    let mut r = OperationReport::new(
        p.op.label(),
        p.op.method.clone(),
        p.url.as_ref().map(Url::to_string).unwrap_or_default(),
        status,
    );
    r.reason = reason;
    r.path = Some(p.op.path.clone());
    r.operation_id = p.op.operation_id.clone();
    r.tags = p.op.tags.clone();
    r.declared_security = Some(p.declared.clone());
    r
}

/// Fills `r` from a finished scan of the operation: its checks and findings, each finding
/// naming the operation and, for an enforcement check, the declared security.
fn fill_from(r: &mut OperationReport, report: Report, declared: &str, requests: usize) {
    r.status = OperationStatus::Probed;
    r.reason = None;
    r.score = Some(report.score);
    r.grade = Some(report.grade);
    r.requests_sent = requests;
    r.checks_run = report.checks_run;
    r.inconclusive = report.inconclusive;
    r.checks_skipped = report.checks_skipped;
    r.findings = report
        .findings
        .into_iter()
        .map(|mut f| {
            f.operations = vec![r.id.clone()];
            if ENFORCEMENT.contains(&f.id.as_str()) {
                f.description.push_str(&format!(
                    "\nThe API description declares {declared} for {}.",
                    r.id
                ));
            }
            f
        })
        .collect();
}

/// Adds the checks of `ids` to `run`, each once (a check run on many operations or for
/// several credentials is one check run).
pub(super) fn note_run<'a>(
    run: &mut Vec<&'static CheckMeta>,
    ids: impl IntoIterator<Item = &'a String>,
) {
    for m in ids.into_iter().filter_map(|id| checks::meta(id)) {
        if !run.iter().any(|d| d.id == m.id) {
            run.push(m);
        }
    }
}

/// The whole API's score: each check counted once, at its costliest instance, however
/// many operations show it (docs/scoring.md): the score says which weaknesses the API has,
/// the operations table how far each reaches.
pub fn whole_score(findings: &[Finding], checks_run: &[&'static CheckMeta]) -> score::Scored {
    let mut worst: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in findings {
        let e = worst.entry(f.id.as_str()).or_insert(f);
        if score::cost(f) > score::cost(e) {
            *e = f;
        }
    }
    let once: Vec<Finding> = worst.into_values().cloned().collect();
    score::score(&once, checks_run)
}

pub async fn scan_api(
    mut opts: ScanOptions,
    api: ApiScan,
    progress: Arc<Progress>,
    sink: &mut (dyn FnMut(Event) + Send),
) -> Result<Report, ScanError> {
    let started_at = SystemTime::now();
    let clock = Instant::now();
    opts.spec = Some(api.spec.clone());
    let spec = api.spec.clone();
    let plan = plan(&spec, &api, &opts);

    let mut groups = deep_groups(&plan);
    // The API's main credential first: its group runs the checks that speak for the
    // whole API once (spec.*, and mtls.not_required where the description cannot say
    // which operations need a certificate).
    groups.sort_by_key(|(k, _)| std::cmp::Reverse(in_group(&plan, k).count()));
    let per_op = per_operation_budget(&opts);
    let to_probe = plan
        .iter()
        .filter(|p| matches!(p.verdict, Plan::Probe(..)))
        .count();
    let max_requests = budget_for(&opts, &api, &plan);
    opts.limits.max_time = time_for(&opts, &api, max_requests);
    opts.limits.max_requests = max_requests;
    let http = Arc::new(
        Http::new(opts.limits.clone(), opts.tls.clone())
            .with_proxy(opts.proxy.clone())
            .with_guard(opts.guard.clone()),
    );
    progress
        .checks_total
        .store(to_probe + groups.len(), Ordering::Relaxed);

    let mut reports: Vec<OperationReport> = plan
        .iter()
        .map(|p| match &p.verdict {
            Plan::NotProbed(s, r) => operation_report(p, *s, Some(r.clone())),
            Plan::Probe(..) => operation_report(p, OperationStatus::Probed, None),
        })
        .collect();

    // What the plan already decided is finished: streamed first.
    for r in reports
        .iter()
        .filter(|r| r.status != OperationStatus::Probed)
    {
        sink(Event::Operation(r));
    }

    // The deep suites first: a refused credential here stops the whole scan, as it
    // would for one URL.
    let mut deep_findings: Vec<Finding> = Vec::new();
    let mut deep_run: Vec<&'static CheckMeta> = Vec::new();
    let mut deep_skipped: Vec<Skipped> = Vec::new();
    let mut deep_inconclusive: Vec<Skipped> = Vec::new();
    let mut first_deep: Option<Report> = None;
    let mut deep_spent = 0;
    let mut origins_done: Vec<String> = Vec::new();
    let mut deep_ops = Vec::new();
    let mut last_runs: Vec<LastRun> = Vec::new();
    // What every `${AUTHPROBE_…}` of every operation's evidence holds (`--secrets-file`):
    // each credential group has its own.
    let mut variables = BTreeMap::new();
    for (gi, (key, i)) in groups.iter().enumerate() {
        let p = &plan[*i];
        let (Plan::Probe(creds, body), Some(url)) = (&p.verdict, &p.url) else {
            continue;
        };
        let origin = url.origin().ascii_serialization();
        let tls_again = origins_done.contains(&origin);
        let cert = certificate_declared(&spec, p.op);
        let wanted = move |m: &CheckMeta| {
            let once_done =
                (m.family == Family::Spec && gi > 0) || (m.family == Family::Tls && tls_again);
            !once_done
                && !(m.id == NOT_REQUIRED && (cert == Some(false) || (cert.is_none() && gi > 0)))
        };
        let registry = registry_of(wanted, &opts.only, false);
        let o = op_options(&opts, url, p.op, creds, body);
        let (result, spent) = counted(o.clone(), registry, http.clone()).await;
        deep_spent += spent;
        let report = result?;
        variables.extend(report.variables.clone());
        progress.checks_done.fetch_add(1, Ordering::Relaxed);
        origins_done.push(origin);
        deep_ops.push(p.op.label());
        // Who this suite speaks for: every probed operation of its group.
        let covered: Vec<String> = in_group(&plan, key).map(|q| q.op.label()).collect();
        last_runs.push((o, covered.clone(), registry_of(wanted, &opts.only, true)));
        let (own, wide): (Vec<Finding>, Vec<Finding>) = report
            .findings
            .iter()
            .cloned()
            .partition(|f| ENFORCEMENT.contains(&f.id.as_str()));
        for mut f in wide {
            f.operations = if f.id.starts_with("spec.") {
                Vec::new()
            } else {
                covered.clone()
            };
            sink(Event::Finding(&f));
            deep_findings.push(f);
        }
        note_run(
            &mut deep_run,
            report
                .checks_run
                .iter()
                .filter(|id| !ENFORCEMENT.contains(&id.as_str())),
        );
        let not_enforcement = |s: &Skipped| !ENFORCEMENT.contains(&s.id.as_str());
        deep_skipped.extend(
            report
                .checks_skipped
                .iter()
                .filter(|s| not_enforcement(s))
                .cloned(),
        );
        deep_inconclusive.extend(
            report
                .inconclusive
                .iter()
                .filter(|s| not_enforcement(s))
                .cloned(),
        );
        // The deep run's enforcement checks are that operation's own.
        let mut own_report = report.clone();
        own_report.findings = own;
        own_report
            .checks_run
            .retain(|id| ENFORCEMENT.contains(&id.as_str()));
        own_report.inconclusive.retain(|s| !not_enforcement(s));
        own_report.checks_skipped.retain(|s| !not_enforcement(s));
        let metas: Vec<&'static CheckMeta> = own_report
            .checks_run
            .iter()
            .filter_map(|id| checks::meta(id))
            .collect();
        let s = score::score(&own_report.findings, &metas);
        own_report.score = s.score;
        own_report.grade = s.grade;
        fill_from(&mut reports[*i], own_report, &p.declared, spent);
        for f in &reports[*i].findings {
            sink(Event::Finding(f));
        }
        sink(Event::Operation(&reports[*i]));
        if first_deep.is_none() {
            first_deep = Some(report);
        }
    }

    // Then every other protected operation, in order, while the budget lasts.
    let deep_indices: Vec<usize> = groups.iter().map(|(_, i)| *i).collect();
    let pending: Vec<usize> = (0..plan.len())
        .filter(|i| matches!(plan[*i].verdict, Plan::Probe(..)) && !deep_indices.contains(i))
        .collect();
    let in_flight = opts.limits.concurrency.clamp(1, 4);
    let mut next = 0;
    while next < pending.len() {
        let left = max_requests.saturating_sub(http.requests_sent());
        let affordable = (left / per_op.max(1)).min(in_flight);
        if affordable == 0 || http.time_left().is_some_and(|t| t.is_zero()) {
            let why = if affordable == 0 {
                format!(
                    "the request budget ran out: {left} of --max-requests {max_requests} left, and one operation's checks may need {per_op}"
                )
            } else {
                "--max-time ran out before this operation's turn".to_string()
            };
            for &i in &pending[next..] {
                let r = &mut reports[i];
                r.status = OperationStatus::NotProbedBudget;
                r.reason = Some(why.clone());
                sink(Event::Operation(r));
            }
            break;
        }
        let batch: Vec<usize> = pending[next..].iter().take(affordable).copied().collect();
        next += batch.len();
        let runs = batch.iter().map(|&i| {
            let p = &plan[i];
            let http = http.clone();
            let only = opts.only.clone();
            let o = match (&p.verdict, &p.url) {
                (Plan::Probe(c, b), Some(url)) => Some(op_options(&opts, url, p.op, c, b)),
                _ => None,
            };
            let cert = certificate_declared(&spec, p.op) == Some(true);
            async move {
                let registry = registry_of(
                    |m| ENFORCEMENT.contains(&m.id) && (m.id != NOT_REQUIRED || cert),
                    &only,
                    false,
                );
                match o {
                    Some(o) => Some(counted(o, registry, http).await),
                    None => None,
                }
            }
        });
        let done = futures::future::join_all(runs).await;
        for (&i, out) in batch.iter().zip(done) {
            let Some((result, spent)) = out else { continue };
            let declared = plan[i].declared.clone();
            let r = &mut reports[i];
            match result {
                Ok(mut report) => {
                    variables.extend(std::mem::take(&mut report.variables));
                    fill_from(r, report, &declared, spent);
                }
                Err(e) => {
                    r.status = OperationStatus::Failed;
                    r.requests_sent = spent;
                    r.reason = Some(match e {
                        ScanError::CredentialsRefused(m) => {
                            format!("the credentials are refused for this operation: {m}")
                        }
                        other => other.to_string(),
                    });
                }
            }
            for f in &r.findings {
                sink(Event::Finding(f));
            }
            sink(Event::Operation(r));
            progress.checks_done.fetch_add(1, Ordering::Relaxed);
        }
    }

    // Last, the checks that change the server's state for the user's account (failed
    // logins), once per group, after every operation had its turn.
    let mut late_warnings = Vec::new();
    for (o, covered, registry) in last_runs {
        if registry.is_empty() {
            continue;
        }
        let ids: Vec<&str> = registry.iter().map(|c| c.meta().id).collect();
        let ids = ids.join(", ");
        let (result, spent) = counted(o, registry, http.clone()).await;
        deep_spent += spent;
        match result {
            Ok(report) => {
                variables.extend(report.variables);
                for mut f in report.findings {
                    f.operations = covered.clone();
                    sink(Event::Finding(&f));
                    deep_findings.push(f);
                }
                note_run(&mut deep_run, &report.checks_run);
                deep_skipped.extend(report.checks_skipped);
                deep_inconclusive.extend(report.inconclusive);
            }
            Err(e) => late_warnings.push(format!("{ids} could not run: {e}")),
        }
    }
    // A check that ran for one credential and not for another ran: it is not skipped; and
    // each is listed once.
    deep_skipped.retain(|s| !deep_run.iter().any(|m| m.id == s.id));
    let mut seen = std::collections::BTreeSet::new();
    deep_skipped.retain(|s| seen.insert(s.id.clone()));
    let mut seen = std::collections::BTreeSet::new();
    deep_inconclusive.retain(|s| seen.insert(s.id.clone()));

    // The report: the API-wide findings and every operation's, one score for the whole.
    let mut findings = deep_findings;
    findings.extend(reports.iter().flat_map(|r| r.findings.iter().cloned()));
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
    let mut run = deep_run;
    note_run(&mut run, reports.iter().flat_map(|r| &r.checks_run));
    let count = |s: OperationStatus| reports.iter().filter(|r| r.status == s).count();
    let summary = ApiSummary {
        kind: ApiKind::Openapi,
        source: spec.source.clone(),
        title: Some(spec.title.clone()).filter(|t| !t.is_empty()),
        spec_version: Some(spec.version.as_str().to_string()),
        base_url: Some(api.base.to_string()),
        operations_total: reports.len(),
        probed: count(OperationStatus::Probed),
        public: count(OperationStatus::Public),
        skipped: count(OperationStatus::Skipped),
        not_probed_budget: count(OperationStatus::NotProbedBudget),
        failed: count(OperationStatus::Failed),
        deep_suite_operation: (!deep_ops.is_empty()).then(|| deep_ops.join(", ")),
        budget: Some(BudgetUse {
            max_requests,
            per_operation: per_op,
            deep_suite: deep_spent,
        }),
    };
    let mut report = Report::build(
        api.base.to_string(),
        http.requests_sent(),
        started_at,
        clock.elapsed(),
        Vec::new(),
        run.clone(),
        deep_skipped,
        deep_inconclusive,
        None,
    );
    let scored = whole_score(&findings, &run);
    report.score = scored.score;
    report.grade = scored.grade;
    report.grade_caps = scored.caps;
    report.categories = scored.categories;
    report.findings = findings;
    if let Some(first) = first_deep {
        report.tls = first.tls;
        report.client_auth = first.client_auth;
        report.check_durations_ms = first.check_durations_ms;
    }
    report.variables = variables;
    if groups.is_empty() {
        report.warnings.push(
            "no operation could be probed with the credentials given, so the deep suites (jwt, mtls, basic, tls) did not run"
                .into(),
        );
    }
    if summary.not_probed_budget > 0 {
        report.warnings.push(format!(
            "{} operation{} not probed: the request budget ran out (--max-requests {max_requests}); each is listed with the reason",
            summary.not_probed_budget,
            if summary.not_probed_budget == 1 { " was" } else { "s were" }
        ));
    }
    report.warnings.extend(late_warnings);
    report.api = Some(summary);
    report.operations = reports;
    if !opts.show_secrets {
        report.redact(&opts.creds.secrets());
    }
    Ok(report)
}
