//! From bytes to JSON values, and `$ref`s between them: the size cap, the nesting bound,
//! the YAML budgets, the bounded file reads beside a description, and reference
//! resolution with its chain and budget.

use super::{MAX_DEPTH, MAX_REF_EXPANSIONS, MAX_REF_FILES, MAX_SPEC_BYTES, SpecError};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The longest chain of `$ref`s to `$ref`s followed before giving up.
const MAX_REF_CHAIN: usize = 64;
/// The most ref expansions spent on example values, all operations together.
const MAX_EXAMPLE_REFS: usize = 1_000_000;
/// What a YAML document may grow to once its aliases are replayed: values, and bytes of
/// strings. Aliases make a small text large; these stop it before memory does.
const MAX_YAML_NODES: usize = 8_000_000;
const MAX_YAML_STRING_BYTES: usize = 2 * MAX_SPEC_BYTES;

/// Parses a description's bytes: JSON when it looks like JSON, else YAML (a superset).
pub(super) fn decode(bytes: &[u8], at: &str) -> Result<Value, SpecError> {
    if bytes.len() > MAX_SPEC_BYTES {
        return Err(SpecError::TooLarge {
            at: at.to_string(),
            size: bytes.len() as u64,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let mut json_error = None;
    if matches!(first, Some(b'{' | b'[')) {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => return Ok(v),
            Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
                return Err(SpecError::TooDeep { at: at.to_string() });
            }
            // Flow-style YAML (`{openapi: 3.0.0}`) also starts with a brace: try it as
            // YAML, and report the JSON error if that fails too.
            Err(e) => json_error = Some(e),
        }
    }
    match yaml(bytes, at) {
        Ok(v) => Ok(v),
        Err(e) => match json_error {
            Some(j) => Err(SpecError::Syntax {
                at: at.to_string(),
                format: "JSON",
                line: j.line() as u64,
                column: j.column() as u64,
                message: strip_position(&j.to_string()),
            }),
            None => Err(e),
        },
    }
}

/// serde_json's message without its trailing " at line L column C".
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// The stack the YAML reader runs on: the deserializer recurses once per level, with
/// large frames in unoptimised builds (over 20 KiB a level), and [`MAX_DEPTH`] levels must
/// fit whatever thread the caller is on (a test's 2 MiB, a Tokio worker's).
const YAML_STACK: usize = 64 * 1024 * 1024;

fn yaml(bytes: &[u8], at: &str) -> Result<Value, SpecError> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("authprobe-yaml".into())
            .stack_size(YAML_STACK)
            .spawn_scoped(s, || yaml_here(bytes, at))
            .map_err(|e| SpecError::Io {
                at: at.to_string(),
                reason: format!("cannot start the YAML reader: {e}"),
            })?
            .join()
            .unwrap_or_else(|_| {
                Err(SpecError::YamlBudget {
                    at: at.to_string(),
                    message: "the YAML reader failed".into(),
                })
            })
    })
}

