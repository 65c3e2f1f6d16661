//! Client identities (a certificate chain and its key) and certificate lists from the files
//! a user names: PEM chains, PEM keys (PKCS#1, PKCS#8, encrypted PKCS#8, SEC1) and PKCS#12.

use super::LoadError;
use super::files::read_key_file;
use crate::http::{ClientIdentity, KeyForm};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use std::path::Path;

type Result<T, E = LoadError> = std::result::Result<T, E>;

/// Certificates in PEM (a chain or a CA bundle), read under [`super::files::MAX_KEY_FILE`];
/// `what` names the option or role in messages.
pub fn load_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = read_key_file(path, what)?;
    certs_from_pem(path, &bytes, what)
}

/// Trust anchors for `--server-ca`.
pub fn load_server_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    load_certs(path, "server CA")
}

/// A client identity from a PEM certificate chain and a PEM key (PKCS#1, PKCS#8 or SEC1,
/// unencrypted).
pub fn load_identity(cert: &Path, key: &Path) -> Result<ClientIdentity> {
    load_identity_with(cert, Some(key), None)
}

/// A client identity from `cert` and `key`, decrypting with `pass` where needed:
///
/// - `cert` in PEM (the chain, leaf first) with `key` a PEM private key: PKCS#1, SEC1,
///   PKCS#8, or encrypted PKCS#8 (PBES2: PBKDF2 or scrypt with AES-CBC, as OpenSSL writes
///   it), which needs `pass`. Without `key`, the key is looked for in `cert` itself.
/// - `cert` a PKCS#12 file (DER, as `openssl pkcs12 -export` writes it, also `-legacy`):
///   it holds the key and the chain; `pass` is its password (none means the empty one)
///   and `key` must be absent.
///
/// A `pass` that nothing needed is an error (it was meant for another file); errors are one
/// line, name the files and never the passphrase.
pub fn load_identity_with(
    cert: &Path,
    key: Option<&Path>,
    pass: Option<&str>,
) -> Result<ClientIdentity> {
    let (identity, used) = load_identity_pass_used(cert, key, pass)?;
    if pass.is_some() && !used {
        return Err(LoadError::PassphraseNotNeeded {
            key: key.unwrap_or(cert).to_path_buf(),
        });
    }
    Ok(identity)
}

/// As [`load_identity_with`], but a `pass` that was not needed is no error: the second
/// value says whether it was used. For callers loading several identities under one
/// passphrase, some of them unencrypted.
pub fn load_identity_pass_used(
    cert: &Path,
    key: Option<&Path>,
    pass: Option<&str>,
) -> Result<(ClientIdentity, bool)> {
    let cert_bytes = read_key_file(cert, "client certificate")?;
    let key_bytes = key.map(|k| read_key_file(k, "client key")).transpose()?;
    identity_from_bytes(cert, &cert_bytes, key.zip(key_bytes.as_deref()), pass)
}

/// [`load_identity_pass_used`] on bytes already read: `cert` and `key` name the files in
/// messages and `curl` lines. For the loaders and their fuzz target: no panic on any input.
pub fn identity_from_bytes(
    cert: &Path,
    cert_bytes: &[u8],
    key: Option<(&Path, &[u8])>,
    pass: Option<&str>,
) -> Result<(ClientIdentity, bool)> {
    if !is_pem(cert_bytes) {
        if let Some((k, _)) = key {
            return Err(LoadError::Pkcs12WithKey {
                cert: cert.to_path_buf(),
                key: k.to_path_buf(),
            });
        }
        let (chain, key_der) = load_pkcs12(cert, cert_bytes, pass)?;
        let mut id = ClientIdentity::new(chain, key_der, cert, cert).map_err(unusable)?;
        id.form = KeyForm::Pkcs12;
        return Ok((id, true));
    }
    let chain = certs_from_pem(cert, cert_bytes, "client certificate")?;
    let (key_path, key_bytes) = key.unwrap_or((cert, cert_bytes));
    let (key_der, used) = key_from_pem(key_path, key_bytes, pass, key.is_none())?;
    let mut id = ClientIdentity::new(chain, key_der, cert, key_path).map_err(unusable)?;
    if used {
        id.form = KeyForm::EncryptedPem;
    }
    Ok((id, used))
}

