//! The `jwt.*` checks and what they share: the parsed user token, the signing key when it
//! is known (given, recovered by the cracker, or the server's public key that key confusion
//! proved usable as an HMAC secret), the server's public key when it can be found, the
//! forgeries several checks build on (alg none, key confusion), and whether the server
//! verifies signatures at all (the root cause that explains every other forgery, so the
//! other checks defer to it instead of repeating it). Each is probed once, whichever check
//! asks first.
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

use crate::checks::{CheckMeta, Outcome};
use crate::engine::{BEARER_VAR, Compare, Ctx};
use crate::finding::Confidence;
use crate::http::{Exchange, Seg, Value};
use crate::oracle::{Oracle, Sample, Verdict};
use authprobe_jwt::attacks::{Forged, Signer};
use authprobe_jwt::{Alg, Edit, Jwt, PrivateKey, PublicKey, SigningKey};
use std::time::Duration;
use tokio::sync::OnceCell;

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

/// A key that signs tokens the server trusts.
pub struct KnownKey {
    pub alg: Alg,
    pub key: SigningKey,
    /// Where it came from, for finding texts that say "minted with the signing key {source}".
    pub source: String,
}

/// How minted tokens (expired, nbf, aud, iss) get a signature the server accepts, in order
/// of preference: a key given or recovered, the confused public key, alg none, or the
/// user's own signature kept over edited claims when the server does not verify signatures.
pub struct Minter {
    pub signer: Signer,
    /// How it was obtained, completing "the token was ...".
    pub how: String,
}

/// The cracker's result, for `jwt.weak_hmac_secret`.
pub struct CrackResult {
    pub secret: Option<Vec<u8>>,
    pub tried: u64,
    pub elapsed: Duration,
    pub stopped: String,
}

/// The server's public key and where it was found.
pub struct FoundKey {
    pub key: PublicKey,
    pub original: Option<Vec<u8>>,
    pub source: String,
}

/// A forgery whose variants keep every claim was accepted.
pub struct Accepted {
    /// The accepted variants (label and exchange), in the order sent; only well-formed ones
    /// when the server lets garbage through.
    pub variants: Vec<(String, Exchange)>,
    /// The first variant rebuilt with a claim the application does not use to find the user
    /// changed, when that was accepted too: the claims are not protected.
    pub unprotected: Option<Unprotected>,
    /// What the rebuilt tokens changed, each tried in turn, when none was accepted.
    pub protected_note: Option<String>,
}

/// An accepted change of a claim the application does not use to find the user.
pub struct Unprotected {
    /// The change, e.g. `claim "authprobe" added`.
    pub change: String,
    /// The marker the change carried, and whether the answer showed it.
    pub marker: String,
    pub echoed: bool,
}

/// What the primary probes of one forgery showed.
pub enum Probed {
    Accepted(Accepted),
    Refused,
    Inconclusive(String),
    NotApplicable(String),
}

/// A forgery several checks build on (a check reports it, the minted-token checks sign
/// with it), probed once.
pub struct SharedForgery {
    /// `None` when not probed because the server does not verify signatures at all.
    pub probed: Option<Probed>,
    /// The signer of each variant, by label, for minting with the accepted one.
    signers: Vec<(String, Signer)>,
    /// How the variants were keyed, for texts ("the public key from ...").
    pub what: String,
}

impl SharedForgery {
    /// The accepted variant whose claims were shown unprotected, as a minter.
    fn minter(&self, how: impl Fn(&str) -> String) -> Option<Minter> {
        let Some(Probed::Accepted(a)) = &self.probed else {
            return None;
        };
        a.unprotected.as_ref()?;
        let label = &a.variants.first()?.0;
        let signer = self.signers.iter().find(|(l, _)| l == label)?.1.clone();
        Some(Minter {
            signer,
            how: how(label),
        })
    }
}

/// Accepted forgeries of `jwt.signature_not_verified`, computed once.
pub struct Unverified {
    pub accepted: Vec<(String, Exchange)>,
    /// Claims changed under the original signature, when accepted too.
    pub unprotected: Option<Unprotected>,
    pub protected_note: Option<String>,
}

