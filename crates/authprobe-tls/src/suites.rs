//! The cipher suite table.
//!
//! Attributes (key exchange, authentication, cipher, key bits, MAC) are
//! derived from the IANA name, which encodes them systematically
//! (`TLS_<kx>_<auth>_WITH_<cipher>_<mac>`), so the table itself holds only
//! code and names and cannot disagree with itself.

use crate::msgs::enums::TlsVersion;
use serde::Serialize;
use std::sync::LazyLock;

#[path = "suites_table.rs"]
mod table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum KeyExchange {
    /// RSA key transport: no forward secrecy.
    Rsa,
    /// Static (certificate) finite-field DH.
    Dh,
    /// Ephemeral finite-field DH (including anonymous DH).
    Dhe,
    /// Static (certificate) ECDH.
    Ecdh,
    /// Ephemeral ECDH (including anonymous ECDH).
    Ecdhe,
    /// TLS 1.3: negotiated separately, always ephemeral.
    Tls13,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Authentication {
    Rsa,
    Dss,
    Ecdsa,
    Anonymous,
    /// TLS 1.3: given by the certificate and signature_algorithms.
    Tls13,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Cipher {
    Null,
    Rc4,
    Rc2Cbc,
    IdeaCbc,
    DesCbc,
    TripleDesCbc,
    AesCbc,
    AesGcm,
    AesCcm,
    AesCcm8,
    CamelliaCbc,
    CamelliaGcm,
    AriaCbc,
    AriaGcm,
    SeedCbc,
    ChaCha20Poly1305,
    Sm4Gcm,
    Sm4Ccm,
    Aegis,
}

impl Cipher {
    pub fn is_aead(self) -> bool {
        matches!(
            self,
            Cipher::AesGcm
                | Cipher::AesCcm
                | Cipher::AesCcm8
                | Cipher::CamelliaGcm
                | Cipher::AriaGcm
                | Cipher::ChaCha20Poly1305
                | Cipher::Sm4Gcm
                | Cipher::Sm4Ccm
                | Cipher::Aegis
        )
    }
}

/// The record MAC, or `Aead` when the cipher authenticates the record itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Mac {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Aead,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CipherSuite {
    pub code: u16,
    pub iana_name: &'static str,
    pub openssl_name: Option<&'static str>,
    pub key_exchange: KeyExchange,
    pub authentication: Authentication,
    pub cipher: Cipher,
    /// Effective symmetric key strength (3DES counts as 112, EXPORT as 40).
    pub bits: u16,
    pub mac: Mac,
    pub export: bool,
    /// Lowest protocol version that defines the suite.
    pub min_version: TlsVersion,
}

impl CipherSuite {
    pub fn is_aead(&self) -> bool {
        self.cipher.is_aead()
    }

    /// NULL, anonymous, EXPORT, RC4, single or triple DES, or under 128 bits
    /// (catalog id `tls.weak_cipher`).
    pub fn is_weak(&self) -> bool {
        self.export
            || self.authentication == Authentication::Anonymous
            || self.bits < 128
            || matches!(
                self.cipher,
                Cipher::Null | Cipher::Rc4 | Cipher::DesCbc | Cipher::TripleDesCbc
            )
    }

    /// Ephemeral key agreement: a stolen server key does not decrypt past
    /// traffic. Anonymous (EC)DH is ephemeral too; it is weak for another reason.
    pub fn has_forward_secrecy(&self) -> bool {
        matches!(
            self.key_exchange,
            KeyExchange::Dhe | KeyExchange::Ecdhe | KeyExchange::Tls13
        )
    }

    /// Whether a server may negotiate this suite under `version`.
    pub fn usable_with(&self, version: TlsVersion) -> bool {
        if version == TlsVersion::Tls13 {
            self.min_version == TlsVersion::Tls13
        } else {
            self.min_version <= version
        }
    }

    /// OpenSSL's name if it has one, else the IANA name.
    pub fn display_name(&self) -> &'static str {
        self.openssl_name.unwrap_or(self.iana_name)
    }
}

static SUITES: LazyLock<Vec<CipherSuite>> = LazyLock::new(|| {
    table::TABLE
        .iter()
        .filter_map(|&(code, iana, openssl)| derive(code, iana, openssl))
        .collect()
});

/// Every suite in the table, ordered by code.
pub fn all() -> &'static [CipherSuite] {
    &SUITES
}

pub fn by_code(code: u16) -> Option<&'static CipherSuite> {
    SUITES
        .binary_search_by_key(&code, |s| s.code)
        .ok()
        .map(|i| &SUITES[i])
}

