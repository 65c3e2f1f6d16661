//! Cross-checks the suite table against the local OpenSSL: every suite it
//! knows (outside PSK/SRP, which the table leaves out on purpose) must be in
//! the table under the same OpenSSL name and with the same key exchange,
//! authentication and minimum version.

mod common;

use authprobe_tls::TlsVersion;
use authprobe_tls::suites::{self, Authentication, KeyExchange};

#[test]
fn table_agrees_with_openssl_ciphers() {
    if !common::tools_available(&["openssl"]) {
        return;
    }
    let listed = common::openssl_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0");
    let mut checked = 0;
    for s in listed.values() {
        if s.kx.contains("PSK") || s.kx.contains("SRP") || s.au == "PSK" || s.au == "SRP" {
            continue;
        }
        let t = suites::by_code(s.code)
            .unwrap_or_else(|| panic!("{:#06x} {} missing from the table", s.code, s.name));
        assert_eq!(t.openssl_name, Some(s.name.as_str()), "{:#06x}", s.code);
        let kx = match t.key_exchange {
            KeyExchange::Rsa => "RSA",
            KeyExchange::Dh | KeyExchange::Dhe => "DH",
            KeyExchange::Ecdh | KeyExchange::Ecdhe => "ECDH",
            KeyExchange::Tls13 => "any",
        };
        assert_eq!(kx, s.kx, "{}", s.name);
        let au = match t.authentication {
            Authentication::Rsa => "RSA",
            Authentication::Dss => "DSS",
            Authentication::Ecdsa => "ECDSA",
            Authentication::Anonymous => "None",
            Authentication::Tls13 => "any",
        };
        assert_eq!(au, s.au, "{}", s.name);
        let min = match s.min_version.as_str() {
            "TLSv1.3" => TlsVersion::Tls13,
            "TLSv1.2" => TlsVersion::Tls12,
            _ => TlsVersion::Ssl3,
        };
        // The table allows SHA-1 ECDHE suites from SSLv3 on where OpenSSL says
        // TLSv1 (extensions are needed); offering them early costs nothing.
        assert!(
            t.min_version <= min,
            "{}: {:?} vs {}",
            s.name,
            t.min_version,
            s.min_version
        );
        checked += 1;
    }
    eprintln!("{checked} suites cross-checked against OpenSSL");
    assert!(checked > 50);
}
