//! Keys: decoding from PEM, DER, JWK and JWKS; encoding back to the forms key-confusion
//! attacks use as HMAC secrets; generation of attacker keys.

use std::collections::BTreeMap;

use base64::Engine;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand_core::OsRng;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use rustls_pki_types::pem::{self, SectionKind};
use serde_json::Value;
use thiserror::Error;

use crate::alg::Alg;
use crate::b64;

/// Largest PEM/DER/JWK/JWKS input accepted. Key material is small; the cap bounds the work a
/// hostile JWKS endpoint can cause.
pub const MAX_KEY_INPUT: usize = 256 * 1024;

/// Largest RSA modulus accepted, in bits. Verification cost grows with the modulus, and keys
/// above this do not occur in practice.
pub const MAX_RSA_BITS: usize = 8192;

/// Why key material could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// Input over [`MAX_KEY_INPUT`].
    #[error("key input is {0} bytes, over the {MAX_KEY_INPUT}-byte limit")]
    TooLarge(usize),
    /// No `-----BEGIN ...-----` block.
    #[error("no PEM block found")]
    NoPem,
    /// A PEM block is malformed.
    #[error("malformed PEM: {0}")]
    Pem(String),
    /// Password-protected key.
    #[error("encrypted private keys are not supported; decrypt the key first")]
    Encrypted,
    /// Well-formed but of a kind this crate does not handle.
    #[error("unsupported key: {0}")]
    Unsupported(String),
    /// Not decodable as any supported encoding.
    #[error("malformed key: {0}")]
    Malformed(String),
    /// A JWK or JWKS problem.
    #[error("invalid JWK: {0}")]
    Jwk(String),
}

/// An asymmetric private key.
#[derive(Clone)]
pub enum PrivateKey {
    /// RSA (boxed: much larger than the others).
    Rsa(Box<RsaPrivateKey>),
    /// NIST P-256.
    P256(p256::SecretKey),
    /// NIST P-384.
    P384(p384::SecretKey),
    /// NIST P-521.
    P521(p521::SecretKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
}

/// An asymmetric public key.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// RSA.
    Rsa(RsaPublicKey),
    /// NIST P-256.
    P256(p256::PublicKey),
    /// NIST P-384.
    P384(p384::PublicKey),
    /// NIST P-521.
    P521(p521::PublicKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// Anything a JWS can be signed with.
// A scan holds a handful of keys for its whole run; boxing the private variant would buy
// nothing but an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum SigningKey {
    /// HMAC secret bytes (may be empty: that is an attack, not a mistake).
    Hmac(Vec<u8>),
    /// Asymmetric private key.
    Private(PrivateKey),
}

/// Anything a JWS can be verified with.
#[derive(Clone, PartialEq, Eq)]
pub enum VerifyingKey {
    /// HMAC secret bytes.
    Hmac(Vec<u8>),
    /// Asymmetric public key.
    Public(PublicKey),
}

// Hand-written so that private material never reaches logs through `{:?}`.
impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.kind())
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.kind())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SigningKey::Hmac(k) => write!(f, "SigningKey::Hmac({} bytes)", k.len()),
            SigningKey::Private(k) => write!(f, "SigningKey::Private({})", k.kind()),
        }
    }
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyingKey::Hmac(k) => write!(f, "VerifyingKey::Hmac({} bytes)", k.len()),
            VerifyingKey::Public(k) => write!(f, "VerifyingKey::Public({})", k.kind()),
        }
    }
}

impl From<PrivateKey> for SigningKey {
    fn from(k: PrivateKey) -> Self {
        SigningKey::Private(k)
    }
}

impl From<PublicKey> for VerifyingKey {
    fn from(k: PublicKey) -> Self {
        VerifyingKey::Public(k)
    }
}

impl SigningKey {
    /// HMAC key from secret bytes.
    pub fn hmac(secret: impl AsRef<[u8]>) -> Self {
        SigningKey::Hmac(secret.as_ref().to_vec())
    }
}

impl VerifyingKey {
    /// HMAC key from secret bytes.
    pub fn hmac(secret: impl AsRef<[u8]>) -> Self {
        VerifyingKey::Hmac(secret.as_ref().to_vec())
    }
}

fn check_size(len: usize) -> Result<(), KeyError> {
    if len > MAX_KEY_INPUT {
        Err(KeyError::TooLarge(len))
    } else {
        Ok(())
    }
}

