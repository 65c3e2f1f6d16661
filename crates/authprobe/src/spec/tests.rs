//! The model read from the three versions, and the hostile documents: cycles, size,
//! depth, alias bombs, garbage.

use super::*;
use serde_json::json;
use std::time::{Duration, Instant};

fn p(doc: &str) -> Result<ApiSpec, SpecError> {
    parse(doc.as_bytes(), "spec.yaml")
}

fn op<'a>(s: &'a ApiSpec, label: &str) -> &'a Operation {
    s.operations
        .iter()
        .find(|o| o.label() == label)
        .unwrap_or_else(|| panic!("no {label} in {:?}", s.operations))
}

const OAS31: &str = r#"
openapi: 3.1.0
info: {title: Shop, version: 2.1}
servers:
  - url: "{scheme}://api.example.test/{base}"
    variables:
      scheme: {default: https, enum: [https, http]}
      base: {default: v1}
security:
  - bearerAuth: []
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer, bearerFormat: JWT}
    headerKey: {type: apiKey, in: header, name: X-API-Key}
    mtls: {type: mutualTLS}
    oidc: {type: openIdConnect, openIdConnectUrl: https://id.example.test/.well-known/openid-configuration}
    digest: {type: http, scheme: Digest}
    ref: {$ref: '#/components/securitySchemes/headerKey'}
  parameters:
    OrderId:
      name: orderId
      in: path
      required: true
      schema: {type: string, format: uuid}
  schemas:
    Order:
      type: object
      required: [id, items]
      properties:
        id: {type: integer, minimum: 7}
        note: {type: string}
        items:
          type: array
          items: {$ref: '#/components/schemas/Item'}
        parent: {$ref: '#/components/schemas/Order'}
    Item:
      allOf:
        - {$ref: '#/components/schemas/Base'}
        - type: object
          properties:
            sku: {type: string, example: SKU-1}
    Base:
      type: object
      properties:
        when: {type: string, format: date-time}
paths:
  /orders/{orderId}:
    parameters:
      - $ref: '#/components/parameters/OrderId'
      - {name: verbose, in: query, schema: {type: boolean}}
    get:
      operationId: getOrder
      tags: [orders]
      summary: One order
      parameters:
        - {name: verbose, in: query, required: true, schema: {type: boolean, default: false}}
        - {name: fields, in: query, schema: {type: array, items: {type: string}}, example: [a, b]}
        - {name: page, in: query, schema: {type: integer}}
        - {name: Authorization, in: header, required: true, schema: {type: string}}
        - {name: X-Trace, in: header, required: true, schema: {type: string, enum: [on, off]}}
      responses: {'200': {description: ok}}
    delete:
      security:
        - bearerAuth: []
        - headerKey: []
          mtls: []
      responses: {'204': {description: gone}}
  /orders:
    post:
      requestBody:
        required: true
        content:
          text/plain: {schema: {type: string}}
          application/json:
            schema: {$ref: '#/components/schemas/Order'}
      responses: {'201': {description: made}}
  /health:
    servers: [{url: "http://health.example.test"}]
    get:
      security: []
      responses: {'200': {description: ok}}
  /status:
    get:
      security: [{}, {oidc: []}]
      responses: {'200': {description: ok}}
  /legacy:
    get:
      security: [{legacyKey: []}]
      responses: {'200': {description: ok}}
  x-internal: {get: {}}
"#;

#[test]
fn an_openapi_31_document_reads_into_the_model() {
    let s = p(OAS31).unwrap();
    assert_eq!(s.version, SpecVersion::OpenApi31);
    assert_eq!((s.title.as_str(), s.api_version.as_str()), ("Shop", "2.1"));
    assert_eq!(s.servers, vec!["https://api.example.test/v1"]);
    assert_eq!(s.schemes["bearerAuth"], SecurityScheme::Bearer);
    assert_eq!(
        s.schemes["ref"],
        SecurityScheme::ApiKey {
            name: "X-API-Key".into(),
            location: KeyLocation::Header
        }
    );
    assert_eq!(s.schemes["mtls"], SecurityScheme::MutualTls);
    assert_eq!(
        s.schemes["digest"],
        SecurityScheme::Http {
            scheme: "digest".into()
        }
    );
    let labels: Vec<String> = s.operations.iter().map(|o| o.label()).collect();
    assert_eq!(
        labels,
        [
            "GET /health",
            "GET /legacy",
            "POST /orders",
            "GET /orders/{orderId}",
            "DELETE /orders/{orderId}",
            "GET /status"
        ]
    );

    let get = op(&s, "GET /orders/{orderId}");
    assert_eq!(get.operation_id.as_deref(), Some("getOrder"));
    assert_eq!(get.tags, ["orders"]);
    assert!(get.is_safe());
    assert_eq!(get.security.describe(), "bearerAuth");
    assert!(!get.own_security);
    let names: Vec<(&str, Option<&str>)> = get
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_deref()))
        .collect();
    // The operation's `verbose` replaced the path item's; Authorization is the scanner's.
    assert_eq!(
        names,
        [
            ("orderId", Some("00000000-0000-4000-8000-000000000000")),
            ("verbose", Some("false")),
            ("fields", Some("a,b")),
            ("page", None),
            ("X-Trace", Some("on")),
        ]
    );
    let base = Url::parse("https://h.example/api/").unwrap();
    assert_eq!(
        get.url(&base).unwrap().as_str(),
        "https://h.example/api/orders/00000000-0000-4000-8000-000000000000?verbose=false&fields=a%2Cb"
    );

    let del = op(&s, "DELETE /orders/{orderId}");
    assert!(del.own_security && !del.is_safe());
    assert_eq!(
        del.security.describe(),
        "bearerAuth or (headerKey and mtls)"
    );
    assert_eq!(del.pointer(), "#/paths/~1orders~1{orderId}/delete");

    let post = op(&s, "POST /orders");
    let body = post.body.as_ref().unwrap();
    assert!(body.required);
    assert_eq!(body.content_type, "application/json");
    // Required properties only; the recursive `parent` is not required, the Item allOf merged.
    assert_eq!(
        body.example,
        json!({"id": 7, "items": [{"when": "2024-01-01T00:00:00Z", "sku": "SKU-1"}]})
    );

    let health = op(&s, "GET /health");
    assert_eq!(health.security, Declared::Public);
    assert_eq!(health.servers, vec!["http://health.example.test"]);
    assert_eq!(op(&s, "GET /status").security, Declared::Public);
    let legacy = op(&s, "GET /legacy");
    assert_eq!(
        s.describe_security(legacy),
        "legacyKey (not defined in the document)"
    );
    assert!(!legacy.satisfiable(&s, &|_| true));
}

