//! # authprobe-lab
//!
//! A deliberately misconfigurable HTTPS API on 127.0.0.1, used by authprobe's end-to-end
//! tests and by `authprobe demo`. Each flaw is switched on by the catalog id of the check
//! that should find it (`--flaw auth.missing`); the `hardened` profile switches all off and
//! must give a scan with nothing above `info`.
//!
//! The lab knows nothing of the scanner: it is a target, written the way a careful (or, flaw
//! by flaw, a careless) team would write an API, with its own CA, client certificates,
//! ES256 JWTs validated by the `jsonwebtoken` crate, and a plain-HTTP listener.
//!
//! ## The API and its descriptions
//!
//! Beside `/api/v1/me` the lab serves an API of some sixty operations under `/api/v1/`
//! (users, orders, invoices, projects, reports, billing, audit, files, teams, settings),
//! defined once in a table (`api.rs`, [`OPERATIONS`]) from which both its router and its
//! descriptions are derived: OpenAPI 3.1.0 at [`OPENAPI_JSON_PATH`] and, as YAML, at
//! [`OPENAPI_YAML_PATH`], and Swagger 2.0 at [`SWAGGER_JSON_PATH`] (no authentication).
//! Every operation authenticates exactly as `/api/v1/me` does, except the public one
//! ([`PUBLIC_OPERATIONS`]), the four that `auth.missing` leaves open
//! ([`AUTH_MISSING_OPERATIONS`]), those named in [`LabOptions::open_operations`], and the
//! API-key operation ([`APIKEY_OPERATION`]). The `spec.*` flaws change only what the
//! documents declare (and, for `spec.apikey_in_query`, where the key is read).
//!
//! ## Mutual TLS
//!
//! The HTTPS listener requests a client certificate optionally (`/health` needs none) and
//! verifies any certificate offered against the lab CA and its CRL; the protected routes
//! then insist on a certificate whose CN names a user, on a token issued to that user, and
//! on the token's RFC 8705 `cnf.x5t#S256` naming that very certificate. The CRL revokes a
//! second certificate of alice's (her lost laptop: [`Lab::revoked_cert`]) and is published
//! at [`CRL_PATH`] on every listener. The `mtls.*` flaws each relax one of those checks,
//! in the TLS verifier (`LabClientVerifier`) or in the application.
//!
//! With [`LabOptions::origin`] or the `mtls.header_spoofing` flaw, a third listener stands
//! for the application behind a TLS-terminating proxy: plain HTTP, it takes the client
//! certificate from the `X-SSL-Client-Cert` header (nginx's `$ssl_client_escaped_cert`)
//! of whoever connects, which is safe only when nothing but the proxy can reach it.
//!
//! ## Modes
//!
//! Orthogonal to the flaws, a mode makes the lab answer as a real framework does, where
//! the scanner was once wrong ([`LabOptions::modes`], `--mode NAME`, listed in the ready
//! JSON's `modes`); a scan should find the same flaws in any mode:
//!
//! - `cert-only`: the certificate's CN is the user (an app behind a proxy that reads no
//!   token); no certificate is a 401, a CN naming no user a 403.
//! - `unknown-user-401`: a token whose `sub` names no user is a 401 `user_not_found`
//!   (djangorestframework-simplejwt), even when the signature is not verified.
//! - `errors-200`: the protected routes answer 200 with GraphQL `data`/`errors`.
//! - `status-403-missing`: no credential is a 403 (DRF without a WWW-Authenticate
//!   authenticator), an invalid one still a 401.
//! - `status-422-malformed`: a bearer value that is no JWT is a 422 (flask-jwt-extended).
//! - `token-first`: the token is checked before the certificate's mapping, so without a
//!   valid token every certificate gets the same 401.
//!
//! The TLS-layer flaws combine as proxies do: `mtls.untrusted_cert_accepted` alone is
//! Apache's `SSLVerifyClient optional_no_ca` (an unknown issuer passes, expiry and key
//! usage are still checked); with `mtls.expired_cert_accepted` and `mtls.eku_not_checked`
//! it is HAProxy's `crt-ignore-err all ca-ignore-err all`.

