//! The chain's verdict: whether the server's certificates validate for the name the client
//! asked for, against the trust anchors the user gave (or the system's).

use super::certificate::CertInfo;
use crate::http::TlsSettings;
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

pub(super) fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
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
