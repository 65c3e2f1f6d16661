use crate::check::{Check, CheckFuture, CheckMeta, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::http::{Exchange, Value};
use crate::oracle::{Sample, Verdict};
use crate::scan::{Compare, Scan};

pub static META: CheckMeta = CheckMeta {
    id: "auth.method_bypass",
    title: "Another HTTP method reaches the resource without credentials",
    family: Family::Auth,
    severity: Severity::High,
    cwe: &[287, 650],
    owasp: &["API2", "API5"],
    description: "Sends HEAD, OPTIONS and GET with method-override headers (X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override) without application credentials; POST only with --allow-unsafe-methods.",
    needs: &[],
    explained_by: &[],
    remediation: Remediation {
        summary: "Apply authentication to the route for every method, and evaluate access rules on the method the router dispatches, after any method-override middleware, or drop method override.",
        frameworks: &[
            (
                "django",
                "Use permission classes (IsAuthenticated) rather than per-method checks; DRF applies them to every handler, including head() and options().",
            ),
            (
                "express",
                "Register auth with app.use() or router.all(), not app.get(); if you use method-override, install it before the auth middleware so both see the same method, or remove it.",
            ),
            (
                "spring",
                "Do not scope rules with requestMatchers(HttpMethod.GET, ...) alone; end with .anyRequest().authenticated(). HiddenHttpMethodFilter must run before the security chain only if rules are method-agnostic.",
            ),
            (
                "go",
                "Check authentication in middleware that runs for all methods; do not branch on r.Method or X-HTTP-Method-Override before it.",
            ),
            (
                "nginx",
                "Avoid limit_except blocks that leave some methods without auth_request/ssl_verify_client; strip X-HTTP-Method-Override with proxy_set_header X-HTTP-Method-Override \"\".",
            ),
        ],
    },
    references: &[
        "RFC 9110 §9.3.2",
        "RFC 9110 §9.3.7",
        "https://owasp.org/www-project-web-security-testing-guide/latest/4-Web_Application_Security_Testing/02-Configuration_and_Deployment_Management_Testing/06-Test_HTTP_Methods",
    ],
    budget: crate::check::Budget::Fixed(12),
    lab_flaw: Some("auth.method_bypass"),
    finds: "HEAD, OPTIONS or a method-override header reaches the resource without credentials while GET needs them",
    needs_note: "",
};

const OVERRIDE_HEADERS: [&str; 3] = [
    "X-HTTP-Method-Override",
    "X-HTTP-Method",
    "X-Method-Override",
];

pub struct MethodBypass;

impl Check for MethodBypass {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            // Probes and reference drop the same thing: the application credential, or for
            // a certificate-only API the certificate too (it is the credential there).
            let oracle = ctx.oracle(Compare::AppCredentialRemoved);
            // Only a GET that needs credentials can be bypassed.
            let reference = ctx.unauthenticated_baseline();
            if !reference.class.samples.iter().all(Sample::is_refusal)
                && reference
                    .class
                    .samples
                    .iter()
                    .any(|s| oracle.judge(s) != Verdict::Rejected)
            {
                return Outcome::Inconclusive(
                    "GET without credentials is not refused, so there is nothing to bypass".into(),
                );
            }
            if let Err(why) = oracle.usable() {
                return Outcome::Inconclusive(why);
            }

            let mut probes = vec![
                ctx.unauthenticated_probe("HEAD"),
                ctx.unauthenticated_probe("OPTIONS"),
            ];
            for h in OVERRIDE_HEADERS {
                for m in ["HEAD", "OPTIONS"] {
                    probes.push(ctx.unauthenticated_probe("GET").header(h, Value::lit(m)));
                }
            }
            if ctx.opts().allow_unsafe_methods {
                probes.push(ctx.unauthenticated_probe("POST"));
                probes.push(
                    ctx.unauthenticated_probe("POST")
                        .header("X-HTTP-Method-Override", Value::lit("GET")),
                );
            }
            let sent = futures::future::join_all(probes.into_iter().map(|p| ctx.send(p))).await;
            let mut hits: Vec<(Exchange, String)> = Vec::new();
            let mut errors = Vec::new();
            let mut inconclusive = Vec::new();
            for x in sent {
                let x = match x {
                    Ok(x) => x,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                let sample = Sample::from_exchange(&x);
                let verdict = if x.probe.method == "HEAD" {
                    oracle.judge_headers_only(&sample)
                } else {
                    oracle.judge(&sample)
                };
                let label = describe(&x);
                match verdict {
                    Verdict::Accepted { .. } => hits.push((x, label)),
                    Verdict::Inconclusive(r) => inconclusive.push(format!("{label}: {r}")),
                    Verdict::Rejected => {}
                }
            }
            if hits.is_empty() {
                if let Some(e) = errors.first() {
                    return Outcome::Inconclusive(e.clone());
                }
                return Outcome::Pass;
            }
            // Prefer evidence with a body: it shows the data, not just a status.
            hits.sort_by_key(|(x, _)| x.probe.method == "HEAD");
            let list = hits
                .iter()
                .map(|(_, l)| l.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let body_proof = hits.iter().any(|(x, _)| x.probe.method != "HEAD");
            Outcome::found(META.finding(
                if body_proof { Confidence::Firm } else { Confidence::Tentative },
                format!(
                    "{} without credentials got the authorized answer while GET is refused\nAccepted variants: {list}.",
                    hits[0].1
                ),
                ctx.evidence(&hits[0].0),
            ))
        })
    }
}

fn describe(x: &Exchange) -> String {
    match x
        .probe
        .headers
        .iter()
        .find(|(n, _)| OVERRIDE_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(n)))
    {
        Some((n, v)) => format!("{} with {n}: {}", x.probe.method, v.display(false)),
        None => x.probe.method.clone(),
    }
}
