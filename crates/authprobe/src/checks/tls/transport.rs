//! What the transport checks (`tls.legacy_protocol` … `tls.cert_weak_key`) read: one
//! prober scan of the endpoint, its certificate chain parsed, and the chain's verdict.
//! Gathered once per scan (see [`crate::checks::Shared`]) so six checks cost one
//! enumeration, and reused as is by `authprobe tls`.

use crate::finding::Evidence;
use crate::http::TlsSettings;
use authprobe_tls::{ProbeOptions, Prober, ScanReport, TlsVersion};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;
use url::Url;
use x509_parser::prelude::*;

/// An endpoint to probe, and the name its certificate must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsTarget {
    pub host: String,
    pub port: u16,
    /// Sent as SNI, and the name the certificate is checked against. `None` when the
    /// host is an IP address and no `--sni` was given: TLS forbids IP literals in SNI,
    /// and the certificate is then checked for the address.
    pub sni: Option<String>,
}

impl TlsTarget {
    pub fn from_url(u: &Url) -> Option<Self> {
        let host = match u.host()? {
            url::Host::Domain(d) => d.to_string(),
            url::Host::Ipv4(a) => a.to_string(),
            url::Host::Ipv6(a) => a.to_string(),
        };
        let port = u.port_or_known_default()?;
        let sni = host.parse::<IpAddr>().is_err().then(|| host.clone());
        Some(Self { host, port, sni })
    }

    /// `HOST:PORT`, `HOST` (port 443), `[V6]:PORT` or an `https://` URL.
    pub fn parse(spec: &str, sni: Option<String>) -> Result<Self, String> {
        let mut t = if spec.contains("://") {
            let u = Url::parse(spec).map_err(|e| format!("{spec:?} is not a valid URL: {e}"))?;
            Self::from_url(&u).ok_or_else(|| format!("{spec:?} has no host"))?
        } else {
            let (host, port) = if let Some(rest) = spec.strip_prefix('[') {
                let (h, p) = rest
                    .split_once(']')
                    .ok_or_else(|| format!("{spec:?}: unclosed [ in an IPv6 address"))?;
                (h.to_string(), p.strip_prefix(':'))
            } else if spec.matches(':').count() > 1 {
                (spec.to_string(), None) // a bare IPv6 address
            } else {
                match spec.split_once(':') {
                    Some((h, p)) => (h.to_string(), Some(p)),
                    None => (spec.to_string(), None),
                }
            };
            let port = match port {
                Some(p) => p
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("{spec:?}: {p:?} is not a port number"))?,
                None => 443,
            };
            if host.is_empty() {
                return Err(format!("{spec:?} has no host"));
            }
            let sni = host.parse::<IpAddr>().is_err().then(|| host.clone());
            Self { host, port, sni }
        };
        if let Some(s) = sni {
            t.sni = Some(s);
        }
        Ok(t)
    }

    pub fn display(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The name the certificate must be valid for.
    pub fn expected_name(&self) -> Option<ServerName<'static>> {
        let name = self.sni.as_deref().unwrap_or(&self.host);
        ServerName::try_from(name.to_string()).ok()
    }
}

/// How the endpoint was probed: limits shared with the rest of the scan.
#[derive(Clone, Debug)]
pub struct GatherOptions {
    pub timeout: Duration,
    pub concurrency: usize,
    /// The scan's per-host connection limiter, so handshakes and HTTP requests share
    /// one cap; `None` gives the prober its own.
    pub limiter: Option<Arc<Semaphore>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// "RSA", "EC", "Ed25519", "DSA" or the algorithm's OID name.
    #[serde(rename = "type")]
    pub kind: String,
    pub bits: u32,
    /// The named curve of an EC key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub curve: Option<String>,
}

/// One certificate of the chain, as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub key: KeyInfo,
    pub signature_algorithm: String,
    pub sans: Vec<String>,
    /// Subject and issuer are the same name.
    pub self_issued: bool,
    #[serde(skip)]
    pub not_before_unix: i64,
    #[serde(skip)]
    pub not_after_unix: i64,
}

