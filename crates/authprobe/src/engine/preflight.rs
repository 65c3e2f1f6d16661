//! Preflight: before any probe, the user's credentials must get a success that the
//! refusals can be told apart from (DESIGN.md principle 2). Otherwise every verdict would
//! compare a refusal with refusals, so the scan stops with a line the user can act on.

use super::{Baseline, Baselines, ScanError, ScanOptions};
use crate::oracle::{Class, Oracle};
use std::time::{Duration, UNIX_EPOCH};

/// Why a token is not valid at this moment, by its own `exp`/`nbf` and this machine's
/// clock (seconds since the epoch; a negative claim counts as the epoch).
pub enum TokenTime {
    Expired { exp: u64, now: u64 },
    NotYetValid { nbf: u64, now: u64 },
}

pub fn token_time(jwt: &authprobe_jwt::Jwt) -> Option<TokenTime> {
    let now = authprobe_jwt::attacks::unix_now();
    let claim = |name: &str| {
        jwt.claims()
            .get(name)
            .and_then(|v| v.as_f64())
            .map(|f| f as u64)
    };
    if let Some(exp) = claim("exp")
        && exp <= now
    {
        return Some(TokenTime::Expired { exp, now });
    }
    claim("nbf")
        .filter(|nbf| *nbf > now)
        .map(|nbf| TokenTime::NotYetValid { nbf, now })
}

/// What the bearer's own `exp`/`nbf` say about it now, read locally before anything is
/// sent: `Some("the token's exp passed 1h ago (…)")` when it is not valid at this moment.
pub fn token_time_note(opts: &ScanOptions) -> Option<String> {
    let token = opts.creds.bearer.as_deref()?;
    let jwt = authprobe_jwt::Jwt::parse(token).ok()?;
    Some(match token_time(&jwt)? {
        TokenTime::Expired { exp, now } => {
            format!(
                "the token's exp passed {} ago ({})",
                ago(now - exp),
                utc(exp)
            )
        }
        TokenTime::NotYetValid { nbf, now } => format!(
            "the token is not valid before {} ({} from now)",
            utc(nbf),
            ago(nbf - now)
        ),
    })
}

/// `2026-12-01 16:47 UTC`.
pub fn utc(secs: u64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(secs.min(253_402_300_799));
    let s = humantime::format_rfc3339_seconds(t).to_string();
    // 2026-12-01T16:47:05Z -> 2026-12-01 16:47 UTC
    match s.get(..16) {
        Some(d) => format!("{} UTC", d.replace('T', " ")),
        None => s,
    }
}

/// A duration rounded to its largest unit or two: `1h 2m`, `3d`, `45s`.
pub fn ago(secs: u64) -> String {
    let rounded = if secs >= 86_400 {
        secs - secs % 3600
    } else if secs >= 3600 {
        secs - secs % 60
    } else {
        secs
    };
    humantime::format_duration(Duration::from_secs(rounded)).to_string()
}

/// Which credentials the user gave, as they would name them.
fn given(opts: &ScanOptions) -> String {
    let c = &opts.creds;
    let mut v = Vec::new();
    if c.bearer.is_some() {
        v.push("--bearer");
    }
    if c.basic.is_some() {
        v.push("--basic");
    }
    if c.client.is_some() {
        v.push("--client-cert");
    }
    if !c.headers.is_empty() && v.is_empty() {
        v.push("--header");
    }
    v.join(" with ")
}

/// The first answer of a baseline in one line: status and the start of the body, with
/// the user's secrets removed (servers echo tokens in their errors).
fn excerpt(b: &Baseline, opts: &ScanOptions) -> String {
    let Some(x) = b.exchanges.first() else {
        return "no answer".into();
    };
    match &x.result {
        Err(e) => e.to_string(),
        Ok(a) => {
            let mut body: String = a
                .body_text()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            for s in opts.creds.secrets() {
                body = body.replace(&s, "[redacted]");
            }
            if body.chars().count() > 160 {
                body = body.chars().take(160).collect::<String>() + "…";
            }
            let loc = a
                .header("location")
                .map(|l| format!(" to {l}"))
                .unwrap_or_default();
            format!("{}{loc} {body}", a.status).trim_end().to_string()
        }
    }
}

pub fn check(opts: &ScanOptions, b: &Baselines) -> Result<(), ScanError> {
    let Some(auth) = &b.authorized else {
        return Ok(());
    };
    let time = token_time_note(opts)
        .map(|n| format!("; {n}"))
        .unwrap_or_default();
    let creds = given(opts);
    if let Some(e) = auth.class.failure() {
        return Err(ScanError::Unreachable(format!(
            "the request with your {creds} got no answer: {e}"
        )));
    }
    if !auth.class.all_success() {
        let why = if auth.class.samples.iter().any(|s| s.status.is_none()) {
            format!("the TLS handshake was refused ({})", excerpt(auth, opts))
        } else {
            excerpt(auth, opts)
        };
        return Err(ScanError::CredentialsRefused(format!(
            "the server refused your {creds}: {why}{time}; give credentials that get the resource's authorized answer"
        )));
    }
    let refusals: Vec<(&str, &Class)> = [
        ("no credentials", Some(&b.anonymous)),
        ("an invalid credential", b.invalid.as_ref()),
        (
            "the certificate without the token",
            b.transport_only.as_ref(),
        ),
        (
            "the token without the certificate",
            b.app_without_cert.as_ref(),
        ),
    ]
    .into_iter()
    .filter_map(|(l, c)| c.map(|c| (l, &c.class)))
    .collect();
    let oracle = Oracle::new(
        Some(&auth.class),
        refusals.iter().map(|(_, c)| *c).collect(),
    );
    // An operation the API description declares protected that answers everyone alike
    // is the finding itself (auth.missing judges it against the declaration), not a
    // reason to stop.
    let declared_but_open = opts.declared_protected && b.anonymous.class.all_success();
    if oracle.usable().is_err() && !declared_but_open {
        let others = refusals
            .iter()
            .map(|(l, c)| format!("{l}: {}", c.describe()))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ScanError::CredentialsRefused(format!(
            "the answer with your {creds} ({}) cannot be told apart from the answers without them ({others}): {} looks public or enforces no authentication; point authprobe at a protected resource",
            auth.class.describe(),
            opts.target
        )));
    }
    Ok(())
}
