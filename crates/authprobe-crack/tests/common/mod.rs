#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};

/// Signs a token with the `hmac` crate, independent of the code under test.
pub fn mint(alg: &str, key: &[u8], claims: &str) -> String {
    let si = format!(
        "{}.{}",
        B64.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#)),
        B64.encode(claims)
    );
    let mac = match alg {
        "HS256" => Hmac::<sha2::Sha256>::new_from_slice(key)
            .unwrap()
            .chain_update(&si)
            .finalize()
            .into_bytes()
            .to_vec(),
        "HS384" => Hmac::<sha2::Sha384>::new_from_slice(key)
            .unwrap()
            .chain_update(&si)
            .finalize()
            .into_bytes()
            .to_vec(),
        "HS512" => Hmac::<sha2::Sha512>::new_from_slice(key)
            .unwrap()
            .chain_update(&si)
            .finalize()
            .into_bytes()
            .to_vec(),
        other => panic!("mint: {other}"),
    };
    format!("{si}.{}", B64.encode(mac))
}

pub const CLAIMS: &str = r#"{"sub":"1234567890","name":"John Doe","iat":1516239022}"#;

/// A wordlist of decoys with `secret` somewhere in it, written to a temp file.
pub fn wordlist(
    dir: &tempfile::TempDir,
    name: &str,
    secret: &[u8],
    decoys: usize,
) -> std::path::PathBuf {
    let mut v = Vec::new();
    for i in 0..decoys {
        v.extend_from_slice(format!("decoy-{i}\n").as_bytes());
        if i == decoys / 2 {
            v.extend_from_slice(b"\r\n\n");
        }
    }
    v.extend_from_slice(secret);
    v.extend_from_slice(b"\r\nafter-the-secret\n");
    let p = dir.path().join(name);
    std::fs::write(&p, v).unwrap();
    p
}
