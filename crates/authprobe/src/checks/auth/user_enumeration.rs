use crate::basic_auth::{endpoint, is_throttle, literal_basic, probe_to, random_word};
use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Phase, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::http::Exchange;
use crate::oracle::Sample;
use crate::scan::Scan;
use std::time::Duration;

pub static META: CheckMeta = CheckMeta {
    id: "auth.user_enumeration",
    title: "Failed logins tell an existing user from an unknown one",
    family: Family::Auth,
    severity: Severity::Medium,
    cwe: &[204],
    owasp: &["API2"],
    description: "SENDS FAILED LOGINS: up to 20 interleaved pairs of wrong-password logins at the Basic endpoint, one for the --basic user and one for a made-up user, alternating which goes first, stopping at the first throttled answer. A finding when the statuses, challenges or bodies differ, or when an exact two-sided Mann-Whitney U test on the answer times gives p < 0.001 with a median gap of at least 5 ms. Runs after the concurrent checks and before basic.no_lockout.",
    needs: &[Need::Basic],
    explained_by: &[],
    remediation: Remediation {
        summary: "Answer an unknown user exactly like a wrong password — same status, headers and body — and spend the same time on both by hashing against a dummy password when the user does not exist; throttle by username whether or not it exists.",
        frameworks: &[
            (
                "django",
                "Authenticate through django.contrib.auth.authenticate (ModelBackend hashes a dummy password for unknown users); a custom backend must call make_password/check_password on the miss path too. Keep DRF's single 'Invalid username/password.' message, and key throttles (ScopedRateThrottle, django-axes) on the submitted username.",
            ),
            (
                "express",
                "In the passport BasicStrategy verify callback run bcrypt.compare against a fixed dummy hash when the user lookup misses, and call done(null, false) with one message for both cases.",
            ),
            (
                "spring",
                "DaoAuthenticationProvider already compares against a dummy encoded password for unknown users; keep hideUserNotFoundExceptions = true (the default).",
            ),
            (
                "go",
                "On a lookup miss still call bcrypt.CompareHashAndPassword with a dummy hash, and return the same error value for both failures.",
            ),
            (
                "nginx",
                "Put limit_req zone=login on the login location so timing needs more samples than the limit allows.",
            ),
        ],
    },
    references: &[
        "https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html",
        "https://owasp.org/www-project-web-security-testing-guide/latest/4-Web_Application_Security_Testing/03-Identity_Management_Testing/04-Testing_for_Account_Enumeration_and_Guessable_User_Account",
    ],
    budget: crate::check::Budget::Fixed(44),
    lab_flaw: Some("auth.user_enumeration"),
    finds: "wrong-password answers differ for an existing and an unknown user, in status, challenge, body or time (exact Mann-Whitney U test, p < 0.001)",
    needs_note: "",
};

pub struct UserEnumeration;

const MAX_PAIRS: usize = 20;
/// Fewer usable pairs than this and the timing test has no power.
const MIN_PAIRS: usize = 8;
const ALPHA: f64 = 0.001;
const MIN_GAP: Duration = Duration::from_millis(5);

/// Exact two-sided p-value of the Mann-Whitney U test (no ties assumed: times are in
/// nanoseconds) for samples of sizes `n` and `m` and the statistic `u`.
pub fn mann_whitney_p(u: f64, n: usize, m: usize) -> f64 {
    // counts[i][j][k]: orderings of i x-values and j y-values in which U equals k.
    let max_u = n * m;
    let mut counts = vec![vec![vec![0f64; max_u + 1]; m + 1]; n + 1];
    for i in 0..=n {
        for j in 0..=m {
            if i == 0 || j == 0 {
                counts[i][j][0] = 1.0;
                continue;
            }
            for k in 0..=i * j {
                // The largest value is an x (beating all j ys) or a y (beating none).
                let from_x = if k >= j { counts[i - 1][j][k - j] } else { 0.0 };
                let from_y = counts[i][j - 1][k];
                counts[i][j][k] = from_x + from_y;
            }
        }
    }
    let all = &counts[n][m];
    let total: f64 = all.iter().sum();
    let k = u.round().clamp(0.0, max_u as f64) as usize;
    let low: f64 = all[..=k].iter().sum::<f64>() / total;
    let high: f64 = all[k..].iter().sum::<f64>() / total;
    (2.0 * low.min(high)).min(1.0)
}

