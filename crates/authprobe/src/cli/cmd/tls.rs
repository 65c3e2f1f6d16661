//! `authprobe tls`: one TLS endpoint's transport checks, without any HTTP request.

use crate::cli::args::TlsArgs;
use crate::cli::output::finish;
use anyhow::{Result, anyhow, bail};
use authprobe::checks;
use authprobe::http::TlsSettings;
use authprobe::report::Report;
use std::time::Duration;

pub async fn run_tls(a: TlsArgs) -> Result<i32> {
    use authprobe::check::Outcome;
    use authprobe::facts::tls::{GatherOptions, TlsTarget, gather};
    if !(a.timeout.is_finite() && a.timeout > 0.0 && a.timeout <= 600.0) {
        bail!("--timeout must be between 0 and 600 seconds");
    }
    let target = TlsTarget::parse(&a.target, a.sni.clone()).map_err(|e| anyhow!(e))?;
    let server_ca = match &a.server_ca {
        Some(p) => Some((p.clone(), authprobe::load::load_server_ca(p)?)),
        None => None,
    };
    let settings = TlsSettings {
        server_ca,
        insecure: false,
    };
    let started_at = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    let facts = gather(
        &target,
        &settings,
        &GatherOptions {
            timeout: Duration::from_secs_f64(a.timeout),
            concurrency: a.concurrency as usize,
            limiter: None,
        },
    )
    .await
    .map_err(|e| anyhow!(e))?;
    let mut findings = Vec::new();
    let mut run = Vec::new();
    let mut skipped = Vec::new();
    let mut inconclusive = Vec::new();
    for (meta, evaluate) in checks::tls::transport_checks() {
        let reason = |r: String| authprobe::report::Skipped {
            id: meta.id.to_string(),
            reason: r,
        };
        match evaluate(&facts) {
            Outcome::Pass => run.push(meta),
            Outcome::Found(f) => {
                run.push(meta);
                findings.push(*f);
            }
            Outcome::Inconclusive(r) => {
                run.push(meta);
                inconclusive.push(reason(r));
            }
            Outcome::NotApplicable(r) => skipped.push(reason(r)),
        }
    }
    let report = Report::build(
        target.display(),
        0,
        started_at,
        clock.elapsed(),
        findings,
        run,
        skipped,
        inconclusive,
        Some(authprobe::report::tls::TlsSection::from_facts(&facts)),
    );
    finish(report, &a.output, true)
}
