//! Every certificate, key and CA file the user names, read and checked in one place: client
//! identities (PEM, encrypted PKCS#8, PKCS#12), trust anchors, the test CA and the JWT keys.
//! Files are read under caps ([`files`]) and every failure is a [`LoadError`] that names
//! the option and the file on one line, never a passphrase.

pub mod files;
mod identity;

pub use identity::{
    certs_from_pem, identity_from_bytes, load_certs, load_identity, load_identity_pass_used,
    load_identity_with, load_server_ca,
};

use crate::http::ClientIdentity;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Why a certificate or key file cannot be used. The messages are the ones users (and
/// scripts grepping stderr) have seen since these were plain strings: keep them.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot read {what} {}", path.display())]
    Read {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {what} {}: it is a directory", path.display())]
    Directory { what: String, path: PathBuf },
    #[error("{what} {} is larger than the {} limit for {kind}", path.display(), files::size(*cap))]
    TooLarge {
        what: String,
        path: PathBuf,
        cap: u64,
        kind: String,
    },
    #[error("{what} {} is not a PEM file (it holds bytes that are not text)", path.display())]
    NotText { what: String, path: PathBuf },
    #[error("{what} {} is not a PEM file", path.display())]
    NotPem { what: String, path: PathBuf },
    #[error("{what} {} is not valid PEM: {reason}", path.display())]
    BadPem {
        what: String,
        path: PathBuf,
        reason: String,
    },
    #[error("{what} {} holds no PEM certificate", path.display())]
    NoCertificate { what: String, path: PathBuf },
    #[error("client key {} has no {} line", path.display(), identity::ENCRYPTED_END)]
    Unterminated { path: PathBuf },
    #[error(
        "client key {} is encrypted: give its passphrase with --client-key-pass \
         (or AUTHPROBE_CLIENT_KEY_PASS)",
        path.display()
    )]
    NeedsPassphrase { path: PathBuf },
    #[error(
        "client key {} uses OpenSSL's legacy PEM encryption, which is not supported: \
         convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD -out NEW`",
        path.display()
    )]
    LegacyEncryption { path: PathBuf },
    #[error(
        "client certificate {} is PEM and holds no private key: give it with --client-key",
        path.display()
    )]
    NoKeyInCertificate { path: PathBuf },
    #[error(
        "client key {} is not a PEM private key (PKCS#1, PKCS#8, encrypted PKCS#8 or \
         SEC1): {reason}",
        path.display()
    )]
    NotAKey { path: PathBuf, reason: String },
    #[error("client key {} is not an encrypted PKCS#8 key: {reason}", path.display())]
    NotEncryptedPkcs8 { path: PathBuf, reason: String },
    #[error(
        "client key {} is encrypted with an unsupported scheme ({oid}): re-encrypt it with \
         `openssl pkcs8 -topk8 -v2 aes-256-cbc`",
        path.display()
    )]
    UnsupportedScheme { path: PathBuf, oid: String },
    #[error(
        "client key {} is encrypted with a PKCS#5 v1 scheme, which is not supported: \
         re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`",
        path.display()
    )]
    Pkcs5v1 { path: PathBuf },
    #[error(
        "cannot decrypt client key {}: wrong passphrase (--client-key-pass)",
        path.display()
    )]
    WrongPassphrase { path: PathBuf },
    #[error(
        "PKCS#12 file {} has a password: give it with --client-key-pass \
         (or AUTHPROBE_CLIENT_KEY_PASS)",
        path.display()
    )]
    Pkcs12NeedsPassword { path: PathBuf },
    #[error(
        "cannot open PKCS#12 file {}: wrong password (--client-key-pass)",
        path.display()
    )]
    Pkcs12WrongPassword { path: PathBuf },
    #[error("client certificate {} is neither PEM nor PKCS#12", path.display())]
    NeitherPemNorPkcs12 { path: PathBuf },
    #[error("cannot read PKCS#12 file {}: {reason}", path.display())]
    Pkcs12Unreadable { path: PathBuf, reason: String },
    #[error(
        "PKCS#12 file {} holds no private key with its certificate",
        path.display()
    )]
    Pkcs12NoKey { path: PathBuf },
    #[error(
        "client certificate {} is PKCS#12 and holds its own key: drop the key {}",
        cert.display(),
        key.display()
    )]
    Pkcs12WithKey { cert: PathBuf, key: PathBuf },
    /// The chain and key parsed but cannot be presented together (another key, X.509 v1).
    #[error(transparent)]
    Unusable(Box<dyn std::error::Error + Send + Sync>),
    #[error(
        "client key {} is not encrypted, yet a passphrase was given (--client-key-pass)",
        key.display()
    )]
    PassphraseNotNeeded { key: PathBuf },
    #[error("--client-key-pass was given without a client certificate")]
    PassphraseWithoutCertificate,
    #[error(
        "--client-key-pass was given but no key needs it: {} not encrypted",
        are(keys)
    )]
    PassphraseUnused { keys: Vec<String> },
    #[error(
        "--jwt-key {} is not a private key authprobe can sign with (PEM: PKCS#8, PKCS#1 \
         or SEC1; RSA, EC or Ed25519): {reason}",
        path.display()
    )]
    JwtKey { path: PathBuf, reason: String },
    #[error(
        "--jwt-public-key {} holds no public key authprobe can read (PEM: PUBLIC \
         KEY, RSA PUBLIC KEY, CERTIFICATE or a private key): {reason}",
        path.display()
    )]
    JwtPublicKey { path: PathBuf, reason: String },
}

