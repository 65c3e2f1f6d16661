//! The first-hour mistakes, caught before or right after the baselines so that the scan
//! stops with the fix instead of a page of inconclusive checks: the wrong scheme for the
//! port, an `http://` target that only redirects to HTTPS, and credentials about to cross
//! the network in clear.

use super::{ScanError, ScanOptions};
use crate::http::{AcceptAny, TransportError};
use crate::scan::Baseline;
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

/// Whether `url` names this machine: credentials sent there in clear never cross a wire.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        None => false,
    }
}

/// Header names that carry a credential as surely as `--bearer` does.
fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie"
    ) || ["token", "key", "secret", "auth", "session", "password"]
        .iter()
        .any(|w| n.contains(w))
}

/// The credentials the scan would send in clear to a host off this machine, named as the
/// options that gave them; empty when nothing would.
pub fn plain_http_credentials(opts: &ScanOptions) -> Vec<String> {
    let exposed = |u: &Url| u.scheme() == "http" && !is_loopback(u);
    let mut out = Vec::new();
    if exposed(&opts.target) {
        if opts.creds.bearer.is_some() {
            out.push("--bearer".to_string());
        }
        if opts.creds.basic.is_some() {
            out.push("--basic".to_string());
        }
        for (name, _) in &opts.creds.headers {
            if is_secret_header(name) {
                out.push(format!("--header {name}"));
            }
        }
    }
    if opts.creds.basic.is_some()
        && !out.iter().any(|o| o == "--basic")
        && opts.basic.url.as_ref().is_some_and(exposed)
    {
        out.push("--basic (at --basic-url)".to_string());
    }
    out
}

/// Refuses to send credentials over plain HTTP off this machine unless the user said so.
pub fn check_plain_http_credentials(opts: &ScanOptions) -> Result<(), ScanError> {
    let exposed = plain_http_credentials(opts);
    if exposed.is_empty() || opts.allow_plain_http_credentials {
        return Ok(());
    }
    Err(ScanError::Invalid(format!(
        "refusing to send {} over plain HTTP to {} (anyone on the path can read and replay \
         it): scan the https:// URL, or pass --allow-plain-http-credentials to send it anyway",
        exposed.join(", "),
        opts.target
    )))
}

/// `url` with `scheme`, keeping its port even where it was the old scheme's default (a
/// plain-HTTP server on 443 is still on 443).
pub fn with_scheme(url: &Url, scheme: &str) -> Url {
    let mut u = url.clone();
    let port = url.port_or_known_default();
    if u.set_scheme(scheme).is_ok() && u.port().is_none() && u.port_or_known_default() != port {
        let _ = u.set_port(port);
    }
    u
}

/// The HTTPS URL an `http://` target redirects to, when both anonymous answers were such a
/// redirect: scanning the redirect itself would judge nothing but the redirect.
pub fn https_redirect(target: &Url, anonymous: &Baseline) -> Option<Url> {
    let mut to = None;
    for x in &anonymous.exchanges {
        let a = x.answer()?;
        if !matches!(a.status, 301 | 302 | 303 | 307 | 308) {
            return None;
        }
        let loc = target.join(a.header("location")?).ok()?;
        if loc.scheme() != "https" {
            return None;
        }
        to = Some(loc);
    }
    to
}

/// The error for an `http://` target that redirects to HTTPS. No credential has been sent
/// when this is raised: the anonymous baseline goes first for `http://` targets.
pub fn redirect_error(target: &Url, to: &Url) -> ScanError {
    ScanError::Unreachable(format!(
        "{target} redirects to {to}: the server wants HTTPS, so scan {to} instead (no \
         credential was sent over plain HTTP)"
    ))
}

/// What to add to "cannot reach URL: ERR" so the user knows the fix.
pub async fn unreachable_hint(
    opts: &ScanOptions,
    first: Option<&TransportError>,
    timeout: Duration,
) -> String {
    match first {
        Some(TransportError::ServerCertificate(_)) => {
            " (use --server-ca PEM to trust the server's CA, or --insecure)".to_string()
        }
        Some(TransportError::NotTls(_)) => format!(
            " (the server answered in plain HTTP, not TLS: try {})",
            with_scheme(&opts.target, "http")
        ),
        Some(_) if wrong_scheme_http(opts, timeout).await => format!(
            " (the server speaks TLS on this port: try {})",
            with_scheme(&opts.target, "https")
        ),
        _ => String::new(),
    }
}

/// The error when every reference answer to an `http://` target was a 400 and the port
/// speaks TLS: nginx answers a plain request on its TLS port with a plain-HTTP `400 The
/// plain HTTP request was sent to HTTPS port` rather than an alert, and the preflight
/// would then blame the credentials.
pub async fn bad_request_from_tls_port(
    opts: &ScanOptions,
    reference: &Baseline,
    timeout: Duration,
) -> Option<ScanError> {
    let all_400 = reference
        .exchanges
        .iter()
        .all(|x| x.answer().is_some_and(|a| a.status == 400));
    if !all_400 || !wrong_scheme_http(opts, timeout).await {
        return None;
    }
    Some(ScanError::Unreachable(format!(
        "cannot scan {}: every request got 400 and the server speaks TLS on this port: try {}",
        opts.target,
        with_scheme(&opts.target, "https")
    )))
}

/// Whether an `http://` target's port completes (or refuses in TLS's own words) a TLS
/// handshake. Never through `--proxy`: this opens its own connection, and with a proxy
/// the user is not told a guess the proxy's path might contradict.
async fn wrong_scheme_http(opts: &ScanOptions, timeout: Duration) -> bool {
    if opts.target.scheme() != "http" || opts.proxy.is_some() {
        return false;
    }
    let (Some(host), Some(port)) = (opts.target.host_str(), opts.target.port_or_known_default())
    else {
        return false;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let Ok(builder) = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
    else {
        return false;
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny::new(provider)))
        .with_no_client_auth();
    let name = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => rustls::pki_types::ServerName::IpAddress(ip.into()),
        Err(_) => match rustls::pki_types::ServerName::try_from(host.clone()) {
            Ok(n) => n,
            Err(_) => return false,
        },
    };
    let attempt = async {
        let addrs = crate::http::resolve(&host, port, opts.guard.as_ref())
            .await
            .ok()?;
        let tcp = tokio::net::TcpStream::connect(addrs.as_slice())
            .await
            .ok()?;
        Some(
            tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await,
        )
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Some(Ok(_))) => true,
        // An alert (a client certificate it wants, a version it refuses) is TLS too; bytes
        // that are no TLS record, or a closed socket, are not.
        Ok(Some(Err(e))) => matches!(
            crate::http::rustls_error(&e),
            Some(rustls::Error::AlertReceived(_) | rustls::Error::InvalidCertificate(_))
        ),
        _ => false,
    }
}
