use super::references;
use crate::basic_auth::{endpoint, exchange_throttled, judge, literal_basic, probe_to};
use crate::check::{Check, CheckFuture, CheckMeta, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::oracle::{Sample, Verdict};
use crate::scan::Scan;
use std::collections::HashSet;

pub static META: CheckMeta = CheckMeta {
    id: "basic.default_credentials",
    title: "A vendor-default Basic pair logs in",
    family: Family::Basic,
    severity: Severity::Critical,
    cwe: &[1392, 521],
    owasp: &["API2"],
    description: "Tries a built-in list of 30 vendor-default pairs (admin:admin, root:toor, tomcat:s3cret, …) and the pairs of --basic-wordlist against the Basic endpoint (--basic-url, else the target), one at a time under the request budget and rate limit, stopping at the first that logs in and skipping a username once it is throttled. Each answer is judged against the user's own login (when --basic is given) and a made-up pair.",
    needs: &[],
    explained_by: &[],
    remediation: Remediation {
        summary: "Remove or rename vendor and bootstrap accounts, force a password change on first login, and reject passwords from a list of known defaults and breached passwords.",
        frameworks: &[
            (
                "django",
                "Delete or disable the bootstrap superuser (is_active = False) after setup; add a CommonPasswordValidator to AUTH_PASSWORD_VALIDATORS; and throttle the login view (REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'] with a ScopedRateThrottle, or django-axes) so a list cannot be tried.",
            ),
            (
                "express",
                "Never ship users: { admin: 'admin' } to express-basic-auth; load credentials from a secret store, compare with its safeCompare, and rate-limit the route (express-rate-limit).",
            ),
            (
                "spring",
                "Do not rely on spring.security.user.name/password defaults or InMemoryUserDetailsManager in production; use a UserDetailsService backed by hashed, rotated passwords.",
            ),
            (
                "go",
                "Read the expected pair from configuration with no fallback default, and compare with subtle.ConstantTimeCompare.",
            ),
            (
                "nginx",
                "Regenerate the auth_basic_user_file (htpasswd -B) with unique passwords and add limit_req zone=login burst=5 nodelay on the location.",
            ),
        ],
    },
    references: &[
        "https://owasp.org/www-project-web-security-testing-guide/latest/4-Web_Application_Security_Testing/04-Authentication_Testing/02-Testing_for_Default_Credentials",
    ],
    budget: crate::check::Budget::PerWordlistPair { fixed: 36 },
    lab_flaw: Some("basic.default_credentials"),
    finds: "a vendor-default pair (or one from `--basic-wordlist`) logs in",
    needs_note: "",
};

/// Defaults shipped by servers, appliances and tutorials. At most 30: this is a check for
/// forgotten defaults, not a brute force.
pub const DEFAULT_PAIRS: [(&str, &str); 30] = [
    ("admin", "admin"),
    ("root", "root"),
    ("admin", "password"),
    ("administrator", "administrator"),
    ("root", "toor"),
    ("admin", "1234"),
    ("user", "user"),
    ("guest", "guest"),
    ("admin", "12345"),
    ("tomcat", "tomcat"),
    ("tomcat", "s3cret"),
    ("admin", "123456"),
    ("root", "password"),
    ("test", "test"),
    ("admin", "changeme"),
    ("elastic", "changeme"),
    ("demo", "demo"),
    ("admin", "secret"),
    ("api", "api"),
    ("manager", "manager"),
    ("admin", ""),
    ("user", "password"),
    ("administrator", "password"),
    ("service", "service"),
    ("jenkins", "jenkins"),
    ("kibana", "changeme"),
    ("root", "changeme"),
    ("sa", "sa"),
    ("pi", "raspberry"),
    ("admin", "admin123"),
];

pub struct DefaultCredentials;

impl Check for DefaultCredentials {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let url = endpoint(ctx);
            let refs = match references(ctx, &url).await {
                Ok(r) => r,
                Err(e) => return Outcome::Inconclusive(e),
            };
            let oracle = refs.oracle();
            if let Err(why) = oracle.usable() {
                return Outcome::Inconclusive(format!("at {url}: {why}"));
            }
            let own = ctx.opts().creds.basic.as_ref();
            let pairs = DEFAULT_PAIRS
                .iter()
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .chain(ctx.opts().basic.wordlist.iter().cloned())
                .filter(|pair| Some(pair) != own);
            let mut throttled: HashSet<String> = HashSet::new();
            let mut tried = 0usize;
            let mut inconclusive = Vec::new();
            for (user, pass) in pairs {
                if throttled.contains(&user) {
                    continue;
                }
                let probe =
                    probe_to(ctx, &url).header("Authorization", literal_basic(&user, &pass));
                let x = match ctx.send(probe).await {
                    Ok(x) => x,
                    Err(e) => {
                        return Outcome::Inconclusive(format!(
                            "stopped after {tried} pairs without a login: {e}"
                        ));
                    }
                };
                tried += 1;
                if exchange_throttled(&x) {
                    throttled.insert(user);
                    continue;
                }
                match judge(&oracle, &Sample::from_exchange(&x)) {
                    Verdict::Accepted { tentative, .. } => {
                        return Outcome::found(META.finding(
                            if tentative {
                                Confidence::Tentative
                            } else {
                                Confidence::Firm
                            },
                            format!(
                                "the default pair {user}:{pass} logged in at {url} (pair {tried} tried)\nIts answer matches the {} and differs from the answer to a made-up pair.",
                                if tentative {
                                    "shape of a success"
                                } else {
                                    "user's own login"
                                }
                            ),
                            ctx.evidence(&x),
                        ));
                    }
                    Verdict::Inconclusive(r) => inconclusive.push(format!("{user}: {r}")),
                    Verdict::Rejected => {}
                }
            }
            // An answer the oracle could not read might have been a login.
            match inconclusive.into_iter().next() {
                Some(r) => Outcome::Inconclusive(r),
                None => Outcome::Pass,
            }
        })
    }
}