/// U for `xs` against `ys`: how many (x, y) pairs have x > y, ties counting half.
pub fn u_statistic(xs: &[f64], ys: &[f64]) -> f64 {
    let mut u = 0.0;
    for x in xs {
        for y in ys {
            if x > y {
                u += 1.0;
            } else if x == y {
                u += 0.5;
            }
        }
    }
    u
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn ms(x: &Exchange) -> f64 {
    x.answer().map_or(0.0, |a| a.elapsed.as_secs_f64() * 1000.0)
}

/// How the two sides' answers differ in what they say (not when), if they do.
fn content_difference(known: &[Exchange], unknown: &[Exchange]) -> Option<String> {
    let ks: Vec<Sample> = known.iter().map(Sample::from_exchange).collect();
    let us: Vec<Sample> = unknown.iter().map(Sample::from_exchange).collect();
    let statuses = |s: &[Sample]| s.iter().map(|x| x.status).collect::<Vec<_>>();
    let (kst, ust) = (statuses(&ks), statuses(&us));
    if kst.iter().all(|s| !ust.contains(s)) {
        return Some(format!(
            "status {:?} for the existing user, {:?} for an unknown one",
            kst[0], ust[0]
        ));
    }
    let challenges = |s: &[Sample]| s.iter().map(|x| x.challenge.clone()).collect::<Vec<_>>();
    let (kc, uc) = (challenges(&ks), challenges(&us));
    if kc.iter().all(|c| !uc.contains(c)) {
        return Some("a different WWW-Authenticate challenge for each".into());
    }
    let min_sim = |a: &[Sample], b: &[Sample]| {
        let mut m: f64 = 1.0;
        for x in a {
            for y in b {
                m = m.min(x.similarity(y));
            }
        }
        m
    };
    let max_cross = ks
        .iter()
        .flat_map(|k| us.iter().map(move |u| k.similarity(u)))
        .fold(0.0, f64::max);
    let (k_self, u_self) = (min_sim(&ks, &ks), min_sim(&us, &us));
    if k_self - max_cross >= 0.2 && u_self - max_cross >= 0.2 {
        return Some(format!(
            "bodies differ (similarity {max_cross:.2} across, {k_self:.2} and {u_self:.2} within each side)"
        ));
    }
    None
}

impl Check for UserEnumeration {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn phase(&self) -> Phase {
        Phase::Last
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let Some((user, _)) = ctx.opts().creds.basic.as_ref() else {
                return Outcome::NotApplicable(Need::Basic.describe().into());
            };
            let url = endpoint(ctx);
            let unknown = random_word("nouser");
            let attempt = |name: &str| {
                probe_to(ctx, &url)
                    .header("Authorization", literal_basic(name, &random_word("wrong")))
            };
            // Opens the connection, so neither side pays for the handshake.
            if let Err(e) = ctx.send(attempt(&random_word("warmup"))).await {
                return Outcome::Inconclusive(e);
            }
            let mut known_x = Vec::new();
            let mut unknown_x = Vec::new();
            for i in 0..MAX_PAIRS {
                // Alternate the order so neither side always rides a warm connection.
                let order: [&str; 2] = if i % 2 == 0 {
                    [user, &unknown]
                } else {
                    [&unknown, user]
                };
                let mut pair = Vec::with_capacity(2);
                for name in order {
                    match ctx.send(attempt(name)).await {
                        Ok(x) => pair.push(x),
                        Err(e) if known_x.len() >= MIN_PAIRS => {
                            tracing::debug!("user_enumeration stops early: {e}");
                            break;
                        }
                        Err(e) => return Outcome::Inconclusive(e),
                    }
                }
                if pair.len() < 2 || pair.iter().any(|x| x.answer().is_none_or(is_throttle)) {
                    break;
                }
                let (b, a) = (pair.pop(), pair.pop());
                let (Some(a), Some(b)) = (a, b) else { break };
                if i % 2 == 0 {
                    known_x.push(a);
                    unknown_x.push(b);
                } else {
                    unknown_x.push(a);
                    known_x.push(b);
                }
            }
            if known_x.is_empty() {
                return Outcome::Inconclusive(format!(
                    "the first wrong-password logins at {url} were already throttled"
                ));
            }
            if known_x
                .iter()
                .any(|x| x.answer().is_some_and(|a| (200..300).contains(&a.status)))
            {
                return Outcome::Inconclusive(format!(
                    "a wrong password got a success status at {url}: not a login endpoint"
                ));
            }
            let n = known_x.len();
            if let Some(diff) = content_difference(&known_x, &unknown_x) {
                return Outcome::found(META.finding(
                    Confidence::Firm,
                    format!(
                        "wrong-password logins at {url} answer differently for the existing user {user:?} and an unknown user: {diff} ({n} pairs)"
                    ),
                    ctx.evidence(&unknown_x[0]),
                ));
            }
            if n < MIN_PAIRS {
                return Outcome::Inconclusive(format!(
                    "only {n} wrong-password pairs before the server throttled; too few to compare timing"
                ));
            }
            let kt: Vec<f64> = known_x.iter().map(ms).collect();
            let ut: Vec<f64> = unknown_x.iter().map(ms).collect();
            let p = mann_whitney_p(u_statistic(&kt, &ut), n, n);
            let gap = median(&kt) - median(&ut);
            if p < ALPHA && gap.abs() >= MIN_GAP.as_secs_f64() * 1000.0 {
                let slower = if gap > 0.0 { "existing" } else { "unknown" };
                let evidence = if gap > 0.0 {
                    &known_x[0]
                } else {
                    &unknown_x[0]
                };
                return Outcome::found(META.finding(
                    Confidence::Firm,
                    format!(
                        "wrong-password logins at {url} take longer for the {slower} user: median {:.1} ms for {user:?} against {:.1} ms for an unknown user over {n} interleaved pairs (Mann-Whitney U two-sided p = {p:.1e})\nThe bodies are the same; the time alone tells which usernames exist.",
                        median(&kt),
                        median(&ut)
                    ),
                    ctx.evidence(evidence),
                ));
            }
            Outcome::Pass
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_p_values_match_the_tables() {
        // Complete separation of 3 against 3: 2 orderings out of 20 are as extreme.
        assert!((mann_whitney_p(0.0, 3, 3) - 0.1).abs() < 1e-12);
        assert!((mann_whitney_p(9.0, 3, 3) - 0.1).abs() < 1e-12);
        // The middle of the distribution is not significant at all.
        assert!(mann_whitney_p(50.0, 10, 10) > 0.9);
        // 10 against 10 fully separated: 2 / C(20, 10).
        assert!((mann_whitney_p(100.0, 10, 10) - 2.0 / 184_756.0).abs() < 1e-12);
    }

    #[test]
    fn a_shift_is_found_and_noise_is_not() {
        let base: Vec<f64> = (0..12).map(|i| 2.0 + (i * 7 % 5) as f64).collect();
        let slow: Vec<f64> = base.iter().map(|x| x + 40.0).collect();
        assert!(mann_whitney_p(u_statistic(&slow, &base), 12, 12) < ALPHA);
        let mixed: Vec<f64> = base.iter().rev().cloned().collect();
        assert!(mann_whitney_p(u_statistic(&mixed, &base), 12, 12) > 0.1);
    }
}
