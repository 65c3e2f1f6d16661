//! `authprobe tls`: one TLS endpoint's transport checks, without any HTTP request.

use crate::cli::args::TlsArgs;
use crate::cli::output::finish;
use anyhow::{Result, anyhow};
use authprobe::http::TlsSettings;

pub async fn run_tls(a: TlsArgs) -> Result<i32> {
    use authprobe::facts::tls::{GatherOptions, TlsTarget};
    crate::cli::output::check_outputs(&a.output)?;
    let target = TlsTarget::parse(&a.target, a.sni.clone()).map_err(|e| anyhow!(e))?;
    let server_ca = match &a.server_ca {
        Some(p) => Some((p.clone(), authprobe::load::load_server_ca(p)?)),
        None => None,
    };
    let report = authprobe::engine::tls_scan(&authprobe::engine::TlsScanOptions {
        target,
        tls: TlsSettings {
            server_ca,
            insecure: false,
        },
        gather: GatherOptions {
            timeout: a.timeout,
            concurrency: a.concurrency as usize,
            limiter: None,
            guard: None,
        },
    })
    .await?;
    finish(report, &a.output, true)
}
