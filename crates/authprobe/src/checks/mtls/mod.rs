//! Mutual TLS and certificate identity: whether the certificate is required, verified
//! (chain, expiry, revocation, EKU), mapped to a user, bound to the token, and whether the
//! application can be fooled by certificate headers only its proxy should set.
//!
//! Every probe here is the user's authorized request with one thing changed (the
//! certificate swapped or removed, or headers added), judged by the oracle against the
//! authorized answer and the refused ones. Root causes are reported once: when the
//! request without any certificate is already accepted (`mtls.not_required`), or a
//! self-signed certificate is (`mtls.untrusted_cert_accepted`), the narrower certificate
//! checks say "explained by" instead of firing again.

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
use crate::engine::Ctx;
use crate::finding::Confidence;
use crate::http::{ClientIdentity, Exchange, Probe};
use crate::oracle::{Class, Oracle, Sample, Verdict};
use discovery::ClientAuthSection;
use mint::{Minter, UserCert, Variant};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// A probe and its verdict.
pub struct Trial {
    pub exchange: Exchange,
    pub verdict: Verdict,
}

impl Trial {
    pub fn accepted(&self) -> bool {
        matches!(self.verdict, Verdict::Accepted { .. })
    }
}

#[derive(Default)]
pub struct MtlsShared {
    minter: OnceCell<Result<Arc<Minter>, String>>,
    discovery: OnceCell<Result<ClientAuthSection, String>>,
    /// The user's credentials without the certificate, sent twice.
    without_cert: OnceCell<Result<(Class, Vec<Exchange>), String>>,
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

/// The refused classes every mtls probe is told apart from: no credential at all, a
/// spoiled application credential, and the certificate without the application
/// credential. Those that resemble the authorized answer (a flaw elsewhere) are left out
/// by the oracle's separation, so one flaw does not blind these checks.
fn refused_classes(ctx: &Ctx) -> Vec<&Class> {
    let b = &ctx.baselines;
    let mut rejected = vec![&b.anonymous.class];
    if let Some(i) = &b.invalid {
        rejected.push(&i.class);
    }
    if let Some(t) = &b.transport_only {
        rejected.push(&t.class);
    }
    rejected
}

/// The authorized class against the refused ones, for the request without a certificate.
pub fn oracle(ctx: &Ctx) -> Result<Oracle<'_>, String> {
    let o = Oracle::new(ctx.authorized_class(), refused_classes(ctx));
    o.usable()?;
    if ctx.authorized_class().is_none() {
        return Err("no authorized baseline".into());
    }
    Ok(o)
}

/// For probes that swap the certificate: the request without any certificate is one more
/// refused class (what a refused certificate usually looks like: 403, nginx's 400).
pub async fn cert_oracle(ctx: &Ctx) -> Result<Oracle<'_>, String> {
    oracle(ctx)?;
    let mut rejected = refused_classes(ctx);
    if let Ok((c, _)) = without_cert(ctx).await {
        rejected.push(c);
    }
    Ok(Oracle::new(ctx.authorized_class(), rejected))
}

/// Sends `probe` (a swapped certificate) and judges the answer.
pub async fn trial(ctx: &Ctx, probe: Probe) -> Result<Trial, String> {
    let o = cert_oracle(ctx).await?;
    let exchange = ctx.send(probe).await?;
    let verdict = o.judge(&Sample::from_exchange(&exchange));
    Ok(Trial { exchange, verdict })
}

/// The user's credentials with no certificate, two samples.
pub async fn without_cert(ctx: &Ctx) -> Result<&(Class, Vec<Exchange>), String> {
    ctx.shared
        .mtls
        .without_cert
        .get_or_init(|| async {
            let p = with_identity(ctx, None);
            let (a, b) = tokio::join!(ctx.send(p.clone()), ctx.send(p));
            let xs = vec![a?, b?];
            let class = Class::new(
                "credentials without a certificate",
                xs.iter().map(Sample::from_exchange).collect(),
            );
            Ok((class, xs))
        })
        .await
        .as_ref()
        .map_err(Clone::clone)
}

/// Whether the user's credentials without any certificate get the authorized answer:
/// `Some(exchange)` of the accepted request when they do.
pub async fn accepted_without_cert(ctx: &Ctx) -> Result<Option<&Exchange>, String> {
    if ctx.opts.creds.client.is_none() {
        return Ok(None);
    }
    let o = oracle(ctx)?;
    let (_, xs) = without_cert(ctx).await?;
    let accepted = xs
        .iter()
        .all(|x| matches!(o.judge(&Sample::from_exchange(x)), Verdict::Accepted { .. }));
    Ok(accepted.then(|| &xs[0]))
}

