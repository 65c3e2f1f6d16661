//! The report's `tls` section: what the TLS prober saw (protocols, suites in the server's
//! order, groups, the certificate chain) and how it compares with Mozilla's intermediate
//! server-side TLS profile.

use crate::facts::tls::{CertInfo, TlsFacts};
use authprobe_tls::profile;
use authprobe_tls::report::SuiteReport;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSection {
    /// `host:port` probed.
    pub target: String,
    pub address: String,
    pub sni: Option<String>,
    /// TLS connections opened (one ClientHello each); not counted in `requests_sent`.
    pub handshakes: u32,
    pub duration_ms: u64,
    /// Every version probed, accepted or not.
    pub protocols: Vec<ProtocolEntry>,
    pub certificate_chain: Vec<CertInfo>,
    pub chain_source: String,
    /// What the chain was validated against.
    pub trust_anchors: String,
    /// Empty when the chain validates for the host.
    pub certificate_problems: Vec<String>,
    /// CA names of a CertificateRequest, when the server asks for client certificates.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_auth_cas: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dh_prime_bits: Option<u32>,
    pub mozilla_intermediate: ProfileComparison,
    /// Probe steps that failed; the rest of the section still stands.
    pub errors: Vec<String>,
}

/// The prober's [`authprobe_tls::report::ProtocolReport`] as the report reads it: the
/// version and groups by name (the JSON report's documented form), the suites as probed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolEntry {
    pub version: String,
    pub accepted: bool,
    /// In the server's order when `server_enforces_order`, else in the order found.
    pub suites: Vec<SuiteReport>,
    pub server_enforces_order: Option<bool>,
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileComparison {
    pub profile: String,
    pub compliant: bool,
    pub deviations: Vec<String>,
}

impl TlsSection {
    pub fn from_facts(f: &TlsFacts) -> Self {
        let protocols = f
            .scan
            .protocols
            .iter()
            .map(|p| ProtocolEntry {
                version: p.version.name().to_string(),
                accepted: p.accepted,
                suites: p.suites.clone(),
                server_enforces_order: p.server_enforces_order,
                groups: p.groups.iter().map(|g| g.name.clone()).collect(),
            })
            .collect();
        Self {
            target: f.target.display(),
            address: f.scan.target.to_string(),
            sni: f.target.sni.clone(),
            handshakes: f.handshakes,
            duration_ms: f.duration_ms,
            protocols,
            certificate_chain: f.certs.clone(),
            chain_source: f.chain_source.clone(),
            trust_anchors: f.anchors_source.clone(),
            certificate_problems: f.problems.iter().map(|p| p.to_string()).collect(),
            client_auth_cas: f.scan.client_auth.as_ref().map(|c| {
                c.ca_names
                    .iter()
                    .map(|n| n.clone().unwrap_or_else(|| "(unparseable name)".into()))
                    .collect()
            }),
            dh_prime_bits: f.scan.dh_prime_bits,
            mozilla_intermediate: compare_intermediate(f),
            errors: f.scan.errors.clone(),
        }
    }
}

/// Deviations from the intermediate profile: the protocol side as authprobe-tls judges
/// it, then the certificate key (RSA 2048+ or EC 256+).
pub fn compare_intermediate(f: &TlsFacts) -> ProfileComparison {
    let mut d = profile::intermediate_deviations(&f.scan);
    if let Some(leaf) = f.certs.first()
        && leaf.key.is_weak()
    {
        d.push(format!(
            "certificate key is {}-{} (the profile wants RSA 2048+ or EC 256+)",
            leaf.key.kind, leaf.key.bits
        ));
    }
    ProfileComparison {
        profile: profile::INTERMEDIATE.to_string(),
        compliant: d.is_empty(),
        deviations: d,
    }
}