/// `a.pem is`, `a.pem, b.pem are`.
fn are(keys: &[String]) -> String {
    match keys {
        [one] => format!("{one} is"),
        _ => format!("{} are", keys.join(", ")),
    }
}

/// A PEM file the user named (`what` is the option), read under the key-file cap.
pub fn pem_file(path: &Path, what: &str) -> Result<String, LoadError> {
    let text = files::read_pem_text(path, what)?;
    if !text.contains("-----BEGIN") {
        return Err(LoadError::NotPem {
            what: what.to_string(),
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

/// `--client-ca-cert` and `--client-ca-key`: the minter reads them whole later, so they are
/// checked to be PEM of a sane size before anything is sent.
pub fn check_client_ca(cert: &Path, key: &Path) -> Result<(), LoadError> {
    pem_file(cert, "--client-ca-cert")?;
    pem_file(key, "--client-ca-key")?;
    Ok(())
}

/// `--jwt-key`: the checks read it again when they sign, so a key that does not parse must
/// stop the scan here rather than turn into "needs the signing key" later.
pub fn check_jwt_key(path: &Path) -> Result<(), LoadError> {
    let pem = pem_file(path, "--jwt-key")?;
    authprobe_jwt::PrivateKey::from_pem(&pem).map_err(|e| LoadError::JwtKey {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(())
}

/// `--jwt-public-key`, checked now for the same reason as [`check_jwt_key`].
pub fn check_jwt_public_key(path: &Path) -> Result<(), LoadError> {
    let pem = pem_file(path, "--jwt-public-key")?;
    authprobe_jwt::PublicKey::from_pem(&pem).map_err(|e| LoadError::JwtPublicKey {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(())
}

/// A certificate file and, when it does not hold it, its key file.
pub type CertAndKey<'a> = (&'a Path, Option<&'a Path>);

/// Several client identities under the one `pass` (`--client-cert`, `--client-cert2` and
/// `--revoked-cert` share `--client-key-pass`), in the order given; an absent one stays
/// absent. A passphrase none of them needed is an error naming them: it was surely meant
/// for a file that is not there.
pub fn client_identities<const N: usize>(
    given: [Option<CertAndKey<'_>>; N],
    pass: Option<&str>,
) -> Result<[Option<Arc<ClientIdentity>>; N], LoadError> {
    let mut used = false;
    let mut named = Vec::new();
    let mut out: [Option<Arc<ClientIdentity>>; N] = std::array::from_fn(|_| None);
    for (slot, files) in out.iter_mut().zip(given) {
        let Some((cert, key)) = files else { continue };
        let (id, u) = load_identity_pass_used(cert, key, pass)?;
        used |= u;
        named.push(key.unwrap_or(cert).display().to_string());
        *slot = Some(Arc::new(id));
    }
    if pass.is_some() && !used {
        if named.is_empty() {
            return Err(LoadError::PassphraseWithoutCertificate);
        }
        return Err(LoadError::PassphraseUnused { keys: named });
    }
    Ok(out)
}