/// A swapped certificate tried twice over: with the user's credentials (does it get the
/// authorized answer?) and, when that is refused, alone (does the certificate layer treat
/// it like the user's own?). The second tier matters where tokens are bound to the
/// certificate (RFC 8705): the binding refuses the user's token over any other
/// certificate, which hides whether the certificate itself was verified at all.
pub struct CertTrial {
    pub full: Trial,
    /// The certificate without application credentials, judged against the user's
    /// certificate without them (accepted) and no certificate (refused).
    pub layer: Option<Trial>,
}

impl CertTrial {
    pub fn accepted(&self) -> bool {
        self.full.accepted() || self.layer.as_ref().is_some_and(Trial::accepted)
    }

    pub fn refused(&self) -> bool {
        !self.accepted()
            && (self.full.verdict == Verdict::Rejected
                || self
                    .layer
                    .as_ref()
                    .is_some_and(|t| t.verdict == Verdict::Rejected))
    }

    /// The exchange that proves acceptance, and how to say what it proves.
    pub fn proof(&self) -> Option<(&Exchange, &'static str)> {
        if self.full.accepted() {
            return Some((
                &self.full.exchange,
                "with the user's other credentials, got the authorized answer",
            ));
        }
        self.layer.as_ref().filter(|t| t.accepted()).map(|t| {
            (
                &t.exchange,
                "is treated like the user's own certificate: without any other credential both get the same answer, while no certificate gets a different one (the user's token over it was refused, likely by a certificate binding, which does not make the certificate check any less absent)",
            )
        })
    }

    pub fn inconclusive_reason(&self) -> Option<String> {
        match (&self.full.verdict, self.layer.as_ref().map(|t| &t.verdict)) {
            (Verdict::Inconclusive(r), _) => Some(r.clone()),
            (_, Some(Verdict::Inconclusive(r))) => Some(r.clone()),
            _ => None,
        }
    }
}

/// The certificate-layer oracle: the user's certificate alone against no certificate.
fn layer_oracle(ctx: &Ctx) -> Option<Oracle<'_>> {
    let t = ctx.baselines.transport_only.as_ref()?;
    let o = Oracle::new(Some(&t.class), vec![&ctx.baselines.anonymous.class]);
    o.usable().ok().map(|_| o)
}

pub async fn cert_trial(ctx: &Ctx, identity: Arc<ClientIdentity>) -> Result<CertTrial, String> {
    let full = trial(ctx, with_identity(ctx, Some(identity.clone()))).await?;
    if full.accepted() {
        return Ok(CertTrial { full, layer: None });
    }
    let layer = match layer_oracle(ctx) {
        Some(o) => {
            let exchange = ctx
                .send(ctx.bare("GET").with_identity(Some(identity)))
                .await?;
            let verdict = o.judge(&Sample::from_exchange(&exchange));
            Some(Trial { exchange, verdict })
        }
        None => None,
    };
    Ok(CertTrial { full, layer })
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

/// The root cause that explains a narrower certificate finding, if one holds.
pub async fn explained_by(ctx: &Ctx, include_untrusted: bool) -> Option<Outcome> {
    if let Ok(Some(_)) = accepted_without_cert(ctx).await {
        return Some(Outcome::Inconclusive(
            "explained by mtls.not_required: the request is accepted without any certificate"
                .into(),
        ));
    }
    if include_untrusted && self_signed_trial(ctx).await.is_ok_and(CertTrial::accepted) {
        return Some(Outcome::Inconclusive(
            "explained by mtls.untrusted_cert_accepted: even a self-signed certificate is accepted"
                .into(),
        ));
    }
    None
}

/// The shape shared by the checks that swap the user's certificate for one with a single
/// defect: defer to a root cause, send, report when the certificate is accepted.
pub async fn swapped_cert_check(
    ctx: &Ctx,
    meta: &'static CheckMeta,
    identity: Arc<ClientIdentity>,
    what: &str,
    include_untrusted: bool,
) -> Outcome {
    if let Some(o) = explained_by(ctx, include_untrusted).await {
        return o;
    }
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
