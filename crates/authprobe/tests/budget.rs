//! The engine holds each check to the request budget its metadata declares: a check that
//! wants more is cut off and reported inconclusive, never passed on what it did not send.

mod common;

use authprobe::check::{Budget, Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use authprobe::engine::{self, Progress};
use authprobe::finding::{Family, Severity};
use authprobe::scan::Scan;
use authprobe_lab::Profile;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

static META: CheckMeta = CheckMeta {
    id: "auth.test_budget",
    title: "A check that wants more requests than it declared",
    family: Family::Auth,
    severity: Severity::Low,
    cwe: &[],
    owasp: &[],
    description: "Sends `wants` anonymous requests with a budget of 3.",
    needs: &[Need::Token],
    explained_by: &[],
    remediation: Remediation {
        summary: "",
        frameworks: &[],
    },
    references: &[],
    budget: Budget::Fixed(3),
    lab_flaw: None,
    finds: "",
    needs_note: "",
};

/// Sends `wants` requests and passes if every one was answered; counts what got out.
/// With `facts`, first asks for shared facts that send requests of their own.
struct Greedy {
    wants: usize,
    sent: Arc<AtomicUsize>,
    facts: bool,
}

impl Check for Greedy {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            if self.facts {
                // The JWKS lookup (several well-known paths) and the garbage probe.
                let _ = ctx.facts().jwt.public_key(ctx).await;
                let _ = ctx.facts().auth.garbage_accepted(ctx).await;
            }
            for _ in 0..self.wants {
                match ctx.send(ctx.bare("GET")).await {
                    Ok(_) => {
                        self.sent.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => break,
                }
            }
            Outcome::Pass
        })
    }
}

async fn run(wants: usize) -> (authprobe::report::Report, usize) {
    run_with(wants, false).await
}

async fn run_with(wants: usize, facts: bool) -> (authprobe::report::Report, usize) {
    let lab = common::lab(Profile::Hardened, &[]).await;
    let opts = common::options(&lab, common::quick_limits());
    let sent = Arc::new(AtomicUsize::new(0));
    let check: Box<dyn Check> = Box::new(Greedy {
        wants,
        sent: sent.clone(),
        facts,
    });
    let r = engine::scan_with(opts, vec![check], Arc::new(Progress::default()))
        .await
        .expect("scan completes");
    (r, sent.load(Ordering::Relaxed))
}

#[tokio::test]
async fn a_check_within_its_budget_runs_as_written() {
    let (r, sent) = run(3).await;
    assert_eq!(sent, 3);
    assert!(r.inconclusive.is_empty(), "{:?}", r.inconclusive);
    assert_eq!(r.checks_run, vec!["auth.test_budget".to_string()]);
}

#[tokio::test]
async fn a_check_over_its_budget_is_cut_off_and_inconclusive() {
    let (r, sent) = run(10).await;
    assert_eq!(sent, 3, "requests beyond the budget must not go out");
    let reason = r
        .inconclusive
        .iter()
        .find(|s| s.id == "auth.test_budget")
        .map(|s| s.reason.clone())
        .unwrap_or_else(|| panic!("inconclusive: {r:#?}"));
    assert!(reason.contains("budget of 3"), "{reason}");
}

#[tokio::test]
async fn shared_facts_are_gathered_outside_the_asking_checks_budget() {
    let (r, sent) = run_with(3, true).await;
    assert_eq!(sent, 3);
    assert!(r.inconclusive.is_empty(), "{:?}", r.inconclusive);
    assert!(
        r.requests_sent > 3 + 6,
        "the facts did send requests: {}",
        r.requests_sent
    );
}
