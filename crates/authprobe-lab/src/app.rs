//! The lab's HTTP application: routing, authentication and the switchable flaws.
//!
//! The hardened behaviour follows what a careful team deploys (RFC 8725 JWT validation,
//! client certificates required and mapped to users, HSTS, HTTPS only). Each flaw is the
//! smallest change that reproduces a misconfiguration seen in real deployments; the code
//! for a flaw sits next to the hardened branch it weakens, so a reader sees both.

use crate::flaws::Flaws;
use crate::jwt::{self, JwtConfig};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, LOCATION};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

pub const PROTECTED_PATH: &str = "/api/v1/me";
pub const ADMIN_PATH: &str = "/api/v1/admin";
pub const LOGIN_PATH: &str = "/api/v1/login";
pub const ISSUER: &str = "https://lab.authprobe.test";
pub const AUDIENCE: &str = "authprobe-lab-api";

/// What the transport established about the caller before any HTTP byte was read.
#[derive(Clone, Debug, Default)]
pub struct ConnInfo {
    pub tls: bool,
    /// The CN of a client certificate that passed the TLS layer's verification.
    pub client_cn: Option<String>,
    /// SHA-256 of that certificate's DER, base64url (RFC 8705 `x5t#S256`).
    pub client_x5t: Option<String>,
}

pub struct User {
    pub password: String,
    pub role: &'static str,
}

pub struct AppState {
    pub flaws: Flaws,
    pub users: HashMap<String, User>,
    pub jwt: JwtConfig,
    pub jwks: Value,
    pub https_base: String,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn random_id() -> String {
    let bytes: [u8; 12] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl AppState {
    /// Issues an access token for `user`, bound to the certificate thumbprint when given.
    pub fn issue_token(&self, user: &str, x5t: Option<&str>) -> anyhow::Result<String> {
        let role = self.users.get(user).map(|u| u.role).unwrap_or("user");
        jwt::issue(&self.jwt, &jwt::claims_for(&self.flaws, user, role, x5t))
    }
}

pub fn jwks_for(public_raw: &[u8]) -> Value {
    // An uncompressed P-256 point: 0x04 || x (32 bytes) || y (32 bytes).
    let (x, y) = if public_raw.len() == 65 {
        (&public_raw[1..33], &public_raw[33..65])
    } else {
        (&public_raw[..0], &public_raw[..0])
    };
    json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": jwt::KID_EC,
        "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
    }]})
}

type Resp = Response<Full<Bytes>>;

struct Reply<'a> {
    state: &'a AppState,
    conn: &'a ConnInfo,
}

impl Reply<'_> {
    fn json(&self, status: StatusCode, mut body: Value) -> Resp {
        let request_id = random_id();
        if let Value::Object(map) = &mut body {
            map.insert("request_id".into(), Value::String(request_id.clone()));
        }
        let bytes = serde_json::to_vec_pretty(&body).unwrap_or_default();
        let mut resp = Response::new(Full::new(Bytes::from(bytes)));
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.insert("cache-control", HeaderValue::from_static("no-store"));
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            h.insert("x-request-id", v);
        }
        if self.conn.tls && !self.state.flaws.hsts_missing {
            h.insert(
                "strict-transport-security",
                HeaderValue::from_static("max-age=63072000; includeSubDomains"),
            );
        }
        for cookie in self.cookies() {
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                h.append("set-cookie", v);
            }
        }
        resp
    }

    /// Every answer starts an (anonymous) session, as express-session with
    /// `saveUninitialized` or a PHP session does. Hardened: the session cookie carries
    /// Secure, HttpOnly and SameSite=Strict and, like `cookie.secure: true`, is only
    /// issued on requests the app believes are HTTPS; so is the CSRF cookie.
    fn cookies(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.state.flaws.has("tls.insecure_cookie") {
            // Flaw: the session cookie is issued with no attribute at all, over any
            // transport.
            out.push(format!("lab_session={}; Path=/", random_id()));
        } else if self.conn.tls {
            out.push(format!(
                "lab_session={}; Path=/; Secure; HttpOnly; SameSite=Strict",
                random_id()
            ));
        }
        if self.conn.tls {
            // Double-submit CSRF token: scripts must read it, so no HttpOnly.
            out.push(format!(
                "lab_csrf={}; Path=/; Secure; SameSite=Strict",
                random_id()
            ));
        }
        out
    }

    fn error(&self, status: StatusCode, code: &str, challenge: Option<&'static str>) -> Resp {
        let mut resp = self.json(status, json!({ "error": code }));
        if let Some(c) = challenge {
            resp.headers_mut()
                .insert("www-authenticate", HeaderValue::from_static(c));
        }
        resp
    }

    /// The protected resource: who the caller is, and the account data it may see.
    fn identity(&self, user: &str, role: &str, via: &[&str]) -> Resp {
        self.json(
            StatusCode::OK,
            json!({
                "user": user,
                "role": role,
                "authenticated_by": via,
                "account": {
                    "id": "acct-1001",
                    "name": "Example Logistics Ltd",
                    "plan": "enterprise",
                    "api_quota_per_day": 100000,
                    "regions": ["eu-west-1", "us-east-2"],
                    "billing_contact": "billing@example-logistics.test"
                },
                "served_at": humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            }),
        )
    }
}

