use crate::basic_auth::{endpoint, is_throttle, judge, probe_to, user_basic, wrong_password_for};
use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Phase, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::http::Exchange;
use crate::oracle::{Class, Oracle, Sample, Verdict};
use crate::scan::Scan;
use std::time::{Duration, Instant};

pub static META: CheckMeta = CheckMeta {
    id: "basic.no_lockout",
    title: "A burst of failed logins meets no throttle, delay or lockout",
    family: Family::Basic,
    severity: Severity::Medium,
    cwe: &[307],
    owasp: &["API2", "API4"],
    description: "SENDS FAILED LOGINS for the --basic user: after two logins with the real pair, a bounded burst of wrong passwords (--lockout-attempts, default 20) goes to the Basic endpoint one at a time, stopping at the first 429, Retry-After, changed refusal or growing delay; then the real pair once more. A finding when nothing slowed the burst and the real password still works right after. Runs after every other check. A server that locks accounts may lock the --basic account: use a test account.",
    needs: &[Need::Basic],
    explained_by: &[],
    remediation: Remediation {
        summary: "Throttle failed logins per account and per client (429 with Retry-After, or a growing delay), and alert on bursts; prefer throttling over hard lockout, which lets anyone lock a victim out.",
        frameworks: &[
            (
                "django",
                "Add a throttle to the login view: REST_FRAMEWORK['DEFAULT_THROTTLE_CLASSES'] with ScopedRateThrottle and DEFAULT_THROTTLE_RATES = {'login': '10/min'} plus throttle_scope = 'login' on the view (DRF answers 429 with Retry-After), or django-axes (AXES_FAILURE_LIMIT, AXES_COOLOFF_TIME) keyed on the username.",
            ),
            (
                "express",
                "Put express-rate-limit (or rate-limiter-flexible keyed on the username) in front of the Basic middleware: app.use('/login', rateLimit({ windowMs: 15 * 60 * 1000, limit: 10, standardHeaders: true })).",
            ),
            (
                "spring",
                "Count AuthenticationFailureBadCredentialsEvent per username (or use Bucket4j) and refuse with 429 while the budget is spent.",
            ),
            (
                "go",
                "Wrap the login handler with golang.org/x/time/rate limiters keyed on username and client address; answer 429 with Retry-After.",
            ),
            (
                "nginx",
                "limit_req_zone $binary_remote_addr zone=login:10m rate=10r/m; and in the login location limit_req zone=login burst=5 nodelay; limit_req_status 429;",
            ),
        ],
    },
    references: &[
        "NIST SP 800-63B §5.2.2",
        "https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html",
    ],
    budget: crate::check::Budget::PerLockoutAttempt { fixed: 6 },
    lab_flaw: Some("basic.no_lockout"),
    finds: "a bounded burst of failed logins meets no 429, Retry-After, delay or lockout, and the real password still works right after",
    needs_note: "",
};

pub struct NoLockout;

/// A tarpit: the latest answers are much slower than the first ones.
fn growing_delay(times: &[Duration]) -> bool {
    if times.len() < 6 {
        return false;
    }
    let median = |xs: &[Duration]| {
        let mut v = xs.to_vec();
        v.sort();
        v[v.len() / 2]
    };
    let first = median(&times[..3]);
    let last = median(&times[times.len() - 3..]);
    last >= first * 4 && last >= first + Duration::from_millis(500)
}

fn elapsed(x: &Exchange) -> Duration {
    x.answer().map_or(Duration::ZERO, |a| a.elapsed)
}

impl Check for NoLockout {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn phase(&self) -> Phase {
        Phase::Last
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let (Some((user, _)), Some(good)) = (ctx.opts().creds.basic.as_ref(), user_basic(ctx))
            else {
                return Outcome::NotApplicable(Need::Basic.describe().into());
            };
            let url = endpoint(ctx);
            let login = || probe_to(ctx, &url).header("Authorization", good.clone());
            let mut ok = Vec::new();
            for _ in 0..2 {
                match ctx.send(login()).await {
                    Ok(x) => ok.push(x),
                    Err(e) => return Outcome::Inconclusive(e),
                }
            }
            if ok.iter().any(|x| x.answer().is_some_and(is_throttle)) {
                // Earlier failed logins (other checks, other clients) already tripped it.
                return Outcome::Pass;
            }
            if !ok
                .iter()
                .all(|x| x.answer().is_some_and(|a| (200..300).contains(&a.status)))
            {
                return Outcome::NotApplicable(format!(
                    "the --basic pair does not log in at {url} (give --basic-url for the login endpoint)"
                ));
            }

            let attempts = ctx.opts().basic.lockout_attempts.max(3);
            let started = Instant::now();
            let mut wrong: Vec<Exchange> = Vec::with_capacity(attempts);
            for i in 0..attempts {
                let x = match ctx
                    .send(probe_to(ctx, &url).header("Authorization", wrong_password_for(user)))
                    .await
                {
                    Ok(x) => x,
                    Err(e) => {
                        return Outcome::Inconclusive(format!(
                            "the burst stopped after {i} failed logins: {e}"
                        ));
                    }
                };
                let Some(a) = x.answer() else {
                    // A server that drops connections under a burst is defending itself.
                    return Outcome::Pass;
                };
                if is_throttle(a) {
                    return Outcome::Pass;
                }
                if (200..300).contains(&a.status) {
                    return Outcome::Inconclusive(format!(
                        "a wrong password got status {} at {url}; it is not a login endpoint",
                        a.status
                    ));
                }
                // A different refusal than the first (403 "account locked") is a lockout.
                if let Some(first) = wrong.first().and_then(Exchange::answer)
                    && first.status != a.status
                {
                    return Outcome::Pass;
                }
                wrong.push(x);
            }
            let times: Vec<Duration> = wrong.iter().map(elapsed).collect();
            if growing_delay(&times) {
                return Outcome::Pass;
            }
            let burst_time = started.elapsed();

            let after = match ctx.send(login()).await {
                Ok(x) => x,
                Err(e) => return Outcome::Inconclusive(e),
            };
            if after.answer().is_some_and(is_throttle) {
                return Outcome::Pass;
            }
            let ok_class = Class::new("login", ok.iter().map(Sample::from_exchange).collect());
            let wrong_class = Class::new(
                "wrong password",
                wrong.iter().take(2).map(Sample::from_exchange).collect(),
            );
            let oracle = Oracle::new(Some(&ok_class), vec![&wrong_class]);
            match judge(&oracle, &Sample::from_exchange(&after)) {
                Verdict::Accepted { .. } => Outcome::found(META.finding(
                    Confidence::Confirmed,
                    format!(
                        "{attempts} wrong passwords for {user:?} in {:.1} s at {url} met no 429, Retry-After, delay or lockout, and the real password logged in right after\nAn attacker can keep guessing at the rate limit of the network.",
                        burst_time.as_secs_f64()
                    ),
                    ctx.evidence(&after),
                )),
                // Refused after the burst: the account is locked (the user should know).
                Verdict::Rejected => Outcome::Pass,
                Verdict::Inconclusive(r) => Outcome::Inconclusive(r),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tarpit_is_seen_and_noise_is_not() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|m| Duration::from_millis(*m))
                .collect::<Vec<_>>()
        };
        assert!(growing_delay(&ms(&[5, 6, 5, 200, 900, 1600, 2400])));
        assert!(!growing_delay(&ms(&[5, 6, 5, 40, 7, 6, 5])));
        assert!(!growing_delay(&ms(&[5, 6])));
    }
}
