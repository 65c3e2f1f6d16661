//! `authprobe serve`, and `scan --upload` which feeds a server's history from CI.

use crate::cli::args::{JobArgs, OutputArgs, ServeArgs};
use crate::cli::output;
use anyhow::{Context, Result, anyhow, bail};
use authprobe::report::Report;
use authprobe::service::{self, Config};
use std::time::Duration;

pub async fn run_serve(a: ServeArgs) -> Result<i32> {
    let config = Config {
        listen: a.listen,
        db: a.db,
        allow_target: a.allow_target,
        ready_file: a.ready_file,
        data_dir: a.data_dir,
        workers: a.workers as usize,
        limits: authprobe::http::Limits::default(),
        tls: a.tls_cert.zip(a.tls_key),
        mcp_config: a.mcp_config,
        grace: a.jobs.grace,
        jobs: jobs(&a.jobs),
        webhook_retry_base: a.webhook_retry_base,
    };
    service::serve(config, super::lab::wait_for_shutdown()).await?;
    Ok(0)
}

/// The job settings of `serve` and `worker`.
pub fn jobs(a: &JobArgs) -> service::Jobs {
    service::Jobs {
        policy: authprobe::service::runner::JobPolicy {
            max_attempts: a.max_attempts,
            backoff: a.retry_backoff,
        },
        host_limit: a.host_concurrency as usize,
        host_rate: a.host_rate,
        scan_concurrency: a.scan_concurrency as usize,
    }
}

/// The API key `--upload` sends.
pub fn server_key() -> Result<String> {
    match std::env::var("AUTHPROBE_SERVER_KEY") {
        Ok(k) if !k.trim().is_empty() => Ok(k.trim().to_string()),
        _ => bail!("--upload needs the server's API key in AUTHPROBE_SERVER_KEY"),
    }
}

/// Where `--upload URL` posts: the server's base URL, or its `/api/v1/reports` itself.
pub fn upload_url(base: &str) -> Result<url::Url> {
    let u =
        url::Url::parse(base).map_err(|e| anyhow!("--upload {base:?} is not a valid URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        bail!("--upload {base:?} must be the http(s) URL of an authprobe server");
    }
    if u.path().trim_end_matches('/').ends_with("/api/v1/reports") {
        return Ok(u);
    }
    let mut s = u.to_string();
    if !s.ends_with('/') {
        s.push('/');
    }
    url::Url::parse(&s)?
        .join("api/v1/reports")
        .map_err(Into::into)
}

/// Writes the outputs and applies the gates (`finish`), then sends the report when
/// `--upload` is given. The local outputs come first: a server that is down must not cost
/// the report; the failed upload then makes the exit code 2.
pub async fn finish_and_upload(
    report: Report,
    out: &OutputArgs,
    finish: impl FnOnce(Report, &OutputArgs) -> Result<i32>,
) -> Result<i32> {
    let Some(base) = out.upload.clone() else {
        return finish(report, out);
    };
    let body = report.to_json();
    let code = finish(report, out)?;
    let url = upload_url(&base)?;
    let key = server_key()?;
    let tls = authprobe::http::TlsSettings::default()
        .client_config(None)
        .map_err(|e| anyhow!("TLS configuration: {e}"))?;
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("authprobe/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("--upload: HTTP client")?;
    let answer = client
        .post(url.clone())
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| anyhow!("--upload {url}: {}", without_url(&e)))?;
    let status = answer.status();
    let text = answer.text().await.unwrap_or_default();
    if status.as_u16() != 201 {
        let why = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
            .unwrap_or_else(|| text.chars().take(200).collect());
        bail!("--upload {url}: the server answered {status}: {why}");
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let id = v["scan"]["id"].as_i64().unwrap_or_default();
    let page = url
        .join(&format!("/scans/{id}"))
        .map(|u| u.to_string())
        .unwrap_or_default();
    output::note(&format!("authprobe: uploaded as scan {id}: {page}"));
    Ok(code)
}

fn without_url(e: &reqwest::Error) -> String {
    let mut parts = vec![];
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        parts.push(s.to_string());
        src = s.source();
    }
    parts.last().cloned().unwrap_or_default()
}
