use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.psychic_signature",
    title: "ECDSA token with r = s = 0 is accepted (CVE-2022-21449)",
    family: Family::Jwt,
    severity: Severity::Critical,
    cwe: &[347],
    owasp: &["API2"],
    description: "For ES256/384/512 tokens, sends the token with an all-zero signature (raw and DER forms).",
    needs: &[Need::Token],
    explained_by: &["jwt.signature_not_verified"],
    remediation: Remediation {
        summary: "Upgrade the ECDSA implementation (Java 15-18 before the April 2022 patches are affected) and reject signatures with r or s outside 1..n-1.",
        frameworks: &[
            (
                "spring",
                "Upgrade the JDK to 17.0.3 / 18.0.1 or later (or 11/8 lines not affected); Nimbus verifies with the JDK provider.",
            ),
            (
                "django",
                "PyJWT with cryptography is not affected; if a Java service verifies for you, patch its JDK.",
            ),
            (
                "express",
                "Node crypto is not affected; check any Java-based gateway in front.",
            ),
            (
                "go",
                "crypto/ecdsa checks r and s ranges; check any Java component that verifies first.",
            ),
            (
                "gateway",
                "Patch Java-based gateways (older Keycloak adapters, Spring Cloud Gateway on a vulnerable JDK).",
            ),
        ],
    },
    references: &["CVE-2022-21449", "RFC 7518 §3.4"],
    budget: crate::check::Budget::Fixed(8),
    lab_flaw: Some("jwt.psychic_signature"),
    finds: "an ES256/384/512 token with r = s = 0 is accepted (CVE-2022-21449)",
    needs_note: "(ES256/384/512)",
};

pub struct PsychicSignature;

impl Check for PsychicSignature {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let jwt = match super::require_jwt(ctx) {
                Ok(j) => j,
                Err(o) => return o,
            };
            if !jwt.alg().is_some_and(|a| a.starts_with("ES")) {
                return Outcome::NotApplicable(
                    "the token is not ECDSA-signed (ES256/384/512)".into(),
                );
            }
            let build = |e: &[authprobe_jwt::Edit]| {
                authprobe_jwt::attacks::psychic_signature(&jwt, e).map_err(|e| e.to_string())
            };
            super::forgery_check(
                ctx,
                &META,
                &jwt,
                build,
                "an ECDSA token with r = s = 0 got the authorized answer",
            )
            .await
        })
    }
}
