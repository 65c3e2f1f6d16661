//! What an API description (OpenAPI 3.0, 3.1 or Swagger 2.0) declares: its operations,
//! their parameters, their security requirements and the servers they live on, read into
//! one small model ([`ApiSpec`]) that the engine scans operation by operation and that the
//! static `spec.*` checks read.
//!
//! ## Why a model of our own
//! No single crate reads the three versions: `openapiv3` is 3.0 only, `oas3` is 3.1 only,
//! and each rejects the other's documents (3.1's `type: [string, "null"]`, `webhooks`,
//! `mutualTLS`; 2.0's `securityDefinitions` and `in: body`). A scanner needs only a
//! slice of each document (paths, methods, parameters, request bodies, security, servers)
//! and must read it leniently and safely, so the document is parsed to a
//! [`serde_json::Value`] and read field by field here: an unexpected type is skipped, never
//! a failure of the whole document.
//!
//! ## Hostile documents
//! A description may come from the server under test, so reading one must never hang,
//! crash or exhaust memory:
//! * at most [`MAX_SPEC_BYTES`] (32 MiB), checked before parsing (file size from its
//!   metadata, then a bounded read);
//! * at most [`MAX_DEPTH`] (128) levels of nesting: serde_json's recursion limit for JSON,
//!   the same budget given to the YAML parser;
//! * YAML is read with `serde-saphyr`, a pure-Rust, panic-free parser with budgets on
//!   events, nodes, anchors and alias replay (a "billion laughs" document stops with an
//!   error). `serde_yaml` is archived; `serde_yaml_ng` continues it on `unsafe-libyaml`
//!   (C translated to unsafe Rust), where this crate forbids unsafe code of its own;
//! * `$ref`s are resolved lazily with the chain being followed (a cycle is an error naming
//!   it, or a placeholder where the schema only feeds an example value), a total budget of
//!   [`MAX_REF_EXPANSIONS`] expansions and a bound on chain length; JSON-pointer escapes
//!   (`~0`, `~1`) and percent-encoding are decoded;
//! * refs to other files are followed only for a description loaded from a file
//!   ([`load_file`]): relative paths inside its directory, at most [`MAX_REF_FILES`] files,
//!   each under the size cap; never absolute paths, `..` escaping the directory, or URLs.
//!
//! Operations are listed by path in lexical order (the JSON model keeps object keys
//! sorted; keeping document order would change the order of every JSON object in the
//! crate), then by method in the order the OpenAPI specification lists them.

mod build;
mod fill;
mod net;
mod source;

pub use net::{discover, fetch};

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use url::Url;

/// The largest description read, in bytes.
pub const MAX_SPEC_BYTES: usize = 32 * 1024 * 1024;
/// The deepest nesting of arrays and objects accepted (serde_json's own limit).
pub const MAX_DEPTH: usize = 128;
/// The most `$ref` expansions one description may cost, all operations together.
pub const MAX_REF_EXPANSIONS: usize = 100_000;
/// The most other files a description loaded from a file may refer to.
pub const MAX_REF_FILES: usize = 64;

/// Where `--spec auto` looks for a description on the target's origin, in this order.
pub const AUTO_PATHS: &[&str] = &[
    "/openapi.json",
    "/openapi.yaml",
    "/swagger.json",
    "/v3/api-docs",
    "/api-docs",
    "/.well-known/openapi.json",
];

/// The limits to fetch a description with: the scan's own, but a description's size and
/// one request per `auto` path (and the document itself).
pub fn fetch_limits(scan: &crate::http::Limits) -> crate::http::Limits {
    let mut limits = scan.clone();
    limits.max_body = MAX_SPEC_BYTES;
    limits.max_requests = AUTO_PATHS.len() + 1;
    limits
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SpecVersion {
    Swagger2,
    OpenApi30,
    /// 3.1, and later 3.x minors (the parts read here are unchanged in 3.2).
    OpenApi31,
}

impl SpecVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Swagger2 => "Swagger 2.0",
            Self::OpenApi30 => "OpenAPI 3.0",
            Self::OpenApi31 => "OpenAPI 3.1",
        }
    }

    /// Where the security schemes live, as a JSON pointer.
    pub fn schemes_pointer(self) -> &'static str {
        match self {
            Self::Swagger2 => "#/securityDefinitions",
            _ => "#/components/securitySchemes",
        }
    }
}

