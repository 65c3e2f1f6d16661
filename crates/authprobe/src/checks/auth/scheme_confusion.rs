use crate::basic_auth::{judge, literal_basic, random_word, user_basic};
use crate::check::{Check, CheckFuture, CheckMeta, Outcome, Remediation};
use crate::creds::tampered_token_value;
use crate::finding::{Confidence, Family, Severity};
use crate::http::{Exchange, Probe, Value};
use crate::oracle::{Sample, Verdict};
use crate::scan::{Compare, Scan};

pub static META: CheckMeta = CheckMeta {
    id: "auth.scheme_confusion",
    title: "Basic and Bearer credentials together resolve to the wrong identity or hide an invalid token",
    family: Family::Auth,
    severity: Severity::High,
    cwe: &[287, 436],
    owasp: &["API2"],
    description: "On the target (meant for Bearer when a token is given or its challenges name only Bearer) sends, with the transport credential: an invalid bearer followed by the valid Basic pair, the same in the other order, the Basic pair alone, and the valid bearer with a Basic header for a made-up user. A finding when an invalid token is ignored because Basic is present, when Basic silently replaces the declared Bearer scheme, or when the answer names the made-up Basic user. Needs --bearer or --basic; up to 4 requests.",
    needs: &[crate::check::Need::AnyOf(&[
        crate::check::Need::Token,
        crate::check::Need::Basic,
    ])],
    explained_by: &["auth.token_optional_with_cert"],
    remediation: Remediation {
        summary: "Give each route exactly one authentication scheme, refuse requests that carry two credentials (400) or an invalid one (401) instead of trying the next scheme, and derive identity and permissions only from the credential that was verified.",
        frameworks: &[
            (
                "django",
                "Set per-view authentication_classes = [JWTAuthentication] on token routes instead of a DEFAULT_AUTHENTICATION_CLASSES that lists BasicAuthentication next to the JWT class; make the JWT class raise AuthenticationFailed on a bad token (never return None); read the caller only from request.user, never by parsing HTTP_AUTHORIZATION again.",
            ),
            (
                "express",
                "Mount one strategy per router (passport.authenticate('jwt', { session: false }) on the API, 'basic' only on /login), not passport.authenticate(['basic', 'jwt']); reject requests whose rawHeaders hold more than one Authorization.",
            ),
            (
                "spring",
                "Use separate SecurityFilterChains with securityMatcher(...) so the API chain has oauth2ResourceServer().jwt() and no httpBasic().",
            ),
            (
                "go",
                "Reject len(r.Header.Values(\"Authorization\")) > 1, parse one scheme per route, and take the user from the verified token's claims only.",
            ),
            (
                "nginx",
                "When nginx checks auth_basic in front of a JWT API, clear the header it consumed (proxy_set_header Authorization \"\";) or do not mix them on one location.",
            ),
        ],
    },
    references: &["RFC 9110 §11.6.2", "RFC 7617 §2", "RFC 6750 §2.1"],
    budget: crate::check::Budget::Fixed(6),
    lab_flaw: Some("auth.scheme_confusion"),
    finds: "Basic and Bearer together (or one valid, one invalid) resolve to the wrong identity, or an invalid token is ignored because Basic is present, on an endpoint meant for Bearer",
    needs_note: "",
};

pub struct SchemeConfusion;

/// A JWT-shaped value that no server can verify, for when the user gave no token.
const FAKE_JWT: &str = "Bearer eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhdXRocHJvYmUifQ.aW52YWxpZC1zaWduYXR1cmU";

/// The refusals of the target advertise Bearer and never Basic.
fn challenges_bearer_only(ctx: &Scan) -> bool {
    let b = ctx.baselines();
    let mut schemes = b
        .anonymous
        .class
        .samples
        .iter()
        .chain(b.invalid.iter().flat_map(|c| c.class.samples.iter()))
        .chain(b.transport_only.iter().flat_map(|c| c.class.samples.iter()))
        .filter_map(|s| s.challenge.clone())
        .peekable();
    schemes.peek().is_some() && schemes.all(|c| c == "bearer")
}

struct Attempt {
    label: &'static str,
    probe: Probe,
    /// A username that must never appear in an accepted answer.
    decoy: Option<String>,
}

