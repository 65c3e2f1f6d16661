//! The oracle decides whether a probe was *accepted*, not the status code alone
//! (DESIGN.md, principle 2).
//!
//! A baseline class is a set of answers to the same kind of request, taken at least twice.
//! Two samples of one class tell how noisy the endpoint is (request ids, timestamps); the
//! similarity between the authorized class and each rejected class tells how far apart
//! "accepted" and "refused" are. A probe is accepted only when it resembles the authorized
//! class more than the noise allows and does not resemble a rejected one. Where the classes
//! cannot be told apart (a public endpoint, an error page answered with 200 and the same
//! body), every verdict is inconclusive: never a finding.

use crate::http::{Answer, Exchange, TransportError};
use regex::Regex;
use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

/// What kind of answer a sample is, before any comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An HTTP answer that says "yes": 2xx, or a redirect that does not lead to a login
    /// page, without an error body.
    Success,
    /// An answer that says "no" whatever the baselines look like: any 4xx or 5xx, a
    /// redirect to a login page, an error body (JSON `error`/`errors`/refusal `detail`), or
    /// the TLS handshake refused by the peer (an alert).
    Refusal,
    /// No answer at all: a transport error (reset, timeout, unparseable HTTP). Proves
    /// nothing either way: a check that meets one is inconclusive, never passed.
    Failed(String),
}

/// The comparable features of one answer.
#[derive(Clone, Debug)]
pub struct Sample {
    /// `None` when there was no HTTP answer (see `kind`).
    pub status: Option<u16>,
    pub location: Option<String>,
    pub challenge: Option<String>,
    pub cookies: BTreeSet<String>,
    pub kind: Kind,
    tokens: HashMap<String, u32>,
    token_count: u32,
}

/// A redirect to where a person signs in is a refusal, wherever it points.
static LOGIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(log-?in|sign-?in|signon|/auth(?:enticate|orize)?(?:[/?#]|$)|/sso(?:[/?#]|$)|/oauth|/session/new|/cas/|/saml)")
        .expect("static regex")
});

/// The words of an error message that refuses a credential (DRF `detail`, Flask `msg`,
/// Express `message`, GraphQL `errors[].message`).
static REFUSAL_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(not (?:been )?(?:authenticated|authori[sz]ed|provided|valid|allowed|permitted|found)|invalid|expired|unauthori[sz]ed|unauthenticated|forbidden|denied|credentials|signature|segments|login required|authentication (?:failed|required)|permission|malformed|missing)")
        .expect("static regex")
});

/// Whether a body is an error document: JSON whose top level carries an `error`, a
/// non-empty `errors` without `data`, or a short refusal message. Bodies that are not
/// JSON are left to the similarity comparison.
pub fn is_error_body(body: &[u8]) -> bool {
    let trimmed = body.trim_ascii_start();
    if !(trimmed.starts_with(b"{")) || body.len() > 256 * 1024 {
        return false;
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return false;
    };
    let truthy = |v: &serde_json::Value| match v {
        serde_json::Value::Null | serde_json::Value::Bool(false) => false,
        serde_json::Value::String(s) => !s.is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        serde_json::Value::Object(o) => !o.is_empty(),
        _ => true,
    };
    let has_data = map.get("data").is_some_and(truthy);
    if map.get("error").is_some_and(truthy) && !has_data {
        return true;
    }
    if map.get("errors").is_some_and(truthy) && !has_data {
        return true;
    }
    if map.get("ok") == Some(&serde_json::Value::Bool(false))
        || map.get("success") == Some(&serde_json::Value::Bool(false))
    {
        return true;
    }
    // A lone message is a refusal when it reads like one; a message beside data is not.
    map.len() <= 3
        && ["detail", "message", "msg", "error_description"]
            .iter()
            .filter_map(|k| map.get(*k).and_then(|v| v.as_str()))
            .any(|m| REFUSAL_WORDS.is_match(m))
}

static DYNAMIC: LazyLock<Regex> = LazyLock::new(|| {
    // A word with a digit in it is a timestamp, id, counter or nonce far more often than it
    // is meaning; hex and base64 runs are ids, CSRF tokens or hashes.
    Regex::new(r"^(?:.*\d.*|[0-9a-fA-F]{16,}|[A-Za-z0-9_\-]{24,})$").expect("static regex")
});

