//! Mutual TLS and certificate identity: whether the certificate is required, verified
//! (chain, expiry, revocation, EKU), mapped to a user, bound to the token, and whether the
//! application can be fooled by certificate headers only its proxy should set.
//!
//! Every probe here is the user's authorized request with one thing changed (the
//! certificate swapped or removed, or headers added), judged by the oracle against the
//! authorized answer and the refused ones. Each certificate probe is sent and reported on
//! its own: a proxy that takes self-signed certificates may still refuse expired ones
//! (Apache `optional_no_ca`), or take both (HAProxy `crt-ignore-err all`).
//!
//! Where the token is bound to the user's certificate (RFC 8705 `cnf.x5t#S256`), the
//! binding refuses it over any other certificate whatever the certificate layer did. The
//! probe then carries the user's token re-bound to the probe certificate, minted with a
//! key the scan knows; without one it is inconclusive. Two refusals that look alike prove
//! nothing, so no verdict rests on them.

pub mod discovery;
pub mod eku_not_checked;
pub mod expired_cert_accepted;
pub mod header_spoofing;
pub mod identity_not_mapped;
pub mod mint;
pub mod not_required;
pub mod revoked_cert_accepted;
pub mod token_not_bound;
pub mod untrusted_cert_accepted;

use crate::checks::{CheckMeta, Outcome};
use crate::engine::{Baseline, Compare, Ctx};
use crate::finding::Confidence;
use crate::http::{ClientIdentity, Exchange, Probe};
use crate::oracle::{Oracle, Sample, Verdict};
use discovery::ClientAuthSection;
use mint::{Minter, UserCert, Variant};
use std::sync::Arc;
use tokio::sync::OnceCell;

pub use crate::engine::Trial;

#[derive(Default)]
pub struct MtlsShared {
    minter: OnceCell<Result<Arc<Minter>, String>>,
    discovery: OnceCell<Result<ClientAuthSection, String>>,
    /// The self-signed copy of the user's certificate, with the user's credentials.
    self_signed: OnceCell<Result<CertTrial, String>>,
}

/// The user's certificate, parsed; `Err` is the outcome to return when there is none.
pub fn user_cert(ctx: &Ctx) -> Result<UserCert, Outcome> {
    let Some(id) = &ctx.opts.creds.client else {
        return Err(Outcome::NotApplicable(
            "needs a client certificate (--client-cert and --client-key)".into(),
        ));
    };
    let leaf = id.chain.first().map(|c| c.as_ref()).unwrap_or(&[]);
    UserCert::parse(leaf).map_err(|e| Outcome::Inconclusive(e.to_string()))
}

pub async fn minter(ctx: &Ctx) -> Result<Arc<Minter>, String> {
    ctx.shared
        .mtls
        .minter
        .get_or_init(|| async {
            let ca = ctx
                .opts
                .creds
                .client_ca
                .as_ref()
                .map(|(c, k)| (c.as_path(), k.as_path()));
            Minter::new(ca).map(Arc::new).map_err(|e| e.to_string())
        })
        .await
        .clone()
}

/// Mints `variant` from the test CA; `Err` is the outcome to return.
pub async fn mint_from_ca(ctx: &Ctx, variant: Variant) -> Result<Arc<ClientIdentity>, Outcome> {
    let user = user_cert(ctx)?;
    let m = minter(ctx).await.map_err(Outcome::Inconclusive)?;
    m.from_ca(&user, variant)
        .map_err(|e| Outcome::Inconclusive(format!("could not mint a certificate: {e}")))
}

/// What the server says about client certificates (the report's `client_auth` section).
pub async fn discovery(ctx: &Ctx) -> Result<&ClientAuthSection, String> {
    ctx.shared
        .mtls
        .discovery
        .get_or_init(|| async {
            if ctx.opts.target.scheme() != "https" {
                return Err("the target is not https://".to_string());
            }
            let Some(target) = crate::checks::tls::transport::TlsTarget::from_url(&ctx.opts.target)
            else {
                return Err("the target URL has no host".to_string());
            };
            let limiter = ctx.http.host_limiter(&ctx.opts.target).await;
            discovery::discover(
                &target,
                ctx.opts.target.path(),
                ctx.http.limits().timeout,
                Some(limiter),
            )
            .await
        })
        .await
        .as_ref()
        .map_err(Clone::clone)
}

/// The report's view of the discovery, if it ran.
pub fn discovered(shared: &crate::checks::Shared) -> Option<ClientAuthSection> {
    shared
        .mtls
        .discovery
        .get()
        .and_then(|r| r.as_ref().ok())
        .cloned()
}

/// The user's authorized request presented with `identity` instead of their certificate.
pub fn with_identity(ctx: &Ctx, identity: Option<Arc<ClientIdentity>>) -> Probe {
    ctx.authorized_probe("GET").with_identity(identity)
}

