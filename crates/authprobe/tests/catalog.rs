//! The catalog is generated from the checks' metadata, and what is written elsewhere must
//! agree with it: the README's table, the lab's flaw switches.

use authprobe::checks::{catalog_md, markdown_table, registry};
use std::collections::BTreeSet;

fn readme_table() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let start = readme
        .find(catalog_md::BEGIN_MARKER)
        .expect("README has the begin marker")
        + catalog_md::BEGIN_MARKER.len()
        + 1;
    let end = readme
        .find(catalog_md::END_MARKER)
        .expect("README has the end marker");
    readme[start..end].to_string()
}

#[test]
fn readme_table_is_the_generated_one() {
    assert_eq!(
        readme_table(),
        markdown_table(),
        "regenerate the README's table: cargo run -p authprobe -- checks --format markdown"
    );
}

#[test]
fn ids_are_unique_and_name_their_family() {
    let mut seen = BTreeSet::new();
    for c in registry() {
        let m = c.meta();
        assert!(seen.insert(m.id), "{} is registered twice", m.id);
        let (family, name) = m.id.split_once('.').expect("family.name");
        assert_eq!(family, m.family.as_str(), "{}", m.id);
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
            "{}",
            m.id
        );
    }
}

#[test]
fn the_labs_flaws_are_exactly_the_registrys_lab_flaws() {
    let ids: BTreeSet<&str> = registry().iter().map(|c| c.meta().id).collect();
    let declared: BTreeSet<&str> = registry()
        .iter()
        .filter_map(|c| c.meta().lab_flaw)
        .collect();
    let lab: BTreeSet<&str> = authprobe_lab::KNOWN_FLAWS.iter().copied().collect();
    assert_eq!(
        lab.len(),
        authprobe_lab::KNOWN_FLAWS.len(),
        "a lab flaw is listed twice"
    );
    assert_eq!(
        declared, lab,
        "lab_flaw values against the lab's KNOWN_FLAWS"
    );
    for id in authprobe_lab::KNOWN_FLAWS
        .iter()
        .chain(authprobe_lab::MASKING_FLAWS)
    {
        assert!(ids.contains(id), "the lab uses {id}, which is no check");
    }
    // One for one: a check's flaw switch is its own id.
    for c in registry() {
        let m = c.meta();
        if let Some(f) = m.lab_flaw {
            assert_eq!(f, m.id);
        }
    }
}
