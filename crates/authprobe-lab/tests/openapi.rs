//! The lab's API table: its descriptions, its router, and the operations left open.

mod support;

use authprobe_lab::{Lab, LabOptions, Profile};
use serde_json::Value;
use support::{Answer, Cert, alice, request, send};

async fn start(profile: Profile, flaws: &[&str], open: &[&str], generated: usize) -> Lab {
    authprobe_lab::start(LabOptions {
        profile,
        flaws: flaws.iter().map(|s| s.to_string()).collect(),
        open_operations: open.iter().map(|s| s.to_string()).collect(),
        generated_operations: generated,
        ..LabOptions::default()
    })
    .await
    .unwrap()
}

/// No certificate is a 403 in the hardened lab (the certificate is checked first), no
/// token a 401.
fn refused(a: &Answer) -> bool {
    [401, 403].contains(&a.status)
}

async fn get(lab: &Lab, path: &str) -> Answer {
    send(lab, None, path, "").await.unwrap()
}

async fn doc(lab: &Lab, path: &str) -> Value {
    let a = get(lab, path).await;
    assert_eq!(a.status, 200, "{path}: {}", a.body);
    a.json()
}

/// Every (method, path template, operation object) of a description.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

fn find<'a>(ops: &'a [(String, String, Value)], id: &str) -> &'a Value {
    &ops.iter()
        .find(|(_, _, o)| o["operationId"] == id)
        .unwrap()
        .2
}

/// The template with each `{param}` filled in, and the required query parameters.
fn concrete(path: &str, op: &Value) -> String {
    let filled: Vec<String> = path
        .split('/')
        .map(|s| {
            if s.starts_with('{') {
                "x-42".to_string()
            } else {
                s.to_string()
            }
        })
        .collect();
    let mut url = filled.join("/");
    let required: Vec<&str> = op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .map(|p| p["name"].as_str().unwrap())
                .collect()
        })
        .unwrap_or_default();
    for (i, name) in required.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(&format!("{name}=2024-05-01"));
    }
    url
}

/// A request with the credentials `op` declares: alice's certificate and bound token,
/// the Basic pair, or the API key.
async fn authorized(lab: &Lab, cert: &Cert, method: &str, url: &str, op: &Value) -> Answer {
    let scheme = op["security"][0]
        .as_object()
        .and_then(|s| s.keys().next().cloned());
    let basic =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &lab.ready.basic);
    let (cert, extra) = match scheme.as_deref() {
        Some("basicAuth") => (None, format!("Authorization: Basic {basic}\r\n")),
        Some("headerKey") => (None, format!("X-API-Key: {}\r\n", lab.ready.api_key)),
        _ => (
            Some(cert),
            format!("Authorization: Bearer {}\r\n", lab.ready.token),
        ),
    };
    request(lab, cert, method, url, &extra).await.unwrap()
}

