use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;

use crate::CrackError;

/// Tokens beyond this are refused: real JWTs are a few KiB at most, and the
/// cost of every candidate grows with the signing input.
pub const MAX_TOKEN_LEN: usize = 256 * 1024;

/// The HMAC algorithm named in the token header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    HS256,
    HS384,
    HS512,
}

impl Alg {
    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
        }
    }

    /// MAC length in bytes.
    pub fn mac_len(self) -> usize {
        match self {
            Alg::HS256 => 32,
            Alg::HS384 => 48,
            Alg::HS512 => 64,
        }
    }

    /// Hash block size in bytes: keys longer than this are hashed first.
    pub fn block_len(self) -> usize {
        match self {
            Alg::HS256 => 64,
            Alg::HS384 | Alg::HS512 => 128,
        }
    }

    fn from_name(name: &str) -> Result<Alg, CrackError> {
        match name {
            "HS256" => Ok(Alg::HS256),
            "HS384" => Ok(Alg::HS384),
            "HS512" => Ok(Alg::HS512),
            other => Err(CrackError::UnsupportedAlg(other.chars().take(64).collect())),
        }
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One HMAC-signed token reduced to what the cracker needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    alg: Alg,
    signing_input: Vec<u8>,
    mac: Vec<u8>,
    token: String,
}

fn is_b64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn b64(seg: &str, what: &str) -> Result<Vec<u8>, CrackError> {
    // Some encoders pad despite RFC 7515; padding carries no information.
    let seg = seg.trim_end_matches('=');
    if !is_b64url(seg) {
        return Err(CrackError::Malformed(format!("{what} is not base64url")));
    }
    URL_SAFE_NO_PAD
        .decode(seg)
        .map_err(|e| CrackError::Malformed(format!("{what}: {e}")))
}

impl Target {
    /// Parses a compact JWS (`header.payload.signature`) signed with HS256,
    /// HS384 or HS512.
    pub fn from_jwt(token: &str) -> Result<Target, CrackError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_LEN {
            return Err(CrackError::TooLarge(token.len()));
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CrackError::Malformed(
                "expected three dot-separated segments".into(),
            ));
        };
        if h.is_empty() {
            return Err(CrackError::Malformed("empty header".into()));
        }
        let header = b64(h, "header")?;
        let header: serde_json::Value = serde_json::from_slice(&header)
            .map_err(|e| CrackError::Malformed(format!("header is not JSON: {e}")))?;
        let alg = match header.get("alg") {
            Some(serde_json::Value::String(a)) => Alg::from_name(a)?,
            Some(_) => return Err(CrackError::Malformed("alg is not a string".into())),
            None => return Err(CrackError::Malformed("header has no alg".into())),
        };
        if !is_b64url(p) {
            return Err(CrackError::Malformed("payload is not base64url".into()));
        }
        let mac = b64(s, "signature")?;
        if mac.len() != alg.mac_len() {
            return Err(CrackError::Malformed(format!(
                "{alg} signature must be {} bytes, got {}",
                alg.mac_len(),
                mac.len()
            )));
        }
        Ok(Target {
            alg,
            signing_input: token.as_bytes()[..h.len() + 1 + p.len()].to_vec(),
            mac,
            token: token.to_string(),
        })
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// `base64url(header) "." base64url(payload)`, the bytes the MAC covers.
    pub fn signing_input(&self) -> &[u8] {
        &self.signing_input
    }

    /// The raw (decoded) MAC.
    pub fn mac(&self) -> &[u8] {
        &self.mac
    }

    /// Whether `key` produces this token's MAC. Slow path, for confirmation.
    pub fn verify(&self, key: &[u8]) -> bool {
        hmac_reference(self.alg, key, &self.signing_input) == self.mac
    }

    /// The token in the form hashcat mode 16500 expects (the JWT itself).
    pub fn to_hashcat(&self) -> String {
        self.token.clone()
    }
}

/// Validates `token` as an HS* JWT and returns the line to feed hashcat
/// `-m 16500`, which takes the compact token itself.
pub fn export_hashcat(token: &str) -> Result<String, CrackError> {
    Target::from_jwt(token).map(|t| t.to_hashcat())
}

fn hmac_with<D: Digest + sha2::digest::core_api::BlockSizeUser>(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let block = D::block_size();
    let mut k = if key.len() > block {
        D::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(block, 0);
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = D::new().chain_update(&ipad).chain_update(msg).finalize();
    D::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// Plain HMAC straight from RFC 2104, independent of the fast engine: used to
/// confirm a hit and, in tests, as the oracle the fast paths must agree with.
pub(crate) fn hmac_reference(alg: Alg, key: &[u8], msg: &[u8]) -> Vec<u8> {
    match alg {
        Alg::HS256 => hmac_with::<sha2::Sha256>(key, msg),
        Alg::HS384 => hmac_with::<sha2::Sha384>(key, msg),
        Alg::HS512 => hmac_with::<sha2::Sha512>(key, msg),
    }
}
