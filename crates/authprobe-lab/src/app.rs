//! The lab's HTTP application: routing, authentication and the switchable flaws.
//!
//! The hardened behaviour follows what a careful team deploys (RFC 8725 JWT validation,
//! client certificates required and mapped to users, HSTS, HTTPS only). Each flaw is the
//! smallest change that reproduces a misconfiguration seen in real deployments; the code
//! for a flaw sits next to the hardened branch it weakens, so a reader sees both.

use crate::api::{self, Api, Auth, Operation, Route, Verb};
use crate::flaws::Flaws;
use crate::jwt::{self, JwtConfig};
use crate::modes::Modes;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, LOCATION};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const PROTECTED_PATH: &str = "/api/v1/me";
pub const ADMIN_PATH: &str = "/api/v1/admin";
pub const LOGIN_PATH: &str = "/api/v1/login";
pub const ISSUER: &str = "https://lab.authprobe.test";
pub const AUDIENCE: &str = "authprobe-lab-api";
/// Where every listener publishes the lab CA's CRL (a CRL distribution point is plain
/// HTTP by convention: the CRL is signed, and fetching it must not need TLS).
pub const CRL_PATH: &str = "/pki/crl.pem";

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
    pub modes: Modes,
    pub users: HashMap<String, User>,
    pub jwt: JwtConfig,
    pub jwks: Value,
    pub https_base: String,
    /// The lab CA's CRL, PEM.
    pub crl_pem: String,
    /// The API's operations and router (see `api.rs`).
    pub api: Api,
    /// The key of the API-key scheme (`X-API-Key`, or `api_key` in the query under
    /// `spec.apikey_in_query`).
    pub api_key: String,
    /// The API descriptions, rendered once at start.
    pub docs: Docs,
    /// Recent failed logins per submitted username (known or not), for throttling.
    pub failures: Mutex<HashMap<String, Vec<Instant>>>,
    pub stats: Stats,
    /// How long every answer takes ([`crate::LabOptions::latency`]).
    pub latency: std::time::Duration,
}

/// The served API descriptions.
pub struct Docs {
    pub openapi_json: Bytes,
    pub openapi_yaml: Bytes,
    pub swagger_json: Bytes,
}

/// An operation of the API table being answered, with its path parameters.
pub struct OpCall<'a> {
    pub op: &'a Operation,
    pub params: Vec<(String, String)>,
}

/// What the lab received, so tests can prove the scanner kept to its bounds.
#[derive(Default)]
pub struct Stats {
    pub requests: AtomicUsize,
    /// Requests being answered now on the HTTPS listener, and the most there ever were at
    /// once: what a per-host (host:port) concurrency limit of the scanner keeps down.
    pub in_flight: Gauge,
    /// Open TCP connections (TLS handshakes included), now and at most.
    pub connections: Gauge,
    /// Requests with a method other than GET, HEAD and OPTIONS: a scanner told to change
    /// nothing must leave this at zero.
    pub unsafe_requests: AtomicUsize,
    /// Login requests per submitted username, whatever their outcome.
    pub login_attempts: Mutex<HashMap<String, usize>>,
    /// Login requests per submitted username whose password was checked and was wrong.
    pub failed_logins: Mutex<HashMap<String, usize>>,
    /// Every token the login handed out, so tests can prove none reaches a report.
    pub issued_tokens: Mutex<Vec<String>>,
}

/// A count of things in progress, with its high-water mark.
#[derive(Default)]
pub struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl Gauge {
    /// Counts one until the returned guard is dropped.
    pub fn enter(&self) -> GaugeGuard<'_> {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(n, Ordering::SeqCst);
        GaugeGuard(self)
    }
    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

pub struct GaugeGuard<'a>(&'a Gauge);

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Failed logins per username within [`THROTTLE_WINDOW`] before the login answers 429
/// (django-axes or a DRF `ScopedRateThrottle` keyed on the username do the same). Ten
/// leaves room for honest typos; any brute force is slowed to ten guesses per window.
pub const THROTTLE_FAILURES: usize = 10;
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(300);
/// What the password hasher costs when it runs (PBKDF2 with Django's default iterations
/// takes this order of time on a server core).
const SLOW_HASH: Duration = Duration::from_millis(40);

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