#[tokio::test]
async fn the_descriptions_parse_and_agree() {
    let lab = start(Profile::Hardened, &[], &[], 0).await;
    assert_eq!(
        lab.ready.openapi_url,
        format!("{}/openapi.json", lab.ready.https_url)
    );
    assert_eq!(
        lab.ready.swagger_url,
        format!("{}/swagger.json", lab.ready.https_url)
    );
    let v3 = doc(&lab, "/openapi.json").await;
    let v2 = doc(&lab, "/swagger.json").await;
    assert_eq!(v3["openapi"], "3.1.0");
    assert_eq!(v2["swagger"], "2.0");
    let ops3 = operations(&v3);
    let ops2 = operations(&v2);
    assert!(ops3.len() >= 50, "{}", ops3.len());
    let mut tags: Vec<&str> = ops3
        .iter()
        .map(|(_, _, o)| o["tags"][0].as_str().unwrap())
        .collect();
    tags.sort();
    tags.dedup();
    assert!(tags.len() >= 5, "{tags:?}");
    let unsafe_ops = ops3.iter().filter(|(m, _, _)| m != "GET").count();
    assert!(unsafe_ops >= 10, "{unsafe_ops}");
    let ids = |ops: &[(String, String, Value)]| {
        let mut v: Vec<String> = ops
            .iter()
            .map(|(m, p, o)| format!("{m} {p} {}", o["operationId"]))
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&ops3), ids(&ops2));
    // No root-level security: every operation declares its own, public ones `[]`.
    assert!(v3.get("security").is_none() && v2.get("security").is_none());
    for (_, _, o) in &ops3 {
        assert!(o.get("security").is_some(), "{o}");
    }
    assert_eq!(find(&ops3, "getStatus")["security"], serde_json::json!([]));
    assert_eq!(lab.ready.public_operations, vec!["getStatus"]);
    assert!(find(&ops3, "getCurrentUser").is_object());
    // References to resolve, in both dialects.
    let text3 = v3.to_string();
    for r in [
        "#/components/parameters/Limit",
        "#/components/schemas/Order",
        "#/components/responses/Unauthorized",
    ] {
        assert!(text3.contains(r), "{r}");
    }
    assert!(v3["components"]["schemas"]["Order"].is_object());
    let text2 = v2.to_string();
    assert!(text2.contains("#/definitions/Order") && text2.contains("#/parameters/Limit"));
    assert!(!text2.contains("#/components/"));
    let body = find(&ops2, "createOrder")["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["in"] == "body")
        .cloned()
        .unwrap();
    assert_eq!(body["required"], true);
    assert_eq!(v2["securityDefinitions"]["bearerAuth"]["in"], "header");
    assert_eq!(
        v3["components"]["securitySchemes"]["mtls"]["type"],
        "mutualTLS"
    );
    assert_eq!(
        v3["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    // The parameters the brief promises a parser will meet.
    let params = find(&ops3, "listOrders")["parameters"].to_string();
    assert!(params.contains("Limit") && params.contains("\"enum\"") && params.contains("Since"));
    assert!(
        v3["components"]["parameters"]["Since"]["schema"]["format"] == "date-time"
            && v3["components"]["parameters"]["Limit"]["schema"]["default"] == 20
    );
    // The YAML is the same document.
    let yaml = get(&lab, "/openapi.yaml").await;
    assert_eq!(yaml.status, 200);
    assert!(yaml.head.contains("content-type: application/yaml"));
    assert_eq!(yaml.body, authprobe_lab::to_yaml(&v3));
    assert!(
        yaml.body.starts_with("\"components\":") || yaml.body.contains("\"openapi\": \"3.1.0\"")
    );
    // Hardened: none of the spec flaws.
    assert_eq!(v3["servers"].as_array().unwrap().len(), 1);
    assert_eq!(v3["servers"][0]["url"], lab.ready.https_url.as_str());
    assert_eq!(v2["schemes"], serde_json::json!(["https"]));
    assert!(
        v3["components"]["securitySchemes"]
            .get("queryKey")
            .is_none()
    );
    assert!(v2["securityDefinitions"].get("queryKey").is_none());
    assert!(!text3.contains("queryKey") && !text3.contains("http://"));
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_enforced() {
    let lab = start(Profile::Hardened, &[], &[], 0).await;
    assert!(lab.ready.unenforced_operations.is_empty());
    let cert = alice(&lab);
    let v3 = doc(&lab, "/openapi.json").await;
    for (method, path, op) in operations(&v3) {
        let id = op["operationId"].as_str().unwrap();
        let url = concrete(&path, &op);
        let a = authorized(&lab, &cert, &method, &url, &op).await;
        assert!(
            (200..300).contains(&a.status),
            "{method} {url}: {}",
            a.status
        );
        if !["getCurrentUser", "login", "loginWithGet"].contains(&id) {
            assert_eq!(a.json()["operation"], id, "{method} {url}");
        }
        let anonymous = request(&lab, None, &method, &url, "").await.unwrap();
        if id == "getStatus" {
            assert_eq!(anonymous.status, 200);
        } else {
            assert!(
                [401, 403].contains(&anonymous.status),
                "{method} {url}: {}",
                anonymous.status
            );
        }
    }
    // Methods the path does not have, and paths the API does not have.
    let a = request(&lab, None, "PATCH", "/api/v1/orders", "")
        .await
        .unwrap();
    assert_eq!(a.status, 405);
    assert!(
        a.head.contains("\nallow: get, post, head, options"),
        "{}",
        a.head
    );
    let a = request(&lab, None, "OPTIONS", "/api/v1/orders/7", "")
        .await
        .unwrap();
    assert_eq!(a.status, 204);
    assert_eq!(get(&lab, "/api/v1/orders/7/nothing").await.status, 404);
    assert_eq!(get(&lab, "/api/v1/orders//items").await.status, 404);
    // A literal segment wins over a parameter; the parameter's value is echoed.
    let auth = format!("Authorization: Bearer {}\r\n", lab.ready.token);
    let a = send(&lab, Some(&cert), "/api/v1/reports/r-7", &auth)
        .await
        .unwrap();
    assert_eq!(a.json()["operation"], "getReport");
    assert_eq!(a.json()["params"]["reportId"], "r-7");
    assert_eq!(a.json()["item"]["id"], "r-7");
    assert_eq!(a.json()["user"], "alice");
    let a = send(
        &lab,
        Some(&cert),
        "/api/v1/reports/summary?from=2024-01-01",
        &auth,
    )
    .await
    .unwrap();
    assert_eq!(a.json()["operation"], "getReportSummary");
    // /api/v1/me answers as before.
    let a = send(&lab, Some(&cert), "/api/v1/me", &auth).await.unwrap();
    assert_eq!(a.json()["account"]["id"], "acct-1001");
    let a = request(&lab, Some(&cert), "POST", "/api/v1/me", &auth)
        .await
        .unwrap();
    assert_eq!(a.status, 405);
}

#[tokio::test]
async fn auth_missing_opens_its_four_operations_and_no_other() {
    const FOUR: [(&str, &str); 4] = [
        ("listProjects", "/api/v1/projects"),
        ("getInvoice", "/api/v1/invoices/inv-9"),
        (
            "searchAuditEvents",
            "/api/v1/audit/events?limit=5&severity=critical",
        ),
        ("listOrderItems", "/api/v1/orders/o-1/items"),
    ];
    assert_eq!(
        authprobe_lab::AUTH_MISSING_OPERATIONS,
        FOUR.map(|(id, _)| id)
    );
    let open = start(Profile::Hardened, &["auth.missing"], &[], 0).await;
    let mut expected: Vec<&str> = vec!["getCurrentUser"];
    expected.extend(FOUR.map(|(id, _)| id));
    let mut listed = open.ready.unenforced_operations.clone();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
    let shut = start(Profile::Hardened, &[], &[], 0).await;
    for (id, path) in FOUR {
        let a = get(&open, path).await;
        assert_eq!(a.status, 200, "{path}");
        assert_eq!(a.json()["operation"], id);
        assert_eq!(a.json()["user"], "anonymous");
        // Any request: a bad credential is not even read.
        let bad = send(&open, None, path, "Authorization: Bearer nope\r\n")
            .await
            .unwrap();
        assert_eq!(bad.status, 200, "{path}");
        assert!(refused(&get(&shut, path).await), "{path}");
    }
    // The other operations stay enforced under the flaw.
    for path in ["/api/v1/orders", "/api/v1/invoices", "/api/v1/projects/p-1"] {
        assert!(refused(&get(&open, path).await), "{path}");
    }
    // /api/v1/me behaves as it always did under auth.missing.
    let me = get(&open, "/api/v1/me").await;
    assert_eq!(
        (me.status, me.json()["user"].clone()),
        (200, "anonymous".into())
    );
}

#[tokio::test]
async fn open_operations_are_unenforced_whatever_the_flaws() {
    let lab = start(Profile::Hardened, &[], &["getOrder", "createOrder"], 0).await;
    assert_eq!(
        lab.ready.unenforced_operations,
        vec!["createOrder", "getOrder"]
    );
    assert_eq!(get(&lab, "/api/v1/orders/o-5").await.status, 200);
    let a = request(&lab, None, "POST", "/api/v1/orders", "")
        .await
        .unwrap();
    assert_eq!(a.status, 201);
    assert!(refused(&get(&lab, "/api/v1/orders").await));
    for bad in ["noSuchOperation", "getStatus", "getCurrentUser", "login"] {
        let err = authprobe_lab::start(LabOptions {
            open_operations: vec![bad.into()],
            ..LabOptions::default()
        })
        .await
        .err()
        .unwrap_or_else(|| panic!("{bad} accepted"));
        assert!(err.to_string().contains(bad), "{err}");
    }
}

#[tokio::test]
async fn the_public_operation_answers_everyone_in_every_profile() {
    for profile in [Profile::Hardened, Profile::Vulnerable] {
        let lab = start(profile, &[], &[], 0).await;
        let a = get(&lab, "/api/v1/status").await;
        assert_eq!(a.status, 200);
        assert_eq!(a.json()["operation"], "getStatus");
        assert!(
            !lab.ready
                .unenforced_operations
                .contains(&"getStatus".into())
        );
        assert_eq!(lab.ready.public_operations, vec!["getStatus"]);
    }
}

#[tokio::test]
async fn spec_flaws_show_in_the_documents_of_the_vulnerable_profile() {
    let lab = start(Profile::Vulnerable, &[], &[], 0).await;
    for f in [
        "spec.apikey_in_query",
        "spec.cleartext_server",
        "spec.security_undeclared",
    ] {
        assert!(lab.ready.flaws.contains(&f.to_string()), "{f}");
    }
    let v3 = doc(&lab, "/openapi.json").await;
    let v2 = doc(&lab, "/swagger.json").await;
    let urls: Vec<&str> = v3["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        vec![lab.ready.https_url.as_str(), lab.ready.http_url.as_str()]
    );
    assert_eq!(v2["schemes"], serde_json::json!(["https", "http"]));
    let ops3 = operations(&v3);
    let ops2 = operations(&v2);
    let query_key = serde_json::json!({ "type": "apiKey", "in": "query", "name": "api_key" });
    assert_eq!(v3["components"]["securitySchemes"]["queryKey"], query_key);
    assert_eq!(v2["securityDefinitions"]["queryKey"], query_key);
    for ops in [&ops3, &ops2] {
        assert_eq!(
            find(ops, "exportReports")["security"],
            serde_json::json!([{ "queryKey": [] }])
        );
        assert!(find(ops, "listTeamMembers").get("security").is_none());
    }
    assert!(v3.get("security").is_none() && v2.get("security").is_none());
    // The key is taken from the query string, without any other credential.
    let key = &lab.ready.api_key;
    let a = get(&lab, &format!("/api/v1/reports/export?api_key={key}")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["authenticated_by"], serde_json::json!(["api_key"]));
    assert_eq!(
        get(&lab, "/api/v1/reports/export?api_key=wrong")
            .await
            .status,
        401
    );
    // The undeclared operation's route stays enforced.
    assert!(refused(&get(&lab, "/api/v1/teams/t-1/members").await));
    // The plain listener serves the app, descriptions included (tls.plaintext_http).
    let plain = plain_get(&lab, "/openapi.json").await;
    assert!(plain.starts_with("HTTP/1.1 200"), "{plain}");
}

#[tokio::test]
async fn without_the_flaw_the_api_key_is_a_header() {
    let lab = start(Profile::Hardened, &[], &[], 0).await;
    let key = &lab.ready.api_key;
    assert!(key.len() >= 20);
    let v3 = doc(&lab, "/openapi.json").await;
    let ops = operations(&v3);
    assert_eq!(
        find(&ops, "exportReports")["security"],
        serde_json::json!([{ "headerKey": [] }])
    );
    assert_eq!(
        find(&ops, "listTeamMembers")["security"],
        serde_json::json!([{ "bearerAuth": [] }])
    );
    // Without the flaw a key in the URL is no credential: the bearer check refuses.
    let url = format!("/api/v1/reports/export?api_key={key}");
    assert!(refused(&get(&lab, &url).await));
    let a = send(
        &lab,
        None,
        "/api/v1/reports/export",
        &format!("X-API-Key: {key}\r\n"),
    )
    .await
    .unwrap();
    assert_eq!(a.status, 200);
    let a = send(&lab, None, "/api/v1/reports/export", "X-API-Key: wrong\r\n")
        .await
        .unwrap();
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn a_thousand_generated_operations() {
    let lab = start(Profile::Hardened, &[], &[], 1000).await;
    let v3 = doc(&lab, "/openapi.json").await;
    let ops = operations(&v3);
    assert!(ops.len() >= 1050, "{}", ops.len());
    assert_eq!(
        find(&ops, "gen999")["tags"],
        serde_json::json!(["generated"])
    );
    assert!(v3["paths"]["/api/v1/gen/999"]["get"].is_object());
    assert_eq!(
        operations(&doc(&lab, "/swagger.json").await).len(),
        ops.len()
    );
    let cert = alice(&lab);
    let auth = format!("Authorization: Bearer {}\r\n", lab.ready.token);
    let a = send(&lab, Some(&cert), "/api/v1/gen/999", &auth)
        .await
        .unwrap();
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["operation"], "gen999");
    assert!(refused(&get(&lab, "/api/v1/gen/999").await));
    assert_eq!(get(&lab, "/api/v1/gen/1000").await.status, 404);
}

/// GET over the plain listener; the raw answer.
async fn plain_get(lab: &Lab, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = lab.ready.http_url.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tcp.read_to_end(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf).to_string()
}