/// [`ClientIdentity::new`] says in its own words why a chain and key cannot serve together.
fn unusable(e: anyhow::Error) -> LoadError {
    LoadError::Unusable(e.into())
}

/// PEM is text with a `-----BEGIN` line; anything else is taken for DER (PKCS#12).
fn is_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

pub fn certs_from_pem(
    path: &Path,
    bytes: &[u8],
    what: &str,
) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| LoadError::BadPem {
            what: what.to_string(),
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(LoadError::NoCertificate {
            what: what.to_string(),
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

pub(super) const ENCRYPTED_BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
pub(super) const ENCRYPTED_END: &str = "-----END ENCRYPTED PRIVATE KEY-----";

/// The private key in a PEM file, and whether `pass` was used to decrypt it.
/// `in_cert`: the file is the certificate file (no separate key was given).
fn key_from_pem(
    path: &Path,
    bytes: &[u8],
    pass: Option<&str>,
    in_cert: bool,
) -> Result<(PrivateKeyDer<'static>, bool)> {
    let at = || path.to_path_buf();
    let text = String::from_utf8_lossy(bytes);
    if let Some(start) = text.find(ENCRYPTED_BEGIN) {
        let end = text[start..]
            .find(ENCRYPTED_END)
            .map(|e| start + e + ENCRYPTED_END.len())
            .ok_or_else(|| LoadError::Unterminated { path: at() })?;
        let Some(pass) = pass else {
            return Err(LoadError::NeedsPassphrase { path: at() });
        };
        return Ok((decrypt_pkcs8(path, &text[start..end], pass)?, true));
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(LoadError::LegacyEncryption { path: at() });
    }
    match PrivateKeyDer::from_pem_slice(bytes) {
        Ok(k) => Ok((k, false)),
        Err(rustls::pki_types::pem::Error::NoItemsFound) if in_cert => {
            Err(LoadError::NoKeyInCertificate { path: at() })
        }
        Err(e) => Err(LoadError::NotAKey {
            path: at(),
            reason: e.to_string(),
        }),
    }
}

fn decrypt_pkcs8(path: &Path, pem: &str, pass: &str) -> Result<PrivateKeyDer<'static>> {
    use pkcs8::der::Decode;
    let at = || path.to_path_buf();
    let (_, der) = pkcs8::der::pem::decode_vec(pem.as_bytes()).map_err(|e| LoadError::BadPem {
        what: "client key".to_string(),
        path: at(),
        reason: e.to_string(),
    })?;
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(&der).map_err(|e| {
        LoadError::NotEncryptedPkcs8 {
            path: at(),
            reason: e.to_string(),
        }
    })?;
    let plain = info.decrypt(pass).map_err(|e| match e {
        pkcs8::Error::EncryptedPrivateKey(
            pkcs8::pkcs5::Error::UnsupportedAlgorithm { oid }
            | pkcs8::pkcs5::Error::AlgorithmParametersInvalid { oid },
        ) => LoadError::UnsupportedScheme {
            path: at(),
            oid: oid.to_string(),
        },
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::NoPbes1CryptSupport) => {
            LoadError::Pkcs5v1 { path: at() }
        }
        // A wrong passphrase shows as bad padding or, rarely, as garbage that is not DER.
        _ => LoadError::WrongPassphrase { path: at() },
    })?;
    // Check the plaintext is a private key at all: a wrong passphrase can pass the padding
    // check and yield garbage.
    pkcs8::PrivateKeyInfo::from_der(plain.as_bytes())
        .map_err(|_| LoadError::WrongPassphrase { path: at() })?;
    Ok(PrivateKeyDer::Pkcs8(plain.as_bytes().to_vec().into()))
}

/// The chain (leaf first: the certificate whose local key id matches the key's) and the key
/// of a PKCS#12 file.
fn load_pkcs12(
    path: &Path,
    bytes: &[u8],
    pass: Option<&str>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    use p12_keystore::error::Error as P12Error;
    let at = || path.to_path_buf();
    let store =
        p12_keystore::KeyStore::from_pkcs12(bytes, pass.unwrap_or("")).map_err(|e| {
            match (e, pass) {
                (P12Error::MacError(_), None) => LoadError::Pkcs12NeedsPassword { path: at() },
                (P12Error::MacError(_), Some(_)) => LoadError::Pkcs12WrongPassword { path: at() },
                (P12Error::DerError(_), _) => LoadError::NeitherPemNorPkcs12 { path: at() },
                (e, _) => LoadError::Pkcs12Unreadable {
                    path: at(),
                    reason: one_line(&e.to_string()),
                },
            }
        })?;
    let Some((_, chain)) = store.private_key_chain() else {
        return Err(LoadError::Pkcs12NoKey { path: at() });
    };
    let certs = chain
        .chain()
        .iter()
        .map(|c| CertificateDer::from(c.as_der().to_vec()))
        .collect();
    Ok((certs, PrivateKeyDer::Pkcs8(chain.key().to_vec().into())))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pkcs8::der::Decode;
    use std::path::PathBuf;

    const PASS: &str = "correct horse";

    struct Files {
        dir: tempfile::TempDir,
        cert_pem: String,
        cert_der: Vec<u8>,
        key_der: Vec<u8>,
    }

    impl Files {
        fn new() -> Self {
            let ck = rcgen::generate_simple_self_signed(vec!["client".into()]).unwrap();
            Files {
                dir: tempfile::tempdir().unwrap(),
                cert_pem: ck.cert.pem(),
                cert_der: ck.cert.der().to_vec(),
                key_der: ck.signing_key.serialize_der(),
            }
        }

        fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
            let p = self.dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        }

        fn cert(&self) -> PathBuf {
            self.write("c.pem", &self.cert_pem)
        }

        fn plain_key(&self) -> PathBuf {
            let doc = pkcs8::SecretDocument::try_from(self.key_der.as_slice()).unwrap();
            let pem = doc.to_pem("PRIVATE KEY", Default::default()).unwrap();
            self.write("k.pem", pem.as_bytes())
        }

        fn encrypted_key(&self) -> PathBuf {
            let info = pkcs8::PrivateKeyInfo::from_der(&self.key_der).unwrap();
            let params = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(
                2048,
                b"saltsalt",
                &[7; 16],
            )
            .unwrap();
            let enc = info.encrypt_with_params(params, PASS).unwrap();
            let pem = enc
                .to_pem("ENCRYPTED PRIVATE KEY", Default::default())
                .unwrap();
            self.write("k.enc.pem", pem.as_bytes())
        }

        fn p12(&self, pass: &str) -> PathBuf {
            let mut ks = p12_keystore::KeyStore::new();
            let cert = p12_keystore::Certificate::from_der(&self.cert_der).unwrap();
            let chain = p12_keystore::PrivateKeyChain::new(&self.key_der, [1u8; 20], [cert]);
            ks.add_entry(
                "client",
                p12_keystore::KeyStoreEntry::PrivateKeyChain(chain),
            );
            self.write("c.p12", ks.writer(pass).write().unwrap())
        }
    }

    fn err(r: Result<ClientIdentity>) -> String {
        let e = format!("{:#}", anyhow::Error::from(r.unwrap_err()));
        assert!(!e.contains('\n'), "{e}");
        assert!(!e.contains(PASS) && !e.contains("wrong-pass!"), "{e}");
        e
    }

    #[test]
    fn plain_pem_key_loads_and_a_passphrase_for_it_is_refused() {
        let f = Files::new();
        let (c, k) = (f.cert(), f.plain_key());
        let id = load_identity(&c, &k).unwrap();
        assert_eq!(id.chain[0].as_ref(), f.cert_der.as_slice());
        let e = err(load_identity_with(&c, Some(&k), Some(PASS)));
        assert!(e.contains("not encrypted") && e.contains("k.pem"), "{e}");
        // The lenient form says the passphrase went unused instead.
        assert!(!load_identity_pass_used(&c, Some(&k), Some(PASS)).unwrap().1);
    }

    #[test]
    fn encrypted_pkcs8_needs_the_right_passphrase() {
        let f = Files::new();
        let (c, k) = (f.cert(), f.encrypted_key());
        let id = load_identity_with(&c, Some(&k), Some(PASS)).unwrap();
        assert_eq!(id.key.secret_der(), f.key_der.as_slice());
        let e = err(load_identity_with(&c, Some(&k), Some("wrong-pass!")));
        assert!(
            e.contains("wrong passphrase") && e.contains("k.enc.pem"),
            "{e}"
        );
        let e = err(load_identity_with(&c, Some(&k), None));
        assert!(
            e.contains("is encrypted") && e.contains("--client-key-pass"),
            "{e}"
        );
        // Debug output never shows the key.
        let dbg = format!("{id:?}");
        assert!(!dbg.contains("key:") && dbg.contains("k.enc.pem"), "{dbg}");
    }

    #[test]
    fn key_may_live_in_the_certificate_file() {
        let f = Files::new();
        let key = std::fs::read_to_string(f.plain_key()).unwrap();
        let both = f.write("both.pem", format!("{}{key}", f.cert_pem));
        let id = load_identity_with(&both, None, None).unwrap();
        assert_eq!(id.key_path, both);
        let e = err(load_identity_with(&f.cert(), None, None));
        assert!(
            e.contains("holds no private key") && e.contains("--client-key"),
            "{e}"
        );
    }

    #[test]
    fn pkcs12_round_trip_and_password_errors() {
        let f = Files::new();
        let p = f.p12(PASS);
        let id = load_identity_with(&p, None, Some(PASS)).unwrap();
        assert_eq!(id.chain.len(), 1);
        assert_eq!(id.chain[0].as_ref(), f.cert_der.as_slice());
        assert_eq!(
            (id.cert_path.as_path(), id.key_path.as_path()),
            (p.as_path(), p.as_path())
        );
        let e = err(load_identity_with(&p, None, Some("wrong-pass!")));
        assert!(e.contains("wrong password") && e.contains("c.p12"), "{e}");
        let e = err(load_identity_with(&p, None, None));
        assert!(e.contains("has a password"), "{e}");
        let e = err(load_identity_with(&p, Some(&f.plain_key()), Some(PASS)));
        assert!(e.contains("drop the key"), "{e}");
        // An empty password is a password like any other.
        let empty = f.p12("");
        load_identity_with(&empty, None, None).unwrap();
        load_identity_with(&empty, None, Some("")).unwrap();
    }

    #[test]
    fn junk_and_mismatched_keys_fail_with_the_file_names() {
        let f = Files::new();
        let junk = f.write("junk.bin", b"\x30\x03\x02\x01\x05 not pkcs12");
        let e = err(load_identity_with(&junk, None, None));
        assert!(
            e.contains("neither PEM nor PKCS#12") && e.contains("junk.bin"),
            "{e}"
        );
        let other = Files::new();
        let e = err(load_identity(&f.cert(), &other.plain_key()));
        assert!(e.contains("cannot be used together"), "{e}");
        // Both files are named, and the reason is words, not rustls's `KeyMismatch`.
        assert!(
            e.contains("c.pem") && e.contains("k.pem") && e.contains("public keys differ"),
            "{e}"
        );
    }
}
