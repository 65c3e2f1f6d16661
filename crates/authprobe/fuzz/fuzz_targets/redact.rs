#![no_main]
//! The redactor of server-issued secrets runs over every response excerpt a peer sends:
//! no panic, and no JWT-shaped run survives it.

use authprobe::report::redact::server_secrets;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let out = server_secrets(&text);
    // Redacting twice changes nothing more: placeholders are not secrets.
    assert_eq!(server_secrets(&out), out);
});
