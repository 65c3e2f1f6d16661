//! `authprobe scan`: one protected resource, every check that applies, one report.

use crate::cli::args::{OutputArgs, ScanArgs};
use crate::cli::convert::scan_options;
use crate::cli::output::{self, finish, load_baseline};
use anyhow::Result;
use authprobe::engine::{self, Progress, ScanOptions};
use std::sync::Arc;

pub async fn run_scan(a: ScanArgs) -> Result<i32> {
    output::check_outputs(&a.output)?;
    if a.targets.is_some() {
        return super::whole::run_targets(a).await;
    }
    if a.spec.is_some() {
        return super::whole::run_spec(a).await;
    }
    let opts = scan_options(&a)?;
    // Read locally before anything is sent: the first thing to check when the server
    // then refuses the token.
    if let Some(note) = engine::preflight::token_time_note(&opts) {
        output::note(&format!("authprobe: note: --bearer: {note}"));
    }
    scan_and_report(opts, &a.output).await
}

pub async fn scan_and_report(opts: ScanOptions, out: &OutputArgs) -> Result<i32> {
    // A wrong --baseline path should fail before the scan, not after it.
    if let Some(p) = &out.baseline {
        load_baseline(p)?;
    }
    let progress = Arc::new(Progress::default());
    let target = opts.target.to_string();
    // The HTTP layer stops every request at --max-time; the supervisor is the backstop for
    // work that sends no HTTP request (TLS handshakes, the cracker, listeners).
    let max_time = opts.limits.max_time;
    let report = super::whole::supervised(
        engine::scan(opts, progress.clone()),
        max_time,
        &target,
        out,
        &progress,
        "checks",
    )
    .await?;
    super::serve::finish_and_upload(report, out, |r, o| finish(r, o, false)).await
}
