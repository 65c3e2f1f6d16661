//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`. Written by
//! hand beside the routes (`super::router`); a test checks that every route is in it and
//! that it validates, and `authprobe scan --spec` runs against it in the tests.

use serde_json::{Value, json};

fn err(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(desc: &str, schema: Value) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": schema}}})
}

fn sref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn id_param(name: &str, what: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": what, "schema": {"type": "integer", "format": "int64", "example": 1}})
}

pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "authprobe server API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Targets, scans, reports, diffs and webhooks of an `authprobe serve` instance. Authenticate with `Authorization: Bearer <API key>`; the first admin key is written to the file named by the server's ready JSON (`admin_key_file`)."
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"apiKey": []}],
        "tags": [
            {"name": "targets"}, {"name": "scans"}, {"name": "reports"}, {"name": "webhooks"}, {"name": "admin"}
        ],
        "paths": paths(),
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "An API key of this server (`ap_...`)"}},
            "schemas": schemas()
        }
    })
}

fn paths() -> Value {
    let common = |mut responses: serde_json::Map<String, Value>| {
        responses.insert("401".into(), err("No or an invalid API key"));
        Value::Object(responses)
    };
    let r = |pairs: Vec<(&str, Value)>| {
        common(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    json!({
        "/openapi.json": {"get": {
            "operationId": "getOpenApi", "tags": ["admin"], "summary": "This document", "security": [],
            "responses": {"200": ok("The OpenAPI document", json!({"type": "object"}))}
        }},
        "/targets": {
            "get": {"operationId": "listTargets", "tags": ["targets"], "summary": "Every target with its latest score and recent scores",
                "responses": r(vec![("200", ok("Targets", json!({"type": "object", "required": ["targets"], "properties": {"targets": {"type": "array", "items": sref("TargetSummary")}}})))])},
            "post": {"operationId": "createTarget", "tags": ["targets"], "summary": "Add a target (a body of just {\"url\": ...} is enough)",
                "requestBody": {"required": true, "content": {"application/json": {"schema": sref("TargetInput")}}},
                "responses": r(vec![("201", ok("The target", sref("Target"))), ("400", err("Invalid input")), ("403", err("The URL is outside this server's scan scope"))])}
        },
        "/targets/{id}": {
            "parameters": [id_param("id", "Target id")],
            "get": {"operationId": "getTarget", "tags": ["targets"], "summary": "A target (credential kinds only, never values)",
                "responses": r(vec![("200", ok("The target", sref("Target"))), ("404", err("No such target"))])},
            "patch": {"operationId": "updateTarget", "tags": ["targets"], "summary": "Change a target; `credentials` replaces every credential",
                "requestBody": {"required": true, "content": {"application/json": {"schema": sref("TargetPatch")}}},
                "responses": r(vec![("200", ok("The target", sref("Target"))), ("400", err("Invalid input")), ("403", err("Outside the scan scope")), ("404", err("No such target"))])},
            "delete": {"operationId": "deleteTarget", "tags": ["targets"], "summary": "Delete a target with its scans and reports",
                "responses": r(vec![("204", json!({"description": "Deleted"})), ("404", err("No such target"))])}
        },
        "/targets/{id}/scans": {
            "parameters": [id_param("id", "Target id")],
            "post": {"operationId": "startScan", "tags": ["scans"], "summary": "Queue a scan; answers at once with its id",
                "responses": r(vec![("202", ok("The queued scan", sref("Scan"))), ("404", err("No such target")), ("409", err("A scan of this target is already queued or running"))])}
        },
        "/scans": {"get": {
            "operationId": "listScans", "tags": ["scans"], "summary": "Scans, newest first",
            "parameters": [
                {"name": "target", "in": "query", "schema": {"type": "integer", "format": "int64"}, "description": "Only this target's scans"},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
                {"name": "before", "in": "query", "schema": {"type": "integer", "format": "int64"}, "description": "Only scans with a smaller id (the previous page's next_before)"}
            ],
            "responses": r(vec![("200", ok("A page of scans", json!({"type": "object", "required": ["scans"], "properties": {"scans": {"type": "array", "items": sref("Scan")}, "next_before": {"type": ["integer", "null"]}}}))), ("400", err("Invalid query"))])
        }},
        "/scans/{id}": {
            "parameters": [id_param("id", "Scan id")],
            "get": {"operationId": "getScan", "tags": ["scans"], "summary": "A scan: status, progress, summary",
                "responses": r(vec![("200", ok("The scan", sref("Scan"))), ("404", err("No such scan"))])}
        },
        "/scans/{id}/report": {
            "parameters": [id_param("id", "Scan id"), {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "sarif", "junit", "markdown", "html"], "default": "json"}}],
            "get": {"operationId": "getReport", "tags": ["reports"], "summary": "The scan's report in one of the CLI's formats",
                "responses": r(vec![
                    ("200", json!({"description": "The report", "content": {
                        "application/json": {"schema": {"type": "object"}},
                        "application/sarif+json": {"schema": {"type": "object"}},
                        "application/xml": {"schema": {"type": "string"}},
                        "text/markdown": {"schema": {"type": "string"}},
                        "text/html": {"schema": {"type": "string"}}}})),
                    ("400", err("Unknown format")), ("404", err("No such scan")), ("409", err("The scan has no report (not done)"))])}
        },
        "/scans/{id}/diff": {
            "parameters": [id_param("id", "The later scan"), {"name": "against", "in": "query", "required": true, "description": "The earlier scan of the same target", "schema": {"type": "integer", "format": "int64", "example": 1}}],
            "get": {"operationId": "diffScans", "tags": ["scans"], "summary": "New, fixed and unchanged findings from `against` to this scan, and the score delta",
                "responses": r(vec![("200", ok("The diff", sref("Diff"))), ("400", err("Scans of different targets")), ("404", err("No such scan")), ("409", err("A scan is not done"))])}
        },
        "/reports": {"post": {
            "operationId": "importReport", "tags": ["reports"], "summary": "Import a JSON report written by `authprobe scan` (what `--upload` sends)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["schema_version", "target", "score", "grade", "findings"]}}}},
            "responses": r(vec![("201", ok("The stored scan and its target", json!({"type": "object", "properties": {"scan": sref("Scan"), "target": sref("Target")}}))), ("400", err("Not an authprobe JSON report")), ("413", err("Larger than 32 MiB"))])
        }},
        "/users": {"post": {
            "operationId": "createUser", "tags": ["admin"], "summary": "Create a dashboard user (admin key only)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["username", "password"], "additionalProperties": false, "properties": {"username": {"type": "string"}, "password": {"type": "string", "format": "password", "minLength": 10}}}}}},
            "responses": r(vec![("201", ok("The user", sref("User"))), ("400", err("Invalid or taken name, or a short password")), ("403", err("Not an admin key"))])
        }},
        "/keys": {"post": {
            "operationId": "createKey", "tags": ["admin"], "summary": "Create an API key, shown once (admin key only)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "additionalProperties": false, "properties": {"name": {"type": "string"}, "admin": {"type": "boolean", "default": false}}}}}},
            "responses": r(vec![("201", ok("The key (its only showing) and its record", json!({"type": "object", "properties": {"key": {"type": "string"}, "info": sref("ApiKey")}}))), ("403", err("Not an admin key"))])
        }},
        "/webhooks": {
            "get": {"operationId": "listWebhooks", "tags": ["webhooks"], "summary": "Every webhook (the URL in full for admin keys only, else its origin)",
                "responses": r(vec![("200", ok("Webhooks", json!({"type": "object", "required": ["webhooks"], "properties": {"webhooks": {"type": "array", "items": sref("Webhook")}}})))])},
            "post": {"operationId": "createWebhook", "tags": ["webhooks"], "summary": "Add a webhook, signed with a secret shown once (admin key only)",
                "requestBody": {"required": true, "content": {"application/json": {"schema": sref("WebhookInput")}}},
                "responses": r(vec![("201", ok("The webhook and its signing secret (its only showing)", json!({"type": "object", "required": ["webhook", "secret"], "properties": {"webhook": sref("Webhook"), "secret": {"type": "string"}}}))), ("400", err("Invalid input")), ("403", err("Not an admin key"))])}
        },
        "/webhooks/{id}": {
            "parameters": [id_param("id", "Webhook id")],
            "delete": {"operationId": "deleteWebhook", "tags": ["webhooks"], "summary": "Delete a webhook and its delivery log (admin key only)",
                "responses": r(vec![("204", json!({"description": "Deleted"})), ("403", err("Not an admin key")), ("404", err("No such webhook"))])}
        },
        "/webhooks/{id}/deliveries": {
            "parameters": [id_param("id", "Webhook id"), {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}],
            "get": {"operationId": "listWebhookDeliveries", "tags": ["webhooks"], "summary": "The webhook's delivery log, newest first",
                "responses": r(vec![("200", ok("Deliveries", json!({"type": "object", "required": ["deliveries"], "properties": {"deliveries": {"type": "array", "items": sref("Delivery")}}}))), ("400", err("Invalid query")), ("404", err("No such webhook"))])}
        }
    })
}

