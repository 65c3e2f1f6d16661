//! End-to-end probing of a real nginx (OpenSSL) on 127.0.0.1.

mod common;

use authprobe_tls::suites;
use authprobe_tls::{NamedGroup, ProbeOptions, Prober, ScanReport, TlsVersion};
use common::{Nginx, openssl_ciphers, tools_available};
use std::collections::BTreeSet;
use std::time::Duration;

const PERMISSIVE_CIPHERS: &str = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";

fn opts() -> ProbeOptions {
    ProbeOptions {
        step_timeout: Duration::from_secs(5),
        max_concurrency: 4,
        ..ProbeOptions::default()
    }
}

async fn scan(ng: &Nginx) -> ScanReport {
    let prober = Prober::new(ng.addr, Some("localhost"), opts());
    let report = tokio::time::timeout(Duration::from_secs(60), prober.scan())
        .await
        .expect("scan finished in time");
    eprintln!(
        "{} handshakes in {} ms; errors: {:?}",
        report.handshakes, report.duration_ms, report.errors
    );
    report
}

fn codes(report: &ScanReport, v: TlsVersion) -> Vec<u16> {
    report
        .protocol(v)
        .map(|p| p.suites.iter().map(|s| s.code).collect())
        .unwrap_or_default()
}

/// The permissive server: the prober must find TLS 1.0 to 1.3 and exactly
/// the suites OpenSSL says that cipher string enables, per protocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissive_nginx_matches_openssl() {
    if !tools_available(&["nginx", "openssl"]) {
        return;
    }
    let ng = Nginx::start(&format!(
        "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n    ssl_ciphers {PERMISSIVE_CIPHERS};\n    ssl_prefer_server_ciphers off;"
    ));
    let report = scan(&ng).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    // OpenSSL 3 is built without SSLv3.
    assert_eq!(
        report.accepted_versions(),
        vec![
            TlsVersion::Tls10,
            TlsVersion::Tls11,
            TlsVersion::Tls12,
            TlsVersion::Tls13
        ]
    );

    // What OpenSSL enables, minus suites the server cannot use: PSK/SRP need
    // a shared secret, DSS a DSA certificate (it has RSA and ECDSA ones).
    let enabled = openssl_ciphers(PERMISSIVE_CIPHERS);
    let usable: Vec<_> = enabled
        .values()
        .filter(|s| !s.kx.contains("PSK") && !s.kx.contains("SRP"))
        .filter(|s| !matches!(s.au.as_str(), "PSK" | "SRP" | "DSS"))
        .collect();
    for (v, allowed) in [
        (TlsVersion::Tls10, &["SSLv3", "TLSv1"][..]),
        (TlsVersion::Tls11, &["SSLv3", "TLSv1"][..]),
        (TlsVersion::Tls12, &["SSLv3", "TLSv1", "TLSv1.2"][..]),
        (TlsVersion::Tls13, &["TLSv1.3"][..]),
    ] {
        let expected: BTreeSet<u16> = usable
            .iter()
            .filter(|s| allowed.contains(&s.min_version.as_str()))
            .map(|s| s.code)
            .collect();
        let found: BTreeSet<u16> = codes(&report, v).into_iter().collect();
        assert_eq!(found, expected, "{v}: found vs OpenSSL's list");
        eprintln!("{v}: {} suites", found.len());
    }

    // Weak and non-forward-secret suites are there and classified as such.
    let all = report.all_suites();
    assert!(
        all.iter()
            .any(|s| s.name == "TLS_ECDH_anon_WITH_AES_128_CBC_SHA" && s.weak)
    );
    assert!(
        all.iter()
            .any(|s| s.name == "TLS_RSA_WITH_NULL_SHA" && s.weak)
    );
    assert!(
        all.iter()
            .any(|s| s.name == "TLS_RSA_WITH_AES_128_CBC_SHA" && !s.forward_secrecy)
    );
    let ids: Vec<&str> = report.issues().iter().map(|i| i.id).collect();
    assert_eq!(
        ids,
        vec![
            "tls.legacy_protocol",
            "tls.weak_cipher",
            "tls.no_forward_secrecy"
        ]
    );

    // nginx's default is to follow the client's order.
    for v in [TlsVersion::Tls10, TlsVersion::Tls12, TlsVersion::Tls13] {
        assert_eq!(
            report.protocol(v).unwrap().server_enforces_order,
            Some(false),
            "{v}"
        );
    }

    // Groups: OpenSSL's defaults include these in both protocols.
    for v in [TlsVersion::Tls12, TlsVersion::Tls13] {
        let groups: Vec<u16> = report
            .protocol(v)
            .unwrap()
            .groups
            .iter()
            .map(|g| g.code)
            .collect();
        for g in [
            NamedGroup::X25519,
            NamedGroup::SECP256R1,
            NamedGroup::SECP384R1,
        ] {
            assert!(groups.contains(&g.0), "{v}: {g} missing from {groups:?}");
        }
        eprintln!("{v} groups: {:?}", report.protocol(v).unwrap().groups);
    }
    let tls13_groups = &report.protocol(TlsVersion::Tls13).unwrap().groups;
    assert!(tls13_groups.iter().any(|g| g.name == "ffdhe2048"));

    // Chain from the TLS 1.2 Certificate message, parseable, for localhost.
    assert_eq!(report.chain_version, Some(TlsVersion::Tls12));
    assert_eq!(report.certificate_chain.len(), 1);
    let (_, cert) = x509_parser::parse_x509_certificate(&report.certificate_chain[0].0).unwrap();
    assert_eq!(cert.subject().to_string(), "CN=localhost");
    assert_eq!(report.dh_prime_bits, Some(2048));
    assert!(report.client_auth.is_none());

    // Elimination costs about accepted + 1 per bundle, plus the order and
    // group probes and the certificate flight.
    let accepted: usize = report.protocols.iter().map(|p| p.suites.len()).sum();
    let groups: usize = report.protocols.iter().map(|p| p.groups.len()).sum();
    let budget = accepted + groups + 5 * 3 + 2 * 2 + 4 + 2;
    assert!(
        (report.handshakes as usize) <= budget,
        "{} handshakes for {accepted} suites and {groups} groups",
        report.handshakes
    );

    // The report survives a JSON round trip.
    let json = serde_json::to_string(&report).unwrap();
    let back: ScanReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
}