#[derive(Default)]
pub struct JwtShared {
    cracked: OnceCell<Option<CrackResult>>,
    key: OnceCell<Option<KnownKey>>,
    minter: OnceCell<Option<Minter>>,
    public_key: OnceCell<Option<FoundKey>>,
    unverified: OnceCell<Option<Unverified>>,
    confusion: OnceCell<Result<SharedForgery, String>>,
    alg_none: OnceCell<Result<SharedForgery, String>>,
}

/// The user's bearer token parsed as a JWT, if it is one.
pub fn user_jwt(ctx: &Ctx) -> Option<Jwt> {
    ctx.opts
        .creds
        .bearer
        .as_deref()
        .and_then(|t| Jwt::parse(t).ok())
}

/// Runs a check body only when the bearer is a JWT.
pub fn require_jwt(ctx: &Ctx) -> Result<Jwt, Outcome> {
    user_jwt(ctx).ok_or_else(|| Outcome::NotApplicable("the bearer token is not a JWT".into()))
}

pub fn token_alg(jwt: &Jwt) -> Option<Alg> {
    jwt.alg().and_then(Alg::from_name)
}

pub fn is_hmac(alg: Alg) -> bool {
    matches!(alg, Alg::Hs256 | Alg::Hs384 | Alg::Hs512)
}

impl JwtShared {
    /// Cracks an HS* bearer token once per scan, within `--crack-time`.
    pub async fn cracked(&self, ctx: &Ctx) -> Option<&CrackResult> {
        self.cracked
            .get_or_init(|| async {
                let token = ctx.opts.creds.bearer.clone()?;
                let jwt = Jwt::parse(&token).ok()?;
                if !token_alg(&jwt).is_some_and(is_hmac) {
                    return None;
                }
                let opts = ctx.opts.jwt.clone();
                let run = tokio::task::spawn_blocking(move || {
                    let target = authprobe_crack::Target::from_jwt(&token).ok()?;
                    let mut c = authprobe_crack::Cracker::new(target)
                        .source(authprobe_crack::Source::Builtin)
                        .rules(authprobe_crack::Rules::Default)
                        .time_budget(opts.crack_time);
                    for w in &opts.wordlists {
                        c = c.source(authprobe_crack::Source::File(w.clone()));
                    }
                    c.run().ok()
                });
                let outcome = run.await.ok()??;
                Some(CrackResult {
                    secret: outcome.found.clone(),
                    tried: outcome.tried,
                    elapsed: outcome.elapsed,
                    stopped: format!("{:?}", outcome.stopped).to_lowercase(),
                })
            })
            .await
            .as_ref()
    }

    /// A key that signs tokens the server accepts, in order of preference: given
    /// (`--jwt-secret`, `--jwt-key`), recovered by the cracker, or the server's public key
    /// used as an HMAC secret when `jwt.key_confusion` showed the server accepts that with
    /// changed claims.
    pub async fn key(&self, ctx: &Ctx) -> Option<&KnownKey> {
        self.key
            .get_or_init(|| async {
                let jwt = user_jwt(ctx)?;
                let alg = token_alg(&jwt)?;
                if let Some(secret) = &ctx.opts.jwt.secret {
                    let alg = if is_hmac(alg) { alg } else { Alg::Hs256 };
                    return Some(KnownKey {
                        alg,
                        key: SigningKey::Hmac(secret.as_bytes().to_vec()),
                        source: "given with --jwt-secret".into(),
                    });
                }
                if let Some(path) = &ctx.opts.jwt.key {
                    let pem = crate::files::read_pem_text(path, "--jwt-key").ok()?;
                    let key = PrivateKey::from_pem(&pem).ok()?;
                    let alg = if is_hmac(alg) { key.default_alg() } else { alg };
                    return Some(KnownKey {
                        alg,
                        key: SigningKey::Private(key),
                        source: "given with --jwt-key".into(),
                    });
                }
                if let Some(secret) = self.cracked(ctx).await.and_then(|c| c.secret.clone()) {
                    return Some(KnownKey {
                        alg,
                        key: SigningKey::Hmac(secret),
                        source: "recovered by cracking the token's HMAC secret".into(),
                    });
                }
                let confusion = self.confusion(ctx).await.as_ref().ok()?;
                let m = confusion.minter(|label| label.to_string())?;
                let Signer::Key { alg, key } = m.signer else {
                    return None;
                };
                Some(KnownKey {
                    alg,
                    key,
                    source: format!(
                        "confused from {} ({}), which jwt.key_confusion found accepted",
                        confusion.what, m.how
                    ),
                })
            })
            .await
            .as_ref()
    }

