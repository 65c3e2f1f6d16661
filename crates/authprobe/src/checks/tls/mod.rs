pub mod cert_invalid;
pub mod cert_weak_key;
pub mod forwarded_proto_trusted;
pub mod hsts_missing;
pub mod insecure_cookie;
pub mod legacy_protocol;
pub mod no_forward_secrecy;
pub mod no_tls13;
pub mod plaintext_http;
pub mod weak_cipher;

/// The family's checks, in catalog order.
pub fn checks() -> Vec<Box<dyn crate::check::Check>> {
    vec![
        Box::new(legacy_protocol::LegacyProtocol),
        Box::new(weak_cipher::WeakCipher),
        Box::new(no_forward_secrecy::NoForwardSecrecy),
        Box::new(no_tls13::NoTls13),
        Box::new(cert_invalid::CertInvalid),
        Box::new(cert_weak_key::CertWeakKey),
        Box::new(plaintext_http::PlaintextHttp),
        Box::new(hsts_missing::HstsMissing),
        Box::new(forwarded_proto_trusted::ForwardedProtoTrusted),
        Box::new(insecure_cookie::InsecureCookie),
    ]
}

use crate::check::{CheckMeta, Outcome};
use crate::facts::tls::{TlsFacts, chain_text};
use crate::scan::Scan;

/// A transport check's verdict from the shared facts alone, so `authprobe tls` can run
/// it without an HTTP scan around it.
pub type Evaluate = fn(&TlsFacts) -> Outcome;

/// The checks that read only the TLS facts, in catalog order.
pub fn transport_checks() -> Vec<(&'static CheckMeta, Evaluate)> {
    vec![
        (&legacy_protocol::META, legacy_protocol::evaluate),
        (&weak_cipher::META, weak_cipher::evaluate),
        (&no_forward_secrecy::META, no_forward_secrecy::evaluate),
        (&no_tls13::META, no_tls13::evaluate),
        (&cert_invalid::META, cert_invalid::evaluate),
        (&cert_weak_key::META, cert_weak_key::evaluate),
    ]
}

/// Runs `eval` on the scan's TLS facts, gathering them first if no check has yet.
async fn on_facts(ctx: &Scan, eval: Evaluate) -> Outcome {
    match crate::facts::tls::for_scan(ctx).await {
        Ok(f) => eval(&f),
        // Deliberately not run, so skipped: an inconclusive check would fail
        // --fail-on-inconclusive for a choice the user made.
        Err(e) if ctx.opts().proxy.is_some() => Outcome::NotApplicable(e),
        Err(e) => Outcome::Inconclusive(e),
    }
}

/// The evidence line every prober-based finding starts with.
fn probe_request(f: &TlsFacts) -> String {
    format!(
        "{} ClientHellos from authprobe's TLS prober to {} ({}), one connection each, offering each protocol's suites by elimination; no handshake completed",
        f.scan.handshakes,
        f.target.display(),
        match &f.target.sni {
            Some(n) => format!("SNI {n}"),
            None => "no SNI".to_string(),
        }
    )
}

/// curl options pinning one protocol version (curl has no SSLv3 switch: `--sslv3` is gone).
fn curl_version(v: authprobe_tls::TlsVersion) -> &'static str {
    use authprobe_tls::TlsVersion as V;
    match v {
        V::Ssl3 => "--sslv3",
        V::Tls10 => "--tlsv1.0 --tls-max 1.0",
        V::Tls11 => "--tlsv1.1 --tls-max 1.1",
        V::Tls12 => "--tlsv1.2 --tls-max 1.2",
        V::Tls13 => "--tlsv1.3",
    }
}

/// A curl line that connects the way the prober did (same address, same SNI) with `opts`.
fn curl(f: &TlsFacts, opts: &str) -> String {
    let t = &f.target;
    let mut s = "curl -sS -o /dev/null".to_string();
    if !opts.is_empty() {
        s.push(' ');
        s.push_str(opts);
    }
    let url_host = match &t.sni {
        Some(name) if *name != t.host => {
            let ip = f.scan.target.ip();
            let ip = if ip.is_ipv6() {
                format!("[{ip}]")
            } else {
                ip.to_string()
            };
            s.push_str(&format!(" --resolve '{name}:{}:{ip}'", t.port));
            name.clone()
        }
        _ if t.host.contains(':') => format!("[{}]", t.host),
        _ => t.host.clone(),
    };
    s.push_str(&format!(" 'https://{url_host}:{}/'", t.port));
    s
}

/// Remediation entries shared by the protocol and suite checks: where each stack sets them.
const PROTOCOL_FIX: &[(&str, &str)] = &[
    ("nginx", "ssl_protocols TLSv1.2 TLSv1.3;"),
    (
        "haproxy",
        "In global: ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets",
    ),
    (
        "envoy",
        "DownstreamTlsContext common_tls_context.tls_params: { tls_minimum_protocol_version: TLSv1_2, tls_maximum_protocol_version: TLSv1_3 }",
    ),
    (
        "go",
        "&tls.Config{MinVersion: tls.VersionTLS12} and leave MaxVersion unset (TLS 1.3).",
    ),
    ("spring", "server.ssl.enabled-protocols=TLSv1.2,TLSv1.3"),
    (
        "express",
        "https.createServer({ minVersion: 'TLSv1.2', key, cert }, app) and no maxVersion; or set it on the proxy in front.",
    ),
    (
        "django",
        "Django does not terminate TLS: set the protocols on the proxy or server in front of it (nginx, HAProxy, Envoy).",
    ),
];

