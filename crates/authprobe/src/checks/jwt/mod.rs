//! The `jwt.*` checks and the shapes they share (a forgery check, a minted-token check).
//! The facts they build on (keys, the crack result, the shared forgeries, whether
//! signatures are verified at all) are gathered once in [`crate::facts::jwt`].
//!
//! Every forgery's primary probe keeps every claim byte for byte and breaks only what it
//! tests. Only after acceptance are claims changed: first one the application does not use
//! to find the user (an added claim, `jti`, `iat`), then a role-like claim. The identity
//! claims (`sub`, `user_id`, `email`...) never change for a verdict: an application that
//! looks the user up refuses an unknown one for reasons unrelated to the flaw.

pub mod alg_none;
pub mod audience_not_checked;
pub mod embedded_jwk;
pub mod empty_signature;
pub mod expired_accepted;
pub mod issuer_not_checked;
pub mod jku_injection;
pub mod key_confusion;
pub mod kid_injection;
pub mod long_lifetime;
pub mod missing_audience_or_issuer;
pub mod missing_exp;
pub mod nbf_not_enforced;
pub mod passive;
pub mod psychic_signature;
pub mod sensitive_claims;
pub mod signature_not_verified;
pub mod token_in_url;
pub mod weak_hmac_secret;
pub mod x5c_injection;

/// The family's checks, in catalog order.
pub fn checks() -> Vec<Box<dyn crate::check::Check>> {
    vec![
        Box::new(alg_none::AlgNone),
        Box::new(signature_not_verified::SignatureNotVerified),
        Box::new(empty_signature::EmptySignature),
        Box::new(weak_hmac_secret::WeakHmacSecret),
        Box::new(key_confusion::KeyConfusion),
        Box::new(embedded_jwk::EmbeddedJwk),
        Box::new(x5c_injection::X5cInjection),
        Box::new(jku_injection::JkuInjection),
        Box::new(kid_injection::KidInjection),
        Box::new(psychic_signature::PsychicSignature),
        Box::new(expired_accepted::ExpiredAccepted),
        Box::new(nbf_not_enforced::NbfNotEnforced),
        Box::new(audience_not_checked::AudienceNotChecked),
        Box::new(issuer_not_checked::IssuerNotChecked),
        Box::new(missing_exp::MissingExp),
        Box::new(long_lifetime::LongLifetime),
        Box::new(missing_audience_or_issuer::MissingAudienceOrIssuer),
        Box::new(sensitive_claims::SensitiveClaims),
        Box::new(token_in_url::TokenInUrl),
    ]
}

use crate::check::{CheckMeta, Outcome};
use crate::finding::Confidence;
use crate::http::{Exchange, Value};
use crate::oracle::Verdict;
use crate::scan::Scan;
use authprobe_jwt::attacks::{Forged, Signer};
use authprobe_jwt::{Edit, Jwt};

// The JWT facts and the forgery probing every check of this family builds on.
#[allow(unused_imports)]
pub(crate) use crate::facts::jwt::*;

/// Advice shared by the forgery checks: one pinned algorithm, one configured key.
pub const PINNED_ALGORITHMS: &[(&str, &str)] = &[
    (
        "django",
        "PyJWT: jwt.decode(token, key, algorithms=[\"RS256\"]) with an explicit list; simplejwt: set ALGORITHM and never pass options={\"verify_signature\": False}.",
    ),
    (
        "express",
        "jsonwebtoken: jwt.verify(token, publicKey, { algorithms: [\"RS256\"] }); never jwt.decode() for authentication.",
    ),
    (
        "spring",
        "Build the JwtDecoder with NimbusJwtDecoder.withPublicKey(key).signatureAlgorithm(SignatureAlgorithm.RS256) or withJwkSetUri(...).jwsAlgorithm(...).",
    ),
    (
        "go",
        "golang-jwt: jwt.Parse(token, keyFunc, jwt.WithValidMethods([]string{\"RS256\"})) and return only your key from keyFunc.",
    ),
    (
        "gateway",
        "Envoy jwt_authn / Kong jwt: pin the issuer's JWKS and algorithm list; do not let the token choose.",
    ),
];