    /// How to sign minted tokens so that the server accepts them, in order of preference:
    /// [`Self::key`] (given, cracked, confused), alg none, or the original signature kept
    /// over edited claims when the server does not verify signatures. Each only when the
    /// scan saw the server accept it with changed claims.
    pub async fn minter(&self, ctx: &Ctx) -> Option<&Minter> {
        self.minter
            .get_or_init(|| async {
                if let Some(k) = self.key(ctx).await {
                    return Some(Minter {
                        signer: Signer::key(k.alg, k.key.clone()),
                        how: format!("minted with the signing key {}", k.source),
                    });
                }
                if let Ok(none) = self.alg_none(ctx).await
                    && let Some(m) = none.minter(|label| {
                        format!(
                            "forged unsigned with alg \"none\" ({label}), which jwt.alg_none found accepted with changed claims"
                        )
                    })
                {
                    return Some(m);
                }
                let u = self.unverified(ctx).await?;
                u.unprotected.as_ref()?;
                Some(Minter {
                    signer: Signer::OriginalSignature,
                    how: "forged from the user's token with its claims edited and its original signature kept, which the server accepts because it does not verify signatures (jwt.signature_not_verified)".into(),
                })
            })
            .await
            .as_ref()
    }

    /// The server's public key: `--jwt-public-key`, or a JWKS at the usual well-known paths
    /// of the target's origin (with the transport credential). Never the token's own `x5c`:
    /// that certificate is whatever the token says, not what the server trusts.
    pub async fn public_key(&self, ctx: &Ctx) -> Option<&FoundKey> {
        self.public_key
            .get_or_init(|| async { find_public_key(ctx).await })
            .await
            .as_ref()
    }

    /// Whether the server accepts tokens whose signature does not match: probed once with
    /// every claim kept (a random signature of the right length, one bit flipped); after
    /// acceptance, claims the application does not use to find the user are changed under
    /// the original signature.
    pub async fn unverified(&self, ctx: &Ctx) -> Option<&Unverified> {
        self.unverified
            .get_or_init(|| async {
                let jwt = user_jwt(ctx)?;
                let primary = authprobe_jwt::attacks::signature_not_verified(&jwt, &[])
                    .map_err(|e| e.to_string());
                let probed = probe_forgery(ctx, &jwt, primary, |_, edits| {
                    original_signature_kept(&jwt, edits)
                })
                .await;
                match probed {
                    Probed::Accepted(a) => Some(Unverified {
                        accepted: a.variants,
                        unprotected: a.unprotected,
                        protected_note: a.protected_note,
                    }),
                    _ => None,
                }
            })
            .await
            .as_ref()
    }

    /// `jwt.key_confusion`'s probes: the token HMAC-signed with the server's public key in
    /// every encoding, sent once. `Err` says why it does not apply; not probed when the
    /// server does not verify signatures at all.
    pub async fn confusion(&self, ctx: &Ctx) -> &Result<SharedForgery, String> {
        self.confusion
            .get_or_init(|| async {
                let jwt = user_jwt(ctx).ok_or("the bearer token is not a JWT")?;
                if token_alg(&jwt).is_some_and(is_hmac) {
                    return Err(
                        "the token is HMAC-signed: there is no public key to confuse".into(),
                    );
                }
                let found = self.public_key(ctx).await.ok_or(
                    "no public key found (give --jwt-public-key, or serve a JWKS at /.well-known/jwks.json)",
                )?;
                let signers = authprobe_jwt::attacks::key_confusion_signers(
                    &found.key,
                    found.original.as_deref(),
                )
                .map_err(|e| format!("could not encode the public key: {e}"))?;
                let what = format!("the public key from {}", found.source);
                let probed = match self.unverified(ctx).await {
                    Some(_) => None,
                    None => Some(probe_signers(ctx, &jwt, &signers).await),
                };
                Ok(SharedForgery {
                    probed,
                    signers,
                    what,
                })
            })
            .await
    }

