//! Parsers for the server's TLS <= 1.2 flight (Certificate, ServerKeyExchange,
//! CertificateRequest) and for alerts.

use super::codec::Reader;
use super::enums::{AlertDescription, AlertLevel, NamedGroup, SignatureScheme, TlsVersion};
use crate::error::InvalidMessage;
use crate::suites::KeyExchange;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An alert as received (plaintext, i.e. before any key is agreed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub level: AlertLevel,
    pub description: AlertDescription,
}

impl Alert {
    /// Parses an alert record payload. A record may in principle carry more
    /// than one alert; the first decides the connection's fate.
    pub fn parse(payload: &[u8]) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(payload);
        let level = AlertLevel::from_wire(r.u8("alert")?);
        let description = AlertDescription(r.u8("alert")?);
        Ok(Alert { level, description })
    }
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            AlertLevel::Warning => "warning".to_string(),
            AlertLevel::Fatal => "fatal".to_string(),
            AlertLevel::Unknown(x) => format!("level {x}"),
        };
        write!(f, "{level} alert {}", self.description)
    }
}

/// The DER certificates of a TLS <= 1.2 Certificate message, leaf first.
pub fn parse_certificate_chain(body: &[u8]) -> Result<Vec<Vec<u8>>, InvalidMessage> {
    let mut outer = Reader::new(body);
    let list = outer.vec24("certificate_list")?;
    outer.finish("Certificate")?;
    let mut r = Reader::new(list);
    let mut chain = Vec::new();
    while r.any_left() {
        let cert = r.vec24("ASN.1Cert")?;
        if cert.is_empty() {
            return Err(InvalidMessage::Empty("ASN.1Cert"));
        }
        chain.push(cert.to_vec());
    }
    Ok(chain)
}

/// The key-exchange parameters a TLS <= 1.2 server chose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerKeyExchange {
    Ecdhe {
        group: NamedGroup,
        public_len: usize,
    },
    Dhe {
        /// Bit length of the prime p (leading zero bytes ignored).
        prime_bits: u32,
        generator: Vec<u8>,
        public_len: usize,
    },
    /// A suite whose ServerKeyExchange we do not interpret (e.g. RSA_EXPORT).
    Other,
}

impl ServerKeyExchange {
    /// The layout depends on the negotiated suite, hence `kx`. The signature
    /// that follows the parameters is not examined (anonymous suites have none).
    pub fn parse(body: &[u8], kx: KeyExchange) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(body);
        match kx {
            KeyExchange::Ecdhe => {
                // Only named curves (type 3) are still deployed; explicit
                // curves were deprecated by RFC 8422 and are refused here.
                if r.u8("ECParameters")? != 3 {
                    return Err(InvalidMessage::Illegal("ECParameters curve_type"));
                }
                let group = NamedGroup(r.u16("ECParameters")?);
                let point = r.vec8("ECPoint")?;
                if point.is_empty() {
                    return Err(InvalidMessage::Empty("ECPoint"));
                }
                Ok(ServerKeyExchange::Ecdhe {
                    group,
                    public_len: point.len(),
                })
            }
            KeyExchange::Dhe => {
                let p = r.vec16("dh_p")?;
                let g = r.vec16("dh_g")?;
                let ys = r.vec16("dh_Ys")?;
                if g.is_empty() || ys.is_empty() {
                    return Err(InvalidMessage::Empty("DH parameter"));
                }
                Ok(ServerKeyExchange::Dhe {
                    prime_bits: bit_length(p).ok_or(InvalidMessage::Empty("dh_p"))?,
                    generator: g.to_vec(),
                    public_len: ys.len(),
                })
            }
            _ => Ok(ServerKeyExchange::Other),
        }
    }
}

fn bit_length(be: &[u8]) -> Option<u32> {
    let first = be.iter().position(|&b| b != 0)?;
    let bytes = u32::try_from(be.len() - first).ok()?;
    Some(bytes * 8 - be[first].leading_zeros())
}

/// A TLS <= 1.2 CertificateRequest: the server asks for a client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    pub certificate_types: Vec<u8>,
    /// Present from TLS 1.2 on.
    pub signature_schemes: Vec<SignatureScheme>,
    /// DER-encoded X.501 distinguished names of the acceptable CAs.
    pub ca_names: Vec<Vec<u8>>,
}

