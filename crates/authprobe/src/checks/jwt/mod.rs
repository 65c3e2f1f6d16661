//! The `jwt.*` checks and what they share: the parsed user token, the signing key when it
//! is known (given, or recovered by the cracker), the server's public key when it can be
//! found, and whether the server verifies signatures at all (the root cause that explains
//! every other forgery, so the other checks defer to it instead of repeating it).

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

use crate::checks::{CheckMeta, Outcome};
use crate::engine::{BEARER_VAR, Compare, Ctx};
use crate::finding::Confidence;
use crate::http::{Exchange, Seg, Value};
use crate::oracle::{Oracle, Sample, Verdict};
use authprobe_jwt::attacks::Forged;
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
    /// Where it came from, for finding texts ("given with --jwt-key", "recovered").
    pub source: String,
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

/// Accepted forgeries of `jwt.signature_not_verified`, computed once.
pub struct Unverified {
    pub accepted: Vec<(String, Exchange)>,
}

#[derive(Default)]
pub struct JwtShared {
    cracked: OnceCell<Option<CrackResult>>,
    key: OnceCell<Option<KnownKey>>,
    public_key: OnceCell<Option<FoundKey>>,
    unverified: OnceCell<Option<Unverified>>,
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

    /// The signing key: given (`--jwt-secret`, `--jwt-key`) or recovered by the cracker.
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
                    let pem = std::fs::read_to_string(path).ok()?;
                    let key = PrivateKey::from_pem(&pem).ok()?;
                    let alg = if is_hmac(alg) { key.default_alg() } else { alg };
                    return Some(KnownKey {
                        alg,
                        key: SigningKey::Private(key),
                        source: "given with --jwt-key".into(),
                    });
                }
                let secret = self.cracked(ctx).await?.secret.clone()?;
                Some(KnownKey {
                    alg,
                    key: SigningKey::Hmac(secret),
                    source: "recovered by cracking the token's HMAC secret".into(),
                })
            })
            .await
            .as_ref()
    }

    /// The server's public key: `--jwt-public-key`, the token's `x5c`, or a JWKS at the
    /// usual well-known paths of the target's origin (with the transport credential).
    pub async fn public_key(&self, ctx: &Ctx) -> Option<&FoundKey> {
        self.public_key
            .get_or_init(|| async { find_public_key(ctx).await })
            .await
            .as_ref()
    }

    /// Whether the server accepts tokens whose signature does not match: probed once.
    pub async fn unverified(&self, ctx: &Ctx) -> Option<&Unverified> {
        self.unverified
            .get_or_init(|| async {
                let jwt = user_jwt(ctx)?;
                let marker = marker_edit(&jwt);
                let forged = authprobe_jwt::attacks::signature_not_verified(
                    &jwt,
                    std::slice::from_ref(&marker.0),
                )
                .ok()?;
                let trials = try_forged(ctx, forged).await.ok()?;
                let accepted: Vec<_> = trials
                    .into_iter()
                    .filter(|t| matches!(t.verdict, Verdict::Accepted { .. }))
                    .map(|t| (t.label, t.exchange))
                    .collect();
                (!accepted.is_empty()).then_some(Unverified { accepted })
            })
            .await
            .as_ref()
    }
}

async fn find_public_key(ctx: &Ctx) -> Option<FoundKey> {
    if let Some(path) = &ctx.opts.jwt.public_key {
        let pem = std::fs::read_to_string(path).ok()?;
        let key = PublicKey::from_pem(&pem).ok()?;
        return Some(FoundKey {
            key,
            original: Some(pem.into_bytes()),
            source: format!("given with --jwt-public-key {}", path.display()),
        });
    }
    let jwt = user_jwt(ctx)?;
    let kid = jwt
        .header()
        .get("kid")
        .and_then(|k| k.as_str())
        .map(str::to_string);
    if let Some(der) = jwt
        .header()
        .get("x5c")
        .and_then(|v| v.as_array())
        .and_then(|a| a.first())
        .and_then(|c| c.as_str())
        .and_then(|c| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(c).ok()
        })
        && let Ok(key) = PublicKey::from_certificate_der(&der)
    {
        return Some(FoundKey {
            key,
            original: None,
            source: "the token's x5c certificate".into(),
        });
    }
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
        let Ok(jwks) = authprobe_jwt::Jwks::parse(text) else {
            continue;
        };
        let chosen = kid
            .as_deref()
            .and_then(|k| jwks.by_kid(k))
            .or_else(|| jwks.keys.first());
        if let Some(jwk) = chosen
            && let authprobe_jwt::keys::JwkKey::Public(key) = &jwk.key
        {
            return Some(FoundKey {
                key: key.clone(),
                original: None,
                source: format!("the JWKS at {source}"),
            });
        }
    }
    None
}