fn tokenize(body: &[u8]) -> (HashMap<String, u32>, u32) {
    let text = String::from_utf8_lossy(body);
    let mut map = HashMap::new();
    let mut n = 0;
    for word in text
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| !w.is_empty() && *w != "-")
    {
        let key = if DYNAMIC.is_match(word) {
            "\u{0}dyn".to_string()
        } else {
            word.to_ascii_lowercase()
        };
        *map.entry(key).or_insert(0) += 1;
        n += 1;
    }
    (map, n)
}

fn location_key(loc: &str) -> String {
    // Compare where a redirect goes, not the per-request state it carries.
    let no_query = loc.split(['?', '#']).next().unwrap_or(loc);
    no_query.trim_end_matches('/').to_ascii_lowercase()
}

impl Sample {
    pub fn from_answer(a: &Answer) -> Self {
        let (tokens, token_count) = tokenize(&a.body);
        let login_redirect = (300..400).contains(&a.status)
            && a.header("location").is_some_and(|l| LOGIN.is_match(l));
        let kind = if a.status >= 400 || login_redirect || is_error_body(&a.body) {
            Kind::Refusal
        } else {
            Kind::Success
        };
        Self {
            kind,
            status: Some(a.status),
            location: a.header("location").map(location_key),
            challenge: a.header("www-authenticate").map(|c| {
                c.split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase()
            }),
            cookies: a
                .headers_named("set-cookie")
                .filter_map(|c| c.split('=').next())
                .map(|n| n.trim().to_string())
                .collect(),
            tokens,
            token_count,
        }
    }

    /// A sample for a request that got no HTTP answer: a refusal when the peer refused the
    /// TLS handshake (an alert: a client certificate it will not take), else a failure.
    pub fn refused(e: &TransportError) -> Self {
        Self {
            kind: if e.is_refusal() {
                Kind::Refusal
            } else {
                Kind::Failed(e.to_string())
            },
            status: None,
            location: None,
            challenge: None,
            cookies: BTreeSet::new(),
            tokens: HashMap::new(),
            token_count: 0,
        }
    }

    pub fn from_exchange(x: &Exchange) -> Self {
        match &x.result {
            Ok(a) => Self::from_answer(a),
            Err(e) => Self::refused(e),
        }
    }

    /// Body similarity in [0, 1]: Dice coefficient of the masked word multisets.
    pub fn similarity(&self, other: &Sample) -> f64 {
        if self.token_count == 0 && other.token_count == 0 {
            return 1.0;
        }
        let common: u32 = self
            .tokens
            .iter()
            .map(|(k, n)| (*n).min(*other.tokens.get(k).unwrap_or(&0)))
            .sum();
        2.0 * f64::from(common) / f64::from(self.token_count + other.token_count)
    }

    /// An answer that says "no" whatever the baselines look like.
    pub fn is_refusal(&self) -> bool {
        self.kind == Kind::Refusal
    }

    pub fn is_success(&self) -> bool {
        self.kind == Kind::Success
    }

