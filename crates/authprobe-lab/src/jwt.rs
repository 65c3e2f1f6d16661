//! The lab's token issuer and validator.
//!
//! The hardened validator follows RFC 8725: one allowed algorithm, the signature checked
//! with the configured key (never one named by the token), `exp` required, `nbf` honoured,
//! `iss` and `aud` required and compared exactly. Signatures are verified by the
//! `jsonwebtoken` crate; claims by `check_claims` below so each flaw can relax exactly one
//! rule. Each `jwt.*` flaw is the smallest weakening that reproduces what real validators
//! got wrong, placed where that mistake lives.

use crate::app::{AUDIENCE, ISSUER, now};
use crate::flaws::Flaws;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::time::Duration;

pub const KID_EC: &str = "lab-es256-1";
pub const KID_HS: &str = "lab-hs256-1";
/// The weak secret of `jwt.weak_hmac_secret`: a word any secrets list starts with.
pub const WEAK_SECRET: &str = "supersecretkey";
const LEEWAY: u64 = 30;

pub struct JwtConfig {
    pub alg: Algorithm,
    pub kid: &'static str,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// The EC public key as PEM, what `jwt.key_confusion` misuses as an HMAC secret.
    pub public_pem: String,
    /// Where the kid lookup of `jwt.kid_injection` reads key files.
    pub keys_dir: PathBuf,
}

/// Why a token was refused. `malformed` marks tokens that are not even JWTs, which the
/// `auth.malformed_token_accepted` flaw treats differently.
#[derive(Debug)]
pub struct Reject {
    pub malformed: bool,
    pub kind: RejectKind,
}

/// What was wrong, for the `auth.verbose_errors` flaw's exception text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectKind {
    Malformed,
    Signature,
    Expired,
    NotYetValid,
    Audience,
    Issuer,
    Other,
}

impl Reject {
    fn bad() -> Self {
        Self::of(RejectKind::Other)
    }
    fn of(kind: RejectKind) -> Self {
        Reject {
            malformed: false,
            kind,
        }
    }
    fn malformed() -> Self {
        Reject {
            malformed: true,
            kind: RejectKind::Malformed,
        }
    }
}

pub fn claims_for(flaws: &Flaws, user: &str, role: &str, x5t: Option<&str>) -> Map<String, Value> {
    let iat = now();
    let mut c = Map::new();
    c.insert("iss".into(), json!(ISSUER));
    if !flaws.has("jwt.missing_audience_or_issuer") {
        c.insert("aud".into(), json!(AUDIENCE));
    }
    c.insert("sub".into(), json!(user));
    c.insert("role".into(), json!(role));
    c.insert("iat".into(), json!(iat));
    c.insert("nbf".into(), json!(iat));
    if !flaws.has("jwt.missing_exp") {
        let lifetime = if flaws.has("jwt.long_lifetime") {
            30 * 86400
        } else {
            3600
        };
        c.insert("exp".into(), json!(iat + lifetime));
    }
    let jti: [u8; 12] = rand::random();
    c.insert("jti".into(), json!(URL_SAFE_NO_PAD.encode(jti)));
    if let Some(t) = x5t {
        c.insert("cnf".into(), json!({ "x5t#S256": t }));
    }
    if flaws.has("jwt.sensitive_claims") {
        c.insert(
            "email".into(),
            json!(format!("{user}@example-logistics.test")),
        );
        c.insert("phone_number".into(), json!("+44 20 7946 0958"));
    }
    c
}

pub fn issue(cfg: &JwtConfig, claims: &Map<String, Value>) -> anyhow::Result<String> {
    let mut header = jsonwebtoken::Header::new(cfg.alg);
    header.kid = Some(cfg.kid.to_string());
    Ok(jsonwebtoken::encode(&header, claims, &cfg.encoding)?)
}

fn b64json(seg: &str) -> Result<Map<String, Value>, Reject> {
    let bytes = URL_SAFE_NO_PAD
        .decode(seg.trim_end_matches('='))
        .map_err(|_| Reject::malformed())?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Reject::malformed()),
    }
}

