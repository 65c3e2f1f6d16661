//! Checks of the report formats shared by the report tests: SARIF against the vendored
//! OASIS schema, and JUnit's XML for well-formedness.
#![allow(dead_code)]

use serde_json::Value;

pub fn schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(include_str!("../data/sarif-2.1.0-rtm.5.json"))
        .expect("schema parses");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .expect("schema compiles");
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

pub fn assert_valid_sarif(doc: &Value) {
    let errors = schema_errors(doc);
    assert!(errors.is_empty(), "SARIF schema violations: {errors:#?}");
}

/// Every element's text and attributes, as a minimal well-formedness check: tags balance,
/// entity references are known, no raw `<` or `&` inside text or attributes.
pub fn assert_well_formed_xml(x: &str) {
    assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    let body = &x[x.find("?>").unwrap() + 2..];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        assert_entities_ok(text);
        let gt = rest[lt..].find('>').expect("tag closes") + lt;
        let tag = &rest[lt + 1..gt];
        assert!(!tag.contains('<'), "raw < inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "unbalanced </{name}>");
        } else {
            let name = tag.split_whitespace().next().unwrap().trim_end_matches('/');
            // Attribute values: quoted, no raw quote inside (the split would show it).
            let quotes = tag.matches('"').count();
            assert_eq!(quotes % 2, 0, "odd quotes in <{tag}>");
            assert_entities_ok(tag);
            if !tag.ends_with('/') {
                stack.push(name.to_string());
            }
        }
        rest = &rest[gt + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    for c in x.chars() {
        let ok = matches!(c, '\t' | '\n' | '\r')
            || (c as u32 >= 0x20 && c != '\u{FFFE}' && c != '\u{FFFF}');
        assert!(ok, "character U+{:04X} is not allowed in XML 1.0", c as u32);
    }
}

pub fn assert_entities_ok(s: &str) {
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        let after = &rest[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#39;"]
                .iter()
                .any(|e| after.starts_with(e)),
            "bare & in {s:?}"
        );
        rest = &rest[i + 1..];
    }
}

pub fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}=\"");
    let start = tag.find(&key).unwrap_or_else(|| panic!("{name} in {tag}")) + key.len();
    &tag[start..start + tag[start..].find('"').unwrap()]
}