fn schedule_cron() -> Value {
    json!({"type": ["string", "null"], "maxLength": 200, "example": "0 3 * * 1-5",
        "description": "Rescan at the times of this cron expression: 5 fields (minute hour day-of-month month day-of-week), evaluated in UTC, at most every 5 minutes. At most one of it and schedule_minutes; setting it clears schedule_minutes"})
}

fn schedule_jitter() -> Value {
    json!({"type": ["integer", "null"], "minimum": 0, "maximum": 86400,
        "description": "Scheduled scans of this target start up to this many seconds late, by an amount fixed per target, so targets on the same schedule spread out"})
}

fn schemas() -> Value {
    json!({
        "Error": {"type": "object", "required": ["error", "status"], "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}},
        "Credentials": {"type": "object", "additionalProperties": false, "description": "Write-only: stored encrypted, never returned",
            "properties": {
                "bearer": {"type": "string", "writeOnly": true},
                "basic": {"type": "string", "writeOnly": true, "description": "USER:PASSWORD"},
                "api_keys": {"type": "array", "items": {"type": "string", "description": "NAME=VALUE"}, "writeOnly": true},
                "headers": {"type": "array", "items": {"type": "string", "description": "Name: value"}, "writeOnly": true},
                "client_cert_pem": {"type": "string", "writeOnly": true},
                "client_key_pem": {"type": "string", "writeOnly": true},
                "server_ca_pem": {"type": "string", "writeOnly": true}}},
        "CredentialKinds": {"type": "object", "properties": {
            "bearer": {"type": "boolean"}, "basic": {"type": "boolean"},
            "api_keys": {"type": "array", "items": {"type": "string"}}, "headers": {"type": "array", "items": {"type": "string"}},
            "client_certificate": {"type": "boolean"}, "server_ca": {"type": "boolean"}}},
        "TargetInput": {"type": "object", "required": ["url"], "additionalProperties": false, "properties": {
            "url": {"type": "string", "format": "uri"},
            "name": {"type": "string"},
            "spec": {"type": "string", "description": "`auto`, or the URL of an OpenAPI/Swagger document: scan the whole API"},
            "checks": {"type": "array", "items": {"type": "string"}},
            "schedule_minutes": {"type": ["integer", "null"], "minimum": 5, "maximum": 525600, "description": "Rescan every N minutes, counted from the start of the last scan"},
            "schedule_cron": schedule_cron(),
            "schedule_jitter_seconds": schedule_jitter(),
            "credentials": sref("Credentials")}},
        "TargetPatch": {"type": "object", "additionalProperties": false, "properties": {
            "url": {"type": "string", "format": "uri"}, "name": {"type": "string"},
            "spec": {"type": ["string", "null"]}, "checks": {"type": "array", "items": {"type": "string"}},
            "schedule_minutes": {"type": ["integer", "null"], "minimum": 5, "maximum": 525600, "description": "Setting it clears schedule_cron; null clears it"},
            "schedule_cron": schedule_cron(),
            "schedule_jitter_seconds": schedule_jitter(),
            "credentials": sref("Credentials")}},
        "Target": {"type": "object", "required": ["id", "name", "url", "credentials"], "properties": {
            "id": {"type": "integer", "format": "int64"}, "name": {"type": "string"}, "url": {"type": "string"},
            "spec": {"type": ["string", "null"]}, "checks": {"type": "array", "items": {"type": "string"}},
            "schedule_minutes": {"type": ["integer", "null"]},
            "schedule_cron": {"type": ["string", "null"], "description": "5 fields, evaluated in UTC"},
            "schedule_jitter_seconds": {"type": ["integer", "null"]},
            "next_run_at": {"type": ["integer", "null"], "description": "Unix milliseconds of the next scheduled scan (jitter included); null without a schedule; in the past while it is due"},
            "credentials": sref("CredentialKinds"),
            "created_at": {"type": "integer", "description": "Unix milliseconds"}, "updated_at": {"type": "integer"}}},
        "TargetSummary": {"type": "object", "properties": {
            "target": sref("Target"), "latest": {"oneOf": [sref("Scan"), {"type": "null"}]},
            "recent_scores": {"type": "array", "items": {"type": "integer"}},
            "active": {"oneOf": [sref("Scan"), {"type": "null"}]}}},
        "Scan": {"type": "object", "required": ["id", "target_id", "status"], "properties": {
            "id": {"type": "integer", "format": "int64"}, "target_id": {"type": "integer", "format": "int64"},
            "status": {"type": "string", "enum": ["queued", "running", "done", "failed", "interrupted"]},
            "trigger": {"type": "string", "enum": ["api", "ui", "schedule", "import", "requeue", "mcp"]},
            "created_at": {"type": "integer"}, "started_at": {"type": ["integer", "null"]}, "finished_at": {"type": ["integer", "null"]},
            "score": {"type": ["integer", "null"]}, "grade": {"type": ["string", "null"]}, "findings": {"type": ["integer", "null"]},
            "severities": {"type": ["array", "null"], "items": {"type": "integer"}, "description": "critical, high, medium, low, info"},
            "requests_sent": {"type": ["integer", "null"]}, "duration_ms": {"type": ["integer", "null"]},
            "error": {"type": ["string", "null"]}, "requeued_from": {"type": ["integer", "null"]},
            "attempts": {"type": "integer", "minimum": 0, "description": "Starts so far: a scan that failed in a way that may pass, or whose worker stopped, is started again"},
            "worker": {"type": ["string", "null"], "description": "The process running it, or that ran it last (role@host:pid)"},
            "run_after": {"type": ["integer", "null"], "description": "A queued retry waits until then (ms since the epoch)"},
            "heartbeat_at": {"type": ["integer", "null"], "description": "When its worker last said it was alive (ms since the epoch)"},
            "progress": {"type": "object", "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}, "phase": {"type": "string"}}},
            "links": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "Finding": {"type": "object", "properties": {
            "fingerprint": {"type": "string"}, "check_id": {"type": "string"}, "severity": {"type": "string"},
            "title": {"type": "string"}, "operation": {"type": ["string", "null"]}}},
        "Diff": {"type": "object", "properties": {
            "from": sref("Scan"), "to": sref("Scan"),
            "new": {"type": "array", "items": sref("Finding")}, "fixed": {"type": "array", "items": sref("Finding")},
            "unchanged": {"type": "array", "items": sref("Finding")}, "score_delta": {"type": "integer"}}},
        "User": {"type": "object", "properties": {"id": {"type": "integer"}, "username": {"type": "string"}, "created_at": {"type": "integer"}}},
        "ApiKey": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "admin": {"type": "boolean"}, "created_at": {"type": "integer"}, "last_used_at": {"type": ["integer", "null"]}}},
        "WebhookEvents": {"type": "object", "additionalProperties": false, "description": "What fires the webhook, comparing a finished scan with the target's previous one; at least one",
            "properties": {
                "new_findings": {"type": "boolean", "default": false},
                "fixed_findings": {"type": "boolean", "default": false},
                "score_drop": {"type": ["integer", "null"], "minimum": 1, "maximum": 100, "description": "Fire when the score falls by at least this many points"},
                "grade_change": {"type": "boolean", "default": false}}},
        "WebhookInput": {"type": "object", "required": ["url", "events"], "additionalProperties": false, "properties": {
            "url": {"type": "string", "format": "uri", "description": "http(s), without a user name or password"},
            "target_id": {"type": ["integer", "null"], "format": "int64", "description": "Only this target's scans; absent: every target's"},
            "events": sref("WebhookEvents"),
            "format": {"type": "string", "enum": ["json", "slack"], "default": "json"},
            "secret": {"type": "string", "writeOnly": true, "minLength": 16, "maxLength": 256, "description": "The signing secret; absent: 256 random bits"}}},
        "Webhook": {"type": "object", "required": ["id", "url", "events", "format"], "properties": {
            "id": {"type": "integer", "format": "int64"}, "target_id": {"type": ["integer", "null"]},
            "url": {"type": "string"}, "events": sref("WebhookEvents"),
            "format": {"type": "string", "enum": ["json", "slack"]}, "created_at": {"type": "integer"},
            "links": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "Delivery": {"type": "object", "required": ["id", "webhook_id", "scan_id", "status", "attempts"], "properties": {
            "id": {"type": "integer", "format": "int64", "description": "Sent as Authprobe-Delivery"}, "webhook_id": {"type": "integer"}, "scan_id": {"type": "integer"},
            "events": {"type": "array", "items": {"type": "string", "enum": ["new_findings", "fixed_findings", "score_drop", "grade_change"]}},
            "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
            "attempts": {"type": "integer"}, "next_attempt_at": {"type": ["integer", "null"], "description": "Unix milliseconds; while pending"},
            "last_status_code": {"type": ["integer", "null"]}, "last_error": {"type": ["string", "null"]},
            "created_at": {"type": "integer"}, "delivered_at": {"type": ["integer", "null"]}}}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn a_target_is_documented_field_by_field() {
        use crate::store::{CredentialKinds, Target};
        let target = Target {
            id: 1,
            name: "n".into(),
            url: "https://a.test/".into(),
            spec: None,
            checks: vec![],
            schedule_minutes: None,
            schedule_cron: Some("0 3 * * *".into()),
            schedule_jitter_seconds: Some(60),
            next_run_at: Some(1),
            credentials: CredentialKinds::default(),
            created_at: 0,
            updated_at: 0,
        };
        let doc = document();
        let documented = doc["components"]["schemas"]["Target"]["properties"]
            .as_object()
            .unwrap();
        let shown = serde_json::to_value(&target).unwrap();
        let shown = shown.as_object().unwrap();
        for key in shown.keys() {
            assert!(
                documented.contains_key(key),
                "Target.{key} is not documented"
            );
        }
        for key in documented.keys() {
            assert!(
                shown.contains_key(key),
                "Target.{key} is documented, never shown"
            );
        }
        for schema in ["TargetInput", "TargetPatch"] {
            let props = &doc["components"]["schemas"][schema]["properties"];
            for key in [
                "schedule_minutes",
                "schedule_cron",
                "schedule_jitter_seconds",
            ] {
                assert!(props[key].is_object(), "{schema}.{key}");
            }
        }
    }

    #[test]
    fn every_ref_resolves_and_every_operation_is_named_and_guarded() {
        let doc = document();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let name = r.strip_prefix("#/components/schemas/").expect(r);
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{r} does not resolve"
            );
        }
        let mut ids = std::collections::HashSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if method == "parameters" {
                    continue;
                }
                let id = op["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path}"));
                assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
                let public = op
                    .get("security")
                    .is_some_and(|s| s.as_array().is_some_and(Vec::is_empty));
                assert_eq!(
                    op["responses"].get("401").is_some(),
                    !public,
                    "{method} {path}: a guarded operation documents its 401"
                );
            }
        }
    }
}