    /// `jwt.alg_none`'s probes: the token unsigned with each spelling of `none`, sent once;
    /// not probed when the server does not verify signatures at all.
    pub async fn alg_none(&self, ctx: &Ctx) -> &Result<SharedForgery, String> {
        self.alg_none
            .get_or_init(|| async {
                let jwt = user_jwt(ctx).ok_or("the bearer token is not a JWT")?;
                let signers = authprobe_jwt::attacks::alg_none_signers();
                let probed = match self.unverified(ctx).await {
                    Some(_) => None,
                    None => Some(probe_signers(ctx, &jwt, &signers).await),
                };
                Ok(SharedForgery {
                    probed,
                    signers,
                    what: "alg none".into(),
                })
            })
            .await
    }
}

/// The user's token with `edits` applied and its original signature kept.
fn original_signature_kept(jwt: &Jwt, edits: &[Edit]) -> Option<String> {
    authprobe_jwt::attacks::signature_not_verified(jwt, edits)
        .ok()?
        .into_iter()
        .next()
        .map(|f| f.token)
}

/// Probes a forgery given as labelled signers: see [`probe_forgery`].
async fn probe_signers(ctx: &Ctx, jwt: &Jwt, signers: &[(String, Signer)]) -> Probed {
    let primary = signers
        .iter()
        .map(|(label, s)| {
            Ok(Forged {
                label: label.clone(),
                token: s.token(jwt, &[]).map_err(|e| e.to_string())?,
            })
        })
        .collect::<Result<Vec<_>, String>>();
    probe_forgery(ctx, jwt, primary, |label, edits| {
        let (_, s) = signers.iter().find(|(l, _)| l == label)?;
        s.token(jwt, edits).ok()
    })
    .await
}

async fn find_public_key(ctx: &Ctx) -> Option<FoundKey> {
    if let Some(path) = &ctx.opts.jwt.public_key {
        let pem = crate::files::read_pem_text(path, "--jwt-public-key").ok()?;
        let key = PublicKey::from_pem(&pem).ok()?;
        return Some(FoundKey {
            key,
            original: Some(pem.into_bytes()),
            source: format!("given with --jwt-public-key {}", path.display()),
        });
    }
    let jwt = user_jwt(ctx)?;
    for path in [
        "/.well-known/jwks.json",
        "/jwks.json",
        "/.well-known/openid-configuration",
    ] {
        let mut url = ctx.opts.target.clone();
        url.set_path(path);
        url.set_query(None);
        let Ok(x) = ctx
            .send(ctx.transport_probe("GET").with_url(url.clone()))
            .await
        else {
            continue;
        };
        let Some(a) = x.answer().filter(|a| a.status == 200) else {
            continue;
        };
        let mut body = a.body.clone();
        let mut source = url.to_string();
        if path.ends_with("openid-configuration") {
            let Some(jwks_uri) = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| {
                    v.get("jwks_uri")
                        .and_then(|u| u.as_str())
                        .map(str::to_string)
                })
                .and_then(|u| url::Url::parse(&u).ok())
                .filter(|u| u.origin() == ctx.opts.target.origin())
            else {
                continue;
            };
            let Ok(x) = ctx
                .send(ctx.transport_probe("GET").with_url(jwks_uri.clone()))
                .await
            else {
                continue;
            };
            let Some(a) = x.answer().filter(|a| a.status == 200) else {
                continue;
            };
            body = a.body.clone();
            source = jwks_uri.to_string();
        }
        let Ok(text) = std::str::from_utf8(&body) else {
            continue;
        };
        if let Some(key) = jwks_key(text, &jwt) {
            return Some(FoundKey {
                key,
                original: None,
                source: format!("the JWKS at {source}"),
            });
        }
    }
    None
}

/// The server key a JWKS document offers for `jwt`: the one its `kid` names, else the
/// first. The token contributes its `kid` and nothing else: its own `jwk`, `x5c` or `x5u`
/// are the attacker's word (what jwt.embedded_jwk and jwt.x5c_injection test), so they
/// never become the key that key confusion signs with.
fn jwks_key(jwks_text: &str, jwt: &Jwt) -> Option<PublicKey> {
    let jwks = authprobe_jwt::Jwks::parse(jwks_text).ok()?;
    let kid = jwt.header().get("kid").and_then(|k| k.as_str());
    let jwk = kid
        .and_then(|k| jwks.by_kid(k))
        .or_else(|| jwks.keys.first())?;
    match &jwk.key {
        authprobe_jwt::keys::JwkKey::Public(key) => Some(key.clone()),
        _ => None,
    }
}

