//! A minimal raw client for the lab: one request per connection over rustls, with or
//! without a client certificate, and the certificates a test needs to present.

#![allow(dead_code)] // each test file uses its own part

use authprobe_lab::{Lab, LabOptions, Profile};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa};
use rcgen::{Issuer, KeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TIMEOUT: Duration = Duration::from_secs(5);
const DAY: Duration = Duration::from_secs(86400);

pub async fn lab(flaws: &[&str], modes: &[&str]) -> Lab {
    authprobe_lab::start(LabOptions {
        profile: Profile::Hardened,
        flaws: flaws.iter().map(|s| s.to_string()).collect(),
        modes: modes.iter().map(|s| s.to_string()).collect(),
        origin: false,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// A client certificate and its key, PEM.
pub struct Cert {
    pub pem: String,
    pub key: String,
}

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Good,
    Expired,
    ServerAuthOnly,
    SelfSigned,
    SelfSignedExpired,
    /// Issued by a CA the lab has never heard of.
    ForeignCa,
}

/// Mints a certificate for `cn` of the given kind, signed by the lab CA where the kind
/// says nothing else.
pub fn mint(lab: &Lab, cn: &str, kind: Kind) -> Cert {
    let ca_pem = std::fs::read_to_string(&lab.ready.ca_cert).unwrap();
    let ca_key =
        KeyPair::from_pem(&std::fs::read_to_string(&lab.ready.client_ca_key).unwrap()).unwrap();
    let lab_ca = Issuer::from_ca_cert_pem(&ca_pem, ca_key).unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![match kind {
        Kind::ServerAuthOnly => ExtendedKeyUsagePurpose::ServerAuth,
        _ => ExtendedKeyUsagePurpose::ClientAuth,
    }];
    let now = SystemTime::now();
    let (from, to) = match kind {
        Kind::Expired | Kind::SelfSignedExpired => (now - 2 * DAY, now - DAY),
        _ => (now - DAY, now + DAY),
    };
    params.not_before = from.into();
    params.not_after = to.into();
    let key = KeyPair::generate().unwrap();
    let cert = match kind {
        Kind::SelfSigned | Kind::SelfSignedExpired => params.self_signed(&key),
        Kind::ForeignCa => params.signed_by(&key, &foreign_ca()),
        _ => params.signed_by(&key, &lab_ca),
    }
    .unwrap();
    Cert {
        pem: cert.pem(),
        key: key.serialize_pem(),
    }
}

fn foreign_ca() -> Issuer<'static, KeyPair> {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "Somebody Else's CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    Issuer::new(params, KeyPair::generate().unwrap())
}

pub fn alice(lab: &Lab) -> Cert {
    Cert {
        pem: std::fs::read_to_string(&lab.ready.client_cert).unwrap(),
        key: std::fs::read_to_string(&lab.ready.client_key).unwrap(),
    }
}

/// What came back: the status, the header block (lower-cased) and the body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The body without the per-request fields, for comparing two answers.
    pub fn stable_json(&self) -> Value {
        let mut v = self.json();
        if let Value::Object(m) = &mut v {
            m.remove("request_id");
        }
        v
    }

    pub fn challenged(&self) -> bool {
        self.head.contains("\nwww-authenticate:")
    }
}

/// One HTTP/1.1 request over its own connection; `extra` is header lines, each ending in
/// CRLF. A refused handshake is an `Err` (in TLS 1.3 it surfaces on the first read).
pub async fn send(
    lab: &Lab,
    cert: Option<&Cert>,
    path: &str,
    extra: &str,
) -> Result<Answer, String> {
    request(lab, cert, "GET", path, extra).await
}

/// As [`send`], with any method.
pub async fn request(
    lab: &Lab,
    cert: Option<&Cert>,
    method: &str,
    path: &str,
    extra: &str,
) -> Result<Answer, String> {
    let work = async {
        let addr = lab
            .ready
            .https_url
            .trim_start_matches("https://")
            .to_string();
        let tcp = tokio::net::TcpStream::connect(&addr)
            .await
            .map_err(|e| e.to_string())?;
        let request =
            format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_file(&lab.ready.ca_cert).unwrap())
            .unwrap();
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = match cert {
            Some(c) => builder
                .with_client_auth_cert(
                    vec![CertificateDer::from_pem_slice(c.pem.as_bytes()).unwrap()],
                    PrivateKeyDer::from_pem_slice(c.key.as_bytes()).unwrap(),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        tls.write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        tls.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&buf).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status line in {text:?}"))?;
        Ok(Answer {
            status,
            head: head.to_ascii_lowercase().replace("\r\n", "\n"),
            body: body.to_string(),
        })
    };
    tokio::time::timeout(TIMEOUT, work)
        .await
        .map_err(|_| "timed out".to_string())?
}

/// `GET /api/v1/me` with `cert` and, when given, `Authorization: Bearer token`.
pub async fn me(lab: &Lab, cert: Option<&Cert>, token: Option<&str>) -> Result<Answer, String> {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    send(lab, cert, &lab.ready.protected_path, &auth).await
}

/// A token for alice bound to `cert`, from the login endpoint over a connection that
/// presents it.
pub async fn login(lab: &Lab, cert: &Cert) -> String {
    let basic = base64::engine::general_purpose::STANDARD.encode(&lab.ready.basic);
    let auth = format!("Authorization: Basic {basic}\r\n");
    let a = send(lab, Some(cert), authprobe_lab::LOGIN_PATH, &auth)
        .await
        .unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["access_token"].as_str().unwrap().to_string()
}

/// The three segments of a JWT.
pub fn segments(token: &str) -> (String, String, String) {
    let mut it = token.split('.').map(str::to_string);
    (it.next().unwrap(), it.next().unwrap(), it.next().unwrap())
}

/// `token`'s payload with `claim` set to `value`, base64url.
pub fn payload_with(token: &str, claim: &str, value: &str) -> String {
    let (_, p, _) = segments(token);
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
    claims[claim] = Value::String(value.to_string());
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
}

/// `token` re-signed with the lab's own key after setting `claim` to `value`: a token the
/// lab itself could have issued.
pub fn resigned(lab: &Lab, token: &str, claim: &str, value: &str) -> String {
    let (h, _, _) = segments(token);
    let p = payload_with(token, claim, value);
    let pem = std::fs::read(&lab.jwt_key).unwrap();
    let key = jsonwebtoken::EncodingKey::from_ec_pem(&pem).unwrap();
    let message = format!("{h}.{p}");
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::ES256)
        .unwrap();
    format!("{message}.{sig}")
}

/// `token` with one bit of its signature flipped.
pub fn bit_flipped(token: &str) -> String {
    let (h, p, s) = segments(token);
    let mut sig = URL_SAFE_NO_PAD.decode(s).unwrap();
    sig[10] ^= 0x01;
    format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig))
}
