//! The tls.* transport checks against real nginx (OpenSSL) servers on 127.0.0.1, through
//! the binary (`authprobe tls` and `authprobe scan`). rustls cannot serve TLS 1.0, weak
//! suites or weak certificates, so the lab cannot stand in for these.

#[path = "../../authprobe-tls/tests/common/mod.rs"]
mod nginx;

use nginx::{Nginx, openssl, tools_available};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_authprobe");
const TRANSPORT: [&str; 6] = [
    "tls.legacy_protocol",
    "tls.weak_cipher",
    "tls.no_forward_secrecy",
    "tls.no_tls13",
    "tls.cert_invalid",
    "tls.cert_weak_key",
];

/// A test CA (EC P-256) and the certificates the cases need, all made with the openssl CLI.
struct Pki {
    dir: tempfile::TempDir,
}

const LOCAL_SANS: &str = "DNS:localhost,IP:127.0.0.1";

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        openssl(
            dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-subj",
                "/CN=authprobe test CA",
                "-days",
                "2",
            ],
        );
        openssl(
            dir.path(),
            &[
                "genpkey",
                "-genparam",
                "-algorithm",
                "DH",
                "-pkeyopt",
                "group:ffdhe2048",
                "-out",
                "dh.pem",
            ],
        );
        Pki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// `name.crt`/`name.key` signed by the test CA. `key`: "rsa:2048", "rsa:1024" or "ec".
    fn leaf(&self, name: &str, key: &str, sans: &str, days: &str, digest: &str) {
        let d = self.dir.path();
        std::fs::write(
            d.join(format!("{name}.ext")),
            format!(
                "subjectAltName={sans}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            ),
        )
        .unwrap();
        let (keyout, csr, crt, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
            format!("{name}.ext"),
        );
        let mut req = vec!["req", "-new", "-nodes", "-keyout", &keyout, "-out", &csr];
        req.extend(["-subj", "/CN=localhost", "-newkey"]);
        if key == "ec" {
            req.extend(["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
        } else {
            req.push(key);
        }
        openssl(d, &req);
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                days,
                digest,
                "-extfile",
                &ext,
                "-out",
                &crt,
            ],
        );
    }

    fn self_signed(&self, name: &str) {
        openssl(
            self.dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.crt"),
                "-subj",
                "/CN=localhost",
                "-addext",
                &format!("subjectAltName={LOCAL_SANS}"),
                "-days",
                "2",
            ],
        );
    }

    /// Starts nginx serving `certs` (names made by `leaf`) and FFDHE-2048 parameters with
    /// `ssl` directives. The server's directory gets copies, so the PKI outlives it.
    fn nginx(&self, certs: &[&str], ssl: &str) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let mut directives = String::new();
        for c in certs {
            for ext in ["crt", "key"] {
                std::fs::copy(
                    self.dir.path().join(format!("{c}.{ext}")),
                    dir.path().join(format!("{c}.{ext}")),
                )
                .unwrap();
            }
            let p = dir.path().display();
            directives.push_str(&format!(
                "ssl_certificate {p}/{c}.crt;\n    ssl_certificate_key {p}/{c}.key;\n    "
            ));
        }
        std::fs::copy(self.dir.path().join("dh.pem"), dir.path().join("dh.pem")).unwrap();
        directives.push_str(&format!(
            "ssl_dhparam {}/dh.pem;\n    ",
            dir.path().display()
        ));
        directives.push_str(ssl);
        Nginx::start_in(dir, &directives)
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run authprobe")
}

