//! `authprobe token inspect`: what a JWT says about itself, without sending anything.

use anyhow::Result;
use authprobe_jwt::{Jwt, Policy, analyze, header_notes, redact_token};
use std::time::Duration;

pub fn inspect(token: &str, json: bool, max_lifetime: Duration) -> Result<i32> {
    let jwt = Jwt::parse(token.trim())?;
    let policy = Policy {
        max_lifetime_secs: max_lifetime.as_secs(),
        now: Some(authprobe_jwt::attacks::unix_now()),
    };
    let observations = analyze(&jwt, &policy);
    let notes = header_notes(&jwt);
    let sensitive = authprobe_jwt::analyze::sensitive_claims(&jwt);
    // Claims are shown, except values the analyser flags as sensitive, which are masked
    // wherever they sit (paths look like `user.email` or `contacts[1]`).
    let mut claims = serde_json::Value::Object(jwt.claims().clone());
    for s in &sensitive {
        if let Some(v) = at_path(&mut claims, &s.path) {
            *v = serde_json::Value::String(s.masked.clone());
        }
    }
    let validity = validity(&jwt);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "token": redact_token(token.trim()),
                "header": jwt.header(),
                "claims": claims,
                "notes": notes.lines(),
                "validity": validity.as_ref().map(|(state, _)| state),
                "times": times(&jwt),
                "findings": observations.iter().map(|o| serde_json::json!({"id": o.id, "detail": o.detail})).collect::<Vec<_>>(),
            }))?
        );
    } else {
        println!("token   {}", redact_token(token.trim()));
        println!("header  {}", serde_json::to_string(jwt.header())?);
        println!(
            "claims  {}",
            serde_json::to_string_pretty(&claims)?.replace('\n', "\n        ")
        );
        for (name, human) in times(&jwt) {
            println!("{name:<7} {human}");
        }
        if let Some((state, why)) = &validity {
            println!("status  {state}: {why}");
        }
        for n in notes.lines() {
            println!("note    {n}");
        }
        if observations.is_empty() {
            println!("\nNo passive findings.");
        }
        for o in &observations {
            println!("finding {}  {}", o.id, o.detail);
        }
    }
    Ok(0)
}

/// `EXPIRED` or `NOT YET VALID` with the reason, judged against this machine's clock.
fn validity(jwt: &Jwt) -> Option<(&'static str, String)> {
    use authprobe::engine::preflight::{TokenTime, ago, token_time, utc};
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

/// The time claims as human dates (`exp 2026-12-01 16:47 UTC`).
fn times(jwt: &Jwt) -> Vec<(&'static str, String)> {
    ["iat", "nbf", "exp"]
        .into_iter()
        .filter_map(|n| {
            let v = jwt.claims().get(n)?.as_f64()?;
            (v >= 0.0).then(|| (n, authprobe::engine::preflight::utc(v as u64)))
        })
        .collect()
}

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
