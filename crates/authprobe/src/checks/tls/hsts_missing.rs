use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "tls.hsts_missing",
    title: "No Strict-Transport-Security, or max-age under one year",
    family: Family::Tls,
    severity: Severity::Low,
    cwe: &[319, 523],
    owasp: &["API8"],
    description: "Reads Strict-Transport-Security on the HTTPS answers already taken as baselines; sends nothing extra.",
    needs: &[Need::Https],
    explained_by: &[],
    remediation: Remediation {
        summary: "Send Strict-Transport-Security: max-age=31536000 (one year) or more, with includeSubDomains when every subdomain is HTTPS, on every HTTPS answer including errors.",
        frameworks: &[
            (
                "django",
                "SECURE_HSTS_SECONDS = 31536000 and SECURE_HSTS_INCLUDE_SUBDOMAINS = True (SecurityMiddleware).",
            ),
            (
                "express",
                "app.use(helmet.hsts({ maxAge: 31536000, includeSubDomains: true }))",
            ),
            (
                "spring",
                "http.headers(h -> h.httpStrictTransportSecurity(s -> s.maxAgeInSeconds(31536000).includeSubDomains(true)))",
            ),
            (
                "go",
                "w.Header().Set(\"Strict-Transport-Security\", \"max-age=31536000; includeSubDomains\") in a middleware for all responses.",
            ),
            (
                "nginx",
                "add_header Strict-Transport-Security \"max-age=31536000; includeSubDomains\" always;",
            ),
            (
                "haproxy",
                "http-response set-header Strict-Transport-Security \"max-age=31536000; includeSubDomains\"",
            ),
        ],
    },
    references: &["RFC 6797 §6.1", "RFC 6797 §6.1.1"],
    budget: crate::check::Budget::Passive,
    lab_flaw: Some("tls.hsts_missing"),
    finds: "no Strict-Transport-Security, or max-age under one year",
    needs_note: "",
};

pub const ONE_YEAR: u64 = 31_536_000;

pub struct HstsMissing;

/// `Some(max_age)` from an HSTS header value; `None` when it has no valid max-age.
pub fn max_age(value: &str) -> Option<u64> {
    value.split(';').find_map(|d| {
        let (k, v) = d.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| v.trim().trim_matches('"').parse().ok())
            .flatten()
    })
}

impl Check for HstsMissing {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let b = ctx.baselines();
            let base = b.authorized.as_ref().unwrap_or(&b.anonymous);
            let Some(x) = base.exchanges.iter().find(|x| x.answer().is_some()) else {
                return Outcome::Inconclusive("no HTTPS answer to read headers from".into());
            };
            let a = x.answer().expect("filtered on answers");
            let problem = match a.header("strict-transport-security") {
                None => "the HTTPS answer carries no Strict-Transport-Security header".to_string(),
                Some(v) => match max_age(v) {
                    None => format!("Strict-Transport-Security has no valid max-age: {v:?}"),
                    Some(age) if age < ONE_YEAR => format!(
                        "Strict-Transport-Security max-age is {age} s, under one year ({ONE_YEAR} s)"
                    ),
                    Some(_) => return Outcome::Pass,
                },
            };
            Outcome::found(META.finding(Confidence::Confirmed, problem, ctx.evidence(x)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::max_age;

    #[test]
    fn parses_max_age() {
        assert_eq!(
            max_age("max-age=63072000; includeSubDomains"),
            Some(63072000)
        );
        assert_eq!(max_age("includeSubDomains; MAX-AGE=\"300\""), Some(300));
        assert_eq!(max_age("includeSubDomains"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }
}
