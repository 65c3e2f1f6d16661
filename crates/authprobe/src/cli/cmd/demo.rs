//! `authprobe demo`: the vulnerable lab started in-process and scanned as `scan` would.

use crate::cli::args::DemoArgs;
use crate::cli::cmd::scan::scan_and_report;
use crate::cli::convert::limits;
use crate::cli::output;
use anyhow::Result;

pub async fn run_demo(a: DemoArgs) -> Result<i32> {
    let lab = authprobe_lab::start(authprobe_lab::LabOptions {
        profile: authprobe_lab::Profile::Vulnerable,
        flaws: Vec::new(),
        modes: Vec::new(),
        origin: false,
    })
    .await?;
    output::note(&format!(
        "authprobe demo: lab serving at {} with flaws: {}",
        lab.ready.https_url,
        lab.ready.flaws.join(", ")
    ));
    let mut opts = authprobe::lab_target::scan_options(&lab.ready, limits(&a.limits)?)?;
    opts.jwt.crack_time = opts.jwt.crack_time.min(opts.limits.max_time);
    opts.show_secrets = a.output.show_secrets;
    opts.keep_artifacts = a.output.keep_artifacts.clone();
    opts.allow_unsafe_methods = a.limits.allow_unsafe_methods;
    opts.only = a.limits.checks.clone();
    opts.basic.lockout_attempts = a.limits.lockout_attempts as usize;
    let code = scan_and_report(opts, &a.output).await?;
    drop(lab);
    Ok(code)
}