/// A whole API description, as far as an authentication scanner reads it.
#[derive(Clone, Debug, Serialize)]
pub struct ApiSpec {
    /// The file path or URL it came from.
    pub source: String,
    pub version: SpecVersion,
    pub title: String,
    pub api_version: String,
    /// 3.x `servers[].url` with `{variables}` replaced by their defaults ("/" when none is
    /// given, as the specification says); 2.0: each of `schemes` × `host` + `basePath`
    /// (`//host/base` without schemes, `basePath` alone without host). May be relative.
    pub servers: Vec<String>,
    pub schemes: BTreeMap<String, SecurityScheme>,
    /// The root-level `security`; `None` when the document has none.
    pub root_security: Option<Vec<Requirement>>,
    pub operations: Vec<Operation>,
}

/// A security scheme as declared (`components.securitySchemes` or `securityDefinitions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum SecurityScheme {
    /// `type: http, scheme: bearer`.
    Bearer,
    /// `type: http, scheme: basic` (2.0 `type: basic`).
    Basic,
    /// Another `type: http` scheme (digest, hoba, …), lower-cased.
    Http {
        scheme: String,
    },
    ApiKey {
        name: String,
        location: KeyLocation,
    },
    MutualTls,
    OAuth2,
    OpenIdConnect,
    /// A type this model does not know, or an apiKey with an unknown `in`, as written.
    Other(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum KeyLocation {
    Header,
    Query,
    Cookie,
}

impl KeyLocation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Query => "query",
            Self::Cookie => "cookie",
        }
    }
}

/// One security requirement object: every scheme named is required together (AND).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Requirement {
    pub schemes: Vec<String>,
}

/// What an operation declares about authentication.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Declared {
    /// `security: []`, or an alternative `{}`: callable without credentials.
    Public,
    /// No `security` of its own and none at the root.
    Undeclared,
    /// Alternatives (OR), each a [`Requirement`] (AND).
    Required(Vec<Requirement>),
}

impl Declared {
    /// "bearerAuth", "bearerAuth or (headerKey and mtls)", "public", "undeclared".
    pub fn describe(&self) -> String {
        match self {
            Self::Public => "public".into(),
            Self::Undeclared => "undeclared".into(),
            Self::Required(alts) => {
                let parts: Vec<String> = alts
                    .iter()
                    .map(|r| match r.schemes.as_slice() {
                        [one] => one.clone(),
                        many if alts.len() > 1 => format!("({})", many.join(" and ")),
                        many => many.join(" and "),
                    })
                    .collect();
                parts.join(" or ")
            }
        }
    }

