//! Values to send for parameters and request bodies: what the document gives (`example`,
//! `examples`, `default`, the first of `enum`), else a value fitting the schema's type and
//! format. Schemas are followed through `$ref`, `allOf`, `oneOf` and `anyOf`, a bounded
//! depth and a bounded size: a cyclic or huge schema yields a placeholder, never an error.

use super::source::{Charge, Docs, Node};
use serde_json::{Map, Value};

/// How deep a built example goes.
const MAX_EXAMPLE_DEPTH: usize = 8;
/// The most values and string bytes one built or copied example holds.
const MAX_EXAMPLE_NODES: usize = 2_000;
const MAX_EXAMPLE_BYTES: usize = 64 * 1024;
/// The most values built or copied for examples in the whole description: past it (a
/// large schema referred to by a million operations), examples are placeholders.
const MAX_EXAMPLE_WORK: usize = 20_000_000;
/// The longest parameter value taken from the document.
const MAX_PARAM_BYTES: usize = 4096;

/// What is left of one example's size, and of the description's whole example budget.
pub(super) struct Room<'d> {
    nodes: usize,
    bytes: usize,
    work: &'d std::cell::Cell<usize>,
}

impl<'d> Room<'d> {
    pub fn new(docs: &'d Docs) -> Self {
        Self {
            nodes: MAX_EXAMPLE_NODES,
            bytes: MAX_EXAMPLE_BYTES,
            work: &docs.example_work,
        }
    }

    fn take(&mut self, bytes: usize) -> bool {
        if self.nodes == 0 || self.bytes < bytes || self.work.get() >= MAX_EXAMPLE_WORK {
            return false;
        }
        self.nodes -= 1;
        self.bytes -= bytes;
        self.work.set(self.work.get() + 1);
        true
    }
}

/// `v` copied if it fits in `room` (an example written in the document may be anything).
pub(super) fn bounded_clone(v: &Value, room: &mut Room<'_>) -> Option<Value> {
    fn go(v: &Value, room: &mut Room<'_>, depth: usize) -> Option<Value> {
        if depth > super::MAX_DEPTH {
            return None;
        }
        let len = match v {
            Value::String(s) => s.len(),
            _ => 0,
        };
        if !room.take(len) {
            return None;
        }
        Some(match v {
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| go(x, room, depth + 1))
                    .collect::<Option<Vec<_>>>()?,
            ),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    if !room.take(k.len()) {
                        return None;
                    }
                    out.insert(k.clone(), go(x, room, depth + 1)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }
    go(v, room, 0)
}

/// The first example an object (parameter, media type, schema) carries: `example`, then
/// the first of `examples` (3.x map of Example Objects, possibly `$ref`s, or 3.1 schema's
/// array), then 2.0's `x-example`.
pub(super) fn explicit_example(docs: &Docs, node: Node, room: &mut Room<'_>) -> Option<Value> {
    let m = node.v.as_object()?;
    if let Some(v) = m.get("example") {
        return bounded_clone(v, room);
    }
    match m.get("examples") {
        Some(Value::Object(ex)) => {
            if let Some(first) = ex.values().next() {
                let (e, _) = docs
                    .deref_as(
                        Node {
                            doc: node.doc,
                            v: first,
                        },
                        Charge::Example,
                    )
                    .ok()?;
                if let Some(v) = e.v.get("value") {
                    return bounded_clone(v, room);
                }
            }
        }
        Some(Value::Array(a)) => {
            if let Some(v) = a.first() {
                return bounded_clone(v, room);
            }
        }
        _ => {}
    }
    m.get("x-example").and_then(|v| bounded_clone(v, room))
}

/// A schema's own given value: its examples, else `default`.
pub(super) fn schema_given(docs: &Docs, schema: Node) -> Option<Value> {
    let (s, _) = docs.deref_as(schema, Charge::Example).ok()?;
    let mut room = Room::new(docs);
    explicit_example(docs, s, &mut room)
        .or_else(|| s.v.get("default").and_then(|v| bounded_clone(v, &mut room)))
}

/// A value for `schema`: given, else the first of `enum` (or `const`), else built from its
/// type and format.
pub(super) fn schema_value(docs: &Docs, schema: Node) -> Value {
    let mut room = Room::new(docs);
    let mut stack = Vec::new();
    build(docs, schema, 0, &mut stack, &mut room)
}

fn build<'a>(
    docs: &'a Docs,
    schema: Node<'a>,
    depth: usize,
    stack: &mut Vec<String>,
    room: &mut Room<'_>,
) -> Value {
    if depth > MAX_EXAMPLE_DEPTH || !room.take(0) {
        return Value::Null;
    }
    // A ref already being expanded (a recursive schema) or one that cannot be resolved
    // gives a placeholder: the schema only feeds an example here.
    let (s, key) = match docs.deref_as(schema, Charge::Example) {
        Ok(x) => x,
        Err(_) => return Value::Null,
    };
    if let Some(k) = &key {
        if stack.contains(k) {
            return Value::Null;
        }
        stack.push(k.clone());
    }
    let out = build_resolved(docs, s, depth, stack, room);
    if key.is_some() {
        stack.pop();
    }
    out
}

