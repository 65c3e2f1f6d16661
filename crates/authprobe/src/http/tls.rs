//! rustls client configuration: which server certificates to trust and which client
//! certificate to present. Uses the `ring` provider, as the project standardises on.

use anyhow::{Result, anyhow, bail};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
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
                if matches!(
                    e,
                    rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)
                ) {
                    // The usual slip: the key of another certificate (last year's, the
                    // CA's, a colleague's); both names let the user see which pair is off.
                    return anyhow!(
                        "client certificate {} and key {} cannot be used together: the key \
                         is not the one the certificate was issued for (their public keys \
                         differ); give the key that belongs to {}",
                        cert.display(),
                        key.display(),
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
        self.client_config_trusting(identity, &[])
    }

    /// As [`TlsSettings::client_config`], also trusting `extra` (an intercepting proxy's
    /// CA) beside the server's anchors.
    pub fn client_config_trusting(
        &self,
        identity: Option<&ClientIdentity>,
        extra: &[CertificateDer<'static>],
    ) -> Result<ClientConfig> {
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
            for c in extra {
                roots.add(c.clone())?;
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