#[derive(Clone, Copy)]
struct Reply<'a> {
    state: &'a AppState,
    conn: &'a ConnInfo,
    /// Mode `errors-200`: answers in GraphQL's envelope (the protected routes only).
    graphql: bool,
    /// The operation of the API table being answered; `None` on `/api/v1/me` and the
    /// admin route, whose answer is the caller's identity.
    op: Option<&'a OpCall<'a>>,
}

impl Reply<'_> {
    fn json(&self, status: StatusCode, body: Value) -> Resp {
        let (status, mut body) = if self.graphql {
            graphql_envelope(status, body)
        } else {
            (status, body)
        };
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
        self.challenged(self.json(status, json!({ "error": code })), challenge)
    }

    /// Adds the challenge to a 401; an `errors-200` answer is no longer one and takes none.
    fn challenged(&self, mut resp: Resp, challenge: Option<&'static str>) -> Resp {
        if let Some(c) = challenge
            && resp.status() == StatusCode::UNAUTHORIZED
        {
            resp.headers_mut()
                .insert("www-authenticate", HeaderValue::from_static(c));
        }
        resp
    }

    /// DRF's answer when no authentication class found a credential.
    fn not_provided(&self, status: StatusCode, challenge: Option<&'static str>) -> Resp {
        let body = json!({ "detail": NOT_PROVIDED });
        self.challenged(self.json(status, body), challenge)
    }

    /// No credential at all. In mode `status-403-missing` DRF's 403, the status it gives
    /// when its first authentication class has no `authenticate_header`; otherwise a 401,
    /// in DRF's words where the mode's app is DRF's, and without a Bearer challenge in
    /// `cert-only`, whose app knows no Bearer scheme.
    fn missing(&self) -> Resp {
        let modes = &self.state.modes;
        if modes.status_403_missing {
            self.not_provided(StatusCode::FORBIDDEN, None)
        } else if modes.cert_only {
            self.not_provided(StatusCode::UNAUTHORIZED, None)
        } else if modes.token_first {
            self.not_provided(StatusCode::UNAUTHORIZED, Some(CHALLENGE))
        } else {
            self.error(StatusCode::UNAUTHORIZED, "token_required", Some(CHALLENGE))
        }
    }

    /// The protected resource: who the caller is, and the account data it may see; on an
    /// operation of the API table, the operation's resource.
    fn identity(&self, user: &str, role: &str, via: &[&str]) -> Resp {
        if let Some(call) = self.op {
            let mut body = api::answer(call.op, &call.params, user, via);
            body["role"] = json!(role);
            return self.json(api::success_status(call.op), body);
        }
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
const NOT_PROVIDED: &str = "Authentication credentials were not provided.";

/// Mode `errors-200`: a GraphQL server answers 200 whatever happened, success as
/// `{"data": ...}` and a refusal as `{"data": null, "errors": [...]}` with Apollo's codes
/// (UNAUTHENTICATED for 401, FORBIDDEN for 403); what else the refusal said travels in
/// `extensions`, as Apollo's debug output does. Other statuses (405, 404) come from the
/// HTTP layer in front of the resolver and stay as they are.
fn graphql_envelope(status: StatusCode, body: Value) -> (StatusCode, Value) {
    if status.is_success() {
        return (status, json!({ "data": body }));
    }
    let code = match status.as_u16() {
        401 => "UNAUTHENTICATED",
        403 => "FORBIDDEN",
        400 | 422 => "BAD_USER_INPUT",
        _ => return (status, body),
    };
    let mut extensions = serde_json::Map::new();
    extensions.insert("code".into(), json!(code));
    let mut message = status.canonical_reason().unwrap_or("refused").to_string();
    if let Value::Object(map) = body {
        for (k, v) in map {
            match (k.as_str(), v) {
                ("detail" | "msg" | "error", Value::String(m)) => message = m,
                (_, v) => {
                    extensions.insert(k, v);
                }
            }
        }
    }
    let error = json!({ "message": message, "extensions": extensions });
    (StatusCode::OK, json!({ "data": null, "errors": [error] }))
}

/// Entry point for every request that reached the application.
pub async fn handle<B>(state: &AppState, conn: &ConnInfo, req: &Request<B>) -> Resp {
    state.stats.requests.fetch_add(1, Ordering::Relaxed);
    if !matches!(
        *req.method(),
        hyper::Method::GET | hyper::Method::HEAD | hyper::Method::OPTIONS
    ) {
        state.stats.unsafe_requests.fetch_add(1, Ordering::Relaxed);
    }
    let r = Reply {
        state,
        conn,
        graphql: false,
        op: None,
    };
    let graphql = Reply {
        graphql: state.modes.errors_200,
        ..r
    };
    let path = req.uri().path();
    match path {
        "/health" => r.json(StatusCode::OK, json!({ "status": "ok" })),
        "/.well-known/jwks.json" => r.json(StatusCode::OK, state.jwks.clone()),
        CRL_PATH => {
            let mut resp = Response::new(Full::new(Bytes::from(state.crl_pem.clone())));
            resp.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/pkix-crl"),
            );
            resp
        }
        LOGIN_PATH => login(&r, req).await,
        PROTECTED_PATH => protected(&graphql, req, None).await,
        ADMIN_PATH => protected(&graphql, req, Some("admin")).await,
        api::OPENAPI_JSON_PATH => document(&r, req, &state.docs.openapi_json, "application/json"),
        api::OPENAPI_YAML_PATH => document(&r, req, &state.docs.openapi_yaml, "application/yaml"),
        api::SWAGGER_JSON_PATH => document(&r, req, &state.docs.swagger_json, "application/json"),
        _ => operation(r, graphql, req).await,
    }
}