#[test]
fn credentials_satisfy_an_alternative_only_when_all_its_schemes_are_at_hand() {
    let s = p(OAS31).unwrap();
    let del = op(&s, "DELETE /orders/{orderId}");
    let only_key = |k: &CredentialKind| matches!(k, CredentialKind::ApiKey { .. });
    let key_and_cert = |k: &CredentialKind| {
        matches!(
            k,
            CredentialKind::ApiKey { .. } | CredentialKind::ClientCert
        )
    };
    let bearer = |k: &CredentialKind| *k == CredentialKind::Bearer;
    assert!(!del.satisfiable(&s, &only_key));
    assert!(del.satisfiable(&s, &key_and_cert));
    assert!(del.satisfiable(&s, &bearer));
    assert!(op(&s, "GET /health").satisfiable(&s, &|_| false));
    assert_eq!(
        scheme_needs(&SecurityScheme::OpenIdConnect),
        Some(CredentialKind::Bearer)
    );
    assert_eq!(
        scheme_needs(&SecurityScheme::Http {
            scheme: "digest".into()
        }),
        None
    );
    let creds = s.scheme_credentials(del);
    assert_eq!(creds.len(), 3);
    assert_eq!(creds[2], ("mtls".into(), Some(CredentialKind::ClientCert)));
}