/// Validates `token` as the lab is configured; `Ok` carries the claims.
pub async fn validate(
    flaws: &Flaws,
    cfg: &JwtConfig,
    token: &str,
) -> Result<Map<String, Value>, Reject> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, p, sig] = parts[..] else {
        return Err(Reject::malformed());
    };
    let header = b64json(h)?;
    let claims = b64json(p)?;
    let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let message = format!("{h}.{p}");

    let signature_ok = if flaws.has("jwt.signature_not_verified") {
        // Flaw: decode(token, options={"verify_signature": False}) "because mTLS already
        // authenticated the client".
        true
    } else if alg_name.eq_ignore_ascii_case("none") {
        // Flaw: the algorithm list includes "none" (compared case-insensitively).
        flaws.has("jwt.alg_none") && sig.is_empty()
    } else if sig.is_empty() && flaws.has("jwt.empty_signature") {
        // Flaw: `if signature: verify(...)` — an absent signature skips verification.
        true
    } else {
        let Ok(alg) = alg_name.parse::<Algorithm>() else {
            return Err(Reject::bad());
        };
        verify_signature(flaws, cfg, &header, alg, sig, &message).await
    };
    if !signature_ok {
        return Err(Reject::of(RejectKind::Signature));
    }
    check_claims(flaws, &claims)?;
    Ok(claims)
}

async fn verify_signature(
    flaws: &Flaws,
    cfg: &JwtConfig,
    header: &Map<String, Value>,
    alg: Algorithm,
    sig: &str,
    message: &str,
) -> bool {
    let verify = |key: &DecodingKey| {
        jsonwebtoken::crypto::verify(sig, message.as_bytes(), key, alg).unwrap_or(false)
    };
    if flaws.has("jwt.embedded_jwk")
        && let Some(jwk) = header.get("jwk")
    {
        // Flaw: the key is taken from the token's own header.
        return serde_json::from_value::<jsonwebtoken::jwk::Jwk>(jwk.clone())
            .ok()
            .and_then(|j| DecodingKey::from_jwk(&j).ok())
            .is_some_and(|k| verify(&k));
    }
    if flaws.has("jwt.x5c_injection")
        && let Some(first) = header
            .get("x5c")
            .and_then(Value::as_array)
            .and_then(|chain| chain.first())
            .and_then(Value::as_str)
    {
        // Flaw: the key is the subject key of the token's own first x5c certificate, and
        // the chain behind it is never validated against a trust anchor (RFC 7515 §4.1.6
        // requires it), so any self-signed certificate will do.
        return x5c_key(first).is_some_and(|k| verify(&k));
    }
    if flaws.has("jwt.jku_injection")
        && let Some(url) = header.get("jku").and_then(Value::as_str)
    {
        // Flaw: keys are fetched from whatever URL the token names.
        let kid = header.get("kid").and_then(Value::as_str);
        return match fetch_jwks_key(url, kid).await {
            Some(k) => verify(&k),
            None => false,
        };
    }
    if flaws.has("jwt.kid_injection")
        && let Some(kid) = header.get("kid").and_then(Value::as_str)
    {
        // Flaw: the kid is joined to the keys directory unchecked and the file's bytes are
        // the key, HMAC or PEM as the token's alg says.
        use std::io::Read;
        let path = cfg.keys_dir.join(kid);
        let mut bytes = Vec::new();
        // Capped: a kid naming /dev/zero must not make the lab read forever.
        let read =
            std::fs::File::open(&path).and_then(|f| f.take(16 * 1024).read_to_end(&mut bytes));
        if read.is_err() {
            return false;
        }
        let key = match alg {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                DecodingKey::from_secret(&bytes)
            }
            _ => match DecodingKey::from_ec_pem(&bytes) {
                Ok(k) => k,
                Err(_) => return false,
            },
        };
        return verify(&key);
    }
    if flaws.has("jwt.key_confusion")
        && matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
        && cfg.alg != alg
    {
        // Flaw: verify(token, key=PUBLIC_KEY_PEM) with the algorithm taken from the token,
        // so an HMAC token is checked with the public key's text as its secret.
        return verify(&DecodingKey::from_secret(cfg.public_pem.as_bytes()));
    }
    if flaws.has("jwt.psychic_signature") && alg == Algorithm::ES256 {
        // Flaw: an ECDSA verifier that skips the 0 < r, s < n range check (CVE-2022-21449):
        // r = s = 0 satisfies its equation for any message and key.
        let raw = URL_SAFE_NO_PAD.decode(sig).unwrap_or_default();
        let der_zero = [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00];
        if raw.iter().all(|b| *b == 0) && !raw.is_empty() || raw == der_zero {
            return true;
        }
    }
    // Hardened: only the configured algorithm, only the configured key.
    alg == cfg.alg && verify(&cfg.decoding)
}