/// Advice shared by the claim checks: require and compare exp, nbf, iss and aud.
pub const CLAIM_VALIDATION: &[(&str, &str)] = &[
    (
        "django",
        "PyJWT: jwt.decode(token, key, algorithms=[...], audience=\"your-api\", issuer=\"https://your-idp\", options={\"require\": [\"exp\", \"iss\", \"aud\", \"sub\"]}); simplejwt: set AUDIENCE and ISSUER.",
    ),
    (
        "express",
        "jsonwebtoken: jwt.verify(token, key, { algorithms, audience: \"your-api\", issuer: \"https://your-idp\", clockTolerance: 30 }); express-jwt takes the same options.",
    ),
    (
        "spring",
        "JwtValidators.createDefaultWithIssuer(issuer) plus a JwtClaimValidator<List<String>> on aud, set with decoder.setJwtValidator(...).",
    ),
    (
        "go",
        "golang-jwt: jwt.WithAudience(\"your-api\"), jwt.WithIssuer(\"https://your-idp\"), jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second).",
    ),
    (
        "gateway",
        "Envoy jwt_authn: set issuer and audiences on the provider; Kong: claims_to_verify = exp, nbf.",
    ),
];

/// Runs a check body only when the bearer is a JWT.
pub fn require_jwt(ctx: &Scan) -> Result<Jwt, Outcome> {
    user_jwt(ctx).ok_or_else(|| Outcome::NotApplicable("the bearer token is not a JWT".into()))
}

