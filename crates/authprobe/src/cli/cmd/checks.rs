//! `authprobe checks`: the catalog, as a table, JSON, or the README's Markdown table.

use crate::cli::args::{CatalogFormat, ChecksArgs};
use anyhow::Result;
use authprobe::check::Budget;
use authprobe::checks;

pub fn list_checks(a: ChecksArgs) -> Result<i32> {
    let registry = checks::registry();
    if a.format == CatalogFormat::Markdown {
        print!("{}", checks::markdown_table());
    } else if a.format == CatalogFormat::Json {
        let list: Vec<_> = registry
            .iter()
            .map(|c| {
                let m = c.meta();
                serde_json::json!({
                    "id": m.id,
                    "title": m.title,
                    "family": m.family,
                    "severity": m.severity,
                    "cwe": m.cwe_ids(),
                    "owasp": m.owasp_ids(),
                    "description": m.description,
                    "needs": m.needs.iter().map(|n| n.describe()).collect::<Vec<_>>(),
                    "remediation": m.remediation_text(),
                    "references": m.references,
                    "budget": budget_json(m.budget),
                    "lab_flaw": m.lab_flaw,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        let width = registry
            .iter()
            .map(|c| c.meta().id.len())
            .max()
            .unwrap_or(0);
        let cwe_width = registry
            .iter()
            .map(|c| c.meta().cwe_ids().join(",").len())
            .max()
            .unwrap_or(0);
        for c in &registry {
            let m = c.meta();
            println!(
                "{:<width$}  {:<8}  {:<cwe_width$}  {}",
                m.id,
                m.severity.as_str(),
                m.cwe_ids().join(","),
                m.title
            );
        }
    }
    Ok(0)
}

/// A check's request budget as data: what it is counted in, and the fixed part.
fn budget_json(b: Budget) -> serde_json::Value {
    match b {
        Budget::Passive => serde_json::json!({ "kind": "passive" }),
        Budget::TlsHandshakes => serde_json::json!({ "kind": "tls_handshakes" }),
        Budget::Fixed(n) => serde_json::json!({ "kind": "fixed", "requests": n }),
        Budget::PerLockoutAttempt { fixed } => {
            serde_json::json!({ "kind": "per_lockout_attempt", "requests": fixed })
        }
        Budget::PerWordlistPair { fixed } => {
            serde_json::json!({ "kind": "per_wordlist_pair", "requests": fixed })
        }
    }
}
