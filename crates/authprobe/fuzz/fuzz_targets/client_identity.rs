#![no_main]
//! The loaders behind `--client-cert/--client-key` (and `--client-cert2`, `--revoked-cert`,
//! `--server-ca`): PEM chains, PEM keys (PKCS#1, PKCS#8, encrypted PKCS#8, SEC1) and
//! PKCS#12 files, on arbitrary bytes. An error is fine; a panic is not.

use authprobe::load::identity_from_bytes;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // First byte picks the shape; the rest is split into a certificate and a key file.
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let cut = rest
        .windows(5)
        .position(|w| w == b"\n===\n")
        .unwrap_or(rest.len());
    let (cert, key) = rest.split_at(cut);
    let key = key.get(5..).unwrap_or(&[]);
    let pass = (mode & 1 == 1).then_some("fuzz");
    let key = (mode & 2 == 2).then_some((Path::new("key.pem"), key));
    let _ = identity_from_bytes(Path::new("cert.pem"), cert, key, pass);
});
