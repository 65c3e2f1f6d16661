//! Turning an exchange into evidence a reader can check and replay.

use crate::finding::Evidence;
use crate::http::{Exchange, Probe, TlsSettings};

const EXCERPT_BYTES: usize = 600;
const SHOWN_HEADERS: [&str; 6] = [
    "location",
    "www-authenticate",
    "strict-transport-security",
    "set-cookie",
    "content-type",
    "allow",
];

pub fn evidence(x: &Exchange, tls: &TlsSettings, reveal: bool) -> Evidence {
    let (status, excerpt) = match &x.result {
        Ok(a) => {
            let mut s = format!("HTTP {}\n", a.status);
            for (n, v) in &a.headers {
                if SHOWN_HEADERS.contains(&n.as_str()) {
                    let v = if n == "set-cookie" && !reveal {
                        redact_cookie(v)
                    } else {
                        v.clone()
                    };
                    s.push_str(&format!("{n}: {v}\n"));
                }
            }
            let body = a.body_text();
            if !body.is_empty() {
                s.push('\n');
                let mut cut = body.len().min(EXCERPT_BYTES);
                while !body.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.push_str(&body[..cut]);
                if cut < body.len() || a.truncated {
                    s.push_str("\n[…]");
                }
            }
            (Some(a.status), s)
        }
        Err(e) => (None, format!("no HTTP answer: {e}")),
    };
    Evidence {
        request: request_text(&x.probe, reveal),
        status,
        excerpt,
        curl: curl_line(&x.probe, tls, reveal),
    }
}

/// A cookie's value is a credential (a session id, a CSRF token): show its name and
/// attributes, which is what the checks reason about, and withhold the value.
fn redact_cookie(v: &str) -> String {
    let mut parts = v.splitn(2, ';');
    let pair = parts.next().unwrap_or("");
    let name = pair.split('=').next().unwrap_or("").trim();
    match parts.next() {
        Some(attrs) => format!("{name}=[REDACTED];{attrs}"),
        None => format!("{name}=[REDACTED]"),
    }
}

fn request_text(p: &Probe, reveal: bool) -> String {
    let path = match p.url.query() {
        Some(q) => format!("{}?{q}", p.url.path()),
        None => p.url.path().to_string(),
    };
    let mut s = format!("{} {} HTTP/1.1\n", p.method, path);
    let host = match p.url.port() {
        Some(port) => format!("{}:{port}", p.url.host_str().unwrap_or("")),
        None => p.url.host_str().unwrap_or("").to_string(),
    };
    s.push_str(&format!("Host: {host}\n"));
    for (n, v) in &p.headers {
        s.push_str(&format!("{n}: {}\n", v.display(reveal)));
    }
    match &p.identity {
        Some(id) => s.push_str(&format!(
            "[TLS client certificate: {}]",
            id.cert_path.display()
        )),
        None if p.url.scheme() == "https" => s.push_str("[no TLS client certificate]"),
        None => s.push_str("[plain HTTP]"),
    }
    if let Some(body) = &p.body {
        s.push_str(&format!(
            "\nContent-Type: {}\n\n{}",
            body.content_type,
            String::from_utf8_lossy(&body.bytes)
        ));
    }
    s
}

fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A `curl` command that sends the same request. Secrets appear as `${AUTHPROBE_…}`
/// variables unless `reveal`.
pub fn curl_line(p: &Probe, tls: &TlsSettings, reveal: bool) -> String {
    let mut parts = vec!["curl".to_string(), "-sS".to_string()];
    match p.method.as_str() {
        "HEAD" => parts.push("-I".into()),
        "GET" => parts.push("-i".into()),
        m => {
            parts.push("-i".into());
            parts.push("-X".into());
            parts.push(sq(m));
        }
    }
    if p.url.scheme() == "https" {
        parts.extend(
            tls.curl_args()
                .iter()
                .map(|a| if a.starts_with('-') { a.clone() } else { sq(a) }),
        );
        if let Some(id) = &p.identity {
            let cert = sq(&id.cert_path.display().to_string());
            // The passphrase is a secret: curl reads it from the same variable the
            // scanner does (--client-key-pass's environment form).
            const PASS: &str = "\"${AUTHPROBE_CLIENT_KEY_PASS}\"";
            match id.form {
                crate::http::KeyForm::Pkcs12 => {
                    parts.push("--cert-type P12 --cert".into());
                    parts.push(format!("{cert}:{PASS}"));
                }
                form => {
                    parts.push("--cert".into());
                    parts.push(cert);
                    parts.push("--key".into());
                    parts.push(sq(&id.key_path.display().to_string()));
                    if form == crate::http::KeyForm::EncryptedPem {
                        parts.push(format!("--pass {PASS}"));
                    }
                }
            }
        }
    }
    for (n, v) in &p.headers {
        if v.has_secret() && !reveal {
            parts.push(format!("-H \"{}: {}\"", n, v.shell_dq(false)));
        } else {
            parts.push(format!("-H {}", sq(&format!("{n}: {}", v.display(true)))));
        }
    }
    if let Some(body) = &p.body {
        parts.push(format!(
            "-H {}",
            sq(&format!("Content-Type: {}", body.content_type))
        ));
        parts.push(format!(
            "--data-binary {}",
            sq(&String::from_utf8_lossy(&body.bytes))
        ));
    }
    parts.push(sq(p.url.as_str()));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn cookie_values_are_withheld_attributes_kept() {
        assert_eq!(
            super::redact_cookie("sid=abc123; Path=/; Secure; HttpOnly"),
            "sid=[REDACTED]; Path=/; Secure; HttpOnly"
        );
        assert_eq!(super::redact_cookie("csrf=xyz"), "csrf=[REDACTED]");
    }

    #[test]
    fn curl_reads_pkcs12_and_encrypted_keys_with_the_passphrase_variable() {
        use crate::http::{ClientIdentity, KeyForm, Probe, TlsSettings};
        use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["client".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let id = |form| {
            let mut id = ClientIdentity::new(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
                std::path::Path::new("/c/me.p12"),
                std::path::Path::new("/c/me.key"),
            )
            .unwrap();
            id.form = form;
            std::sync::Arc::new(id)
        };
        let line = |form| {
            let p = Probe::new("GET", "https://api.test/x".parse().unwrap())
                .with_identity(Some(id(form)));
            super::curl_line(&p, &TlsSettings::default(), false)
        };
        let p12 = line(KeyForm::Pkcs12);
        assert!(
            p12.contains("--cert-type P12 --cert '/c/me.p12':\"${AUTHPROBE_CLIENT_KEY_PASS}\""),
            "{p12}"
        );
        assert!(!p12.contains("--key"));
        let enc = line(KeyForm::EncryptedPem);
        assert!(
            enc.contains("--key '/c/me.key' --pass \"${AUTHPROBE_CLIENT_KEY_PASS}\""),
            "{enc}"
        );
        assert!(!line(KeyForm::Pem).contains("--pass"));
    }
}
