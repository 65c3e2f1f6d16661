//! From the parsed document to the model: version, servers, security schemes and
//! requirements, operations with their parameters and bodies. Lenient on shape (a field of
//! the wrong type is skipped), strict on references (a cycle or a dangling `$ref` in the
//! structure is an error naming it).

use super::fill::{self, Room};
use super::source::{Docs, Node};
use super::{
    ApiSpec, Declared, KeyLocation, Operation, ParamLocation, Parameter, RequestBody, Requirement,
    SecurityScheme, SpecError, SpecVersion,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use url::Url;

/// The most an operations list may hold, all copies of inherited parts counted.
const MAX_MODEL_BYTES: usize = 4 * super::MAX_SPEC_BYTES;

/// The methods of a path item, in the order the specification lists them.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

pub(super) fn build(docs: &Docs) -> Result<ApiSpec, SpecError> {
    let at = docs.source.as_str();
    let root = docs.main();
    let Some(m) = root.v.as_object() else {
        return Err(SpecError::NotOpenApi { at: at.into() });
    };
    let version = version_of(m, at)?;
    let info = m.get("info");
    let text = |k: &str| info.and_then(|i| i.get(k)).and_then(scalar_string);
    let servers = match version {
        SpecVersion::Swagger2 => swagger_servers(m),
        _ => {
            let s = servers_of(m.get("servers"));
            if s.is_empty() { vec!["/".into()] } else { s }
        }
    };
    let schemes = schemes_of(docs, root, version)?;
    let root_security = m.get("security").and_then(requirements);
    let mut operations = Vec::new();
    let mut model_bytes = 0usize;
    if let Some(paths) = m.get("paths").and_then(|p| p.as_object()) {
        for (path, item) in paths {
            if !path.starts_with('/') {
                continue; // `x-` extensions
            }
            let (item, _) = docs.deref(Node {
                doc: root.doc,
                v: item,
            })?;
            let Some(im) = item.v.as_object() else {
                continue;
            };
            let item_servers = servers_of(im.get("servers"));
            for method in METHODS {
                let Some(op) = im.get(*method).filter(|o| o.is_object()) else {
                    continue;
                };
                let op = Node {
                    doc: item.doc,
                    v: op,
                };
                let o = operation(
                    docs,
                    OpSite {
                        version,
                        root: m,
                        item,
                        item_servers: &item_servers,
                        root_security: root_security.as_deref(),
                    },
                    path,
                    method,
                    op,
                )?;
                // What each operation inherits (the root's requirements, a referenced
                // parameter or body) is copied into it: a small document can make a large
                // model, so the model's size is bounded too.
                model_bytes = model_bytes.saturating_add(approx_size(&o));
                if model_bytes > MAX_MODEL_BYTES {
                    return Err(SpecError::Expands { at: at.into() });
                }
                operations.push(o);
            }
        }
    }
    Ok(ApiSpec {
        source: at.to_string(),
        version,
        title: text("title").unwrap_or_default(),
        api_version: text("version").unwrap_or_default(),
        servers,
        schemes,
        root_security,
        operations,
    })
}

/// About how many bytes an operation holds: its strings, and its example's values.
fn approx_size(o: &Operation) -> usize {
    const VALUE: usize = 32;
    let strs = |v: &[String]| v.iter().map(|s| s.len() + VALUE).sum::<usize>();
    let mut n = o.path.len() + o.method.len() + 8 * VALUE;
    n += o.operation_id.as_ref().map_or(0, String::len);
    n += o.summary.as_ref().map_or(0, String::len);
    n += strs(&o.tags) + strs(&o.servers);
    n += o
        .parameters
        .iter()
        .map(|p| p.name.len() + p.value.as_ref().map_or(0, String::len) + 2 * VALUE)
        .sum::<usize>();
    if let Declared::Required(alts) = &o.security {
        n += alts.iter().map(|r| strs(&r.schemes) + VALUE).sum::<usize>();
    }
    if let Some(b) = &o.body {
        n += b.content_type.len() + value_size(&b.example);
    }
    n
}

/// About how many bytes a JSON value holds (iteratively: built examples are bounded, but
/// the walk need not rely on it).
fn value_size(v: &Value) -> usize {
    let mut n = 0usize;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        n += 32;
        match v {
            Value::String(s) => n += s.len(),
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(m) => {
                for (k, x) in m {
                    n += k.len();
                    stack.push(x);
                }
            }
            _ => {}
        }
    }
    n
}