/// The sections of PEM text that keys come in, DER decoded, read by rustls-pki-types (the
/// workspace's one PEM reader: any line width, CRLF, leading text, several blocks).
/// Encrypted keys are refused up front: that reader skips labels it does not know, and
/// "no key" would hide why.
fn pem_blocks(text: &str) -> Result<Vec<(SectionKind, Vec<u8>)>, KeyError> {
    check_size(text.len())?;
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.contains("Proc-Type:") {
        return Err(KeyError::Encrypted);
    }
    // PKCS#1's RSA PUBLIC KEY is not a label TLS uses, so the reader does not know it: it is
    // read under the SPKI label, and PublicKey::from_der tells the two apart by their DER.
    let text = text
        .replace(
            "-----BEGIN RSA PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----",
        )
        .replace("-----END RSA PUBLIC KEY-----", "-----END PUBLIC KEY-----");
    let mut rd = text.as_bytes();
    let mut out = Vec::new();
    loop {
        match pem::from_buf(&mut rd) {
            Ok(Some(section)) => out.push(section),
            Ok(None) => break,
            Err(e) => return Err(KeyError::Pem(e.to_string())),
        }
    }
    if out.is_empty() {
        Err(KeyError::NoPem)
    } else {
        Ok(out)
    }
}

fn malformed(what: &str) -> KeyError {
    KeyError::Malformed(what.to_owned())
}

impl PrivateKey {
    /// Generates an RSA key of `bits` bits (2048 for attacker keys).
    pub fn generate_rsa(bits: usize) -> Result<PrivateKey, KeyError> {
        RsaPrivateKey::new(&mut OsRng, bits)
            .map(|k| PrivateKey::Rsa(Box::new(k)))
            .map_err(|e| KeyError::Malformed(e.to_string()))
    }

    /// Generates a P-256 key.
    pub fn generate_p256() -> PrivateKey {
        PrivateKey::P256(p256::SecretKey::random(&mut OsRng))
    }

    /// Generates a P-384 key.
    pub fn generate_p384() -> PrivateKey {
        PrivateKey::P384(p384::SecretKey::random(&mut OsRng))
    }

    /// Generates a P-521 key.
    pub fn generate_p521() -> PrivateKey {
        PrivateKey::P521(p521::SecretKey::random(&mut OsRng))
    }

    /// Generates an Ed25519 key.
    pub fn generate_ed25519() -> PrivateKey {
        PrivateKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng))
    }

    /// Reads the first private key in PEM text: PKCS#1 (`RSA PRIVATE KEY`), SEC1
    /// (`EC PRIVATE KEY`, with or without a preceding `EC PARAMETERS` block) or PKCS#8
    /// (`PRIVATE KEY`).
    pub fn from_pem(text: &str) -> Result<PrivateKey, KeyError> {
        for (kind, der) in pem_blocks(text)? {
            match kind {
                SectionKind::RsaPrivateKey => {
                    return RsaPrivateKey::from_pkcs1_der(&der)
                        .map(|k| PrivateKey::Rsa(Box::new(k)))
                        .map_err(|e| KeyError::Malformed(e.to_string()));
                }
                SectionKind::EcPrivateKey => return PrivateKey::from_sec1_der(&der),
                SectionKind::PrivateKey => return PrivateKey::from_pkcs8_der(&der),
                _ => continue,
            }
        }
        Err(KeyError::Unsupported(
            "no private key block in the PEM text".into(),
        ))
    }

    /// Reads DER in any of PKCS#8, PKCS#1 or SEC1.
    pub fn from_der(der: &[u8]) -> Result<PrivateKey, KeyError> {
        check_size(der.len())?;
        PrivateKey::from_pkcs8_der(der)
            .or_else(|_| {
                RsaPrivateKey::from_pkcs1_der(der)
                    .map(|k| PrivateKey::Rsa(Box::new(k)))
                    .map_err(|_| malformed("not PKCS#8, PKCS#1 or SEC1"))
            })
            .or_else(|_| PrivateKey::from_sec1_der(der))
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey, KeyError> {
        // Each decoder checks the algorithm OID (and curve), so trying them in turn is exact.
        if let Ok(k) = RsaPrivateKey::from_pkcs8_der(der) {
            return Ok(PrivateKey::Rsa(Box::new(k)));
        }
        if let Ok(k) = p256::SecretKey::from_pkcs8_der(der) {
            return Ok(PrivateKey::P256(k));
        }
        if let Ok(k) = p384::SecretKey::from_pkcs8_der(der) {
            return Ok(PrivateKey::P384(k));
        }
        if let Ok(k) = p521::SecretKey::from_pkcs8_der(der) {
            return Ok(PrivateKey::P521(k));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Ok(PrivateKey::Ed25519(k));
        }
        Err(KeyError::Unsupported(
            "PKCS#8 key is not RSA, P-256, P-384, P-521 or Ed25519 (or is malformed)".into(),
        ))
    }

    fn from_sec1_der(der: &[u8]) -> Result<PrivateKey, KeyError> {
        if let Ok(k) = p256::SecretKey::from_sec1_der(der) {
            return Ok(PrivateKey::P256(k));
        }
        if let Ok(k) = p384::SecretKey::from_sec1_der(der) {
            return Ok(PrivateKey::P384(k));
        }
        if let Ok(k) = p521::SecretKey::from_sec1_der(der) {
            return Ok(PrivateKey::P521(k));
        }
        Err(KeyError::Unsupported(
            "SEC1 key is not on P-256, P-384 or P-521 (or is malformed)".into(),
        ))
    }

    /// Reads a private JWK (must carry `d`).
    pub fn from_jwk(text: &str) -> Result<PrivateKey, KeyError> {
        match Jwk::parse(text)?.key {
            JwkKey::Private(k) => Ok(k),
            _ => Err(KeyError::Jwk("the JWK holds no private key".into())),
        }
    }

    /// Short kind name, e.g. `"RSA-2048"`, `"P-256"`.
    pub fn kind(&self) -> String {
        match self {
            PrivateKey::Rsa(k) => format!("RSA-{}", k.size() * 8),
            other => other.public_key().kind(),
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::Rsa(k) => PublicKey::Rsa(k.to_public_key()),
            PrivateKey::P256(k) => PublicKey::P256(k.public_key()),
            PrivateKey::P384(k) => PublicKey::P384(k.public_key()),
            PrivateKey::P521(k) => PublicKey::P521(k.public_key()),
            PrivateKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
        }
    }

    /// The algorithm a key of this type signs with by default.
    pub fn default_alg(&self) -> Alg {
        self.public_key().default_alg()
    }

    /// PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        let doc = match self {
            PrivateKey::Rsa(k) => k.to_pkcs8_der(),
            PrivateKey::P256(k) => k.to_pkcs8_der(),
            PrivateKey::P384(k) => k.to_pkcs8_der(),
            PrivateKey::P521(k) => k.to_pkcs8_der(),
            PrivateKey::Ed25519(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| KeyError::Malformed(e.to_string()))?;
        Ok(doc.as_bytes().to_vec())
    }

    /// PKCS#8 PEM with LF line endings.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        let der = self.to_pkcs8_der()?;
        Ok(pem_encode("PRIVATE KEY", &der))
    }
}

