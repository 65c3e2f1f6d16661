//! `authprobe checks`: the catalog, as a table or JSON.

use crate::cli::args::{ChecksArgs, Format};
use anyhow::Result;
use authprobe::checks;

pub fn list_checks(a: ChecksArgs) -> Result<i32> {
    let registry = checks::registry();
    if a.format == Format::Json {
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