const SWAGGER: &str = r##"{
  "swagger": "2.0",
  "info": {"title": "Pets", "version": "1.0.0"},
  "host": "pets.example.test:8080",
  "basePath": "/v2",
  "schemes": ["http", "https"],
  "consumes": ["application/json"],
  "securityDefinitions": {
    "key": {"type": "apiKey", "in": "query", "name": "api_key"},
    "basic": {"type": "basic"},
    "oauth": {"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://x", "scopes": {}}
  },
  "parameters": {
    "petId": {"name": "petId", "in": "path", "required": true, "type": "integer", "x-example": 42}
  },
  "paths": {
    "/pets/{petId}": {
      "parameters": [{"$ref": "#/parameters/petId"}],
      "get": {"security": [{"key": []}], "responses": {"200": {"description": "ok"}}},
      "put": {
        "security": [{"basic": []}],
        "parameters": [{"name": "body", "in": "body", "required": true,
                        "schema": {"$ref": "#/definitions/Pet"}}],
        "responses": {"200": {"description": "ok"}}
      }
    },
    "/pets/{petId}/photo": {
      "post": {
        "consumes": ["multipart/form-data"],
        "parameters": [
          {"$ref": "#/parameters/petId"},
          {"name": "file", "in": "formData", "type": "file", "required": true},
          {"name": "caption", "in": "formData", "type": "string", "default": "hi"}
        ],
        "responses": {"200": {"description": "ok"}}
      }
    },
    "/pets": {
      "get": {
        "parameters": [{"name": "status", "in": "query", "required": true, "type": "array",
                        "items": {"type": "string", "enum": ["available", "sold"]}}],
        "responses": {"200": {"description": "ok"}}
      },
      "post": {
        "parameters": [{"name": "name", "in": "formData", "type": "string", "required": true}],
        "responses": {"200": {"description": "ok"}}
      }
    }
  },
  "definitions": {
    "Pet": {"type": "object", "properties": {"name": {"type": "string", "example": "Rex"},
            "tag": {"$ref": "#/definitions/Tag"}}},
    "Tag": {"type": "object", "properties": {"pet": {"$ref": "#/definitions/Pet"}}}
  }
}"##;

#[test]
fn a_swagger_20_document_reads_into_the_model() {
    let s = parse(SWAGGER.as_bytes(), "https://pets.example.test/swagger.json").unwrap();
    assert_eq!(s.version, SpecVersion::Swagger2);
    assert_eq!(
        s.servers,
        [
            "http://pets.example.test:8080/v2",
            "https://pets.example.test:8080/v2"
        ]
    );
    assert_eq!(
        s.schemes["key"],
        SecurityScheme::ApiKey {
            name: "api_key".into(),
            location: KeyLocation::Query
        }
    );
    assert_eq!(s.schemes["basic"], SecurityScheme::Basic);
    assert_eq!(s.schemes["oauth"], SecurityScheme::OAuth2);
    assert!(s.root_security.is_none());

    let get = op(&s, "GET /pets/{petId}");
    assert_eq!(get.parameters[0].value.as_deref(), Some("42"));
    let base = base_url(&s, None, None).unwrap();
    assert_eq!(base.as_str(), "https://pets.example.test:8080/v2");
    assert_eq!(
        get.url(&base).unwrap().as_str(),
        "https://pets.example.test:8080/v2/pets/42"
    );

    let put = op(&s, "PUT /pets/{petId}");
    let body = put.body.as_ref().unwrap();
    assert_eq!(body.content_type, "application/json");
    // Pet -> Tag -> Pet: the cycle stops with a placeholder.
    assert_eq!(body.example, json!({"name": "Rex", "tag": {"pet": null}}));
    assert!(put.parameters.iter().all(|p| p.name != "body"));

    let photo = op(&s, "POST /pets/{petId}/photo").body.as_ref().unwrap();
    assert_eq!(photo.content_type, "multipart/form-data");
    assert_eq!(photo.example, json!({"file": "test", "caption": "hi"}));
    let form = op(&s, "POST /pets").body.as_ref().unwrap();
    assert_eq!(form.content_type, "application/x-www-form-urlencoded");
    assert_eq!(form.example, json!({"name": "test"}));

    let list = op(&s, "GET /pets");
    assert_eq!(list.parameters[0].value.as_deref(), Some("available"));
    assert_eq!(list.security, Declared::Undeclared);
}

#[test]
fn openapi_30_without_servers_has_the_root_server_and_needs_a_base() {
    let s = p("openapi: '3.0.0'\ninfo: {title: x, version: '1'}\npaths: {}\n").unwrap();
    assert_eq!(s.version, SpecVersion::OpenApi30);
    assert_eq!(s.servers, ["/"]);
    assert!(s.operations.is_empty());
    let e = base_url(&s, None, None).unwrap_err().to_string();
    assert!(e.contains("pass BASE_URL"), "{e}");
    let from = Url::parse("https://h.example/docs/openapi.yaml").unwrap();
    assert_eq!(
        base_url(&s, None, Some(&from)).unwrap().as_str(),
        "https://h.example/"
    );
    let given = Url::parse("http://127.0.0.1:9/x").unwrap();
    assert_eq!(base_url(&s, Some(&given), Some(&from)).unwrap(), given);
}

