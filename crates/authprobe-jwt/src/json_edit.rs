//! Editing the top-level members of a JSON object without re-serialising it.
//!
//! A forged token must differ from the original only where the attack needs it: servers
//! that compare, cache or log the raw payload, and reports that show a diff, all rely on
//! untouched members keeping their exact bytes (order, escapes like `\/`, whitespace).
//! Re-serialising through `serde_json::Value` would lose all of that, so the editor finds
//! the byte spans of the members in the original text and splices only the one it changes.

use serde_json::Value;
use thiserror::Error;

/// Why an edit could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EditError {
    /// The text to edit is not valid JSON.
    #[error("not valid JSON: {0}")]
    InvalidJson(String),
    /// The text is valid JSON but its top level is not an object.
    #[error("the JSON text is not an object")]
    NotAnObject,
    /// A raw replacement value is not exactly one JSON value.
    #[error("replacement for member {name:?} is not a single JSON value: {reason}")]
    InvalidValue {
        /// Member being set.
        name: String,
        /// Parser message.
        reason: String,
    },
}

/// One change to a top-level member.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Replace the member's value, or append the member when absent.
    Set {
        /// Member name.
        name: String,
        /// New value, serialised compactly.
        value: Value,
    },
    /// Like [`Edit::Set`] but with the value's JSON text given verbatim, for when its exact
    /// bytes matter (an embedded JWK whose member order must match what was signed).
    SetRaw {
        /// Member name.
        name: String,
        /// JSON text of the value; must parse as one JSON value.
        json: String,
    },
    /// Remove every occurrence of the member; absent members are not an error.
    Remove {
        /// Member name.
        name: String,
    },
}

impl Edit {
    /// `Set` from anything convertible to a JSON value.
    pub fn set(name: impl Into<String>, value: impl Into<Value>) -> Self {
        Edit::Set {
            name: name.into(),
            value: value.into(),
        }
    }

    /// `SetRaw` with verbatim JSON text.
    pub fn set_raw(name: impl Into<String>, json: impl Into<String>) -> Self {
        Edit::SetRaw {
            name: name.into(),
            json: json.into(),
        }
    }

    /// `Remove`.
    pub fn remove(name: impl Into<String>) -> Self {
        Edit::Remove { name: name.into() }
    }
}

/// Byte spans of one top-level member in the object text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Decoded member name.
    pub name: String,
    /// Offset of the opening quote of the name.
    pub name_start: usize,
    /// Offset of the first byte of the value.
    pub value_start: usize,
    /// Offset one past the last byte of the value.
    pub value_end: usize,
}

/// Lists the top-level members of `text`, in textual order, duplicates included.
pub fn members(text: &str) -> Result<Vec<Member>, EditError> {
    check_object(text)?;
    scan_members(text).map(|(_, m)| m)
}

/// Applies `edits` in order and returns the new text. Untouched bytes are kept as they were.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, EditError> {
    let mut out = text.to_owned();
    for edit in edits {
        out = match edit {
            Edit::Set { name, value } => set_member(&out, name, &value.to_string())?,
            Edit::SetRaw { name, json } => set_member(&out, name, json)?,
            Edit::Remove { name } => remove_member(&out, name)?,
        };
    }
    Ok(out)
}

/// Sets member `name` to the JSON text `value_json`.
///
/// Every occurrence of a duplicated name is replaced: parsers disagree on whether the first or
/// the last wins, and a forged claim must read the same under both.
pub fn set_member(text: &str, name: &str, value_json: &str) -> Result<String, EditError> {
    check_object(text)?;
    serde_json::from_str::<Value>(value_json).map_err(|e| EditError::InvalidValue {
        name: name.to_owned(),
        reason: e.to_string(),
    })?;
    let (open, found) = scan_members(text)?;
    let hits: Vec<&Member> = found.iter().filter(|m| m.name == name).collect();
    let mut out = text.to_owned();
    if hits.is_empty() {
        let key = Value::String(name.to_owned()).to_string();
        match found.last() {
            Some(last) => out.insert_str(last.value_end, &format!(",{key}:{value_json}")),
            None => out.insert_str(open + 1, &format!("{key}:{value_json}")),
        }
    } else {
        // Back to front, so earlier offsets stay valid while later spans change length.
        for m in hits.iter().rev() {
            out.replace_range(m.value_start..m.value_end, value_json);
        }
    }
    Ok(out)
}