/// `der` as a PEM block of `label`, 64 columns, LF line endings.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so any byte boundary is a char boundary.
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

impl PublicKey {
    /// Reads the first public key in PEM text: SPKI (`PUBLIC KEY`), PKCS#1
    /// (`RSA PUBLIC KEY`), an X.509 `CERTIFICATE`, or the public half of a private key.
    pub fn from_pem(text: &str) -> Result<PublicKey, KeyError> {
        for (kind, der) in pem_blocks(text)? {
            match kind {
                // SPKI, or PKCS#1 read under its label (see pem_blocks).
                SectionKind::PublicKey => {
                    return PublicKey::from_spki_der(&der).or_else(|e| {
                        RsaPublicKey::from_pkcs1_der(&der)
                            .map_err(|_| e)
                            .and_then(PublicKey::rsa_checked)
                    });
                }
                SectionKind::Certificate => return PublicKey::from_certificate_der(&der),
                _ => continue,
            }
        }
        PrivateKey::from_pem(text).map(|k| k.public_key())
    }

    /// Reads DER: SPKI, PKCS#1 RSAPublicKey or an X.509 certificate.
    pub fn from_der(der: &[u8]) -> Result<PublicKey, KeyError> {
        check_size(der.len())?;
        PublicKey::from_spki_der(der)
            .or_else(|_| {
                RsaPublicKey::from_pkcs1_der(der)
                    .map_err(|e| KeyError::Malformed(e.to_string()))
                    .and_then(PublicKey::rsa_checked)
            })
            .or_else(|_| PublicKey::from_certificate_der(der))
            .map_err(|_| malformed("DER is not SPKI, PKCS#1 or an X.509 certificate"))
    }

    /// Reads a JWK; a private JWK yields its public half, a symmetric one is an error.
    pub fn from_jwk(text: &str) -> Result<PublicKey, KeyError> {
        match Jwk::parse(text)?.key {
            JwkKey::Public(k) => Ok(k),
            JwkKey::Private(k) => Ok(k.public_key()),
            JwkKey::Secret(_) => Err(KeyError::Jwk(
                "symmetric (oct) JWK has no public key".into(),
            )),
        }
    }

    fn rsa_checked(k: RsaPublicKey) -> Result<PublicKey, KeyError> {
        if k.n().bits() > MAX_RSA_BITS {
            return Err(KeyError::Unsupported(format!(
                "RSA modulus over {MAX_RSA_BITS} bits"
            )));
        }
        Ok(PublicKey::Rsa(k))
    }