#![forbid(unsafe_code)]

mod api;
mod app;
mod flaws;
mod jwt;
mod modes;
pub mod pki;
mod yaml;

pub use api::{
    APIKEY_HEADER, APIKEY_OPERATION, APIKEY_QUERY, AUTH_MISSING_OPERATIONS, Auth, ME_OPERATION,
    OPENAPI_JSON_PATH, OPENAPI_YAML_PATH, OPERATIONS, OpDef, PUBLIC_OPERATIONS, Query,
    SECURITY_UNDECLARED_OPERATION, SWAGGER_JSON_PATH, Shape, Verb,
};
pub use yaml::to_yaml;

pub use app::{
    ADMIN_PATH, AUDIENCE, CRL_PATH, ISSUER, LOGIN_PATH, PROTECTED_PATH, THROTTLE_FAILURES,
    THROTTLE_WINDOW,
};
pub use flaws::{Flaws, KNOWN_FLAWS, MASKING_FLAWS, Profile};
pub use jwt::WEAK_SECRET;
pub use modes::{KNOWN_MODES, Modes};

use anyhow::{Context, Result};
use app::{AppState, ConnInfo, User};
use base64::Engine;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig};
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What the lab prints (or writes to `--ready-file`) once it serves: the contract in
/// DESIGN.md. Files are paths in a directory that lives as long as the lab.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Ready {
    pub https_url: String,
    pub http_url: String,
    pub origin_url: Option<String>,
    pub protected_path: String,
    pub ca_cert: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub client_ca_key: PathBuf,
    pub token: String,
    pub basic: String,
    pub flaws: Vec<String>,
    /// The behaviour modes on, by name. Defaulted so a ready file of an older lab reads.
    #[serde(default)]
    pub modes: Vec<String>,
    /// The OpenAPI 3.1.0 description: `https_url` + `/openapi.json` (the same document as
    /// YAML at `/openapi.yaml`). Its `servers` is `https_url` (and, under
    /// `spec.cleartext_server`, `http_url`); its paths are full (`/api/v1/...`).
    #[serde(default)]
    pub openapi_url: String,
    /// The Swagger 2.0 description: `https_url` + `/swagger.json` (`basePath` `/`).
    #[serde(default)]
    pub swagger_url: String,
    /// The key of the API-key scheme: header `X-API-Key` (`headerKey`), or the query
    /// parameter `api_key` (`queryKey`) under `spec.apikey_in_query`. Random per lab.
    #[serde(default)]
    pub api_key: String,
    /// The operationIds that answer a request without any credential, by their declared
    /// method, though their description requires one: under `auth.missing` the four of
    /// `AUTH_MISSING_OPERATIONS` and `getCurrentUser` (`/api/v1/me`); the
    /// `open_operations`; under `auth.method_bypass` every non-GET operation (the access
    /// rule is written for GET only); in mode `cert-only` with `mtls.not_required`, every
    /// operation but the login. In table order. The public ones are not listed here.
    #[serde(default)]
    pub unenforced_operations: Vec<String>,
    /// The operationIds declared public on purpose (`security: []`), answered to anyone
    /// in every profile: not a flaw.
    #[serde(default)]
    pub public_operations: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct LabOptions {
    pub profile: Profile,
    pub flaws: Vec<String>,
    /// Behaviour modes by name, from [`KNOWN_MODES`]; unknown names are an error.
    pub modes: Vec<String>,
    /// Start the origin listener (the app behind a TLS-terminating proxy, trusting the
    /// proxy's `X-SSL-Client-Cert` header) even when `mtls.header_spoofing` is off: for
    /// tests that put a real proxy in front of it. Its URL is `ready.origin_url`.
    pub origin: bool,
    /// OperationIds of the API to leave unenforced whatever the flaws (answered to any
    /// request, credentials or not; still documented as requiring `bearerAuth`). An
    /// unknown, public or builtin (`getCurrentUser`, the login) id is an error.
    pub open_operations: Vec<String>,
    /// Extra operations `GET /api/v1/gen/{n}` for n in 0..N (operationId `gen{n}`, tag
    /// `generated`), enforced like the rest: for benchmarks on large descriptions.
    pub generated_operations: usize,
    /// How long every answer takes, as a real API's would: requests then overlap in time,
    /// so [`Lab::max_in_flight`] shows how many a scanner really had at once (a lab that
    /// answers in microseconds almost never sees two).
    pub latency: std::time::Duration,
}