impl CertInfo {
    pub fn parse(der: &[u8]) -> Result<Self, String> {
        let (_, cert) = parse_x509_certificate(der)
            .map_err(|e| format!("not a parseable X.509 certificate: {e}"))?;
        let reg = x509_parser::objects::oid_registry();
        let spki = cert.public_key();
        let alg = &spki.algorithm.algorithm;
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok())
            .map(|o| {
                x509_parser::objects::oid2sn(&o, reg)
                    .map(str::to_string)
                    .unwrap_or_else(|_| o.to_id_string())
            });
        let key = match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(k)) => KeyInfo {
                kind: "RSA".into(),
                bits: k.key_size() as u32,
                curve: None,
            },
            Ok(x509_parser::public_key::PublicKey::EC(k)) => KeyInfo {
                kind: "EC".into(),
                bits: k.key_size() as u32,
                curve,
            },
            Ok(x509_parser::public_key::PublicKey::DSA(y)) => KeyInfo {
                kind: "DSA".into(),
                bits: (y.len() * 8) as u32,
                curve: None,
            },
            _ => {
                let name = x509_parser::objects::oid2sn(alg, reg)
                    .map(str::to_string)
                    .unwrap_or_else(|_| alg.to_id_string());
                let bits = match name.as_str() {
                    "ED25519" | "Ed25519" | "ed25519" => 256,
                    "ED448" | "Ed448" | "ed448" => 456,
                    _ => 0,
                };
                KeyInfo {
                    kind: if bits == 256 { "Ed25519".into() } else { name },
                    bits,
                    curve: None,
                }
            }
        };
        let sig = cert.signature_algorithm.algorithm.to_id_string();
        let signature_algorithm = signature_name(&sig)
            .map(str::to_string)
            .or_else(|| {
                x509_parser::objects::oid2sn(&cert.signature_algorithm.algorithm, reg)
                    .ok()
                    .map(str::to_string)
            })
            .unwrap_or(sig);
        let mut sans = Vec::new();
        if let Ok(Some(ext)) = cert.subject_alternative_name() {
            for n in &ext.value.general_names {
                match n {
                    GeneralName::DNSName(d) => sans.push(format!("DNS:{d}")),
                    GeneralName::IPAddress(b) => {
                        let ip = match b.len() {
                            4 => <[u8; 4]>::try_from(*b).ok().map(IpAddr::from),
                            16 => <[u8; 16]>::try_from(*b).ok().map(IpAddr::from),
                            _ => None,
                        };
                        if let Some(ip) = ip {
                            sans.push(format!("IP:{ip}"));
                        }
                    }
                    GeneralName::URI(u) => sans.push(format!("URI:{u}")),
                    GeneralName::RFC822Name(e) => sans.push(format!("email:{e}")),
                    _ => {}
                }
            }
        }
        let v = cert.validity();
        let (nb, na) = (v.not_before.timestamp(), v.not_after.timestamp());
        Ok(Self {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            serial: cert.raw_serial_as_string(),
            not_before: rfc3339(nb),
            not_after: rfc3339(na),
            key,
            signature_algorithm,
            sans,
            self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
            not_before_unix: nb,
            not_after_unix: na,
        })
    }

    /// Why this certificate's key or signature is weak, if it is (`tls.cert_weak_key`).
    /// The signature of a self-issued certificate is not judged: a trust anchor is
    /// trusted for its key, not for its self-signature.
    pub fn weaknesses(&self) -> Vec<String> {
        let mut w = Vec::new();
        match self.key.kind.as_str() {
            "RSA" | "DSA" if self.key.bits < 2048 => {
                w.push(format!("{}-{} key", self.key.kind, self.key.bits))
            }
            "EC" if self.key.bits < 256 => w.push(format!(
                "EC-{} key{}",
                self.key.bits,
                self.key
                    .curve
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            )),
            _ => {}
        }
        let sig = self.signature_algorithm.to_ascii_lowercase();
        if !self.self_issued
            && ["md2", "md4", "md5", "sha1"]
                .iter()
                .any(|h| sig.contains(h))
        {
            w.push(format!("{} signature", self.signature_algorithm));
        }
        w
    }
}

/// OpenSSL's names for the signature algorithms certificates use; the OID registry lacks
/// some (ECDSA with SHA-1 among them), and a weak one must read as such.
fn signature_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.3" => "dsa_with_SHA1",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        _ => return None,
    })
}

/// webpki's reasons in a line a user can act on (its Debug forms dump OID bytes).
fn describe(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnsupportedSignatureAlgorithmContext { .. } => {
                "a certificate is signed with an algorithm webpki refuses (SHA-1 or MD5, for one)"
                    .into()
            }
            C::BadSignature => "a certificate's signature does not verify".into(),
            C::BadEncoding => "a certificate is malformed".into(),
            C::UnknownIssuer => "no issuer found among the trust anchors".into(),
            other => {
                let mut t = format!("{other:?}");
                t.truncate(160);
                t
            }
        },
        other => {
            let mut t = other.to_string();
            t.truncate(160);
            t
        }
    }
}

fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn rfc3339(unix: i64) -> String {
    let t = if unix >= 0 {
        UNIX_EPOCH + Duration::from_secs(unix as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(unix.unsigned_abs())
    };
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Why the chain does not validate (`tls.cert_invalid`). Each is established on its own,
/// so a self-signed certificate for the wrong host that also expired names all three.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum CertProblem {
    Expired { not_after: String },
    NotYetValid { not_before: String },
    SelfSigned { subject: String },
    Untrusted { reason: String },
    WrongHost { name: String, sans: Vec<String> },
    Unparseable { reason: String },
}

impl std::fmt::Display for CertProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Expired { not_after } => write!(f, "expired: not valid after {not_after}"),
            Self::NotYetValid { not_before } => {
                write!(f, "not yet valid: not valid before {not_before}")
            }
            Self::SelfSigned { subject } => {
                write!(
                    f,
                    "self-signed: {subject} is its own issuer and not a trusted root"
                )
            }
            Self::Untrusted { reason } => write!(f, "untrusted: {reason}"),
            Self::WrongHost { name, sans } => write!(
                f,
                "wrong host: not valid for {name} (names: {})",
                if sans.is_empty() {
                    "none".to_string()
                } else {
                    sans.join(", ")
                }
            ),
            Self::Unparseable { reason } => write!(f, "unparseable: {reason}"),
        }
    }
}

impl CertProblem {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not yet valid",
            Self::SelfSigned { .. } => "self-signed",
            Self::Untrusted { .. } => "untrusted",
            Self::WrongHost { .. } => "wrong host",
            Self::Unparseable { .. } => "unparseable",
        }
    }
}

/// The trust anchors a chain is judged against.
#[derive(Clone, Debug)]
pub struct Anchors {
    pub roots: Arc<RootCertStore>,
    /// The anchors as certificates, to tell a pinned self-signed certificate from a
    /// stray one.
    pub certs: Vec<CertificateDer<'static>>,
    /// "the system trust store" or "--server-ca PATH", for findings.
    pub source: String,
}

impl Anchors {
    /// `--server-ca` when given, else the system store. `--insecure` only lets the scan's
    /// HTTP requests through; the certificate is still judged against the system store.
    pub fn from_settings(tls: &TlsSettings) -> Self {
        let (certs, source) = match &tls.server_ca {
            Some((path, certs)) => (certs.clone(), format!("--server-ca {}", path.display())),
            None => (
                rustls_native_certs::load_native_certs().certs,
                "the system trust store".to_string(),
            ),
        };
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(certs.iter().cloned());
        Self {
            roots: Arc::new(roots),
            certs,
            source,
        }
    }
}

fn is_time_error(e: &rustls::Error) -> bool {
    use rustls::CertificateError as C;
    matches!(
        e,
        rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. }
        )
    )
}

/// Judges `chain` (leaf first) for `name` at `now`.
pub fn validate(
    chain: &[CertificateDer<'static>],
    name: Option<&ServerName<'static>>,
    anchors: &Anchors,
    now: SystemTime,
) -> Vec<CertProblem> {
    let Some(leaf_der) = chain.first() else {
        return vec![CertProblem::Unparseable {
            reason: "the server sent no certificate".into(),
        }];
    };
    let info = match CertInfo::parse(leaf_der) {
        Ok(i) => i,
        Err(reason) => return vec![CertProblem::Unparseable { reason }],
    };
    let leaf = match rustls::server::ParsedCertificate::try_from(leaf_der) {
        Ok(l) => l,
        Err(e) => {
            return vec![CertProblem::Unparseable {
                reason: e.to_string(),
            }];
        }
    };
    let mut problems = Vec::new();
    let now_unix = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let dates_bad = if now_unix > info.not_after_unix {
        problems.push(CertProblem::Expired {
            not_after: info.not_after.clone(),
        });
        true
    } else if now_unix < info.not_before_unix {
        problems.push(CertProblem::NotYetValid {
            not_before: info.not_before.clone(),
        });
        true
    } else {
        false
    };

    if info.self_issued && !anchors.certs.iter().any(|a| a == leaf_der) {
        // webpki checks dates before it looks for an issuer, so an expired self-signed
        // certificate would never read "self-signed" from it.
        problems.push(CertProblem::SelfSigned {
            subject: info.subject.clone(),
        });
    } else {
        // Judge trust at instants the leaf is valid too, so an expired certificate from a
        // trusted CA reads "expired" and not also "untrusted".
        let mut instants = vec![now_unix];
        if dates_bad {
            instants.push(info.not_before_unix + (info.not_after_unix - info.not_before_unix) / 2);
            instants.push(info.not_after_unix);
        }
        let provider = ring_provider();
        let verdicts: Vec<Result<(), rustls::Error>> = instants
            .into_iter()
            .map(|t| {
                rustls::client::verify_server_cert_signed_by_trust_anchor(
                    &leaf,
                    &anchors.roots,
                    &chain[1..],
                    UnixTime::since_unix_epoch(Duration::from_secs(t.max(0) as u64)),
                    provider.signature_verification_algorithms.all,
                )
            })
            .collect();
        if !verdicts.iter().any(Result::is_ok) {
            let other = verdicts
                .iter()
                .filter_map(|v| v.as_ref().err())
                .find(|e| !is_time_error(e));
            match other {
                Some(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::UnknownIssuer,
                )) => problems.push(CertProblem::Untrusted {
                    reason: format!(
                        "no chain from {} to a CA in {}",
                        info.issuer, anchors.source
                    ),
                }),
                Some(e) => problems.push(CertProblem::Untrusted {
                    reason: format!("the chain does not verify: {}", describe(e)),
                }),
                None if !dates_bad => problems.push(CertProblem::Untrusted {
                    reason: "a certificate of the chain is outside its validity period".into(),
                }),
                None => {}
            }
        }
    }
    if let Some(name) = name
        && rustls::client::verify_server_name(&leaf, name).is_err()
    {
        problems.push(CertProblem::WrongHost {
            name: name.to_str().into_owned(),
            sans: info.sans.clone(),
        });
    }
    problems
}

