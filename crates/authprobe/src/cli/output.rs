//! What the commands show and what they exit with: reports rendered to stdout and to `-o`
//! files, `--baseline`, the exit-code gates, the progress indicator and the notes on
//! stderr that `--quiet` silences.

use super::args::{OutputArgs, ReportFormat};
use anyhow::{Context, Result, anyhow};
use authprobe::load::files;
use authprobe::report::{Report, pretty};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// `--quiet`, set once before any command runs; a global like ripgrep's message flags, so
/// that the few places that print notes need no extra parameter.
static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A line on stderr that helps a person but is not the result: silenced by `--quiet`.
pub fn note(line: &str) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("{line}");
    }
}

/// Whether to draw a progress indicator: only for a person watching a terminal.
pub fn shows_progress(no_progress: bool) -> bool {
    !no_progress && !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// The scan's spinner, when [`shows_progress`].
pub fn spinner(no_progress: bool) -> Option<ProgressBar> {
    shows_progress(no_progress).then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(Duration::from_millis(100));
        b
    })
}

impl ReportFormat {
    /// The format a file name asks for: .json, .sarif, .xml (JUnit), .md, .html.
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "json" => Self::Json,
            "sarif" => Self::Sarif,
            "xml" => Self::Junit,
            "md" | "markdown" => Self::Markdown,
            "html" | "htm" => Self::Html,
            "txt" => Self::Pretty,
            _ => return None,
        })
    }
}

/// Applies `--baseline`, writes every output, and returns the gates' exit code.
pub fn finish(mut report: Report, out: &OutputArgs, detail: bool) -> Result<i32> {
    if let Some(path) = &out.baseline {
        let known = load_baseline(path)?;
        report.apply_baseline(&known, path.display().to_string());
        if let Some(b) = &report.baseline {
            note(&format!(
                "authprobe: baseline {}: {} known findings suppressed, {} new",
                path.display(),
                b.suppressed,
                report.findings.len()
            ));
        }
    }
    if let Some(path) = &out.secrets_file {
        let unknown = authprobe::secrets_file::write(path, &report)?;
        if !unknown.is_empty() {
            note(&format!(
                "authprobe: --secrets-file {}: export {} yourself before running the curl lines",
                path.display(),
                unknown.join(", ")
            ));
        }
    }
    emit_with(&report, out, detail)?;
    Ok(gates(&report, out))
}

pub fn load_baseline(path: &std::path::Path) -> Result<Report> {
    let text = files::read_capped(path, files::MAX_REPORT_FILE, "--baseline", "JSON reports")?;
    serde_json::from_slice(&text).map_err(|e| {
        anyhow!(
            "--baseline {} is not an authprobe JSON report: {e}",
            path.display()
        )
    })
}

/// `detail`: the TLS section in full (every suite) above the findings, for `authprobe tls`.
fn render_report(report: &Report, format: ReportFormat, colour: bool, detail: bool) -> String {
    match format {
        ReportFormat::Pretty => {
            let mut s = String::new();
            if detail && let Some(t) = &report.tls {
                s.push_str(&pretty::render_tls_detail(t));
            }
            s.push_str(&pretty::render(report, colour));
            s
        }
        ReportFormat::Json => report.to_json(),
        ReportFormat::Sarif => authprobe::report::sarif::render(report),
        ReportFormat::Junit => authprobe::report::junit::render(report),
        ReportFormat::Markdown => authprobe::report::markdown::render(report),
        ReportFormat::Html => authprobe::report::html::render(report),
    }
}

fn emit_with(report: &Report, out: &OutputArgs, detail: bool) -> Result<()> {
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for path in &out.output {
        let format = ReportFormat::from_path(path).unwrap_or(out.format);
        let text = render_report(report, format, false, detail);
        std::fs::write(path, text.trim_end().to_string() + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let text = render_report(report, out.format, colour, detail);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", text.trim_end()).context("writing to stdout")?;
    Ok(())
}

fn gates(report: &Report, out: &OutputArgs) -> i32 {
    let mut failed = Vec::new();
    if let (Some(limit), Some(worst)) = (out.fail_on, report.worst())
        && worst >= limit
    {
        failed.push(format!(
            "--fail-on {}: a {} finding was reported",
            limit.as_str(),
            worst.as_str()
        ));
    }
    if let Some(min) = out.min_score
        && report.score < min
    {
        failed.push(format!("--min-score {min}: the score is {}", report.score));
    }
    if let Some(max) = out.fail_on_inconclusive
        && report.inconclusive.len() > max
    {
        failed.push(format!(
            "--fail-on-inconclusive{}: {} check{} could not decide ({})",
            if max == 0 {
                String::new()
            } else {
                format!("={max}")
            },
            report.inconclusive.len(),
            if report.inconclusive.len() == 1 {
                ""
            } else {
                "s"
            },
            report
                .inconclusive
                .iter()
                .map(|i| i.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if failed.is_empty() {
        0
    } else {
        eprintln!("authprobe: gate failed: {}", failed.join("; "));
        1
    }
}