/// An API description: no authentication, GET or HEAD.
fn document<B>(r: &Reply<'_>, req: &Request<B>, body: &Bytes, media_type: &'static str) -> Resp {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = r.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None);
        resp.headers_mut()
            .insert("allow", HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    let mut resp = Response::new(Full::new(body.clone()));
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(media_type));
    if r.conn.tls && !r.state.flaws.hsts_missing {
        h.insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    resp
}

/// The operations of the API table (`api.rs`): routed by method and path template, and
/// authenticated by the same check as `/api/v1/me`, but for the public operation, the
/// unenforced ones and the API key.
async fn operation<B>(r: Reply<'_>, graphql: Reply<'_>, req: &Request<B>) -> Resp {
    let state = r.state;
    let (index, op, params) = match state.api.route(req.method(), req.uri().path()) {
        Route::NotFound => return r.error(StatusCode::NOT_FOUND, "not_found", None),
        Route::Method(verbs) => {
            let mut allow: Vec<&str> = verbs.iter().map(|v| v.as_str()).collect();
            if verbs.contains(&Verb::Get) {
                allow.push("HEAD");
            }
            allow.push("OPTIONS");
            let allow = HeaderValue::from_str(&allow.join(", ")).ok();
            let mut resp = if req.method() == Method::OPTIONS {
                let mut resp = Response::new(Full::new(Bytes::new()));
                *resp.status_mut() = StatusCode::NO_CONTENT;
                resp
            } else {
                r.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None)
            };
            if let Some(allow) = allow {
                resp.headers_mut().insert("allow", allow);
            }
            return resp;
        }
        Route::Op { index, op, params } => (index, op, params),
    };
    let call = OpCall { op, params };
    if op.auth == Auth::Public {
        // Public by design: a health/status view with `permission_classes = [AllowAny]`.
        return r.json(
            StatusCode::OK,
            json!({ "operation": op.id, "status": "ok", "version": "1.0.0" }),
        );
    }
    let g = Reply {
        op: Some(&call),
        ..graphql
    };
    if state.api.unenforced[index] {
        // Flaw `auth.missing` on the operations it names (or `open_operations`): the view
        // was declared with `authentication_classes = []` and `AllowAny` ("internal
        // dashboard data"), so nothing, not even a bad credential, is ever checked.
        return g.identity("anonymous", "user", &[]);
    }
    if op.auth == Auth::ApiKey
        && let Some(resp) = api_key(&g, req)
    {
        return resp;
    }
    protected(&g, req, None).await
}

