//! A small YAML emitter for JSON values, for `/openapi.yaml`: block style, every string
//! (keys included) double-quoted with escapes, so no scalar is ever re-typed by a YAML
//! reader (`"1.0"`, `"true"`, `"null"`, `"no"` stay strings) and no content can break the
//! structure. The output is YAML 1.2 and reads the same in YAML 1.1 parsers.

use serde_json::Value;
use std::fmt::Write;

/// `v` as a YAML document (ending in a newline).
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0, false),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0, false),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A mapping at `indent`; `inline` when its first line continues a `- ` already written.
fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize, inline: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if !(inline && i == 0) {
            pad(out, indent);
        }
        out.push_str(&quote(k));
        out.push(':');
        match v {
            Value::Object(c) if !c.is_empty() => {
                out.push('\n');
                write_map(out, c, indent + 2, false);
            }
            Value::Array(c) if !c.is_empty() => {
                out.push('\n');
                write_seq(out, c, indent + 2, false);
            }
            s => {
                out.push(' ');
                out.push_str(&scalar_text(s));
                out.push('\n');
            }
        }
    }
}

/// A sequence at `indent`; `inline` as for [`write_map`] (a sequence in a sequence).
fn write_seq(out: &mut String, a: &[Value], indent: usize, inline: bool) {
    for (i, v) in a.iter().enumerate() {
        if !(inline && i == 0) {
            pad(out, indent);
        }
        out.push_str("- ");
        match v {
            Value::Object(c) if !c.is_empty() => write_map(out, c, indent + 2, true),
            Value::Array(c) if !c.is_empty() => write_seq(out, c, indent + 2, true),
            s => {
                out.push_str(&scalar_text(s));
                out.push('\n');
            }
        }
    }
}

