//! ClientHello construction and ServerHello parsing.

use super::codec::{Reader, put_prefixed, put_u16};
use super::enums::{
    NamedGroup, SignatureScheme, TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TlsVersion, content_type,
    extension_type as ext, handshake_type,
};
use super::record::{handshake_bytes, records};
use crate::error::{Error, InvalidMessage};
use rand::RngCore;

/// The ServerHello.random that marks a HelloRetryRequest (RFC 8446 4.1.3):
/// SHA-256 of the string "HelloRetryRequest".
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The base point of P-256 in uncompressed form. It is a valid curve point,
/// so a server validating our key share accepts it; we never finish the
/// handshake, so the missing private key does not matter.
const P256_GENERATOR: [u8; 65] = [
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40,
    0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2,
    0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e,
    0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51,
    0xf5,
];

/// One entry of the key_share extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyShare {
    pub group: NamedGroup,
    pub key: Vec<u8>,
}

impl KeyShare {
    /// A public value of the right shape for `group`, if we know one:
    /// 32 random bytes for X25519 (any such string is a usable u-coordinate),
    /// the generator for P-256.
    pub fn placeholder(group: NamedGroup) -> Option<KeyShare> {
        let key = match group {
            NamedGroup::X25519 => {
                let mut k = [0u8; 32];
                rand::rng().fill_bytes(&mut k);
                // RFC 7748 implementations mask the top bit; keep it clear so
                // that strict peers see a canonical encoding.
                k[31] &= 0x7f;
                k.to_vec()
            }
            NamedGroup::SECP256R1 => P256_GENERATOR.to_vec(),
            _ => return None,
        };
        Some(KeyShare { group, key })
    }
}

/// How secure renegotiation support is signalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renegotiation {
    /// The empty renegotiation_info extension (TLS 1.0 to 1.2).
    Extension,
    /// TLS_EMPTY_RENEGOTIATION_INFO_SCSV in the suite list (SSLv3 has no extensions).
    Scsv,
    None,
}

/// A ClientHello for probing. Fields are public so that a caller can shape
/// unusual hellos; [`ClientHello::new`] fills in what a permissive client of
/// that version would send.
#[derive(Debug, Clone)]
pub struct ClientHello {
    pub version: TlsVersion,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suites: Vec<u16>,
    /// Host name for SNI; ignored when it is an IP literal (RFC 6066 forbids those).
    pub server_name: Option<String>,
    pub groups: Vec<NamedGroup>,
    pub signature_schemes: Vec<SignatureScheme>,
    /// TLS 1.3 only. An empty list makes a TLS 1.3 server answer with a
    /// HelloRetryRequest naming the group it prefers.
    pub key_shares: Vec<KeyShare>,
    pub renegotiation: Renegotiation,
    /// SSLv3 servers may choke on extensions; this drops them all.
    pub extensions_enabled: bool,
}

impl ClientHello {
    pub fn new(version: TlsVersion, cipher_suites: &[u16], server_name: Option<&str>) -> Self {
        let mut random = [0u8; 32];
        rand::rng().fill_bytes(&mut random);
        let session_id = if version == TlsVersion::Tls13 {
            // Middlebox compatibility mode (RFC 8446 D.4) sends a fake session id.
            let mut s = vec![0u8; 32];
            rand::rng().fill_bytes(&mut s);
            s
        } else {
            Vec::new()
        };
        let groups = if version == TlsVersion::Tls13 {
            NamedGroup::tls13_candidates()
        } else {
            NamedGroup::tls12_candidates()
        };
        let key_shares = if version == TlsVersion::Tls13 {
            [NamedGroup::X25519, NamedGroup::SECP256R1]
                .into_iter()
                .filter_map(KeyShare::placeholder)
                .collect()
        } else {
            Vec::new()
        };
        ClientHello {
            version,
            random,
            session_id,
            cipher_suites: cipher_suites.to_vec(),
            server_name: server_name.map(str::to_owned),
            groups,
            signature_schemes: SignatureScheme::OFFERED
                .into_iter()
                .map(SignatureScheme)
                .collect(),
            key_shares,
            renegotiation: match version {
                TlsVersion::Ssl3 => Renegotiation::Scsv,
                TlsVersion::Tls13 => Renegotiation::None,
                _ => Renegotiation::Extension,
            },
            extensions_enabled: version != TlsVersion::Ssl3,
        }
    }