/// The API-key scheme, when a key is presented: the header always, the query parameter
/// under `spec.apikey_in_query`. `None` when no key came, for the bearer check to decide.
fn api_key<B>(r: &Reply<'_>, req: &Request<B>) -> Option<Resp> {
    let state = r.state;
    let header = req
        .headers()
        .get(api::APIKEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let query = if state.flaws.has("spec.apikey_in_query") {
        // Flaw: the key is read from the URL too (and documented there), so it lands in
        // access logs, proxies and browser history.
        query_param(req.uri().query().unwrap_or(""), &[api::APIKEY_QUERY])
    } else {
        None
    };
    let presented = header.or(query)?;
    if constant_time_eq(presented.as_bytes(), state.api_key.as_bytes()) {
        Some(r.identity("reports-exporter", "service", &["api_key"]))
    } else {
        Some(r.error(StatusCode::UNAUTHORIZED, "invalid_api_key", None))
    }
}

/// The plain-HTTP listener: redirects to HTTPS unless `tls.plaintext_http` is on.
pub async fn handle_plain<B>(state: &AppState, req: &Request<B>) -> Resp {
    let mut conn = ConnInfo::default();
    if req.uri().path() == CRL_PATH {
        return handle(state, &conn, req).await;
    }
    if state.flaws.has("tls.forwarded_proto_trusted") && says_https(req) {
        // Flaw: "secure" is decided from the forwarded-protocol headers of whoever
        // connects (Express `trust proxy: true`, Django's SECURE_PROXY_SSL_HEADER with
        // the app reachable directly), so a plain-HTTP client that claims HTTPS is
        // neither redirected nor refused Secure cookies.
        conn.tls = true;
        return handle(state, &conn, req).await;
    }
    // Flaw `basic.cleartext`: the token endpoint was put in SECURE_REDIRECT_EXEMPT for a
    // legacy client that cannot follow redirects, so Basic passwords arrive in clear.
    let exempt = state.flaws.basic_cleartext && req.uri().path() == LOGIN_PATH;
    if state.flaws.plaintext_http || exempt {
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

fn basic_challenge(flaws: &Flaws) -> &'static str {
    if flaws.realm_leak {
        // Flaw: DRF's `www_authenticate_realm` was set to the host's name and stack, which
        // every unauthenticated caller now reads.
        "Basic realm=\"api-int-03.eu1.corp.internal (Django/4.2.7 gunicorn/21.2.0)\""
    } else {
        "Basic realm=\"authprobe-lab\""
    }
}

fn decode_basic(value: &str) -> Option<(String, String)> {
    let b64 = strip_scheme(value, "Basic")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn bump(map: &Mutex<HashMap<String, usize>>, user: &str) {
    if let Ok(mut m) = map.lock() {
        *m.entry(user.to_string()).or_insert(0) += 1;
    }
}

/// Seconds until `user` may try again, when too many recent logins failed.
fn throttled(state: &AppState, user: &str) -> Option<u64> {
    let mut failures = state.failures.lock().ok()?;
    let list = failures.get_mut(user)?;
    let now = Instant::now();
    list.retain(|t| now.duration_since(*t) < THROTTLE_WINDOW);
    if list.len() < THROTTLE_FAILURES {
        return None;
    }
    let oldest = list.first().copied()?;
    Some(
        THROTTLE_WINDOW
            .saturating_sub(now.duration_since(oldest))
            .as_secs()
            .max(1),
    )
}

fn record_failure(state: &AppState, user: &str) {
    if let Ok(mut failures) = state.failures.lock() {
        failures
            .entry(user.to_string())
            .or_default()
            .push(Instant::now());
    }
}

/// A deliberately cheap stand-in for the password hasher; its cost is the same whatever
/// the input, which is all the hardened comparison needs.
fn hash_password(password: &str) -> [u8; 32] {
    let mut h: [u8; 32] = sha2::Sha256::digest(password.as_bytes()).into();
    for _ in 0..200 {
        h = sha2::Sha256::digest(h).into();
    }
    h
}

async fn password_ok(state: &AppState, user: &str, pass: &str) -> bool {
    if state.flaws.user_enumeration {
        // Flaw: a custom authentication backend returns as soon as the username is
        // unknown and runs the (slow) hasher only for existing users, so the answer time
        // says which usernames exist. The sleep stands for the hash's cost without taking
        // a core from whoever shares the machine.
        let Some(u) = state.users.get(user) else {
            return false;
        };
        tokio::time::sleep(SLOW_HASH).await;
        return constant_time_eq(&hash_password(&u.password), &hash_password(pass));
    }
    // Hardened: unknown users are checked against a dummy password with the same work
    // (what Django's ModelBackend does), so timing is the same for both.
    let (stored, exists) = match state.users.get(user) {
        Some(u) => (u.password.as_str(), true),
        None => ("authprobe-lab-dummy-password", false),
    };
    let same = constant_time_eq(&hash_password(stored), &hash_password(pass));
    same && exists
}

/// The token endpoint, a DRF view with `authentication_classes = [BasicAuthentication]`.
/// It answers GET as well as POST, as Docker-registry-style token endpoints do.
async fn login<B>(r: &Reply<'_>, req: &Request<B>) -> Resp {
    let state = r.state;
    let flaws = &state.flaws;
    if req.method() != Method::POST && req.method() != Method::GET {
        return r.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None);
    }
    let creds = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(decode_basic);
    let Some((user, pass)) = creds else {
        return r.error(
            StatusCode::UNAUTHORIZED,
            "credentials_required",
            Some(basic_challenge(flaws)),
        );
    };
    bump(&state.stats.login_attempts, &user);
    if !flaws.no_lockout
        && let Some(wait) = throttled(state, &user)
    {
        let mut resp = r.error(StatusCode::TOO_MANY_REQUESTS, "throttled", None);
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from(wait));
        return resp;
    }
    if password_ok(state, &user, &pass).await {
        return match state.issue_token(&user, r.conn.client_x5t.as_deref()) {
            Ok(token) => {
                if let Ok(mut issued) = state.stats.issued_tokens.lock() {
                    issued.push(token.clone());
                }
                r.json(
                    StatusCode::OK,
                    json!({ "access_token": token, "token_type": "Bearer", "expires_in": 3600 }),
                )
            }
            Err(_) => r.error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None),
        };
    }
    bump(&state.stats.failed_logins, &user);
    // Flaw `basic.no_lockout`: no throttle class on the view and no lockout backend, so
    // failures are never even counted.
    if !flaws.no_lockout {
        record_failure(state, &user);
    }
    let mut body = json!({ "error": "invalid_credentials" });
    if flaws.realm_leak {
        body["server"] = json!("gunicorn/21.2.0 on api-int-03.eu1.corp.internal (10.20.3.17)");
    }
    let mut resp = r.json(StatusCode::UNAUTHORIZED, body);
    resp.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static(basic_challenge(flaws)),
    );
    resp
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
    } else if r.op.is_none() {
        // An operation of the API table was routed by its declared method already.
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
    let presented = r.conn.client_x5t.as_deref();
    if r.state.modes.cert_only {
        return cert_only(r, need_role);
    }
    if anonymous_allowed(r) && auth_header.is_none() && presented.is_none() {
        // Flaw: the view allows anonymous access (DRF `AllowAny`), so authentication
        // classes only run when a credential is presented; no credential, no check.
        return r.identity("anonymous", "user", &[]);
    }
    let role_of = |u: &str| r.state.users.get(u).map(|x| x.role).unwrap_or("user");
    // The user the certificate's CN names, when it names one; what the fallbacks of the
    // flaws below answer as.
    let cert_user = r
        .conn
        .client_cn
        .as_deref()
        .filter(|cn| presented.is_some() && r.state.users.contains_key(*cn));

    // Mode `token-first`: the certificate's mapping is a permission the view checks once
    // the token authenticated the request, so nothing tells a request that lacks a valid
    // token what its certificate was worth.
    let token_first = r.state.modes.token_first;
    let bound = if token_first {
        None
    } else {
        match certificate_gate(r, presented, cert_user) {
            Ok(bound) => bound,
            Err(code) => return r.error(StatusCode::FORBIDDEN, code, None),
        }
    };

    let values: Vec<&str> = req
        .headers()
        .get_all("authorization")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if flaws.scheme_confusion {
        if let Some(resp) = mixed_schemes(r, &values).await {
            if token_first && let Err(code) = certificate_gate(r, presented, cert_user) {
                return r.error(StatusCode::FORBIDDEN, code, None);
            }
            return resp;
        }
    } else if values.len() > 1 {
        // Hardened: two credentials in one request are ambiguous; refuse rather than
        // pick one (RFC 6750 §3.1 invalid_request).
        return r.error(StatusCode::BAD_REQUEST, "invalid_request", None);
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
    let token = header_token.map(str::to_string).or(query_token);
    let optional = flaws.has("auth.token_optional_with_cert");
    // Flaw `auth.token_optional_with_cert`: the authentication classes are
    // `[ClientCertAuthentication, JWTAuthentication]` and the first one to return a user
    // wins, so a mapped certificate is a login of its own; an empty bearer is read as "no
    // token" and falls through to it as well.
    let token = token.filter(|t| !(optional && t.is_empty()));
    let Some(token) = token else {
        if optional && let Some(user) = cert_user {
            return r.identity(user, role_of(user), &["mtls"]);
        }
        return r.missing();
    };

    let claims = match (jwt::validate(flaws, &r.state.jwt, &token).await, cert_user) {
        (Ok(c), _) => c,
        (Err(e), Some(user)) if flaws.malformed_token_accepted && e.malformed => {
            // Flaw: a decode error on a token that is not even a JWT is treated as
            // "no token", and the request falls back to the certificate's identity.
            return r.identity(user, role_of(user), &["mtls"]);
        }
        (Err(e), _) if r.state.modes.status_422_malformed && e.malformed => {
            // Mode `status-422-malformed`: flask-jwt-extended answers PyJWT's DecodeError
            // with 422 and its message; only a token that decodes reaches the signature
            // check and its 401.
            return r.json(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "msg": "Not enough segments" }),
            );
        }
        (Err(e), _) if flaws.verbose_errors => return verbose_token_error(r, e.kind, &token),
        // Mode `token-first`: the JWT class returns None on a bad token instead of raising
        // (a subclass that swallows `InvalidToken`), so DRF says nothing was provided.
        (Err(_), _) if token_first => return r.missing(),
        (Err(_), _) => {
            return r.error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                Some(CHALLENGE_INVALID),
            );
        }
    };
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    let role = claims.get("role").and_then(Value::as_str).unwrap_or("user");
    if r.state.modes.unknown_user_401 && !r.state.users.contains_key(sub) {
        // Mode `unknown-user-401`: simplejwt's `JWTAuthentication.get_user` looks the user
        // up as part of authentication, before any permission or binding is checked, and
        // raises AuthenticationFailed; a validator that skips the signature still does.
        let body = json!({ "detail": "User not found", "code": "user_not_found" });
        return r.challenged(r.json(StatusCode::UNAUTHORIZED, body), Some(CHALLENGE));
    }
    let bound = if token_first {
        match certificate_gate(r, presented, cert_user) {
            Ok(bound) => bound,
            Err(code) => return r.error(StatusCode::FORBIDDEN, code, None),
        }
    } else {
        bound
    };
    if let Some(cert_user) = bound
        && sub != cert_user
    {
        let detail = format!("token subject {sub:?} does not match the client certificate");
        return denied(r, "token_certificate_mismatch", &detail, &token);
    }
    if !r.state.users.contains_key(sub) {
        // With the certificate unmapped (or absent) the token is the only identity left;
        // it still has to name an account.
        let detail = format!("token subject {sub:?} names no user");
        return denied(r, "unknown_user", &detail, &token);
    }
    // Hardened: RFC 8705 §3, the token must be bound to the certificate it arrives with,
    // so a token lifted from one client is useless over another client's connection.
    let cnf = claims
        .get("cnf")
        .and_then(|c| c.get("x5t#S256"))
        .and_then(Value::as_str);
    // Flaw `mtls.token_not_bound`: the issuer writes `cnf` into every token, but the
    // resource server's JWT class never reads it.
    if let Some(x5t) = presented
        && !flaws.has("mtls.token_not_bound")
        && cnf.is_none_or(|c| !constant_time_eq(c.as_bytes(), x5t.as_bytes()))
    {
        let detail = "token cnf x5t#S256 does not match the client certificate";
        return denied(r, "token_not_bound_to_certificate", detail, &token);
    }
    if let Some(need) = need_role
        && role != need
    {
        return r.error(StatusCode::FORBIDDEN, "insufficient_role", None);
    }
    let via: &[&str] = if presented.is_some() {
        &["mtls", "jwt"]
    } else {
        &["jwt"]
    };
    r.identity(sub, role, via)
}

