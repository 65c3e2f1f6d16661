//! A throwaway nginx on 127.0.0.1 for integration tests: own config, certs
//! and logs in a temp dir; killed when the guard drops.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether the tools are present. When they are not, tests print a skip
/// message, except under CI (env `CI` set), where a missing nginx must fail
/// loudly instead of passing vacuously.
pub fn tools_available(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            // `nginx -v` and `openssl version` both just print a version.
            let arg = if *t == "openssl" { "version" } else { "-v" };
            Command::new(t)
                .arg(arg)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| !s.success())
                .unwrap_or(true)
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{missing:?} not installed but CI is set: install nginx and openssl");
    }
    eprintln!("SKIP: {missing:?} not installed (apt-get install -y nginx openssl)");
    false
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn openssl(dir: &Path, args: &[&str]) {
    run(Command::new("openssl").current_dir(dir).args(args));
}

/// Self-signed RSA and ECDSA server certificates, FFDHE-2048 parameters and a
/// client CA bundle with two CAs.
pub fn make_material(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "rsa.key",
            "-out",
            "rsa.crt",
            "-subj",
            "/CN=localhost",
            "-days",
            "2",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ec.key",
            "-out",
            "ec.crt",
            "-subj",
            "/CN=localhost",
            "-days",
            "2",
        ],
    );
    openssl(
        dir,
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
    for (name, subj) in [
        ("ca1", "/C=DE/O=Authprobe Test/CN=Authprobe Test Client CA"),
        ("ca2", "/CN=Second Client CA"),
    ] {
        openssl(
            dir,
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
                subj,
                "-days",
                "2",
            ],
        );
    }
    let bundle = [
        std::fs::read_to_string(dir.join("ca1.crt")).unwrap(),
        std::fs::read_to_string(dir.join("ca2.crt")).unwrap(),
    ]
    .concat();
    std::fs::write(dir.join("client-ca.pem"), bundle).unwrap();
}

pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx with `ssl_directives` inside the server block.
    pub fn start(ssl_directives: &str) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        make_material(dir.path());
        let p = dir.path().display();
        let directives = format!(
            "ssl_certificate {p}/rsa.crt;\n    ssl_certificate_key {p}/rsa.key;\n\
             ssl_certificate {p}/ec.crt;\n    ssl_certificate_key {p}/ec.key;\n\
             ssl_dhparam {p}/dh.pem;\n    {ssl_directives}"
        );
        Self::start_in(dir, &directives)
    }

    /// Starts nginx in `dir`, where the caller put its own certificates, with
    /// `server_directives` (certificates included) inside the server block.
    pub fn start_in(dir: tempfile::TempDir, server_directives: &str) -> Nginx {
        let d = dir.path();
        // Ask the kernel for a free port, then hand it to nginx. Another
        // process could grab it in between; the wait below would then fail
        // with a clear message rather than hang.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let p = d.display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\n\
             error_log {p}/error.log info;\npid {p}/nginx.pid;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n  access_log off;\n\
               client_body_temp_path {p}/tmp;\n  proxy_temp_path {p}/tmp;\n\
               fastcgi_temp_path {p}/tmp;\n  uwsgi_temp_path {p}/tmp;\n  scgi_temp_path {p}/tmp;\n\
               server {{\n    listen 127.0.0.1:{port} ssl;\n    server_name localhost;\n\
                 {server_directives}\n\
                 location / {{ return 200 \"ok\\n\"; }}\n  }}\n}}\n"
        );
        std::fs::write(d.join("nginx.conf"), conf).unwrap();
        std::fs::create_dir_all(d.join("tmp")).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(d)
            .arg("-c")
            .arg(d.join("nginx.conf"))
            .arg("-e")
            .arg(d.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nginx");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut ng = Nginx { child, addr, dir };
        ng.wait_ready();
        ng
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("nginx exited early ({status}):\n{}", self.log());
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nginx not listening:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line of `openssl ciphers -V`.
#[derive(Debug, Clone)]
pub struct OpensslSuite {
    pub code: u16,
    pub name: String,
    /// "SSLv3", "TLSv1", "TLSv1.2" or "TLSv1.3".
    pub min_version: String,
    pub kx: String,
    pub au: String,
}

/// What OpenSSL on this machine enables for `cipher_string`.
pub fn openssl_ciphers(cipher_string: &str) -> BTreeMap<u16, OpensslSuite> {
    let out = Command::new("openssl")
        .args(["ciphers", "-V", cipher_string])
        .output()
        .expect("openssl ciphers");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut map = BTreeMap::new();
    for line in text.lines() {
        // "0xC0,0x2C - ECDHE-ECDSA-AES256-GCM-SHA384 TLSv1.2 Kx=ECDH Au=ECDSA Enc=... Mac=AEAD"
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || f[1] != "-" {
            continue;
        }
        let (hi, lo) = f[0].split_once(',').unwrap();
        let byte = |s: &str| u8::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
        let code = u16::from_be_bytes([byte(hi), byte(lo)]);
        map.insert(
            code,
            OpensslSuite {
                code,
                name: f[2].to_string(),
                min_version: f[3].to_string(),
                kx: f[4].trim_start_matches("Kx=").to_string(),
                au: f[5].trim_start_matches("Au=").to_string(),
            },
        );
    }
    map
}
