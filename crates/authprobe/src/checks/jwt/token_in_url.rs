use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::creds::BEARER_VAR;
use crate::finding::{Confidence, Family, Severity};
use crate::oracle::{Sample, Verdict};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.token_in_url",
    title: "API accepts the token from the query string",
    family: Family::Jwt,
    severity: Severity::Medium,
    cwe: &[598],
    owasp: &["API2"],
    description: "Sends the token as access_token, token and jwt query parameters, without an Authorization header.",
    needs: &[Need::Token],
    explained_by: &["auth.token_optional_with_cert"],
    remediation: Remediation {
        summary: "Accept bearer tokens only in the Authorization header; URLs end up in access logs, proxy logs, browser history and Referer headers.",
        frameworks: &[
            (
                "django",
                "Remove any authentication class that reads request.GET['token']; simplejwt reads only the header.",
            ),
            (
                "express",
                "express-jwt: do not pass a getToken that reads req.query; passport-jwt: use ExtractJwt.fromAuthHeaderAsBearerToken() only.",
            ),
            (
                "spring",
                "Leave DefaultBearerTokenResolver.setAllowUriQueryParameter(false) (the default).",
            ),
            (
                "go",
                "Read the token from r.Header.Get(\"Authorization\") only, not r.URL.Query().",
            ),
            (
                "nginx",
                "Strip tokens from logged URLs, and reject requests carrying access_token in the query string.",
            ),
        ],
    },
    references: &["RFC 6750 §2.3", "RFC 6750 §5.3"],
    budget: crate::check::Budget::Fixed(4),
    lab_flaw: Some("jwt.token_in_url"),
    finds: "the API accepts the token from the query string",
    needs_note: "",
};

pub struct TokenInUrl;

impl Check for TokenInUrl {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let Some(token) = ctx.opts().creds.bearer.clone() else {
                return Outcome::NotApplicable("needs a bearer token".into());
            };
            let oracle = match super::oracle(ctx) {
                Ok(o) => o,
                Err(e) => return Outcome::Inconclusive(e),
            };
            let mut refused = 0;
            for param in ["access_token", "token", "jwt"] {
                let mut url = ctx.opts().target.clone();
                url.query_pairs_mut().append_pair(param, &token);
                let probe = ctx
                    .transport_probe(&ctx.opts().method)
                    .without_header("Authorization")
                    .with_url(url);
                let x = match ctx.send(probe).await {
                    Ok(x) => x,
                    Err(e) => return Outcome::Inconclusive(e),
                };
                match oracle.judge(&Sample::from_exchange(&x)) {
                    Verdict::Accepted { .. } => {
                        let mut ev = ctx.evidence(&x);
                        if !ctx.opts().show_secrets {
                            // Show the token as the shell variable, expandable in the curl line.
                            ev.request = ev.request.replace(&token, &format!("${{{BEARER_VAR}}}"));
                            ev.curl = ev.curl.replace(&token, &format!("'\"${{{BEARER_VAR}}}\"'"));
                        }
                        return Outcome::found(META.finding(
                            Confidence::Firm,
                            format!("the token sent as the query parameter {param:?}, with no Authorization header, got the authorized answer"),
                            ev,
                        ));
                    }
                    Verdict::Rejected => refused += 1,
                    Verdict::Inconclusive(_) => {}
                }
            }
            if refused > 0 {
                Outcome::Pass
            } else {
                Outcome::Inconclusive("no query-string answer could be judged".into())
            }
        })
    }
}