impl Check for SchemeConfusion {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let bearer = ctx.bearer_value();
            let basic = user_basic(ctx);
            if bearer.is_none() && basic.is_none() {
                return Outcome::NotApplicable("needs --bearer or --basic".into());
            }
            let oracle = match ctx.judge(Compare::AppCredentialSwapped) {
                Ok(o) => o,
                Err(why) => return Outcome::Inconclusive(why),
            };
            let base = || {
                ctx.transport_probe(&ctx.opts().method)
                    .without_header("Authorization")
            };
            let bearer_only = challenges_bearer_only(ctx);
            let meant_for_bearer = bearer.is_some() || bearer_only;
            let mut attempts = Vec::new();
            if let Some(good) = &basic
                && meant_for_bearer
            {
                let bad: Value = match &ctx.opts().creds.bearer {
                    Some(t) if t.is_char_boundary(t.len().saturating_sub(5)) => {
                        tampered_token_value(t)
                    }
                    _ => Value::lit(FAKE_JWT),
                };
                attempts.push(Attempt {
                    label: "an invalid bearer followed by the valid Basic pair",
                    probe: base()
                        .header("Authorization", bad.clone())
                        .header("Authorization", good.clone()),
                    decoy: None,
                });
                attempts.push(Attempt {
                    label: "the valid Basic pair followed by an invalid bearer",
                    probe: base()
                        .header("Authorization", good.clone())
                        .header("Authorization", bad),
                    decoy: None,
                });
                if bearer_only {
                    attempts.push(Attempt {
                        label: "the Basic pair alone where the server challenges only for Bearer",
                        probe: base().header("Authorization", good.clone()),
                        decoy: None,
                    });
                }
            }
            if let Some(good) = &bearer {
                let decoy = random_word("decoy");
                attempts.push(Attempt {
                    label: "the valid bearer with a Basic header for a made-up user",
                    probe: base()
                        .header("Authorization", good.clone())
                        .header("Authorization", literal_basic(&decoy, &random_word("pass"))),
                    decoy: Some(decoy),
                });
            }
            if attempts.is_empty() {
                return Outcome::NotApplicable(
                    "with only --basic and a target that does not declare Bearer, there is no second scheme to confuse".into(),
                );
            }
            let sent = futures::future::join_all(attempts.into_iter().map(|a| async move {
                let x = ctx.send(a.probe).await;
                (a.label, a.decoy, x)
            }))
            .await;
            let mut hits: Vec<(String, Exchange, bool)> = Vec::new();
            let mut reasons = Vec::new();
            for (label, decoy, x) in sent {
                let x = match x {
                    Ok(x) => x,
                    Err(e) => {
                        reasons.push(e);
                        continue;
                    }
                };
                let body = x.answer().map(|a| a.body_text()).unwrap_or_default();
                match judge(&oracle, &Sample::from_exchange(&x)) {
                    Verdict::Accepted { .. } => match decoy {
                        Some(d) if body.contains(&d) => hits.insert(
                            0,
                            (
                                format!("{label}: the answer names the made-up user {d:?}, whose password was never checked"),
                                x,
                                true,
                            ),
                        ),
                        // A valid bearer wins over a junk Basic header: what most servers
                        // do when they read only the first Authorization header.
                        Some(_) => {}
                        None => hits.push((format!("{label} got the authorized answer"), x, false)),
                    },
                    Verdict::Inconclusive(r) => reasons.push(format!("{label}: {r}")),
                    Verdict::Rejected => {}
                }
            }
            if hits.is_empty() {
                return match reasons.into_iter().next() {
                    Some(r) => Outcome::Inconclusive(r),
                    None => Outcome::Pass,
                };
            }
            let confirmed = hits[0].2;
            let all = hits
                .iter()
                .map(|(l, _, _)| l.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            Outcome::found(META.finding(
                if confirmed {
                    Confidence::Confirmed
                } else {
                    Confidence::Firm
                },
                format!(
                    "{}\nOn an endpoint meant for one scheme, a second one changes who the caller is or hides a credential that should have been refused. All results: {all}.",
                    hits[0].0
                ),
                ctx.evidence(&hits[0].1),
            ))
        })
    }
}
