//! The JWT facts several checks share, each probed at most once per scan, whichever check
//! asks first: the parsed user token, the signing key when it is known (given, recovered by
//! the cracker, or the server's public key that key confusion proved usable as an HMAC
//! secret), the server's public key when it can be found, the crack result, the forgeries
//! several checks build on (alg none, key confusion), and whether the server verifies
//! signatures at all. With them, the forgery probing they are made of: every forgery's
//! primary probe keeps every claim byte for byte and breaks only what it tests; only after
//! acceptance are claims changed, first one the application does not use to find the user,
//! then a role-like claim. The identity claims never change for a verdict.

use crate::creds::BEARER_VAR;
use crate::facts::FactCell;
use crate::http::{Exchange, Seg, Value};
use crate::oracle::{Oracle, Sample, Verdict};
use crate::scan::{Compare, Scan, Trial};
use authprobe_jwt::attacks::{Forged, Signer};
use authprobe_jwt::{Alg, Edit, Jwt, PrivateKey, PublicKey, SigningKey};
use std::time::Duration;

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
pub struct JwtFacts {
    cracked: FactCell<Result<Option<CrackResult>, String>>,
    key: FactCell<Result<Option<KnownKey>, String>>,
    minter: FactCell<Result<Option<Minter>, String>>,
    public_key: FactCell<Result<Option<FoundKey>, String>>,
    unverified: FactCell<Option<Unverified>>,
    confusion: FactCell<Result<SharedForgery, String>>,
    alg_none: FactCell<Result<SharedForgery, String>>,
}

/// The user's bearer token parsed as a JWT, if it is one.
pub fn user_jwt(ctx: &Scan) -> Option<Jwt> {
    ctx.opts()
        .creds
        .bearer
        .as_deref()
        .and_then(|t| Jwt::parse(t).ok())
}

pub fn token_alg(jwt: &Jwt) -> Option<Alg> {
    jwt.alg().and_then(Alg::from_name)
}

pub fn is_hmac(alg: Alg) -> bool {
    matches!(alg, Alg::Hs256 | Alg::Hs384 | Alg::Hs512)
}

impl JwtFacts {
    /// Cracks an HS* bearer token once per scan, within `--crack-time`.
    /// `Err` when the cracker could not run (an unreadable `--wordlist`, say): the check
    /// then says so instead of passing.
    pub async fn cracked(&self, ctx: &Scan) -> Result<Option<&CrackResult>, String> {
        let r = self
            .cracked
            .get_or_init(|| async {
                let Some(token) = ctx.opts().creds.bearer.clone() else {
                    return Ok(None);
                };
                let Ok(jwt) = Jwt::parse(&token) else {
                    return Ok(None);
                };
                if !token_alg(&jwt).is_some_and(is_hmac) {
                    return Ok(None);
                }
                let opts = ctx.opts().jwt.clone();
                let run = tokio::task::spawn_blocking(move || {
                    let target = authprobe_crack::Target::from_jwt(&token)
                        .map_err(|e| format!("the cracker cannot take this token: {e}"))?;
                    let mut c = authprobe_crack::Cracker::new(target)
                        .source(authprobe_crack::Source::Builtin)
                        .rules(authprobe_crack::Rules::Default)
                        .time_budget(opts.crack_time);
                    for w in &opts.wordlists {
                        c = c.source(authprobe_crack::Source::File(w.clone()));
                    }
                    c.run().map_err(|e| format!("the cracker failed: {e}"))
                });
                let outcome = run
                    .await
                    .map_err(|e| format!("the cracker stopped: {e}"))??;
                Ok(Some(CrackResult {
                    secret: outcome.found.clone(),
                    tried: outcome.tried,
                    elapsed: outcome.elapsed,
                    stopped: format!("{:?}", outcome.stopped).to_lowercase(),
                }))
            })
            .await;
        settled(r)
    }

