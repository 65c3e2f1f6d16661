//! Client identities in every format OpenSSL writes: keys and certificates are made with
//! the `openssl` command at test time (skipped, with a note, when it is not on PATH), then
//! loaded with the library loader; a few errors also go through the binary for the exit
//! code and the one-line rule.

use authprobe::load::{LoadError, load_identity, load_identity_with};
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_authprobe");
const PASS: &str = "Tr0ub4dor&3";

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("note: openssl is not on PATH; skipping the OpenSSL-made key tests");
    }
    ok
}

/// Runs `openssl` in `dir` with `cmd` split on whitespace (file names here have none).
fn openssl(dir: &Path, cmd: &str) {
    let args: Vec<&str> = cmd.split_whitespace().collect();
    let out = Command::new("openssl")
        .args(&args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, and for `name` (ec or rsa) a key (PKCS#8) and a leaf certificate it issued, plus
/// every other encoding of that key and PKCS#12 bundles of both.
fn make(dir: &Path, name: &str) {
    let run = |cmd: &str| openssl(dir, &cmd.replace("NAME", name).replace("PASS", PASS));
    if !dir.join("ca.crt").exists() {
        run(
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
             -out ca.crt -days 2 -subj /CN=testCA",
        );
    }
    let keygen = if name == "rsa" {
        "-algorithm RSA -pkeyopt rsa_keygen_bits:2048"
    } else {
        "-algorithm EC -pkeyopt ec_paramgen_curve:P-256"
    };
    run(&format!("genpkey {keygen} -out NAME.p8.pem"));
    run("req -new -key NAME.p8.pem -out NAME.csr -subj /CN=NAME-client");
    // Extensions make it X.509 v3: OpenSSL 3.0's `x509 -req` writes v1 without them, which
    // rustls refuses to present (see the v1 check below).
    std::fs::write(dir.join("ext.cnf"), "basicConstraints=CA:FALSE\n").unwrap();
    run(
        "x509 -req -in NAME.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
         -extfile ext.cnf -out NAME.crt",
    );
    // The traditional encodings: PKCS#1 for RSA, SEC1 for EC.
    let (cmd, label) = if name == "rsa" {
        ("rsa -traditional", "-----BEGIN RSA PRIVATE KEY-----")
    } else {
        ("ec", "-----BEGIN EC PRIVATE KEY-----")
    };
    run(&format!("{cmd} -in NAME.p8.pem -out NAME.trad.pem"));
    let text = std::fs::read_to_string(dir.join(format!("{name}.trad.pem"))).unwrap();
    assert!(text.starts_with(label), "{text}");
    run("pkcs8 -topk8 -v2 aes-256-cbc -in NAME.p8.pem -out NAME.enc.pem -passout pass:PASS");
    run("pkcs8 -topk8 -scrypt -in NAME.p8.pem -out NAME.scrypt.pem -passout pass:PASS");
    run(&format!(
        "genpkey {keygen} -aes256 -pass pass:PASS -out NAME.genpkey-aes.pem"
    ));
    let p12 = "pkcs12 -export -in NAME.crt -inkey NAME.p8.pem -certfile ca.crt";
    run(&format!("{p12} -out NAME.p12 -passout pass:PASS"));
    run(&format!(
        "{p12} -legacy -out NAME.legacy.p12 -passout pass:PASS"
    ));
    run("pkcs12 -export -in NAME.crt -inkey NAME.p8.pem -out NAME.nopass.pfx -passout pass:");
}

fn pem_der(path: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

/// One line, names `file`, never shows the passphrase.
fn check_error(e: LoadError, file: &Path, says: &str) {
    let e = format!("{:#}", anyhow::Error::from(e));
    assert!(!e.contains('\n'), "{e}");
    assert!(!e.contains(PASS) && !e.contains("not-the-pass"), "{e}");
    assert!(e.contains(&file.display().to_string()), "{e}");
    assert!(e.contains(says), "{e}");
}

#[test]
fn openssl_keys_of_every_encoding_load() {
    if !have_openssl() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let p = |s: &str| dir.join(s);
    for name in ["ec", "rsa"] {
        make(dir, name);
        let f = |s: &str| p(&s.replace("NAME", name));
        let leaf = pem_der(&f("NAME.crt"));
        let ca = pem_der(&p("ca.crt"));
        let crt = f("NAME.crt");
        for plain in ["NAME.p8.pem", "NAME.trad.pem"] {
            let id = load_identity(&crt, &f(plain)).unwrap_or_else(|e| panic!("{plain}: {e:#}"));
            assert_eq!(id.chain[0].as_ref(), leaf.as_slice());
        }
        for enc in ["NAME.enc.pem", "NAME.scrypt.pem"] {
            load_identity_with(&crt, Some(&f(enc)), Some(PASS))
                .unwrap_or_else(|e| panic!("{name} {enc}: {e:#}"));
            let e = load_identity_with(&crt, Some(&f(enc)), Some("not-the-pass")).unwrap_err();
            check_error(e, &f(enc), "wrong passphrase");
            let e = load_identity_with(&crt, Some(&f(enc)), None).unwrap_err();
            check_error(e, &f(enc), "--client-key-pass");
        }
        // `openssl genpkey -aes256` writes its own key: it must decrypt, then fail to match
        // the certificate (another key), naming both files.
        let e = load_identity_with(&crt, Some(&f("NAME.genpkey-aes.pem")), Some(PASS)).unwrap_err();
        check_error(e, &f("NAME.genpkey-aes.pem"), "cannot be used together");
        // A passphrase for a key that has none.
        let e = load_identity_with(&crt, Some(&f("NAME.p8.pem")), Some(PASS)).unwrap_err();
        check_error(e, &f("NAME.p8.pem"), "not encrypted");
        // PKCS#12, current default (AES-256-CBC, PBKDF2) and -legacy (3DES, RC2): the leaf
        // first, then the CA from -certfile.
        for p12 in ["NAME.p12", "NAME.legacy.p12"] {
            let id = load_identity_with(&f(p12), None, Some(PASS))
                .unwrap_or_else(|e| panic!("{p12}: {e:#}"));
            assert_eq!(id.chain.len(), 2, "{p12}");
            assert_eq!(id.chain[0].as_ref(), leaf.as_slice(), "{p12}");
            assert_eq!(id.chain[1].as_ref(), ca.as_slice(), "{p12}");
            let e = load_identity_with(&f(p12), None, Some("not-the-pass")).unwrap_err();
            check_error(e, &f(p12), "wrong password");
            let e = load_identity_with(&f(p12), None, None).unwrap_err();
            check_error(e, &f(p12), "--client-key-pass");
        }
        load_identity_with(&f("NAME.nopass.pfx"), None, None).unwrap();
    }
    // An X.509 v1 certificate (no extensions): rustls cannot present it; say so.
    openssl(
        dir,
        "x509 -req -in ec.csr -CA ca.crt -CAkey ca.key -days 2 -out v1.crt",
    );
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(p("v1.crt"))
        .output()
        .unwrap();
    if String::from_utf8_lossy(&text.stdout).contains("Version: 1 ") {
        let e = load_identity(&p("v1.crt"), &p("ec.p8.pem")).unwrap_err();
        check_error(e, &p("v1.crt"), "X.509 v1");
    }
    // A key that is not the certificate's.
    let e = load_identity(&p("ec.crt"), &p("rsa.p8.pem")).unwrap_err();
    check_error(e, &p("rsa.p8.pem"), "cannot be used together");
}

fn scan_error(args: &[&str], env_pass: Option<&str>) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(["scan", "https://127.0.0.1:1/"]).args(args);
    cmd.env_remove("AUTHPROBE_CLIENT_KEY_PASS");
    if let Some(p) = env_pass {
        cmd.env("AUTHPROBE_CLIENT_KEY_PASS", p);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        !err.contains(PASS) && !err.contains("not-the-pass"),
        "{err}"
    );
    err
}

#[test]
fn scan_cli_certificate_options() {
    if !have_openssl() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    make(dir, "ec");
    let s = |n: &str| -> String { dir.join(n).to_str().unwrap().to_string() };
    let (crt, key, enc, p12) = (s("ec.crt"), s("ec.p8.pem"), s("ec.enc.pem"), s("ec.p12"));
    // The identities load, so the scan gets as far as the (closed) port.
    let e = scan_error(&["--client-cert", &crt, "--client-key", &enc], Some(PASS));
    assert!(e.contains("cannot reach"), "{e}");
    let e = scan_error(
        &[
            "--client-cert",
            &p12,
            "--client-cert2",
            &crt,
            "--client-key2",
            &key,
            "--revoked-cert",
            &crt,
            "--revoked-key",
            &enc,
            "--client-key-pass",
            PASS,
        ],
        None,
    );
    assert!(e.contains("cannot reach"), "{e}");
    // Errors name the file and stay on one line.
    let e = scan_error(&["--client-cert", &crt, "--client-key", &enc], None);
    assert!(e.contains(&enc) && e.contains("encrypted"), "{e}");
    let e = scan_error(&["--client-cert", &p12], Some("not-the-pass"));
    assert!(e.contains(&p12) && e.contains("wrong password"), "{e}");
    let e = scan_error(
        &["--revoked-cert", &crt, "--revoked-key", &enc],
        Some("not-the-pass"),
    );
    assert!(e.contains(&enc) && e.contains("wrong passphrase"), "{e}");
    let e = scan_error(&["--client-cert", &crt, "--client-key", &key], Some(PASS));
    assert!(e.contains(&key) && e.contains("not encrypted"), "{e}");
    // A key option without its certificate is a usage error.
    let out = Command::new(BIN)
        .args(["scan", "https://127.0.0.1:1/", "--client-key2", &key])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