    /// The transport error, when the request got no answer and was not refused.
    pub fn failure(&self) -> Option<&str> {
        match &self.kind {
            Kind::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// A short description for messages: the status, or what happened instead.
    pub fn describe(&self) -> String {
        match (&self.kind, self.status) {
            (Kind::Failed(e), _) => format!("no answer ({e})"),
            (_, Some(s)) => format!("status {s}"),
            (_, None) => "the TLS handshake refused".into(),
        }
    }

    pub fn has_body(&self) -> bool {
        self.token_count > 0
    }
}

/// Answers to one kind of request.
#[derive(Clone, Debug)]
pub struct Class {
    pub label: String,
    pub samples: Vec<Sample>,
}

impl Class {
    pub fn new(label: &str, samples: Vec<Sample>) -> Self {
        Self {
            label: label.to_string(),
            samples,
        }
    }

    fn statuses(&self) -> BTreeSet<Option<u16>> {
        self.samples.iter().map(|s| s.status).collect()
    }

    fn locations(&self) -> BTreeSet<Option<String>> {
        self.samples.iter().map(|s| s.location.clone()).collect()
    }

    /// How alike the class is to itself (1.0 for a perfectly stable endpoint).
    fn self_similarity(&self) -> f64 {
        let mut min: f64 = 1.0;
        for (i, a) in self.samples.iter().enumerate() {
            for b in &self.samples[i + 1..] {
                min = min.min(a.similarity(b));
            }
        }
        min
    }

    pub fn similarity_to(&self, s: &Sample) -> f64 {
        self.samples
            .iter()
            .map(|c| c.similarity(s))
            .fold(0.0, f64::max)
    }

    fn similarity_to_class(&self, other: &Class) -> f64 {
        other
            .samples
            .iter()
            .map(|s| self.similarity_to(s))
            .fold(0.0, f64::max)
    }

    pub fn all_refused(&self) -> bool {
        !self.samples.is_empty() && self.samples.iter().all(Sample::is_refusal)
    }

    /// Every sample says "yes": the only kind of class a probe may be accepted against.
    pub fn all_success(&self) -> bool {
        !self.samples.is_empty() && self.samples.iter().all(Sample::is_success)
    }

    /// The first transport failure among the samples, if any.
    pub fn failure(&self) -> Option<&str> {
        self.samples.iter().find_map(Sample::failure)
    }

    /// The first sample's description ("status 401"), for messages.
    pub fn describe(&self) -> String {
        self.samples
            .first()
            .map_or_else(|| "no sample".into(), Sample::describe)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The probe got the authorized answer. `tentative` when there was no authorized
    /// baseline and the decision rests on the rejected ones alone.
    Accepted {
        similarity: f64,
        tentative: bool,
    },
    Rejected,
    Inconclusive(String),
}

/// What a probe's own kind decides before any comparison: no answer proves nothing
/// (inconclusive), and any 4xx/5xx, login redirect, error body or TLS alert says "no".
fn by_kind(probe: &Sample) -> Option<Verdict> {
    if let Some(e) = probe.failure() {
        return Some(Verdict::Inconclusive(format!("no answer to judge: {e}")));
    }
    probe.is_refusal().then_some(Verdict::Rejected)
}

/// Minimum distance (in similarity) between two classes with the same status for the
/// body to be allowed to tell them apart.
const BODY_GAP: f64 = 0.2;

pub struct Oracle<'a> {
    authorized: Option<&'a Class>,
    rejected: Vec<&'a Class>,
}

struct Separated<'a> {
    class: &'a Class,
    /// Similarity above which a sample belongs to the class.
    threshold: f64,
}

impl<'a> Oracle<'a> {
    pub fn new(authorized: Option<&'a Class>, rejected: Vec<&'a Class>) -> Self {
        Self {
            authorized,
            rejected: rejected
                .into_iter()
                .filter(|c| !c.samples.is_empty())
                .collect(),
        }
    }

    /// Rejected classes the authorized class can be told apart from, with the thresholds
    /// that split them.
    fn separated(&self, a: &Class) -> (f64, Vec<Separated<'a>>) {
        let a_self = a.self_similarity();
        let mut a_threshold: f64 = 0.0;
        let mut out = Vec::new();
        for r in &self.rejected {
            let cross = a.similarity_to_class(r);
            let statuses_differ = a.statuses().is_disjoint(&r.statuses());
            let locations_differ = a.locations().is_disjoint(&r.locations());
            let r_self = r.self_similarity();
            let body_apart = a_self - cross >= BODY_GAP && r_self - cross >= BODY_GAP;
            // A refusal is apart from a success by what it is, whatever the bodies share.
            let kinds_differ = r.all_refused();
            if statuses_differ || locations_differ || body_apart || kinds_differ {
                a_threshold = a_threshold.max((a_self + cross) / 2.0);
                out.push(Separated {
                    class: r,
                    threshold: (r_self + cross) / 2.0,
                });
            }
        }
        if out.is_empty() {
            a_threshold = a_self - BODY_GAP / 2.0;
        }
        (a_threshold.min(a_self - 0.02).max(0.3), out)
    }