/// Flaw `auth.missing` on the routes it opens: `/api/v1/me` (the operations of the API
/// table it opens never reach the authentication check at all).
fn anonymous_allowed(r: &Reply<'_>) -> bool {
    r.state.flaws.auth_missing && r.op.is_none()
}

/// Hardened: the TLS layer requests a certificate optionally (so /health works) and
/// verifies any certificate offered; the application insists on one for this route, and
/// its subject must name a user. `Ok` carries who the token must then be issued to, `Err`
/// the code of the 403 that refuses the request.
fn certificate_gate<'a>(
    r: &Reply<'a>,
    presented: Option<&str>,
    cert_user: Option<&'a str>,
) -> Result<Option<&'a str>, &'static str> {
    let flaws = &r.state.flaws;
    match presented {
        // Flaw `mtls.not_required`: the proxy's `ssl_verify_client optional` was meant to
        // be paired with a check on $ssl_client_verify that nobody wrote, so a request
        // without a certificate goes on with its token alone.
        None if flaws.has("mtls.not_required") => Ok(None),
        None => Err("client_certificate_required"),
        // Flaw `mtls.identity_not_mapped`: "the CA only issues to our people", so any
        // certificate that chains to it is enough and who the caller is comes from the
        // token alone: the subject is never looked up nor compared.
        Some(_) if flaws.has("mtls.identity_not_mapped") => Ok(None),
        Some(_) => match cert_user {
            Some(u) => Ok(Some(u)),
            None => Err("unknown_client_certificate"),
        },
    }
}

