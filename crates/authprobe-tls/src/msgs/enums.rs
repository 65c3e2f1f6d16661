//! Wire constants and their human names. Unknown codes stay representable
//! (as raw numbers) because a scanner must report what the server really sent.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A protocol version the prober can offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TlsVersion {
    #[serde(rename = "SSLv3")]
    Ssl3,
    #[serde(rename = "TLSv1.0")]
    Tls10,
    #[serde(rename = "TLSv1.1")]
    Tls11,
    #[serde(rename = "TLSv1.2")]
    Tls12,
    #[serde(rename = "TLSv1.3")]
    Tls13,
}

impl TlsVersion {
    pub const ALL: [TlsVersion; 5] = [
        TlsVersion::Ssl3,
        TlsVersion::Tls10,
        TlsVersion::Tls11,
        TlsVersion::Tls12,
        TlsVersion::Tls13,
    ];

    pub fn wire(self) -> u16 {
        match self {
            TlsVersion::Ssl3 => 0x0300,
            TlsVersion::Tls10 => 0x0301,
            TlsVersion::Tls11 => 0x0302,
            TlsVersion::Tls12 => 0x0303,
            TlsVersion::Tls13 => 0x0304,
        }
    }

    pub fn from_wire(v: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.wire() == v)
    }

    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Ssl3 => "SSLv3",
            TlsVersion::Tls10 => "TLSv1.0",
            TlsVersion::Tls11 => "TLSv1.1",
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }

    /// SSLv3, TLS 1.0 and TLS 1.1 (catalog id `tls.legacy_protocol`).
    pub fn is_legacy(self) -> bool {
        self < TlsVersion::Tls12
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub mod content_type {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;
    pub const HEARTBEAT: u8 = 24;
}

pub mod handshake_type {
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const NEW_SESSION_TICKET: u8 = 4;
    pub const ENCRYPTED_EXTENSIONS: u8 = 8;
    pub const CERTIFICATE: u8 = 11;
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    pub const CERTIFICATE_REQUEST: u8 = 13;
    pub const SERVER_HELLO_DONE: u8 = 14;
    pub const CERTIFICATE_STATUS: u8 = 22;
}

pub mod extension_type {
    pub const SERVER_NAME: u16 = 0;
    pub const STATUS_REQUEST: u16 = 5;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const SESSION_TICKET: u16 = 35;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    pub const KEY_SHARE: u16 = 51;
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// Signalling values that travel in the cipher suite list but are not suites.
pub const TLS_EMPTY_RENEGOTIATION_INFO_SCSV: u16 = 0x00ff;
pub const TLS_FALLBACK_SCSV: u16 = 0x5600;

/// A (EC)DHE group from the IANA "TLS Supported Groups" registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NamedGroup(pub u16);

impl NamedGroup {
    pub const SECP256R1: NamedGroup = NamedGroup(0x0017);
    pub const SECP384R1: NamedGroup = NamedGroup(0x0018);
    pub const SECP521R1: NamedGroup = NamedGroup(0x0019);
    pub const X25519: NamedGroup = NamedGroup(0x001d);
    pub const X448: NamedGroup = NamedGroup(0x001e);
    pub const FFDHE2048: NamedGroup = NamedGroup(0x0100);
    pub const X25519MLKEM768: NamedGroup = NamedGroup(0x11ec);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "sect163k1",
            2 => "sect163r1",
            3 => "sect163r2",
            4 => "sect193r1",
            5 => "sect193r2",
            6 => "sect233k1",
            7 => "sect233r1",
            8 => "sect239k1",
            9 => "sect283k1",
            10 => "sect283r1",
            11 => "sect409k1",
            12 => "sect409r1",
            13 => "sect571k1",
            14 => "sect571r1",
            15 => "secp160k1",
            16 => "secp160r1",
            17 => "secp160r2",
            18 => "secp192k1",
            19 => "secp192r1",
            20 => "secp224k1",
            21 => "secp224r1",
            22 => "secp256k1",
            23 => "secp256r1",
            24 => "secp384r1",
            25 => "secp521r1",
            26 => "brainpoolP256r1",
            27 => "brainpoolP384r1",
            28 => "brainpoolP512r1",
            29 => "x25519",
            30 => "x448",
            31 => "brainpoolP256r1tls13",
            32 => "brainpoolP384r1tls13",
            33 => "brainpoolP512r1tls13",
            0x0100 => "ffdhe2048",
            0x0101 => "ffdhe3072",
            0x0102 => "ffdhe4096",
            0x0103 => "ffdhe6144",
            0x0104 => "ffdhe8192",
            0x0200 => "MLKEM512",
            0x0201 => "MLKEM768",
            0x0202 => "MLKEM1024",
            0x11eb => "SecP256r1MLKEM768",
            0x11ec => "X25519MLKEM768",
            0x11ed => "SecP384r1MLKEM1024",
            0x6399 => "X25519Kyber768Draft00",
            _ => return None,
        })
    }

    /// Elliptic-curve groups usable for ECDHE in TLS 1.0 to 1.2.
    pub fn tls12_candidates() -> Vec<NamedGroup> {
        (1..=30).map(NamedGroup).collect()
    }

    /// Groups usable for key exchange in TLS 1.3, including finite-field and
    /// hybrid post-quantum ones (probed without a key share, see the prober).
    pub fn tls13_candidates() -> Vec<NamedGroup> {
        [
            0x001d, 0x0017, 0x0018, 0x0019, 0x001e, 0x001f, 0x0020, 0x0021, 0x0100, 0x0101, 0x0102,
            0x0103, 0x0104, 0x11ec, 0x11eb, 0x11ed, 0x0200, 0x0201, 0x0202, 0x6399,
        ]
        .into_iter()
        .map(NamedGroup)
        .collect()
    }
}