const SUITE_FIX: &[(&str, &str)] = &[
    (
        "nginx",
        "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305; ssl_prefer_server_ciphers off;",
    ),
    (
        "haproxy",
        "In global: ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305",
    ),
    (
        "envoy",
        "common_tls_context.tls_params.cipher_suites: [ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256, ECDHE-ECDSA-AES256-GCM-SHA384, ECDHE-RSA-AES256-GCM-SHA384, ECDHE-ECDSA-CHACHA20-POLY1305, ECDHE-RSA-CHACHA20-POLY1305]",
    ),
    (
        "go",
        "Leave tls.Config.CipherSuites unset (Go's defaults are ECDHE with AEAD), or list only tls.TLS_ECDHE_*_GCM_* and *_CHACHA20_POLY1305 suites.",
    ),
    (
        "spring",
        "server.ssl.ciphers=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "express",
        "https.createServer({ ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305', key, cert }, app)",
    ),
    (
        "django",
        "Django does not terminate TLS: set the suites on the proxy or server in front of it (nginx, HAProxy, Envoy).",
    ),
];

/// The suites matching `pred`, per accepted protocol: the excerpt of a suite finding, the
/// number of distinct suites, and a curl line offering one of them.
fn suites_where(
    f: &TlsFacts,
    pred: impl Fn(&authprobe_tls::report::SuiteReport) -> bool,
) -> Option<(String, usize, String)> {
    let mut lines = Vec::new();
    let mut distinct = std::collections::BTreeSet::new();
    let mut example = None;
    for p in f.scan.protocols.iter().filter(|p| p.accepted).rev() {
        let hits: Vec<_> = p.suites.iter().filter(|s| pred(s)).collect();
        if hits.is_empty() {
            continue;
        }
        if example.is_none() {
            example = hits
                .iter()
                .find_map(|s| s.openssl_name.as_deref())
                .map(|n| (p.version, n.to_string()));
        }
        distinct.extend(hits.iter().map(|s| s.code));
        lines.push(format!(
            "{}: {}",
            p.version,
            hits.iter()
                .map(|s| s.openssl_name.as_deref().unwrap_or(&s.name))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if distinct.is_empty() {
        return None;
    }
    let command = match example {
        Some((v, name)) => curl(
            f,
            &format!("-k {} --ciphers '{name}:@SECLEVEL=0'", curl_version(v)),
        ),
        None => curl(f, "-k"),
    };
    Some((lines.join("\n"), distinct.len(), command))
}

/// A short text of the chain for evidence excerpts.
fn chain_excerpt(f: &TlsFacts) -> String {
    format!(
        "chain from {} ({} certificates):\n{}",
        f.chain_source,
        f.certs.len(),
        chain_text(&f.certs, "")
    )
    .trim_end()
    .to_string()
}

fn chain_request(f: &TlsFacts) -> String {
    format!(
        "TLS handshake to {} ({}); certificate chain read from {}",
        f.target.display(),
        match &f.target.sni {
            Some(n) => format!("SNI {n}"),
            None => "no SNI".to_string(),
        },
        f.chain_source
    )
}

const CERT_FIX: &[(&str, &str)] = &[
    (
        "nginx",
        "ssl_certificate /etc/ssl/site/fullchain.pem; (leaf then intermediates) and ssl_certificate_key for it; renew automatically (certbot, acme.sh) well before notAfter.",
    ),
    (
        "haproxy",
        "bind :443 ssl crt /etc/haproxy/certs/site.pem, the PEM holding the key, the leaf and the intermediates; reload on renewal.",
    ),
    (
        "envoy",
        "tls_certificates.certificate_chain with the leaf and intermediates, delivered by SDS so renewals apply without restarts.",
    ),
    (
        "go",
        "tls.LoadX509KeyPair(\"fullchain.pem\", \"key.pem\"), or golang.org/x/crypto/acme/autocert for automatic issuance and renewal.",
    ),
    (
        "spring",
        "spring.ssl.bundle.pem.server.keystore.certificate=fullchain.pem (leaf and intermediates) with server.ssl.bundle=server.",
    ),
    (
        "express",
        "https.createServer({ cert: fs.readFileSync('fullchain.pem'), key: fs.readFileSync('key.pem') }, app)",
    ),
    (
        "django",
        "The proxy in front of Django presents the certificate: fix it there (nginx, HAProxy, Envoy).",
    ),
];

#[cfg(test)]
mod tests {
    /// The list is kept by hand beside the registry: it must name registered checks, in
    /// the registry's order, or `authprobe tls` and a scan would disagree.
    #[test]
    fn transport_checks_are_registered_in_catalog_order() {
        let listed: Vec<&str> = super::transport_checks()
            .iter()
            .map(|(m, _)| m.id)
            .collect();
        let registered: Vec<&str> = crate::checks::registry()
            .iter()
            .map(|c| c.meta().id)
            .filter(|id| listed.contains(id))
            .collect();
        assert_eq!(registered, listed);
    }
}