/// A running lab. Dropping it stops the listeners and deletes its files.
pub struct Lab {
    pub ready: Ready,
    /// The token signing key: an EC private key (PEM), or the HMAC secret's file when the
    /// lab signs HS256. Not in the ready JSON: a scanner has to earn it, but tests may use
    /// it as a user who knows their staging key would (`--jwt-key`, `--jwt-secret`).
    pub jwt_key: PathBuf,
    /// A second certificate for alice (same subject, its own key, valid dates) that the
    /// lab CA has revoked for key compromise, with its key. Not in the ready JSON: the
    /// user gives it as `--revoked-cert/--revoked-key`.
    pub revoked_cert: PathBuf,
    pub revoked_key: PathBuf,
    /// The lab CA's CRL (PEM), naming `revoked_cert`; also served at [`CRL_PATH`].
    pub crl: PathBuf,
    state: Arc<AppState>,
    tasks: Vec<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Lab {
    /// Requests the application answered, on any listener.
    pub fn requests(&self) -> usize {
        self.state
            .stats
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The most requests this lab's HTTPS listener (the target's host:port) was answering
    /// at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.stats.in_flight.max()
    }

    /// The most TCP connections open to this lab at once (TLS handshakes included).
    pub fn max_connections(&self) -> usize {
        self.state.stats.connections.max()
    }

    /// Requests with a method other than GET, HEAD and OPTIONS, on any listener.
    pub fn unsafe_requests(&self) -> usize {
        self.state
            .stats
            .unsafe_requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Login requests that named `user`, whatever their outcome.
    pub fn login_attempts(&self, user: &str) -> usize {
        count(&self.state.stats.login_attempts, user)
    }

    /// Login requests for `user` whose password was checked and was wrong.
    pub fn failed_logins(&self, user: &str) -> usize {
        count(&self.state.stats.failed_logins, user)
    }

    /// Every token the login has handed out so far (not the ready JSON's own token).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state
            .stats
            .issued_tokens
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default()
    }
}

fn count(map: &std::sync::Mutex<HashMap<String, usize>>, user: &str) -> usize {
    map.lock()
        .ok()
        .and_then(|m| m.get(user).copied())
        .unwrap_or(0)
}

