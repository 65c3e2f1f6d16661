use crate::checks::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::engine::Ctx;
use crate::finding::{Confidence, Family, Severity};
use crate::http::{Exchange, Value};
use crate::oracle::{Oracle, Sample, Verdict};

pub static META: CheckMeta = CheckMeta {
    id: "auth.token_optional_with_cert",
    title: "With a valid client certificate, no token is needed",
    family: Family::Auth,
    severity: Severity::High,
    cwe: &[306],
    owasp: &["API2"],
    description: "Sends the user's client certificate with no Authorization header, with an empty bearer, and with a malformed one, and compares each answer with the authorized one and with the invalid-token answer.",
    needs: &[Need::Cert],
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
};

pub struct TokenOptionalWithCert;

/// Whether the certificate alone gets the authorized answer: a root cause that checks
/// sending the certificate with a broken or misplaced token must not report again.
pub fn cert_alone_accepted(ctx: &Ctx) -> bool {
    let b = &ctx.baselines;
    let (Some(t), Some(a)) = (&b.transport_only, ctx.authorized_class()) else {
        return false;
    };
    let mut rejected = vec![&b.anonymous.class];
    if let Some(i) = &b.invalid {
        rejected.push(&i.class);
    }
    let o = Oracle::new(Some(a), rejected);
    o.usable().is_ok()
        && t.exchanges
            .iter()
            .all(|x| matches!(o.judge(&Sample::from_exchange(x)), Verdict::Accepted { .. }))
}

/// For checks that send the certificate with a missing, broken or misplaced token: when
/// the certificate alone is accepted, their probes prove nothing more.
pub fn explained(ctx: &Ctx) -> Option<Outcome> {
    cert_alone_accepted(ctx).then(|| {
        Outcome::Inconclusive(
            "explained by auth.token_optional_with_cert: the client certificate alone gets the authorized answer".into(),
        )
    })
}

impl Check for TokenOptionalWithCert {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let b = &ctx.baselines;
            if !ctx.opts.creds.has_app_credentials() {
                return Outcome::NotApplicable(
                    "needs an application credential (--bearer or --basic) besides the certificate"
                        .into(),
                );
            }
            let mut rejected = vec![&b.anonymous.class];
            if let Some(i) = &b.invalid {
                rejected.push(&i.class);
            }
            let oracle = Oracle::new(ctx.authorized_class(), rejected);
            if let Err(e) = oracle.usable() {
                return Outcome::Inconclusive(e);
            }
            let no_token = b.transport_only.as_ref().and_then(|t| t.exchanges.first());
            let tries = [
                ("an empty bearer", "Bearer "),
                ("a malformed bearer", "Bearer authprobe-not-a-token"),
            ];
            let sent = futures::future::join_all(tries.iter().map(|(label, v)| async move {
                let p = ctx
                    .transport_probe("GET")
                    .without_header("Authorization")
                    .header("Authorization", Value::lit(*v));
                (*label, ctx.send(p).await)
            }))
            .await;
            let mut hits: Vec<(&str, &Exchange)> = Vec::new();
            let mut malformed_hit = false;
            if cert_alone_accepted(ctx)
                && let Some(x) = no_token
            {
                hits.push(("no Authorization header", x));
            }
            let mut reasons = Vec::new();
            let mut kept = Vec::new();
            for (label, x) in &sent {
                match x {
                    Ok(x) => match oracle.judge(&Sample::from_exchange(x)) {
                        Verdict::Accepted { .. } if *label == "a malformed bearer" => {
                            malformed_hit = true
                        }
                        Verdict::Accepted { .. } => kept.push((*label, x)),
                        Verdict::Inconclusive(r) => reasons.push(r),
                        Verdict::Rejected => {}
                    },
                    Err(e) => reasons.push(e.clone()),
                }
            }
            hits.extend(kept);
            // A malformed token accepted while a missing one is refused is
            // auth.malformed_token_accepted's finding, not this one's.
            let Some((label, x)) = hits.first().copied() else {
                return match reasons.first() {
                    Some(r) if !malformed_hit && no_token.is_none() => {
                        Outcome::Inconclusive(r.clone())
                    }
                    _ => Outcome::Pass,
                };
            };
            let all = hits.iter().map(|(l, _)| *l).collect::<Vec<_>>().join(", ");
            let also = if malformed_hit {
                " A malformed bearer is accepted too."
            } else {
                ""
            };
            Outcome::found(META.finding(
                Confidence::Firm,
                format!(
                    "the user's client certificate with {label} got the authorized answer: the token is optional once a certificate is presented, so the certificate alone (a machine credential) acts as the user\nAccepted: {all}.{also}"
                ),
                ctx.evidence(x),
            ))
        })
    }
}
