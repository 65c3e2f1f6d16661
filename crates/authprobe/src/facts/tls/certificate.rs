//! The certificate model: one parsed certificate of the server's chain, as checks judge it
//! and reports show it.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};
use x509_parser::prelude::*;

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

impl KeyInfo {
    /// RSA or DSA under 2048 bits, EC under 256: weak for `tls.cert_weak_key` and outside
    /// Mozilla's intermediate profile alike.
    pub fn is_weak(&self) -> bool {
        match self.kind.as_str() {
            "RSA" | "DSA" => self.bits < 2048,
            "EC" => self.bits < 256,
            _ => false,
        }
    }
}

/// "RSA 2048", "EC 256 (prime256v1)".
impl std::fmt::Display for KeyInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.bits)?;
        match &self.curve {
            Some(c) => write!(f, " ({c})"),
            None => Ok(()),
        }
    }
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
        if self.key.is_weak() {
            w.push(format!(
                "{}-{} key{}",
                self.key.kind,
                self.key.bits,
                self.key
                    .curve
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            ));
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

    /// The subject alternative names, or "none": an empty list must read as a fact.
    pub fn names(&self) -> String {
        if self.sans.is_empty() {
            "none".to_string()
        } else {
            self.sans.join(", ")
        }
    }
}

/// The chain as text, one certificate to five lines each starting with `indent`: the one
/// text form, shared by finding evidence and the terminal report.
pub fn chain_text(certs: &[CertInfo], indent: &str) -> String {
    let mut s = String::new();
    for (i, c) in certs.iter().enumerate() {
        s.push_str(&format!(
            "{indent}#{i} subject: {}\n{indent}   issuer: {}\n{indent}   valid: {} to {}\n{indent}   key: {}; signature: {}\n{indent}   names: {}\n",
            c.subject,
            c.issuer,
            c.not_before,
            c.not_after,
            c.key,
            c.signature_algorithm,
            c.names()
        ));
    }
    s
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

fn rfc3339(unix: i64) -> String {
    let t = if unix >= 0 {
        UNIX_EPOCH + Duration::from_secs(unix as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(unix.unsigned_abs())
    };
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: &str, bits: u32, curve: Option<&str>) -> KeyInfo {
        KeyInfo {
            kind: kind.into(),
            bits,
            curve: curve.map(str::to_string),
        }
    }

    #[test]
    fn key_weakness_is_one_rule_for_checks_and_profile() {
        assert!(key("RSA", 1024, None).is_weak());
        assert!(key("DSA", 1024, None).is_weak());
        assert!(!key("RSA", 2048, None).is_weak());
        assert!(key("EC", 224, Some("secp224r1")).is_weak());
        assert!(!key("EC", 256, Some("prime256v1")).is_weak());
        // Ed25519 has no size knob to get wrong.
        assert!(!key("Ed25519", 256, None).is_weak());
    }

    #[test]
    fn chain_text_names_every_field_even_when_empty() {
        let c = CertInfo {
            subject: "CN=a".into(),
            issuer: "CN=ca".into(),
            serial: "01".into(),
            not_before: "2026-01-01T00:00:00Z".into(),
            not_after: "2027-01-01T00:00:00Z".into(),
            key: key("EC", 256, Some("prime256v1")),
            signature_algorithm: "ecdsa-with-SHA256".into(),
            sans: Vec::new(),
            self_issued: false,
            not_before_unix: 0,
            not_after_unix: 0,
        };
        assert_eq!(
            chain_text(&[c], "  "),
            "  #0 subject: CN=a\n     issuer: CN=ca\n     valid: 2026-01-01T00:00:00Z to 2027-01-01T00:00:00Z\n     key: EC 256 (prime256v1); signature: ecdsa-with-SHA256\n     names: none\n"
        );
    }
}