/// `authprobe tls` as JSON; the exit code must be 0 (no gate given).
fn tls_json(ng: &Nginx, extra: &[&str]) -> Value {
    let target = ng.addr.to_string();
    let mut args = vec!["tls", target.as_str(), "--format", "json"];
    args.extend(extra);
    let out = run(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

fn ids(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn transport_ids(report: &Value) -> BTreeSet<String> {
    ids(report)
        .into_iter()
        .filter(|i| TRANSPORT.contains(&i.as_str()))
        .collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn finding<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("{id} not found"))
}

const PERMISSIVE: &str = "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n    ssl_ciphers ALL:COMPLEMENTOFALL:@SECLEVEL=0;\n    ssl_prefer_server_ciphers off;";

/// OpenSSL names per protocol in a tls section.
fn suites_by_protocol(report: &Value) -> BTreeMap<String, BTreeSet<String>> {
    report["tls"]["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["accepted"] == true)
        .map(|p| {
            let names = p["suites"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    s["openssl_name"]
                        .as_str()
                        .unwrap_or(s["name"].as_str().unwrap())
                        .to_string()
                })
                .collect();
            (p["version"].as_str().unwrap().to_string(), names)
        })
        .collect()
}

/// sslscan's "Accepted"/"Preferred" lines: `(protocol, OpenSSL suite name)`.
fn parse_sslscan(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() >= 5 && matches!(f[0], "Accepted" | "Preferred") {
            let proto = match f[1] {
                "TLSv1.0" => "TLSv1.0",
                "TLSv1.1" => "TLSv1.1",
                "TLSv1.2" => "TLSv1.2",
                "TLSv1.3" => "TLSv1.3",
                "SSLv3" => "SSLv3",
                _ => continue,
            };
            map.entry(proto.to_string())
                .or_default()
                .insert(f[4].to_string());
        }
    }
    map
}

/// TLS 1.0 to 1.3 and OpenSSL's whole suite list: legacy, weak and no-FS fire through
/// `authprobe tls` and through `authprobe scan`, and nothing else of the transport family;
/// the tls section lists what sslscan lists.
#[test]
fn permissive_nginx_fires_legacy_weak_and_no_fs() {
    if !tools_available(&["nginx", "openssl"]) {
        return;
    }
    let pki = Pki::new();
    pki.leaf("rsa", "rsa:2048", LOCAL_SANS, "2", "-sha256");
    pki.leaf("ec", "ec", LOCAL_SANS, "2", "-sha256");
    let ng = pki.nginx(&["rsa", "ec"], PERMISSIVE);
    let ca = pki.path("ca.crt");

    let r = tls_json(&ng, &["--sni", "localhost", "--server-ca", &ca]);
    assert_eq!(
        transport_ids(&r),
        set(&[
            "tls.legacy_protocol",
            "tls.weak_cipher",
            "tls.no_forward_secrecy"
        ]),
        "{:#}",
        r["findings"]
    );
    assert_eq!(r["requests_sent"], 0, "authprobe tls sends no HTTP request");
    let tls = &r["tls"];
    assert_eq!(tls["sni"], "localhost");
    assert_eq!(tls["certificate_problems"].as_array().unwrap().len(), 0);
    assert!(tls["handshakes"].as_u64().unwrap() > 0);
    let legacy = finding(&r, "tls.legacy_protocol");
    assert!(
        legacy["description"]
            .as_str()
            .unwrap()
            .contains("TLSv1.0, TLSv1.1")
    );
    assert!(
        legacy["evidence"]["curl"]
            .as_str()
            .unwrap()
            .starts_with("curl ")
    );
    let weak = finding(&r, "tls.weak_cipher");
    assert!(
        weak["evidence"]["excerpt"]
            .as_str()
            .unwrap()
            .contains("NULL-SHA")
    );
    let deviations = tls["mozilla_intermediate"]["deviations"]
        .as_array()
        .unwrap();
    assert_eq!(tls["mozilla_intermediate"]["compliant"], false);
    assert!(
        deviations
            .iter()
            .any(|d| d.as_str().unwrap().starts_with("offers TLSv1.0"))
    );

    // The same suites per protocol as sslscan lists for this server: a live sslscan run
    // when it is installed (CI installs it), else a run recorded with Debian 12's OpenSSL.
    let ours = suites_by_protocol(&r);
    let live = Command::new("sslscan")
        .args(["--no-colour", "--no-heartbleed", "--no-renegotiation"])
        .args([
            "--no-compression",
            "--no-fallback",
            "--no-check-certificate",
        ])
        .arg("--sni-name=localhost")
        .arg(ng.addr.to_string())
        .output();
    match live {
        Ok(out) if out.status.success() => {
            let live = parse_sslscan(&String::from_utf8_lossy(&out.stdout));
            assert_eq!(ours, live, "protocols and suites vs sslscan");
        }
        _ => {
            let recorded = parse_sslscan(include_str!("data/sslscan-permissive-nginx.txt"));
            assert_eq!(
                ours, recorded,
                "protocols and suites vs a recorded sslscan run"
            );
        }
    }

    // Through a full scan of the HTTPS URL the same three fire, and no other tls.* one.
    let url = format!("https://127.0.0.1:{}/", ng.addr.port());
    let out = run(&[
        "scan",
        &url,
        "--server-ca",
        &ca,
        "--http-url",
        "http://127.0.0.1:1/",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        transport_ids(&s),
        set(&[
            "tls.legacy_protocol",
            "tls.weak_cipher",
            "tls.no_forward_secrecy"
        ])
    );
    assert!(s["tls"]["handshakes"].as_u64().unwrap() > 0);
    assert!(
        s["checks_run"]
            .as_array()
            .unwrap()
            .contains(&"tls.cert_invalid".into())
    );
}

/// Mozilla intermediate: none of the transport checks fires, and the profile comparison
/// finds no deviation.
#[test]
fn intermediate_nginx_yields_no_transport_finding() {
    if !tools_available(&["nginx", "openssl"]) {
        return;
    }
    let pki = Pki::new();
    pki.leaf("rsa", "rsa:2048", LOCAL_SANS, "2", "-sha256");
    pki.leaf("ec", "ec", LOCAL_SANS, "2", "-sha256");
    let ng = pki.nginx(
        &["rsa", "ec"],
        "ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;\n    ssl_prefer_server_ciphers off;\n    ssl_ecdh_curve X25519:prime256v1:secp384r1;",
    );
    let ca = pki.path("ca.crt");
    let r = tls_json(&ng, &["--sni", "localhost", "--server-ca", &ca]);
    assert!(ids(&r).is_empty(), "{:#}", r["findings"]);
    assert_eq!(r["grade"], "A");
    assert_eq!(
        r["tls"]["mozilla_intermediate"]["compliant"], true,
        "{:#}",
        r["tls"]["mozilla_intermediate"]
    );
    let run_ids: Vec<&str> = r["checks_run"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(run_ids, TRANSPORT);

    // Pretty output names the protocols and the verdict; a gate on low passes.
    let target = ng.addr.to_string();
    let out = run(&[
        "tls",
        &target,
        "--sni",
        "localhost",
        "--server-ca",
        &ca,
        "--fail-on",
        "low",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("TLSv1.2  accepted"), "{text}");
    assert!(text.contains("TLSv1.0  refused"), "{text}");
    assert!(text.contains("ECDHE-ECDSA-AES128-GCM-SHA256"), "{text}");
    assert!(text.contains("intermediate: compliant"), "{text}");
}

/// TLS 1.3 only: the chain comes from a rustls handshake (the Certificate message is
/// encrypted), and no transport check fires (no TLS 1.2 is a profile deviation only).
#[test]
fn tls13_only_nginx_gets_its_chain_from_a_real_handshake() {
    if !tools_available(&["nginx", "openssl"]) {
        return;
    }
    let pki = Pki::new();
    pki.leaf("ec", "ec", LOCAL_SANS, "2", "-sha256");
    let ng = pki.nginx(&["ec"], "ssl_protocols TLSv1.3;");
    let r = tls_json(&ng, &["--server-ca", &pki.path("ca.crt")]);
    assert!(transport_ids(&r).is_empty(), "{:#}", r["findings"]);
    assert!(
        r["tls"]["chain_source"]
            .as_str()
            .unwrap()
            .contains("TLS 1.3 handshake")
    );
    assert_eq!(r["tls"]["certificate_chain"][0]["key"]["type"], "EC");
    assert!(
        r["tls"]["mozilla_intermediate"]["deviations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "does not offer TLSv1.2")
    );
}

fn cert_case(pki: &Pki, cert: &str, extra: &[&str]) -> Value {
    let ng = pki.nginx(
        &[cert],
        "ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_ciphers ECDHE+AESGCM:@SECLEVEL=0;",
    );
    let mut args = vec!["--server-ca".to_string(), pki.path("ca.crt")];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tls_json(&ng, &args)
}

fn problems(report: &Value) -> Vec<String> {
    report["tls"]["certificate_problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

/// Self-signed, expired, wrong host and untrusted chains: tls.cert_invalid fires alone
/// and names the problem.
#[test]
fn invalid_certificates_are_named() {
    if !tools_available(&["nginx", "openssl"]) {
        return;
    }
    let pki = Pki::new();
    pki.self_signed("selfsigned");
    pki.leaf("expired", "ec", LOCAL_SANS, "-1", "-sha256");
    pki.leaf("wronghost", "ec", "DNS:api.other.test", "2", "-sha256");
    pki.leaf("good", "ec", LOCAL_SANS, "2", "-sha256");

    for (cert, extra, label) in [
        ("selfsigned", &[][..], "self-signed"),
        ("expired", &[][..], "expired"),
        ("wronghost", &["--sni", "localhost"][..], "wrong host"),
    ] {
        let r = cert_case(&pki, cert, extra);
        assert_eq!(
            transport_ids(&r),
            set(&["tls.cert_invalid"]),
            "{cert}: {:#}",
            r["findings"]
        );
        let p = problems(&r);
        assert_eq!(p.len(), 1, "{cert}: {p:?}");
        assert!(p[0].starts_with(label), "{cert}: {p:?}");
        let f = finding(&r, "tls.cert_invalid");
        assert!(f["description"].as_str().unwrap().contains(label));
        assert!(f["evidence"]["curl"].as_str().unwrap().contains("--cacert"));
    }

    // A good certificate judged against the system store (no --server-ca): untrusted.
    let ng = pki.nginx(&["good"], "ssl_protocols TLSv1.2 TLSv1.3;");
    let r = tls_json(&ng, &[]);
    assert_eq!(transport_ids(&r), set(&["tls.cert_invalid"]));
    let p = problems(&r);
    assert!(
        p.len() == 1 && p[0].starts_with("untrusted") && p[0].contains("system trust store"),
        "{p:?}"
    );

    // `authprobe scan --insecure` reaches the self-signed server over HTTP, but the
    // transport check still judges its certificate.
    let ng = pki.nginx(&["selfsigned"], "ssl_protocols TLSv1.2 TLSv1.3;");
    let url = format!("https://127.0.0.1:{}/", ng.addr.port());
    let out = run(&[
        "scan",
        &url,
        "--insecure",
        "--http-url",
        "http://127.0.0.1:1/",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(transport_ids(&s), set(&["tls.cert_invalid"]));
    assert!(problems(&s)[0].starts_with("self-signed"));
}

/// RSA-1024 and a SHA-1 signature: tls.cert_weak_key names each. webpki refuses SHA-1
/// signatures, so that chain is also invalid, as it is for browsers.
#[test]
fn weak_certificate_keys_and_signatures_are_named() {
    if !tools_available(&["nginx", "openssl"]) {
        return;
    }
    let pki = Pki::new();
    pki.leaf("rsa1024", "rsa:1024", LOCAL_SANS, "2", "-sha256");
    pki.leaf("sha1", "ec", LOCAL_SANS, "2", "-sha1");

    let r = cert_case(&pki, "rsa1024", &["--sni", "localhost"]);
    assert_eq!(
        transport_ids(&r),
        set(&["tls.cert_weak_key"]),
        "{:#}",
        r["findings"]
    );
    let f = finding(&r, "tls.cert_weak_key");
    assert!(
        f["description"].as_str().unwrap().contains("RSA-1024 key"),
        "{}",
        f["description"]
    );
    assert!(
        r["tls"]["mozilla_intermediate"]["deviations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d.as_str().unwrap().contains("RSA-1024"))
    );

    let r = cert_case(&pki, "sha1", &[]);
    assert_eq!(
        transport_ids(&r),
        set(&["tls.cert_invalid", "tls.cert_weak_key"]),
        "{:#}",
        r["findings"]
    );
    let f = finding(&r, "tls.cert_weak_key");
    assert!(
        f["description"]
            .as_str()
            .unwrap()
            .contains("ecdsa-with-SHA1 signature"),
        "{}",
        f["description"]
    );
}

#[test]
fn tls_command_errors_are_one_line() {
    let out = run(&["tls", "127.0.0.1:1", "--timeout", "2"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("127.0.0.1:1"), "{err}");
    let out = run(&["tls", "host:notaport"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a port number"));
}