/// The subject public key of an `x5c` entry (standard base64 DER, RFC 7515 §4.1.6).
fn x5c_key(b64_der: &str) -> Option<DecodingKey> {
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64_der)
        .ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
    let spki = cert.tbs_certificate.subject_pki.raw;
    let body = base64::engine::general_purpose::STANDARD.encode(spki);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    );
    DecodingKey::from_ec_pem(pem.as_bytes())
        .or_else(|_| DecodingKey::from_rsa_pem(pem.as_bytes()))
        .ok()
}

/// Fetches a JWKS for the jku flaw. Loopback only, short timeout, small body: the lab
/// must never become a way to reach anything else.
async fn fetch_jwks_key(url: &str, kid: Option<&str>) -> Option<DecodingKey> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(a, p)| (a, format!("/{p}")));
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if host != "127.0.0.1" && host != "localhost" {
        return None;
    }
    let work = async {
        let mut s = tokio::net::TcpStream::connect(authority).await.ok()?;
        let req =
            format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\nAccept: application/json\r\n\r\n");
        s.write_all(req.as_bytes()).await.ok()?;
        let mut buf = Vec::new();
        s.take(64 * 1024).read_to_end(&mut buf).await.ok()?;
        Some(buf)
    };
    let buf = tokio::time::timeout(Duration::from_secs(2), work)
        .await
        .ok()??;
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&buf[split + 4..]).ok()?;
    let jwk = match kid {
        Some(k) => jwks.find(k).or(jwks.keys.first()),
        None => jwks.keys.first(),
    }?;
    DecodingKey::from_jwk(jwk).ok()
}

fn num(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, Reject> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(Reject::bad),
    }
}

fn check_claims(flaws: &Flaws, c: &Map<String, Value>) -> Result<(), Reject> {
    let t = now();
    match num(c, "exp")? {
        Some(exp) if exp + LEEWAY < t && !flaws.has("jwt.expired_accepted") => {
            return Err(Reject::of(RejectKind::Expired));
        }
        None if !flaws.has("jwt.missing_exp") => return Err(Reject::bad()),
        _ => {}
    }
    if let Some(nbf) = num(c, "nbf")?
        && nbf > t + LEEWAY
        && !flaws.has("jwt.nbf_not_enforced")
    {
        return Err(Reject::of(RejectKind::NotYetValid));
    }
    if !flaws.has("jwt.issuer_not_checked") && c.get("iss").and_then(Value::as_str) != Some(ISSUER)
    {
        return Err(Reject::of(RejectKind::Issuer));
    }
    if !flaws.has("jwt.audience_not_checked") {
        let ok = match c.get("aud") {
            Some(Value::String(a)) => a == AUDIENCE,
            Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(AUDIENCE)),
            // Flaw: the audience is checked only when the token names one.
            None => flaws.has("jwt.missing_audience_or_issuer"),
            Some(_) => false,
        };
        if !ok {
            return Err(Reject::of(RejectKind::Audience));
        }
    }
    if c.get("sub").and_then(Value::as_str).is_none() {
        return Err(Reject::bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token signed by a fresh key whose self-signed certificate rides in `x5c`.
    fn x5c_token() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["attacker.invalid".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let x5c = base64::engine::general_purpose::STANDARD.encode(cert.der().as_ref());
        let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
        header.x5c = Some(vec![x5c]);
        let enc = EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).unwrap();
        let claims = json!({"sub": "alice", "iss": ISSUER, "aud": AUDIENCE,
            "exp": now() + 600, "iat": now()});
        jsonwebtoken::encode(&header, &claims, &enc).unwrap()
    }

    async fn accepted(flaws: &[&str], token: &str) -> bool {
        let flaws = Flaws::resolve(
            crate::Profile::Hardened,
            &flaws.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
        .unwrap();
        let lab_key = rcgen::KeyPair::generate().unwrap();
        let cfg = JwtConfig {
            alg: Algorithm::ES256,
            kid: KID_EC,
            encoding: EncodingKey::from_ec_pem(lab_key.serialize_pem().as_bytes()).unwrap(),
            decoding: DecodingKey::from_ec_pem(lab_key.public_key_pem().as_bytes()).unwrap(),
            public_pem: lab_key.public_key_pem(),
            keys_dir: std::env::temp_dir(),
        };
        validate(&flaws, &cfg, token).await.is_ok()
    }

    #[tokio::test]
    async fn the_x5c_flaw_trusts_the_tokens_own_certificate_and_nothing_else_does() {
        let token = x5c_token();
        assert!(accepted(&["jwt.x5c_injection"], &token).await);
        assert!(!accepted(&[], &token).await, "hardened");
        assert!(!accepted(&["jwt.embedded_jwk"], &token).await);
    }
}
