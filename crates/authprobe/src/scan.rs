//! The scan handle a check runs with ([`Scan`]), the baselines it is judged against, and
//! the one refusal policy ([`Compare`]): which refused baselines a probe is told apart
//! from, by what the probe changed.

use crate::callback::Callback;
use crate::creds;
use crate::facts::Facts;
use crate::http::{Exchange, Http, Probe, SendError, Value};
use crate::options::ScanOptions;
use crate::oracle::{Class, Oracle, Sample};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Answers to the reference requests, each taken twice.
pub struct Baseline {
    pub class: Class,
    pub exchanges: Vec<Exchange>,
}

pub struct Baselines {
    /// With every credential the user gave.
    pub authorized: Option<Baseline>,
    /// With no credential at all (no certificate either).
    pub anonymous: Baseline,
    /// The client certificate only, no application credential.
    pub transport_only: Option<Baseline>,
    /// The certificate (if any) with the token's signature or the Basic password altered,
    /// or an obviously invalid bearer when the user gave no credential at all. None for a
    /// certificate-only API: there is no application credential to spoil.
    pub invalid: Option<Baseline>,
    /// The application credential without the client certificate (when both were given).
    pub app_without_cert: Option<Baseline>,
}

/// What a probe changed in the user's authorized request: the one thing it tests
/// (DESIGN.md principle 3). Each names the refused baselines a probe of that kind is told
/// apart from, so that a check cannot compare a probe with a baseline that differs from it
/// in something else than the thing tested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// The application credential (token, Basic pair) replaced by the probe's value; the
    /// client certificate, if any, kept.
    AppCredentialSwapped,
    /// The application credential removed; the client certificate kept. With no
    /// application credential (a certificate-only API) every credential is removed.
    /// Build the probe with [`Scan::unauthenticated_probe`].
    AppCredentialRemoved,
    /// The anonymous baseline itself (no credential at all, no certificate), judged
    /// against the other refusals.
    Anonymous,
    /// The client certificate replaced; the application credential kept.
    CertSwapped,
    /// The client certificate removed; the application credential kept.
    CertRemoved,
    /// The client certificate alone (the application credential removed), judged as
    /// possibly enough by itself: against no credential, a spoiled application
    /// credential and the application credential without the certificate.
    CertAlone,
}

/// A probe, what it was, and the oracle's verdict on its answer: the one shape every
/// check's trials take.
pub struct Trial {
    pub label: String,
    pub exchange: Exchange,
    pub verdict: crate::oracle::Verdict,
}

impl Trial {
    pub fn accepted(&self) -> bool {
        matches!(self.verdict, crate::oracle::Verdict::Accepted { .. })
    }
}

/// What a check is run with: the options, the baselines, the facts gathered once, and the
/// one way out to the network ([`Scan::send`]). The engine builds it; a check sees only
/// these methods.
pub struct Scan {
    opts: ScanOptions,
    http: Arc<Http>,
    baselines: Baselines,
    facts: Facts,
    callback: tokio::sync::OnceCell<Result<Callback, String>>,
    /// What each `${AUTHPROBE_…}` variable of the evidence holds, for `--secrets-file`.
    variables: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
}

impl Scan {
    pub(crate) fn new(opts: ScanOptions, http: Arc<Http>, baselines: Baselines) -> Self {
        Self {
            http,
            baselines,
            variables: std::sync::Mutex::new(creds::variables(&opts)),
            facts: Facts::default(),
            callback: tokio::sync::OnceCell::new(),
            opts,
        }
    }

