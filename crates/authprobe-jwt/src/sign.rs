//! Signing and verification for every [`Alg`].

use hmac::{Hmac, Mac};
use rand_core::OsRng;
use rsa::{Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};
use signature::{Signer, Verifier};
use thiserror::Error;

use crate::alg::Alg;
use crate::keys::{PrivateKey, PublicKey, SigningKey, VerifyingKey};

/// Why a signature could not be made or checked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignError {
    /// The key's type does not fit the algorithm (e.g. ES256 with an RSA key).
    #[error("{alg} cannot be used with a {key} key")]
    KeyMismatch {
        /// Requested algorithm.
        alg: Alg,
        /// Kind of key given.
        key: String,
    },
    /// `alg` names nothing this crate implements (including `none`).
    #[error("unknown or unsupported alg {0:?}")]
    UnknownAlg(String),
    /// The signature does not verify (wrong key, tampered data, malformed signature).
    #[error("signature does not verify")]
    BadSignature,
    /// The primitive failed (e.g. RSA key too small for the digest).
    #[error("signing failed: {0}")]
    Crypto(String),
}

fn key_kind(key: &SigningKey) -> String {
    match key {
        SigningKey::Hmac(_) => "HMAC".into(),
        SigningKey::Private(k) => k.kind(),
    }
}

fn vkey_kind(key: &VerifyingKey) -> String {
    match key {
        VerifyingKey::Hmac(_) => "HMAC".into(),
        VerifyingKey::Public(k) => k.kind(),
    }
}

fn hmac<M: Mac + hmac::digest::KeyInit>(secret: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, the empty one included (the kid=/dev/null attack).
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hmac_for(alg: Alg, secret: &[u8], data: &[u8]) -> Vec<u8> {
    match alg {
        Alg::Hs384 => hmac::<Hmac<Sha384>>(secret, data),
        Alg::Hs512 => hmac::<Hmac<Sha512>>(secret, data),
        _ => hmac::<Hmac<Sha256>>(secret, data),
    }
}

fn rsa_sign(alg: Alg, key: &RsaPrivateKey, data: &[u8]) -> Result<Vec<u8>, rsa::Error> {
    let mut rng = OsRng;
    match alg {
        Alg::Rs256 => key.sign_with_rng(
            &mut rng,
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(data),
        ),
        Alg::Rs384 => key.sign_with_rng(
            &mut rng,
            Pkcs1v15Sign::new::<Sha384>(),
            &Sha384::digest(data),
        ),
        Alg::Rs512 => key.sign_with_rng(
            &mut rng,
            Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(data),
        ),
        Alg::Ps256 => key.sign_with_rng(&mut rng, Pss::new::<Sha256>(), &Sha256::digest(data)),
        Alg::Ps384 => key.sign_with_rng(&mut rng, Pss::new::<Sha384>(), &Sha384::digest(data)),
        _ => key.sign_with_rng(&mut rng, Pss::new::<Sha512>(), &Sha512::digest(data)),
    }
}

fn rsa_verify(alg: Alg, key: &RsaPublicKey, data: &[u8], sig: &[u8]) -> Result<(), rsa::Error> {
    match alg {
        Alg::Rs256 => key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(data), sig),
        Alg::Rs384 => key.verify(Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(data), sig),
        Alg::Rs512 => key.verify(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(data), sig),
        Alg::Ps256 => key.verify(Pss::new::<Sha256>(), &Sha256::digest(data), sig),
        Alg::Ps384 => key.verify(Pss::new::<Sha384>(), &Sha384::digest(data), sig),
        _ => key.verify(Pss::new::<Sha512>(), &Sha512::digest(data), sig),
    }
}

