//! The README's table of checks, generated from the registry's metadata so the two cannot
//! drift (`tests/catalog.rs` compares them).

use super::registry;
use crate::check::CheckMeta;

/// The README's markers; the table between them is [`markdown_table`]'s output, verbatim.
pub const BEGIN_MARKER: &str = "<!-- checks:begin -->";
pub const END_MARKER: &str = "<!-- checks:end -->";

/// The needs column: the declared needs by their catalog names, then what the check needs
/// beyond them in its own words.
pub fn needs_cell(m: &CheckMeta) -> String {
    let needs = m
        .needs
        .iter()
        .map(|n| n.short())
        .collect::<Vec<_>>()
        .join(" + ");
    match (needs.is_empty(), m.needs_note.is_empty()) {
        (true, true) => "—".into(),
        (true, false) => m.needs_note.into(),
        (false, true) => needs,
        (false, false) => format!("{needs} {}", m.needs_note),
    }
}

/// One row per check, in registry order: id, severity, what a finding proves, needs.
pub fn markdown_table() -> String {
    let mut out = String::from("| id | severity | what is proven | needs |\n|---|---|---|---|\n");
    for c in registry() {
        let m = c.meta();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            m.id,
            m.severity.as_str(),
            m.finds.replace('|', "\\|"),
            needs_cell(m).replace('|', "\\|")
        ));
    }
    out
}