impl fmt::Display for NamedGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "group_{:#06x}", self.0),
        }
    }
}

/// A TLS 1.2 (hash, signature) pair or TLS 1.3 SignatureScheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignatureScheme(pub u16);

impl SignatureScheme {
    /// What a permissive modern client offers; legacy SHA-1/MD5 pairs are
    /// included so that old servers still find something they can sign with.
    pub const OFFERED: [u16; 25] = [
        0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b,
        0x081a, 0x081b, 0x081c, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0203,
        0x0201, 0x0202, 0x0101,
    ];

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0101 => "rsa_md5",
            0x0201 => "rsa_pkcs1_sha1",
            0x0202 => "dsa_sha1",
            0x0203 => "ecdsa_sha1",
            0x0301 => "rsa_sha224",
            0x0302 => "dsa_sha224",
            0x0303 => "ecdsa_sha224",
            0x0401 => "rsa_pkcs1_sha256",
            0x0402 => "dsa_sha256",
            0x0403 => "ecdsa_secp256r1_sha256",
            0x0501 => "rsa_pkcs1_sha384",
            0x0502 => "dsa_sha384",
            0x0503 => "ecdsa_secp384r1_sha384",
            0x0601 => "rsa_pkcs1_sha512",
            0x0602 => "dsa_sha512",
            0x0603 => "ecdsa_secp521r1_sha512",
            0x0804 => "rsa_pss_rsae_sha256",
            0x0805 => "rsa_pss_rsae_sha384",
            0x0806 => "rsa_pss_rsae_sha512",
            0x0807 => "ed25519",
            0x0808 => "ed448",
            0x0809 => "rsa_pss_pss_sha256",
            0x080a => "rsa_pss_pss_sha384",
            0x080b => "rsa_pss_pss_sha512",
            0x081a => "ecdsa_brainpoolP256r1tls13_sha256",
            0x081b => "ecdsa_brainpoolP384r1tls13_sha384",
            0x081c => "ecdsa_brainpoolP512r1tls13_sha512",
            0x0904 => "mldsa44",
            0x0905 => "mldsa65",
            0x0906 => "mldsa87",
            _ => return None,
        })
    }
}

impl fmt::Display for SignatureScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "sigscheme_{:#06x}", self.0),
        }
    }
}

/// Alert level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlertLevel {
    Warning,
    Fatal,
    Unknown(u8),
}

impl AlertLevel {
    pub fn from_wire(v: u8) -> Self {
        match v {
            1 => AlertLevel::Warning,
            2 => AlertLevel::Fatal,
            x => AlertLevel::Unknown(x),
        }
    }
}

/// Alert description code with its registry name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AlertDescription(pub u8);

impl AlertDescription {
    pub const HANDSHAKE_FAILURE: AlertDescription = AlertDescription(40);
    pub const ILLEGAL_PARAMETER: AlertDescription = AlertDescription(47);
    pub const DECODE_ERROR: AlertDescription = AlertDescription(50);
    pub const PROTOCOL_VERSION: AlertDescription = AlertDescription(70);
    pub const INSUFFICIENT_SECURITY: AlertDescription = AlertDescription(71);
    pub const UNRECOGNIZED_NAME: AlertDescription = AlertDescription(112);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            21 => "decryption_failed",
            22 => "record_overflow",
            30 => "decompression_failure",
            40 => "handshake_failure",
            41 => "no_certificate",
            42 => "bad_certificate",
            43 => "unsupported_certificate",
            44 => "certificate_revoked",
            45 => "certificate_expired",
            46 => "certificate_unknown",
            47 => "illegal_parameter",
            48 => "unknown_ca",
            49 => "access_denied",
            50 => "decode_error",
            51 => "decrypt_error",
            60 => "export_restriction",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            86 => "inappropriate_fallback",
            90 => "user_canceled",
            100 => "no_renegotiation",
            109 => "missing_extension",
            110 => "unsupported_extension",
            111 => "certificate_unobtainable",
            112 => "unrecognized_name",
            113 => "bad_certificate_status_response",
            114 => "bad_certificate_hash_value",
            115 => "unknown_psk_identity",
            116 => "certificate_required",
            120 => "no_application_protocol",
            121 => "ech_required",
            _ => return None,
        })
    }
}

impl fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "alert_{}", self.0),
        }
    }
}
