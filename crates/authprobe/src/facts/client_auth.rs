//! Client-auth discovery: does the server ask for a client certificate, and does it
//! insist? One rustls connection per protocol version, presenting no certificate; a
//! recording certificate resolver keeps what the CertificateRequest announced (the CA
//! names and signature schemes rustls hands every client).

use crate::facts::FactCell;
use crate::facts::tls::TlsTarget;
use crate::scan::Scan;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::ServerName;
use rustls::{ProtocolVersion, SignatureScheme};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

/// The `client_auth` section of the JSON report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAuthSection {
    /// `none`, `optional`, `required`, or `unknown` when no version could be probed.
    pub mode: String,
    /// One entry per protocol version probed.
    pub versions: Vec<VersionClientAuth>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionClientAuth {
    /// `TLSv1.2` or `TLSv1.3`.
    pub protocol: String,
    /// `none`, `optional`, `required`, or `not offered` (the server does not speak this
    /// version) or `error`.
    pub mode: String,
    /// Acceptable CA names from the CertificateRequest, RFC 4514 strings, in wire order.
    pub ca_names: Vec<String>,
    /// Signature schemes the server accepts for the client's CertificateVerify.
    pub signature_algorithms: Vec<String>,
    /// What happened after the server got no certificate: an HTTP status line, or the
    /// TLS error.
    pub without_certificate: String,
}

impl ClientAuthSection {
    pub fn requested(&self) -> bool {
        self.mode == "optional" || self.mode == "required"
    }
}

#[derive(Debug, Default)]
struct Seen {
    requested: bool,
    names: Vec<Vec<u8>>,
    schemes: Vec<SignatureScheme>,
}

/// Presents no certificate, but remembers what was asked for.
#[derive(Debug, Default)]
struct Recorder(Mutex<Seen>);

impl ResolvesClientCert for Recorder {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        if let Ok(mut s) = self.0.lock() {
            s.requested = true;
            s.names = root_hint_subjects.iter().map(|n| n.to_vec()).collect();
            s.schemes = sigschemes.to_vec();
        }
        None
    }

    fn has_certs(&self) -> bool {
        // rustls only calls `resolve` for a client that has certificates to offer.
        true
    }
}

/// The IANA name of a signature scheme (RFC 8446 §4.2.3), as openssl and testssl.sh
/// print them; unregistered code points in hex.
fn scheme_name(s: SignatureScheme) -> String {
    let code = u16::from(s);
    match authprobe_tls::SignatureScheme(code).name() {
        Some(name) => name.to_string(),
        None => format!("0x{code:04x}"),
    }
}

/// Names as text; a name that does not parse is shown in hex rather than dropped.
fn name_text(der: &[u8]) -> String {
    use x509_parser::prelude::FromDer;
    match x509_parser::x509::X509Name::from_der(der) {
        Ok((_, n)) => n.to_string(),
        Err(_) => format!(
            "(unparsable name {})",
            der.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

/// Whether the handshake's failure after an empty Certificate means "a certificate is
/// required": the server ended it with a fatal alert (certificate_required,
/// handshake_failure, bad_certificate...). Read from the rustls error's type, not its words;
/// a reset or a closed socket says nothing.
fn refusal_means_required(err: Option<&rustls::Error>) -> bool {
    matches!(err, Some(rustls::Error::AlertReceived(_)))
}

/// Whether a handshake that never asked for a certificate failed because this protocol
/// version is not offered.
fn version_refused(err: Option<&rustls::Error>) -> bool {
    use rustls::AlertDescription as A;
    matches!(
        err,
        Some(rustls::Error::AlertReceived(
            A::ProtocolVersion | A::HandshakeFailure
        )) | Some(rustls::Error::PeerIncompatible(_))
    )
}

/// A failed step: whether the TLS server was reached, the text, and the rustls error when
/// there is one.
type Failure = (bool, String, Option<rustls::Error>);

fn failure(reached: bool, e: std::io::Error) -> Failure {
    let tls = crate::http::rustls_error(&e).cloned();
    (reached, e.to_string(), tls)
}

/// nginx with `ssl_verify_client on` completes the handshake and answers 400 with this
/// text; other servers that insist at the HTTP layer say so in their own words, which
/// only the oracle-judged checks can read.
const NGINX_NO_CERT: &str = "No required SSL certificate was sent";

async fn probe_version(
    addr: std::net::SocketAddr,
    target: &TlsTarget,
    path: &str,
    version: &'static rustls::SupportedProtocolVersion,
    timeout: Duration,
) -> VersionClientAuth {
    let protocol = match version.version {
        ProtocolVersion::TLSv1_2 => "TLSv1.2",
        _ => "TLSv1.3",
    };
    let recorder = Arc::new(Recorder::default());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut out = VersionClientAuth {
        protocol: protocol.into(),
        mode: "error".into(),
        ca_names: Vec::new(),
        signature_algorithms: Vec::new(),
        without_certificate: String::new(),
    };
    let config = match rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
    {
        Ok(b) => b
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(crate::http::AcceptAny::new(provider)))
            .with_client_cert_resolver(recorder.clone()),
        Err(e) => {
            out.without_certificate = e.to_string();
            return out;
        }
    };
    let name = match &target.sni {
        Some(n) => match ServerName::try_from(n.clone()) {
            Ok(n) => n,
            Err(e) => {
                out.without_certificate = e.to_string();
                return out;
            }
        },
        None => ServerName::IpAddress(addr.ip().into()),
    };
    let host = target.sni.clone().unwrap_or_else(|| target.display());
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: authprobe/{}\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    let handshake = async {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| (false, format!("connect to {addr}: {e}"), None))?;
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| failure(true, e))?;
        tls.write_all(request.as_bytes())
            .await
            .map_err(|e| failure(true, e))?;
        // The status line and a little body are all that is needed; the cap bounds a
        // server that streams.
        let mut buf = vec![0u8; 4096];
        let mut got = 0;
        while got < buf.len() {
            match tls.read(&mut buf[got..]).await {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if got == 0 => return Err(failure(true, e)),
                Err(_) => break,
            }
        }
        buf.truncate(got);
        Ok::<_, Failure>(String::from_utf8_lossy(&buf).into_owned())
    };
    let result = match tokio::time::timeout(timeout, handshake).await {
        Ok(r) => r,
        Err(_) => Err((true, format!("timed out after {timeout:?}"), None)),
    };
    let seen = recorder
        .0
        .lock()
        .map(|s| (s.requested, s.names.clone(), s.schemes.clone()));
    let (requested, names, schemes) = seen.unwrap_or_default();
    out.ca_names = names.iter().map(|n| name_text(n)).collect();
    out.signature_algorithms = schemes.iter().map(|s| scheme_name(*s)).collect();
    match result {
        Ok(text) => {
            let status = text.lines().next().unwrap_or("").trim().to_string();
            out.without_certificate = if status.is_empty() {
                "connection closed without an HTTP answer".into()
            } else {
                status.clone()
            };
            out.mode = if !requested {
                "none"
            } else if text.contains(NGINX_NO_CERT) || status.is_empty() {
                "required"
            } else {
                "optional"
            }
            .into();
        }
        Err((reached, e, tls)) => {
            out.without_certificate = e;
            out.mode = if requested && refusal_means_required(tls.as_ref()) {
                "required"
            } else if reached && !requested && version_refused(tls.as_ref()) {
                "not offered"
            } else {
                "error"
            }
            .into();
        }
    }
    out
}

