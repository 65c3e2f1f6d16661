//! `authprobe scan --spec` and `authprobe scan --targets`: a whole API, or many targets,
//! in one report. `--format jsonl` streams each finding and each finished operation or
//! target as it comes.

use crate::cli::args::{DAY, OutputArgs, ReportFormat, ScanArgs};
use crate::cli::convert::scan_options_at;
use crate::cli::output::{self, load_baseline};
use anyhow::{Context, Result, anyhow, bail};
use authprobe::engine::api::{ApiScan, Event, scan_api};
use authprobe::engine::targets::{parse_targets, scan_targets};
use authprobe::engine::{Progress, ScanError};
use authprobe::http::Http;
use authprobe::report::{Report, jsonl};
use authprobe::spec;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use url::Url;

/// How long past `--max-time` a scan may take to wind up (checks turning their refused
/// requests into verdicts, work without HTTP) before the command gives up on it.
pub const MAX_TIME_GRACE: Duration = Duration::from_secs(30);

/// The most a `--targets` list may hold, in bytes (about 100,000 URLs).
const MAX_TARGETS_FILE: u64 = 8 * 1024 * 1024;

/// Where the run's events go: with `--format jsonl`, stdout, one line per event, flushed
/// so a consumer sees each at once (then `true`); otherwise nowhere.
type Sink = Box<dyn FnMut(Event) + Send>;

fn sink(out: &OutputArgs) -> (Sink, bool) {
    if out.format != ReportFormat::Jsonl {
        return (Box::new(|_: Event| {}), false);
    }
    let stream = |e: Event| {
        let line = match e {
            Event::Finding(f) => jsonl::finding_line(f),
            Event::Operation(o) => jsonl::operation_line(o),
        };
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    };
    (Box::new(stream), true)
}

