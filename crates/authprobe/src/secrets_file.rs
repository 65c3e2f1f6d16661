//! `--secrets-file`: the values of the `${AUTHPROBE_…}` variables the evidence uses, as
//! `export NAME='…'` lines, so that `source FILE` makes every `curl` line of the report
//! runnable after the scan. The file holds live credentials: it is created private
//! (0600) and never part of a report.

use crate::report::Report;
use anyhow::{Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A name a secrets file can `export` and a report can show: `AUTHPROBE_` and then
/// upper-case letters, digits and underscores.
pub fn is_var_name(s: &str) -> bool {
    s.strip_prefix("AUTHPROBE_").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    })
}

/// Every `AUTHPROBE_…` name the findings' evidence, descriptions and details mention.
pub fn used_variables(report: &Report) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in &report.findings {
        for text in [&f.evidence.curl, &f.evidence.request, &f.description] {
            names_in(text, &mut out);
        }
    }
    out
}

fn names_in(text: &str, out: &mut BTreeSet<String>) {
    let mut rest = text;
    while let Some(i) = rest.find("AUTHPROBE_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        if is_var_name(name) {
            out.insert(name.to_string());
        }
        rest = &tail[end.max(1)..];
    }
}

/// A POSIX shell single-quoted word: nothing inside is expanded.
fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The file's text: one `export` line per used variable the scan knows the value of, and
/// a comment naming each one it does not (a passphrase the user keeps elsewhere).
pub fn render(used: &BTreeSet<String>, values: &BTreeMap<String, String>) -> String {
    let mut s = String::from(
        "# authprobe: the values of the variables in this report's curl lines.\n\
         # Live credentials: keep this file private and delete it when done.\n",
    );
    for name in used {
        match values.get(name) {
            Some(v) => s.push_str(&format!("export {name}={}\n", sq(v))),
            None => s.push_str(&format!(
                "# {name}: not known to the scan; export it yourself\n"
            )),
        }
    }
    s
}

/// Writes the file for `report` at `path`, replacing it, readable by the user only.
/// Returns the used variables whose value the scan does not know.
pub fn write(path: &Path, report: &Report) -> Result<Vec<String>> {
    use std::io::Write;
    let used = used_variables(report);
    let text = render(&used, &report.variables);
    // A file left by an earlier run may be readable by others: start from a new one.
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("replacing {}", path.display()));
        }
        _ => {}
    }
    let mut f = crate::load::files::create_private(path)
        .with_context(|| format!("cannot write --secrets-file {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write --secrets-file {}", path.display()))?;
    Ok(used
        .into_iter()
        .filter(|n| !report.variables.contains_key(n))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_from_shell_expressions_and_values_quoted() {
        let mut used = BTreeSet::new();
        names_in(
            "curl -H \"Authorization: Bearer ${AUTHPROBE_BEARER##*.}\" $(printf %s \"${AUTHPROBE_BASIC}\") $AUTHPROBE_ x AUTHPROBE_MINTED_EXPIRED_ACCEPTED}",
            &mut used,
        );
        assert_eq!(
            used.iter().map(String::as_str).collect::<Vec<_>>(),
            [
                "AUTHPROBE_BASIC",
                "AUTHPROBE_BEARER",
                "AUTHPROBE_MINTED_EXPIRED_ACCEPTED"
            ]
        );
        let values = BTreeMap::from([
            ("AUTHPROBE_BEARER".to_string(), "a'b$c".to_string()),
            ("AUTHPROBE_BASIC".to_string(), "u:p".to_string()),
        ]);
        let text = render(&used, &values);
        assert!(
            text.contains("export AUTHPROBE_BEARER='a'\\''b$c'\n"),
            "{text}"
        );
        assert!(text.contains("export AUTHPROBE_BASIC='u:p'\n"));
        assert!(text.contains("# AUTHPROBE_MINTED_EXPIRED_ACCEPTED: not known"));
    }
}
