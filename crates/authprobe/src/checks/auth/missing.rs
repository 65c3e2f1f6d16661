use crate::check::{Check, CheckFuture, CheckMeta, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::oracle::Verdict;
use crate::scan::{Compare, Scan};

pub static META: CheckMeta = CheckMeta {
    id: "auth.missing",
    title: "Protected resource answers without any credentials",
    family: Family::Auth,
    severity: Severity::Critical,
    cwe: &[306],
    owasp: &["API2"],
    description: "Requests the resource with no token, no Basic pair and no client certificate, twice, and compares the answer with the authorized and refused baselines.",
    needs: &[],
    explained_by: &[],
    remediation: Remediation {
        summary: "Deny by default: require authentication on every route of the API and open only the routes that are meant to be public, one by one.",
        frameworks: &[
            (
                "django",
                "Set REST_FRAMEWORK['DEFAULT_PERMISSION_CLASSES'] to ['rest_framework.permissions.IsAuthenticated'] and remove AllowAny from views that return account data; DRF only runs authentication classes when a credential is sent, so AllowAny lets anonymous callers through.",
            ),
            (
                "express",
                "Mount the authentication middleware (e.g. express-jwt with credentialsRequired: true, or passport.authenticate) with app.use() before the routers, not per route, so a forgotten route is still protected.",
            ),
            (
                "spring",
                "End the SecurityFilterChain with .anyRequest().authenticated() and list public paths explicitly with requestMatchers(...).permitAll().",
            ),
            (
                "go",
                "Wrap the whole mux in the authentication middleware (r.Use(authMiddleware) in chi/gorilla) rather than individual handlers.",
            ),
            (
                "nginx",
                "If nginx enforces the client certificate, use ssl_verify_client on for the API location (or check $ssl_client_verify = SUCCESS) instead of optional.",
            ),
        ],
    },
    references: &["RFC 9110 §11", "RFC 6750 §3"],
    budget: crate::check::Budget::Fixed(4),
    lab_flaw: Some("auth.missing"),
    finds: "the protected resource answers with data and no credentials at all",
    needs_note: "",
};

/// How alike (body similarity) an anonymous answer must be to the authorized one for an
/// operation declared protected to be firmly unenforced.
const DECLARED_ALIKE: f64 = 0.9;

pub struct AuthMissing;

impl Check for AuthMissing {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let anon = &ctx.baselines().anonymous;
            // The anonymous baseline is the probe here, so only the other refused classes
            // may serve as the "rejected" side.
            let oracle = ctx.oracle(Compare::Anonymous);
            let verdicts: Vec<Verdict> =
                anon.class.samples.iter().map(|s| oracle.judge(s)).collect();
            let accepted = verdicts
                .iter()
                .all(|v| matches!(v, Verdict::Accepted { .. }));
            if accepted {
                let tentative = verdicts.iter().any(|v| {
                    matches!(
                        v,
                        Verdict::Accepted {
                            tentative: true,
                            ..
                        }
                    )
                });
                let (confidence, why) = if tentative {
                    (
                        Confidence::Tentative,
                        "No authorized baseline was given, so the answer is judged only against the refused one: it succeeds where an invalid credential is refused.",
                    )
                } else {
                    (
                        Confidence::Firm,
                        "Both anonymous answers match the authorized baseline, while a request with an invalid credential is refused: authentication is only enforced when a credential is presented.",
                    )
                };
                let status = anon.exchanges[0].answer().map_or(0, |a| a.status);
                return Outcome::found(META.finding(
                    confidence,
                    format!("the resource answered {status} with its data to a request carrying no credentials at all\n{why}"),
                    ctx.evidence(&anon.exchanges[0]),
                ));
            }
            // With an API description, the declaration is the other side of the
            // comparison: an operation declared protected that gives a request with no
            // credentials at all the authorized answer is unenforced, even where every
            // refusal baseline is a success too (nothing is checked at all). Only the same
            // answer counts: a different success (a login page served 200, an empty list
            // for guests) is not proof.
            if let Some(auth) = &ctx.baselines().authorized
                && ctx.opts().declared_protected
                && anon.class.all_success()
                && auth.class.all_success()
                && anon
                    .class
                    .samples
                    .iter()
                    .all(|s| auth.class.similarity_to(s) >= DECLARED_ALIKE)
            {
                let status = anon.exchanges[0].answer().map_or(0, |a| a.status);
                return Outcome::found(META.finding(
                    Confidence::Firm,
                    format!(
                        "the operation is declared protected, yet it answered {status} to a request carrying no credentials at all, with the same answer as with credentials"
                    ),
                    ctx.evidence(&anon.exchanges[0]),
                ));
            }
            if let Some(Verdict::Inconclusive(r)) = verdicts
                .iter()
                .find(|v| matches!(v, Verdict::Inconclusive(_)))
            {
                return Outcome::Inconclusive(r.clone());
            }
            Outcome::Pass
        })
    }
}
