//! The passive JWT checks read the token the user gave; they send nothing.

use crate::check::{CheckMeta, Outcome};
use crate::finding::{Confidence, Evidence};
use crate::scan::Scan;

pub fn run(ctx: &Scan, meta: &'static CheckMeta) -> Outcome {
    let jwt = match super::require_jwt(ctx) {
        Ok(j) => j,
        Err(o) => return o,
    };
    let policy = authprobe_jwt::Policy {
        max_lifetime_secs: ctx.opts().jwt.max_lifetime,
        now: Some(authprobe_jwt::attacks::unix_now()),
    };
    let found: Vec<_> = authprobe_jwt::analyze(&jwt, &policy)
        .into_iter()
        .filter(|o| o.id == meta.id)
        .collect();
    if found.is_empty() {
        return Outcome::Pass;
    }
    let detail = found
        .iter()
        .map(|o| o.detail.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    // The evidence is the token itself, claims shown, signature withheld, sensitive
    // values masked by the analyser's own detail text.
    let claims: Vec<String> = jwt.claims().keys().map(|k| k.to_string()).collect();
    let facts = format!(
        "decoded from the token (nothing extra sent)\nheader: {}\nclaims present: {}",
        jwt.header_json(),
        claims.join(", ")
    );
    // The request that presented the token is the evidence that it is in use.
    let evidence = match ctx
        .baselines()
        .authorized
        .as_ref()
        .and_then(|b| b.exchanges.first())
    {
        Some(x) => {
            let mut e = ctx.evidence(x);
            e.excerpt = facts;
            e
        }
        None => Evidence {
            request: "(passive: read from the token given with --bearer)".into(),
            status: None,
            excerpt: facts,
            curl: "curl -sS -i -H \"Authorization: Bearer ${AUTHPROBE_BEARER}\" URL".into(),
        },
    };
    Outcome::found(meta.finding(Confidence::Confirmed, detail, evidence))
}
