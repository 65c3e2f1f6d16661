//! The lab's mutual-TLS policy, seen by a minimal client: which certificates the TLS layer
//! lets through, and what the application then answers, hardened and flaw by flaw.

use authprobe_lab::{Lab, LabOptions, Profile};
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TIMEOUT: Duration = Duration::from_secs(5);
const DAY: Duration = Duration::from_secs(86400);

async fn lab(flaws: &[&str], origin: bool) -> Lab {
    authprobe_lab::start(LabOptions {
        profile: Profile::Hardened,
        flaws: flaws.iter().map(|s| s.to_string()).collect(),
        modes: Vec::new(),
        origin,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// A client certificate and its key, PEM.
struct Cert {
    pem: String,
    key: String,
}

enum Kind {
    Good,
    Expired,
    ServerAuthOnly,
    SelfSigned,
}

/// Mints a certificate for `cn`, signed by the lab CA unless `SelfSigned`.
fn mint(lab: &Lab, cn: &str, kind: Kind) -> Cert {
    let ca_pem = std::fs::read_to_string(&lab.ready.ca_cert).unwrap();
    let ca_key =
        KeyPair::from_pem(&std::fs::read_to_string(&lab.ready.client_ca_key).unwrap()).unwrap();
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key).unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![match kind {
        Kind::ServerAuthOnly => ExtendedKeyUsagePurpose::ServerAuth,
        _ => ExtendedKeyUsagePurpose::ClientAuth,
    }];
    let now = SystemTime::now();
    let (from, to) = match kind {
        Kind::Expired => (now - 2 * DAY, now - DAY),
        _ => (now - DAY, now + DAY),
    };
    params.not_before = from.into();
    params.not_after = to.into();
    let key = KeyPair::generate().unwrap();
    let cert = match kind {
        Kind::SelfSigned => params.self_signed(&key),
        _ => params.signed_by(&key, &issuer),
    }
    .unwrap();
    Cert {
        pem: cert.pem(),
        key: key.serialize_pem(),
    }
}

fn files(cert: &std::path::Path, key: &std::path::Path) -> Cert {
    Cert {
        pem: std::fs::read_to_string(cert).unwrap(),
        key: std::fs::read_to_string(key).unwrap(),
    }
}

fn alice(lab: &Lab) -> Cert {
    files(&lab.ready.client_cert, &lab.ready.client_key)
}

/// One HTTP/1.1 request over its own connection, raw: the status and the body, or why
/// there was none (a refused handshake surfaces here, on the first read in TLS 1.3).
async fn send(
    base: &str,
    cert: Option<&Cert>,
    head: &str,
    ca: &Lab,
) -> Result<(u16, String), String> {
    let work = async {
        let addr = base
            .split_once("://")
            .map(|(_, a)| a.to_string())
            .ok_or("bad base")?;
        let tcp = tokio::net::TcpStream::connect(&addr)
            .await
            .map_err(|e| e.to_string())?;
        let request = format!("{head}Host: {addr}\r\nConnection: close\r\n\r\n");
        let mut buf = Vec::new();
        if base.starts_with("https://") {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from_pem_file(&ca.ready.ca_cert).unwrap())
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
            tls.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
        } else {
            let mut tcp = tcp;
            tcp.write_all(request.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            tcp.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
        }
        let text = String::from_utf8_lossy(&buf).to_string();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status line in {text:?}"))?;
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        Ok((status, body))
    };
    tokio::time::timeout(TIMEOUT, work)
        .await
        .map_err(|_| "timed out".to_string())?
}

/// `GET /api/v1/me` over HTTPS with `cert` and, when given, `Authorization: Bearer token`.
async fn me(lab: &Lab, cert: Option<&Cert>, token: Option<&str>) -> Result<(u16, String), String> {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!("GET {} HTTP/1.1\r\n{auth}", lab.ready.protected_path);
    send(&lab.ready.https_url, cert, &head, lab).await
}

/// A token for alice bound to `cert`, from the login endpoint over a connection that
/// presents it, as a client holding that certificate would get one.
async fn login(lab: &Lab, cert: &Cert) -> String {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(&lab.ready.basic);
    let head = format!(
        "GET {} HTTP/1.1\r\nAuthorization: Basic {basic}\r\n",
        authprobe_lab::LOGIN_PATH
    );
    let (status, body) = send(&lab.ready.https_url, Some(cert), &head, lab)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

fn status(r: Result<(u16, String), String>) -> u16 {
    r.map(|(s, _)| s).unwrap_or(0)
}

#[tokio::test]
async fn hardened_requires_alice_certificate_and_a_token_bound_to_it() {
    let lab = lab(&[], false).await;
    let token = Some(lab.ready.token.as_str());
    assert!(lab.ready.origin_url.is_none());
    assert_eq!(status(me(&lab, Some(&alice(&lab)), token).await), 200);

    let (s, body) = me(&lab, None, token).await.unwrap();
    assert_eq!(
        (s, body.contains("client_certificate_required")),
        (403, true)
    );
    let (s, body) = me(&lab, Some(&alice(&lab)), None).await.unwrap();
    assert_eq!((s, body.contains("token_required")), (401, true));
    // Same subject, another key: a token lifted from alice is useless over it.
    let twin = mint(&lab, "alice", Kind::Good);
    let (s, body) = me(&lab, Some(&twin), token).await.unwrap();
    assert_eq!(
        (s, body.contains("token_not_bound_to_certificate")),
        (403, true)
    );
    // Even with a token bound to it, a certificate must name a user.
    let mallory = mint(&lab, "mallory", Kind::Good);
    let bound = login(&lab, &mallory).await;
    let (s, body) = me(&lab, Some(&mallory), Some(&bound)).await.unwrap();
    assert_eq!(
        (s, body.contains("unknown_client_certificate")),
        (403, true)
    );
}

#[tokio::test]
async fn hardened_tls_layer_refuses_bad_certificates() {
    let lab = lab(&[], false).await;
    let token = Some(lab.ready.token.as_str());
    let revoked = files(&lab.revoked_cert, &lab.revoked_key);
    for (alert, cert) in [
        ("CertificateExpired", mint(&lab, "alice", Kind::Expired)),
        (
            "UnsupportedCertificate",
            mint(&lab, "alice", Kind::ServerAuthOnly),
        ),
        ("UnknownCA", mint(&lab, "alice", Kind::SelfSigned)),
        ("CertificateRevoked", revoked),
    ] {
        let r = me(&lab, Some(&cert), token).await;
        assert!(
            r.as_ref().is_err_and(|e| e.contains(alert)),
            "{alert}: {r:?}"
        );
    }
}

#[tokio::test]
async fn each_tls_flaw_lets_its_certificate_through_and_no_other() {
    for (flaw, kind) in [
        ("mtls.expired_cert_accepted", Some(Kind::Expired)),
        ("mtls.eku_not_checked", Some(Kind::ServerAuthOnly)),
        ("mtls.untrusted_cert_accepted", Some(Kind::SelfSigned)),
        ("mtls.revoked_cert_accepted", None),
    ] {
        let lab = lab(&[flaw], false).await;
        let cert = match kind {
            Some(k) => mint(&lab, "alice", k),
            None => files(&lab.revoked_cert, &lab.revoked_key),
        };
        let token = login(&lab, &cert).await;
        assert_eq!(
            status(me(&lab, Some(&cert), Some(&token)).await),
            200,
            "{flaw}"
        );
        if flaw != "mtls.untrusted_cert_accepted" {
            // Waving one error through is not trusting any issuer.
            let stranger = mint(&lab, "alice", Kind::SelfSigned);
            assert!(me(&lab, Some(&stranger), None).await.is_err(), "{flaw}");
        }
    }
}

#[tokio::test]
async fn each_application_flaw_flips_its_refusal() {
    let l = lab(&["mtls.token_not_bound"], false).await;
    let twin = mint(&l, "alice", Kind::Good);
    assert_eq!(status(me(&l, Some(&twin), Some(&l.ready.token)).await), 200);

    let l = lab(&["mtls.identity_not_mapped"], false).await;
    let mallory = mint(&l, "mallory", Kind::Good);
    let bound = login(&l, &mallory).await;
    assert_eq!(status(me(&l, Some(&mallory), Some(&bound)).await), 200);

    let l = lab(&["mtls.not_required"], false).await;
    assert_eq!(status(me(&l, None, Some(&l.ready.token)).await), 200);

    let l = lab(&["auth.token_optional_with_cert"], false).await;
    let (s, body) = me(&l, Some(&alice(&l)), None).await.unwrap();
    assert_eq!((s, body.contains("\"mtls\"")), (200, true));
    // A malformed token is still the validator's business.
    assert_eq!(status(me(&l, Some(&alice(&l)), Some("garbage")).await), 401);
}

/// URL-escapes like nginx's `$ssl_client_escaped_cert`.
fn escape(pem: &str) -> String {
    pem.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn origin_trusts_the_proxy_header() {
    assert!(
        lab(&["mtls.header_spoofing"], false)
            .await
            .ready
            .origin_url
            .is_some()
    );
    let lab = lab(&[], true).await;
    let origin = lab.ready.origin_url.clone().unwrap();
    let pem = alice(&lab).pem;
    let get = |header: Option<String>| {
        let header = header.map_or(String::new(), |h| format!("X-SSL-Client-Cert: {h}\r\n"));
        format!(
            "GET {} HTTP/1.1\r\nAuthorization: Bearer {}\r\n{header}",
            lab.ready.protected_path, lab.ready.token
        )
    };
    for header in [escape(&pem), pem.trim().replace('\n', " ")] {
        let r = send(&origin, None, &get(Some(header)), &lab).await;
        assert_eq!(status(r), 200);
    }
    for header in [None, Some(String::new()), Some("%ZZ-----BEGIN".into())] {
        let r = send(&origin, None, &get(header), &lab).await;
        assert_eq!(status(r), 403);
    }
}

#[tokio::test]
async fn crl_is_published_on_every_listener() {
    let lab = lab(&[], true).await;
    let crl = std::fs::read_to_string(&lab.crl).unwrap();
    assert!(crl.contains("BEGIN X509 CRL"));
    let head = format!("GET {} HTTP/1.1\r\n", authprobe_lab::CRL_PATH);
    for base in [
        &lab.ready.https_url,
        &lab.ready.http_url,
        lab.ready.origin_url.as_ref().unwrap(),
    ] {
        let (s, body) = send(base, None, &head, &lab).await.unwrap();
        assert_eq!((s, body.as_str()), (200, crl.as_str()), "{base}");
    }
}
