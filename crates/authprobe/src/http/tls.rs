//! rustls client configuration: which server certificates to trust and which client
//! certificate to present. Uses the `ring` provider, as the project standardises on.

use anyhow::{Result, anyhow, bail};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime, pem::PemObject};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client certificate chain and key, and where they came from (for `curl` lines).
pub struct ClientIdentity {
    /// Unique per identity for the life of the process: the HTTP layer keys its connection
    /// pools by it (an address could be reused once a minted identity is dropped).
    pub id: u64,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// How `curl` must be told to read the files (a PKCS#12 bundle, an encrypted key).
    pub form: KeyForm,
}

/// The shape of the files behind an identity, for reproducing `curl` lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyForm {
    /// PEM certificate and an unencrypted PEM key.
    #[default]
    Pem,
    /// PEM certificate and an encrypted PKCS#8 key (`--client-key-pass`).
    EncryptedPem,
    /// One PKCS#12 file holding both (`--client-key-pass`, possibly empty).
    Pkcs12,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, even in debug output.
        f.debug_struct("ClientIdentity")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .finish_non_exhaustive()
    }
}

/// Certificates, keys and PKCS#12 files are read under [`crate::files::MAX_KEY_FILE`].
fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    crate::files::read_key_file(path, what)
}

pub fn load_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = read(path, what)?;
    certs_from_pem(path, &bytes, what)
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
        let key = key.unwrap_or(cert);
        bail!(
            "client key {} is not encrypted, yet a passphrase was given (--client-key-pass)",
            key.display()
        );
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
    let cert_bytes = read(cert, "client certificate")?;
    let key_bytes = key.map(|k| read(k, "client key")).transpose()?;
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
            bail!(
                "client certificate {} is PKCS#12 and holds its own key: drop the key {}",
                cert.display(),
                k.display()
            );
        }
        let (chain, key_der) = load_pkcs12(cert, cert_bytes, pass)?;
        let mut id = ClientIdentity::new(chain, key_der, cert, cert)?;
        id.form = KeyForm::Pkcs12;
        return Ok((id, true));
    }
    let chain = certs_from_pem(cert, cert_bytes, "client certificate")?;
    let (key_path, key_bytes) = key.unwrap_or((cert, cert_bytes));
    let (key_der, used) = key_from_pem(key_path, key_bytes, pass, key.is_none())?;
    let mut id = ClientIdentity::new(chain, key_der, cert, key_path)?;
    if used {
        id.form = KeyForm::EncryptedPem;
    }
    Ok((id, used))
}

/// PEM is text with a `-----BEGIN` line; anything else is taken for DER (PKCS#12).
fn is_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

fn certs_from_pem(path: &Path, bytes: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow!("{what} {} is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        bail!("{what} {} holds no PEM certificate", path.display());
    }
    Ok(certs)
}

const ENCRYPTED_BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
const ENCRYPTED_END: &str = "-----END ENCRYPTED PRIVATE KEY-----";

/// The private key in a PEM file, and whether `pass` was used to decrypt it.
/// `in_cert`: the file is the certificate file (no separate key was given).
fn key_from_pem(
    path: &Path,
    bytes: &[u8],
    pass: Option<&str>,
    in_cert: bool,
) -> Result<(PrivateKeyDer<'static>, bool)> {
    let text = String::from_utf8_lossy(bytes);
    if let Some(start) = text.find(ENCRYPTED_BEGIN) {
        let end = text[start..]
            .find(ENCRYPTED_END)
            .map(|e| start + e + ENCRYPTED_END.len())
            .ok_or_else(|| anyhow!("client key {} has no {ENCRYPTED_END} line", path.display()))?;
        let Some(pass) = pass else {
            bail!(
                "client key {} is encrypted: give its passphrase with --client-key-pass \
                 (or AUTHPROBE_CLIENT_KEY_PASS)",
                path.display()
            );
        };
        return Ok((decrypt_pkcs8(path, &text[start..end], pass)?, true));
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        bail!(
            "client key {} uses OpenSSL's legacy PEM encryption, which is not supported: \
             convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD -out NEW`",
            path.display()
        );
    }
    match PrivateKeyDer::from_pem_slice(bytes) {
        Ok(k) => Ok((k, false)),
        Err(rustls::pki_types::pem::Error::NoItemsFound) if in_cert => bail!(
            "client certificate {} is PEM and holds no private key: give it with --client-key",
            path.display()
        ),
        Err(e) => bail!(
            "client key {} is not a PEM private key (PKCS#1, PKCS#8, encrypted PKCS#8 or \
             SEC1): {e}",
            path.display()
        ),
    }
}

