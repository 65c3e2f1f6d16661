//! `authprobe demo`: the vulnerable lab started in-process and scanned as `scan` would.

use crate::cli::args::DemoArgs;
use crate::cli::cmd::scan::scan_and_report;
use crate::cli::convert::lab_scan_options;
use crate::cli::output;
use anyhow::Result;

pub async fn run_demo(a: DemoArgs) -> Result<i32> {
    output::check_outputs(&a.output)?;
    let lab = authprobe_lab::start(authprobe_lab::LabOptions {
        profile: authprobe_lab::Profile::Vulnerable,
        flaws: Vec::new(),
        modes: Vec::new(),
        origin: false,
        ..Default::default()
    })
    .await?;
    output::note(&format!(
        "authprobe demo: lab serving at {} with flaws: {}",
        lab.ready.https_url,
        lab.ready.flaws.join(", ")
    ));
    let mut opts = lab_scan_options(&lab.ready, &a.limits, a.output.show_secrets)?;
    opts.keep_artifacts = a.output.keep_artifacts.clone();
    let code = scan_and_report(opts, &a.output).await?;
    drop(lab);
    Ok(code)
}