#[test]
fn base_url_prefers_https_and_resolves_relative_servers() {
    let s = p("openapi: 3.0.0\ninfo: {title: x, version: '1'}\nservers: [{url: /api}, {url: 'http://a.test/v1'}, {url: 'https://b.test/v1'}]\npaths: {}\n").unwrap();
    assert_eq!(
        base_url(&s, None, None).unwrap().as_str(),
        "https://b.test/v1"
    );
    let s =
        p("openapi: 3.0.0\ninfo: {title: x, version: '1'}\nservers: [{url: /api}]\npaths: {}\n")
            .unwrap();
    let from = Url::parse("http://h.example:8080/openapi.json").unwrap();
    assert_eq!(
        base_url(&s, None, Some(&from)).unwrap().as_str(),
        "http://h.example:8080/api"
    );
}

#[test]
fn operation_urls_keep_the_base_path_and_encode_path_values() {
    let s = p(r#"
openapi: 3.0.0
info: {title: x, version: '1'}
paths:
  /files/{name}/{undeclared}:
    get:
      parameters:
        - {name: name, in: path, required: true, schema: {type: string, example: "a/b c?"}}
        - {name: q, in: query, schema: {type: string}, example: "x y&z"}
"#)
    .unwrap();
    let o = &s.operations[0];
    for base in ["https://h.test/api", "https://h.test/api/"] {
        assert_eq!(
            o.url(&Url::parse(base).unwrap()).unwrap().as_str(),
            "https://h.test/api/files/a%2Fb%20c%3F/1?q=x+y%26z"
        );
    }
    assert!(o.url(&Url::parse("mailto:x@y").unwrap()).is_err());
}

#[test]
fn a_file_follows_refs_beside_it_and_never_outside() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("api");
    std::fs::create_dir_all(root.join("schemas")).unwrap();
    std::fs::write(
        root.join("spec.yaml"),
        "openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    $ref: 'paths.yaml#/a'\n",
    )
    .unwrap();
    std::fs::write(
        root.join("paths.yaml"),
        "a:\n  post:\n    requestBody:\n      content:\n        application/json:\n          schema: {$ref: 'schemas/pet.yaml#/Pet'}\n    responses: {}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("schemas/pet.yaml"),
        "Pet: {type: object, properties: {name: {type: string, example: Rex}, home: {$ref: '../spec.yaml#/info'}}}\n",
    )
    .unwrap();
    let s = load_file(&root.join("spec.yaml")).unwrap();
    let body = s.operations[0].body.as_ref().unwrap();
    assert_eq!(body.example["name"], json!("Rex"));

    std::fs::write(dir.path().join("secret.yaml"), "a: {get: {}}\n").unwrap();
    for bad in [
        "../secret.yaml#/a",
        "/etc/passwd#/a",
        "https://evil.test/x.yaml#/a",
    ] {
        std::fs::write(
            root.join("spec.yaml"),
            format!("openapi: 3.0.0\ninfo: {{title: x, version: '1'}}\npaths:\n  /a:\n    $ref: '{bad}'\n"),
        )
        .unwrap();
        let e = load_file(&root.join("spec.yaml")).unwrap_err().to_string();
        assert!(e.contains("cannot resolve $ref"), "{bad}: {e}");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path().join("secret.yaml"), root.join("link.yaml")).unwrap();
        std::fs::write(
            root.join("spec.yaml"),
            "openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    $ref: 'link.yaml#/a'\n",
        )
        .unwrap();
        let e = load_file(&root.join("spec.yaml")).unwrap_err().to_string();
        assert!(e.contains("leaves the description's directory"), "{e}");
    }
    // Bytes have no directory: the same document is refused with the reason.
    let e = parse(
        b"openapi: 3.0.0\npaths:\n  /a:\n    $ref: 'paths.yaml#/a'\n",
        "u",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("points to another file"), "{e}");
}

// ---- hostile documents ----

fn assert_fast<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "{what} took {:?}",
        t.elapsed()
    );
    out
}

