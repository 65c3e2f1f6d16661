//! Gathering the facts: one prober scan of the endpoint, the chain (from the prober, or
//! from one rustls handshake when TLS 1.3 hides it), and the chain's verdict.

use super::TlsFacts;
use super::certificate::CertInfo;
use super::target::TlsTarget;
use super::validation::{Anchors, ring_provider, validate};
use crate::http::TlsSettings;
use crate::scan::Scan;
use authprobe_tls::{ProbeOptions, Prober, TlsVersion};
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::Semaphore;

/// How the endpoint was probed: limits shared with the rest of the scan.
#[derive(Clone, Debug)]
pub struct GatherOptions {
    pub timeout: Duration,
    pub concurrency: usize,
    /// The scan's per-host connection limiter, so handshakes and HTTP requests share
    /// one cap; `None` gives the prober its own.
    pub limiter: Option<Arc<Semaphore>>,
    /// Where the prober may connect (the scan's scope); `None`: anywhere.
    pub guard: Option<Arc<dyn crate::http::AddressGuard>>,
}

/// Probes `target` and judges its certificate.
pub async fn gather(
    target: &TlsTarget,
    tls: &TlsSettings,
    opts: &GatherOptions,
) -> Result<TlsFacts, String> {
    let started = std::time::Instant::now();
    let addrs: Vec<SocketAddr> =
        crate::http::resolve(&target.host, target.port, opts.guard.as_ref()).await?;
    let addr = reachable(&addrs, opts.timeout)
        .await
        .ok_or_else(|| format!("{} resolves to no address", target.display()))?;
    let mut prober = Prober::new(
        addr,
        target.sni.as_deref(),
        ProbeOptions {
            step_timeout: opts.timeout,
            max_concurrency: opts.concurrency.max(1),
            ..ProbeOptions::default()
        },
    );
    if let Some(l) = &opts.limiter {
        prober = prober.with_limiter(l.clone());
    }
    let scan = prober.scan().await;
    if !scan.protocols.iter().any(|p| p.accepted) {
        let why = scan
            .errors
            .first()
            .cloned()
            .unwrap_or_else(|| "every ClientHello was refused".into());
        return Err(format!("no TLS handshake with {}: {why}", target.display()));
    }
    let mut handshakes = scan.handshakes;
    let (chain, chain_source) = if scan.certificate_chain.is_empty() {
        // A TLS 1.3-only server encrypts its Certificate message: finish one real handshake.
        handshakes += 1;
        let chain = fetch_chain(addr, target, opts.timeout, opts.limiter.as_ref()).await?;
        (chain, "a TLS 1.3 handshake (rustls)".to_string())
    } else {
        let v = scan.chain_version.map(TlsVersion::name).unwrap_or("TLS");
        (
            scan.certificate_chain
                .iter()
                .map(|d| CertificateDer::from(d.0.clone()))
                .collect(),
            format!("the {v} Certificate message"),
        )
    };
    let certs = chain
        .iter()
        .filter_map(|d| CertInfo::parse(d).ok())
        .collect();
    let anchors = Anchors::from_settings(tls);
    let problems = validate(
        &chain,
        target.expected_name().as_ref(),
        &anchors,
        SystemTime::now(),
    );
    Ok(TlsFacts {
        target: target.clone(),
        scan,
        chain,
        chain_source,
        certs,
        problems,
        anchors_source: anchors.source,
        handshakes,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// The facts for the scan's target, gathered by the first `tls.*` check that asks.
pub async fn for_scan(ctx: &Scan) -> Result<Arc<TlsFacts>, String> {
    ctx.facts()
        .tls
        .get_or_init(|| async {
            if ctx.opts().proxy.is_some() {
                return Err(crate::facts::NOT_THROUGH_PROXY.to_string());
            }
            let Some(target) = TlsTarget::from_url(&ctx.opts().target) else {
                return Err("the target URL has no host".to_string());
            };
            let limits = ctx.limits();
            let opts = GatherOptions {
                timeout: limits.timeout,
                concurrency: limits.concurrency,
                limiter: Some(ctx.host_limiter(&ctx.opts().target).await),
                guard: ctx.opts().guard.clone(),
            };
            // Each handshake has its own timeout; the scan's --max-time bounds them all, so
            // a server that stalls every handshake cannot hold the scan for minutes.
            let run = gather(&target, &ctx.opts().tls, &opts);
            let gathered = match ctx.time_left() {
                Some(left) => tokio::time::timeout(left, run).await.unwrap_or_else(|_| {
                    Err("the scan time limit (--max-time) ran out while probing TLS".to_string())
                }),
                None => run.await,
            };
            gathered.map(Arc::new)
        })
        .await
        .clone()
}

/// The first address that accepts a TCP connection, else the first one: `localhost` often
/// resolves to ::1 first while the server listens on 127.0.0.1 only, and every probe
/// would then fail on the wrong address.
async fn reachable(addrs: &[SocketAddr], timeout: Duration) -> Option<SocketAddr> {
    if addrs.len() > 1 {
        for a in addrs {
            let ok = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(a)).await;
            if matches!(ok, Ok(Ok(_))) {
                return Some(*a);
            }
        }
    }
    addrs.first().copied()
}

/// Completes one TLS 1.3 handshake with rustls only to read the server's chain; trust is
/// judged afterwards by [`validate`], so the verifier here records and accepts.
async fn fetch_chain(
    addr: SocketAddr,
    target: &TlsTarget,
    timeout: Duration,
    limiter: Option<&Arc<Semaphore>>,
) -> Result<Vec<CertificateDer<'static>>, String> {
    let _permit = match limiter {
        Some(l) => Some(l.acquire().await.map_err(|e| e.to_string())?),
        None => None,
    };
    let recorder = Arc::new(crate::http::AcceptAny::new(ring_provider()));
    let config = rustls::ClientConfig::builder_with_provider(ring_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let name = match &target.sni {
        Some(n) => ServerName::try_from(n.clone()).map_err(|e| e.to_string())?,
        None => ServerName::IpAddress(addr.ip().into()),
    };
    let work = async {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS 1.3 handshake with {addr}: {e}"))
    };
    let result = tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("TLS 1.3 handshake with {addr} timed out"))?;
    let chain = recorder.chain();
    match (result, chain.is_empty()) {
        (_, false) => Ok(chain),
        (Err(e), true) => Err(e),
        (Ok(_), true) => Err(format!("{addr} sent no certificate")),
    }
}