/// The authorized class against the refused ones, for the request without a certificate.
pub fn oracle(ctx: &Ctx) -> Result<Oracle<'_>, String> {
    if ctx.authorized_class().is_none() {
        return Err("no authorized baseline".into());
    }
    ctx.judge(Compare::CertRemoved)
}

/// Sends `probe` (a swapped certificate) and judges the answer.
pub async fn trial(ctx: &Ctx, probe: Probe) -> Result<Trial, String> {
    if ctx.authorized_class().is_none() {
        return Err("no authorized baseline".into());
    }
    let o = ctx.judge(Compare::CertSwapped)?;
    let label = probe.identity.as_ref().map_or_else(
        || "no certificate".into(),
        |i| i.cert_path.display().to_string(),
    );
    let exchange = ctx.send(probe).await?;
    let verdict = o.judge(&Sample::from_exchange(&exchange));
    Ok(Trial {
        label,
        exchange,
        verdict,
    })
}

/// The user's credentials with no certificate (a baseline, taken twice).
pub fn without_cert(ctx: &Ctx) -> Result<&Baseline, String> {
    ctx.baselines
        .app_without_cert
        .as_ref()
        .ok_or_else(|| "needs a client certificate and a token or Basic pair".to_string())
}

/// Whether the user's credentials without any certificate get the authorized answer:
/// `Some(exchange)` of the accepted request when they do.
pub async fn accepted_without_cert(ctx: &Ctx) -> Result<Option<&Exchange>, String> {
    if ctx.opts.creds.client.is_none() {
        return Ok(None);
    }
    let o = oracle(ctx)?;
    let xs = &without_cert(ctx)?.exchanges;
    let accepted = xs
        .iter()
        .all(|x| matches!(o.judge(&Sample::from_exchange(x)), Verdict::Accepted { .. }));
    Ok(accepted.then(|| &xs[0]))
}

/// A swapped certificate with the user's credentials, and, where the user's token is
/// bound to the user's own certificate, the same request with the token re-bound to the
/// probe certificate.
pub struct CertTrial {
    pub full: Trial,
    /// `Some` when `full` was refused by the application (not at the handshake) and the
    /// token carries `cnf.x5t#S256`: the re-bound trial, or why it could not be sent.
    pub rebound: Option<Result<Trial, String>>,
    /// Where the re-binding key came from.
    pub key_source: Option<String>,
}

impl CertTrial {
    pub fn accepted(&self) -> bool {
        self.full.accepted() || matches!(&self.rebound, Some(Ok(t)) if t.accepted())
    }

    pub fn refused(&self) -> bool {
        !self.accepted()
            && self.full.verdict == Verdict::Rejected
            && match &self.rebound {
                None => true,
                Some(Ok(t)) => t.verdict == Verdict::Rejected,
                Some(Err(_)) => false,
            }
    }

    /// The exchange that proves acceptance, and how to say what it proves.
    pub fn proof(&self) -> Option<(&Exchange, String)> {
        if self.full.accepted() {
            return Some((
                &self.full.exchange,
                "with the user's other credentials, got the authorized answer".into(),
            ));
        }
        match &self.rebound {
            Some(Ok(t)) if t.accepted() => Some((
                &t.exchange,
                format!(
                    "with the user's token re-bound to it (cnf.x5t#S256 set to its thumbprint, signed with the key {}; every other claim kept), got the authorized answer",
                    self.key_source.as_deref().unwrap_or("the scan knows")
                ),
            )),
            _ => None,
        }
    }

    pub fn inconclusive_reason(&self) -> Option<String> {
        match (&self.full.verdict, &self.rebound) {
            (Verdict::Inconclusive(r), _) => Some(r.clone()),
            (_, Some(Err(r))) => Some(r.clone()),
            (
                _,
                Some(Ok(Trial {
                    verdict: Verdict::Inconclusive(r),
                    ..
                })),
            ) => Some(r.clone()),
            _ => None,
        }
    }
}

/// The SHA-256 thumbprint of a certificate, as RFC 8705 `cnf.x5t#S256` carries it.
pub fn thumbprint(id: &ClientIdentity) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let der = id.chain.first().map(|c| c.as_ref()).unwrap_or(&[]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(der))
}