    /// The scan's callback listener (see [`crate::callback`]), started on first use and
    /// stopped with the scan. `Err` says why the target cannot reach one.
    pub async fn callback(&self) -> Result<&Callback, String> {
        self.callback
            .get_or_init(|| Callback::start(&self.opts.target, self.opts.jwt.callback_url.as_ref()))
            .await
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn opts(&self) -> &ScanOptions {
        &self.opts
    }

    pub fn baselines(&self) -> &Baselines {
        &self.baselines
    }

    /// Facts computed at most once per scan, whichever check asks first.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The HTTP layer's limits (timeouts, concurrency), for the transport probes that
    /// open their own connections.
    pub fn limits(&self) -> &crate::http::Limits {
        self.http.limits()
    }

    /// The per-host concurrency limiter those transport probes must hold while connected,
    /// so that they and the HTTP requests together never exceed `--concurrency`.
    pub async fn host_limiter(&self, url: &url::Url) -> Arc<tokio::sync::Semaphore> {
        self.http.host_limiter(url).await
    }

    /// What is left of `--max-time`, if it is set.
    pub fn time_left(&self) -> Option<std::time::Duration> {
        self.http.time_left()
    }

    pub fn requests_sent(&self) -> usize {
        self.http.requests_sent()
    }

    /// A GET to the target with the user's plain headers and nothing else.
    pub fn bare(&self, method: &str) -> Probe {
        creds::bare_probe(&self.opts, method)
    }

    /// The target with only the transport credential (client certificate) if any.
    pub fn transport_probe(&self, method: &str) -> Probe {
        self.bare(method)
            .with_identity(self.opts.creds.client.clone())
    }

    pub fn authorized_probe(&self, method: &str) -> Probe {
        creds::authorized_probe(&self.opts, method)
    }

    pub fn bearer_value(&self) -> Option<Value> {
        self.opts.creds.bearer.as_deref().map(creds::bearer_value)
    }

    pub fn authorized_class(&self) -> Option<&Class> {
        self.baselines.authorized.as_ref().map(|b| &b.class)
    }

    /// A certificate was given and no token or Basic pair: the certificate is the
    /// credential, and bearer probes have nothing to test.
    pub fn cert_only(&self) -> bool {
        self.opts.creds.client.is_some() && !self.opts.creds.has_app_credentials()
    }

    /// The request without its application credential: the certificate kept when there
    /// is an application credential to remove, else nothing at all (for a
    /// certificate-only API the certificate *is* the credential).
    pub fn unauthenticated_probe(&self, method: &str) -> Probe {
        if self.opts.creds.has_app_credentials() {
            self.transport_probe(method)
        } else {
            self.bare(method)
        }
    }

    /// The baseline an unauthenticated probe of the same method is compared with.
    pub fn unauthenticated_baseline(&self) -> &Baseline {
        let b = &self.baselines;
        match (&b.transport_only, self.opts.creds.has_app_credentials()) {
            (Some(t), true) => t,
            _ => &b.anonymous,
        }
    }

    /// The oracle for probes of kind `cmp`: the authorized answer as the only success,
    /// and the refused baselines that differ from such a probe only in what it tests. A
    /// probe that is itself a refusal is rejected even where the oracle cannot accept.
    pub fn oracle(&self, cmp: Compare) -> Oracle<'_> {
        let b = &self.baselines;
        let refused: Vec<Option<&Baseline>> = match cmp {
            Compare::AppCredentialSwapped | Compare::AppCredentialRemoved => {
                vec![b.invalid.as_ref(), Some(self.unauthenticated_baseline())]
            }
            Compare::Anonymous => vec![
                b.invalid.as_ref(),
                b.transport_only.as_ref(),
                b.app_without_cert.as_ref(),
            ],
            Compare::CertSwapped => vec![
                Some(&b.anonymous),
                b.invalid.as_ref(),
                b.transport_only.as_ref(),
                b.app_without_cert.as_ref(),
            ],
            Compare::CertRemoved => vec![
                Some(&b.anonymous),
                b.invalid.as_ref(),
                b.transport_only.as_ref(),
            ],
            Compare::CertAlone => vec![
                Some(&b.anonymous),
                b.invalid.as_ref(),
                b.app_without_cert.as_ref(),
            ],
        };
        let refused = refused.into_iter().flatten().map(|b| &b.class).collect();
        Oracle::new(self.authorized_class(), refused)
    }