/// Signs `data` (the JWS signing input) and returns the JWS signature bytes. ECDSA
/// signatures come out in JOSE form, the fixed-width `r || s`, never DER.
pub fn sign(alg: Alg, key: &SigningKey, data: &[u8]) -> Result<Vec<u8>, SignError> {
    let mismatch = || SignError::KeyMismatch {
        alg,
        key: key_kind(key),
    };
    let crypto = |e: &dyn std::fmt::Display| SignError::Crypto(e.to_string());
    match (alg, key) {
        (Alg::Hs256 | Alg::Hs384 | Alg::Hs512, SigningKey::Hmac(secret)) => {
            Ok(hmac_for(alg, secret, data))
        }
        (
            Alg::Rs256 | Alg::Rs384 | Alg::Rs512 | Alg::Ps256 | Alg::Ps384 | Alg::Ps512,
            SigningKey::Private(PrivateKey::Rsa(k)),
        ) => rsa_sign(alg, k, data).map_err(|e| crypto(&e)),
        (Alg::Es256, SigningKey::Private(PrivateKey::P256(k))) => {
            let sig: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(k)
                .try_sign(data)
                .map_err(|e| crypto(&e))?;
            Ok(sig.to_bytes().to_vec())
        }
        (Alg::Es384, SigningKey::Private(PrivateKey::P384(k))) => {
            let sig: p384::ecdsa::Signature = p384::ecdsa::SigningKey::from(k)
                .try_sign(data)
                .map_err(|e| crypto(&e))?;
            Ok(sig.to_bytes().to_vec())
        }
        (Alg::Es512, SigningKey::Private(PrivateKey::P521(k))) => {
            let sk = p521::ecdsa::SigningKey::from_bytes(&k.to_bytes()).map_err(|e| crypto(&e))?;
            let sig: p521::ecdsa::Signature = sk.try_sign(data).map_err(|e| crypto(&e))?;
            Ok(sig.to_bytes().to_vec())
        }
        (Alg::EdDsa, SigningKey::Private(PrivateKey::Ed25519(k))) => {
            Ok(k.sign(data).to_bytes().to_vec())
        }
        _ => Err(mismatch()),
    }
}

/// Verifies a JWS signature over `data`. HMAC comparison is constant-time.
pub fn verify(alg: Alg, key: &VerifyingKey, data: &[u8], sig: &[u8]) -> Result<(), SignError> {
    match (alg, key) {
        (Alg::Hs256 | Alg::Hs384 | Alg::Hs512, VerifyingKey::Hmac(secret)) => {
            let ok = match alg {
                Alg::Hs384 => verify_mac::<Hmac<Sha384>>(secret, data, sig),
                Alg::Hs512 => verify_mac::<Hmac<Sha512>>(secret, data, sig),
                _ => verify_mac::<Hmac<Sha256>>(secret, data, sig),
            };
            if ok {
                Ok(())
            } else {
                Err(SignError::BadSignature)
            }
        }
        (
            Alg::Rs256 | Alg::Rs384 | Alg::Rs512 | Alg::Ps256 | Alg::Ps384 | Alg::Ps512,
            VerifyingKey::Public(PublicKey::Rsa(k)),
        ) => rsa_verify(alg, k, data, sig).map_err(bad),
        (Alg::Es256, VerifyingKey::Public(PublicKey::P256(k))) => {
            let sig = p256::ecdsa::Signature::from_slice(sig).map_err(bad)?;
            p256::ecdsa::VerifyingKey::from(k)
                .verify(data, &sig)
                .map_err(bad)
        }
        (Alg::Es384, VerifyingKey::Public(PublicKey::P384(k))) => {
            let sig = p384::ecdsa::Signature::from_slice(sig).map_err(bad)?;
            p384::ecdsa::VerifyingKey::from(k)
                .verify(data, &sig)
                .map_err(bad)
        }
        (Alg::Es512, VerifyingKey::Public(PublicKey::P521(k))) => {
            let sig = p521::ecdsa::Signature::from_slice(sig).map_err(bad)?;
            p521::ecdsa::VerifyingKey::from_affine(*k.as_affine())
                .map_err(bad)?
                .verify(data, &sig)
                .map_err(bad)
        }
        (Alg::EdDsa, VerifyingKey::Public(PublicKey::Ed25519(k))) => {
            let sig = ed25519_dalek::Signature::from_slice(sig).map_err(bad)?;
            k.verify(data, &sig).map_err(bad)
        }
        _ => Err(SignError::KeyMismatch {
            alg,
            key: vkey_kind(key),
        }),
    }
}

/// Every verification failure looks the same to callers: which step rejected is not their concern.
fn bad<E>(_: E) -> SignError {
    SignError::BadSignature
}

fn verify_mac<M: Mac + hmac::digest::KeyInit>(secret: &[u8], data: &[u8], sig: &[u8]) -> bool {
    match <M as hmac::digest::KeyInit>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(data);
            mac.verify_slice(sig).is_ok()
        }
        Err(_) => false,
    }
}