/// The user's token's RFC 8705 binding, if it has one.
pub fn token_binding(ctx: &Ctx) -> Option<String> {
    crate::checks::jwt::user_jwt(ctx).and_then(|j| {
        j.claim("cnf")
            .and_then(|c| c.get("x5t#S256"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    })
}

pub async fn cert_trial(ctx: &Ctx, identity: Arc<ClientIdentity>) -> Result<CertTrial, String> {
    let full = trial(ctx, with_identity(ctx, Some(identity.clone()))).await?;
    let refused_by_app = full.verdict == Verdict::Rejected
        && full
            .exchange
            .result
            .as_ref()
            .is_ok_and(|_| token_binding(ctx).is_some());
    if !refused_by_app {
        return Ok(CertTrial {
            full,
            rebound: None,
            key_source: None,
        });
    }
    let Some(jwt) = crate::checks::jwt::user_jwt(ctx) else {
        return Ok(CertTrial {
            full,
            rebound: None,
            key_source: None,
        });
    };
    let Some(k) = ctx.shared.jwt.key(ctx).await else {
        return Ok(CertTrial {
            full,
            rebound: Some(Err("the token is bound to the user's certificate (cnf.x5t#S256), so the application refuses it over any other certificate whatever the certificate layer did; give the token's signing key (--jwt-key or --jwt-secret) so the probe can carry a token bound to the probe certificate".into())),
            key_source: None,
        });
    };
    let minted = authprobe_jwt::attacks::mint_changed_claim(
        &jwt,
        k.alg,
        &k.key,
        "cnf",
        serde_json::json!({ "x5t#S256": thumbprint(&identity) }),
        authprobe_jwt::attacks::unix_now(),
    );
    let rebound = match minted {
        Ok(f) => {
            let p = with_identity(ctx, Some(identity))
                .without_header("Authorization")
                .header("Authorization", crate::checks::jwt::minted_value(&f.token));
            trial(ctx, p).await
        }
        Err(e) => Err(format!("could not re-bind the token: {e}")),
    };
    Ok(CertTrial {
        full,
        rebound: Some(rebound),
        key_source: Some(k.source.clone()),
    })
}

/// The self-signed copy of the user's certificate, tried once per scan.
pub async fn self_signed_trial(ctx: &Ctx) -> Result<&CertTrial, String> {
    ctx.shared
        .mtls
        .self_signed
        .get_or_init(|| async {
            let user = user_cert(ctx).map_err(|_| "no client certificate".to_string())?;
            let m = minter(ctx).await?;
            let id = m.self_signed(&user).map_err(|e| e.to_string())?;
            cert_trial(ctx, id).await
        })
        .await
        .as_ref()
        .map_err(Clone::clone)
}

/// The shape shared by the checks that swap the user's certificate for one with a single
/// defect: defer to a root cause, send, report when the certificate is accepted.
pub async fn swapped_cert_check(
    ctx: &Ctx,
    meta: &'static CheckMeta,
    identity: Arc<ClientIdentity>,
    what: &str,
) -> Outcome {
    let t = match cert_trial(ctx, identity.clone()).await {
        Ok(t) => t,
        Err(e) => return Outcome::Inconclusive(e),
    };
    if let Some((x, how)) = t.proof() {
        return Outcome::found(meta.finding(
            Confidence::Firm,
            format!(
                "{what} {how}
Probe certificate {}, key {}.",
                identity.cert_path.display(),
                identity.key_path.display()
            ),
            ctx.evidence(x),
        ));
    }
    if t.refused() {
        Outcome::Pass
    } else {
        Outcome::Inconclusive(
            t.inconclusive_reason()
                .unwrap_or_else(|| "no answer could be judged".into()),
        )
    }
}

/// Remediation shared by the certificate-verification checks.
pub const VERIFY_CLIENT_CERTS: &[(&str, &str)] = &[
    (
        "nginx",
        "ssl_verify_client on; ssl_client_certificate /etc/nginx/client-ca.pem; ssl_verify_depth 2; ssl_crl /etc/nginx/client-ca.crl; never optional_no_ca in front of an app that trusts the forwarded certificate; if the app reads $ssl_client_escaped_cert, also forward $ssl_client_verify and refuse anything but SUCCESS.",
    ),
    (
        "haproxy",
        "bind :443 ssl crt server.pem ca-file client-ca.pem verify required crl-file client-ca.crl; do not set crt-ignore-err or ca-ignore-err; forward ssl_c_verify and require 0.",
    ),
    (
        "envoy",
        "DownstreamTlsContext: require_client_certificate: true with a validation_context (trusted_ca, crl, match_typed_subject_alt_names); forward_client_cert_details: SANITIZE_SET.",
    ),
    (
        "go",
        "tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}; check revocation in VerifyPeerCertificate; never InsecureSkipVerify-style custom verifiers that return nil.",
    ),
    (
        "spring",
        "server.ssl.client-auth=need with a trust store holding only the client CA; add a CRL/OCSP check (PKIXRevocationChecker) to the trust manager.",
    ),
    (
        "express",
        "https.createServer({ requestCert: true, rejectUnauthorized: true, ca, crl }); refuse requests where req.socket.authorized is false.",
    ),
    (
        "django",
        "Terminate mTLS at the proxy with verification on (see nginx); in the app, trust the forwarded certificate only with SSL_CLIENT_VERIFY == SUCCESS and only from the proxy's address.",
    ),
];