fn build_resolved<'a>(
    docs: &'a Docs,
    s: Node<'a>,
    depth: usize,
    stack: &mut Vec<String>,
    room: &mut Room<'_>,
) -> Value {
    let Some(m) = s.v.as_object() else {
        // `true`, `{}` or garbage: anything goes.
        return Value::String("test".into());
    };
    if let Some(v) = explicit_example(docs, s, room) {
        return v;
    }
    if let Some(v) = m.get("default").and_then(|v| bounded_clone(v, room)) {
        return v;
    }
    if let Some(v) = m
        .get("enum")
        .and_then(|e| e.as_array())
        .and_then(|a| a.iter().find(|v| !v.is_null()))
        .and_then(|v| bounded_clone(v, room))
    {
        return v;
    }
    if let Some(v) = m.get("const").and_then(|v| bounded_clone(v, room)) {
        return v;
    }
    let child = |v: &'a Value| Node { doc: s.doc, v };
    if let Some(Value::Array(all)) = m.get("allOf") {
        // The parts of an allOf all apply: their objects merged, else the first part.
        let mut merged = Map::new();
        let mut first = None;
        for part in all.iter().take(16) {
            match build(docs, child(part), depth + 1, stack, room) {
                Value::Object(o) => merged.extend(o),
                other if first.is_none() => first = Some(other),
                _ => {}
            }
        }
        return if merged.is_empty() {
            first.unwrap_or(Value::Null)
        } else {
            Value::Object(merged)
        };
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = m
            .get(key)
            .and_then(|v| v.as_array())
            .and_then(|a| a.first())
        {
            return build(docs, child(first), depth + 1, stack, room);
        }
    }
    let ty = match m.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str())
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if m.contains_key("properties") => "object",
        _ if m.contains_key("items") => "array",
        _ => "string",
    };
    match ty {
        "integer" => m
            .get("minimum")
            .and_then(|v| v.as_i64())
            .map(Value::from)
            .unwrap_or(Value::from(1)),
        "number" => m
            .get("minimum")
            .filter(|v| v.is_number())
            .cloned()
            .unwrap_or(Value::from(1)),
        "boolean" => Value::Bool(true),
        "null" => Value::Null,
        "array" => match m.get("items") {
            Some(items) => Value::Array(vec![build(docs, child(items), depth + 1, stack, room)]),
            None => Value::Array(Vec::new()),
        },
        "object" => {
            let Some(props) = m.get("properties").and_then(|p| p.as_object()) else {
                return Value::Object(Map::new());
            };
            let required: Vec<&str> = m
                .get("required")
                .and_then(|r| r.as_array())
                .map(|r| r.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            for (name, p) in props {
                if !required.is_empty() && !required.contains(&name.as_str()) {
                    continue;
                }
                if !room.take(name.len()) {
                    break;
                }
                let v = build(docs, child(p), depth + 1, stack, room);
                out.insert(name.clone(), v);
            }
            Value::Object(out)
        }
        _ => Value::String(string_for(m)),
    }
}

/// A string fitting the schema's format (and its minimum length).
fn string_for(m: &Map<String, Value>) -> String {
    let s = match m.get("format").and_then(|f| f.as_str()).unwrap_or("") {
        "uuid" => "00000000-0000-4000-8000-000000000000",
        "date" => "2024-01-01",
        "date-time" => "2024-01-01T00:00:00Z",
        "time" => "00:00:00Z",
        "email" => "user@example.com",
        "uri" | "url" | "iri" => "https://example.com",
        "hostname" => "example.com",
        "ipv4" => "192.0.2.1",
        "ipv6" => "2001:db8::1",
        "byte" => "dGVzdA==",
        _ => "test",
    };
    let min = m
        .get("minLength")
        .and_then(|v| v.as_u64())
        .unwrap_or(0)
        .min(64) as usize;
    let mut s = s.to_string();
    while s.len() < min {
        s.push('x');
    }
    s
}

/// A value as a parameter sends it: strings as they are, arrays joined with commas
/// (style `form`/`simple`), objects as JSON; `None` when it is too long to send.
pub(super) fn param_string(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    };
    (s.len() <= MAX_PARAM_BYTES).then_some(s)
}