/// A scalar, or an empty collection in flow style.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            let t = n.to_string();
            // YAML 1.1 readers want a dot in a float with an exponent ("1e300" would be a
            // string to them); JSON writes none.
            if n.is_f64() && !t.contains('.') && t.contains('e') {
                t.replacen('e', ".0e", 1)
            } else {
                t
            }
        }
        Value::String(s) => quote(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A double-quoted YAML scalar: `\` and `"` escaped, and every character YAML does not
/// allow printed (C0 and C1 controls, DEL) or that a reader might fold or drop (line and
/// paragraph separators, the byte-order mark) as an escape. Other Unicode stays as is.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if c < ' ' || ('\u{7f}'..='\u{9f}').contains(&c) => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c if c == '\u{feff}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_style_with_every_string_quoted() {
        let v = json!({
            "a": "1.0",
            "b": ["true", 1, 2.5, null, false, [], {}],
            "c": [{ "x": "", "y": { "z": "yes" } }, [["n"]]],
            "d": {},
        });
        let expected = "\"a\": \"1.0\"\n\
                        \"b\":\n  - \"true\"\n  - 1\n  - 2.5\n  - null\n  - false\n  - []\n  - {}\n\
                        \"c\":\n  - \"x\": \"\"\n    \"y\":\n      \"z\": \"yes\"\n  - - - \"n\"\n\
                        \"d\": {}\n";
        assert_eq!(to_yaml(&v), expected);
        assert_eq!(to_yaml(&json!("x")), "\"x\"\n");
        assert_eq!(to_yaml(&json!([])), "[]\n");
    }

    #[test]
    fn tricky_strings_are_escaped() {
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("say \"hi\"\\"), r#""say \"hi\"\\""#);
        assert_eq!(quote("a: b # c"), "\"a: b # c\"");
        assert_eq!(quote("line\nnext\r\tend"), r#""line\nnext\r\tend""#);
        assert_eq!(quote("é ü 日本 🦀"), "\"é ü 日本 🦀\"");
        assert_eq!(
            quote("\u{1}\u{7f}\u{85}\u{2028}\u{feff}"),
            r#""\x01\x7F\N\L\uFEFF""#
        );
        assert_eq!(
            quote("- [x] {y} & *z !t %u @v `w` |"),
            "\"- [x] {y} & *z !t %u @v `w` |\""
        );
        assert_eq!(scalar_text(&json!(1e300)), "1.0e+300");
    }

    #[test]
    fn round_trips_through_its_own_reader() {
        let v = json!({
            "strings": ["", "1.0", "true", "null", "~", "no", "0x1F", "a: b", "'q'", "\"dq\"",
                        "multi\nline\n", " lead and trail ", "#hash", "tab\there", "ünï🦀",
                        "\u{2028}\u{85}\u{1b}", "back\\slash"],
            "numbers": [0, -1, 2.5, 123456789012_u64],
            "nested": [{ "k": [{ "deep": { "deeper": [true, false, null] } }] }, [], {}],
            "key: with \"quotes\"\n": "v",
        });
        assert_eq!(reader::parse(&to_yaml(&v)), v);
    }

    /// A reader for exactly what the emitter writes (not for YAML in general), to prove
    /// the emitted text means the value it came from.
    mod reader {
        use serde_json::{Map, Value};

        pub fn parse(text: &str) -> Value {
            let lines: Vec<&str> = text.lines().collect();
            let mut pos = 0;
            let (indent, _) = split_indent(lines[0]);
            let v = node(&lines, &mut pos, indent, None);
            assert_eq!(pos, lines.len(), "trailing lines");
            v
        }

        fn split_indent(line: &str) -> (usize, &str) {
            let rest = line.trim_start_matches(' ');
            (line.len() - rest.len(), rest)
        }

        /// The node at `indent`; `first` is the text of its first line when it follows a
        /// `- ` on a line already consumed.
        fn node(lines: &[&str], pos: &mut usize, indent: usize, first: Option<&str>) -> Value {
            let head = match first {
                Some(f) => f,
                None => split_indent(lines[*pos]).1,
            };
            if head.starts_with("- ") {
                let mut seq = Vec::new();
                let mut first = first;
                loop {
                    let rest = match first.take() {
                        Some(f) => f,
                        None => {
                            if *pos >= lines.len() {
                                break;
                            }
                            let (i, rest) = split_indent(lines[*pos]);
                            if i != indent || !rest.starts_with("- ") {
                                break;
                            }
                            *pos += 1;
                            rest
                        }
                    };
                    seq.push(inline_node(lines, pos, indent + 2, &rest[2..]));
                }
                return Value::Array(seq);
            }
            if head.starts_with('"') && key_end(head).is_some() {
                let mut map = Map::new();
                let mut first = first;
                loop {
                    let rest = match first.take() {
                        Some(f) => f,
                        None => {
                            if *pos >= lines.len() {
                                break;
                            }
                            let (i, rest) = split_indent(lines[*pos]);
                            if i != indent || rest.starts_with("- ") {
                                break;
                            }
                            *pos += 1;
                            rest
                        }
                    };
                    let end = key_end(rest).expect("a key");
                    let key = unquote(&rest[..end]);
                    let after = &rest[end + 1..];
                    let v = if after.is_empty() {
                        let (i, _) = split_indent(lines[*pos]);
                        assert!(i > indent);
                        node(lines, pos, i, None)
                    } else {
                        scalar(after.strip_prefix(' ').expect("a space"))
                    };
                    map.insert(key, v);
                }
                return Value::Object(map);
            }
            *pos += 1;
            scalar(head)
        }

        /// An item after `- `: a nested collection starting on this line, or a scalar.
        fn inline_node(lines: &[&str], pos: &mut usize, indent: usize, item: &str) -> Value {
            if item.starts_with("- ") || (item.starts_with('"') && key_end(item).is_some()) {
                node(lines, pos, indent, Some(item))
            } else {
                scalar(item)
            }
        }

        /// Where a quoted key ends (the index of the `:` after it), if the text is one.
        fn key_end(s: &str) -> Option<usize> {
            let q = quoted_len(s)?;
            s[q..].starts_with(':').then_some(q)
        }

        fn quoted_len(s: &str) -> Option<usize> {
            let mut chars = s.char_indices();
            if chars.next()?.1 != '"' {
                return None;
            }
            let mut escaped = false;
            for (i, c) in chars {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => return Some(i + 1),
                    _ => {}
                }
            }
            None
        }

        fn scalar(s: &str) -> Value {
            match s {
                "null" => Value::Null,
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "[]" => Value::Array(vec![]),
                "{}" => Value::Object(Map::new()),
                s if s.starts_with('"') => {
                    assert_eq!(quoted_len(s), Some(s.len()), "{s}");
                    Value::String(unquote(s))
                }
                s => serde_json::from_str(s).unwrap_or_else(|_| panic!("not a number: {s}")),
            }
        }

        fn unquote(s: &str) -> String {
            let inner = &s[1..s.len() - 1];
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                let e = chars.next().expect("an escape");
                let hex = |chars: &mut std::str::Chars, n: usize| {
                    let h: String = chars.take(n).collect();
                    char::from_u32(u32::from_str_radix(&h, 16).unwrap()).unwrap()
                };
                out.push(match e {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    'N' => '\u{85}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' => hex(&mut chars, 2),
                    'u' => hex(&mut chars, 4),
                    '\\' | '"' => e,
                    other => panic!("unknown escape {other}"),
                });
            }
            out
        }
    }
}
