//! `authprobe crack`: the offline HMAC cracker from the command line. Exit 0 when the
//! secret is found, 1 when every candidate was tried (or time ran out), 2 on errors.

use crate::cli::output;
use anyhow::{Context, Result, anyhow};
use authprobe_crack::{Cracker, Rules, Source, Stopped, Target};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub struct CrackOptions {
    pub token: Option<String>,
    pub wordlists: Vec<PathBuf>,
    pub rules: String,
    pub builtin: bool,
    pub threads: Option<usize>,
    pub max_time: Option<Duration>,
    pub json: bool,
    pub show_secret: bool,
    pub benchmark: Option<f64>,
    pub export_hashcat: Option<PathBuf>,
    pub progress: bool,
}

fn mask(secret: &str) -> String {
    authprobe::creds::mask(secret.as_bytes())
}

pub async fn run(o: CrackOptions) -> Result<i32> {
    if let Some(secs) = o.benchmark {
        if !(secs.is_finite() && secs > 0.0 && secs <= 600.0) {
            anyhow::bail!("--benchmark takes a number of seconds between 0 and 600");
        }
        let threads = o
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let report = tokio::task::spawn_blocking(move || {
            authprobe_crack::benchmark(Duration::from_secs_f64(secs), threads)
        })
        .await?;
        if o.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "candidates_per_sec": report.candidates_per_sec,
                    "threads": report.threads,
                    "sha_ni": report.sha_ni,
                    "compressions_per_candidate": report.compressions_per_candidate,
                    "compressions_per_sec_single_core": report.compressions_per_sec_single_core,
                    "kernel_compressions_per_sec_single_core": report.kernel_compressions_per_sec_single_core,
                    "bound_candidates_per_sec": report.bound_candidates_per_sec,
                    "fraction_of_bound": report.fraction_of_bound,
                }))?
            );
        } else {
            println!(
                "authprobe crack --benchmark · HS256, {} thread(s), SHA-NI {}\n  {:.2} M candidates/s\n  SHA-256 single-block compression rate, one core: {:.1} M/s ({} compressions per candidate)\n  bound on {} thread(s): {:.2} M candidates/s · measured = {:.0}% of the bound\n  two-lane kernel compression rate, one core: {:.1} M/s",
                report.threads,
                if report.sha_ni { "on" } else { "off" },
                report.candidates_per_sec / 1e6,
                report.compressions_per_sec_single_core / 1e6,
                report.compressions_per_candidate,
                report.threads,
                report.bound_candidates_per_sec / 1e6,
                report.fraction_of_bound * 100.0,
                report.kernel_compressions_per_sec_single_core / 1e6,
            );
        }
        return Ok(0);
    }

    let token = o
        .token
        .clone()
        .ok_or_else(|| anyhow!("give a token (or set AUTHPROBE_BEARER)"))?;
    let target = Target::from_jwt(token.trim())?;
    if let Some(path) = &o.export_hashcat {
        let line = authprobe_crack::export_hashcat(token.trim())?;
        std::fs::write(path, line + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        output::note(&format!(
            "wrote {} (hashcat -m 16500 {} wordlist.txt)",
            path.display(),
            path.display()
        ));
    }
    let alg = target.alg().name().to_string();
    let rules = match o.rules.as_str() {
        "default" => Rules::Default,
        "none" => Rules::None,
        path => Rules::File(PathBuf::from(path)),
    };
    let mut cracker = Cracker::new(target).rules(rules);
    if o.builtin {
        cracker = cracker.source(Source::Builtin);
    }
    for w in &o.wordlists {
        cracker = cracker.source(Source::File(w.clone()));
    }
    if let Some(n) = o.threads {
        cracker = cracker.threads(n.max(1));
    }
    if let Some(t) = o.max_time {
        cracker = cracker.time_budget(t);
    }
    let cancel = Arc::new(AtomicBool::new(false));
    cracker = cracker.cancel_flag(cancel.clone());
    let progress = cracker.progress();
    let bar = output::shows_progress(!o.progress).then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{elapsed_precise}] {wide_bar} {percent}% eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let job = tokio::task::spawn_blocking(move || cracker.run());
    tokio::pin!(job);
    let outcome = loop {
        tokio::select! {
            r = &mut job => break r??,
            _ = tokio::signal::ctrl_c() => cancel.store(true, Ordering::Relaxed),
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                if let Some(b) = &bar {
                    let total = progress.bytes_total();
                    if total > 0 {
                        b.set_length(total);
                        b.set_position(progress.bytes_read());
                    }
                    let secs = b.elapsed().as_secs_f64().max(1e-3);
                    b.set_message(format!("{} tried · {:.2} M/s", progress.tried(), progress.tried() as f64 / secs / 1e6));
                }
            }
        }
    };
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let rate = outcome.tried as f64 / outcome.elapsed.as_secs_f64().max(1e-9);
    let secret = outcome
        .found
        .as_ref()
        .map(|s| String::from_utf8_lossy(s).into_owned());
    let stopped = match outcome.stopped {
        Stopped::Found => "found",
        Stopped::Exhausted => "exhausted",
        Stopped::Deadline => "deadline",
        Stopped::Cancelled => "cancelled",
    };
    if o.json {
        // JSON is for machines that asked for the result: the secret is included.
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "alg": alg,
                "found": secret.is_some(),
                "secret": secret,
                "tried": outcome.tried,
                "elapsed_ms": outcome.elapsed.as_millis() as u64,
                "candidates_per_sec": rate,
                "stopped": stopped,
            }))?
        );
    } else {
        match &secret {
            Some(s) => println!(
                "{alg} secret found: {} ({} candidates in {:.2} s, {:.2} M/s){}",
                if o.show_secret { s.clone() } else { mask(s) },
                outcome.tried,
                outcome.elapsed.as_secs_f64(),
                rate / 1e6,
                if o.show_secret {
                    ""
                } else {
                    "\n  masked; --show-secret prints it, --format json includes it"
                }
            ),
            None => println!(
                "{alg} secret not found: {} candidates in {:.2} s ({:.2} M/s), stopped: {stopped}",
                outcome.tried,
                outcome.elapsed.as_secs_f64(),
                rate / 1e6
            ),
        }
    }
    Ok(if secret.is_some() { 0 } else { 1 })
}