/// The claim to change when confirming a forgery, and a marker value the answer should
/// then show: a role-like claim when the token has one (the answer usually echoes it and
/// the identity stays valid), else `sub`.
pub fn marker_edit(jwt: &Jwt) -> (Edit, String) {
    let marker = format!("authprobe-{:06x}", rand::random::<u32>() & 0xff_ffff);
    let claim = ["role", "roles", "scope", "groups", "sub"]
        .into_iter()
        .find(|c| jwt.claims().contains_key(*c))
        .unwrap_or("sub");
    (Edit::set(claim, marker.as_str()), marker)
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

pub struct Trial {
    pub label: String,
    pub exchange: Exchange,
    pub verdict: Verdict,
}

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

/// Does the answer to `token` show `marker` where the authorized answer did not?
pub async fn confirms(ctx: &Ctx, value: Value, marker: &str) -> bool {
    let baseline_has = ctx.baselines.authorized.as_ref().is_some_and(|b| {
        b.exchanges
            .iter()
            .any(|x| x.answer().is_some_and(|a| a.body_text().contains(marker)))
    });
    if baseline_has {
        return false;
    }
    let probe = ctx
        .transport_probe("GET")
        .without_header("Authorization")
        .header("Authorization", value);
    ctx.send(probe)
        .await
        .ok()
        .and_then(|x| x.answer().map(|a| a.body_text().contains(marker)))
        .unwrap_or(false)
}

/// The common shape of a forgery check: send every variant; if any is accepted, rebuild
/// that variant with a marker claim and see whether the answer follows it.
pub async fn forgery_check(
    ctx: &Ctx,
    meta: &'static CheckMeta,
    jwt: &Jwt,
    build: impl Fn(&[Edit]) -> Result<Vec<Forged>, String>,
    what: &str,
) -> Outcome {
    let forged = match build(&[]) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => return Outcome::NotApplicable("no forgery applies to this token".into()),
        Err(e) => return Outcome::Inconclusive(format!("could not build the forged tokens: {e}")),
    };
    let trials = match try_forged(ctx, forged).await {
        Ok(t) => t,
        Err(e) => return Outcome::Inconclusive(e),
    };
    // A server that lets garbage through also lets through any forgery it cannot parse;
    // only well-formed forgeries (three segments) then prove anything about this check.
    let garbage = crate::checks::auth::malformed_token_accepted::garbage_accepted(ctx).await;
    let well_formed = |t: &Trial| {
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
    };
    let accepted: Vec<&Trial> = trials
        .iter()
        .filter(|t| matches!(t.verdict, Verdict::Accepted { .. }))
        .filter(|t| !garbage || well_formed(t))
        .collect();
    if garbage
        && accepted.is_empty()
        && trials
            .iter()
            .any(|t| matches!(t.verdict, Verdict::Accepted { .. }))
    {
        return Outcome::Inconclusive(
            "explained by auth.malformed_token_accepted: only forgeries the server cannot parse were accepted".into(),
        );
    }
    let Some(first) = accepted.first() else {
        let refused = trials
            .iter()
            .filter(|t| t.verdict == Verdict::Rejected)
            .count();
        if refused == 0
            && let Some(Trial {
                verdict: Verdict::Inconclusive(r),
                ..
            }) = trials.first()
        {
            return Outcome::Inconclusive(r.clone());
        }
        return Outcome::Pass;
    };
    let (edit, marker) = marker_edit(jwt);
    let confirmed = match build(std::slice::from_ref(&edit)) {
        Ok(again) => match again.into_iter().find(|f| f.label == first.label) {
            Some(f) => confirms(ctx, forged_value(ctx, &f.token), &marker).await,
            None => false,
        },
        Err(_) => false,
    };
    let list = accepted
        .iter()
        .map(|t| t.label.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let (confidence, note) = if confirmed {
        (
            Confidence::Confirmed,
            format!(
                "Confirmed: with a claim changed to {marker:?} the answer followed the forged value."
            ),
        )
    } else {
        (
            Confidence::Firm,
            "The answer matched the authorized one; changing a claim did not visibly change it, so the forged identity was not confirmed.".to_string(),
        )
    };
    Outcome::found(meta.finding(
        confidence,
        format!(
            "{what} ({})\n{note}\nAccepted variants: {list}.",
            first.label
        ),
        ctx.evidence(&first.exchange),
    ))
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

/// Sends a token minted with the known key and reports when it is accepted.
pub async fn minted_check(
    ctx: &Ctx,
    meta: &'static CheckMeta,
    mint: impl Fn(&Jwt, &KnownKey) -> Result<Vec<Forged>, String>,
    given: Option<(&str, String)>,
    what: &str,
) -> Outcome {
    let jwt = match require_jwt(ctx) {
        Ok(j) => j,
        Err(o) => return o,
    };
    let (values, how): (Vec<(String, Value)>, String) = match ctx.shared.jwt.key(ctx).await {
        Some(k) => match mint(&jwt, k) {
            Ok(f) => (
                f.into_iter()
                    .map(|f| (f.label, minted_value(&f.token)))
                    .collect(),
                format!("minted with the signing key {}", k.source),
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
                    "needs the signing key (--jwt-secret, --jwt-key, or a crackable HMAC secret) or a suitable token".into(),
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