/// Removes every occurrence of member `name`, with the comma that separated it.
pub fn remove_member(text: &str, name: &str) -> Result<String, EditError> {
    check_object(text)?;
    let (_, found) = scan_members(text)?;
    let doomed: Vec<bool> = found.iter().map(|m| m.name == name).collect();
    // Members removed at the very end form one run: it goes together with the comma before
    // it, so that the last kept member is not left with a dangling comma.
    let tail_start = doomed.iter().rposition(|d| !d).map_or(0, |i| i + 1);
    let mut ranges = Vec::new();
    for (i, m) in found.iter().enumerate().take(tail_start) {
        if doomed[i] {
            // Take the comma after it, so the following member moves into its place.
            ranges.push(m.name_start..found[i + 1].name_start);
        }
    }
    if let (Some(first), Some(last)) = (found.get(tail_start), found.last()) {
        let start = match tail_start.checked_sub(1) {
            Some(kept) => found[kept].value_end,
            None => first.name_start,
        };
        ranges.push(start..last.value_end);
    }
    // The ranges are disjoint and ascending; splice back to front so offsets stay valid.
    let mut out = text.to_owned();
    for r in ranges.into_iter().rev() {
        out.replace_range(r, "");
    }
    Ok(out)
}

fn check_object(text: &str) -> Result<(), EditError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(_)) => Ok(()),
        Ok(_) => Err(EditError::NotAnObject),
        Err(e) => Err(EditError::InvalidJson(e.to_string())),
    }
}