/// The account an unmapped certificate lands on under `mtls.identity_not_mapped` in mode
/// `cert-only`: the `default` line of the proxy's `map $ssl_client_s_dn_cn $remote_user`.
const DEFAULT_CERT_USER: &str = "svc-readonly";

/// Mode `cert-only`: an app behind nginx/Apache/HAProxy whose only authentication class
/// maps the verified certificate's CN to a user (DRF's `RemoteUserAuthentication` with
/// `create_unknown_user = False`); the Authorization header is never read.
fn cert_only(r: &Reply<'_>, need_role: Option<&str>) -> Resp {
    let flaws = &r.state.flaws;
    if r.conn.client_x5t.is_none() {
        // Flaw `mtls.not_required` (as `auth.missing`): the proxy's `ssl_verify_client
        // optional` was relaxed for /health, and the view's permission was left to the
        // proxy (`AllowAny`), so without a certificate REMOTE_USER is empty and the view
        // serves Django's AnonymousUser. Here the certificate is the only credential, so
        // the two flaws are one mistake.
        if flaws.has("mtls.not_required") || anonymous_allowed(r) {
            return r.identity("anonymous", "user", &[]);
        }
        return r.missing();
    }
    let cn = r.conn.client_cn.as_deref().unwrap_or("");
    let user = match r.state.users.get_key_value(cn) {
        Some((name, _)) => name.as_str(),
        // Flaw `mtls.identity_not_mapped`: the map has a `default` line ("every
        // certificate our CA signs is one of ours"), so a subject that names no user gets
        // a catch-all account instead of a refusal.
        None if flaws.has("mtls.identity_not_mapped") => DEFAULT_CERT_USER,
        None => {
            let body = json!({ "detail": "No account matches the client certificate." });
            return r.json(StatusCode::FORBIDDEN, body);
        }
    };
    let role = r.state.users.get(user).map_or("user", |u| u.role);
    if need_role.is_some_and(|need| need != role) {
        return r.error(StatusCode::FORBIDDEN, "insufficient_role", None);
    }
    r.identity(user, role, &["mtls"])
}