#[test]
fn direct_and_indirect_ref_cycles_are_errors_naming_the_chain() {
    let direct = "openapi: 3.0.0\npaths:\n  /a:\n    $ref: '#/paths/~1a'\n";
    let e = p(direct).unwrap_err().to_string();
    assert_eq!(e, "spec.yaml: $ref cycle: #/paths/~1a -> #/paths/~1a");
    let indirect = r#"
openapi: 3.0.0
components:
  parameters:
    A: {$ref: '#/components/parameters/B'}
    B: {$ref: '#/components/parameters/A'}
paths:
  /a:
    get:
      parameters: [{$ref: '#/components/parameters/A'}]
"#;
    let e = p(indirect).unwrap_err().to_string();
    assert_eq!(
        e,
        "spec.yaml: $ref cycle: #/components/parameters/A -> #/components/parameters/B -> #/components/parameters/A"
    );
    let schemes = "openapi: 3.0.0\ncomponents:\n  securitySchemes:\n    s: {$ref: '#/components/securitySchemes/s'}\n";
    assert!(matches!(p(schemes), Err(SpecError::RefCycle { .. })));
    let dangling = "openapi: 3.0.0\npaths:\n  /a: {$ref: '#/nowhere'}\n";
    let e = p(dangling).unwrap_err().to_string();
    assert!(
        e.contains("cannot resolve $ref #/nowhere: nothing at that pointer"),
        "{e}"
    );
}

