use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::checks::mtls;
use crate::finding::{Confidence, Family, Severity};
use crate::http::{Exchange, Value};
use crate::oracle::{Class, Oracle, Sample, Verdict};
use crate::scan::Scan;
use base64::Engine as _;
use sha2::Digest;
use url::Url;

pub static META: CheckMeta = CheckMeta {
    id: "mtls.header_spoofing",
    title: "Forged client-certificate headers authenticate a request without a certificate",
    family: Family::Mtls,
    severity: Severity::Critical,
    cwe: &[290, 287],
    owasp: &["API2"],
    description: "Over connections without a client certificate, to the target and to the application's own address behind the proxy (--origin), sends the user's request with the user's public certificate in the headers TLS terminators set (X-SSL-Client-Cert, SSL_CLIENT_CERT, X-Client-Cert, X-ARR-ClientCert, Ssl-Client-Cert, X-Forwarded-Client-Cert, X-SSL-Client-S-DN/-DN with X-SSL-Client-Verify: SUCCESS), raw and URL-escaped, and compares each answer with the authorized one and with the same request without the headers.",
    needs: &[Need::Cert],
    explained_by: &[],
    remediation: Remediation {
        summary: "Certificates are public: a header carrying one proves nothing unless only the proxy can set it. Make the proxy overwrite (or delete) every client-certificate header on every request, and make the application reachable only by the proxy (bind to a private address, or require a proxy-to-app mTLS hop or shared secret).",
        frameworks: &[
            (
                "nginx",
                "proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert; (set, never appended: it replaces the client's); also set X-SSL-Client-Verify $ssl_client_verify; keep underscores_in_headers off; bind the upstream app to 127.0.0.1 or a private network.",
            ),
            (
                "haproxy",
                "http-request del-header X-SSL-Client-Cert (and the other variants) before http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64]; restrict the backend to the proxy's address.",
            ),
            (
                "envoy",
                "forward_client_cert_details: SANITIZE_SET (or SANITIZE), never APPEND_FORWARD or FORWARD_ONLY on the edge listener.",
            ),
            (
                "django",
                "Read the certificate header only when REMOTE_ADDR is the proxy (a middleware that deletes it otherwise), and only with SSL_CLIENT_VERIFY == SUCCESS.",
            ),
            (
                "express",
                "Do not read x-ssl-client-cert unless req.socket.remoteAddress is the proxy; prefer terminating mTLS in Node (req.socket.getPeerCertificate()) when there is no proxy.",
            ),
            (
                "spring",
                "With server.forward-headers-strategy or a custom filter reading certificate headers, restrict trusted proxies (RemoteIpValve internalProxies) and drop the headers from others.",
            ),
            (
                "go",
                "Read the header only in a handler mounted behind a listener bound to the proxy network, or check r.RemoteAddr against the proxy; otherwise use r.TLS.PeerCertificates.",
            ),
        ],
    },
    references: &[
        "https://nginx.org/en/docs/http/ngx_http_ssl_module.html#var_ssl_client_escaped_cert",
        "https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert",
    ],
    budget: crate::check::Budget::Fixed(40),
    lab_flaw: Some("mtls.header_spoofing"),
    finds: "over a connection without a certificate, the user's public certificate (or subject) in X-SSL-Client-Cert, SSL_CLIENT_CERT, X-Client-Cert, X-ARR-ClientCert, Ssl-Client-Cert, X-Forwarded-Client-Cert or X-SSL-Client-S-DN/-DN (+ X-SSL-Client-Verify: SUCCESS), raw and URL-escaped, turns the refused answer into the authorized one, at the target or at `--origin`",
    needs_note: "",
};

pub struct HeaderSpoofing;