impl Drop for Lab {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn write(dir: &Path, name: &str, contents: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Starts the lab on ephemeral loopback ports. Must be called inside a tokio runtime.
pub async fn start(opts: LabOptions) -> Result<Lab> {
    let flaws = Flaws::resolve(opts.profile, &opts.flaws)?;
    let modes = Modes::resolve(&opts.modes)?;
    let api = api::Api::build(&flaws, opts.generated_operations, &opts.open_operations)?;
    let dir = tempfile::Builder::new()
        .prefix("authprobe-lab-")
        .tempdir()
        .context("creating the lab's directory")?;

    let ca = pki::LabCa::generate()?;
    let server = ca.server_cert()?;
    let alice = ca.client_cert("alice")?;
    let ca_cert = write(dir.path(), "ca.pem", &ca.issued.cert_pem)?;
    let client_ca_key = write(dir.path(), "ca.key", &ca.issued.key_pem)?;
    let client_cert = write(dir.path(), "alice.pem", &alice.cert_pem)?;
    let client_key = write(dir.path(), "alice.key", &alice.key_pem)?;
    let lost_laptop = ca.client_cert("alice")?;
    let crl = ca.crl(&[&lost_laptop])?;
    let crl_pem = crl.pem().context("encoding the lab CRL")?;
    let revoked_cert = write(dir.path(), "revoked.pem", &lost_laptop.cert_pem)?;
    let revoked_key = write(dir.path(), "revoked.key", &lost_laptop.key_pem)?;
    let crl_path = write(dir.path(), "crl.pem", &crl_pem)?;

    let https = TcpListener::bind("127.0.0.1:0").await?;
    let plain = TcpListener::bind("127.0.0.1:0").await?;
    let https_url = format!("https://127.0.0.1:{}", https.local_addr()?.port());
    let http_url = format!("http://127.0.0.1:{}", plain.local_addr()?.port());
    let origin = if opts.origin || flaws.has("mtls.header_spoofing") {
        Some(TcpListener::bind("127.0.0.1:0").await?)
    } else {
        None
    };
    let origin_url = match &origin {
        Some(l) => Some(format!("http://127.0.0.1:{}", l.local_addr()?.port())),
        None => None,
    };

    let signing = rcgen::KeyPair::generate().context("generating the JWT signing key")?;
    let keys_dir = dir.path().join("keys");
    std::fs::create_dir(&keys_dir).context("creating the lab's key directory")?;
    let public_pem = signing.public_key_pem();
    write(&keys_dir, jwt::KID_EC, &public_pem)?;
    write(&keys_dir, jwt::KID_HS, jwt::WEAK_SECRET)?;
    let jwt_cfg = if flaws.has("jwt.weak_hmac_secret") {
        jwt::JwtConfig {
            alg: jsonwebtoken::Algorithm::HS256,
            kid: jwt::KID_HS,
            encoding: jsonwebtoken::EncodingKey::from_secret(jwt::WEAK_SECRET.as_bytes()),
            decoding: jsonwebtoken::DecodingKey::from_secret(jwt::WEAK_SECRET.as_bytes()),
            public_pem: public_pem.clone(),
            keys_dir: keys_dir.clone(),
        }
    } else {
        jwt::JwtConfig {
            alg: jsonwebtoken::Algorithm::ES256,
            kid: jwt::KID_EC,
            encoding: jsonwebtoken::EncodingKey::from_ec_pem(signing.serialize_pem().as_bytes())?,
            decoding: jsonwebtoken::DecodingKey::from_ec_pem(public_pem.as_bytes())?,
            public_pem: public_pem.clone(),
            keys_dir: keys_dir.clone(),
        }
    };
    let jwt_key = if flaws.has("jwt.weak_hmac_secret") {
        keys_dir.join(jwt::KID_HS)
    } else {
        write(dir.path(), "jwt-signing.key", &signing.serialize_pem())?
    };

    let alice_password = random_secret();
    let mut users = HashMap::new();
    users.insert(
        "alice".to_string(),
        User {
            password: alice_password.clone(),
            role: "user",
        },
    );
    users.insert(
        "root-admin".to_string(),
        User {
            password: random_secret(),
            role: "admin",
        },
    );
    if flaws.default_credentials {
        // Flaw: the superuser a setup script created keeps the password from the docs.
        users.insert(
            "admin".to_string(),
            User {
                password: "admin".to_string(),
                role: "admin",
            },
        );
    }
    let doc_cx = api::DocContext {
        https_url: &https_url,
        http_url: &http_url,
        flaws: &flaws,
    };
    let openapi = api::openapi31(&api, &doc_cx);
    let docs = app::Docs {
        openapi_json: serde_json::to_vec_pretty(&openapi)?.into(),
        openapi_yaml: yaml::to_yaml(&openapi).into(),
        swagger_json: serde_json::to_vec_pretty(&api::swagger2(&api, &doc_cx))?.into(),
    };
    let unenforced_operations = api.unenforced_ids(&flaws, &modes);
    let public_operations = api
        .ops
        .iter()
        .filter(|o| o.auth == Auth::Public)
        .map(|o| o.id.clone())
        .collect();
    let api_key = random_secret();
    let state = Arc::new(AppState {
        flaws: flaws.clone(),
        modes: modes.clone(),
        users,
        jwt: jwt_cfg,
        jwks: app::jwks_for(signing.public_key_raw()),
        https_base: https_url.clone(),
        crl_pem,
        api,
        api_key: api_key.clone(),
        docs,
        failures: Default::default(),
        stats: Default::default(),
        latency: opts.latency,
    });
    let alice_x5t = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(&alice.cert_der));
    let token = state.issue_token("alice", Some(&alice_x5t))?;

    let verifier = LabClientVerifier::new(&flaws, &ca.issued, crl.der().clone(), &[&lost_laptop])?;
    let mut tls = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![server.cert_der.clone(), ca.issued.cert_der.clone()],
            server.private_key(),
        )?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

