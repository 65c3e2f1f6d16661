//! What the commands show and what they exit with: reports rendered to stdout and to `-o`
//! files, `--baseline`, the exit-code gates, the progress indicator and the notes on
//! stderr that `--quiet` silences.

use super::args::{OutputArgs, ReportFormat};
use anyhow::{Context, Result, anyhow};
use authprobe::load::files;
use authprobe::report::{Report, pretty};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::Path;
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

/// The `-o` extensions and what they write, in the order the error message lists them.
const EXTENSIONS: [(&str, ReportFormat); 9] = [
    ("json", ReportFormat::Json),
    ("jsonl", ReportFormat::Jsonl),
    ("sarif", ReportFormat::Sarif),
    ("xml", ReportFormat::Junit),
    ("md", ReportFormat::Markdown),
    ("markdown", ReportFormat::Markdown),
    ("html", ReportFormat::Html),
    ("htm", ReportFormat::Html),
    ("txt", ReportFormat::Pretty),
];

/// `-o -`: the report on stdout, in --format.
fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

impl ReportFormat {
    /// The format a file name asks for: `None` without an extension (--format then
    /// applies), an error naming the known ones for any other extension.
    pub fn from_path(path: &Path) -> Result<Option<Self>> {
        let Some(ext) = path.extension() else {
            return Ok(None);
        };
        let ext = ext.to_string_lossy().to_ascii_lowercase();
        EXTENSIONS
            .iter()
            .find(|(e, _)| *e == ext)
            .map(|(_, f)| Some(*f))
            .ok_or_else(|| {
                anyhow!(
                    "-o {}: unknown extension .{ext}; known: {} (JUnit is .xml; without an \
                     extension, --format)",
                    path.display(),
                    EXTENSIONS
                        .iter()
                        .map(|(e, _)| format!(".{e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// Every `-o` path checked before anything is sent: a typo must not cost a whole scan,
/// let alone its bursts of failed logins, and then lose the report.
pub fn check_outputs(out: &OutputArgs) -> Result<()> {
    for path in out.output.iter().filter(|p| !is_stdout(p)) {
        ReportFormat::from_path(path)?;
        writable(path).map_err(|e| anyhow!("-o {}: cannot write there: {e}", path.display()))?;
    }
    if let Some(url) = &out.upload {
        super::cmd::serve::upload_url(url)?;
        super::cmd::serve::server_key()?;
    }
    Ok(())
}

/// Opens the file as the report will, without changing an existing one and without
/// leaving a new one behind.
fn writable(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::other("it is a directory"));
    }
    if path.exists() {
        return std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop);
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    std::fs::remove_file(path)
}

/// Applies `--baseline`, writes every output, and returns the gates' exit code.
pub fn finish(report: Report, out: &OutputArgs, detail: bool) -> Result<i32> {
    finish_as(report, out, detail, false)
}

/// [`finish`] for a whole-API scan; `streamed`: its findings and operations already went
/// to stdout as JSON Lines, so only the summary line follows them there.
pub fn finish_whole(report: Report, out: &OutputArgs, streamed: bool) -> Result<i32> {
    finish_as(report, out, false, streamed)
}

fn finish_as(mut report: Report, out: &OutputArgs, detail: bool, streamed: bool) -> Result<i32> {
    if let Some(path) = &out.baseline {
        let known = load_baseline(path)?;
        report.apply_baseline(&known, path.display().to_string());
        if let Some(b) = &report.baseline {
            note(&format!(
                "authprobe: baseline {}: {} known finding{} suppressed, {} new",
                path.display(),
                b.suppressed,
                if b.suppressed == 1 { "" } else { "s" },
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
    emit_with(&report, out, detail, streamed)?;
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
fn render_report(
    report: &Report,
    format: ReportFormat,
    style: pretty::Style,
    detail: bool,
) -> String {
    match format {
        ReportFormat::Pretty => {
            let mut s = String::new();
            if detail && let Some(t) = &report.tls {
                s.push_str(&pretty::render_tls_detail(t));
            }
            s.push_str(&pretty::render(report, style));
            s
        }
        ReportFormat::Json => report.to_json(),
        ReportFormat::Sarif => authprobe::report::sarif::render(report),
        ReportFormat::Junit => authprobe::report::junit::render(report),
        ReportFormat::Markdown => authprobe::report::markdown::render(report),
        ReportFormat::Html => authprobe::report::html::render(report),
        ReportFormat::Jsonl => authprobe::report::jsonl::render(report),
    }
}

fn emit_with(report: &Report, out: &OutputArgs, detail: bool, streamed: bool) -> Result<()> {
    for path in out.output.iter().filter(|p| !is_stdout(p)) {
        let format = ReportFormat::from_path(path)?.unwrap_or(out.format);
        let text = render_report(report, format, pretty::Style::default(), detail);
        std::fs::write(path, text.trim_end().to_string() + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    // Styled always: anstream strips the styles when the colour policy says no, so there
    // is one decision, made in one place, for every stream.
    let style = pretty::Style {
        colour: true,
        width: terminal_width(),
    };
    let text = if streamed {
        authprobe::report::jsonl::summary_line(report)
    } else {
        render_report(report, out.format, style, detail)
    };
    let mut stdout = anstream::stdout().lock();
    writeln!(stdout, "{}", text.trim_end()).context("writing to stdout")?;
    Ok(())
}

/// The columns to wrap the pretty report to: only for a person at a terminal, so piped
/// output keeps one line per item for grep and for tests.
fn terminal_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let (terminal_size::Width(w), _) = terminal_size::terminal_size()?;
    Some(usize::from(w).max(40))
}

/// `--color`, as the process-wide policy every `anstream` stream (stdout, stderr) follows.
pub fn set_colour(when: super::args::ColorWhen) {
    use super::args::ColorWhen;
    anstream::ColorChoice::write_global(match when {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    });
}

/// Whether styled text on stderr keeps its styles under the policy (for the log lines,
/// which `tracing` styles itself).
pub fn stderr_colour() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
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
