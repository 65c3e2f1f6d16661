//! The catalog: every check, each its metadata (id, severity, CWE, OWASP, remediation)
//! plus a probe in one file under `checks/<family>/<id>.rs`. Everything that lists checks
//! derives from [`registry`]: the engine's schedule, `authprobe checks`, the SARIF and
//! JUnit rules, the transport checks of `authprobe tls`. A family imports the check API
//! ([`crate::check`]), the scan handle and the facts, never another family.

pub mod auth;
pub mod basic;
pub mod catalog_md;
pub mod jwt;
pub mod mtls;
pub mod spec;
pub mod tls;

pub use catalog_md::markdown_table;

use crate::check::Check;

/// Whether `id` is chosen by `--checks` (an id, a family name, or `family.*`).
pub fn selected(only: &[String], id: &str) -> bool {
    only.is_empty()
        || only.iter().any(|p| {
            let p = p.trim().trim_end_matches(".*");
            id == p || id.split('.').next() == Some(p)
        })
}

/// The first `--checks` entry that selects no check of the catalog, if any: the command
/// line and the service refuse a selection with a typo rather than run less than asked.
pub fn unknown_selection(list: &[String]) -> Option<&String> {
    list.iter().find(|p| {
        !metas()
            .iter()
            .any(|m| selected(std::slice::from_ref(*p), m.id))
    })
}

/// The checks whose verdict reads the TLS facts alone, each with that verdict: what
/// `authprobe tls` runs without an HTTP scan around it.
pub fn tls_verdicts() -> Vec<(&'static crate::check::CheckMeta, tls::Evaluate)> {
    tls::transport_checks()
}

/// Every check's metadata, in catalog order, listed once per process: a whole-API scan
/// looks ids up for every operation it probes.
pub fn metas() -> &'static [&'static crate::check::CheckMeta] {
    static METAS: std::sync::OnceLock<Vec<&'static crate::check::CheckMeta>> =
        std::sync::OnceLock::new();
    METAS.get_or_init(|| registry().iter().map(|c| c.meta()).collect())
}

/// The metadata of the check `id`.
pub fn meta(id: &str) -> Option<&'static crate::check::CheckMeta> {
    metas().iter().copied().find(|m| m.id == id)
}

/// Every check, in catalog order.
pub fn registry() -> Vec<Box<dyn Check>> {
    // Each family lists its own checks beside their `mod` lines, so a new check is
    // registered in the file that declares it.
    [
        auth::checks(),
        jwt::checks(),
        mtls::checks(),
        tls::checks(),
        basic::checks(),
        spec::checks(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Budget, Need};

    #[test]
    fn every_check_that_sends_has_a_budget_above_zero() {
        for c in registry() {
            let m = c.meta();
            match m.budget {
                // Declared, not forgotten: these send no HTTP request at all.
                Budget::Passive | Budget::TlsHandshakes => {}
                b => assert!(
                    b.requests(0, 0).is_some_and(|n| n > 0),
                    "{}: budget {b:?}",
                    m.id
                ),
            }
        }
    }

    #[test]
    fn lockout_budget_grows_with_the_burst() {
        let b = Budget::PerLockoutAttempt { fixed: 6 };
        assert_eq!(b.requests(20, 0), Some(26));
        assert_eq!(b.requests(100, 0), Some(106));
    }

    #[test]
    fn every_check_cites_a_reference_and_says_what_it_finds() {
        for c in registry() {
            let m = c.meta();
            assert!(!m.references.is_empty(), "{} has no reference", m.id);
            assert!(
                m.references.iter().all(|r| r.starts_with("RFC ")
                    || r.starts_with("CVE-")
                    || r.starts_with("NIST ")
                    || r.starts_with("https://")),
                "{}: references should be RFC sections, CVEs or URLs",
                m.id
            );
            assert!(!m.finds.is_empty(), "{} has no finds text", m.id);
        }
    }

    #[test]
    fn any_of_describes_its_alternatives() {
        let n = Need::AnyOf(&[Need::Token, Need::Basic]);
        assert_eq!(
            n.describe(),
            "needs a bearer token (--bearer) or Basic credentials (--basic)"
        );
        assert_eq!(n.short(), "token or basic");
    }
}
