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

mod app;
mod flaws;
mod jwt;
mod pki;

pub use app::{
    ADMIN_PATH, AUDIENCE, ISSUER, LOGIN_PATH, PROTECTED_PATH, THROTTLE_FAILURES, THROTTLE_WINDOW,
};
pub use flaws::{Flaws, KNOWN_FLAWS, Profile};
pub use jwt::WEAK_SECRET;

use anyhow::{Context, Result};
use app::{AppState, ConnInfo, User};
use base64::Engine;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
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
}

#[derive(Clone, Debug, Default)]
pub struct LabOptions {
    pub profile: Profile,
    pub flaws: Vec<String>,
}

/// A running lab. Dropping it stops the listeners and deletes its files.
pub struct Lab {
    pub ready: Ready,
    /// The token signing key: an EC private key (PEM), or the HMAC secret's file when the
    /// lab signs HS256. Not in the ready JSON: a scanner has to earn it, but tests may use
    /// it as a user who knows their staging key would (`--jwt-key`, `--jwt-secret`).
    pub jwt_key: PathBuf,
    state: Arc<AppState>,
    tasks: Vec<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Lab {
    /// Requests the application answered, on either listener.
    pub fn requests(&self) -> usize {
        self.state
            .stats
            .requests
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

    let https = TcpListener::bind("127.0.0.1:0").await?;
    let plain = TcpListener::bind("127.0.0.1:0").await?;
    let https_url = format!("https://127.0.0.1:{}", https.local_addr()?.port());
    let http_url = format!("http://127.0.0.1:{}", plain.local_addr()?.port());

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
    let state = Arc::new(AppState {
        flaws: flaws.clone(),
        users,
        jwt: jwt_cfg,
        jwks: app::jwks_for(signing.public_key_raw()),
        https_base: https_url.clone(),
        failures: Default::default(),
        stats: Default::default(),
    });
    let alice_x5t = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(&alice.cert_der));
    let token = state.issue_token("alice", Some(&alice_x5t))?;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.issued.cert_der.clone())?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .allow_unauthenticated()
        .build()?;
    let mut tls = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![server.cert_der.clone(), ca.issued.cert_der.clone()],
            server.private_key(),
        )?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

    let tasks = vec![
        tokio::spawn(serve_https(https, acceptor, state.clone())),
        tokio::spawn(serve_plain(plain, state.clone())),
    ];
    let ready = Ready {
        https_url,
        http_url,
        origin_url: None,
        protected_path: PROTECTED_PATH.to_string(),
        ca_cert,
        client_cert,
        client_key,
        client_ca_key,
        token,
        basic: format!("alice:{alice_password}"),
        flaws: flaws.ids(),
    };
    Ok(Lab {
        ready,
        jwt_key,
        state,
        tasks,
        _dir: dir,
    })
}

fn random_secret() -> String {
    let bytes: [u8; 18] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn client_identity(
    certs: Option<&[rustls_pki_types::CertificateDer<'_>]>,
) -> (Option<String>, Option<String>) {
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
                async move { Ok::<_, Infallible>(app::handle(&state, &conn, &req).await) }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(tls), service)
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
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let state = state.clone();
                let req = hyper::Request::from_parts(req.into_parts().0, ());
                async move { Ok::<_, Infallible>(app::handle_plain(&state, &req).await) }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}