    fn from_spki_der(der: &[u8]) -> Result<PublicKey, KeyError> {
        if let Ok(k) = RsaPublicKey::from_public_key_der(der) {
            return PublicKey::rsa_checked(k);
        }
        if let Ok(k) = p256::PublicKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::PublicKey::from_public_key_der(der) {
            return Ok(PublicKey::P384(k));
        }
        if let Ok(k) = p521::PublicKey::from_public_key_der(der) {
            return Ok(PublicKey::P521(k));
        }
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::Ed25519(k));
        }
        Err(KeyError::Unsupported(
            "SPKI key is not RSA, P-256, P-384, P-521 or Ed25519 (or is malformed)".into(),
        ))
    }

    /// The subject public key of a DER X.509 certificate (as found in `x5c` or a TLS chain).
    pub fn from_certificate_der(der: &[u8]) -> Result<PublicKey, KeyError> {
        check_size(der.len())?;
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| KeyError::Malformed(format!("certificate: {e}")))?;
        PublicKey::from_spki_der(cert.tbs_certificate.subject_pki.raw)
    }

    /// Short kind name.
    pub fn kind(&self) -> String {
        match self {
            PublicKey::Rsa(k) => format!("RSA-{}", k.size() * 8),
            PublicKey::P256(_) => "P-256".into(),
            PublicKey::P384(_) => "P-384".into(),
            PublicKey::P521(_) => "P-521".into(),
            PublicKey::Ed25519(_) => "Ed25519".into(),
        }
    }

    /// The algorithm a key of this type verifies by default.
    pub fn default_alg(&self) -> Alg {
        match self {
            PublicKey::Rsa(_) => Alg::Rs256,
            PublicKey::P256(_) => Alg::Es256,
            PublicKey::P384(_) => Alg::Es384,
            PublicKey::P521(_) => Alg::Es512,
            PublicKey::Ed25519(_) => Alg::EdDsa,
        }
    }

    /// SubjectPublicKeyInfo DER.
    pub fn to_spki_der(&self) -> Result<Vec<u8>, KeyError> {
        let doc = match self {
            PublicKey::Rsa(k) => k.to_public_key_der(),
            PublicKey::P256(k) => k.to_public_key_der(),
            PublicKey::P384(k) => k.to_public_key_der(),
            PublicKey::P521(k) => k.to_public_key_der(),
            PublicKey::Ed25519(k) => k.to_public_key_der(),
        }
        .map_err(|e| KeyError::Malformed(e.to_string()))?;
        Ok(doc.as_bytes().to_vec())
    }

    /// SPKI PEM (`PUBLIC KEY`), 64-column lines, LF, with a final newline: the form OpenSSL
    /// and most libraries write, hence the likeliest bytes a confused server uses as secret.
    pub fn to_spki_pem(&self) -> Result<String, KeyError> {
        Ok(pem_encode("PUBLIC KEY", &self.to_spki_der()?))
    }

    /// PKCS#1 `RSAPublicKey` DER; `None` for non-RSA keys.
    pub fn to_pkcs1_der(&self) -> Option<Vec<u8>> {
        match self {
            PublicKey::Rsa(k) => k.to_pkcs1_der().ok().map(|d| d.as_bytes().to_vec()),
            _ => None,
        }
    }

    /// PKCS#1 PEM (`RSA PUBLIC KEY`) with a final newline; `None` for non-RSA keys.
    pub fn to_pkcs1_pem(&self) -> Option<String> {
        match self {
            PublicKey::Rsa(k) => k.to_pkcs1_pem(LineEnding::LF).ok(),
            _ => None,
        }
    }

    /// Public JWK members (values base64url-encoded, fixed-width for EC coordinates).
    fn jwk_members(&self) -> BTreeMap<&'static str, String> {
        let mut m = BTreeMap::new();
        match self {
            PublicKey::Rsa(k) => {
                m.insert("kty", "RSA".to_owned());
                m.insert("n", b64::encode(&k.n().to_bytes_be()));
                m.insert("e", b64::encode(&k.e().to_bytes_be()));
            }
            PublicKey::P256(k) => {
                let p = k.to_encoded_point(false);
                ec_members(
                    &mut m,
                    "P-256",
                    p.x().map(|x| &x[..]),
                    p.y().map(|y| &y[..]),
                );
            }
            PublicKey::P384(k) => {
                let p = k.to_encoded_point(false);
                ec_members(
                    &mut m,
                    "P-384",
                    p.x().map(|x| &x[..]),
                    p.y().map(|y| &y[..]),
                );
            }
            PublicKey::P521(k) => {
                let p = k.to_encoded_point(false);
                ec_members(
                    &mut m,
                    "P-521",
                    p.x().map(|x| &x[..]),
                    p.y().map(|y| &y[..]),
                );
            }
            PublicKey::Ed25519(k) => {
                m.insert("kty", "OKP".to_owned());
                m.insert("crv", "Ed25519".to_owned());
                m.insert("x", b64::encode(k.as_bytes()));
            }
        }
        m
    }

    /// Public JWK JSON with members in lexicographic order, which is also the RFC 7638
    /// thumbprint form: deterministic bytes whatever serde_json features are enabled.
    pub fn to_jwk(&self) -> String {
        self.to_jwk_with(None, None)
    }

    /// Public JWK JSON with optional `kid` and `alg` members, lexicographic order.
    pub fn to_jwk_with(&self, kid: Option<&str>, alg: Option<&str>) -> String {
        let mut m = self.jwk_members();
        if let Some(kid) = kid {
            m.insert("kid", kid.to_owned());
        }
        if let Some(alg) = alg {
            m.insert("alg", alg.to_owned());
        }
        let body: Vec<String> = m
            .iter()
            .map(|(k, v)| format!("{}:{}", Value::from(*k), Value::from(v.as_str())))
            .collect();
        format!("{{{}}}", body.join(","))
    }
}

