use super::{evidence, list, on_spec, plural};
use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Confidence, Family, Severity};
use crate::scan::Scan;
use crate::spec::{ApiSpec, Declared, Operation};

pub static META: CheckMeta = CheckMeta {
    id: "spec.security_undeclared",
    title: "Operations declare no security while others of the same API do",
    family: Family::Spec,
    severity: Severity::Low,
    cwe: &[306],
    owasp: &["API9"],
    description: "Reads the API description given with --spec: operations with no security requirement of their own and none inherited from the root, in an API whose other operations require one. Operations declared public with `security: []` are not reported.",
    needs: &[Need::Spec],
    explained_by: &[],
    remediation: Remediation {
        summary: "Declare a root-level `security` requirement that every operation inherits, and mark the operations that are public on purpose with `security: []`; then make sure the server enforces what the description says.",
        frameworks: &[
            (
                "fastapi",
                "Put the authenticating dependency on the app or router (APIRouter(dependencies=[Depends(oauth2_scheme)])) so every route carries it into the schema; mark deliberately public routes with openapi_extra={\"security\": []}.",
            ),
            (
                "spring",
                "springdoc: a global requirement, new OpenAPI().addSecurityItem(new SecurityRequirement().addList(\"bearerAuth\")), and an empty @SecurityRequirements() on public endpoints.",
            ),
            (
                "express",
                "In the description (swagger-jsdoc or a file): a root-level security: [{ bearerAuth: [] }] and security: [] on public operations; express-openapi-validator then enforces it.",
            ),
            (
                "django",
                "drf-spectacular: SPECTACULAR_SETTINGS['SECURITY'] = [{'bearerAuth': []}] and authentication classes on every view; @extend_schema(auth=[]) on public views.",
            ),
        ],
    },
    references: &[
        "https://spec.openapis.org/oas/v3.1.0#security-requirement-object",
        "https://owasp.org/API-Security/editions/2023/en/0xa9-improper-inventory-management/",
    ],
    budget: crate::check::Budget::Passive,
    lab_flaw: Some("spec.security_undeclared"),
    finds: "operations carry no security requirement (none of their own and none inherited) while other operations of the same API do; each is listed, and none is probed as protected",
    needs_note: "",
};

pub struct SecurityUndeclared;

impl Check for SecurityUndeclared {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move { on_spec(ctx, evaluate) })
    }
}

pub fn evaluate(spec: &ApiSpec) -> Outcome {
    let protected: Vec<&Operation> = spec
        .operations
        .iter()
        .filter(|o| o.security.is_required())
        .collect();
    let undeclared: Vec<&Operation> = spec
        .operations
        .iter()
        .filter(|o| o.security == Declared::Undeclared)
        .collect();
    if protected.is_empty() || undeclared.is_empty() {
        return Outcome::Pass;
    }
    let labels: Vec<String> = undeclared.iter().map(|o| o.label()).collect();
    let mut schemes: Vec<String> = Vec::new();
    for o in &protected {
        let d = spec.describe_security(o);
        if !schemes.contains(&d) {
            schemes.push(d);
        }
    }
    let description = format!(
        "{} of {} declare no security requirement (none of their own, and the document has no root-level `security`) while {} require {}: {}.\nA client, a gateway enforcing the description, or a scanner reads them as public; whether the server protects them is not said. If they are public on purpose, declare `security: []`; otherwise declare their scheme.",
        plural(undeclared.len(), "operation", "operations"),
        spec.operations.len(),
        plural(protected.len(), "other", "others"),
        schemes.join("; "),
        list(&labels),
    );
    let mut excerpt = String::from("(no root-level \"security\")\n");
    for o in undeclared.iter().take(super::NAMED) {
        excerpt.push_str(&format!("{}: no \"security\"\n", o.label()));
    }
    if let Some(p) = protected.first() {
        excerpt.push_str(&format!(
            "while, for instance, {}: \"security\" requires {}",
            p.label(),
            spec.describe_security(p)
        ));
    }
    let pointers: Vec<String> = undeclared.iter().map(|o| o.pointer()).collect();
    Outcome::found(META.finding(
        Confidence::Confirmed,
        description,
        evidence(spec, &pointers, excerpt.trim_end().to_string()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAWED: &str = r#"
openapi: 3.0.3
info: {title: t, version: '1'}
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer}
paths:
  /orders:
    get:
      security: [{bearerAuth: []}]
      responses: {'200': {description: ok}}
  /admin/users:
    get: {responses: {'200': {description: ok}}}
  /health:
    get:
      security: []
      responses: {'200': {description: ok}}
"#;

    #[test]
    fn fires_on_an_operation_left_without_security_beside_protected_ones() {
        let Outcome::Found(f) = evaluate(&super::super::parse(FLAWED)) else {
            panic!("expected a finding");
        };
        assert!(
            f.description.starts_with("1 operation of 3"),
            "{}",
            f.description
        );
        assert!(f.description.contains("GET /admin/users"));
        assert!(!f.description.contains("GET /health"), "public on purpose");
        assert!(f.evidence.request.contains("#/paths/~1admin~1users/get"));
        assert_eq!(
            f.evidence.curl,
            "curl -sS 'https://api.example.test/openapi.yaml'"
        );
        assert_eq!(f.evidence.status, None);
    }

    #[test]
    fn silent_when_security_is_inherited_or_declared_public() {
        let hardened = FLAWED.replace("paths:\n", "security: [{bearerAuth: []}]\npaths:\n");
        assert!(matches!(
            evaluate(&super::super::parse(&hardened)),
            Outcome::Pass
        ));
        let public = FLAWED.replace(
            "get: {responses: {'200': {description: ok}}}",
            "get: {security: [], responses: {'200': {description: ok}}}",
        );
        assert!(matches!(
            evaluate(&super::super::parse(&public)),
            Outcome::Pass
        ));
        // Nothing declares security anywhere: nothing to compare with.
        let none = "openapi: 3.0.3\npaths: {/a: {get: {}}, /b: {get: {}}}\n";
        assert!(matches!(
            evaluate(&super::super::parse(none)),
            Outcome::Pass
        ));
    }
}