/// A fresh marker value for a confirmation claim.
pub fn new_marker() -> String {
    format!("authprobe-{:06x}", rand::random::<u32>() & 0xff_ffff)
}

/// The role-like claim to set when confirming a forgery, and the marker the answer should
/// then show: `role`, `roles`, `scope` or `groups` when the token has one (a list or a
/// scope keeps what it had and gains the marker), else a new `role` claim. Never `sub`,
/// `user_id`, `uid`, `email`, `username` or `preferred_username`: an application that looks
/// the user up would refuse an unknown one for reasons unrelated to the flaw.
pub fn marker_edit(jwt: &Jwt) -> (Edit, String) {
    let marker = new_marker();
    let (_, edit) = authprobe_jwt::attacks::role_edit(jwt, &marker);
    (edit, marker)
}

/// A forged token as a header value. When the forgery carries the user's own signature,
/// that part is shown as `${AUTHPROBE_BEARER##*.}` so the report never holds it.
pub fn forged_value(ctx: &Ctx, token: &str) -> Value {
    if let Some(user) = ctx.opts.creds.bearer.as_deref()
        && let Some((_, sig)) = user.rsplit_once('.')
        && sig.len() >= 16
        && let Some(prefix) = token.strip_suffix(sig)
    {
        return Value::from_segs(vec![
            Seg::Lit(format!("Bearer {prefix}")),
            Seg::Secret {
                expr: format!("${{{BEARER_VAR}##*.}}"),
                raw: sig.to_string(),
            },
        ]);
    }
    Value::lit(format!("Bearer {token}"))
}

/// A token minted with the real signing key is a live credential: reports show a variable
/// in its place (or the token with `--show-secrets`).
pub fn minted_value(token: &str) -> Value {
    Value::prefixed_secret("Bearer ", "${AUTHPROBE_MINTED_TOKEN}", token)
}

pub use crate::engine::Trial;

pub fn oracle(ctx: &Ctx) -> Result<Oracle<'_>, String> {
    let o = ctx.judge(Compare::AppCredentialSwapped)?;
    if ctx.authorized_class().is_none() {
        return Err("no authorized baseline".into());
    }
    Ok(o)
}

/// Sends each token in place of the user's, over the user's transport, and judges it.
pub async fn try_values(ctx: &Ctx, values: Vec<(String, Value)>) -> Result<Vec<Trial>, String> {
    let oracle = oracle(ctx)?;
    let sent = futures::future::join_all(values.into_iter().map(|(label, v)| async move {
        let probe = ctx
            .transport_probe("GET")
            .without_header("Authorization")
            .header("Authorization", v);
        (label, ctx.send(probe).await)
    }))
    .await;
    let mut out = Vec::new();
    for (label, x) in sent {
        let exchange = x?;
        let verdict = oracle.judge(&Sample::from_exchange(&exchange));
        out.push(Trial {
            label,
            exchange,
            verdict,
        });
    }
    Ok(out)
}

pub async fn try_forged(ctx: &Ctx, forged: Vec<Forged>) -> Result<Vec<Trial>, String> {
    let values = forged
        .into_iter()
        .map(|f| {
            let v = forged_value(ctx, &f.token);
            (f.label, v)
        })
        .collect();
    try_values(ctx, values).await
}

/// Whether the authorized baseline already shows `marker` (then its echo proves nothing).
fn baseline_shows(ctx: &Ctx, marker: &str) -> bool {
    ctx.baselines.authorized.as_ref().is_some_and(|b| {
        b.exchanges
            .iter()
            .any(|x| x.answer().is_some_and(|a| a.body_text().contains(marker)))
    })
}

/// Sends `value` in place of the user's token; the verdict and whether the answer showed
/// `marker` where the authorized answer did not.
async fn send_marked(ctx: &Ctx, value: Value, marker: &str) -> Option<(Verdict, bool)> {
    let oracle = oracle(ctx).ok()?;
    let probe = ctx
        .transport_probe("GET")
        .without_header("Authorization")
        .header("Authorization", value);
    let x = ctx.send(probe).await.ok()?;
    let echoed =
        !baseline_shows(ctx, marker) && x.answer().is_some_and(|a| a.body_text().contains(marker));
    Some((oracle.judge(&Sample::from_exchange(&x)), echoed))
}

