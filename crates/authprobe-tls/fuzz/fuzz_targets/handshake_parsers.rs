//! Every handshake-body parser on the same input.
#![no_main]

use authprobe_tls::TlsVersion;
use authprobe_tls::msgs::handshake::{
    Alert, CertificateRequest, ServerKeyExchange, distinguished_name_text, parse_certificate_chain,
};
use authprobe_tls::msgs::hello::ServerHello;
use authprobe_tls::suites::KeyExchange;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sh) = ServerHello::parse(data) {
        let _ = sh.negotiated_version();
        let _ = sh.downgrade_sentinel();
    }
    let _ = Alert::parse(data);
    let _ = parse_certificate_chain(data);
    for v in TlsVersion::ALL {
        if let Ok(cr) = CertificateRequest::parse(data, v) {
            for dn in &cr.ca_names {
                let _ = distinguished_name_text(dn);
            }
        }
    }
    for kx in [KeyExchange::Dhe, KeyExchange::Ecdhe, KeyExchange::Rsa] {
        let _ = ServerKeyExchange::parse(data, kx);
    }
    let _ = distinguished_name_text(data);
});