fn decrypt_pkcs8(path: &Path, pem: &str, pass: &str) -> Result<PrivateKeyDer<'static>> {
    use pkcs8::der::Decode;
    let (_, der) = pkcs8::der::pem::decode_vec(pem.as_bytes())
        .map_err(|e| anyhow!("client key {} is not valid PEM: {e}", path.display()))?;
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(&der).map_err(|e| {
        anyhow!(
            "client key {} is not an encrypted PKCS#8 key: {e}",
            path.display()
        )
    })?;
    let plain = info.decrypt(pass).map_err(|e| match e {
        pkcs8::Error::EncryptedPrivateKey(
            pkcs8::pkcs5::Error::UnsupportedAlgorithm { oid }
            | pkcs8::pkcs5::Error::AlgorithmParametersInvalid { oid },
        ) => anyhow!(
            "client key {} is encrypted with an unsupported scheme ({oid}): re-encrypt it with \
             `openssl pkcs8 -topk8 -v2 aes-256-cbc`",
            path.display()
        ),
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::NoPbes1CryptSupport) => anyhow!(
            "client key {} is encrypted with a PKCS#5 v1 scheme, which is not supported: \
             re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`",
            path.display()
        ),
        // A wrong passphrase shows as bad padding or, rarely, as garbage that is not DER.
        _ => anyhow!(
            "cannot decrypt client key {}: wrong passphrase (--client-key-pass)",
            path.display()
        ),
    })?;
    // Check the plaintext is a private key at all: a wrong passphrase can pass the padding
    // check and yield garbage.
    pkcs8::PrivateKeyInfo::from_der(plain.as_bytes()).map_err(|_| {
        anyhow!(
            "cannot decrypt client key {}: wrong passphrase (--client-key-pass)",
            path.display()
        )
    })?;
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
    let store =
        p12_keystore::KeyStore::from_pkcs12(bytes, pass.unwrap_or("")).map_err(|e| {
            match (e, pass) {
                (P12Error::MacError(_), None) => anyhow!(
                    "PKCS#12 file {} has a password: give it with --client-key-pass \
                 (or AUTHPROBE_CLIENT_KEY_PASS)",
                    path.display()
                ),
                (P12Error::MacError(_), Some(_)) => anyhow!(
                    "cannot open PKCS#12 file {}: wrong password (--client-key-pass)",
                    path.display()
                ),
                (P12Error::DerError(_), _) => anyhow!(
                    "client certificate {} is neither PEM nor PKCS#12",
                    path.display()
                ),
                (e, _) => anyhow!(
                    "cannot read PKCS#12 file {}: {}",
                    path.display(),
                    one_line(&e.to_string())
                ),
            }
        })?;
    let Some((_, chain)) = store.private_key_chain() else {
        bail!(
            "PKCS#12 file {} holds no private key with its certificate",
            path.display()
        );
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

static NEXT_IDENTITY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl ClientIdentity {
    /// An identity from a chain and key already in memory; `cert`/`key` are the files that
    /// hold them, named in `curl` lines. Fails when the key does not match the certificate.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key_der: PrivateKeyDer<'static>,
        cert: &Path,
        key: &Path,
    ) -> Result<Self> {
        if chain.is_empty() {
            bail!("client certificate {} holds no certificate", cert.display());
        }
        // Build a config once now so a key that does not match the certificate fails here,
        // with the file names, instead of at the first handshake.
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_client_auth_cert(chain.clone(), key_der.clone_key())
            .map_err(|e| {
                if format!("{e:?}").contains("UnsupportedCertVersion") {
                    return anyhow!(
                        "client certificate {} is X.509 v1, which rustls cannot present: \
                         reissue it as v3 (e.g. `openssl x509 -req ... -extfile` with \
                         `basicConstraints=CA:FALSE`)",
                        cert.display()
                    );
                }
                anyhow!(
                    "client certificate {} and key {} cannot be used together: {e}",
                    cert.display(),
                    key.display()
                )
            })?;
        Ok(ClientIdentity {
            id: NEXT_IDENTITY.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            chain,
            key: key_der,
            cert_path: cert.to_path_buf(),
            key_path: key.to_path_buf(),
            form: KeyForm::Pem,
        })
    }
}

/// How the scanner verifies the server it talks to.
#[derive(Clone, Debug, Default)]
pub struct TlsSettings {
    /// Extra trust anchors (`--server-ca`), used instead of the system store when given.
    pub server_ca: Option<(PathBuf, Vec<CertificateDer<'static>>)>,
    /// `--insecure`: do not verify the server certificate at all.
    pub insecure: bool,
}

impl TlsSettings {
    pub fn client_config(&self, identity: Option<&ClientIdentity>) -> Result<ClientConfig> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?;
        let builder = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny::new(provider())))
        } else {
            let mut roots = rustls::RootCertStore::empty();
            match &self.server_ca {
                Some((_, certs)) => {
                    for c in certs {
                        roots.add(c.clone())?;
                    }
                }
                None => {
                    let found = rustls_native_certs::load_native_certs();
                    roots.add_parsable_certificates(found.certs);
                }
            }
            builder.with_root_certificates(roots)
        };
        let mut config = match identity {
            Some(id) => builder.with_client_auth_cert(id.chain.clone(), id.key.clone_key())?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }

    /// The `curl` options that reproduce this trust decision.
    pub fn curl_args(&self) -> Vec<String> {
        if self.insecure {
            vec!["-k".into()]
        } else if let Some((path, _)) = &self.server_ca {
            vec!["--cacert".into(), path.display().to_string()]
        } else {
            Vec::new()
        }
    }
}

/// Accepts any server certificate but still checks handshake signatures, so the
/// connection is at least consistent with the certificate presented. Used for `--insecure`,
/// and by the TLS checks to fetch a chain they then judge themselves (it keeps the last
/// chain it saw).
#[derive(Debug)]
pub struct AcceptAny {
    provider: Arc<rustls::crypto::CryptoProvider>,
    seen: std::sync::Mutex<Vec<CertificateDer<'static>>>,
}

impl AcceptAny {
    pub fn new(provider: Arc<rustls::crypto::CryptoProvider>) -> Self {
        Self {
            provider,
            seen: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The chain of the last handshake (leaf first).
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.seen.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut c) = self.seen.lock() {
            *c = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|d| d.clone().into_owned())
                .collect();
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Trust anchors for `--server-ca`.
pub fn load_server_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    load_certs(path, "server CA")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pkcs8::der::Decode;

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
        let e = format!("{:#}", r.unwrap_err());
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
    }
}