/// Does the answer to `value` show `marker` where the authorized answer did not (and is it
/// not a refusal)?
pub async fn confirms(ctx: &Ctx, value: Value, marker: &str) -> bool {
    matches!(
        send_marked(ctx, value, marker).await,
        Some((v, true)) if v != Verdict::Rejected
    )
}

/// Whether the probe's bearer is a well-formed JWS (three segments).
fn well_formed(t: &Trial) -> bool {
    let raw = String::from_utf8_lossy(
        t.exchange
            .probe
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .map_or(&[][..], |(_, v)| v.raw()),
    )
    .into_owned();
    raw.matches('.').count() == 2
}

/// Sends the primary variants of a forgery (every claim kept) and judges them. When one is
/// accepted, rebuilds the first accepted one (`rebuild(label, edits)`) with a claim the
/// application does not use to find the user changed, each of [`unused_claim_edits`] in
/// turn until one is accepted: then the claims are not protected.
///
/// [`unused_claim_edits`]: authprobe_jwt::attacks::unused_claim_edits
pub async fn probe_forgery(
    ctx: &Ctx,
    jwt: &Jwt,
    primary: Result<Vec<Forged>, String>,
    rebuild: impl Fn(&str, &[Edit]) -> Option<String>,
) -> Probed {
    let forged = match primary {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => return Probed::NotApplicable("no forgery applies to this token".into()),
        Err(e) => return Probed::Inconclusive(format!("could not build the forged tokens: {e}")),
    };
    debug_assert!(
        forged
            .iter()
            .all(|f| authprobe_jwt::attacks::keeps_identity(jwt, &f.token)),
        "a primary probe changed the identity"
    );
    let trials = match try_forged(ctx, forged).await {
        Ok(t) => t,
        Err(e) => return Probed::Inconclusive(e),
    };
    let refused = trials
        .iter()
        .filter(|t| t.verdict == Verdict::Rejected)
        .count();
    let first_inconclusive = match trials.first() {
        Some(Trial {
            verdict: Verdict::Inconclusive(r),
            ..
        }) => Some(r.clone()),
        _ => None,
    };
    let accepted: Vec<Trial> = trials
        .into_iter()
        .filter(|t| matches!(t.verdict, Verdict::Accepted { .. }))
        .collect();
    // A server that lets garbage through also lets through any forgery it cannot parse;
    // only well-formed forgeries (three segments) then prove anything about this check.
    // Asked only when a malformed forgery was accepted: the garbage probe is one some
    // servers never answer (an app that decodes without verifying, then crashes on null),
    // and waiting out the timeout for it would buy nothing when every accepted forgery is
    // well-formed anyway.
    let garbage = !accepted.iter().all(well_formed)
        && crate::checks::auth::malformed_token_accepted::garbage_accepted(ctx).await;
    let any_accepted = !accepted.is_empty();
    let variants: Vec<(String, Exchange)> = accepted
        .into_iter()
        .filter(|t| !garbage || well_formed(t))
        .map(|t| (t.label, t.exchange))
        .collect();
    let Some((label, _)) = variants.first() else {
        if garbage && any_accepted {
            return Probed::Inconclusive(
                "explained by auth.malformed_token_accepted: only forgeries the server cannot parse were accepted".into(),
            );
        }
        if refused == 0
            && let Some(r) = first_inconclusive
        {
            return Probed::Inconclusive(r);
        }
        return Probed::Refused;
    };
    let marker = new_marker();
    let mut tried = Vec::new();
    let mut unprotected = None;
    for (change, edit) in authprobe_jwt::attacks::unused_claim_edits(jwt, &marker) {
        let Some(token) = rebuild(label, std::slice::from_ref(&edit)) else {
            continue;
        };
        match send_marked(ctx, forged_value(ctx, &token), &marker).await {
            Some((Verdict::Accepted { .. }, echoed)) => {
                unprotected = Some(Unprotected {
                    change,
                    marker: marker.clone(),
                    echoed,
                });
                break;
            }
            _ => tried.push(change),
        }
    }
    let protected_note = unprotected.is_none().then(|| {
        if tried.is_empty() {
            "no change could be built".to_string()
        } else {
            tried.join(", ")
        }
    });
    Probed::Accepted(Accepted {
        variants,
        unprotected,
        protected_note,
    })
}

