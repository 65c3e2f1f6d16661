use super::{evidence, list, on_spec, plural};
use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;
use crate::spec::{ApiSpec, Declared, Operation, SecurityScheme, SpecVersion, escape_pointer};

pub static META: CheckMeta = CheckMeta {
    id: "spec.cleartext_server",
    title: "A plain-HTTP server is declared for operations that take credentials",
    family: Family::Spec,
    severity: Severity::High,
    cwe: &[319],
    owasp: &["API8"],
    description: "Reads the API description given with --spec: `servers` entries (or Swagger `schemes`) with plain http:// URLs, whatever their host, that serve operations whose security schemes carry credentials (tokens, passwords, API keys).",
    needs: &[Need::Spec],
    explained_by: &[],
    remediation: Remediation {
        summary: "List only https:// servers (Swagger: `schemes: [https]`) for operations that take credentials, and have the plain-HTTP port redirect without serving the API.",
        frameworks: &[
            (
                "fastapi",
                "FastAPI(servers=[{\"url\": \"https://api.example.com\"}]); behind a TLS proxy run uvicorn with --proxy-headers --forwarded-allow-ips so generated URLs are https.",
            ),
            (
                "spring",
                "springdoc: @OpenAPIDefinition(servers = @Server(url = \"https://api.example.com\")), and server.forward-headers-strategy=framework behind a TLS proxy.",
            ),
            (
                "express",
                "swagger-jsdoc: definition.servers = [{ url: 'https://api.example.com' }]; app.set('trust proxy', 1) behind a TLS proxy.",
            ),
            (
                "django",
                "drf-spectacular: SPECTACULAR_SETTINGS['SERVERS'] = [{'url': 'https://api.example.com'}]; SECURE_PROXY_SSL_HEADER behind a TLS proxy.",
            ),
            (
                "nginx",
                "server { listen 80; return 301 https://$host$request_uri; } and the API only in the listen 443 ssl server.",
            ),
        ],
    },
    references: &[
        "https://spec.openapis.org/oas/v3.1.0#server-object",
        "RFC 6750 §5.3",
        "RFC 7617 §4",
    ],
    budget: crate::check::Budget::Passive,
    lab_flaw: Some("spec.cleartext_server"),
    finds: "a `servers` entry (or Swagger `schemes`) is plain `http://` for operations whose security schemes carry credentials",
    needs_note: "",
};

pub struct CleartextServer;

impl Check for CleartextServer {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move { on_spec(ctx, evaluate) })
    }
}

/// Whether the client sends a secret for this scheme: not for mutual TLS (whose key never
/// leaves the client, and which plain HTTP cannot carry anyway), nor for a type or name the
/// model does not know.
fn carries_credentials(spec: &ApiSpec, name: &str) -> bool {
    match spec.schemes.get(name) {
        Some(SecurityScheme::MutualTls | SecurityScheme::Other(_)) | None => false,
        Some(_) => true,
    }
}

fn takes_credentials(spec: &ApiSpec, op: &Operation) -> bool {
    match &op.security {
        Declared::Required(alts) => alts
            .iter()
            .any(|r| r.schemes.iter().any(|s| carries_credentials(spec, s))),
        _ => false,
    }
}

fn is_plain_http(url: &str) -> bool {
    url.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
}

pub fn evaluate(spec: &ApiSpec) -> Outcome {
    // Each plain-HTTP server, where it is declared, and the credentialed operations on it.
    let mut found: Vec<(String, String, Vec<String>)> = Vec::new();
    for op in spec
        .operations
        .iter()
        .filter(|o| takes_credentials(spec, o))
    {
        for server in op
            .effective_servers(spec)
            .iter()
            .filter(|s| is_plain_http(s))
        {
            let pointer = if !op.servers.is_empty() {
                format!("#/paths/{}", escape_pointer(&op.path))
            } else if spec.version == SpecVersion::Swagger2 {
                "#/schemes".to_string()
            } else {
                let i = spec.servers.iter().position(|s| s == server).unwrap_or(0);
                format!("#/servers/{i}")
            };
            match found
                .iter_mut()
                .find(|(s, p, _)| s == server && *p == pointer)
            {
                Some((_, _, ops)) => ops.push(op.label()),
                None => found.push((server.clone(), pointer, vec![op.label()])),
            }
        }
    }
    if found.is_empty() {
        return Outcome::Pass;
    }
    let lines: Vec<String> = found
        .iter()
        .map(|(server, _, ops)| {
            format!(
                "{server} serves {} that take credentials: {}",
                plural(ops.len(), "operation", "operations"),
                list(ops)
            )
        })
        .collect();
    let excerpt: Vec<String> = found
        .iter()
        .map(|(server, pointer, _)| format!("{pointer}: \"{server}\""))
        .collect();
    let pointers: Vec<String> = found.iter().map(|(_, p, _)| p.clone()).collect();
    Outcome::found(META.finding(
        Confidence::Confirmed,
        format!(
            "{}.\nA client that picks this server sends its token, password or API key in cleartext, readable and replayable by anyone on the path.",
            lines.join(".\n")
        ),
        evidence(spec, &pointers, excerpt.join("\n")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAWED: &str = r#"
openapi: 3.1.0
info: {title: t, version: '1'}
servers:
  - url: https://api.example.test/v1
  - url: "{scheme}://api.example.test/v1"
    variables: {scheme: {default: http}}
security: [{bearerAuth: []}]
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer}
    mtls: {type: mutualTLS}
paths:
  /orders: {get: {responses: {'200': {description: ok}}}}
  /health: {get: {security: [], responses: {'200': {description: ok}}}}
  /certs:
    servers: [{url: 'http://10.0.0.1/'}]
    get: {security: [{mtls: []}], responses: {'200': {description: ok}}}
"#;

    #[test]
    fn fires_on_an_http_server_of_credentialed_operations() {
        let Outcome::Found(f) = evaluate(&super::super::parse(FLAWED)) else {
            panic!("expected a finding");
        };
        assert!(
            f.description.starts_with(
                "http://api.example.test/v1 serves 1 operation that take credentials: GET /orders."
            ),
            "{}",
            f.description
        );
        assert!(!f.description.contains("/health") && !f.description.contains("10.0.0.1"));
        assert_eq!(
            f.evidence.excerpt,
            "#/servers/1: \"http://api.example.test/v1\""
        );
    }

    #[test]
    fn fires_on_swagger_http_scheme_and_is_silent_on_https_only() {
        let swagger = r#"{"swagger": "2.0", "host": "pets.test", "schemes": ["http"],
            "securityDefinitions": {"b": {"type": "basic"}}, "security": [{"b": []}],
            "paths": {"/pets": {"get": {}}}}"#;
        let Outcome::Found(f) = evaluate(&super::super::parse(swagger)) else {
            panic!("expected a finding");
        };
        assert!(f.evidence.request.contains("#/schemes"));
        let hardened = swagger.replace(r#"["http"]"#, r#"["https"]"#);
        assert!(matches!(
            evaluate(&super::super::parse(&hardened)),
            Outcome::Pass
        ));
        let hardened = FLAWED.replace("default: http", "default: https");
        assert!(matches!(
            evaluate(&super::super::parse(&hardened)),
            Outcome::Pass
        ));
    }
}