    /// The handshake message body (without its 4-byte header).
    pub fn body(&self) -> Result<Vec<u8>, Error> {
        let mut b = Vec::with_capacity(512);
        // TLS 1.3 hides behind 1.2 in legacy_version (RFC 8446 4.1.2).
        let legacy = self.version.min(TlsVersion::Tls12).wire();
        put_u16(&mut b, legacy);
        b.extend_from_slice(&self.random);
        put_prefixed(&mut b, 1, &self.session_id)?;

        let mut suites = Vec::with_capacity(self.cipher_suites.len() * 2 + 2);
        for s in &self.cipher_suites {
            put_u16(&mut suites, *s);
        }
        if self.renegotiation == Renegotiation::Scsv
            && !self
                .cipher_suites
                .contains(&TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
        {
            put_u16(&mut suites, TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
        }
        if suites.is_empty() {
            return Err(Error::Encode("no cipher suite to offer"));
        }
        put_prefixed(&mut b, 2, &suites)?;
        put_prefixed(&mut b, 1, &[0])?; // null compression only

        if self.extensions_enabled {
            let exts = self.extensions()?;
            put_prefixed(&mut b, 2, &exts)?;
        }
        Ok(b)
    }

    /// The ClientHello as records ready to write to the socket.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let hs = handshake_bytes(handshake_type::CLIENT_HELLO, &self.body()?)?;
        // Record version 0x0301 for everything but SSLv3: some servers reject
        // higher record versions in the first flight.
        let record_version = if self.version == TlsVersion::Ssl3 {
            0x0300
        } else {
            0x0301
        };
        Ok(records(content_type::HANDSHAKE, record_version, &hs))
    }

    fn extensions(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let mut push = |typ: u16, data: &[u8]| -> Result<(), Error> {
            put_u16(&mut out, typ);
            put_prefixed(&mut out, 2, data)
        };

        if let Some(host) = self.server_name.as_deref()
            && host.parse::<std::net::IpAddr>().is_err()
            && !host.is_empty()
        {
            let mut entry = vec![0u8]; // host_name
            put_prefixed(&mut entry, 2, host.as_bytes())?;
            let mut list = Vec::new();
            put_prefixed(&mut list, 2, &entry)?;
            push(ext::SERVER_NAME, &list)?;
        }

        if !self.groups.is_empty() {
            let mut g = Vec::new();
            for x in &self.groups {
                put_u16(&mut g, x.0);
            }
            let mut data = Vec::new();
            put_prefixed(&mut data, 2, &g)?;
            push(ext::SUPPORTED_GROUPS, &data)?;
            // Uncompressed points only.
            push(ext::EC_POINT_FORMATS, &[1, 0])?;
        }

        if self.version >= TlsVersion::Tls12 && !self.signature_schemes.is_empty() {
            let mut s = Vec::new();
            for x in &self.signature_schemes {
                put_u16(&mut s, x.0);
            }
            let mut data = Vec::new();
            put_prefixed(&mut data, 2, &s)?;
            push(ext::SIGNATURE_ALGORITHMS, &data)?;
        }

        if self.renegotiation == Renegotiation::Extension {
            push(ext::RENEGOTIATION_INFO, &[0])?;
        }
        if self.version != TlsVersion::Tls13 {
            push(ext::EXTENDED_MASTER_SECRET, &[])?;
        }

        if self.version == TlsVersion::Tls13 {
            // Offering 1.3 alone: the answer then tells whether 1.3 itself is spoken.
            push(ext::SUPPORTED_VERSIONS, &[2, 0x03, 0x04])?;
            let mut shares = Vec::new();
            for ks in &self.key_shares {
                put_u16(&mut shares, ks.group.0);
                put_prefixed(&mut shares, 2, &ks.key)?;
            }
            let mut data = Vec::new();
            put_prefixed(&mut data, 2, &shares)?;
            push(ext::KEY_SHARE, &data)?;
            // psk_dhe_ke: some servers insist on the extension being present.
            push(ext::PSK_KEY_EXCHANGE_MODES, &[1, 1])?;
        }
        Ok(out)
    }
}

/// A parsed ServerHello (or HelloRetryRequest, which shares its layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suite: u16,
    pub compression: u8,
    /// From the supported_versions extension (TLS 1.3 and HRR).
    pub selected_version: Option<u16>,
    /// From key_share: the server's share group, or the group an HRR asks for.
    pub key_share_group: Option<NamedGroup>,
    /// Extension types in the order received.
    pub extensions: Vec<u16>,
}

