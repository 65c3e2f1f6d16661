//! `authprobe scan`: one protected resource, every check that applies, one report.

use crate::cli::args::{DAY, OutputArgs, ScanArgs};
use crate::cli::convert::scan_options;
use crate::cli::output::{self, finish, load_baseline};
use anyhow::{Result, bail};
use authprobe::engine::{self, Progress, ScanOptions};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

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

/// How long past `--max-time` a scan may take to wind up (checks turning their refused
/// requests into verdicts, work without HTTP) before the command gives up on it.
pub const MAX_TIME_GRACE: Duration = Duration::from_secs(30);

pub async fn scan_and_report(opts: ScanOptions, out: &OutputArgs) -> Result<i32> {
    // A wrong --baseline path should fail before the scan, not after it.
    if let Some(p) = &out.baseline {
        load_baseline(p)?;
    }
    let progress = Arc::new(Progress::default());
    let bar = output::spinner(out.no_progress);
    let target = opts.target.to_string();
    // The HTTP layer stops every request at --max-time; this is the backstop for work
    // that sends no HTTP request (TLS handshakes, the cracker, listeners).
    let max_time = opts.limits.max_time;
    let hard_stop = tokio::time::Instant::now()
        .checked_add(max_time + MAX_TIME_GRACE)
        .unwrap_or_else(|| tokio::time::Instant::now() + DAY);
    let scan = engine::scan(opts, progress.clone());
    tokio::pin!(scan);
    let result = loop {
        tokio::select! {
            r = &mut scan => break r,
            _ = tokio::time::sleep_until(hard_stop) => {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                bail!(
                    "the scan of {target} did not end within --max-time {} and a grace of {}: \
                     no report was written",
                    humantime::format_duration(max_time),
                    humantime::format_duration(MAX_TIME_GRACE)
                );
            }
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                if let Some(b) = &bar {
                    b.set_message(format!(
                        "scanning {target} · checks {}/{}",
                        progress.checks_done.load(Ordering::Relaxed),
                        progress.checks_total.load(Ordering::Relaxed)
                    ));
                }
            }
        }
    };
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = result?;
    finish(report, out, false)
}