fn ec_members(
    m: &mut BTreeMap<&'static str, String>,
    crv: &str,
    x: Option<&[u8]>,
    y: Option<&[u8]>,
) {
    m.insert("kty", "EC".to_owned());
    m.insert("crv", crv.to_owned());
    // Uncompressed encoding always has both coordinates; only the identity lacks them, and
    // a PublicKey can never be the identity.
    if let (Some(x), Some(y)) = (x, y) {
        m.insert("x", b64::encode(x));
        m.insert("y", b64::encode(y));
    }
}

/// What a JWK holds.
#[derive(Debug, Clone)]
pub enum JwkKey {
    /// Public key only.
    Public(PublicKey),
    /// Private key (its public half via [`PrivateKey::public_key`]).
    Private(PrivateKey),
    /// Symmetric `oct` key bytes.
    Secret(Vec<u8>),
}

/// A parsed JWK with the members a scanner cares about.
#[derive(Debug, Clone)]
pub struct Jwk {
    /// `kid`, when a string.
    pub kid: Option<String>,
    /// `alg`, when a string.
    pub alg: Option<String>,
    /// `use`, when a string.
    pub use_: Option<String>,
    /// The key.
    pub key: JwkKey,
}

/// A parsed JWKS: the usable keys and why the others were skipped.
#[derive(Debug, Clone)]
pub struct Jwks {
    /// Keys that parsed.
    pub keys: Vec<Jwk>,
    /// One line per skipped entry: its index and the reason.
    pub skipped: Vec<String>,
}

fn jwk_err(msg: impl Into<String>) -> KeyError {
    KeyError::Jwk(msg.into())
}

fn member_bytes(obj: &serde_json::Map<String, Value>, name: &str) -> Result<Vec<u8>, KeyError> {
    let s = obj
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| jwk_err(format!("missing string member {name:?}")))?;
    b64::decode(s).map_err(|_| jwk_err(format!("member {name:?} is not base64url")))
}

fn opt_member_bytes(
    obj: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<Vec<u8>>, KeyError> {
    if obj.contains_key(name) {
        member_bytes(obj, name).map(Some)
    } else {
        Ok(None)
    }
}

fn fixed<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N], KeyError> {
    bytes
        .try_into()
        .map_err(|_| jwk_err(format!("{what} must be {N} bytes, got {}", bytes.len())))
}

impl Jwk {
    /// Parses one JWK from JSON text.
    pub fn parse(text: &str) -> Result<Jwk, KeyError> {
        check_size(text.len())?;
        let v: Value = serde_json::from_str(text).map_err(|e| jwk_err(e.to_string()))?;
        Jwk::from_value(&v)
    }

    /// Parses one JWK from a JSON value.
    pub fn from_value(v: &Value) -> Result<Jwk, KeyError> {
        let obj = v.as_object().ok_or_else(|| jwk_err("not a JSON object"))?;
        let text = |name: &str| obj.get(name).and_then(Value::as_str).map(str::to_owned);
        let kty = text("kty").ok_or_else(|| jwk_err("missing kty"))?;
        let key = match kty.as_str() {
            "RSA" => rsa_jwk(obj)?,
            "EC" => ec_jwk(obj)?,
            "OKP" => okp_jwk(obj)?,
            "oct" => JwkKey::Secret(member_bytes(obj, "k")?),
            other => return Err(KeyError::Unsupported(format!("kty {other:?}"))),
        };
        Ok(Jwk {
            kid: text("kid"),
            alg: text("alg"),
            use_: text("use"),
            key,
        })
    }

    /// The public key, if the JWK is asymmetric.
    pub fn public_key(&self) -> Option<PublicKey> {
        match &self.key {
            JwkKey::Public(k) => Some(k.clone()),
            JwkKey::Private(k) => Some(k.public_key()),
            JwkKey::Secret(_) => None,
        }
    }
}

fn rsa_jwk(obj: &serde_json::Map<String, Value>) -> Result<JwkKey, KeyError> {
    let n = member_bytes(obj, "n")?;
    let e = member_bytes(obj, "e")?;
    if n.len() * 8 > MAX_RSA_BITS + 8 {
        return Err(KeyError::Unsupported(format!(
            "RSA modulus over {MAX_RSA_BITS} bits"
        )));
    }
    if e.len() > 8 {
        return Err(jwk_err("RSA exponent too large"));
    }
    let (n, e) = (BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e));
    let public = RsaPublicKey::new_with_max_size(n.clone(), e.clone(), MAX_RSA_BITS)
        .map_err(|err| jwk_err(format!("RSA: {err}")))?;
    let Some(d) = opt_member_bytes(obj, "d")? else {
        return Ok(JwkKey::Public(PublicKey::Rsa(public)));
    };
    let mut primes = Vec::new();
    if let (Some(p), Some(q)) = (opt_member_bytes(obj, "p")?, opt_member_bytes(obj, "q")?) {
        primes.push(BigUint::from_bytes_be(&p));
        primes.push(BigUint::from_bytes_be(&q));
    }
    let key = RsaPrivateKey::from_components(n, e, BigUint::from_bytes_be(&d), primes)
        .map_err(|err| jwk_err(format!("RSA private key: {err}")))?;
    Ok(JwkKey::Private(PrivateKey::Rsa(Box::new(key))))
}