const CHALLENGE: &str = "Bearer realm=\"authprobe-lab\"";
const CHALLENGE_INVALID: &str = "Bearer realm=\"authprobe-lab\", error=\"invalid_token\"";

/// Entry point for every request that reached the application.
pub async fn handle<B>(state: &AppState, conn: &ConnInfo, req: &Request<B>) -> Resp {
    let r = Reply { state, conn };
    let path = req.uri().path();
    match path {
        "/health" => r.json(StatusCode::OK, json!({ "status": "ok" })),
        "/.well-known/jwks.json" => r.json(StatusCode::OK, state.jwks.clone()),
        LOGIN_PATH => login(&r, req),
        PROTECTED_PATH => protected(&r, req, None).await,
        ADMIN_PATH => protected(&r, req, Some("admin")).await,
        _ => r.error(StatusCode::NOT_FOUND, "not_found", None),
    }
}

/// The plain-HTTP listener: redirects to HTTPS unless `tls.plaintext_http` is on.
pub async fn handle_plain<B>(state: &AppState, req: &Request<B>) -> Resp {
    let mut conn = ConnInfo::default();
    if state.flaws.has("tls.forwarded_proto_trusted") && says_https(req) {
        // Flaw: "secure" is decided from the forwarded-protocol headers of whoever
        // connects (Express `trust proxy: true`, Django's SECURE_PROXY_SSL_HEADER with
        // the app reachable directly), so a plain-HTTP client that claims HTTPS is
        // neither redirected nor refused Secure cookies.
        conn.tls = true;
        return handle(state, &conn, req).await;
    }
    if state.flaws.plaintext_http {
        return handle(state, &conn, req).await;
    }
    let target = format!(
        "{}{}",
        state.https_base,
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::MOVED_PERMANENTLY;
    if let Ok(v) = HeaderValue::from_str(&target) {
        resp.headers_mut().insert(LOCATION, v);
    }
    resp
}

fn says_https<B>(req: &Request<B>) -> bool {
    let h = req.headers();
    let xfp = h
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let fwd = h
        .get("forwarded")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split([';', ',']).any(|p| {
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("proto")
                        && v.trim().trim_matches('"').eq_ignore_ascii_case("https")
                })
            })
        });
    xfp || fwd
}

fn login<B>(r: &Reply, req: &Request<B>) -> Resp {
    if req.method() != Method::POST {
        return r.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None);
    }
    let creds = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let Some((user, pass)) = creds.as_deref().and_then(|c| c.split_once(':')) else {
        return r.error(
            StatusCode::UNAUTHORIZED,
            "credentials_required",
            Some("Basic realm=\"authprobe-lab\""),
        );
    };
    match r.state.users.get(user) {
        Some(u) if constant_time_eq(u.password.as_bytes(), pass.as_bytes()) => {
            match r.state.issue_token(user, r.conn.client_x5t.as_deref()) {
                Ok(token) => r.json(
                    StatusCode::OK,
                    json!({ "access_token": token, "token_type": "Bearer", "expires_in": 3600 }),
                ),
                Err(_) => r.error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None),
            }
        }
        _ => r.error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            Some("Basic realm=\"authprobe-lab\""),
        ),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const OVERRIDE_HEADERS: [&str; 3] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