impl CertificateRequest {
    pub fn parse(body: &[u8], version: TlsVersion) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(body);
        let types = r.vec8("certificate_types")?;
        if types.is_empty() {
            return Err(InvalidMessage::Empty("certificate_types"));
        }
        let signature_schemes = if version >= TlsVersion::Tls12 {
            let raw = r.vec16("supported_signature_algorithms")?;
            Reader::u16_list(raw, "supported_signature_algorithms")?
                .into_iter()
                .map(SignatureScheme)
                .collect()
        } else {
            Vec::new()
        };
        let cas = r.vec16("certificate_authorities")?;
        r.finish("CertificateRequest")?;
        let mut cr = Reader::new(cas);
        let mut ca_names = Vec::new();
        while cr.any_left() {
            let dn = cr.vec16("DistinguishedName")?;
            if dn.is_empty() {
                return Err(InvalidMessage::Empty("DistinguishedName"));
            }
            ca_names.push(dn.to_vec());
        }
        Ok(CertificateRequest {
            certificate_types: types.to_vec(),
            signature_schemes,
            ca_names,
        })
    }
}

/// Renders a DER distinguished name as text (`CN=..., O=...`), or `None` if
/// it is not a valid Name: the raw DER is always kept beside it.
pub fn distinguished_name_text(der: &[u8]) -> Option<String> {
    use x509_parser::prelude::FromDer;
    let (rest, name) = x509_parser::x509::X509Name::from_der(der).ok()?;
    if !rest.is_empty() {
        return None;
    }
    Some(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names() {
        let a = Alert::parse(&[2, 70]).unwrap();
        assert_eq!(a.level, AlertLevel::Fatal);
        assert_eq!(a.description.name(), Some("protocol_version"));
        assert_eq!(a.to_string(), "fatal alert protocol_version");
        assert_eq!(
            Alert::parse(&[1, 200]).unwrap().to_string(),
            "warning alert alert_200"
        );
        assert!(Alert::parse(&[2]).is_err());
    }

    #[test]
    fn ecdhe_server_key_exchange() {
        // named_curve x25519, 32-byte point, then a TLS 1.2 signature.
        let mut body = vec![3, 0x00, 0x1d, 32];
        body.extend([0xab; 32]);
        body.extend([0x08, 0x04, 0x00, 0x02, 0xde, 0xad]);
        assert_eq!(
            ServerKeyExchange::parse(&body, KeyExchange::Ecdhe).unwrap(),
            ServerKeyExchange::Ecdhe {
                group: NamedGroup::X25519,
                public_len: 32
            }
        );
        assert!(ServerKeyExchange::parse(&[1, 0, 0x17], KeyExchange::Ecdhe).is_err());
        assert!(ServerKeyExchange::parse(&body[..20], KeyExchange::Ecdhe).is_err());
    }

    #[test]
    fn dhe_server_key_exchange_prime_bits() {
        // A 1024-bit prime whose top byte is 0x7f has 1023 significant bits;
        // a leading zero byte must not count.
        let mut p = vec![0x00, 0x7f];
        p.extend([0xff; 127]);
        let mut body = Vec::new();
        body.extend((p.len() as u16).to_be_bytes());
        body.extend(&p);
        body.extend([0, 1, 2]);
        body.extend([0, 3, 1, 2, 3]);
        match ServerKeyExchange::parse(&body, KeyExchange::Dhe).unwrap() {
            ServerKeyExchange::Dhe {
                prime_bits,
                generator,
                public_len,
            } => {
                assert_eq!(prime_bits, 1023);
                assert_eq!(generator, vec![2]);
                assert_eq!(public_len, 3);
            }
            o => panic!("{o:?}"),
        }
        assert!(ServerKeyExchange::parse(&[0, 1, 0, 0, 1, 2, 0, 1, 5], KeyExchange::Dhe).is_err());
    }

    #[test]
    fn certificate_request_tls12_and_tls10() {
        // A Name: SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, UTF8String "CA" } } }
        let dn = [
            0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x02, b'C',
            b'A',
        ];
        let mut cas = Vec::new();
        cas.extend((dn.len() as u16).to_be_bytes());
        cas.extend(dn);
        let mut body12 = vec![2, 1, 64, 0, 4, 0x04, 0x01, 0x04, 0x03];
        body12.extend((cas.len() as u16).to_be_bytes());
        body12.extend(&cas);
        let cr = CertificateRequest::parse(&body12, TlsVersion::Tls12).unwrap();
        assert_eq!(cr.certificate_types, vec![1, 64]);
        assert_eq!(
            cr.signature_schemes,
            vec![SignatureScheme(0x0401), SignatureScheme(0x0403)]
        );
        assert_eq!(cr.ca_names, vec![dn.to_vec()]);
        assert_eq!(distinguished_name_text(&cr.ca_names[0]).unwrap(), "CN=CA");

        let mut body10 = vec![1, 1];
        body10.extend((cas.len() as u16).to_be_bytes());
        body10.extend(&cas);
        let cr = CertificateRequest::parse(&body10, TlsVersion::Tls10).unwrap();
        assert!(cr.signature_schemes.is_empty());
        assert_eq!(cr.ca_names.len(), 1);
        // The TLS 1.2 layout read as TLS 1.0 leaves bytes over: an error.
        assert!(CertificateRequest::parse(&body12, TlsVersion::Tls10).is_err());
        // Empty CA list is legal (optional_no_ca servers with no file send it).
        let cr = CertificateRequest::parse(&[1, 1, 0, 2, 4, 1, 0, 0], TlsVersion::Tls12).unwrap();
        assert!(cr.ca_names.is_empty());
        assert_eq!(distinguished_name_text(&[0x04, 0x01, 0x00]), None);
    }

    /// Captured from `openssl s_server -Verify 1 -CAfile ca.pem -tls1_2`
    /// whose CA is "C=DE, O=Capture CA, CN=capture client CA".
    const CAPTURED_CERTIFICATE_REQUEST: [u8; 118] = [
        0x0d, 0x00, 0x00, 0x72, 0x03, 0x01, 0x02, 0x40, 0x00, 0x28, 0x04, 0x03, 0x05, 0x03, 0x06,
        0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09, 0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08, 0x05,
        0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04,
        0x02, 0x05, 0x02, 0x06, 0x02, 0x00, 0x42, 0x00, 0x40, 0x30, 0x3e, 0x31, 0x0b, 0x30, 0x09,
        0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x44, 0x45, 0x31, 0x13, 0x30, 0x11, 0x06, 0x03,
        0x55, 0x04, 0x0a, 0x0c, 0x0a, 0x43, 0x61, 0x70, 0x74, 0x75, 0x72, 0x65, 0x20, 0x43, 0x41,
        0x31, 0x1a, 0x30, 0x18, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x11, 0x63, 0x61, 0x70, 0x74,
        0x75, 0x72, 0x65, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x20, 0x43, 0x41,
    ];

    #[test]
    fn captured_certificate_request() {
        let body = &CAPTURED_CERTIFICATE_REQUEST[4..];
        let cr = CertificateRequest::parse(body, TlsVersion::Tls12).unwrap();
        assert_eq!(cr.certificate_types, vec![1, 2, 64]);
        assert_eq!(cr.signature_schemes.len(), 20);
        assert_eq!(
            cr.signature_schemes[0].name(),
            Some("ecdsa_secp256r1_sha256")
        );
        assert_eq!(cr.ca_names.len(), 1);
        assert_eq!(
            distinguished_name_text(&cr.ca_names[0]).unwrap(),
            "C=DE, O=Capture CA, CN=capture client CA"
        );
        for n in 0..body.len() {
            assert!(CertificateRequest::parse(&body[..n], TlsVersion::Tls12).is_err());
        }
    }

    /// Captured ECDHE ServerKeyExchange (secp384r1, first 64 bytes of the
    /// 97-byte point kept and the length patched, signature dropped).
    #[test]
    fn captured_ecdhe_server_key_exchange() {
        let mut body = vec![0x03, 0x00, 0x18, 0x61];
        body.extend([
            0x04, 0x00, 0x01, 0x64, 0x8e, 0x28, 0x4b, 0x5f, 0x2d, 0x20, 0x52, 0x7d, 0xcf, 0x51,
            0x96, 0x47, 0x91, 0x05, 0xe2, 0xe3, 0x90, 0x50, 0xb1, 0xea, 0x83, 0x68, 0xd2, 0xe8,
            0x2a, 0x70, 0xf7, 0xb6, 0xfb, 0x00, 0x0f, 0x4c, 0xca, 0xba, 0x20, 0x06, 0xe1, 0x71,
        ]);
        // Truncated point: an error.
        assert!(ServerKeyExchange::parse(&body, KeyExchange::Ecdhe).is_err());
        body[3] = (body.len() - 4) as u8;
        assert_eq!(
            ServerKeyExchange::parse(&body, KeyExchange::Ecdhe).unwrap(),
            ServerKeyExchange::Ecdhe {
                group: NamedGroup::SECP384R1,
                public_len: body.len() - 4
            }
        );
    }

    #[test]
    fn certificate_chain() {
        let body = [0, 0, 9, 0, 0, 2, 0xaa, 0xbb, 0, 0, 1, 0xcc];
        assert_eq!(
            parse_certificate_chain(&body).unwrap(),
            vec![vec![0xaa, 0xbb], vec![0xcc]]
        );
        assert!(parse_certificate_chain(&body[..10]).is_err());
        assert!(parse_certificate_chain(&[0, 0, 3, 0, 0, 0]).is_err());
    }
}