#[test]
fn a_schema_ref_cycle_only_makes_a_placeholder() {
    let s = p(r#"
openapi: 3.0.0
components:
  schemas:
    A: {$ref: '#/components/schemas/B'}
    B: {$ref: '#/components/schemas/A'}
    Node: {type: object, properties: {next: {$ref: '#/components/schemas/Node'}}}
paths:
  /a:
    post:
      parameters: [{name: q, in: query, required: true, schema: {$ref: '#/components/schemas/A'}}]
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Node'}}}}
"#)
    .unwrap();
    let o = &s.operations[0];
    assert_eq!(o.parameters[0].value.as_deref(), Some(""));
    let ex = &o.body.as_ref().unwrap().example;
    assert_eq!(ex, &json!({"next": null}));
}

#[test]
fn a_wide_fan_of_refs_is_bounded() {
    // Each level refers to the next twice: 2^40 expansions if nothing stopped them.
    let mut doc = String::from("openapi: 3.0.0\ncomponents:\n  schemas:\n");
    for i in 0..40 {
        doc.push_str(&format!(
            "    S{i}: {{type: object, properties: {{a: {{$ref: '#/components/schemas/S{n}'}}, b: {{$ref: '#/components/schemas/S{n}'}}}}}}\n",
            n = i + 1
        ));
    }
    doc.push_str("    S40: {type: string}\npaths:\n");
    for i in 0..300 {
        doc.push_str(&format!("  /p{i}:\n    post:\n      requestBody: {{content: {{application/json: {{schema: {{$ref: '#/components/schemas/S0'}}}}}}}}\n"));
    }
    let s = assert_fast("ref fan", || p(&doc)).unwrap();
    assert_eq!(s.operations.len(), 300);
}

#[test]
fn a_document_over_32_mib_is_refused_before_parsing() {
    let big = vec![b' '; 100 * 1024 * 1024];
    let e = assert_fast("100 MB bytes", || parse(&big, "big.json")).unwrap_err();
    assert!(matches!(e, SpecError::TooLarge { .. }), "{e}");
    assert!(
        e.to_string().starts_with("big.json: larger than 32 MiB"),
        "{e}"
    );
    drop(big);
    // A file: its size is read from the metadata, the content is never read.
    let f = tempfile::NamedTempFile::new().unwrap();
    f.as_file().set_len(100 * 1024 * 1024).unwrap();
    let e = assert_fast("100 MB file", || load_file(f.path())).unwrap_err();
    assert!(matches!(e, SpecError::TooLarge { .. }), "{e}");
}

#[test]
fn deep_nesting_is_refused_in_json_and_yaml() {
    let json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let e = assert_fast("deep json", || p(&json)).unwrap_err();
    assert!(matches!(e, SpecError::TooDeep { .. }), "{e}");
    assert!(e.to_string().ends_with("nested deeper than 128 levels"));
    let flow = format!(
        "openapi: 3.0.0\nx: {}{}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let e = assert_fast("deep yaml flow", || p(&flow)).unwrap_err();
    assert!(matches!(e, SpecError::TooDeep { .. }), "{e}");
    // Block style without quadratic indentation: "- - - x" nests one sequence per dash.
    let block = format!("x:\n  {}x\n", "- ".repeat(10_000));
    let e = assert_fast("deep yaml block", || p(&block)).unwrap_err();
    assert!(matches!(e, SpecError::TooDeep { .. }), "{e}");
}

#[test]
fn a_yaml_alias_bomb_is_refused() {
    let mut doc =
        String::from("openapi: 3.0.0\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        doc.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    let e = assert_fast("billion laughs", || p(&doc)).unwrap_err();
    assert!(matches!(e, SpecError::YamlBudget { .. }), "{e}");
    // Few aliases of one large string: small events, large value.
    let mut doc = format!(
        "openapi: 3.0.0\nbig: &big {}\n",
        "x".repeat(8 * 1024 * 1024)
    );
    doc.push_str("copies: [");
    doc.push_str(&vec!["*big"; 90].join(", "));
    doc.push_str("]\n");
    let e = assert_fast("aliased large string", || p(&doc)).unwrap_err();
    assert!(matches!(e, SpecError::YamlBudget { .. }), "{e}");
}

#[test]
fn garbage_and_other_documents_are_errors_not_panics() {
    for (bytes, want) in [
        (
            &b"\xff\xfe\x00garbage\x00\x01"[..],
            "YAML syntax error: input is not valid UTF-8",
        ),
        (b"{\"openapi\": ", "JSON syntax error at line 1, column 12"),
        (
            b"a: [unclosed\n",
            "YAML syntax error at line 1, column 4: unclosed bracket",
        ),
        (b"", "not an OpenAPI 3.x or Swagger 2.0 document"),
        (b"[1, 2]", "not an OpenAPI"),
        (b"just text", "not an OpenAPI"),
        (b"{\"info\": {}}", "(no \"openapi\" or \"swagger\" field)"),
        (b"openapi: 4.0.0\n", "unsupported OpenAPI version 4.0.0"),
        (
            b"swagger: '1.2'\n",
            "unsupported OpenAPI version swagger 1.2",
        ),
    ] {
        let e = parse(bytes, "spec.json").unwrap_err().to_string();
        assert!(e.starts_with("spec.json: "), "{e}");
        assert!(e.contains(want), "{want:?} not in {e:?}");
    }
}

#[test]
fn valid_but_empty_or_odd_documents_read_without_error() {
    for doc in [
        "openapi: 3.1.0\n",
        "openapi: 3.1.0\npaths: null\n",
        "openapi: 3.1.0\npaths: []\n",
        "openapi: 3.1.0\npaths: {/a: 7, /b: {get: [1]}, /c: {get: {parameters: 3, security: 5}}}\n",
        "swagger: '2.0'\nhost: 5\nschemes: [1]\n",
        "{openapi: 3.0.0, info: {title: flow}}",
        "openapi: 3.0.0\ncomponents: {securitySchemes: {k: {type: apiKey, in: body}, z: 3}}\n",
        "openapi: 3.0.0\npaths: {/a: {get: {responses: {200: {description: ok}}, tags: [1, t]}}}\n",
    ] {
        let s = p(doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
        assert!(s.operations.len() <= 1, "{doc}");
    }
    let s = p("openapi: 3.0.0\ncomponents: {securitySchemes: {k: {type: apiKey, in: body}}}\n")
        .unwrap();
    assert_eq!(
        s.schemes["k"],
        SecurityScheme::Other("apiKey in \"body\"".into())
    );
}

#[test]
fn inherited_parts_copied_into_many_operations_are_bounded() {
    // One long scheme name required at the root, inherited by every operation.
    let name = "k".repeat(1024 * 1024);
    let mut doc =
        format!("{{\"openapi\": \"3.0.0\", \"security\": [{{\"{name}\": []}}], \"paths\": {{");
    for i in 0..200 {
        if i > 0 {
            doc.push(',');
        }
        doc.push_str(&format!("\"/p{i}\": {{\"get\": {{}}}}"));
    }
    doc.push_str("}}");
    let e = assert_fast("inherited copies", || p(&doc)).unwrap_err();
    assert!(matches!(e, SpecError::Expands { .. }), "{e}");
}