impl ServerHello {
    pub fn parse(body: &[u8]) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(body);
        let legacy_version = r.u16("ServerHello.version")?;
        let mut random = [0u8; 32];
        random.copy_from_slice(r.take(32, "ServerHello.random")?);
        let session_id = r.vec8("ServerHello.session_id")?;
        if session_id.len() > 32 {
            return Err(InvalidMessage::Illegal("ServerHello.session_id length"));
        }
        let cipher_suite = r.u16("ServerHello.cipher_suite")?;
        let compression = r.u8("ServerHello.compression_method")?;
        let is_hrr = random == HRR_RANDOM;

        let mut hello = ServerHello {
            legacy_version,
            random,
            session_id: session_id.to_vec(),
            cipher_suite,
            compression,
            selected_version: None,
            key_share_group: None,
            extensions: Vec::new(),
        };
        // Pre-TLS 1.2 servers may omit the extensions block entirely.
        if !r.any_left() {
            return Ok(hello);
        }
        let exts = r.vec16("ServerHello.extensions")?;
        r.finish("ServerHello")?;

        let mut er = Reader::new(exts);
        while er.any_left() {
            let typ = er.u16("extension type")?;
            let data = er.vec16("extension data")?;
            if hello.extensions.contains(&typ) {
                return Err(InvalidMessage::DuplicateExtension(typ));
            }
            hello.extensions.push(typ);
            let mut d = Reader::new(data);
            match typ {
                ext::SUPPORTED_VERSIONS => {
                    hello.selected_version = Some(d.u16("supported_versions")?);
                    d.finish("supported_versions")?;
                }
                ext::KEY_SHARE => {
                    hello.key_share_group = Some(NamedGroup(d.u16("key_share")?));
                    if is_hrr {
                        d.finish("key_share")?;
                    } else {
                        let key = d.vec16("key_share.key_exchange")?;
                        if key.is_empty() {
                            return Err(InvalidMessage::Empty("key_share.key_exchange"));
                        }
                        d.finish("key_share")?;
                    }
                }
                _ => {}
            }
        }
        Ok(hello)
    }

    pub fn is_hello_retry_request(&self) -> bool {
        self.random == HRR_RANDOM
    }

    /// The version actually agreed: supported_versions wins over legacy_version.
    pub fn negotiated_version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }

    /// RFC 8446 4.1.3 downgrade sentinel: a TLS 1.3 server that negotiated
    /// an older version because the client did not offer 1.3.
    pub fn downgrade_sentinel(&self) -> Option<TlsVersion> {
        match &self.random[24..] {
            b"DOWNGRD\x01" => Some(TlsVersion::Tls12),
            b"DOWNGRD\x00" => Some(TlsVersion::Tls11),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_hello_bytes(random: [u8; 32], suite: u16, exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut b = vec![0x03, 0x03];
        b.extend(random);
        b.push(32);
        b.extend([0x11; 32]);
        b.extend(suite.to_be_bytes());
        b.push(0);
        let mut e = Vec::new();
        for (t, d) in exts {
            e.extend(t.to_be_bytes());
            e.extend((d.len() as u16).to_be_bytes());
            e.extend(d);
        }
        b.extend((e.len() as u16).to_be_bytes());
        b.extend(e);
        b
    }

    #[test]
    fn tls13_server_hello() {
        let mut share = vec![0x00, 0x1d, 0x00, 0x20];
        share.extend([9; 32]);
        let body = server_hello_bytes([7; 32], 0x1302, &[(43, vec![0x03, 0x04]), (51, share)]);
        let sh = ServerHello::parse(&body).unwrap();
        assert!(!sh.is_hello_retry_request());
        assert_eq!(sh.negotiated_version(), 0x0304);
        assert_eq!(sh.cipher_suite, 0x1302);
        assert_eq!(sh.key_share_group, Some(NamedGroup::X25519));
        assert_eq!(sh.extensions, vec![43, 51]);
    }

    #[test]
    fn hello_retry_request_detected() {
        let body = server_hello_bytes(
            HRR_RANDOM,
            0x1301,
            &[(43, vec![0x03, 0x04]), (51, vec![0x00, 0x18])],
        );
        let sh = ServerHello::parse(&body).unwrap();
        assert!(sh.is_hello_retry_request());
        assert_eq!(sh.key_share_group, Some(NamedGroup::SECP384R1));
        // The same two-byte key_share in a real ServerHello is malformed.
        let body = server_hello_bytes([1; 32], 0x1301, &[(51, vec![0x00, 0x18])]);
        assert!(ServerHello::parse(&body).is_err());
    }

    #[test]
    fn tls12_server_hello_and_sentinel() {
        let mut random = [5u8; 32];
        random[24..].copy_from_slice(b"DOWNGRD\x01");
        let body = server_hello_bytes(random, 0xc02f, &[(0xff01, vec![0]), (23, vec![])]);
        let sh = ServerHello::parse(&body).unwrap();
        assert_eq!(sh.negotiated_version(), 0x0303);
        assert_eq!(sh.downgrade_sentinel(), Some(TlsVersion::Tls12));
        // Without an extensions block (SSLv3 style) the hello is still valid.
        let sh = ServerHello::parse(&body[..2 + 32 + 1 + 32 + 3]).unwrap();
        assert!(sh.extensions.is_empty());
        // Duplicated extensions are refused.
        let body = server_hello_bytes([1; 32], 0x002f, &[(23, vec![]), (23, vec![])]);
        assert_eq!(
            ServerHello::parse(&body),
            Err(InvalidMessage::DuplicateExtension(23))
        );
    }

    /// Captured from `openssl s_server -tls1_2` (OpenSSL 3.0): handshake
    /// header included.
    pub(crate) const CAPTURED_TLS12_SERVER_HELLO: [u8; 65] = [
        0x02, 0x00, 0x00, 0x3d, 0x03, 0x03, 0x6d, 0xf0, 0xd8, 0x83, 0xa6, 0x06, 0x71, 0x54, 0xcd,
        0x0f, 0xb2, 0x27, 0x49, 0x71, 0x36, 0xdd, 0xeb, 0x6c, 0xe1, 0xb1, 0x15, 0x94, 0xfc, 0xa5,
        0x9a, 0x0a, 0x31, 0x98, 0xf6, 0x9a, 0x2c, 0x97, 0x00, 0xc0, 0x2f, 0x00, 0x00, 0x15, 0xff,
        0x01, 0x00, 0x01, 0x00, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x23, 0x00,
        0x00, 0x00, 0x17, 0x00, 0x00,
    ];

    #[test]
    fn captured_openssl_tls12_server_hello() {
        let body = &CAPTURED_TLS12_SERVER_HELLO[4..];
        let sh = ServerHello::parse(body).unwrap();
        assert_eq!(sh.cipher_suite, 0xc02f);
        assert_eq!(sh.negotiated_version(), 0x0303);
        assert!(sh.session_id.is_empty());
        assert_eq!(sh.extensions, vec![0xff01, 0x000b, 0x0023, 0x0017]);
        assert_eq!(sh.selected_version, None);
        assert!(!sh.is_hello_retry_request());
        // Every strict prefix is an error, never a panic.
        for n in 0..body.len() {
            if n != 38 {
                assert!(ServerHello::parse(&body[..n]).is_err(), "prefix {n}");
            }
        }
    }

    #[test]
    fn client_hello_shapes() {
        let tls13 = ClientHello::new(TlsVersion::Tls13, &[0x1301, 0x1302], Some("example.test"));
        let bytes = tls13.encode().unwrap();
        assert_eq!(&bytes[..3], &[22, 3, 1]);
        assert_eq!(bytes[5], handshake_type::CLIENT_HELLO);
        let body = tls13.body().unwrap();
        assert_eq!(&body[..2], &[3, 3]);
        // supported_versions lists 1.3 only
        assert!(body.windows(7).any(|w| w == [0, 43, 0, 3, 2, 3, 4]));
        // the P-256 share is the 65-byte uncompressed generator
        assert!(body.windows(65).any(|w| w == P256_GENERATOR));
        assert!(body.windows(12).any(|w| w == b"example.test"));

        let ssl3 = ClientHello::new(TlsVersion::Ssl3, &[0x000a], Some("example.test"));
        let body = ssl3.body().unwrap();
        assert_eq!(&body[..2], &[3, 0]);
        // suites: 0x000a then the SCSV; compression; no extensions at all
        assert_eq!(&body[34..], &[0, 0, 4, 0x00, 0x0a, 0x00, 0xff, 1, 0]);
        assert_eq!(&ssl3.encode().unwrap()[..3], &[22, 3, 0]);

        let ip = ClientHello::new(TlsVersion::Tls12, &[0xc02f], Some("127.0.0.1"));
        assert!(!ip.body().unwrap().windows(9).any(|w| w == b"127.0.0.1"));
        assert!(
            ClientHello::new(TlsVersion::Tls12, &[], None)
                .body()
                .is_err()
        );
    }
}