/// Looks a suite up by IANA or OpenSSL name (case-insensitive).
pub fn by_name(name: &str) -> Option<&'static CipherSuite> {
    SUITES.iter().find(|s| {
        s.iana_name.eq_ignore_ascii_case(name)
            || s.openssl_name.is_some_and(|o| o.eq_ignore_ascii_case(name))
    })
}

/// Codes of the table's suites that `version` can negotiate, in table order.
pub fn codes_for(version: TlsVersion) -> Vec<u16> {
    SUITES
        .iter()
        .filter(|s| s.usable_with(version))
        .map(|s| s.code)
        .collect()
}

fn derive(code: u16, iana: &'static str, openssl: &'static str) -> Option<CipherSuite> {
    let name = iana.strip_prefix("TLS_")?;
    let (key_exchange, authentication, export, cipher_mac) = match name.split_once("_WITH_") {
        Some((kx, rest)) => {
            let (kx, export) = match kx.strip_suffix("_EXPORT") {
                Some(k) => (k, true),
                None => (kx, false),
            };
            let (kx, au) = match kx {
                "RSA" => (KeyExchange::Rsa, Authentication::Rsa),
                "DH_DSS" => (KeyExchange::Dh, Authentication::Dss),
                "DH_RSA" => (KeyExchange::Dh, Authentication::Rsa),
                "DHE_DSS" => (KeyExchange::Dhe, Authentication::Dss),
                "DHE_RSA" => (KeyExchange::Dhe, Authentication::Rsa),
                "DH_anon" => (KeyExchange::Dhe, Authentication::Anonymous),
                "ECDH_ECDSA" => (KeyExchange::Ecdh, Authentication::Ecdsa),
                "ECDH_RSA" => (KeyExchange::Ecdh, Authentication::Rsa),
                "ECDHE_ECDSA" => (KeyExchange::Ecdhe, Authentication::Ecdsa),
                "ECDHE_RSA" => (KeyExchange::Ecdhe, Authentication::Rsa),
                "ECDH_anon" => (KeyExchange::Ecdhe, Authentication::Anonymous),
                _ => return None,
            };
            (kx, au, export, rest)
        }
        None => (KeyExchange::Tls13, Authentication::Tls13, false, name),
    };

    let (cipher_part, hash) = [
        ("_SHA256", Mac::Sha256),
        ("_SHA384", Mac::Sha384),
        ("_SHA512", Mac::Sha384),
        ("_SHA", Mac::Sha1),
        ("_MD5", Mac::Md5),
        ("_SM3", Mac::Sha256),
    ]
    .into_iter()
    .find_map(|(suffix, mac)| cipher_mac.strip_suffix(suffix).map(|c| (c, Some(mac))))
    .unwrap_or((cipher_mac, None));

    let (cipher, bits) = match cipher_part {
        "NULL" => (Cipher::Null, 0),
        "RC4_40" => (Cipher::Rc4, 40),
        "RC4_128" => (Cipher::Rc4, 128),
        "RC2_CBC_40" => (Cipher::Rc2Cbc, 40),
        "IDEA_CBC" => (Cipher::IdeaCbc, 128),
        "DES40_CBC" => (Cipher::DesCbc, 40),
        "DES_CBC" => (Cipher::DesCbc, 56),
        "3DES_EDE_CBC" => (Cipher::TripleDesCbc, 112),
        "SEED_CBC" => (Cipher::SeedCbc, 128),
        "CHACHA20_POLY1305" => (Cipher::ChaCha20Poly1305, 256),
        "SM4_GCM" => (Cipher::Sm4Gcm, 128),
        "SM4_CCM" => (Cipher::Sm4Ccm, 128),
        "AEGIS_256" => (Cipher::Aegis, 256),
        "AEGIS_128L" => (Cipher::Aegis, 128),
        other => {
            let mut parts = other.splitn(3, '_');
            let family = parts.next()?;
            let bits: u16 = parts.next()?.parse().ok()?;
            let mode = parts.next()?;
            let cipher = match (family, mode) {
                ("AES", "CBC") => Cipher::AesCbc,
                ("AES", "GCM") => Cipher::AesGcm,
                ("AES", "CCM") => Cipher::AesCcm,
                ("AES", "CCM_8") => Cipher::AesCcm8,
                ("CAMELLIA", "CBC") => Cipher::CamelliaCbc,
                ("CAMELLIA", "GCM") => Cipher::CamelliaGcm,
                ("ARIA", "CBC") => Cipher::AriaCbc,
                ("ARIA", "GCM") => Cipher::AriaGcm,
                _ => return None,
            };
            (cipher, bits)
        }
    };
    let mac = if cipher.is_aead() { Mac::Aead } else { hash? };
    let min_version = if key_exchange == KeyExchange::Tls13 {
        TlsVersion::Tls13
    } else if matches!(mac, Mac::Aead | Mac::Sha256 | Mac::Sha384) {
        TlsVersion::Tls12
    } else {
        TlsVersion::Ssl3
    };
    Some(CipherSuite {
        code,
        iana_name: iana,
        openssl_name: (!openssl.is_empty()).then_some(openssl),
        key_exchange,
        authentication,
        cipher,
        bits: if export { 40 } else { bits },
        mac,
        export,
        min_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_derives_and_codes_are_sorted_unique() {
        assert_eq!(all().len(), table::TABLE.len(), "a row failed to derive");
        assert!(all().windows(2).all(|w| w[0].code < w[1].code));
        for s in all() {
            assert!(s.iana_name.starts_with("TLS_"), "{}", s.iana_name);
        }
    }

    #[test]
    fn sample_of_the_registry() {
        let s = by_code(0xc02f).unwrap();
        assert_eq!(s.iana_name, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(s.openssl_name, Some("ECDHE-RSA-AES128-GCM-SHA256"));
        assert_eq!(
            (s.key_exchange, s.authentication, s.cipher, s.bits, s.mac),
            (
                KeyExchange::Ecdhe,
                Authentication::Rsa,
                Cipher::AesGcm,
                128,
                Mac::Aead
            )
        );
        assert!(s.is_aead() && s.has_forward_secrecy() && !s.is_weak());
        assert_eq!(s.min_version, TlsVersion::Tls12);

        let s = by_name("DES-CBC3-SHA").unwrap();
        assert_eq!(s.code, 0x000a);
        assert_eq!((s.cipher, s.bits), (Cipher::TripleDesCbc, 112));
        assert!(s.is_weak() && !s.has_forward_secrecy());
        assert_eq!(s.min_version, TlsVersion::Ssl3);

        let s = by_name("tls_rsa_export_with_rc4_40_md5").unwrap();
        assert_eq!(s.code, 0x0003);
        assert!(s.export && s.is_weak());
        assert_eq!((s.cipher, s.bits, s.mac), (Cipher::Rc4, 40, Mac::Md5));

        let s = by_code(0x1303).unwrap();
        assert_eq!(s.iana_name, "TLS_CHACHA20_POLY1305_SHA256");
        assert_eq!(s.key_exchange, KeyExchange::Tls13);
        assert!(s.usable_with(TlsVersion::Tls13) && !s.usable_with(TlsVersion::Tls12));
        assert!(s.has_forward_secrecy() && s.is_aead());

        let s = by_code(0x0034).unwrap();
        assert_eq!(s.openssl_name, Some("ADH-AES128-SHA"));
        assert_eq!(s.authentication, Authentication::Anonymous);
        assert!(s.is_weak() && s.has_forward_secrecy());

        let s = by_code(0xc0a3).unwrap();
        assert_eq!((s.cipher, s.bits), (Cipher::AesCcm8, 256));
        assert!(s.is_aead());

        let s = by_code(0x0041).unwrap();
        assert_eq!(s.iana_name, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA");
        assert!(!s.is_weak() && !s.has_forward_secrecy());

        let s = by_code(0x0002).unwrap();
        assert_eq!((s.cipher, s.bits), (Cipher::Null, 0));
        assert!(s.is_weak());

        assert_eq!(
            by_code(0xc061).unwrap().openssl_name,
            Some("ECDHE-ARIA256-GCM-SHA384")
        );
        assert_eq!(by_code(0xc04c).unwrap().openssl_name, None);
        assert!(by_code(0x00ff).is_none(), "SCSV is not a suite");
        assert!(by_code(0x5600).is_none(), "SCSV is not a suite");
    }

    #[test]
    fn per_version_candidate_lists() {
        let tls13 = codes_for(TlsVersion::Tls13);
        // RFC 8998's SM4 suites are TLS 1.3-only too, despite their low codes.
        assert_eq!(
            tls13,
            vec![
                0x00c6, 0x00c7, 0x1301, 0x1302, 0x1303, 0x1304, 0x1305, 0x1306, 0x1307
            ]
        );
        let ssl3 = codes_for(TlsVersion::Ssl3);
        assert!(ssl3.contains(&0x000a) && !ssl3.contains(&0xc02f));
        let tls12 = codes_for(TlsVersion::Tls12);
        assert!(tls12.contains(&0x000a) && tls12.contains(&0xc02f) && !tls12.contains(&0x1301));
        assert!(tls12.len() > 200);
    }
}