    /// A key that signs tokens the server accepts, in order of preference: given
    /// (`--jwt-secret`, `--jwt-key`), recovered by the cracker, or the server's public key
    /// used as an HMAC secret when `jwt.key_confusion` showed the server accepts that with
    /// changed claims.
    pub async fn key(&self, ctx: &Scan) -> Result<Option<&KnownKey>, String> {
        let r = self
            .key
            .get_or_init(|| async {
                let Some(jwt) = user_jwt(ctx) else {
                    return Ok(None);
                };
                let Some(alg) = token_alg(&jwt) else {
                    return Ok(None);
                };
                if let Some(secret) = &ctx.opts().jwt.secret {
                    let alg = if is_hmac(alg) { alg } else { Alg::Hs256 };
                    return Ok(Some(KnownKey {
                        alg,
                        key: SigningKey::Hmac(secret.as_bytes().to_vec()),
                        source: "given with --jwt-secret".into(),
                    }));
                }
                if let Some(path) = &ctx.opts().jwt.key {
                    // A key the user gave that cannot be read is their mistake to hear
                    // about, not a reason to report "needs the signing key".
                    let pem = crate::load::files::read_pem_text(path, "--jwt-key")
                        .map_err(|e| e.to_string())?;
                    let key = PrivateKey::from_pem(&pem)
                        .map_err(|e| format!("--jwt-key {}: {e}", path.display()))?;
                    let alg = if is_hmac(alg) { key.default_alg() } else { alg };
                    return Ok(Some(KnownKey {
                        alg,
                        key: SigningKey::Private(key),
                        source: "given with --jwt-key".into(),
                    }));
                }
                if let Some(secret) = self.cracked(ctx).await?.and_then(|c| c.secret.clone()) {
                    return Ok(Some(KnownKey {
                        alg,
                        key: SigningKey::Hmac(secret),
                        source: "recovered by cracking the token's HMAC secret".into(),
                    }));
                }
                let Ok(confusion) = self.confusion(ctx).await.as_ref() else {
                    return Ok(None);
                };
                let Some(m) = confusion.minter(|label| label.to_string()) else {
                    return Ok(None);
                };
                let Signer::Key { alg, key } = m.signer else {
                    return Ok(None);
                };
                Ok(Some(KnownKey {
                    alg,
                    key,
                    source: format!(
                        "confused from {} ({}), which jwt.key_confusion found accepted",
                        confusion.what, m.how
                    ),
                }))
            })
            .await;
        settled(r)
    }

    /// How to sign minted tokens so that the server accepts them, in order of preference:
    /// [`Self::key`] (given, cracked, confused), alg none, or the original signature kept
    /// over edited claims when the server does not verify signatures. Each only when the
    /// scan saw the server accept it with changed claims.
    pub async fn minter(&self, ctx: &Scan) -> Result<Option<&Minter>, String> {
        let r = self
            .minter
            .get_or_init(|| async {
                if let Some(k) = self.key(ctx).await? {
                    return Ok(Some(Minter {
                        signer: Signer::key(k.alg, k.key.clone()),
                        how: format!("minted with the signing key {}", k.source),
                    }));
                }
                if let Ok(none) = self.alg_none(ctx).await
                    && let Some(m) = none.minter(|label| {
                        format!(
                            "forged unsigned with alg \"none\" ({label}), which jwt.alg_none found accepted with changed claims"
                        )
                    })
                {
                    return Ok(Some(m));
                }
                let unprotected = self
                    .unverified(ctx)
                    .await
                    .is_some_and(|u| u.unprotected.is_some());
                Ok(unprotected.then(|| Minter {
                    signer: Signer::OriginalSignature,
                    how: "forged from the user's token with its claims edited and its original signature kept, which the server accepts because it does not verify signatures (jwt.signature_not_verified)".into(),
                }))
            })
            .await;
        settled(r)
    }

    /// The server's public key: `--jwt-public-key`, or a JWKS at the usual well-known paths
    /// of the target's origin (with the transport credential). Never the token's own `x5c`:
    /// that certificate is whatever the token says, not what the server trusts. `Err` when
    /// the given file cannot be used.
    pub async fn public_key(&self, ctx: &Scan) -> Result<Option<&FoundKey>, String> {
        let r = self
            .public_key
            .get_or_init(|| async { find_public_key(ctx).await })
            .await;
        settled(r)
    }

