//! The scanner crate's layering, read from its sources: no family of checks imports
//! another, nothing below the families (engine, reports, facts, the scan handle) reaches up
//! into one, and the check API depends on the finding model and the scan handle only. A
//! refactor that breaks these fails here instead of growing back into one import circle.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const FAMILIES: &[&str] = &["auth", "basic", "jwt", "mtls", "spec", "tls"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The family a file belongs to (`src/checks/<family>/...`), if any.
fn family_of(rel: &Path) -> Option<String> {
    let mut c = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    (c.next()? == "checks")
        .then(|| c.next())
        .flatten()
        .filter(|f| FAMILIES.contains(&f.as_str()))
}

/// The families a source text names through `crate::checks::...`, including inside a
/// `use crate::checks::{...}` group.
fn families_named(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::checks::") {
        rest = &rest[i + "crate::checks::".len()..];
        let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            group[..end]
                .split(',')
                .map(|s| s.trim().split("::").next().unwrap_or(""))
                .collect()
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            vec![&rest[..end]]
        };
        for n in names {
            if FAMILIES.contains(&n) {
                out.insert(n.to_string());
            }
        }
    }
    out
}

fn crate_sources() -> Vec<(PathBuf, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.strip_prefix(&src).unwrap().to_path_buf(), text)
        })
        .collect()
}

#[test]
fn no_family_imports_another_and_nothing_below_reaches_up_into_one() {
    let files = crate_sources();
    assert!(files.len() > 40, "found the sources");
    let mut wrong = Vec::new();
    for (rel, text) in &files {
        // In `checks/<family>/<check>.rs`, `super::super::` is `crate::checks::`.
        // In `checks/<family>/<check>.rs`, `super::super::` is `crate::checks::`; the
        // binary (`main.rs`, `cli/`) names the library `authprobe::`.
        let named = families_named(
            &text
                .replace("super::super::", "crate::checks::")
                .replace("authprobe::checks::", "crate::checks::"),
        );
        match family_of(rel) {
            Some(own) => {
                for f in named.iter().filter(|f| **f != own) {
                    wrong.push(format!(
                        "{} (family {own}) imports family {f}",
                        rel.display()
                    ));
                }
            }
            None => {
                for f in &named {
                    wrong.push(format!("{} imports family {f}", rel.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn the_reports_are_made_from_data_not_from_the_engine() {
    let mut wrong = Vec::new();
    for (rel, text) in crate_sources() {
        if rel.starts_with("report") {
            for up in ["crate::engine", "crate::scan"] {
                if text.contains(up) {
                    wrong.push(format!("{} uses {up}", rel.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_check_api_depends_on_the_finding_model_and_the_scan_handle_only() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/check.rs"))
        .unwrap();
    let used: BTreeSet<&str> = text
        .match_indices("crate::")
        .map(|(i, _)| {
            let rest = &text[i + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect();
    let allowed: BTreeSet<&str> = ["finding", "scan"].into_iter().collect();
    assert!(
        used.is_subset(&allowed),
        "check.rs uses {used:?}, expected only {allowed:?}"
    );
}

#[test]
fn the_family_reader_sees_groups_and_paths() {
    assert_eq!(
        families_named(
            "use crate::checks::{self, jwt::x, Check};\nlet _ = crate::checks::mtls::y;"
        ),
        ["jwt", "mtls"].iter().map(|s| s.to_string()).collect()
    );
    assert!(
        families_named("// crate::checks::jwt in a comment\nuse crate::checks::registry;")
            .is_empty()
    );
    assert_eq!(
        family_of(Path::new("checks/jwt/alg_none.rs")).as_deref(),
        Some("jwt")
    );
    assert_eq!(family_of(Path::new("checks/mod.rs")), None);
}

/// The service and the MCP server sit above the library: nothing below them (engine,
/// checks, reports, the store) names `crate::service` or `crate::mcp`, and nothing below
/// the store names `crate::store`.
#[test]
fn nothing_below_the_service_knows_it_exists() {
    for (rel, text) in crate_sources() {
        let top = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let above = matches!(
            top.as_str(),
            "service" | "mcp" | "fleet" | "cli" | "main.rs" | "lib.rs"
        );
        if !above {
            assert!(
                !code.contains("crate::service")
                    && !code.contains("super::service")
                    && !code.contains("crate::mcp"),
                "{} reaches up into the service",
                rel.display()
            );
        }
        if !above && top != "store" {
            assert!(
                !code.contains("crate::store"),
                "{} reaches up into the store",
                rel.display()
            );
        }
    }
}