fn version_of(m: &Map<String, Value>, at: &str) -> Result<SpecVersion, SpecError> {
    let unsupported = |version: String| SpecError::UnsupportedVersion {
        at: at.into(),
        version,
    };
    if let Some(v) = m.get("openapi") {
        let s = scalar_string(v).unwrap_or_default();
        let mut parts = s.split('.');
        return match (parts.next(), parts.next()) {
            (Some("3"), Some("0")) => Ok(SpecVersion::OpenApi30),
            (Some("3"), Some(minor)) if minor.parse::<u32>().is_ok() => Ok(SpecVersion::OpenApi31),
            _ => Err(unsupported(s)),
        };
    }
    if let Some(v) = m.get("swagger") {
        let s = scalar_string(v).unwrap_or_default();
        return match s.as_str() {
            "2.0" | "2" => Ok(SpecVersion::Swagger2),
            _ => Err(unsupported(format!("swagger {s}"))),
        };
    }
    Err(SpecError::NotOpenApi { at: at.into() })
}

/// A scalar as text ("3.0" from YAML's number 3.0 as well as the string).
fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn str_of<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(|v| v.as_str())
}

/// 3.x `servers`: each `url` with its `{variables}` replaced by their defaults.
fn servers_of(v: Option<&Value>) -> Vec<String> {
    let Some(list) = v.and_then(|v| v.as_array()) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|s| {
            let s = s.as_object()?;
            let url = str_of(s, "url")?;
            let vars = s.get("variables").and_then(|v| v.as_object());
            Some(substitute(url, |name| {
                vars.and_then(|v| v.get(name))
                    .and_then(|v| v.get("default"))
                    .and_then(scalar_string)
            }))
        })
        .collect()
}

/// `{name}` tokens of `template` replaced by `value(name)` in one pass (a token without
/// value is kept as written).
fn substitute(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = &rest[open + 1..close];
        match value(name) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[open..=close]),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// 2.0: each of `schemes` × `host` + `basePath`; `//host/base` without schemes;