/// Runs `work` under `--max-time` plus a grace, drawing the spinner meanwhile.
pub async fn supervised(
    work: impl std::future::Future<Output = Result<Report, ScanError>>,
    max_time: Duration,
    what: &str,
    out: &OutputArgs,
    progress: &Progress,
    unit: &str,
) -> Result<Report> {
    let bar = output::spinner(out.no_progress || out.format == ReportFormat::Jsonl);
    let hard_stop = tokio::time::Instant::now()
        .checked_add(max_time + MAX_TIME_GRACE)
        .unwrap_or_else(|| tokio::time::Instant::now() + DAY);
    tokio::pin!(work);
    let result = loop {
        tokio::select! {
            r = &mut work => break r,
            _ = tokio::time::sleep_until(hard_stop) => {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                bail!(
                    "the scan of {what} did not end within --max-time {} and a grace of {}: \
                     no report was written",
                    humantime::format_duration(max_time),
                    humantime::format_duration(MAX_TIME_GRACE)
                );
            }
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                if let Some(b) = &bar {
                    b.set_message(format!(
                        "scanning {what} · {unit} {}/{}",
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
    Ok(result?)
}

/// What `--spec` names.
enum SpecArg {
    /// Looked for on the target's origin.
    Auto,
    Url(Url),
    /// A file, with the files it refers to beside it.
    File(std::path::PathBuf),
}

impl SpecArg {
    fn parse(arg: &str) -> Result<Self> {
        if arg == "auto" {
            Ok(Self::Auto)
        } else if arg.starts_with("https://") || arg.starts_with("http://") {
            Url::parse(arg)
                .map(Self::Url)
                .map_err(|e| anyhow!("--spec {arg:?} is not a valid URL: {e}"))
        } else {
            Ok(Self::File(arg.into()))
        }
    }
}

pub async fn run_spec(a: ScanArgs) -> Result<i32> {
    if let Some(p) = &a.output.baseline {
        load_baseline(p)?;
    }
    let text = a.spec.clone().unwrap_or_default();
    let arg = SpecArg::parse(&text)?;
    // The base URL given (never the lab's protected path: its description names the lab).
    let given = match (&a.url, &a.lab) {
        (Some(u), None) => Some(crate::cli::convert::target_url(u)?),
        _ => None,
    };
    let (spec, spec_url, mut opts) = match &arg {
        SpecArg::File(path) => {
            let spec = spec::load_file(path)?;
            let base = spec::base_url(&spec, given.as_ref(), None)?;
            let opts = scan_options_at(&a, base.as_str())?;
            (spec, None, opts)
        }
        _ => {
            let first = given.as_ref().map_or_else(|| text.clone(), Url::to_string);
            let opts = scan_options_at(&a, &first)?;
            let http = Http::new(spec::fetch_limits(&opts.limits), opts.tls.clone())
                .with_proxy(opts.proxy.clone());
            let (spec, url) = match &arg {
                SpecArg::Url(url) => spec::fetch(&http, url).await?,
                _ => {
                    let (s, url) = spec::discover(&http, &opts.target).await?;
                    output::note(&format!("authprobe: --spec auto: using {url}"));
                    (s, url)
                }
            };
            (spec, Some(url), opts)
        }
    };
    let base = spec::base_url(&spec, given.as_ref(), spec_url.as_ref())?;
    opts.target = base.clone();
    let source = spec_url
        .as_ref()
        .map_or_else(|| text.clone(), Url::to_string);
    output::note(&format!(
        "authprobe: {source}: {} operation{} ({}), base URL {base}",
        spec.operations.len(),
        if spec.operations.len() == 1 { "" } else { "s" },
        spec.version.as_str()
    ));
    let api = ApiScan {
        spec: Arc::new(spec),
        base: base.clone(),
        budget_given: a.limits.max_requests.is_some(),
        time_given: a.limits.max_time.is_some(),
    };
    let progress = Arc::new(Progress::default());
    let max_time = authprobe::engine::api::time_limit(&opts, &api);
    let (mut sink, streamed) = sink(&a.output);
    let report = supervised(
        scan_api(opts, api, progress.clone(), &mut *sink),
        max_time,
        base.as_str(),
        &a.output,
        &progress,
        "operations",
    )
    .await?;
    super::serve::finish_and_upload(report, &a.output, |r, o| {
        output::finish_whole(r, o, streamed)
    })
    .await
}

pub async fn run_targets(a: ScanArgs) -> Result<i32> {
    if let Some(p) = &a.output.baseline {
        load_baseline(p)?;
    }
    let arg = a.targets.clone().unwrap_or_default();
    let text = if arg == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(MAX_TARGETS_FILE + 1)
            .read_to_end(&mut buf)
            .context("reading --targets from stdin")?;
        if buf.len() as u64 > MAX_TARGETS_FILE {
            bail!("--targets -: more than {MAX_TARGETS_FILE} bytes on stdin");
        }
        String::from_utf8(buf).map_err(|_| anyhow!("--targets -: not UTF-8 text"))?
    } else {
        let bytes = authprobe::load::files::read_capped(
            std::path::Path::new(&arg),
            MAX_TARGETS_FILE,
            "--targets",
            "target lists",
        )?;
        String::from_utf8(bytes).map_err(|_| anyhow!("--targets {arg}: not UTF-8 text"))?
    };
    let targets = parse_targets(&text).map_err(|e| anyhow!("--targets {arg}: {e}"))?;
    let opts = scan_options_at(&a, targets[0].as_str())?;
    let source = if arg == "-" {
        "stdin".to_string()
    } else {
        arg.clone()
    };
    output::note(&format!(
        "authprobe: {} target{} from {source}, {} host{} at a time",
        targets.len(),
        if targets.len() == 1 { "" } else { "s" },
        a.host_concurrency,
        if a.host_concurrency == 1 { "" } else { "s" }
    ));
    let progress = Arc::new(Progress::default());
    let max_time = opts.limits.max_time;
    let (mut sink, streamed) = sink(&a.output);
    // A run streamed to stdout with no file to write keeps no findings in memory.
    let retain = !streamed || !a.output.output.is_empty();
    // Targets run one after another per host: the time limit is per target.
    let n = targets.len();
    let per_host_max = max_time.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX));
    let report = supervised(
        scan_targets(
            opts,
            targets,
            source.clone(),
            a.host_concurrency as usize,
            retain,
            progress.clone(),
            &mut *sink,
        ),
        per_host_max,
        &source,
        &a.output,
        &progress,
        "targets",
    )
    .await?;
    let failed = report.api.as_ref().map_or(0, |s| s.failed);
    let code = super::serve::finish_and_upload(report, &a.output, |r, o| {
        output::finish_whole(r, o, streamed)
    })
    .await?;
    if failed > 0 && code == 0 {
        output::note(&format!(
            "authprobe: {failed} target{} could not be scanned (see the report): exit 2",
            if failed == 1 { "" } else { "s" }
        ));
        return Ok(2);
    }
    Ok(code)
}