/// A 403 for a valid token that may not be used here.
fn denied(r: &Reply, code: &str, detail: &str, token: &str) -> Resp {
    if r.state.flaws.verbose_errors {
        // The same exception handler dumps every refusal, not only decode errors.
        return verbose_error(
            r,
            StatusCode::FORBIDDEN,
            "rest_framework.exceptions.PermissionDenied",
            detail,
            token,
        );
    }
    r.error(StatusCode::FORBIDDEN, code, None)
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

/// Flaw `auth.scheme_confusion`: the view lists `authentication_classes =
/// [BasicAuthentication, LenientJWTAuthentication]`, where the JWT class returns None
/// instead of raising on a bad token, and an audit mixin names the caller after the Basic
/// username whenever one is present. `None` lets the hardened path decide.
async fn mixed_schemes(r: &Reply<'_>, values: &[&str]) -> Option<Resp> {
    let basic = values.iter().find_map(|v| decode_basic(v));
    let bearer = values.iter().find_map(|v| strip_scheme(v, "Bearer"));
    let role_of = |u: &str| r.state.users.get(u).map(|x| x.role).unwrap_or("user");
    if let Some((user, pass)) = &basic
        && r.state
            .users
            .get(user)
            .is_some_and(|u| constant_time_eq(u.password.as_bytes(), pass.as_bytes()))
    {
        // The Basic class authenticated first; the bearer, valid or not, is never read.
        return Some(r.identity(user, role_of(user), &["mtls", "basic"]));
    }
    let (token, (user, _)) = (bearer?, basic?);
    jwt::validate(&r.state.flaws, &r.state.jwt, token)
        .await
        .ok()?;
    // The JWT authenticated the request, but the identity is read from the Basic header,
    // whose password nobody checked.
    Some(r.identity(&user, role_of(&user), &["mtls", "jwt"]))
}

/// Flaw `auth.verbose_errors`: a custom DRF exception handler returns the PyJWT exception,
/// its traceback and the token it choked on.
fn verbose_token_error(r: &Reply, kind: jwt::RejectKind, token: &str) -> Resp {
    use jwt::RejectKind as K;
    let (exception, detail) = match kind {
        K::Signature => (
            "jwt.exceptions.InvalidSignatureError",
            "Signature verification failed",
        ),
        K::Expired => (
            "jwt.exceptions.ExpiredSignatureError",
            "Signature has expired",
        ),
        K::NotYetValid => (
            "jwt.exceptions.ImmatureSignatureError",
            "The token is not yet valid (nbf)",
        ),
        K::Audience => ("jwt.exceptions.InvalidAudienceError", "Invalid audience"),
        K::Issuer => ("jwt.exceptions.InvalidIssuerError", "Invalid issuer"),
        K::Malformed | K::Other => ("jwt.exceptions.DecodeError", "Not enough segments"),
    };
    verbose_error(r, StatusCode::UNAUTHORIZED, exception, detail, token)
}

fn verbose_error(
    r: &Reply,
    status: StatusCode,
    exception: &str,
    detail: &str,
    token: &str,
) -> Resp {
    r.json(
        status,
        json!({
            "detail": format!("{exception}: {detail}"),
            "token": token,
            "traceback": format!(
                "Traceback (most recent call last):\n  File \"/srv/api/auth/jwt.py\", line 58, in authenticate\n    payload = jwt.decode(raw, key, algorithms=[\"ES256\"])\n{exception}: {detail}"
            ),
        }),
    )
}
