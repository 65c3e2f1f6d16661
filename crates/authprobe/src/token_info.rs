//! What a JWT says about itself, read offline: `authprobe token inspect` and the MCP
//! server's `inspect_token` show the same thing. Nothing is sent anywhere.

use authprobe_jwt::{Jwt, Policy, analyze, header_notes, redact_token};
use serde::Serialize;
use std::time::Duration;

#[derive(Clone, Debug, Serialize)]
pub struct TokenInfo {
    /// The token itself, redacted as reports redact it.
    pub token: String,
    pub header: serde_json::Map<String, serde_json::Value>,
    /// The claims, with the values the analyser flags as sensitive masked wherever they sit.
    pub claims: serde_json::Value,
    pub notes: Vec<String>,
    /// `EXPIRED` or `NOT YET VALID`, judged against this machine's clock; `None` when valid
    /// now or without time claims.
    pub validity: Option<&'static str>,
    /// Why [`Self::validity`] says so.
    #[serde(skip)]
    pub validity_reason: Option<String>,
    /// The time claims as UTC dates: `("exp", "2026-12-01 16:47 UTC")`.
    pub times: Vec<(&'static str, String)>,
    pub findings: Vec<PassiveFinding>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PassiveFinding {
    pub id: &'static str,
    pub detail: String,
}

/// Parses and judges `token` against `max_lifetime` (`--max-token-lifetime`).
pub fn inspect(token: &str, max_lifetime: Duration) -> Result<TokenInfo, String> {
    let token = token.trim();
    let jwt = Jwt::parse(token).map_err(|e| e.to_string())?;
    let policy = Policy {
        max_lifetime_secs: max_lifetime.as_secs(),
        now: Some(authprobe_jwt::attacks::unix_now()),
    };
    let observations = analyze(&jwt, &policy);
    let mut claims = serde_json::Value::Object(jwt.claims().clone());
    for s in authprobe_jwt::analyze::sensitive_claims(&jwt) {
        if let Some(v) = at_path(&mut claims, &s.path) {
            *v = serde_json::Value::String(s.masked.clone());
        }
    }
    let validity = validity(&jwt);
    Ok(TokenInfo {
        token: redact_token(token),
        header: jwt.header().clone(),
        claims,
        notes: header_notes(&jwt).lines(),
        validity: validity.as_ref().map(|(state, _)| *state),
        validity_reason: validity.map(|(_, why)| why),
        times: times(&jwt),
        findings: observations
            .iter()
            .map(|o| PassiveFinding {
                id: o.id,
                detail: o.detail.clone(),
            })
            .collect(),
    })
}

/// `EXPIRED` or `NOT YET VALID` with the reason, judged against this machine's clock.
fn validity(jwt: &Jwt) -> Option<(&'static str, String)> {
    use crate::engine::preflight::{TokenTime, ago, token_time, utc};
    Some(match token_time(jwt)? {
        TokenTime::Expired { exp, now } => (
            "EXPIRED",
            format!("exp passed {} ago ({})", ago(now - exp), utc(exp)),
        ),
        TokenTime::NotYetValid { nbf, now } => (
            "NOT YET VALID",
            format!("nbf is {} from now ({})", ago(nbf - now), utc(nbf)),
        ),
    })
}

fn times(jwt: &Jwt) -> Vec<(&'static str, String)> {
    ["iat", "nbf", "exp"]
        .into_iter()
        .filter_map(|n| {
            let v = jwt.claims().get(n)?.as_f64()?;
            (v >= 0.0).then(|| (n, crate::engine::preflight::utc(v as u64)))
        })
        .collect()
}

/// The value at an analyser path such as `user.contacts[1].email`.
fn at_path<'a>(root: &'a mut serde_json::Value, path: &str) -> Option<&'a mut serde_json::Value> {
    let mut cur = root;
    for part in path.split('.') {
        let (name, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            cur = cur.get_mut(name)?;
        }
        for idx in indices.split('[').filter(|s| !s.is_empty()) {
            let n: usize = idx.trim_end_matches(']').parse().ok()?;
            cur = cur.get_mut(n)?;
        }
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_reach_nested_values() {
        let mut v = serde_json::json!({"user": {"contacts": ["a", {"email": "x@y.z"}]}});
        *super::at_path(&mut v, "user.contacts[1].email").unwrap() = "masked".into();
        assert_eq!(v["user"]["contacts"][1]["email"], "masked");
        assert!(super::at_path(&mut v, "user.nope").is_none());
    }
}