/// Client-auth discovery, run at most once per scan.
#[derive(Default)]
pub struct ClientAuth {
    cell: FactCell<Result<ClientAuthSection, String>>,
}

impl ClientAuth {
    /// What the server says about client certificates (the report's `client_auth` section).
    pub async fn get(&self, ctx: &Scan) -> Result<&ClientAuthSection, String> {
        self.cell
            .get_or_init(|| async {
                let url = &ctx.opts().target;
                if url.scheme() != "https" {
                    return Err("the target is not https://".to_string());
                }
                if ctx.opts().proxy.is_some() {
                    return Err(crate::facts::NOT_THROUGH_PROXY.to_string());
                }
                let Some(target) = TlsTarget::from_url(url) else {
                    return Err("the target URL has no host".to_string());
                };
                let limiter = ctx.host_limiter(url).await;
                let guard = ctx.opts().guard.clone();
                discover(
                    &target,
                    url.path(),
                    ctx.limits().timeout,
                    Some(limiter),
                    guard,
                )
                .await
            })
            .await
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The report's view of the discovery, if it ran.
    pub fn section(&self) -> Option<ClientAuthSection> {
        self.cell.get().and_then(|r| r.as_ref().ok()).cloned()
    }
}

/// Probes TLS 1.2 and 1.3 (one connection each, under the scan's per-host limiter).
pub async fn discover(
    target: &TlsTarget,
    path: &str,
    timeout: Duration,
    limiter: Option<Arc<Semaphore>>,
    guard: Option<Arc<dyn crate::http::AddressGuard>>,
) -> Result<ClientAuthSection, String> {
    let addrs: Vec<std::net::SocketAddr> = tokio::time::timeout(
        timeout,
        crate::http::resolve(&target.host, target.port, guard.as_ref()),
    )
    .await
    .map_err(|_| format!("resolving {} timed out", target.host))??;
    let addr = *addrs
        .first()
        .ok_or_else(|| format!("{} has no address", target.host))?;
    let mut versions = Vec::new();
    for v in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let _permit = match &limiter {
            Some(l) => Some(l.acquire().await.map_err(|e| e.to_string())?),
            None => None,
        };
        versions.push(probe_version(addr, target, path, v, timeout).await);
    }
    let modes: Vec<&str> = versions.iter().map(|v| v.mode.as_str()).collect();
    let mode = if modes.contains(&"required") && !modes.contains(&"optional") {
        "required"
    } else if modes.contains(&"optional") {
        "optional"
    } else if modes.contains(&"none") {
        "none"
    } else {
        "unknown"
    };
    Ok(ClientAuthSection {
        mode: mode.into(),
        versions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_that_mean_required() {
        assert!(refusal_means_required(Some(&rustls::Error::AlertReceived(
            rustls::AlertDescription::CertificateRequired
        ))));
        assert!(!refusal_means_required(None));
        assert!(!refusal_means_required(Some(
            &rustls::Error::HandshakeNotComplete
        )));
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::BadCertificate),
        );
        assert!(refusal_means_required(failure(true, io).2.as_ref()));
    }

    #[test]
    fn schemes_by_their_iana_names() {
        assert_eq!(
            scheme_name(SignatureScheme::ECDSA_NISTP256_SHA256),
            "ecdsa_secp256r1_sha256"
        );
        assert_eq!(
            scheme_name(SignatureScheme::from(0x0809)),
            "rsa_pss_pss_sha256"
        );
        assert_eq!(scheme_name(SignatureScheme::from(0xfe00)), "0xfe00");
    }

    #[test]
    fn unparsable_names_are_shown_not_dropped() {
        assert!(name_text(&[0xff, 0x00]).starts_with("(unparsable name ff00"));
    }
}