/// `basePath` alone without host.
fn swagger_servers(m: &Map<String, Value>) -> Vec<String> {
    let base = str_of(m, "basePath").unwrap_or("/");
    let base = if base.starts_with('/') {
        base.to_string()
    } else {
        format!("/{base}")
    };
    let Some(host) = str_of(m, "host").filter(|h| !h.is_empty()) else {
        return vec![base];
    };
    let schemes: Vec<String> = m
        .get("schemes")
        .and_then(|s| s.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str())
                .map(|s| s.to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    if schemes.is_empty() {
        return vec![format!("//{host}{base}")];
    }
    schemes
        .iter()
        .map(|s| format!("{s}://{host}{base}"))
        .collect()
}

fn schemes_of(
    docs: &Docs,
    root: Node,
    version: SpecVersion,
) -> Result<BTreeMap<String, SecurityScheme>, SpecError> {
    let container = match version {
        SpecVersion::Swagger2 => root.v.get("securityDefinitions"),
        _ => root
            .v
            .get("components")
            .and_then(|c| c.get("securitySchemes")),
    };
    let mut out = BTreeMap::new();
    let Some(map) = container.and_then(|c| c.as_object()) else {
        return Ok(out);
    };
    for (name, s) in map {
        let (s, _) = docs.deref(Node {
            doc: root.doc,
            v: s,
        })?;
        if let Some(s) = s.v.as_object() {
            out.insert(name.clone(), scheme_of(s));
        }
    }
    Ok(out)
}

fn scheme_of(s: &Map<String, Value>) -> SecurityScheme {
    let ty = str_of(s, "type").unwrap_or("");
    match ty.to_ascii_lowercase().as_str() {
        "http" => {
            let scheme = str_of(s, "scheme").unwrap_or("").to_ascii_lowercase();
            match scheme.as_str() {
                "bearer" => SecurityScheme::Bearer,
                "basic" => SecurityScheme::Basic,
                _ => SecurityScheme::Http { scheme },
            }
        }
        "basic" => SecurityScheme::Basic,
        "apikey" => {
            let name = str_of(s, "name").unwrap_or("").to_string();
            let location = match str_of(s, "in").unwrap_or("") {
                "header" => KeyLocation::Header,
                "query" => KeyLocation::Query,
                "cookie" => KeyLocation::Cookie,
                other => return SecurityScheme::Other(format!("apiKey in {other:?}")),
            };
            SecurityScheme::ApiKey { name, location }
        }
        "mutualtls" => SecurityScheme::MutualTls,
        "oauth2" => SecurityScheme::OAuth2,
        "openidconnect" => SecurityScheme::OpenIdConnect,
        _ => SecurityScheme::Other(ty.to_string()),
    }
}

/// A `security` array: one [`Requirement`] per object (its keys the schemes); `None` when
/// the value is no array.
fn requirements(v: &Value) -> Option<Vec<Requirement>> {
    let list = v.as_array()?;
    Some(
        list.iter()
            .filter_map(|r| r.as_object())
            .map(|r| Requirement {
                schemes: r.keys().cloned().collect(),
            })
            .collect(),
    )
}

fn declared(reqs: Option<&[Requirement]>) -> Declared {
    match reqs {
        None => Declared::Undeclared,
        Some(r) if r.is_empty() || r.iter().any(|x| x.schemes.is_empty()) => Declared::Public,
        Some(r) => Declared::Required(r.to_vec()),
    }
}

/// What an operation inherits from where it is written.
struct OpSite<'a> {
    version: SpecVersion,
    root: &'a Map<String, Value>,
    item: Node<'a>,
    item_servers: &'a [String],
    root_security: Option<&'a [Requirement]>,
}