/// The finding for an accepted forgery. Its confidence comes from the confirmation probes,
/// in order: a claim the application does not use to find the user changed and still
/// accepted (firm: the claims are not protected), then a role-like claim set to a marker
/// that the answer shows (confirmed). With the first refused, the finding stays tentative.
#[allow(clippy::too_many_arguments)]
pub async fn report_accepted(
    ctx: &Scan,
    meta: &'static CheckMeta,
    jwt: &Jwt,
    variants: &[(String, Exchange)],
    unprotected: Option<&Unprotected>,
    protected_note: Option<&str>,
    rebuild: impl Fn(&str, &[Edit]) -> Option<String>,
    what: &str,
) -> Outcome {
    let Some((label, exchange)) = variants.first() else {
        return Outcome::Pass;
    };
    let (confidence, note) = match unprotected {
        Some(u) if u.echoed => (
            Confidence::Confirmed,
            format!(
                "Confirmed: with {} (marker {:?}) the token was still accepted and the answer showed the marker. The identity claims were never changed.",
                u.change, u.marker
            ),
        ),
        Some(u) => {
            let (edit, marker) = marker_edit(jwt);
            let claim = match &edit {
                Edit::Set { name, .. } | Edit::SetRaw { name, .. } | Edit::Remove { name } => {
                    name.clone()
                }
            };
            let echoed = match rebuild(label, std::slice::from_ref(&edit)) {
                Some(token) => confirms(ctx, forged_value(ctx, &token), &marker).await,
                None => false,
            };
            if echoed {
                (
                    Confidence::Confirmed,
                    format!(
                        "Confirmed: with {} the token was still accepted (the claims are not protected), and with {claim} set to {marker:?} the answer showed it. The identity claims were never changed.",
                        u.change
                    ),
                )
            } else {
                (
                    Confidence::Firm,
                    format!(
                        "With {} the token was still accepted: the claims are not protected. Setting {claim} to {marker:?} did not show in the answer, so the forged claims were not seen there. The identity claims were never changed.",
                        u.change
                    ),
                )
            }
        }
        None => (
            Confidence::Tentative,
            format!(
                "Every claim was kept. Rebuilt with a claim the application does not use to find the user changed ({}), the token was refused: the server may match whole tokens against a store or a cache, so the claims may still be protected.",
                protected_note.unwrap_or("none tried")
            ),
        ),
    };
    let list = variants
        .iter()
        .map(|(l, _)| l.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Outcome::found(meta.finding(
        confidence,
        format!("{what} ({label})\n{note}\nAccepted variants: {list}."),
        ctx.evidence(exchange),
    ))
}

/// The common shape of a forgery check: send every variant with the claims untouched; if
/// any is accepted, confirm (see [`report_accepted`]).
pub async fn forgery_check(
    ctx: &Scan,
    meta: &'static CheckMeta,
    jwt: &Jwt,
    build: impl Fn(&[Edit]) -> Result<Vec<Forged>, String>,
    what: &str,
) -> Outcome {
    forgery_check_with(ctx, meta, jwt, build, what, None).await
}

/// [`forgery_check`] over primary probes already sent for a shared fact (`probed`), so the
/// check and the facts built on it send them once.
pub async fn forgery_check_with(
    ctx: &Scan,
    meta: &'static CheckMeta,
    jwt: &Jwt,
    build: impl Fn(&[Edit]) -> Result<Vec<Forged>, String>,
    what: &str,
    probed: Option<&Probed>,
) -> Outcome {
    let rebuild = |label: &str, edits: &[Edit]| {
        build(edits)
            .ok()?
            .into_iter()
            .find(|f| f.label == label)
            .map(|f| f.token)
    };
    let owned;
    let probed = match probed {
        Some(p) => p,
        None => {
            owned = probe_forgery(ctx, jwt, build(&[]), rebuild).await;
            &owned
        }
    };
    match probed {
        Probed::Refused => Outcome::Pass,
        Probed::Inconclusive(r) => Outcome::Inconclusive(r.clone()),
        Probed::NotApplicable(r) => Outcome::NotApplicable(r.clone()),
        Probed::Accepted(a) => {
            report_accepted(
                ctx,
                meta,
                jwt,
                &a.variants,
                a.unprotected.as_ref(),
                a.protected_note.as_deref(),
                rebuild,
                what,
            )
            .await
        }
    }
}

/// Sends a token minted with the known key (or another way of signing the server was shown
/// to accept, see [`JwtShared::minter`]) and reports when it is accepted. The minted token
/// keeps every claim but the ones `mint` changes, the identity included.
pub async fn minted_check(
    ctx: &Scan,
    meta: &'static CheckMeta,
    mint: impl Fn(&Jwt, &Signer) -> Result<Vec<Forged>, String>,
    given: Option<(&str, String)>,
    what: &str,
) -> Outcome {
    let jwt = match require_jwt(ctx) {
        Ok(j) => j,
        Err(o) => return o,
    };
    let (values, how, var): (Vec<(String, Value)>, String, String) = match ctx
        .facts()
        .jwt
        .minter(ctx)
        .await
    {
        Err(e) => return Outcome::Inconclusive(e),
        Ok(Some(m)) => match mint(&jwt, &m.signer) {
            Ok(f) => {
                let var = minted_var(meta.id);
                (
                    f.into_iter()
                        .map(|f| (f.label, minted_value(&var, &f.token)))
                        .collect(),
                    m.how.clone(),
                    var,
                )
            }
            Err(e) => return Outcome::Inconclusive(format!("could not mint: {e}")),
        },
        Ok(None) => match given {
            Some((label, token)) => {
                // Named after the check, like a minted token: the expired and the
                // other-audience tokens given are different credentials.
                let var = minted_var(meta.id).replacen("MINTED", "GIVEN", 1);
                (
                    vec![(
                        label.to_string(),
                        Value::prefixed_secret("Bearer ", &format!("${{{var}}}"), &token),
                    )],
                    "given on the command line".to_string(),
                    var,
                )
            }
            None => {
                return Outcome::NotApplicable(
                        "needs a way to sign tokens the server accepts: --jwt-secret, --jwt-key, or one the scan finds (a crackable HMAC secret, a confused public key, alg none, an unverified signature), or a suitable token".into(),
                    );
            }
        },
    };
    let trials = match try_values(ctx, values).await {
        Ok(t) => t,
        Err(e) => return Outcome::Inconclusive(e),
    };
    match trials
        .iter()
        .find(|t| matches!(t.verdict, Verdict::Accepted { .. }))
    {
        Some(t) => Outcome::found(meta.finding(
            Confidence::Firm,
            format!(
                "{what} ({}; the token was {how})\nThe token in the evidence is withheld as ${{{var}}}: it is a live credential (--secrets-file writes it; --show-secrets prints it).",
                t.label
            ),
            ctx.evidence(&t.exchange),
        )),
        None => {
            if trials.iter().any(|t| t.verdict == Verdict::Rejected) {
                Outcome::Pass
            } else {
                Outcome::Inconclusive(
                    trials
                        .iter()
                        .find_map(|t| match &t.verdict {
                            Verdict::Inconclusive(r) => Some(r.clone()),
                            _ => None,
                        })
                        .unwrap_or_else(|| "no answer could be judged".into()),
                )
            }
        }
    }
}