/// The finding for an accepted forgery. Its confidence comes from the confirmation probes,
/// in order: a claim the application does not use to find the user changed and still
/// accepted (firm: the claims are not protected), then a role-like claim set to a marker
/// that the answer shows (confirmed). With the first refused, the finding stays tentative.
#[allow(clippy::too_many_arguments)]
pub async fn report_accepted(
    ctx: &Ctx,
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
    ctx: &Ctx,
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
    ctx: &Ctx,
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

/// Masks a secret for display: first two and last two characters.
pub fn mask(secret: &[u8]) -> String {
    let s = String::from_utf8_lossy(secret);
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len().max(1));
    }
    format!(
        "{}{}{}",
        chars[..2].iter().collect::<String>(),
        "*".repeat(chars.len() - 4),
        chars[chars.len() - 2..].iter().collect::<String>()
    )
}

/// Sends a token minted with the known key (or another way of signing the server was shown
/// to accept, see [`JwtShared::minter`]) and reports when it is accepted. The minted token
/// keeps every claim but the ones `mint` changes, the identity included.
pub async fn minted_check(
    ctx: &Ctx,
    meta: &'static CheckMeta,
    mint: impl Fn(&Jwt, &Signer) -> Result<Vec<Forged>, String>,
    given: Option<(&str, String)>,
    what: &str,
) -> Outcome {
    let jwt = match require_jwt(ctx) {
        Ok(j) => j,
        Err(o) => return o,
    };
    let (values, how): (Vec<(String, Value)>, String) = match ctx.shared.jwt.minter(ctx).await {
        Some(m) => match mint(&jwt, &m.signer) {
            Ok(f) => (
                f.into_iter()
                    .map(|f| (f.label, minted_value(&f.token)))
                    .collect(),
                m.how.clone(),
            ),
            Err(e) => return Outcome::Inconclusive(format!("could not mint: {e}")),
        },
        None => match given {
            Some((label, token)) => (
                vec![(
                    label.to_string(),
                    Value::prefixed_secret("Bearer ", "${AUTHPROBE_GIVEN_TOKEN}", &token),
                )],
                "given on the command line".to_string(),
            ),
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
                "{what} ({}; the token was {how})\nThe token in the evidence is withheld as ${{AUTHPROBE_MINTED_TOKEN}}: it is a live credential; rerun with --show-secrets to print it.",
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    /// A token whose header carries an attacker's certificate in `x5c`, as the forgeries
    /// of jwt.x5c_injection do.
    fn token_with_x5c(attacker: &PrivateKey, kid: &str) -> Jwt {
        let pem = authprobe_jwt::attacks::self_signed_certificate_pem(attacker).unwrap();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let header = serde_json::json!({"alg": "ES256", "kid": kid, "x5c": [b64]});
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let p = URL_SAFE_NO_PAD.encode(r#"{"sub":"alice"}"#);
        let s = URL_SAFE_NO_PAD.encode([1u8; 64]);
        let jwt = Jwt::parse(&format!("{h}.{p}.{s}")).unwrap();
        // The certificate really is the attacker's key: the test would prove nothing else.
        let der = STANDARD.decode(&b64).unwrap();
        assert!(PublicKey::from_certificate_der(&der).unwrap() == attacker.public_key());
        jwt
    }

    #[test]
    fn the_tokens_own_x5c_is_never_the_servers_public_key() {
        let server = PrivateKey::generate_p256();
        let attacker = PrivateKey::generate_p256();
        let jwks = authprobe_jwt::keys::jwks_document(&server.public_key(), "srv-1", Alg::Es256);
        // The kid matches nothing: the fallback is the JWKS's first key, not the x5c.
        let jwt = token_with_x5c(&attacker, "no-such-kid");
        let found = jwks_key(&jwks, &jwt).expect("the JWKS key");
        assert!(found == server.public_key());
        assert!(found != attacker.public_key());
        // No key in the JWKS: nothing, though the token offers one.
        assert!(jwks_key(r#"{"keys":[]}"#, &jwt).is_none());
        assert!(jwks_key("not a jwks", &jwt).is_none());
    }
}