    let mut tasks = vec![
        tokio::spawn(serve_https(https, acceptor, state.clone())),
        tokio::spawn(serve_plain(plain, state.clone())),
    ];
    if let Some(origin) = origin {
        tasks.push(tokio::spawn(serve_origin(origin, state.clone())));
    }
    let openapi_url = format!("{https_url}{OPENAPI_JSON_PATH}");
    let swagger_url = format!("{https_url}{SWAGGER_JSON_PATH}");
    let ready = Ready {
        https_url,
        http_url,
        origin_url,
        protected_path: PROTECTED_PATH.to_string(),
        ca_cert,
        client_cert,
        client_key,
        client_ca_key,
        token,
        basic: format!("alice:{alice_password}"),
        flaws: flaws.ids(),
        modes: modes.names(),
        openapi_url,
        swagger_url,
        api_key,
        unenforced_operations,
        public_operations,
    };
    Ok(Lab {
        ready,
        jwt_key,
        revoked_cert,
        revoked_key,
        crl: crl_path,
        state,
        tasks,
        _dir: dir,
    })
}

fn random_secret() -> String {
    let bytes: [u8; 18] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The HTTPS listener's client-certificate check: rustls's WebPKI verifier over the lab CA
/// and its CRL, with certificates requested but optional. Each `mtls.*` flaw of the TLS
/// layer is a verify callback that waves one class of error through, as an OpenSSL
/// `verify_callback` returning 1 for `X509_V_ERR_CERT_HAS_EXPIRED` does, and only that
/// class: `mtls.untrusted_cert_accepted` alone is Apache's `SSLVerifyClient
/// optional_no_ca` (an unknown issuer passes, an expired certificate does not), and with
/// the date and key-usage flaws it is HAProxy's `crt-ignore-err all ca-ignore-err all`.
/// The proof of key possession (the CertificateVerify signature) is always checked.
#[derive(Debug)]
struct LabClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    /// The lab CA, to check the issuer signature of a certificate whose error was waved
    /// through: ignoring dates or key usage does not mean trusting any issuer.
    ca_der: Vec<u8>,
    /// Serials the CRL names, for the same reason.
    revoked: Vec<Vec<u8>>,
    /// Flaw `mtls.untrusted_cert_accepted`: the callback forgives "unable to get local
    /// issuer" and "self-signed certificate" ("the network is private"), so a self-signed
    /// certificate, or one from any CA, passes.
    any_certificate: bool,
    /// Flaw `mtls.expired_cert_accepted`: the callback ignores the validity dates
    /// ("clients forget to renew; we'd rather not lock them out").
    ignore_dates: bool,
    /// Flaw `mtls.eku_not_checked`: the callback ignores the extended key usage, so a
    /// server certificate from the same CA logs in as a client.
    ignore_purpose: bool,
    ignore_revocation: bool,
}