fn operation(
    docs: &Docs,
    site: OpSite<'_>,
    path: &str,
    method: &str,
    op: Node<'_>,
) -> Result<Operation, SpecError> {
    let Some(om) = op.v.as_object() else {
        return Err(SpecError::NotOpenApi {
            at: docs.source.clone(),
        });
    };
    // Path-item parameters, then the operation's, which replace them by name and location.
    let mut raw: Vec<(String, String, Node<'_>)> = Vec::new();
    for holder in [site.item, op] {
        let Some(list) = holder.v.get("parameters").and_then(|p| p.as_array()) else {
            continue;
        };
        for p in list {
            let (p, _) = docs.deref(Node {
                doc: holder.doc,
                v: p,
            })?;
            let (Some(name), Some(loc)) = (p.v.get("name"), p.v.get("in")) else {
                continue;
            };
            let (Some(name), Some(loc)) = (name.as_str(), loc.as_str()) else {
                continue;
            };
            match raw.iter_mut().find(|(n, l, _)| n == name && l == loc) {
                Some(slot) => slot.2 = p,
                None => raw.push((name.to_string(), loc.to_string(), p)),
            }
        }
    }
    let mut parameters = Vec::new();
    let mut form = Vec::new();
    let mut body_param = None;
    for (name, loc, p) in &raw {
        let location = match loc.as_str() {
            "path" => ParamLocation::Path,
            "query" => ParamLocation::Query,
            "header" => ParamLocation::Header,
            "cookie" => ParamLocation::Cookie,
            "body" => {
                body_param = Some(*p);
                continue;
            }
            "formData" => {
                form.push((name.clone(), *p));
                continue;
            }
            _ => continue,
        };
        // The specification ignores these header parameters: the scanner sets them.
        if location == ParamLocation::Header
            && ["accept", "content-type", "authorization"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        let required =
            location == ParamLocation::Path || p.v.get("required") == Some(&Value::Bool(true));
        let (given, filled) = param_value(docs, site.version, *p);
        let value = match given {
            Some(v) => fill::param_string(&v),
            None if required => fill::param_string(&filled()),
            None => None,
        };
        parameters.push(Parameter {
            name: name.clone(),
            location,
            required,
            value,
        });
    }
    let body = match site.version {
        SpecVersion::Swagger2 => swagger_body(docs, site.root, om, body_param, &form),
        _ => match om.get("requestBody") {
            Some(rb) => request_body(docs, Node { doc: op.doc, v: rb })?,
            None => None,
        },
    };
    let own = om.get("security").and_then(requirements);
    let own_security = own.is_some();
    let security = declared(own.as_deref().or(site.root_security));
    let mut servers = servers_of(om.get("servers"));
    if servers.is_empty() {
        servers = site.item_servers.to_vec();
    }
    Ok(Operation {
        method: method.to_ascii_uppercase(),
        path: path.to_string(),
        operation_id: str_of(om, "operationId").map(str::to_string),
        tags: om
            .get("tags")
            .and_then(|t| t.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        summary: str_of(om, "summary").map(str::to_string),
        parameters,
        security,
        own_security,
        body,
        servers,
    })
}

/// A parameter's given value (its examples, its schema's examples or default), and how to
/// make one when there is none (first of `enum`, else from type and format).
fn param_value<'d>(
    docs: &'d Docs,
    version: SpecVersion,
    p: Node<'d>,
) -> (Option<Value>, impl FnOnce() -> Value + 'd) {
    // 2.0 parameters carry their schema keywords themselves; 3.x ones in `schema`, or in
    // the single media type of `content`.
    let schema = match version {
        SpecVersion::Swagger2 => Some(p),
        _ => {
            p.v.get("schema")
                .or_else(|| {
                    p.v.get("content")
                        .and_then(|c| c.as_object())
                        .and_then(|c| c.values().next())
                        .and_then(|m| m.get("schema"))
                })
                .map(|v| Node { doc: p.doc, v })
        }
    };
    let given = fill::explicit_example(docs, p, &mut Room::new(docs))
        .or_else(|| schema.and_then(|s| fill::schema_given(docs, s)));
    let make = move || match schema {
        Some(s) => fill::schema_value(docs, s),
        None => Value::String("test".into()),
    };
    (given, make)
}

/// The media type a scan sends: JSON first, then any `+json`, then forms, then the first.
fn preferred<'a>(types: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    let lower = |t: &str| t.to_ascii_lowercase();
    types
        .clone()
        .find(|t| lower(t).starts_with("application/json"))
        .or_else(|| types.clone().find(|t| lower(t).contains("+json")))
        .or_else(|| {
            types
                .clone()
                .find(|t| lower(t) == "application/x-www-form-urlencoded")
        })
        .or_else(|| types.clone().find(|t| lower(t) == "multipart/form-data"))
        .or_else(|| types.clone().next())
}

fn request_body(docs: &Docs, rb: Node<'_>) -> Result<Option<RequestBody>, SpecError> {
    let (rb, _) = docs.deref(rb)?;
    let Some(m) = rb.v.as_object() else {
        return Ok(None);
    };
    let required = m.get("required") == Some(&Value::Bool(true));
    let content = m.get("content").and_then(|c| c.as_object());
    let Some(content_type) = content.and_then(|c| preferred(c.keys().map(String::as_str))) else {
        return Ok(None);
    };
    let media = content.and_then(|c| c.get(content_type));
    let example = media
        .and_then(|md| {
            fill::explicit_example(docs, Node { doc: rb.doc, v: md }, &mut Room::new(docs)).or_else(
                || {
                    md.get("schema")
                        .map(|s| fill::schema_value(docs, Node { doc: rb.doc, v: s }))
                },
            )
        })
        .unwrap_or(Value::Null);
    Ok(Some(RequestBody {
        required,
        content_type: content_type.to_string(),
        example,
    }))
}

/// 2.0: the `in: body` parameter, or the `formData` ones as a form.
fn swagger_body(
    docs: &Docs,
    root: &Map<String, Value>,
    op: &Map<String, Value>,
    body: Option<Node<'_>>,
    form: &[(String, Node<'_>)],
) -> Option<RequestBody> {
    let consumes: Vec<&str> = op
        .get("consumes")
        .or_else(|| root.get("consumes"))
        .and_then(|c| c.as_array())
        .map(|a| a.iter().filter_map(|t| t.as_str()).collect())
        .unwrap_or_default();
    if let Some(p) = body {
        let example = match p.v.get("schema") {
            Some(s) => fill::schema_value(docs, Node { doc: p.doc, v: s }),
            None => Value::Null,
        };
        let example = fill::explicit_example(docs, p, &mut Room::new(docs)).unwrap_or(example);
        return Some(RequestBody {
            required: p.v.get("required") == Some(&Value::Bool(true)),
            content_type: preferred(consumes.iter().copied())
                .unwrap_or("application/json")
                .to_string(),
            example,
        });
    }
    if form.is_empty() {
        return None;
    }
    let has_file = form
        .iter()
        .any(|(_, p)| p.v.get("type").and_then(|t| t.as_str()) == Some("file"));
    let multipart = consumes
        .iter()
        .any(|t| t.eq_ignore_ascii_case("multipart/form-data"))
        && (has_file
            || !consumes
                .iter()
                .any(|t| t.eq_ignore_ascii_case("application/x-www-form-urlencoded")));
    let mut fields = Map::new();
    let mut required = false;
    for (name, p) in form {
        let req = p.v.get("required") == Some(&Value::Bool(true));
        required |= req;
        let given = fill::schema_given(docs, *p);
        let v = match given {
            Some(v) => v,
            None if req => fill::schema_value(docs, *p),
            None => continue,
        };
        fields.insert(name.clone(), v);
    }
    Some(RequestBody {
        required,
        content_type: if multipart {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        }
        .to_string(),
        example: Value::Object(fields),
    })
}

/// Characters kept as they are in a path parameter's value (RFC 3986 unreserved).
const PATH_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(super) fn operation_url(op: &Operation, base: &Url) -> Result<Url, SpecError> {
    let err = |reason: &str| SpecError::Url {
        operation: op.label(),
        reason: reason.to_string(),
    };
    if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
        return Err(err(&format!("{base} is no http(s) base URL")));
    }
    let path = substitute(&op.path, |name| {
        let v = op
            .parameters
            .iter()
            .find(|p| p.location == ParamLocation::Path && p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_else(|| "1".to_string());
        Some(percent_encoding::utf8_percent_encode(&v, PATH_VALUE).to_string())
    });
    let mut url = base.clone();
    let prefix = url.path().trim_end_matches('/').to_string();
    let sep = if path.starts_with('/') { "" } else { "/" };
    url.set_path(&format!("{prefix}{sep}{path}"));
    url.set_fragment(None);
    let query: Vec<&Parameter> = op
        .parameters
        .iter()
        .filter(|p| p.location == ParamLocation::Query && p.value.is_some())
        .collect();
    if !query.is_empty() {
        let mut q = url.query_pairs_mut();
        for p in query {
            q.append_pair(&p.name, p.value.as_deref().unwrap_or(""));
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_is_one_pass_and_keeps_unknown_tokens() {
        let f = |n: &str| (n == "a").then(|| "{a}".to_string());
        assert_eq!(substitute("/x/{a}/{b}/{", f), "/x/{a}/{b}/{");
        assert_eq!(substitute("{a}{a}", |_| Some("1".into())), "11");
    }
}
