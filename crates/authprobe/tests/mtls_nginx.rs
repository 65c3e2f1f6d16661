//! The mtls.* checks against real nginx (OpenSSL) terminating mutual TLS on 127.0.0.1 in
//! front of the lab's application, which trusts the certificate nginx forwards in
//! `X-SSL-Client-Cert` ($ssl_client_escaped_cert), as many deployments do. Each
//! `ssl_verify_client` mode must give the findings it deserves.

mod common;
#[path = "../../authprobe-tls/tests/common/mod.rs"]
mod nginx;

use authprobe::engine::{self, Progress};
use authprobe::report::Report;
use authprobe_lab::{Lab, LabOptions, Profile};
use common::sorted_ids as ids;
use nginx::{Nginx, tools_available};
use std::sync::Arc;

async fn lab(flaws: &[&str]) -> Lab {
    common::lab_with(LabOptions {
        profile: Profile::Hardened,
        flaws: common::strings(flaws),
        origin: true,
        modes: Vec::new(),
        ..Default::default()
    })
    .await
}

/// nginx with a server certificate from the lab's CA, verifying clients against the same
/// CA (and its CRL) in `mode`, proxying /api/ to the lab's origin.
fn nginx(lab: &Lab, mode: &str) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca_pem = std::fs::read_to_string(&lab.ready.ca_cert).unwrap();
    let ca_key = std::fs::read_to_string(&lab.ready.client_ca_key).unwrap();
    let issuer =
        rcgen::Issuer::from_ca_cert_pem(&ca_pem, rcgen::KeyPair::from_pem(&ca_key).unwrap())
            .unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "nginx");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(d.join("server.crt"), cert.pem()).unwrap();
    std::fs::write(d.join("server.key"), key.serialize_pem()).unwrap();
    std::fs::write(d.join("client-ca.pem"), ca_pem).unwrap();
    std::fs::copy(&lab.crl, d.join("client-ca.crl")).unwrap();
    let origin = lab
        .ready
        .origin_url
        .as_deref()
        .expect("the lab has an origin");
    let p = d.display();
    // optional_no_ca tolerates only chain errors (nginx's ngx_ssl_verify_error_optional);
    // with a CRL configured, "unable to get certificate CRL" for a foreign certificate
    // would turn into a 400, so the deployments that use it go without one, as here.
    let crl = if mode == "optional_no_ca" {
        String::new()
    } else {
        format!("ssl_crl {p}/client-ca.crl;\n    ")
    };
    let directives = format!(
        "ssl_certificate {p}/server.crt;\n    ssl_certificate_key {p}/server.key;\n    \
         ssl_client_certificate {p}/client-ca.pem;\n    {crl}\
         ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_verify_client {mode};\n    ssl_verify_depth 2;\n    \
         location /api/ {{\n      proxy_pass {origin};\n      \
         proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;\n    }}\n"
    );
    Nginx::start_in(dir, &directives)
}

/// The mtls checks (and auth.token_optional_with_cert) through nginx, optionally with
/// the origin named (`--origin`).
async fn scan(lab: &Lab, ng: &Nginx, with_origin: bool) -> Report {
    let mut opts = common::options(lab, common::quick_limits());
    let path = &lab.ready.protected_path;
    opts.target = format!("https://{}{path}", ng.addr).parse().unwrap();
    opts.http_url = None;
    opts.origin = with_origin.then(|| {
        format!("{}{path}", lab.ready.origin_url.as_deref().unwrap())
            .parse()
            .unwrap()
    });
    opts.only = vec!["mtls".into(), "auth.token_optional_with_cert".into()];
    // The lab binds its tokens to the certificate: a swapped certificate the app refuses
    // is judged with the token re-bound to it, which takes the signing key (given as a
    // user who knows their staging key would).
    opts.jwt.key = Some(lab.jwt_key.clone());
    engine::scan(opts, Arc::new(Progress::default()))
        .await
        .unwrap_or_else(|e| panic!("scan through nginx: {e}\n{}", ng.log()))
}

#[tokio::test]
async fn verify_on_gives_nothing_but_the_reachable_origin() {
    if !tools_available(&["nginx"]) {
        return;
    }
    let lab = lab(&[]).await;
    let ng = nginx(&lab, "on");
    let r = scan(&lab, &ng, true).await;
    // nginx verifies chain, expiry, EKU and the CRL; the app maps the subject and checks
    // the token's binding. Only the origin, reachable around nginx, trusts a forged header.
    assert_eq!(
        ids(&r),
        vec!["mtls.header_spoofing"],
        "{:?}",
        r.inconclusive
    );
    assert!(r.findings[0].description.contains("the origin"));
    assert!(r.inconclusive.is_empty(), "{:?}", r.inconclusive);
    let ca = r.client_auth.as_ref().expect("client_auth section");
    // nginx completes the handshake without a certificate and answers 400 itself.
    assert_eq!(ca.mode, "required", "{ca:?}");
    for v in &ca.versions {
        assert_eq!(
            v.ca_names,
            vec!["O=authprobe lab, CN=authprobe lab CA"],
            "{v:?}"
        );
        assert!(v.without_certificate.contains("400"), "{v:?}");
    }
}

#[tokio::test]
async fn verify_optional_is_safe_only_if_the_app_insists() {
    if !tools_available(&["nginx"]) {
        return;
    }
    let lab = lab(&[]).await;
    let ng = nginx(&lab, "optional");
    let r = scan(&lab, &ng, false).await;
    assert!(ids(&r).is_empty(), "{:?} {:?}", ids(&r), r.inconclusive);
    assert_eq!(r.client_auth.as_ref().unwrap().mode, "optional");

    // The same nginx in front of an app that takes the token alone.
    let lab = self::lab(&["mtls.not_required"]).await;
    let ng = nginx(&lab, "optional");
    let r = scan(&lab, &ng, false).await;
    assert_eq!(ids(&r), vec!["mtls.not_required"], "{:?}", r.inconclusive);
    let ng_on = nginx(&lab, "on");
    let r = scan(&lab, &ng_on, false).await;
    assert!(
        ids(&r).is_empty(),
        "verify on protects even the careless app: {:?}",
        ids(&r)
    );
}

#[tokio::test]
async fn optional_no_ca_forwards_any_certificate() {
    if !tools_available(&["nginx"]) {
        return;
    }
    let lab = lab(&[]).await;
    let ng = nginx(&lab, "optional_no_ca");
    let r = scan(&lab, &ng, false).await;
    // nginx forwards a certificate whose chain it cannot build, and the app trusts the
    // forwarded one. Without ssl_crl (with it, nginx refuses even self-signed ones) a
    // revoked certificate passes too. Expired and serverAuth-only certificates are not
    // chain errors: nginx still answers them 400. Each is sent and judged on its own.
    assert_eq!(
        ids(&r),
        vec!["mtls.revoked_cert_accepted", "mtls.untrusted_cert_accepted"],
        "{:?}",
        r.inconclusive
    );
    for id in ["mtls.expired_cert_accepted", "mtls.eku_not_checked"] {
        assert!(r.checks_run.iter().any(|c| c == id), "{id} runs");
        assert!(
            !r.inconclusive.iter().any(|i| i.id == id),
            "{id}: {:?}",
            r.inconclusive
        );
    }
    let ca = r.client_auth.as_ref().unwrap();
    assert_eq!(ca.mode, "optional");
    eprintln!(
        "client_auth for nginx optional_no_ca:\n{}",
        serde_json::to_string_pretty(ca).unwrap()
    );
}