impl LabClientVerifier {
    fn new(
        flaws: &Flaws,
        ca: &pki::Issued,
        crl: rustls_pki_types::CertificateRevocationListDer<'static>,
        revoked: &[&pki::Issued],
    ) -> Result<Arc<Self>> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.cert_der.clone())?;
        let ignore_revocation = flaws.has("mtls.revoked_cert_accepted");
        let mut builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .allow_unauthenticated();
        if !ignore_revocation {
            // Flaw `mtls.revoked_cert_accepted` leaves this out: `ssl_crl` was never set,
            // so the CA's revocations reach no one.
            builder = builder.with_crls([crl]);
        }
        Ok(Arc::new(Self {
            inner: builder.build()?,
            ca_der: ca.cert_der.to_vec(),
            revoked: revoked.iter().map(|c| c.serial.to_bytes()).collect(),
            any_certificate: flaws.has("mtls.untrusted_cert_accepted"),
            ignore_dates: flaws.has("mtls.expired_cert_accepted"),
            ignore_purpose: flaws.has("mtls.eku_not_checked"),
            ignore_revocation,
        }))
    }

    /// Whether the flaws wave through `error`, which the WebPKI verifier raised for `leaf`.
    /// WebPKI stops at the first error (dates, then key usage, then issuer), so the leaf is
    /// examined here for every error class: OpenSSL calls the verify callback once per
    /// error, and a certificate passes only if the callback forgives each one of them.
    fn tolerates(
        &self,
        error: &CertificateError,
        leaf: &CertificateDer<'_>,
        now: UnixTime,
    ) -> bool {
        use CertificateError as E;
        let first = match error {
            E::Expired
            | E::ExpiredContext { .. }
            | E::NotValidYet
            | E::NotValidYetContext { .. } => self.ignore_dates,
            E::InvalidPurpose | E::InvalidPurposeContext { .. } => self.ignore_purpose,
            E::UnknownIssuer | E::BadSignature => self.any_certificate,
            E::Revoked => self.ignore_revocation,
            _ => false,
        };
        first && self.problems(leaf, now).is_some_and(|p| self.forgives(&p))
    }

    fn forgives(&self, p: &Problems) -> bool {
        (!p.dates || self.ignore_dates)
            && (!p.purpose || self.ignore_purpose)
            && (!p.untrusted || self.any_certificate)
            && (!p.revoked || self.ignore_revocation)
    }

    /// What is wrong with `leaf` as a client certificate of the lab CA; `None` when it
    /// does not even parse.
    fn problems(&self, leaf: &CertificateDer<'_>, now: UnixTime) -> Option<Problems> {
        let (_, ca) = x509_parser::parse_x509_certificate(&self.ca_der).ok()?;
        let (_, cert) = x509_parser::parse_x509_certificate(leaf).ok()?;
        let at = i64::try_from(now.as_secs())
            .ok()
            .and_then(|t| x509_parser::time::ASN1Time::from_timestamp(t).ok())?;
        let purpose = match cert.extended_key_usage().ok()? {
            Some(eku) => !eku.value.client_auth,
            None => false,
        };
        let untrusted = cert.verify_signature(Some(ca.public_key())).is_err();
        Some(Problems {
            dates: !cert.validity().is_valid_at(at),
            purpose,
            untrusted,
            // A serial on the CRL speaks only of the CA's own certificates.
            revoked: !untrusted && self.revoked.iter().any(|s| *s == cert.raw_serial()),
        })
    }
}

/// The verification errors of one certificate, each forgiven by one `mtls.*` flaw.
struct Problems {
    dates: bool,
    purpose: bool,
    untrusted: bool,
    revoked: bool,
}