fn pem_body(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// Everything but RFC 3986 unreserved characters: what nginx's `$ssl_client_escaped_cert`
/// and Envoy's XFCC `Cert=` escape.
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn escaped(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// The header sets to try, each a label and (name, value) pairs.
pub fn forged_headers(
    der: &[u8],
    subject: &str,
) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let pem = authprobe_jwt::keys::pem_encode("CERTIFICATE", der);
    // Apache's SSL_CLIENT_CERT and proxies that flatten PEM put spaces for newlines.
    let flat = pem.trim_end().replace('\n', " ");
    let esc = escaped(&pem);
    let hash = sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let verify = ("X-SSL-Client-Verify", "SUCCESS".to_string());
    vec![
        (
            "X-SSL-Client-Cert (URL-escaped PEM)",
            vec![("X-SSL-Client-Cert", esc.clone()), verify.clone()],
        ),
        (
            "X-SSL-Client-Cert (PEM)",
            vec![("X-SSL-Client-Cert", flat.clone()), verify.clone()],
        ),
        (
            "SSL_CLIENT_CERT (PEM)",
            vec![("SSL_CLIENT_CERT", flat.clone()), verify.clone()],
        ),
        (
            "SSL_CLIENT_CERT (URL-escaped PEM)",
            vec![("SSL_CLIENT_CERT", esc.clone()), verify.clone()],
        ),
        (
            "Ssl-Client-Cert (URL-escaped PEM)",
            vec![("Ssl-Client-Cert", esc.clone()), verify.clone()],
        ),
        (
            "X-Client-Cert (URL-escaped PEM)",
            vec![("X-Client-Cert", esc.clone()), verify.clone()],
        ),
        (
            "X-Client-Cert (PEM)",
            vec![("X-Client-Cert", flat), verify.clone()],
        ),
        (
            "X-ARR-ClientCert (base64 DER)",
            vec![("X-ARR-ClientCert", pem_body(der)), verify.clone()],
        ),
        (
            "X-Forwarded-Client-Cert (Envoy XFCC)",
            vec![(
                "X-Forwarded-Client-Cert",
                format!(
                    "Hash={hash};Cert=\"{esc}\";Subject=\"{}\"",
                    subject.replace('"', "\\\"")
                ),
            )],
        ),
        (
            "X-SSL-Client-S-DN / X-SSL-Client-DN with X-SSL-Client-Verify: SUCCESS",
            vec![
                ("X-SSL-Client-S-DN", subject.to_string()),
                ("X-SSL-Client-DN", subject.to_string()),
                verify,
            ],
        ),
    ]
}

struct Place {
    url: Url,
    label: &'static str,
}

/// What one address said: the accepted forgeries, or why none counts.
enum Result_ {
    Accepted(Vec<(&'static str, Exchange)>),
    Refused,
    Inconclusive(String),
}

async fn try_place(ctx: &Scan, place: &Place, der: &[u8], subject: &str) -> Result_ {
    // The same request with no certificate and no forged header, at this address: the
    // "unauthenticated" answer the forgery has to turn into the authorized one. At the
    // target that is the pair the mtls checks already share.
    let owned;
    let (unauth, a): (&Class, &Exchange) = if place.url == ctx.opts().target {
        // For a certificate-only API the request without the certificate is the
        // anonymous one.
        match mtls::without_cert(ctx).or_else(|e| {
            if ctx.cert_only() {
                Ok(&ctx.baselines().anonymous)
            } else {
                Err(e)
            }
        }) {
            Ok(b) => (&b.class, &b.exchanges[0]),
            Err(e) => return Result_::Inconclusive(e),
        }
    } else {
        let plain = mtls::with_identity(ctx, None).with_url(place.url.clone());
        let (a, b) = tokio::join!(ctx.send(plain.clone()), ctx.send(plain));
        let (a, b) = match (a, b) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return Result_::Inconclusive(e),
        };
        let class = Class::new(
            "credentials without a certificate",
            [&a, &b].iter().map(|x| Sample::from_exchange(x)).collect(),
        );
        owned = (class, a);
        (&owned.0, &owned.1)
    };
    let authorized = ctx.authorized_class();
    let oracle = Oracle::new(authorized, vec![unauth, &ctx.baselines().anonymous.class]);
    let judged_plain = oracle.judge(&Sample::from_exchange(a));
    if matches!(judged_plain, Verdict::Accepted { .. })
        || Oracle::new(authorized, vec![unauth]).usable().is_err()
    {
        return Result_::Inconclusive(format!(
            "at {} the request without a certificate already gets the authorized answer (see mtls.not_required), so a forged header cannot be told apart",
            place.label
        ));
    }
    let sent =
        futures::future::join_all(forged_headers(der, subject).into_iter().map(|(label, hs)| {
            let mut p = mtls::with_identity(ctx, None).with_url(place.url.clone());
            for (n, v) in hs {
                p = p.without_header(n).header(n, Value::lit(v));
            }
            async move { (label, ctx.send(p).await) }
        }))
        .await;
    let mut hits = Vec::new();
    let mut refused = false;
    let mut why = None;
    for (label, x) in sent {
        match x {
            Ok(x) => match oracle.judge(&Sample::from_exchange(&x)) {
                Verdict::Accepted { .. } => hits.push((label, x)),
                Verdict::Rejected => refused = true,
                Verdict::Inconclusive(r) => why = Some(r),
            },
            Err(e) => why = Some(e),
        }
    }
    if !hits.is_empty() {
        Result_::Accepted(hits)
    } else if refused {
        Result_::Refused
    } else {
        Result_::Inconclusive(why.unwrap_or_else(|| "no answer could be judged".into()))
    }
}

impl Check for HeaderSpoofing {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let user = match mtls::user_cert(ctx) {
                Ok(u) => u,
                Err(o) => return o,
            };
            if let Err(e) = mtls::oracle(ctx) {
                return Outcome::Inconclusive(e);
            }
            let der = ctx
                .opts()
                .creds
                .client
                .as_ref()
                .and_then(|c| c.chain.first())
                .map(|c| c.to_vec())
                .unwrap_or_default();
            // The subject as proxies print it (nginx's $ssl_client_s_dn is RFC 2253).
            let subject = user.subject_text.clone();
            let mut places = vec![Place {
                url: ctx.opts().target.clone(),
                label: "the target",
            }];
            if let Some(o) = &ctx.opts().origin {
                places.push(Place {
                    url: o.clone(),
                    label: "the origin (--origin)",
                });
            }
            let results =
                futures::future::join_all(places.iter().map(|p| try_place(ctx, p, &der, &subject)))
                    .await;
            let mut reasons = Vec::new();
            let mut any_refused = false;
            for (place, r) in places.iter().zip(results) {
                match r {
                    Result_::Accepted(hits) => {
                        let names = hits.iter().map(|(l, _)| *l).collect::<Vec<_>>().join("; ");
                        let (label, x) = &hits[0];
                        let shown = user
                            .common_name
                            .as_deref()
                            .filter(|cn| x.answer().is_some_and(|a| a.body_text().contains(cn)));
                        let who = match shown {
                            Some(cn) => format!(", and the answer names {cn:?}"),
                            None => String::new(),
                        };
                        return Outcome::found(META.finding(
                            if shown.is_some() { Confidence::Confirmed } else { Confidence::Firm },
                            format!(
                                "at {} ({}), over a connection without any client certificate, the header {label} carrying the user's public certificate turned the refused request into the authorized one{who}: anyone who can reach that address can be any certificate holder, since certificates are public\nAccepted header sets: {names}.",
                                place.label, place.url
                            ),
                            ctx.evidence(x),
                        ));
                    }
                    Result_::Refused => any_refused = true,
                    Result_::Inconclusive(r) => reasons.push(r),
                }
            }
            if any_refused {
                Outcome::Pass
            } else {
                Outcome::Inconclusive(reasons.join("; "))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_nginx_for_pem() {
        let e = escaped("-----BEGIN CERTIFICATE-----\nab+/=\n");
        assert_eq!(e, "-----BEGIN%20CERTIFICATE-----%0Aab%2B%2F%3D%0A");
    }

    #[test]
    fn every_header_value_is_a_legal_header_value() {
        for (_, hs) in forged_headers(&[0x30, 0x82, 0x01, 0x00, 0xff], "CN=alice,O=Example \"x\"") {
            for (n, v) in hs {
                assert!(
                    reqwest::header::HeaderName::from_bytes(n.as_bytes()).is_ok(),
                    "{n}"
                );
                assert!(
                    reqwest::header::HeaderValue::from_str(&v).is_ok(),
                    "{n}: {v}"
                );
            }
        }
    }
}