fn yaml_here(bytes: &[u8], at: &str) -> Result<Value, SpecError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_documents: 1,
            max_reader_input_bytes: Some(MAX_SPEC_BYTES),
            max_inclusion_depth: 0,
            max_events: 20_000_000,
            max_nodes: MAX_YAML_NODES,
            max_total_scalar_bytes: MAX_YAML_STRING_BYTES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 200_000,
        },
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::LastWins,
        strict_booleans: true,
        with_snippet: false,
    };
    BUDGET.with(|b| b.reset());
    let out = serde_saphyr::from_slice_with_options::<Bounded>(bytes, options);
    let exceeded = BUDGET.with(|b| b.exceeded.take());
    match out {
        Ok(Bounded(v)) => Ok(v),
        Err(_) if exceeded => Err(SpecError::YamlBudget {
            at: at.to_string(),
            message: format!(
                "more than {MAX_YAML_NODES} values or {MAX_YAML_STRING_BYTES} bytes of strings once aliases are expanded"
            ),
        }),
        Err(e) => {
            let message = e.to_string();
            let lower = message.to_ascii_lowercase();
            if lower.contains("depth") || lower.contains("nesting") || lower.contains("recursion") {
                return Err(SpecError::TooDeep { at: at.to_string() });
            }
            if lower.contains("budget") || lower.contains("alias") {
                return Err(SpecError::YamlBudget {
                    at: at.to_string(),
                    message: strip_position(&first_line(&message)),
                });
            }
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            Err(SpecError::Syntax {
                at: at.to_string(),
                format: "YAML",
                line,
                column,
                message: strip_position(&first_line(&message)),
            })
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// What the YAML value built so far has cost (one parse per thread at a time).
struct Budget {
    nodes: Cell<usize>,
    bytes: Cell<usize>,
    depth: Cell<usize>,
    exceeded: Cell<bool>,
}

impl Budget {
    fn reset(&self) {
        self.nodes.set(0);
        self.bytes.set(0);
        self.depth.set(0);
        self.exceeded.set(false);
    }

    fn charge<E: de::Error>(&self, bytes: usize) -> Result<(), E> {
        self.nodes.set(self.nodes.get().saturating_add(1));
        self.bytes.set(self.bytes.get().saturating_add(bytes));
        if self.nodes.get() > MAX_YAML_NODES || self.bytes.get() > MAX_YAML_STRING_BYTES {
            self.exceeded.set(true);
            return Err(E::custom("value budget exceeded"));
        }
        Ok(())
    }
}

thread_local! {
    static BUDGET: Budget = const {
        Budget {
            nodes: Cell::new(0),
            bytes: Cell::new(0),
            depth: Cell::new(0),
            exceeded: Cell::new(false),
        }
    };
}

/// A JSON value read from YAML within [`BUDGET`]: the parser bounds events and alias
/// replays, this bounds what the replays add up to (one 30 MB string aliased 100 times).
struct Bounded(Value);

impl<'de> de::Deserialize<'de> for Bounded {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BUDGET.with(|b| Seed(b).deserialize(d)).map(Bounded)
    }
}

#[derive(Clone, Copy)]
struct Seed<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(Value::from(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(i64::try_from(v)
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(v.to_string())))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(u64::try_from(v)
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(serde_json::Number::from_f64(v)
            .map(Value::Number)
            .unwrap_or(Value::Null))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.0.charge(v.len())?;
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.0.charge(v.len())?;
        Ok(Value::String(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        self.0.charge(v.len())?;
        Ok(Value::String(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(Value::Null)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.enter::<A::Error>()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        self.0.depth.set(self.0.depth.get().saturating_sub(1));
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.enter::<A::Error>()?;
        let mut out = serde_json::Map::new();
        while let Some(k) = map.next_key::<String>()? {
            self.0.charge::<A::Error>(k.len())?;
            let v = map.next_value_seed(self)?;
            out.insert(k, v);
        }
        self.0.depth.set(self.0.depth.get().saturating_sub(1));
        Ok(Value::Object(out))
    }
}

impl Seed<'_> {
    fn enter<E: de::Error>(self) -> Result<(), E> {
        self.0.charge(0)?;
        let d = self.0.depth.get() + 1;
        if d > MAX_DEPTH {
            return Err(E::custom("nesting depth exceeded"));
        }
        self.0.depth.set(d);
        Ok(())
    }
}

/// Reads a file of at most [`MAX_SPEC_BYTES`]: its size from the metadata first, then a
/// read that stops one byte past the cap (a file growing meanwhile).
pub(super) fn read_capped(path: &Path, at: &str) -> Result<Vec<u8>, SpecError> {
    let io = |e: std::io::Error| SpecError::Io {
        at: at.to_string(),
        reason: e.to_string(),
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(SpecError::Io {
            at: at.to_string(),
            reason: "not a regular file".into(),
        });
    }
    if meta.len() > MAX_SPEC_BYTES as u64 {
        return Err(SpecError::TooLarge {
            at: at.to_string(),
            size: meta.len(),
        });
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    f.take(MAX_SPEC_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() > MAX_SPEC_BYTES {
        return Err(SpecError::TooLarge {
            at: at.to_string(),
            size: buf.len() as u64,
        });
    }
    Ok(buf)
}

/// A value inside one of the loaded documents.
#[derive(Clone, Copy)]
pub(super) struct Node<'a> {
    pub doc: usize,
    pub v: &'a Value,
}

struct Doc {
    /// The path relative to the description's directory, `/`-separated ("" for a
    /// description given as bytes).
    name: String,
    value: Value,
}

/// The description and the files its `$ref`s reach.
pub(super) struct Docs {
    pub source: String,
    docs: Vec<Doc>,
    /// The directory refs to files are resolved in; `None` for bytes (no file refs).
    root: Option<PathBuf>,
    /// Files that were referred to but could not be loaded, and why.
    unreadable: BTreeMap<String, String>,
    expansions: Cell<usize>,
    /// Ref expansions and values spent on example values, apart from the structure's:
    /// once spent, examples become placeholders and the structure still reads.
    example_refs: Cell<usize>,
    pub(super) example_work: Cell<usize>,
}

/// Which budget a ref expansion is charged to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Charge {
    Structure,
    Example,
}

impl Docs {
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self, SpecError> {
        let value = decode(bytes, source)?;
        Ok(Self {
            source: source.to_string(),
            docs: vec![Doc {
                name: String::new(),
                value,
            }],
            root: None,
            unreadable: BTreeMap::new(),
            expansions: Cell::new(0),
            example_refs: Cell::new(0),
            example_work: Cell::new(0),
        })
    }

    pub fn from_file(path: &Path) -> Result<Self, SpecError> {
        let source = path.display().to_string();
        let bytes = read_capped(path, &source)?;
        let value = decode(&bytes, &source)?;
        drop(bytes);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let root = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .and_then(|p| std::fs::canonicalize(p).ok());
        let mut docs = Self {
            source,
            docs: vec![Doc { name, value }],
            root,
            unreadable: BTreeMap::new(),
            expansions: Cell::new(0),
            example_refs: Cell::new(0),
            example_work: Cell::new(0),
        };
        docs.load_referenced();
        Ok(docs)
    }

    /// Loads every file a loaded document refers to, breadth first, at most
    /// [`MAX_REF_FILES`]; what cannot be loaded is remembered and reported when (and only
    /// if) a ref into it is resolved.
    fn load_referenced(&mut self) {
        let Some(root) = self.root.clone() else {
            return;
        };
        let mut i = 0;
        while i < self.docs.len() {
            let mut wanted = Vec::new();
            let from = self.docs[i].name.clone();
            for r in refs_in(&self.docs[i].value) {
                let file = r.split('#').next().unwrap_or("");
                if file.is_empty() {
                    continue;
                }
                match relative_name(&from, file) {
                    Ok(n) => wanted.push(n),
                    Err(reason) => {
                        self.unreadable.insert(file.to_string(), reason);
                    }
                }
            }
            for name in wanted {
                if self.docs.iter().any(|d| d.name == name) || self.unreadable.contains_key(&name) {
                    continue;
                }
                if self.docs.len() > MAX_REF_FILES {
                    self.unreadable.insert(
                        name,
                        format!("the description refers to more than {MAX_REF_FILES} files"),
                    );
                    continue;
                }
                match self.load_one(&root, &name) {
                    Ok(value) => self.docs.push(Doc { name, value }),
                    Err(reason) => {
                        self.unreadable.insert(name, reason);
                    }
                }
            }
            i += 1;
        }
    }

    fn load_one(&self, root: &Path, name: &str) -> Result<Value, String> {
        let path = root.join(name);
        let real = std::fs::canonicalize(&path).map_err(|e| e.to_string())?;
        if !real.starts_with(root) {
            return Err("it leaves the description's directory (a symbolic link)".into());
        }
        let at = format!("{}", path.display());
        let bytes = read_capped(&real, &at).map_err(|e| e.to_string())?;
        decode(&bytes, &at).map_err(|e| e.to_string())
    }

    pub fn main(&self) -> Node<'_> {
        Node {
            doc: 0,
            v: &self.docs[0].value,
        }
    }

    /// Follows `node` while it is a `$ref` object; returns the value reached and the last
    /// ref followed ("file#/pointer"), `None` when `node` was no ref.
    pub fn deref<'a>(&'a self, node: Node<'a>) -> Result<(Node<'a>, Option<String>), SpecError> {
        self.deref_as(node, Charge::Structure)
    }

    pub fn deref_as<'a>(
        &'a self,
        node: Node<'a>,
        charge: Charge,
    ) -> Result<(Node<'a>, Option<String>), SpecError> {
        let mut cur = node;
        let mut chain: Vec<String> = Vec::new();
        while let Some(r) = ref_of(cur.v) {
            let (next, key) = self.lookup(cur.doc, r, charge)?;
            if chain.contains(&key) {
                chain.push(key);
                return Err(SpecError::RefCycle {
                    at: self.source.clone(),
                    chain: chain.join(" -> "),
                });
            }
            chain.push(key);
            if chain.len() > MAX_REF_CHAIN {
                return Err(SpecError::RefBudget {
                    at: self.source.clone(),
                });
            }
            cur = next;
        }
        Ok((cur, chain.pop()))
    }

    /// The value `reference` names, seen from document `from`, and its canonical key.
    fn lookup<'a>(
        &'a self,
        from: usize,
        reference: &str,
        charge: Charge,
    ) -> Result<(Node<'a>, String), SpecError> {
        let (counter, cap) = match charge {
            Charge::Structure => (&self.expansions, MAX_REF_EXPANSIONS),
            Charge::Example => (&self.example_refs, MAX_EXAMPLE_REFS),
        };
        let n = counter.get().saturating_add(1);
        counter.set(n);
        if n > cap {
            return Err(SpecError::RefBudget {
                at: self.source.clone(),
            });
        }
        let bad = |reason: String| SpecError::BadRef {
            at: self.source.clone(),
            reference: reference.to_string(),
            reason,
        };
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let doc = if file.is_empty() {
            from
        } else {
            if self.root.is_none() {
                return Err(SpecError::ExternalRef {
                    at: self.source.clone(),
                    reference: reference.to_string(),
                });
            }
            let from_name = self.docs.get(from).map(|d| d.name.as_str()).unwrap_or("");
            let name = relative_name(from_name, file).map_err(&bad)?;
            match self.docs.iter().position(|d| d.name == name) {
                Some(i) => i,
                None => {
                    let reason = self
                        .unreadable
                        .get(&name)
                        .or_else(|| self.unreadable.get(file))
                        .cloned()
                        .unwrap_or_else(|| "the file was not loaded".into());
                    return Err(bad(reason));
                }
            }
        };
        let root = match self.docs.get(doc) {
            Some(d) => &d.value,
            None => return Err(bad("no such document".into())),
        };
        let v = pointer(root, fragment).ok_or_else(|| bad("nothing at that pointer".into()))?;
        let name = self.docs.get(doc).map(|d| d.name.as_str()).unwrap_or("");
        let key = if doc == 0 {
            format!("#{fragment}")
        } else {
            format!("{name}#{fragment}")
        };
        Ok((Node { doc, v }, key))
    }
}