/// Returns the offset of the opening brace and the members. Callers validate the text with
/// serde_json first; the scanner still reports errors rather than indexing blindly so that a
/// disagreement between the two can never become a panic.
fn scan_members(text: &str) -> Result<(usize, Vec<Member>), EditError> {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    s.ws();
    let open = s.i;
    s.expect(b'{')?;
    let mut out = Vec::new();
    s.ws();
    if s.peek() == Some(b'}') {
        return Ok((open, out));
    }
    loop {
        s.ws();
        let name_start = s.i;
        s.string()?;
        let name = serde_json::from_str::<String>(&text[name_start..s.i])
            .map_err(|e| EditError::InvalidJson(e.to_string()))?;
        s.ws();
        s.expect(b':')?;
        s.ws();
        let value_start = s.i;
        s.value()?;
        out.push(Member {
            name,
            name_start,
            value_start,
            value_end: s.i,
        });
        s.ws();
        match s.next() {
            Some(b',') => continue,
            Some(b'}') => return Ok((open, out)),
            _ => return Err(s.err()),
        }
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn err(&self) -> EditError {
        EditError::InvalidJson(format!("unexpected input at byte {}", self.i))
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), EditError> {
        if self.next() == Some(c) {
            Ok(())
        } else {
            Err(self.err())
        }
    }

    fn string(&mut self) -> Result<(), EditError> {
        self.expect(b'"')?;
        loop {
            match self.next() {
                Some(b'"') => return Ok(()),
                Some(b'\\') => {
                    // The escaped byte can be a quote; skip it whatever it is.
                    self.next().ok_or_else(|| self.err())?;
                }
                Some(_) => {}
                None => return Err(self.err()),
            }
        }
    }

    /// Skips one value. Nesting is tracked with a counter, not recursion, so depth costs no stack.
    fn value(&mut self) -> Result<(), EditError> {
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                loop {
                    match self.peek() {
                        Some(b'"') => self.string()?,
                        Some(b'{' | b'[') => {
                            depth += 1;
                            self.i += 1;
                        }
                        Some(b'}' | b']') => {
                            self.i += 1;
                            depth = depth.checked_sub(1).ok_or_else(|| self.err())?;
                            if depth == 0 {
                                return Ok(());
                            }
                        }
                        Some(_) => self.i += 1,
                        None => return Err(self.err()),
                    }
                }
            }
            Some(_) => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.i += 1;
                }
                if self.i == start {
                    Err(self.err())
                } else {
                    Ok(())
                }
            }
            None => Err(self.err()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SAMPLE: &str = "{ \"sub\" : \"a\\/b\",\n  \"role\":\"user\", \"n\":[1,{\"x\":\"}\"}] ,\"exp\":1700000000 }";

    #[test]
    fn members_are_found_with_exact_spans() {
        let m = members(SAMPLE).unwrap();
        let names: Vec<_> = m.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["sub", "role", "n", "exp"]);
        assert_eq!(&SAMPLE[m[0].value_start..m[0].value_end], "\"a\\/b\"");
        assert_eq!(
            &SAMPLE[m[2].value_start..m[2].value_end],
            "[1,{\"x\":\"}\"}]"
        );
        assert_eq!(&SAMPLE[m[3].value_start..m[3].value_end], "1700000000");
    }

    #[test]
    fn set_changes_only_the_value_bytes() {
        let out = set_member(SAMPLE, "role", "\"admin\"").unwrap();
        assert_eq!(
            out,
            SAMPLE.replace("\"role\":\"user\"", "\"role\":\"admin\"")
        );
        let out = apply(SAMPLE, &[Edit::set("exp", 1)]).unwrap();
        assert_eq!(out, SAMPLE.replace("1700000000", "1"));
    }

    #[test]
    fn set_appends_when_absent() {
        let out = set_member(SAMPLE, "aud", "\"x\"").unwrap();
        assert_eq!(
            out,
            SAMPLE.replace("1700000000 }", "1700000000,\"aud\":\"x\" }")
        );
        assert_eq!(set_member("{}", "a", "1").unwrap(), "{\"a\":1}");
        assert_eq!(set_member(" { \n} ", "a", "1").unwrap(), " {\"a\":1 \n} ");
    }

    #[test]
    fn set_escapes_the_name() {
        let out = set_member("{}", "a\"b", "true").unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v, json!({"a\"b": true}));
    }

    #[test]
    fn names_with_escapes_are_matched_decoded() {
        let text = r#"{"r\u006fle":"user","x":"\/"}"#;
        let out = set_member(text, "role", "\"admin\"").unwrap();
        assert_eq!(out, r#"{"r\u006fle":"admin","x":"\/"}"#);
    }

    #[test]
    fn duplicates_are_all_replaced_or_removed() {
        let text = r#"{"sub":"a","sub":"b","x":1}"#;
        assert_eq!(
            set_member(text, "sub", "\"z\"").unwrap(),
            r#"{"sub":"z","sub":"z","x":1}"#
        );
        assert_eq!(remove_member(text, "sub").unwrap(), r#"{"x":1}"#);
        let tail = r#"{"x":1,"sub":"a","sub":"b"}"#;
        assert_eq!(remove_member(tail, "sub").unwrap(), r#"{"x":1}"#);
    }

    #[test]
    fn remove_keeps_the_rest_valid() {
        for name in ["sub", "role", "n", "exp"] {
            let out = remove_member(SAMPLE, name).unwrap();
            let v: Value = serde_json::from_str(&out).unwrap();
            assert!(v.get(name).is_none(), "{name} still present in {out}");
            assert_eq!(v.as_object().unwrap().len(), 3);
        }
        assert_eq!(remove_member(r#"{"a":1}"#, "a").unwrap(), "{}");
        assert_eq!(
            remove_member(r#"{"a":1,"x":2,"a":3,"b":4,"a":5}"#, "a").unwrap(),
            r#"{"x":2,"b":4}"#
        );
        assert_eq!(remove_member(r#"{"a":1, "a":2}"#, "a").unwrap(), "{}");
        assert_eq!(
            remove_member("{\"x\":1 , \"a\":2 ,\n\"a\":3 }", "a").unwrap(),
            "{\"x\":1 }"
        );
        assert_eq!(remove_member(r#"{"a":1}"#, "b").unwrap(), r#"{"a":1}"#);
    }

    #[test]
    fn errors_instead_of_panics() {
        assert!(matches!(
            set_member("[1]", "a", "1"),
            Err(EditError::NotAnObject)
        ));
        assert!(matches!(
            set_member("{", "a", "1"),
            Err(EditError::InvalidJson(_))
        ));
        assert!(matches!(
            set_member("{}", "a", "1 2"),
            Err(EditError::InvalidValue { .. })
        ));
        assert!(matches!(
            members("{\"a\":1} x"),
            Err(EditError::InvalidJson(_))
        ));
    }
}
