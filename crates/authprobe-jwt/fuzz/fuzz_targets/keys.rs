#![no_main]
//! Key loading from user files (`--jwt-key`, `--jwt-public-key`) and from the peer (a JWKS,
//! an `x5c` certificate): PEM, DER, JWK and JWKS readers on arbitrary bytes. None may panic;
//! whatever parses must re-encode and parse back to the same key.

use authprobe_jwt::{Jwk, Jwks, PrivateKey, PublicKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(k) = PrivateKey::from_pem(&text) {
        let _ = k.kind();
        let _ = k.default_alg();
        if let Ok(pem) = k.to_pkcs8_pem() {
            let again = PrivateKey::from_pem(&pem).expect("own PKCS#8 PEM parses");
            assert_eq!(again.kind(), k.kind());
        }
    }
    let _ = PrivateKey::from_der(data);
    let _ = PrivateKey::from_jwk(&text);
    for k in [
        PublicKey::from_pem(&text).ok(),
        PublicKey::from_der(data).ok(),
        PublicKey::from_jwk(&text).ok(),
        PublicKey::from_certificate_der(data).ok(),
    ]
    .into_iter()
    .flatten()
    {
        let _ = k.kind();
        let _ = k.to_jwk();
        if let Ok(der) = k.to_spki_der() {
            let again = PublicKey::from_der(&der).expect("own SPKI parses");
            assert_eq!(again.to_spki_der().ok(), Some(der));
        }
        let _ = k.to_pkcs1_pem();
    }
    if let Ok(jwk) = Jwk::parse(&text) {
        let _ = jwk.public_key();
    }
    if let Ok(set) = Jwks::parse(&text) {
        let _ = set.by_kid("a");
    }
});