    pub fn is_required(&self) -> bool {
        matches!(self, Self::Required(_))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ParamLocation {
    Path,
    Query,
    Header,
    Cookie,
}

impl ParamLocation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Header => "header",
            Self::Cookie => "cookie",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Parameter {
    pub name: String,
    pub location: ParamLocation,
    pub required: bool,
    /// The value to send: for a required parameter always filled (`example`, `examples`,
    /// `default`, the first of `enum`, else a value fitting its type and format); for an
    /// optional one only when the document gives an `example`, `examples` or `default`.
    pub value: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequestBody {
    pub required: bool,
    pub content_type: String,
    /// The document's example, or one built from the schema (bounded in depth and size).
    pub example: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Operation {
    /// Upper case.
    pub method: String,
    /// The template as written, e.g. "/orders/{orderId}".
    pub path: String,
    pub operation_id: Option<String>,
    pub tags: Vec<String>,
    pub summary: Option<String>,
    /// Path-item parameters merged with the operation's (the operation's win by name and
    /// location); 2.0 `in: body` and `in: formData` parameters are the [`Self::body`].
    pub parameters: Vec<Parameter>,
    /// The effective security: the operation's own `security` overrides the root's.
    pub security: Declared,
    /// Whether the operation has a `security` of its own.
    pub own_security: bool,
    pub body: Option<RequestBody>,
    /// Operation- or path-level servers (3.x), which override the document's; empty when
    /// the document's apply.
    pub servers: Vec<String>,
}

impl Operation {
    /// "GET /orders/{orderId}".
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// GET, HEAD and OPTIONS: what a scan sends without `--allow-unsafe-methods`.
    pub fn is_safe(&self) -> bool {
        matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }

    /// Where the operation is in its document, as a JSON pointer: `#/paths/~1orders/get`.
    pub fn pointer(&self) -> String {
        format!(
            "#/paths/{}/{}",
            escape_pointer(&self.path),
            self.method.to_ascii_lowercase()
        )
    }

    /// The servers that apply to this operation: its own, else the document's.
    pub fn effective_servers<'a>(&'a self, spec: &'a ApiSpec) -> &'a [String] {
        if self.servers.is_empty() {
            &spec.servers
        } else {
            &self.servers
        }
    }

    /// `base` joined with the path, the base's own path kept ("https://h/api/" or
    /// "https://h/api" with "/orders" gives "https://h/api/orders"); path parameters
    /// substituted and percent-encoded (an undeclared one becomes "1"); the query
    /// parameters that have a [`Parameter::value`] appended.
    pub fn url(&self, base: &Url) -> Result<Url, SpecError> {
        build::operation_url(self, base)
    }

    /// Whether the credentials at hand satisfy one of the declared alternatives (every
    /// scheme of it available). A public or undeclared operation is always satisfiable; a
    /// scheme the document does not define never is.
    pub fn satisfiable(&self, spec: &ApiSpec, have: &dyn Fn(&CredentialKind) -> bool) -> bool {
        match &self.security {
            Declared::Public | Declared::Undeclared => true,
            Declared::Required(alts) => alts.iter().any(|r| {
                r.schemes.iter().all(|name| {
                    spec.schemes
                        .get(name)
                        .and_then(scheme_needs)
                        .is_some_and(|k| have(&k))
                })
            }),
        }
    }
}

/// The credential a scheme asks a client for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum CredentialKind {
    Bearer,
    Basic,
    ApiKey { name: String, location: KeyLocation },
    ClientCert,
}

/// What the user must give to satisfy `scheme`: http bearer, OAuth 2 and OpenID Connect
/// take a bearer token; http basic a Basic pair; an apiKey its named key; mutualTLS a
/// client certificate. Other http schemes (digest, …) and unknown types: `None`.
pub fn scheme_needs(scheme: &SecurityScheme) -> Option<CredentialKind> {
    match scheme {
        SecurityScheme::Bearer | SecurityScheme::OAuth2 | SecurityScheme::OpenIdConnect => {
            Some(CredentialKind::Bearer)
        }
        SecurityScheme::Basic => Some(CredentialKind::Basic),
        SecurityScheme::ApiKey { name, location } => Some(CredentialKind::ApiKey {
            name: name.clone(),
            location: *location,
        }),
        SecurityScheme::MutualTls => Some(CredentialKind::ClientCert),
        SecurityScheme::Http { .. } | SecurityScheme::Other(_) => None,
    }
}

impl ApiSpec {
    /// For each scheme an operation's declared security names, the credential it needs
    /// (`None` for a scheme the model cannot satisfy, or one the document never defines).
    pub fn scheme_credentials(&self, op: &Operation) -> Vec<(String, Option<CredentialKind>)> {
        let Declared::Required(alts) = &op.security else {
            return Vec::new();
        };
        let mut out: Vec<(String, Option<CredentialKind>)> = Vec::new();
        for name in alts.iter().flat_map(|r| &r.schemes) {
            if !out.iter().any(|(n, _)| n == name) {
                let kind = self.schemes.get(name).and_then(scheme_needs);
                out.push((name.clone(), kind));
            }
        }
        out
    }

    /// The operation's declared security in words, a scheme the document never defines
    /// marked so: "bearerAuth or legacy (not defined in the document)".
    pub fn describe_security(&self, op: &Operation) -> String {
        let Declared::Required(alts) = &op.security else {
            return op.security.describe();
        };
        let marked = Declared::Required(
            alts.iter()
                .map(|r| Requirement {
                    schemes: r
                        .schemes
                        .iter()
                        .map(|s| {
                            if self.schemes.contains_key(s) {
                                s.clone()
                            } else {
                                format!("{s} (not defined in the document)")
                            }
                        })
                        .collect(),
                })
                .collect(),
        );
        marked.describe()
    }

    /// Whether the document came from a URL (so a curl line can fetch it again).
    pub fn source_url(&self) -> Option<Url> {
        Url::parse(&self.source)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
    }
}

/// Why a description could not be read or used. Every message starts with where the
/// document came from.
#[derive(Clone, Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{at}: cannot read: {reason}")]
    Io { at: String, reason: String },
    #[error("{at}: larger than 32 MiB ({size} bytes)")]
    TooLarge { at: String, size: u64 },
    #[error("{at}: nested deeper than {MAX_DEPTH} levels")]
    TooDeep { at: String },
    /// `line` 0 when the parser knows no position (input that is not UTF-8).
    #[error("{at}: {format} syntax error{}: {message}", position(*line, *column))]
    Syntax {
        at: String,
        format: &'static str,
        line: u64,
        column: u64,
        message: String,
    },
    /// The YAML parser's budget (events, nodes, anchors, alias replay) ran out.
    #[error("{at}: YAML too costly to read: {message}")]
    YamlBudget { at: String, message: String },
    #[error(
        "{at}: not an OpenAPI 3.x or Swagger 2.0 document (no \"openapi\" or \"swagger\" field)"
    )]
    NotOpenApi { at: String },
    #[error("{at}: unsupported OpenAPI version {version}")]
    UnsupportedVersion { at: String, version: String },
    /// Inherited requirements and referenced parts, copied into every operation, add up
    /// to more than a model is allowed to hold.
    #[error(
        "{at}: the operations, with what each inherits and refers to, add up to more than 128 MiB"
    )]
    Expands { at: String },
    #[error("{at}: $ref cycle: {chain}")]
    RefCycle { at: String, chain: String },
    #[error("{at}: cannot resolve $ref {reference}: {reason}")]
    BadRef {
        at: String,
        reference: String,
        reason: String,
    },
    #[error("{at}: more than {MAX_REF_EXPANSIONS} $ref expansions (or a chain too long)")]
    RefBudget { at: String },
    #[error(
        "{at}: $ref {reference} points to another file, which is followed only for a description loaded from a file (download it with the files it refers to and pass the path)"
    )]
    ExternalRef { at: String, reference: String },
    #[error("cannot build the URL of {operation}: {reason}")]
    Url { operation: String, reason: String },
    #[error(
        "{at}: no absolute server URL to scan{}; pass BASE_URL (the API's base URL) on the command line",
        if servers.is_empty() { String::new() } else { format!(" (servers: {})", servers.join(", ")) }
    )]
    NoBaseUrl { at: String, servers: Vec<String> },
    #[error("{url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("no API description found at {origin}:\n{tried}")]
    NotFound { origin: String, tried: String },
}