    /// [`Scan::oracle`], when it can decide at all; `Err` says why not (the check is then
    /// inconclusive).
    pub fn judge(&self, cmp: Compare) -> Result<Oracle<'_>, String> {
        let o = self.oracle(cmp);
        o.usable()?;
        Ok(o)
    }

    /// Sends a probe; `Err` carries the reason the check should be inconclusive. A probe
    /// that got no answer (not even a refusal) is noted against the running check, which
    /// then cannot pass (see `run_one`).
    pub async fn send(&self, probe: Probe) -> Result<Exchange, String> {
        if let Ok(Err(e)) = RUNNING.try_with(|r| r.spend()) {
            // A check stopped by its budget has not ruled anything out.
            let _ = RUNNING.try_with(|r| r.note(e.clone()));
            return Err(e);
        }
        let r = self.http.exchange(probe).await.map_err(|e| match e {
            SendError::Budget(n) => format!("request budget of {n} exhausted (--max-requests)"),
            other => other.to_string(),
        });
        let failure = match &r {
            Ok(x) => x
                .result
                .as_ref()
                .err()
                .filter(|e| !e.is_refusal())
                .map(|e| e.to_string()),
            Err(e) => Some(e.clone()),
        };
        if let Some(f) = failure {
            let _ = RUNNING.try_with(|u| u.note(f));
        }
        r
    }

    pub fn evidence(&self, x: &Exchange) -> crate::finding::Evidence {
        if let Ok(mut vars) = self.variables.lock() {
            for (_, v) in &x.probe.headers {
                for (name, raw) in v.variables() {
                    vars.insert(name.to_string(), raw.to_string());
                }
            }
        }
        crate::evidence::evidence(x, &self.opts.tls, self.opts.show_secrets)
    }

    /// Every variable the evidence so far may use, with its value.
    pub fn variables(&self) -> std::collections::BTreeMap<String, String> {
        self.variables.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn sample(x: &Exchange) -> Sample {
        Sample::from_exchange(x)
    }
}

/// The running check's account: its probes that got no answer (a transport error is not
/// a refusal, so a check that met one cannot claim the flaw is absent), and its request
/// budget (`CheckMeta::budget`), which the engine holds it to.
#[derive(Default)]
pub(crate) struct Running {
    pub(crate) unanswered: AtomicUsize,
    pub(crate) first: std::sync::Mutex<Option<String>>,
    /// The most requests the check may send; 0 for no limit of its own.
    pub(crate) budget: usize,
    pub(crate) spent: AtomicUsize,
    /// The check a shared fact is being gathered for: its unanswered probes count there
    /// too, its requests do not (see [`outside_budget`]).
    parent: Option<Arc<Running>>,
}

impl Running {
    pub(crate) fn with_budget(budget: usize) -> Self {
        Self {
            budget,
            ..Self::default()
        }
    }

    pub(crate) fn note(&self, e: String) {
        if let Some(p) = &self.parent {
            p.note(e.clone());
        }
        self.unanswered.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut f) = self.first.lock()
            && f.is_none()
        {
            *f = Some(e);
        }
    }

    /// Takes one request from the budget; `Err` once it is spent.
    fn spend(&self) -> Result<(), String> {
        let n = self.spent.fetch_add(1, Ordering::Relaxed);
        if self.budget > 0 && n >= self.budget {
            return Err(format!(
                "the check's own request budget of {} is spent",
                self.budget
            ));
        }
        Ok(())
    }
}

tokio::task_local! {
    pub(crate) static RUNNING: Arc<Running>;
}

/// Runs `fut` (the gathering of a shared fact) outside the running check's request
/// budget: whichever check asks first is a race, and the fact serves every check, so its
/// requests are no one check's. A probe of it that gets no answer still counts against
/// the check that waited for it.
pub(crate) async fn outside_budget<F: std::future::Future>(fut: F) -> F::Output {
    let parent = RUNNING.try_with(Arc::clone).ok();
    let running = Arc::new(Running {
        parent,
        ..Running::default()
    });
    RUNNING.scope(running, fut).await
}