    /// Can this oracle ever say "accepted"? `Err` explains why not.
    pub fn usable(&self) -> Result<(), String> {
        match self.authorized {
            Some(a) => {
                self.reference_ok(a)?;
                if self.rejected.is_empty() {
                    return Err("no rejected baseline to compare with".into());
                }
                if self.separated(a).1.is_empty() {
                    return Err(format!(
                        "the authorized answer cannot be told apart from the {} answer (public endpoint, or authentication not enforced at all)",
                        self.rejected
                            .iter()
                            .map(|c| c.label.as_str())
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ));
                }
                Ok(())
            }
            None => {
                if self.rejected.iter().any(|r| r.all_refused()) {
                    Ok(())
                } else {
                    Err("no authorized baseline, and no baseline that the server refuses".into())
                }
            }
        }
    }

    pub fn judge(&self, probe: &Sample) -> Verdict {
        if let Some(v) = by_kind(probe) {
            return v;
        }
        let Some(a) = self.authorized else {
            return self.judge_without_authorized(probe);
        };
        if let Err(e) = self.reference_ok(a) {
            return Verdict::Inconclusive(e);
        }
        let (a_threshold, seps) = self.separated(a);
        if seps.is_empty() {
            if probe.is_refusal() {
                return Verdict::Rejected;
            }
            return Verdict::Inconclusive(
                self.usable()
                    .err()
                    .unwrap_or_else(|| "baselines do not separate".into()),
            );
        }
        let sim_a = a.similarity_to(probe);
        let matches_a = a.statuses().contains(&probe.status)
            && a.locations().contains(&probe.location)
            && sim_a >= a_threshold;
        let best_r = seps
            .iter()
            .filter(|s| {
                s.class.statuses().contains(&probe.status)
                    && s.class.locations().contains(&probe.location)
                    && s.class.similarity_to(probe) >= s.threshold
            })
            .map(|s| s.class.similarity_to(probe))
            .fold(None, |acc: Option<f64>, x| {
                Some(acc.map_or(x, |a| a.max(x)))
            });
        match (matches_a, best_r) {
            (true, None) => Verdict::Accepted {
                similarity: sim_a,
                tentative: false,
            },
            (false, Some(_)) => Verdict::Rejected,
            (true, Some(sim_r)) if sim_a >= sim_r + BODY_GAP / 2.0 => Verdict::Accepted {
                similarity: sim_a,
                tentative: false,
            },
            (true, Some(sim_r)) if sim_r >= sim_a + BODY_GAP / 2.0 => Verdict::Rejected,
            (true, Some(_)) => Verdict::Inconclusive(
                "the answer is as close to the rejected baseline as to the authorized one".into(),
            ),
            (false, None) if probe.is_refusal() => Verdict::Rejected,
            (false, None) => Verdict::Inconclusive(format!(
                "the answer (status {}) resembles neither the authorized nor the rejected baselines",
                probe.status.map_or("none".to_string(), |s| s.to_string())
            )),
        }
    }

    /// Two refusals alike prove nothing: the reference a probe is accepted against must
    /// itself say "yes".
    fn reference_ok(&self, a: &Class) -> Result<(), String> {
        if let Some(e) = a.failure() {
            return Err(format!("the {} reference got no answer: {e}", a.label));
        }
        if !a.all_success() {
            return Err(format!(
                "the {} reference is itself refused ({}), so nothing can be accepted against it",
                a.label,
                a.describe()
            ));
        }
        Ok(())
    }

    /// Without an authorized answer, only a refusal-vs-success contrast is evidence: the
    /// probe succeeds with a body where a baseline is refused. Always tentative.
    fn judge_without_authorized(&self, probe: &Sample) -> Verdict {
        if let Some(v) = by_kind(probe) {
            return v;
        }
        if !self.rejected.iter().any(|r| r.all_refused()) {
            return Verdict::Inconclusive(
                "no authorized baseline (give --bearer, --basic or --client-cert)".into(),
            );
        }
        let close_to_rejected = self
            .rejected
            .iter()
            .any(|r| r.statuses().contains(&probe.status) && r.similarity_to(probe) >= 0.8);
        if close_to_rejected {
            Verdict::Rejected
        } else if probe.is_success() && probe.has_body() {
            Verdict::Accepted {
                similarity: 0.0,
                tentative: true,
            }
        } else {
            Verdict::Inconclusive(format!(
                "status {} without an authorized baseline to compare with",
                probe.status.map_or("none".to_string(), |s| s.to_string())
            ))
        }
    }

