use super::{evidence, list, on_spec, plural};
use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;
use crate::spec::{ApiSpec, Declared, KeyLocation, SecurityScheme, escape_pointer};

pub static META: CheckMeta = CheckMeta {
    id: "spec.apikey_in_query",
    title: "An API key is declared in the query string",
    family: Family::Spec,
    severity: Severity::Medium,
    cwe: &[598],
    owasp: &["API2"],
    description: "Reads the API description given with --spec: apiKey security schemes declared `in: query` that operations require, so every client puts the credential in the URL.",
    needs: &[Need::Spec],
    explained_by: &[],
    remediation: Remediation {
        summary: "Carry API keys in a header (`in: header`, such as X-API-Key) and stop accepting them from the query string; rotate keys that travelled in URLs, since logs kept them.",
        frameworks: &[
            (
                "fastapi",
                "fastapi.security.APIKeyHeader(name=\"X-API-Key\") instead of APIKeyQuery.",
            ),
            (
                "spring",
                "Read the key with request.getHeader(\"X-API-Key\") in the filter, never request.getParameter; springdoc: @SecurityScheme(type = SecuritySchemeType.APIKEY, in = SecuritySchemeIn.HEADER, paramName = \"X-API-Key\").",
            ),
            (
                "express",
                "Read req.get('X-API-Key'), not req.query.api_key (passport-headerapikey with { header: 'X-API-Key' }).",
            ),
            (
                "django",
                "DRF: an authentication class reading request.META['HTTP_X_API_KEY'] (djangorestframework-api-key reads a header by default), never request.GET.",
            ),
            (
                "nginx",
                "Until clients move, keep keys out of access logs: log $uri instead of $request_uri in log_format.",
            ),
        ],
    },
    references: &[
        "https://spec.openapis.org/oas/v3.1.0#security-scheme-object",
        "RFC 6750 §2.3",
        "https://cwe.mitre.org/data/definitions/598.html",
    ],
    budget: crate::check::Budget::Passive,
    lab_flaw: Some("spec.apikey_in_query"),
    finds: "an apiKey (or token) scheme is declared `in: query`, so credentials end up in URLs, logs and referrers",
    needs_note: "",
};

pub struct ApikeyInQuery;

impl Check for ApikeyInQuery {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move { on_spec(ctx, evaluate) })
    }
}

/// Query-string keys that some operation requires (a scheme declared and never used puts
/// nothing in any URL).
pub fn evaluate(spec: &ApiSpec) -> Outcome {
    let mut lines = Vec::new();
    let mut pointers = Vec::new();
    let mut excerpt = Vec::new();
    for (name, scheme) in &spec.schemes {
        let SecurityScheme::ApiKey {
            name: param,
            location: KeyLocation::Query,
        } = scheme
        else {
            continue;
        };
        let users: Vec<String> = spec
            .operations
            .iter()
            .filter(|o| match &o.security {
                Declared::Required(alts) => alts.iter().any(|r| r.schemes.contains(name)),
                _ => false,
            })
            .map(|o| o.label())
            .collect();
        if users.is_empty() {
            continue;
        }
        lines.push(format!(
            "scheme `{name}` sends the key as the query parameter `{param}` on {}: {}",
            plural(users.len(), "operation", "operations"),
            list(&users)
        ));
        let pointer = format!(
            "{}/{}",
            spec.version.schemes_pointer(),
            escape_pointer(name)
        );
        excerpt.push(format!(
            "{pointer}: {}",
            serde_json::json!({"type": "apiKey", "in": "query", "name": param})
        ));
        pointers.push(pointer);
    }
    if lines.is_empty() {
        return Outcome::Pass;
    }
    Outcome::found(META.finding(
        Confidence::Confirmed,
        format!(
            "{}.\nEvery client following the description puts the credential in the URL, which access logs, proxies, browser history and Referer headers keep.",
            lines.join(".\n")
        ),
        evidence(spec, &pointers, excerpt.join("\n")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAWED: &str = r#"{
  "swagger": "2.0",
  "info": {"title": "t", "version": "1"},
  "securityDefinitions": {
    "key": {"type": "apiKey", "in": "query", "name": "api_key"},
    "unused": {"type": "apiKey", "in": "query", "name": "k2"}
  },
  "security": [{"key": []}],
  "paths": {"/pets": {"get": {"responses": {"200": {"description": "ok"}}}}}
}"#;

    #[test]
    fn fires_on_a_query_key_that_operations_require() {
        let Outcome::Found(f) = evaluate(&super::super::parse(FLAWED)) else {
            panic!("expected a finding");
        };
        assert!(
            f.description
                .starts_with("scheme `key` sends the key as the query parameter `api_key` on 1 operation: GET /pets"),
            "{}",
            f.description
        );
        assert!(!f.description.contains("unused"));
        assert!(f.evidence.request.contains("#/securityDefinitions/key"));
        assert!(
            f.evidence.excerpt.contains(r#""in":"query""#),
            "{}",
            f.evidence.excerpt
        );
    }

    #[test]
    fn silent_on_a_header_key() {
        let hardened = FLAWED.replace(
            r#""in": "query", "name": "api_key""#,
            r#""in": "header", "name": "X-API-Key""#,
        );
        assert!(matches!(
            evaluate(&super::super::parse(&hardened)),
            Outcome::Pass
        ));
    }
}