/// The `$ref` of an object that has one.
pub(super) fn ref_of(v: &Value) -> Option<&str> {
    v.as_object()?.get("$ref")?.as_str()
}

/// Every `$ref` string in a value (iteratively: the value is at most [`MAX_DEPTH`] deep,
/// but the walk need not rely on it).
fn refs_in(v: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.as_str());
                }
                stack.extend(m.values());
            }
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    out
}

/// The name of `file` (a ref's file part) seen from the document named `from`, relative
/// to the description's directory, or why it is refused: URLs, absolute paths and `..`
/// leaving the directory.
fn relative_name(from: &str, file: &str) -> Result<String, String> {
    let file = percent_encoding::percent_decode_str(file)
        .decode_utf8()
        .map_err(|_| "the file name is not UTF-8".to_string())?;
    if file.contains("://") || file.starts_with("//") {
        return Err("refs to URLs are not followed".into());
    }
    if file.starts_with('/') || file.contains('\\') || file.contains(':') || file.contains('\0') {
        return Err("only relative paths inside the description's directory are followed".into());
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for p in file.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("it leaves the description's directory".into());
                }
            }
            p => parts.push(p),
        }
    }
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        return Err("no file name".into());
    }
    Ok(parts.join("/"))
}

/// The value at a URI fragment holding a JSON pointer ("" or "/a/b~1c"), percent-decoded
/// and unescaped.
pub(super) fn pointer<'a>(root: &'a Value, fragment: &str) -> Option<&'a Value> {
    let decoded = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
    if decoded.is_empty() {
        return Some(root);
    }
    let rest = decoded.strip_prefix('/')?;
    let mut cur = root;
    for raw in rest.split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        cur = match cur {
            Value::Object(m) => m.get(&token)?,
            Value::Array(a) => {
                if token.is_empty()
                    || !token.bytes().all(|b| b.is_ascii_digit())
                    || (token.len() > 1 && token.starts_with('0'))
                {
                    return None;
                }
                a.get(token.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_escapes_and_percent_encoding() {
        let v = json!({"paths": {"/a/{b}": {"get": 1}}, "x~y": [10, 20]});
        assert_eq!(pointer(&v, "/paths/~1a~1%7Bb%7D/get"), Some(&json!(1)));
        assert_eq!(pointer(&v, "/x~0y/1"), Some(&json!(20)));
        assert_eq!(pointer(&v, "/x~0y/01"), None);
        assert_eq!(pointer(&v, "/x~0y/9"), None);
        assert_eq!(pointer(&v, ""), Some(&v));
        assert_eq!(pointer(&v, "paths"), None);
    }

    #[test]
    fn relative_names_stay_inside_the_directory() {
        assert_eq!(
            relative_name("spec.yaml", "other.yaml").unwrap(),
            "other.yaml"
        );
        assert_eq!(
            relative_name("schemas/a.yaml", "./b.yaml").unwrap(),
            "schemas/b.yaml"
        );
        assert_eq!(
            relative_name("schemas/a.yaml", "../spec.yaml").unwrap(),
            "spec.yaml"
        );
        assert!(relative_name("spec.yaml", "../etc/passwd").is_err());
        assert!(relative_name("spec.yaml", "/etc/passwd").is_err());
        assert!(relative_name("spec.yaml", "https://evil.example/x.yaml").is_err());
        assert!(relative_name("spec.yaml", "//evil.example/x.yaml").is_err());
        assert!(relative_name("spec.yaml", "C:/x.yaml").is_err());
        assert!(relative_name("spec.yaml", "a/%2e%2e/%2e%2e/x").is_err());
    }
}
