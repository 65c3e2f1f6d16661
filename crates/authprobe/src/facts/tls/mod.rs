//! What the transport checks (`tls.legacy_protocol` … `tls.cert_weak_key`) and the
//! report's `tls` section read: one prober scan of the endpoint, its certificate chain
//! parsed, and the chain's verdict. Gathered once per scan ([`for_scan`]) so six checks
//! cost one enumeration, and by `authprobe tls` ([`gather`]) with no HTTP scan around it.

mod certificate;
mod gather;
mod target;
mod validation;

pub use certificate::{CertInfo, KeyInfo, chain_text};
pub use gather::{GatherOptions, for_scan, gather};
pub use target::TlsTarget;
pub use validation::{Anchors, CertProblem, validate};

use crate::finding::Evidence;
use authprobe_tls::ScanReport;
use rustls::pki_types::CertificateDer;

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
        self.scan.speaks_tls()
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