impl ClientCertVerifier for LabClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // The inner verifier's hints are its roots' subjects: the lab CA.
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        match self
            .inner
            .verify_client_cert(end_entity, intermediates, now)
        {
            Err(rustls::Error::InvalidCertificate(e)) if self.tolerates(&e, end_entity, now) => {
                Ok(ClientCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn client_identity(certs: Option<&[CertificateDer<'_>]>) -> (Option<String>, Option<String>) {
    let Some(leaf) = certs.and_then(|c| c.first()) else {
        return (None, None);
    };
    let x5t = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(leaf));
    let cn = x509_parser::parse_x509_certificate(leaf)
        .ok()
        .and_then(|(_, cert)| {
            cert.subject()
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .map(str::to_string)
        });
    (cn, Some(x5t))
}

async fn serve_https(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    state: Arc<AppState>,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let state = state.clone();
        tokio::spawn(async move {
            let counted = state.clone();
            let _open = counted.stats.connections.enter();
            let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
            else {
                return;
            };
            let (client_cn, client_x5t) = client_identity(tls.get_ref().1.peer_certificates());
            let conn = Arc::new(ConnInfo {
                tls: true,
                client_cn,
                client_x5t,
            });
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let state = state.clone();
                let conn = conn.clone();
                // Only the head matters to the app; dropping the body keeps the future Send.
                let req = hyper::Request::from_parts(req.into_parts().0, ());
                async move {
                    let _busy = state.stats.in_flight.enter();
                    if !state.latency.is_zero() {
                        tokio::time::sleep(state.latency).await;
                    }
                    Ok::<_, Infallible>(app::handle(&state, &conn, &req).await)
                }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// The longest `X-SSL-Client-Cert` value the origin parses: a client certificate is a
/// few KiB even escaped; anything longer is not one.
const MAX_CERT_HEADER: usize = 16 * 1024;

/// The client certificate the proxy passed in `X-SSL-Client-Cert`: URL-escaped PEM
/// (nginx's `$ssl_client_escaped_cert`) or PEM whose newlines became spaces or tabs
/// (`$ssl_client_cert` in a header). Absent, empty, oversized or unparsable: none. Its
/// chain and dates are not checked here: that was the proxy's job.
fn header_identity<B>(req: &hyper::Request<B>) -> (Option<String>, Option<String>) {
    let der = req
        .headers()
        .get("x-ssl-client-cert")
        .map(|v| v.as_bytes())
        .filter(|v| !v.is_empty() && v.len() <= MAX_CERT_HEADER)
        .map(percent_decode)
        .and_then(|pem| pem_to_der(&pem))
        .filter(|der| x509_parser::parse_x509_certificate(der).is_ok());
    match der {
        Some(der) => client_identity(Some(&[CertificateDer::from(der)])),
        None => (None, None),
    }
}

fn percent_decode(raw: &[u8]) -> Vec<u8> {
    percent_encoding::percent_decode(raw).collect()
}

fn pem_to_der(pem: &[u8]) -> Option<Vec<u8>> {
    use rustls_pki_types::pem::PemObject;
    // The PEM reader reads lines, and a proxy that puts PEM in a header may have turned
    // its newlines into spaces: the markers go back on lines of their own (base64 skips
    // the spaces left in the body).
    let text = std::str::from_utf8(pem)
        .ok()?
        .replace(
            "-----BEGIN CERTIFICATE-----",
            "\n-----BEGIN CERTIFICATE-----\n",
        )
        .replace("-----END CERTIFICATE-----", "\n-----END CERTIFICATE-----\n");
    CertificateDer::from_pem_slice(text.as_bytes())
        .ok()
        .map(|c| c.to_vec())
}

/// The origin: the application at its own address behind the TLS front, which trusts the
/// proxy's client-certificate header from whoever connects.
async fn serve_origin(listener: TcpListener, state: Arc<AppState>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let counted = state.clone();
            let _open = counted.stats.connections.enter();
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let state = state.clone();
                let req = hyper::Request::from_parts(req.into_parts().0, ());
                // The proxy terminated TLS; the certificate is whatever the header says.
                let (client_cn, client_x5t) = header_identity(&req);
                let conn = ConnInfo {
                    tls: true,
                    client_cn,
                    client_x5t,
                };
                async move {
                    if !state.latency.is_zero() {
                        tokio::time::sleep(state.latency).await;
                    }
                    Ok::<_, Infallible>(app::handle(&state, &conn, &req).await)
                }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn serve_plain(listener: TcpListener, state: Arc<AppState>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let counted = state.clone();
            let _open = counted.stats.connections.enter();
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let state = state.clone();
                let req = hyper::Request::from_parts(req.into_parts().0, ());
                async move {
                    if !state.latency.is_zero() {
                        tokio::time::sleep(state.latency).await;
                    }
                    Ok::<_, Infallible>(app::handle_plain(&state, &req).await)
                }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}
