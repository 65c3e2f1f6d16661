use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.kid_injection",
    title: "kid path traversal or injection selects a predictable key",
    family: Family::Jwt,
    severity: Severity::Critical,
    cwe: &[347, 22, 89],
    owasp: &["API2"],
    description: "Sends tokens whose kid points at files of known content (/dev/null, /proc/sys/kernel/ostype) or injects SQL that selects a chosen key, each HMAC-signed with that content.",
    needs: &[Need::Token],
    explained_by: &["jwt.signature_not_verified"],
    remediation: Remediation {
        summary: "Look kid up in a fixed map of your keys; never use it in a path, a query or a command.",
        frameworks: &[
            (
                "django",
                "Resolve kid with a dict of allowed keys (or PyJWKClient against your own JWKS); reject unknown kids before verifying.",
            ),
            (
                "express",
                "In the jwks-rsa/getKey callback, accept only kids from your JWKS; never read files or query a database with the raw kid.",
            ),
            (
                "spring",
                "Use a JWKSource over your own JWKS; a custom JWSKeySelector must not build paths or SQL from the kid.",
            ),
            (
                "go",
                "In keyFunc, look the kid up in a map; return an error for any other value.",
            ),
            (
                "gateway",
                "Let the gateway verify against a pinned JWKS; do not forward kid to key-loading code.",
            ),
        ],
    },
    references: &["RFC 7515 §4.1.4", "RFC 8725 §3.10"],
    budget: crate::check::Budget::Fixed(14),
    lab_flaw: Some("jwt.kid_injection"),
    finds: "a `kid` path traversal or SQL injection selects a predictable key",
    needs_note: "",
};

pub struct KidInjection;

impl Check for KidInjection {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let jwt = match super::require_jwt(ctx) {
                Ok(j) => j,
                Err(o) => return o,
            };
            let build = |e: &[authprobe_jwt::Edit]| {
                authprobe_jwt::attacks::kid_injection(&jwt, e).map_err(|e| e.to_string())
            };
            super::forgery_check(
                ctx,
                &META,
                &jwt,
                build,
                "a token whose kid selects a predictable key got the authorized answer",
            )
            .await
        })
    }
}
