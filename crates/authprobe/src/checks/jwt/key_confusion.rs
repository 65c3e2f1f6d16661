use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.key_confusion",
    title: "Token HMAC-signed with the server public key is accepted",
    family: Family::Jwt,
    severity: Severity::Critical,
    cwe: &[347, 327],
    owasp: &["API2"],
    description: "Finds the public key (--jwt-public-key, or a JWKS at the usual paths; never the token's own x5c) and signs the token with HS256/384/512 using its PEM, DER and JWK encodings as the secret.",
    needs: &[Need::Token],
    explained_by: &["jwt.signature_not_verified"],
    remediation: Remediation {
        summary: "Bind each key to one algorithm and pass that algorithm list to the verifier; an RSA/EC public key must never be usable as an HMAC secret.",
        frameworks: super::PINNED_ALGORITHMS,
    },
    references: &[
        "RFC 8725 §2.1",
        "RFC 8725 §3.1",
        "CVE-2015-9235",
        "https://auth0.com/blog/critical-vulnerabilities-in-json-web-token-libraries/",
    ],
    budget: crate::check::Budget::Fixed(48),
    lab_flaw: Some("jwt.key_confusion"),
    finds: "a token HMAC-signed with the server's public key (PEM, DER, JWK encodings) is accepted",
    needs_note: "+ public key (JWKS or `--jwt-public-key`; the token's own `x5c` is the attacker's, not the server's)",
};

pub struct KeyConfusion;

impl Check for KeyConfusion {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let jwt = match super::require_jwt(ctx) {
                Ok(j) => j,
                Err(o) => return o,
            };
            // A --jwt-public-key that cannot be used is the user's to hear about.
            if let Err(e) = ctx.facts().jwt.public_key(ctx).await {
                return Outcome::Inconclusive(e);
            }
            // Probed once, shared with the minted-token checks (the confused key signs for
            // them when it is accepted with changed claims).
            let shared = match ctx.facts().jwt.confusion(ctx).await {
                Ok(f) => f,
                Err(reason) => return Outcome::NotApplicable(reason.clone()),
            };
            let Ok(Some(found)) = ctx.facts().jwt.public_key(ctx).await else {
                return Outcome::NotApplicable("no public key found".into());
            };
            let build = |e: &[authprobe_jwt::Edit]| {
                authprobe_jwt::attacks::key_confusion(
                    &jwt,
                    e,
                    &found.key,
                    found.original.as_deref(),
                )
                .map_err(|e| e.to_string())
            };
            let what = format!(
                "a token HMAC-signed with {} got the authorized answer",
                shared.what
            );
            super::forgery_check_with(ctx, &META, &jwt, build, &what, shared.probed.as_ref()).await
        })
    }
}