async fn protected<B>(r: &Reply<'_>, req: &Request<B>, need_role: Option<&str>) -> Resp {
    let flaws = &r.state.flaws;
    let method = req.method().clone();

    if flaws.method_bypass {
        // Flaw: the access rule is written for GET only, and it reads the method after a
        // method-override middleware ran, while the router still dispatches on the real
        // method. Anything that does not look like GET to the rule skips authentication.
        let overridden = OVERRIDE_HEADERS
            .iter()
            .find_map(|h| req.headers().get(*h))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Method::from_bytes(v.trim().to_ascii_uppercase().as_bytes()).ok());
        let effective = overridden.unwrap_or_else(|| method.clone());
        if effective != Method::GET {
            let user = r.conn.client_cn.as_deref().unwrap_or("anonymous");
            return r.identity(user, "user", &[]);
        }
    } else {
        match method {
            Method::GET | Method::HEAD => {}
            Method::OPTIONS => {
                let mut resp = Response::new(Full::new(Bytes::new()));
                *resp.status_mut() = StatusCode::NO_CONTENT;
                resp.headers_mut()
                    .insert("allow", HeaderValue::from_static("GET, HEAD, OPTIONS"));
                return resp;
            }
            _ => return r.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None),
        }
    }

    let auth_header = req.headers().get("authorization");
    if flaws.auth_missing && auth_header.is_none() && r.conn.client_cn.is_none() {
        // Flaw: the view allows anonymous access (DRF `AllowAny`), so authentication
        // classes only run when a credential is presented; no credential, no check.
        return r.identity("anonymous", "user", &[]);
    }

    // Hardened: the TLS layer requests a certificate optionally (so /health works) and
    // verifies any certificate offered; the application insists on one for this route.
    let Some(cert_user) = r.conn.client_cn.as_deref() else {
        return r.error(StatusCode::FORBIDDEN, "client_certificate_required", None);
    };
    if !r.state.users.contains_key(cert_user) {
        return r.error(StatusCode::FORBIDDEN, "unknown_client_certificate", None);
    }

    let header_token = auth_header
        .and_then(|v| v.to_str().ok())
        .and_then(|a| strip_scheme(a, "Bearer"));
    let query_token = if flaws.has("jwt.token_in_url") && auth_header.is_none() {
        // Flaw: the token is also read from the query string, where logs, proxies and
        // browser history keep it.
        query_param(
            req.uri().query().unwrap_or(""),
            &["access_token", "token", "jwt"],
        )
    } else {
        None
    };
    let Some(token) = header_token.map(str::to_string).or(query_token) else {
        return r.error(StatusCode::UNAUTHORIZED, "token_required", Some(CHALLENGE));
    };

    let claims = match jwt::validate(flaws, &r.state.jwt, &token).await {
        Ok(c) => c,
        Err(e) if flaws.malformed_token_accepted && e.malformed => {
            // Flaw: a decode error on a token that is not even a JWT is treated as
            // "no token", and the request falls back to the certificate's identity.
            let role = r
                .state
                .users
                .get(cert_user)
                .map(|u| u.role)
                .unwrap_or("user");
            return r.identity(cert_user, role, &["mtls"]);
        }
        Err(_) => {
            return r.error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                Some(CHALLENGE_INVALID),
            );
        }
    };
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    let role = claims.get("role").and_then(Value::as_str).unwrap_or("user");
    if sub != cert_user {
        return r.error(StatusCode::FORBIDDEN, "token_certificate_mismatch", None);
    }
    if let Some(need) = need_role
        && role != need
    {
        return r.error(StatusCode::FORBIDDEN, "insufficient_role", None);
    }
    r.identity(sub, role, &["mtls", "jwt"])
}

fn query_param(query: &str, names: &[&str]) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        names.contains(&k).then(|| v.to_string())
    })
}

fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, rest) = value.split_once(' ').unwrap_or((value, ""));
    s.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}
