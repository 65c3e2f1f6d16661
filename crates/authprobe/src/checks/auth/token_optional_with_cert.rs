use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::http::Value;
use crate::oracle::{Sample, Verdict};
use crate::scan::{Compare, Scan};

pub static META: CheckMeta = CheckMeta {
    id: "auth.token_optional_with_cert",
    title: "With a valid client certificate, no token is needed",
    family: Family::Auth,
    severity: Severity::High,
    cwe: &[306],
    owasp: &["API2"],
    description: "Sends the user's client certificate with no Authorization header, with an empty bearer, and with a malformed one, and compares each answer with the authorized one and with the invalid-token answer.",
    needs: &[Need::Cert, Need::AnyOf(&[Need::Token, Need::Basic])],
    explained_by: &[],
    remediation: Remediation {
        summary: "Require the application credential on every request even when the connection carries a verified certificate: the certificate authenticates the client machine, the token the user and its grants. A missing or empty token must be answered 401, like a bad one.",
        frameworks: &[
            (
                "django",
                "List only the token class in DEFAULT_AUTHENTICATION_CLASSES for these views (a certificate backend that logs the user in when no token is present makes the token optional); keep IsAuthenticated and check request.auth is a token.",
            ),
            (
                "express",
                "Keep express-jwt's credentialsRequired: true on the routes; a middleware that sets req.user from the certificate must not let a request without a token through.",
            ),
            (
                "spring",
                "Do not combine x509() and oauth2ResourceServer() so that either one suffices: require both (an AuthorizationManager that checks the JwtAuthenticationToken and the certificate).",
            ),
            (
                "go",
                "In the middleware, a missing or empty Authorization header is a 401 whatever r.TLS.PeerCertificates holds.",
            ),
            (
                "gateway",
                "Envoy jwt_authn: requires without allow_missing on mTLS routes; Kong: do not enable anonymous on the jwt plugin of certificate-authenticated routes.",
            ),
        ],
    },
    references: &["RFC 6750 §2.1", "RFC 8705 §3"],
    budget: crate::check::Budget::Fixed(8),
    lab_flaw: Some("auth.token_optional_with_cert"),
    finds: "with the user's client certificate, no Authorization header at all gets the authorized answer (an empty or malformed bearer getting it too is added to the finding)",
    needs_note: "",
};

pub struct TokenOptionalWithCert;

impl Check for TokenOptionalWithCert {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let b = ctx.baselines();
            if !ctx.opts().creds.has_app_credentials() {
                return Outcome::NotApplicable(
                    "needs an application credential (--bearer or --basic) besides the certificate"
                        .into(),
                );
            }
            let oracle = match ctx.judge(Compare::CertAlone) {
                Ok(o) => o,
                Err(e) => return Outcome::Inconclusive(e),
            };
            if !ctx.facts().auth.cert_alone_accepted(ctx).await {
                return Outcome::Pass;
            }
            let Some(x) = b.transport_only.as_ref().and_then(|t| t.exchanges.first()) else {
                return Outcome::Pass;
            };
            // An empty or malformed bearer accepted on its own is
            // auth.malformed_token_accepted's finding; here it only adds to the picture.
            let tries = [
                ("an empty bearer", "Bearer "),
                ("a malformed bearer", "Bearer authprobe-not-a-token"),
            ];
            let sent = futures::future::join_all(tries.iter().map(|(label, v)| async move {
                let p = ctx
                    .transport_probe(&ctx.opts().method)
                    .without_header("Authorization")
                    .header("Authorization", Value::lit(*v));
                (*label, ctx.send(p).await)
            }))
            .await;
            let also: Vec<&str> = sent
                .iter()
                .filter(|(_, x)| {
                    x.as_ref().is_ok_and(|x| {
                        matches!(
                            oracle.judge(&Sample::from_exchange(x)),
                            Verdict::Accepted { .. }
                        )
                    })
                })
                .map(|(l, _)| *l)
                .collect();
            let also = if also.is_empty() {
                String::new()
            } else {
                format!(" With the certificate, {} got it too.", also.join(" and "))
            };
            Outcome::found(META.finding(
                Confidence::Firm,
                format!(
                    "the user's client certificate with no Authorization header got the authorized answer (twice): the token is optional once a certificate is presented, so the certificate alone (a machine credential) acts as the user\n{also}"
                ),
                ctx.evidence(x),
            ))
        })
    }
}