fn ec_jwk(obj: &serde_json::Map<String, Value>) -> Result<JwkKey, KeyError> {
    let crv = obj.get("crv").and_then(Value::as_str).unwrap_or("");
    let x = member_bytes(obj, "x")?;
    let y = member_bytes(obj, "y")?;
    let d = opt_member_bytes(obj, "d")?;
    let size = match crv {
        "P-256" => 32,
        "P-384" => 48,
        "P-521" => 66,
        other => return Err(KeyError::Unsupported(format!("EC curve {other:?}"))),
    };
    // JWK coordinates are fixed width (RFC 7518 6.2.1.2); a short one would let two
    // different texts denote one key, so refuse it rather than pad silently.
    if x.len() != size || y.len() != size || d.as_ref().is_some_and(|d| d.len() != size) {
        return Err(jwk_err(format!("{crv} members must be {size} bytes")));
    }
    let mut sec1 = Vec::with_capacity(1 + 2 * size);
    sec1.push(4);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    let bad_point = |_| jwk_err(format!("point is not on {crv}"));
    let bad_scalar = |_| jwk_err(format!("d is not a valid {crv} scalar"));
    let (public, private) = match crv {
        "P-256" => (
            PublicKey::P256(p256::PublicKey::from_sec1_bytes(&sec1).map_err(bad_point)?),
            d.map(|d| p256::SecretKey::from_slice(&d).map(PrivateKey::P256))
                .transpose()
                .map_err(bad_scalar)?,
        ),
        "P-384" => (
            PublicKey::P384(p384::PublicKey::from_sec1_bytes(&sec1).map_err(bad_point)?),
            d.map(|d| p384::SecretKey::from_slice(&d).map(PrivateKey::P384))
                .transpose()
                .map_err(bad_scalar)?,
        ),
        _ => (
            PublicKey::P521(p521::PublicKey::from_sec1_bytes(&sec1).map_err(bad_point)?),
            d.map(|d| p521::SecretKey::from_slice(&d).map(PrivateKey::P521))
                .transpose()
                .map_err(bad_scalar)?,
        ),
    };
    match private {
        Some(k) if k.public_key() != public => Err(jwk_err("d does not match x/y")),
        Some(k) => Ok(JwkKey::Private(k)),
        None => Ok(JwkKey::Public(public)),
    }
}

fn okp_jwk(obj: &serde_json::Map<String, Value>) -> Result<JwkKey, KeyError> {
    let crv = obj.get("crv").and_then(Value::as_str).unwrap_or("");
    if crv != "Ed25519" {
        return Err(KeyError::Unsupported(format!("OKP curve {crv:?}")));
    }
    let x = fixed::<32>(&member_bytes(obj, "x")?, "x")?;
    let public = ed25519_dalek::VerifyingKey::from_bytes(&x)
        .map_err(|_| jwk_err("x is not a valid Ed25519 point"))?;
    match opt_member_bytes(obj, "d")? {
        Some(d) => {
            let k = ed25519_dalek::SigningKey::from_bytes(&fixed::<32>(&d, "d")?);
            if k.verifying_key() != public {
                return Err(jwk_err("d does not match x"));
            }
            Ok(JwkKey::Private(PrivateKey::Ed25519(k)))
        }
        None => Ok(JwkKey::Public(PublicKey::Ed25519(public))),
    }
}

impl Jwks {
    /// Parses a JWKS document (`{"keys":[...]}`); a bare JWK object is taken as a set of one.
    /// Entries that fail are listed in `skipped`, not fatal: real JWKS endpoints mix in key
    /// types a scanner need not understand.
    pub fn parse(text: &str) -> Result<Jwks, KeyError> {
        check_size(text.len())?;
        let v: Value = serde_json::from_str(text).map_err(|e| jwk_err(e.to_string()))?;
        let entries: Vec<&Value> = match v.get("keys") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(_) => return Err(jwk_err("\"keys\" is not an array")),
            None if v.get("kty").is_some() => vec![&v],
            None => return Err(jwk_err("no \"keys\" array")),
        };
        let mut out = Jwks {
            keys: Vec::new(),
            skipped: Vec::new(),
        };
        for (i, entry) in entries.into_iter().enumerate() {
            match Jwk::from_value(entry) {
                Ok(k) => out.keys.push(k),
                Err(e) => out.skipped.push(format!("key {i}: {e}")),
            }
        }
        Ok(out)
    }

    /// The first key with this `kid`.
    pub fn by_kid(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }
}