    /// Whether the server accepts tokens whose signature does not match: probed once with
    /// every claim kept (a random signature of the right length, one bit flipped); after
    /// acceptance, claims the application does not use to find the user are changed under
    /// the original signature.
    pub async fn unverified(&self, ctx: &Scan) -> Option<&Unverified> {
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
    pub async fn confusion(&self, ctx: &Scan) -> &Result<SharedForgery, String> {
        self.confusion
            .get_or_init(|| async {
                let jwt = user_jwt(ctx).ok_or("the bearer token is not a JWT")?;
                if token_alg(&jwt).is_some_and(is_hmac) {
                    return Err(
                        "the token is HMAC-signed: there is no public key to confuse".into(),
                    );
                }
                let found = self.public_key(ctx).await?.ok_or(
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
    pub async fn alg_none(&self, ctx: &Scan) -> &Result<SharedForgery, String> {
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

/// A fact as its askers take it: a borrowed value, or the error, copied.
fn settled<T>(r: &Result<Option<T>, String>) -> Result<Option<&T>, String> {
    r.as_ref().map(Option::as_ref).map_err(Clone::clone)
}

/// The user's token with `edits` applied and its original signature kept.
pub(crate) fn original_signature_kept(jwt: &Jwt, edits: &[Edit]) -> Option<String> {
    authprobe_jwt::attacks::signature_not_verified(jwt, edits)
        .ok()?
        .into_iter()
        .next()
        .map(|f| f.token)
}

/// Probes a forgery given as labelled signers: see [`probe_forgery`].
async fn probe_signers(ctx: &Scan, jwt: &Jwt, signers: &[(String, Signer)]) -> Probed {
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

async fn find_public_key(ctx: &Scan) -> Result<Option<FoundKey>, String> {
    if let Some(path) = &ctx.opts().jwt.public_key {
        let pem = crate::load::files::read_pem_text(path, "--jwt-public-key")
            .map_err(|e| e.to_string())?;
        let key = PublicKey::from_pem(&pem)
            .map_err(|e| format!("--jwt-public-key {}: {e}", path.display()))?;
        return Ok(Some(FoundKey {
            key,
            original: Some(pem.into_bytes()),
            source: format!("given with --jwt-public-key {}", path.display()),
        }));
    }
    Ok(discover_public_key(ctx).await)
}

/// A JWKS at the usual well-known paths of the target's origin.
async fn discover_public_key(ctx: &Scan) -> Option<FoundKey> {
    let jwt = user_jwt(ctx)?;
    for path in [
        "/.well-known/jwks.json",
        "/jwks.json",
        "/.well-known/openid-configuration",
    ] {
        let mut url = ctx.opts().target.clone();
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
                .filter(|u| u.origin() == ctx.opts().target.origin())
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
pub fn forged_value(ctx: &Scan, token: &str) -> Value {
    if let Some(user) = ctx.opts().creds.bearer.as_deref()
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
/// in its place (or the token with `--show-secrets`). Each kind of minted token has its
/// own variable ([`minted_var`]), so a secrets file can define them all at once.
pub fn minted_value(var: &str, token: &str) -> Value {
    Value::prefixed_secret("Bearer ", &format!("${{{var}}}"), token)
}

/// The variable of the tokens minted for `what` (a check id such as
/// `jwt.expired_accepted`, or a probe's name): `AUTHPROBE_MINTED_EXPIRED_ACCEPTED`.
pub fn minted_var(what: &str) -> String {
    let what = what.split_once('.').map_or(what, |(_, rest)| rest);
    format!("AUTHPROBE_MINTED_{}", crate::creds::env_name(what))
}

pub fn oracle(ctx: &Scan) -> Result<Oracle<'_>, String> {
    let o = ctx.judge(Compare::AppCredentialSwapped)?;
    if ctx.authorized_class().is_none() {
        return Err("no authorized baseline".into());
    }
    Ok(o)
}

/// Sends each token in place of the user's, over the user's transport, and judges it.
pub async fn try_values(ctx: &Scan, values: Vec<(String, Value)>) -> Result<Vec<Trial>, String> {
    let oracle = oracle(ctx)?;
    let sent = futures::future::join_all(values.into_iter().map(|(label, v)| async move {
        let probe = ctx
            .transport_probe(&ctx.opts().method)
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

pub async fn try_forged(ctx: &Scan, forged: Vec<Forged>) -> Result<Vec<Trial>, String> {
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
fn baseline_shows(ctx: &Scan, marker: &str) -> bool {
    ctx.baselines().authorized.as_ref().is_some_and(|b| {
        b.exchanges
            .iter()
            .any(|x| x.answer().is_some_and(|a| a.body_text().contains(marker)))
    })
}

/// Sends `value` in place of the user's token; the verdict and whether the answer showed
/// `marker` where the authorized answer did not.
async fn send_marked(ctx: &Scan, value: Value, marker: &str) -> Option<(Verdict, bool)> {
    let oracle = oracle(ctx).ok()?;
    let probe = ctx
        .transport_probe(&ctx.opts().method)
        .without_header("Authorization")
        .header("Authorization", value);
    let x = ctx.send(probe).await.ok()?;
    let echoed =
        !baseline_shows(ctx, marker) && x.answer().is_some_and(|a| a.body_text().contains(marker));
    Some((oracle.judge(&Sample::from_exchange(&x)), echoed))
}

/// Does the answer to `value` show `marker` where the authorized answer did not (and is it
/// not a refusal)?
pub async fn confirms(ctx: &Scan, value: Value, marker: &str) -> bool {
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
    ctx: &Scan,
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
    let garbage = !accepted.iter().all(well_formed) && ctx.facts().auth.garbage_accepted(ctx).await;
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
