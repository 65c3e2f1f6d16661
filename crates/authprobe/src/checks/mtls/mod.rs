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

pub mod eku_not_checked;
pub mod expired_cert_accepted;
pub mod header_spoofing;
pub mod identity_not_mapped;
pub mod not_required;
pub mod revoked_cert_accepted;
pub mod token_not_bound;
pub mod untrusted_cert_accepted;

/// The family's checks, in catalog order.
pub fn checks() -> Vec<Box<dyn crate::check::Check>> {
    vec![
        Box::new(not_required::NotRequired),
        Box::new(untrusted_cert_accepted::UntrustedCertAccepted),
        Box::new(expired_cert_accepted::ExpiredCertAccepted),
        Box::new(revoked_cert_accepted::RevokedCertAccepted),
        Box::new(eku_not_checked::EkuNotChecked),
        Box::new(identity_not_mapped::IdentityNotMapped),
        Box::new(header_spoofing::HeaderSpoofing),
        Box::new(token_not_bound::TokenNotBound),
    ]
}

use crate::check::{CheckMeta, Outcome};
use crate::finding::Confidence;
use crate::http::{ClientIdentity, Exchange};
use crate::oracle::{Oracle, Sample, Verdict};
use crate::pki::{UserCert, Variant};
use crate::scan::{Baseline, Compare, Scan};
use std::sync::Arc;

// The certificate facts and trials every check of this family builds on.
#[allow(unused_imports)]
pub(crate) use crate::facts::certs::{
    CertTrial, cert_trial, thumbprint, token_binding, trial, with_identity,
};

/// The user's certificate, parsed; `Err` is the outcome to return when there is none.
pub fn user_cert(ctx: &Scan) -> Result<UserCert, Outcome> {
    if ctx.opts().creds.client.is_none() {
        return Err(Outcome::NotApplicable(
            "needs a client certificate (--client-cert and --client-key)".into(),
        ));
    }
    crate::facts::certs::user_cert(ctx).map_err(Outcome::Inconclusive)
}

/// Mints `variant` from the test CA; `Err` is the outcome to return.
pub async fn mint_from_ca(ctx: &Scan, variant: Variant) -> Result<Arc<ClientIdentity>, Outcome> {
    let user = user_cert(ctx)?;
    let m = ctx
        .facts()
        .certs
        .minter(ctx)
        .await
        .map_err(Outcome::Inconclusive)?;
    m.from_ca(&user, variant)
        .map_err(|e| Outcome::Inconclusive(format!("could not mint a certificate: {e}")))
}

/// The authorized class against the refused ones, for the request without a certificate.
pub fn oracle(ctx: &Scan) -> Result<Oracle<'_>, String> {
    if ctx.authorized_class().is_none() {
        return Err("no authorized baseline".into());
    }
    ctx.judge(Compare::CertRemoved)
}

/// The user's credentials with no certificate (a baseline, taken twice).
pub fn without_cert(ctx: &Scan) -> Result<&Baseline, String> {
    ctx.baselines()
        .app_without_cert
        .as_ref()
        .ok_or_else(|| "needs a client certificate and a token or Basic pair".to_string())
}

/// Whether the user's credentials without any certificate get the authorized answer:
/// `Some(exchange)` of the accepted request when they do.
pub async fn accepted_without_cert(ctx: &Scan) -> Result<Option<&Exchange>, String> {
    if ctx.opts().creds.client.is_none() {
        return Ok(None);
    }
    let o = oracle(ctx)?;
    let xs = &without_cert(ctx)?.exchanges;
    let accepted = xs
        .iter()
        .all(|x| matches!(o.judge(&Sample::from_exchange(x)), Verdict::Accepted { .. }));
    Ok(accepted.then(|| &xs[0]))
}

/// The shape shared by the checks that swap the user's certificate for one with a single
/// defect: defer to a root cause, send, report when the certificate is accepted.
pub async fn swapped_cert_check(
    ctx: &Scan,
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
Probe certificate {}, key {}{}.",
                identity.cert_path.display(),
                identity.key_path.display(),
                removed_note(ctx)
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

/// Said after a probe certificate's path: without `--keep-artifacts` the file is gone by
/// the time anyone reads the report.
pub fn removed_note(ctx: &Scan) -> &'static str {
    if ctx.opts().keep_artifacts.is_some() {
        ""
    } else {
        " (removed with the scan: rerun with --keep-artifacts DIR to keep them)"
    }
}