    /// For answers without a body (HEAD): status and redirect target only.
    pub fn judge_headers_only(&self, probe: &Sample) -> Verdict {
        if let Some(v) = by_kind(probe) {
            return v;
        }
        let Some(a) = self.authorized else {
            return self.judge_without_authorized(probe);
        };
        if let Err(e) = self.reference_ok(a) {
            return Verdict::Inconclusive(e);
        }
        let rejected_statuses: BTreeSet<_> =
            self.rejected.iter().flat_map(|r| r.statuses()).collect();
        if rejected_statuses.contains(&probe.status) {
            return Verdict::Rejected;
        }
        if a.statuses().contains(&probe.status)
            && a.locations().contains(&probe.location)
            && a.statuses().is_disjoint(&rejected_statuses)
        {
            Verdict::Accepted {
                similarity: 1.0,
                tentative: false,
            }
        } else {
            Verdict::Inconclusive("status and headers alone do not decide".into())
        }
    }
}

/// A refusal that tells the client to use TLS, as nginx does on an HTTPS port.
pub fn says_use_https(status: u16, body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    matches!(status, 400 | 403 | 426)
        && (b.contains("https") || b.contains("ssl") || b.contains("tls"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Sample {
        Sample::from_answer(&Answer {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
            truncated: false,
            elapsed: Duration::ZERO,
        })
    }

    fn profile(user: &str, rid: &str, ts: &str) -> String {
        format!(
            r#"{{"user":"{user}","role":"user","account":{{"id":"acct-1001","name":"Example Logistics","plan":"enterprise","regions":["eu-west-1","us-east-2"],"contact":"billing@example.test"}},"request_id":"{rid}","served_at":"{ts}"}}"#
        )
    }

    fn authorized() -> Class {
        Class::new(
            "authorized",
            vec![
                answer(
                    200,
                    &[],
                    &profile("alice", "9f2c41d07be1a3c5", "2026-11-23T10:00:01.123Z"),
                ),
                answer(
                    200,
                    &[],
                    &profile("alice", "0be1a39f2c41d07c", "2026-11-23T10:00:02.456Z"),
                ),
            ],
        )
    }

    #[test]
    fn json_with_timestamps_and_request_ids_is_accepted() {
        let a = authorized();
        let r = Class::new(
            "invalid",
            vec![
                answer(
                    401,
                    &[("www-authenticate", "Bearer")],
                    r#"{"error":"invalid_token","request_id":"aa11"}"#,
                ),
                answer(
                    401,
                    &[("www-authenticate", "Bearer")],
                    r#"{"error":"invalid_token","request_id":"bb22"}"#,
                ),
            ],
        );
        let o = Oracle::new(Some(&a), vec![&r]);
        assert!(o.usable().is_ok());
        let probe = answer(
            200,
            &[],
            &profile("alice", "77aa00cc11dd22ee", "2026-11-23T11:12:13.999Z"),
        );
        assert!(matches!(
            o.judge(&probe),
            Verdict::Accepted {
                tentative: false,
                ..
            }
        ));
        let refused = answer(401, &[], r#"{"error":"invalid_token","request_id":"cc33"}"#);
        assert_eq!(o.judge(&refused), Verdict::Rejected);
    }

    #[test]
    fn a_200_error_page_is_rejected_not_accepted() {
        let a = authorized();
        let err = |rid: &str| {
            answer(
                200,
                &[],
                &format!(
                    r#"<html><body><h1>Session invalid</h1><p>Your token was not accepted. Please sign in again.</p><small>{rid}</small></body></html>"#
                ),
            )
        };
        let r = Class::new("invalid", vec![err("r1x9"), err("r2y8")]);
        let o = Oracle::new(Some(&a), vec![&r]);
        assert!(o.usable().is_ok());
        assert_eq!(o.judge(&err("r3z7")), Verdict::Rejected);
        let data = answer(
            200,
            &[],
            &profile("mallory", "1234abcd5678ef90", "2026-11-23T12:00:00Z"),
        );
        assert!(matches!(o.judge(&data), Verdict::Accepted { .. }));
    }

    #[test]
    fn a_302_to_the_login_page_is_rejected() {
        let a = authorized();
        let login = |q: &str| {
            answer(
                302,
                &[(
                    "location",
                    &format!("https://api.example.test/login?next={q}"),
                )],
                "",
            )
        };
        let r = Class::new("anonymous", vec![login("a1"), login("b2")]);
        let o = Oracle::new(Some(&a), vec![&r]);
        assert!(o.usable().is_ok());
        assert_eq!(o.judge(&login("c3")), Verdict::Rejected);
        // A redirect somewhere else is neither: not a finding.
        let elsewhere = answer(
            302,
            &[("location", "https://api.example.test/maintenance")],
            "",
        );
        assert!(matches!(o.judge(&elsewhere), Verdict::Inconclusive(_)));
    }

    #[test]
    fn a_public_endpoint_is_inconclusive_never_accepted() {
        let a = authorized();
        // The same answer with and without credentials.
        let r = Class::new("anonymous", authorized().samples);
        let o = Oracle::new(Some(&a), vec![&r]);
        assert!(o.usable().is_err());
        let probe = answer(
            200,
            &[],
            &profile("alice", "feedfacecafebeef", "2026-11-23T13:00:00Z"),
        );
        assert!(matches!(o.judge(&probe), Verdict::Inconclusive(_)));
    }

    #[test]
    fn same_status_bodies_far_apart_still_separate() {
        let a = authorized();
        let r = Class::new(
            "invalid",
            vec![
                answer(
                    200,
                    &[],
                    r#"{"ok":false,"error":"token expired or invalid","request_id":"x1"}"#,
                ),
                answer(
                    200,
                    &[],
                    r#"{"ok":false,"error":"token expired or invalid","request_id":"x2"}"#,
                ),
            ],
        );
        let o = Oracle::new(Some(&a), vec![&r]);
        assert!(o.usable().is_ok());
        let bad = answer(
            200,
            &[],
            r#"{"ok":false,"error":"token expired or invalid","request_id":"x3"}"#,
        );
        assert_eq!(o.judge(&bad), Verdict::Rejected);
    }

    #[test]
    fn head_answers_are_judged_on_status() {
        let a = authorized();
        let r = Class::new(
            "anonymous",
            vec![answer(401, &[], "no"), answer(401, &[], "no")],
        );
        let o = Oracle::new(Some(&a), vec![&r]);
        assert!(matches!(
            o.judge_headers_only(&answer(200, &[], "")),
            Verdict::Accepted { .. }
        ));
        assert_eq!(
            o.judge_headers_only(&answer(401, &[], "")),
            Verdict::Rejected
        );
    }

    #[test]
    fn without_an_authorized_baseline_success_is_only_tentative() {
        let r = Class::new(
            "invalid",
            vec![answer(401, &[], "denied"), answer(401, &[], "denied")],
        );
        let o = Oracle::new(None, vec![&r]);
        assert!(o.usable().is_ok());
        assert!(matches!(
            o.judge(&answer(200, &[], r#"{"orders":[1,2,3]}"#)),
            Verdict::Accepted {
                tentative: true,
                ..
            }
        ));
        assert_eq!(o.judge(&answer(403, &[], "nope")), Verdict::Rejected);
    }

    #[test]
    fn transport_refusals_are_rejections() {
        let a = authorized();
        let r = Class::new(
            "anonymous",
            vec![
                Sample::refused(&TransportError::TlsAlert(
                    "received fatal alert: CertificateRequired".into()
                ));
                2
            ],
        );
        let o = Oracle::new(Some(&a), vec![&r]);
        assert!(o.usable().is_ok());
        assert_eq!(
            o.judge(&Sample::refused(&TransportError::TlsAlert(
                "received fatal alert: BadCertificate".into()
            ))),
            Verdict::Rejected
        );
    }

    #[test]
    fn any_4xx_is_a_refusal_whatever_its_number() {
        // flask-jwt-extended answers 422 for a token it cannot parse.
        let a = authorized();
        let r = Class::new(
            "invalid",
            vec![
                answer(401, &[], r#"{"msg":"Signature verification failed"}"#),
                answer(401, &[], r#"{"msg":"Signature verification failed"}"#),
            ],
        );
        let o = Oracle::new(Some(&a), vec![&r]);
        assert_eq!(
            o.judge(&answer(422, &[], r#"{"msg":"Not enough segments"}"#)),
            Verdict::Rejected
        );
        assert_eq!(o.judge(&answer(500, &[], "boom")), Verdict::Rejected);
    }

    #[test]
    fn two_refusals_alike_prove_nothing() {
        // The reference itself is refused (the app's 401 for a certificate without a
        // token): a probe that gets the same 401 is not "accepted".
        let refused = |d: &str| answer(401, &[], &format!(r#"{{"detail":"{d}"}}"#));
        let reference = Class::new(
            "certificate alone",
            vec![
                refused("Authentication credentials were not provided."),
                refused("Authentication credentials were not provided."),
            ],
        );
        let none = Class::new(
            "no certificate",
            vec![answer(400, &[], "No required SSL certificate was sent"); 2],
        );
        let o = Oracle::new(Some(&reference), vec![&none]);
        assert!(o.usable().is_err());
        assert!(matches!(
            o.judge(&refused("Authentication credentials were not provided.")),
            Verdict::Rejected
        ));
    }

    #[test]
    fn graphql_errors_served_with_200_are_refusals() {
        let data = |u: &str| {
            answer(
                200,
                &[],
                &format!(
                    r#"{{"data":{{"me":{{"user":"{u}","role":"user","plan":"enterprise"}}}}}}"#
                ),
            )
        };
        let errors = || {
            answer(
                200,
                &[],
                r#"{"data":null,"errors":[{"message":"Not authenticated","extensions":{"code":"UNAUTHENTICATED"}}]}"#,
            )
        };
        let a = Class::new("authorized", vec![data("alice"), data("alice")]);
        assert!(a.all_success());
        let r = Class::new("anonymous", vec![errors(), errors()]);
        assert!(r.all_refused());
        let o = Oracle::new(Some(&a), vec![&r]);
        assert!(o.usable().is_ok());
        assert_eq!(o.judge(&errors()), Verdict::Rejected);
        assert!(matches!(o.judge(&data("alice")), Verdict::Accepted { .. }));
    }

    #[test]
    fn error_bodies_are_recognised_and_data_is_not() {
        for body in [
            r#"{"error":"invalid_token","error_description":"expired"}"#,
            r#"{"detail":"Given token not valid for any token type"}"#,
            r#"{"message":"Unauthorized"}"#,
            r#"{"errors":[{"message":"jwt malformed"}]}"#,
            r#"{"ok":false,"reason":"nope"}"#,
        ] {
            assert!(is_error_body(body.as_bytes()), "{body}");
        }
        for body in [
            r#"{"user":"alice","message":"welcome back"}"#,
            r#"{"data":{"me":"alice"},"errors":[]}"#,
            r#"{"error":null,"user":"alice"}"#,
            "not json at all: invalid",
        ] {
            assert!(!is_error_body(body.as_bytes()), "{body}");
        }
    }

    #[test]
    fn a_transport_error_is_not_a_refusal() {
        let a = authorized();
        let r = Class::new(
            "anonymous",
            vec![answer(401, &[], "no"), answer(401, &[], "no")],
        );
        let o = Oracle::new(Some(&a), vec![&r]);
        let reset = Sample::refused(&TransportError::Other("connection reset by peer".into()));
        assert!(!reset.is_refusal());
        assert!(matches!(o.judge(&reset), Verdict::Inconclusive(_)));
        assert!(matches!(
            o.judge_headers_only(&reset),
            Verdict::Inconclusive(_)
        ));
        let timeout = Sample::refused(&TransportError::Timeout(Duration::from_secs(1)));
        assert!(matches!(o.judge(&timeout), Verdict::Inconclusive(_)));
    }
}