fn position(line: u64, column: u64) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" at line {line}, column {column}")
    }
}

/// Reads a description from bytes already in memory (a file read elsewhere, or an HTTP
/// body capped by the caller). `source` names it in errors and evidence. `$ref`s to other
/// files are an error: they are followed only by [`load_file`].
pub fn parse(bytes: &[u8], source: &str) -> Result<ApiSpec, SpecError> {
    let docs = source::Docs::from_bytes(bytes, source)?;
    build::build(&docs)
}

/// Reads a description from a file, following `$ref`s to files beside it (relative paths
/// inside its directory only).
pub fn load_file(path: &Path) -> Result<ApiSpec, SpecError> {
    let docs = source::Docs::from_file(path)?;
    build::build(&docs)
}

/// The URL a scan of `spec` is based on: `given` (BASE_URL on the command line) wins;
/// else the first absolute server, `https://` preferred; relative servers (and 2.0's
/// scheme-less `//host/base`) are resolved against `spec_url`, the URL the description
/// was fetched from. Without any of these, an error says to pass BASE_URL.
///
/// A BASE_URL that is an origin alone (`https://staging.example.com`) moves the
/// description's server there and keeps its base path (`/v1`): the usual way to point a
/// production description at staging. One with a path replaces the server wholly.
pub fn base_url(
    spec: &ApiSpec,
    given: Option<&Url>,
    spec_url: Option<&Url>,
) -> Result<Url, SpecError> {
    if let Some(u) = given {
        let origin_only = u.path() == "/" && u.query().is_none();
        if origin_only && let Ok(server) = base_url(spec, None, spec_url.or(Some(u))) {
            let mut moved = u.clone();
            moved.set_path(server.path());
            return Ok(moved);
        }
        return Ok(u.clone());
    }
    let candidates: Vec<Url> = spec
        .servers
        .iter()
        .filter_map(|s| match Url::parse(s) {
            Ok(u) => Some(u),
            Err(url::ParseError::RelativeUrlWithoutBase) => spec_url.and_then(|b| b.join(s).ok()),
            Err(_) => None,
        })
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .collect();
    candidates
        .iter()
        .find(|u| u.scheme() == "https")
        .or_else(|| candidates.first())
        .cloned()
        .ok_or_else(|| SpecError::NoBaseUrl {
            at: spec.source.clone(),
            servers: spec.servers.clone(),
        })
}

/// `~` and `/` escaped for one JSON-pointer token (RFC 6901).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests;
