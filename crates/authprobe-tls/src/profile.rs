//! Mozilla's intermediate server-side TLS profile, and how a scan deviates from it.
//!
//! Only the protocol side lives here (versions, suites, groups, DH size): the certificate
//! key the profile also asks for is judged by whoever parsed the certificate.

use crate::msgs::enums::TlsVersion;
use crate::report::ScanReport;

pub const INTERMEDIATE: &str = "Mozilla server-side TLS 6.0, intermediate";

/// The profile's TLS 1.2 suites (server-side TLS 5.x/6.0), in OpenSSL names.
pub const INTERMEDIATE_TLS12_SUITES: &[&str] = &[
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-CHACHA20-POLY1305",
];

/// The profile's TLS 1.3 suites, in IANA names.
pub const INTERMEDIATE_TLS13_SUITES: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

pub const INTERMEDIATE_GROUPS: &[&str] = &["x25519", "secp256r1", "secp384r1"];

/// Deviations from the intermediate profile in what `scan` saw: TLS 1.2 and 1.3 only,
/// its suite list, the x25519/secp256r1/secp384r1 groups, and a DH prime of 2048 bits.
pub fn intermediate_deviations(scan: &ScanReport) -> Vec<String> {
    let mut d = Vec::new();
    let accepted = scan.accepted_versions();
    for v in &accepted {
        if v.is_legacy() {
            d.push(format!(
                "offers {v} (the profile allows TLSv1.2 and TLSv1.3 only)"
            ));
        }
    }
    for v in [TlsVersion::Tls12, TlsVersion::Tls13] {
        if scan.protocol(v).is_some() && !accepted.contains(&v) {
            d.push(format!("does not offer {v}"));
        }
    }
    for p in scan.protocols.iter().filter(|p| p.accepted) {
        let outside: Vec<&str> = p
            .suites
            .iter()
            .filter(|s| {
                if p.version == TlsVersion::Tls13 {
                    !INTERMEDIATE_TLS13_SUITES.contains(&s.name.as_str())
                } else {
                    !s.openssl_name
                        .as_deref()
                        .is_some_and(|n| INTERMEDIATE_TLS12_SUITES.contains(&n))
                }
            })
            .map(|s| s.openssl_name.as_deref().unwrap_or(&s.name))
            .collect();
        // A legacy version is already one deviation; listing its suites adds noise.
        if !outside.is_empty() && !p.version.is_legacy() {
            d.push(format!(
                "{}: {} suites outside the profile's list: {}",
                p.version,
                outside.len(),
                outside.join(", ")
            ));
        }
        if p.version >= TlsVersion::Tls12 {
            // Hybrid post-quantum groups go beyond the profile without weakening it.
            let extra: Vec<&str> = p
                .groups
                .iter()
                .map(|g| g.name.as_str())
                .filter(|g| !INTERMEDIATE_GROUPS.contains(g) && !g.contains("MLKEM"))
                .collect();
            if !extra.is_empty() {
                d.push(format!(
                    "{}: groups outside x25519, secp256r1, secp384r1: {}",
                    p.version,
                    extra.join(", ")
                ));
            }
            if !p.groups.is_empty()
                && !p
                    .groups
                    .iter()
                    .any(|g| INTERMEDIATE_GROUPS.contains(&g.name.as_str()))
            {
                d.push(format!(
                    "{}: none of x25519, secp256r1, secp384r1 is accepted",
                    p.version
                ));
            }
        }
    }
    if let Some(bits) = scan.dh_prime_bits
        && bits < 2048
    {
        d.push(format!("DHE uses a {bits}-bit prime (under 2048)"));
    }
    d
}