/// Mozilla "intermediate"-like: TLS 1.2 + 1.3, ECDHE with AEAD only, and the
/// server's order enforced so that the discovered order can be checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intermediate_nginx_has_no_legacy_or_weak() {
    if !tools_available(&["nginx", "openssl"]) {
        return;
    }
    let order = [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ];
    let ng = Nginx::start(&format!(
        "ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_ciphers {};\n    ssl_prefer_server_ciphers on;\n    ssl_ecdh_curve X25519:prime256v1:secp384r1;",
        order.join(":")
    ));
    let report = scan(&ng).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        report.accepted_versions(),
        vec![TlsVersion::Tls12, TlsVersion::Tls13]
    );
    let tls12 = report.protocol(TlsVersion::Tls12).unwrap();
    let names: Vec<&str> = tls12
        .suites
        .iter()
        .map(|s| s.openssl_name.as_deref().unwrap())
        .collect();
    assert_eq!(names, order, "server order recovered exactly");
    assert_eq!(tls12.server_enforces_order, Some(true));
    assert!(
        tls12
            .suites
            .iter()
            .all(|s| !s.weak && s.forward_secrecy && s.aead)
    );
    let tls13 = report.protocol(TlsVersion::Tls13).unwrap();
    assert_eq!(tls13.suites.len(), 3);
    assert_eq!(tls13.server_enforces_order, Some(true));

    // ssl_ecdh_curve limits the groups, in both protocols.
    for p in [tls12, tls13] {
        let g: BTreeSet<u16> = p.groups.iter().map(|g| g.code).collect();
        assert_eq!(g, BTreeSet::from([0x001d, 0x0017, 0x0018]), "{}", p.version);
    }
    assert!(report.issues().is_empty(), "{:?}", report.issues());
    assert_eq!(report.certificate_chain.len(), 1);
    // No DHE suite, so no DH size.
    assert_eq!(report.dh_prime_bits, None);
    for s in tls12.suites.iter().chain(&tls13.suites) {
        assert!(suites::by_code(s.code).is_some());
    }

    // Tiny bundles scatter the six suites over several hellos; the scan must
    // still detect the enforced order and re-rank to the configured one.
    let small = Prober::new(
        ng.addr,
        Some("localhost"),
        ProbeOptions {
            bundle_size: 6,
            versions: vec![TlsVersion::Tls12],
            ..opts()
        },
    );
    let report = small.scan().await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let p = &report.protocols[0];
    let names: Vec<&str> = p
        .suites
        .iter()
        .map(|s| s.openssl_name.as_deref().unwrap())
        .collect();
    assert_eq!(names, order);
    assert_eq!(p.server_enforces_order, Some(true));
}

/// `ssl_verify_client optional_no_ca` with a CA bundle: the CertificateRequest
/// must be seen and its two CA names decoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificate_request_names_the_cas() {
    if !tools_available(&["nginx", "openssl"]) {
        return;
    }
    let ng = Nginx::start(
        "ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_ciphers ECDHE+AESGCM;\n    ssl_verify_client optional_no_ca;\n    ssl_client_certificate client-ca.pem;",
    );
    let prober = Prober::new(ng.addr, Some("localhost"), opts());
    let suites12 = suites::codes_for(TlsVersion::Tls12);
    let flight = prober
        .fetch_flight(TlsVersion::Tls12, &suites12[..128])
        .await
        .unwrap();
    // The first bundle may hold none of the server's suites; then try the rest.
    let flight = match flight {
        Some(f) => f,
        None => prober
            .fetch_flight(TlsVersion::Tls12, &suites12[128..])
            .await
            .unwrap()
            .expect("TLS 1.2 accepted"),
    };
    assert!(flight.complete);
    assert!(flight.certificate_request.is_some());

    let report = prober.scan().await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let ca = report.client_auth.expect("client certificate requested");
    assert_eq!(ca.version, TlsVersion::Tls12);
    assert_eq!(
        ca.ca_names,
        vec![
            Some("C=DE, O=Authprobe Test, CN=Authprobe Test Client CA".to_string()),
            Some("CN=Second Client CA".to_string()),
        ]
    );
    assert!(!ca.signature_schemes.is_empty());
}
