use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.alg_none",
    title: "Token re-issued with alg \"none\" is accepted",
    family: Family::Jwt,
    severity: Severity::Critical,
    cwe: &[347, 327],
    owasp: &["API2"],
    description: "Sends the token with alg none, None, NONE and nOnE, with and without the trailing dot, every claim kept; once accepted, confirms by adding a claim the application does not use to find the user, then by setting a role-like claim.",
    needs: &[Need::Token],
    explained_by: &["jwt.signature_not_verified"],
    remediation: Remediation {
        summary: "Pin the accepted algorithms to the one you issue; reject alg none in any spelling; verify every token with your key.",
        frameworks: super::PINNED_ALGORITHMS,
    },
    references: &[
        "RFC 7518 §3.6",
        "RFC 8725 §3.1",
        "https://auth0.com/blog/critical-vulnerabilities-in-json-web-token-libraries/",
    ],
    budget: crate::check::Budget::Fixed(24),
    lab_flaw: Some("jwt.alg_none"),
    finds: "the token re-issued with `alg: none` (none/None/NONE/nOnE, with and without the trailing dot) is accepted",
    needs_note: "",
};

pub struct AlgNone;

impl Check for AlgNone {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let jwt = match super::require_jwt(ctx) {
                Ok(j) => j,
                Err(o) => return o,
            };
            // Probed once, shared with the minted-token checks (alg none signs for them when
            // it is accepted with changed claims).
            let shared = match ctx.facts().jwt.alg_none(ctx).await {
                Ok(f) => f,
                Err(reason) => return Outcome::NotApplicable(reason.clone()),
            };
            let build = |e: &[authprobe_jwt::Edit]| {
                authprobe_jwt::attacks::alg_none(&jwt, e).map_err(|e| e.to_string())
            };
            super::forgery_check_with(
                ctx,
                &META,
                &jwt,
                build,
                "an unsigned token with alg \"none\" got the authorized answer",
                shared.probed.as_ref(),
            )
            .await
        })
    }
}