/// A JWKS document holding one public key, as an attacker's `jku` server would serve it.
pub fn jwks_document(key: &PublicKey, kid: &str, alg: Alg) -> String {
    format!(
        "{{\"keys\":[{}]}}",
        key.to_jwk_with(Some(kid), Some(alg.name()))
    )
}

/// Private JWK JSON (public members plus `d`, and `p`/`q` for RSA), lexicographic order.
/// Lets the lab and tests hand the scanner a key in the form `--jwt-key` accepts.
pub fn private_jwk(key: &PrivateKey) -> String {
    let public = key.public_key();
    let mut m = public.jwk_members();
    match key {
        PrivateKey::Rsa(k) => {
            m.insert("d", b64::encode(&k.d().to_bytes_be()));
            if let [p, q, ..] = k.primes() {
                m.insert("p", b64::encode(&p.to_bytes_be()));
                m.insert("q", b64::encode(&q.to_bytes_be()));
            }
        }
        PrivateKey::P256(k) => {
            m.insert("d", b64::encode(&k.to_bytes()));
        }
        PrivateKey::P384(k) => {
            m.insert("d", b64::encode(&k.to_bytes()));
        }
        PrivateKey::P521(k) => {
            m.insert("d", b64::encode(&k.to_bytes()));
        }
        PrivateKey::Ed25519(k) => {
            m.insert("d", b64::encode(k.as_bytes()));
        }
    }
    let body: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{}:{}", Value::from(*k), Value::from(v.as_str())))
        .collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use std::sync::OnceLock;

    fn rsa() -> &'static PrivateKey {
        static KEY: OnceLock<PrivateKey> = OnceLock::new();
        KEY.get_or_init(|| PrivateKey::generate_rsa(2048).unwrap())
    }

    fn all_private() -> Vec<PrivateKey> {
        vec![
            rsa().clone(),
            PrivateKey::generate_p256(),
            PrivateKey::generate_p384(),
            PrivateKey::generate_p521(),
            PrivateKey::generate_ed25519(),
        ]
    }

    #[test]
    fn pkcs8_pem_and_der_round_trip_for_every_kind() {
        for k in all_private() {
            let pem = k.to_pkcs8_pem().unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
            let back = PrivateKey::from_pem(&pem).unwrap();
            assert_eq!(back.public_key(), k.public_key(), "{}", k.kind());
            let back = PrivateKey::from_der(&k.to_pkcs8_der().unwrap()).unwrap();
            assert_eq!(back.public_key(), k.public_key());
            // CRLF line endings and 76-column wrapping (MIME style) are still read.
            let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            let lines: Vec<String> = body
                .as_bytes()
                .chunks(76)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            let rewrapped = format!(
                "-----BEGIN PRIVATE KEY-----\r\n{}\r\n-----END PRIVATE KEY-----\r\n",
                lines.join("\r\n")
            );
            assert_eq!(
                PrivateKey::from_pem(&rewrapped).unwrap().public_key(),
                k.public_key()
            );
        }
    }

    #[test]
    fn public_encodings_round_trip_for_every_kind() {
        for k in all_private() {
            let public = k.public_key();
            let pem = public.to_spki_pem().unwrap();
            assert_eq!(PublicKey::from_pem(&pem).unwrap(), public);
            assert_eq!(
                PublicKey::from_der(&public.to_spki_der().unwrap()).unwrap(),
                public
            );
            assert_eq!(PublicKey::from_jwk(&public.to_jwk()).unwrap(), public);
            // A private PEM given where a public key is expected yields its public half.
            assert_eq!(
                PublicKey::from_pem(&k.to_pkcs8_pem().unwrap()).unwrap(),
                public
            );
            let jwk = private_jwk(&k);
            assert_eq!(PrivateKey::from_jwk(&jwk).unwrap().public_key(), public);
        }
    }

    #[test]
    fn pkcs1_and_sec1_are_read() {
        let PrivateKey::Rsa(inner) = rsa() else {
            unreachable!()
        };
        let pkcs1 = inner.to_pkcs1_pem(LineEnding::LF).unwrap();
        assert!(pkcs1.contains("BEGIN RSA PRIVATE KEY"));
        let k = PrivateKey::from_pem(&pkcs1).unwrap();
        assert_eq!(k.public_key(), rsa().public_key());
        let public = rsa().public_key();
        let pem = public.to_pkcs1_pem().unwrap();
        assert!(pem.contains("BEGIN RSA PUBLIC KEY"));
        assert_eq!(PublicKey::from_pem(&pem).unwrap(), public);
        assert_eq!(
            PublicKey::from_der(&public.to_pkcs1_der().unwrap()).unwrap(),
            public
        );

        let ec = p384::SecretKey::random(&mut OsRng);
        let sec1 = ec.to_sec1_pem(LineEnding::LF).unwrap();
        // openssl ecparam -genkey prints the parameters block first.
        let text = format!(
            "-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n{}",
            &*sec1
        );
        let k = PrivateKey::from_pem(&text).unwrap();
        assert_eq!(k.kind(), "P-384");
        assert_eq!(k.public_key(), PublicKey::P384(ec.public_key()));
        let der = p256::SecretKey::random(&mut OsRng).to_pkcs8_der().unwrap();
        assert_eq!(
            PrivateKey::from_der(der.as_bytes()).unwrap().kind(),
            "P-256"
        );
    }

    #[test]
    fn certificate_public_key_is_extracted() {
        let k = PrivateKey::generate_p256();
        let pem = crate::attacks::self_signed_certificate_pem(&k).unwrap();
        assert_eq!(PublicKey::from_pem(&pem).unwrap(), k.public_key());
    }

    #[test]
    fn jwks_parsing_keeps_good_keys_and_explains_skips() {
        let ec = PrivateKey::generate_p256().public_key();
        let ed = PrivateKey::generate_ed25519().public_key();
        let doc = format!(
            r#"{{"keys":[{},{},{{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}},{{"kty":"oct","k":"c2VjcmV0"}},{{"kty":"XYZ"}},{}]}}"#,
            rsa().public_key().to_jwk_with(Some("r1"), Some("RS256")),
            ec.to_jwk_with(Some("e1"), None),
            ed.to_jwk_with(Some("d1"), None)
        );
        let set = Jwks::parse(&doc).unwrap();
        assert_eq!(set.keys.len(), 4);
        assert_eq!(set.skipped.len(), 2, "{:?}", set.skipped);
        assert_eq!(set.by_kid("r1").unwrap().alg.as_deref(), Some("RS256"));
        assert_eq!(set.by_kid("e1").unwrap().public_key(), Some(ec));
        assert_eq!(set.by_kid("d1").unwrap().public_key(), Some(ed));
        assert!(matches!(set.keys[2].key, JwkKey::Secret(ref k) if k == b"secret"));
        // A bare JWK is a set of one.
        assert_eq!(
            Jwks::parse(&rsa().public_key().to_jwk())
                .unwrap()
                .keys
                .len(),
            1
        );
    }

    #[test]
    fn jwk_output_is_in_thumbprint_order() {
        let jwk = rsa().public_key().to_jwk();
        assert!(
            jwk.starts_with("{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\""),
            "{jwk}"
        );
        let ec = PrivateKey::generate_p256().public_key().to_jwk();
        assert!(
            ec.starts_with("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\""),
            "{ec}"
        );
        let v: Value = serde_json::from_str(&ec).unwrap();
        assert_eq!(b64::decode(v["x"].as_str().unwrap()).unwrap().len(), 32);
    }

    #[test]
    fn bad_key_material_is_an_error() {
        assert_eq!(PublicKey::from_pem("hello").unwrap_err(), KeyError::NoPem);
        assert!(matches!(
            PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----"),
            Err(KeyError::Pem(_))
        ));
        assert!(
            PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .is_err()
        );
        assert!(matches!(
            PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA"),
            Err(KeyError::Pem(_))
        ));
        assert_eq!(
            PrivateKey::from_pem(
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----"
            )
            .unwrap_err(),
            KeyError::Encrypted
        );
        assert!(PublicKey::from_der(b"\x30\x03\x02\x01\x00").is_err());
        assert!(PublicKey::from_der(&[]).is_err());
        assert!(PublicKey::from_jwk("{}").is_err());
        assert!(PublicKey::from_jwk("[]").is_err());
        assert!(PublicKey::from_jwk(r#"{"kty":"RSA","n":"AQAB"}"#).is_err());
        assert!(PublicKey::from_jwk(r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#).is_err());
        assert!(PublicKey::from_jwk(r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#).is_err());
        assert!(PublicKey::from_jwk(r#"{"kty":"OKP","crv":"X25519","x":"AA"}"#).is_err());
        let huge_n = b64::encode(&vec![0xffu8; 2048]);
        assert!(
            PublicKey::from_jwk(&format!(r#"{{"kty":"RSA","n":"{huge_n}","e":"AQAB"}}"#)).is_err()
        );
        assert!(matches!(
            Jwks::parse(&" ".repeat(MAX_KEY_INPUT + 1)),
            Err(KeyError::TooLarge(_))
        ));
        // EC private JWK whose d belongs to another key.
        let a = PrivateKey::generate_p256();
        let b = PrivateKey::generate_p256();
        let mut v: Value = serde_json::from_str(&private_jwk(&a)).unwrap();
        let bv: Value = serde_json::from_str(&private_jwk(&b)).unwrap();
        v["d"] = bv["d"].clone();
        assert!(PrivateKey::from_jwk(&v.to_string()).is_err());
    }
}