/// Everything the transport checks and the report's `tls` section need.
#[derive(Debug)]
pub struct TlsFacts {
    pub target: TlsTarget,
    pub scan: ScanReport,
    pub chain: Vec<CertificateDer<'static>>,
    /// Where the chain came from.
    pub chain_source: String,
    pub certs: Vec<CertInfo>,
    pub problems: Vec<CertProblem>,
    pub anchors_source: String,
    /// Handshakes of the prober plus the rustls one that fetched a TLS 1.3-only chain.
    pub handshakes: u32,
    pub duration_ms: u64,
}

impl TlsFacts {
    pub fn speaks_tls(&self) -> bool {
        self.scan.protocols.iter().any(|p| p.accepted)
    }

    /// Evidence for a transport finding: what was offered, what came back, and the
    /// curl line that reproduces it.
    pub fn evidence(&self, request: String, excerpt: String, command: String) -> Evidence {
        Evidence {
            request,
            status: None,
            excerpt,
            curl: command,
        }
    }
}

/// Probes `target` and judges its certificate.
pub async fn gather(
    target: &TlsTarget,
    tls: &TlsSettings,
    opts: &GatherOptions,
) -> Result<TlsFacts, String> {
    let started = std::time::Instant::now();
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("cannot resolve {}: {e}", target.display()))?
        .collect();
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

/// The facts for the scan's target, gathered on first use.
pub async fn facts(ctx: &crate::scan::Scan) -> Result<Arc<TlsFacts>, String> {
    ctx.facts()
        .tls
        .get_or_init(|| async {
            let Some(target) = TlsTarget::from_url(&ctx.opts().target) else {
                return Err("the target URL has no host".to_string());
            };
            let limits = ctx.http().limits();
            let opts = GatherOptions {
                timeout: limits.timeout,
                concurrency: limits.concurrency,
                limiter: Some(ctx.http().host_limiter(&ctx.opts().target).await),
            };
            // Each handshake has its own timeout; the scan's --max-time bounds them all, so
            // a server that stalls every handshake cannot hold the scan for minutes.
            let run = gather(&target, &ctx.opts().tls, &opts);
            let gathered = match ctx.http().time_left() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        let t = TlsTarget::parse("example.test:8443", None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("example.test", 8443));
        assert_eq!(t.sni.as_deref(), Some("example.test"));
        let t = TlsTarget::parse("127.0.0.1:443", Some("api.test".into())).unwrap();
        assert_eq!(t.sni.as_deref(), Some("api.test"));
        let t = TlsTarget::parse("127.0.0.1", None).unwrap();
        assert_eq!((t.port, t.sni.clone()), (443, None));
        let t = TlsTarget::parse("[::1]:9443", None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9443));
        assert_eq!(t.display(), "[::1]:9443");
        let t = TlsTarget::parse("https://api.test/v1/me", None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("api.test", 443));
        assert!(TlsTarget::parse("host:http", None).is_err());
        assert!(TlsTarget::parse(":443", None).is_err());
    }
}
