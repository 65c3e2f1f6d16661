//! Who is asking. The API takes `Authorization: Bearer <key>` (keys are stored hashed);
//! the dashboard a session cookie (HttpOnly, SameSite=Strict, Secure) and, on every form
//! that changes something, the session's CSRF token. A session cookie is accepted by the
//! API for reading only (report downloads from the dashboard), never for changes, so a
//! cross-site request cannot act with it.

use super::AppState;
use super::api::ApiError;
use crate::store::{ApiKeyInfo, Session};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};

pub const COOKIE: &str = "__Host-authprobe_session";

/// How the API caller proved itself.
pub enum Caller {
    Key(ApiKeyInfo),
    Session(Session),
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        matches!(self, Caller::Key(k) if k.admin)
    }
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(key) = bearer(&parts.headers) {
            return match state.store.verify_api_key(key).await? {
                Some(info) => Ok(Caller::Key(info)),
                None => Err(ApiError::unauthorized("the API key is not valid")),
            };
        }
        if matches!(parts.method, Method::GET | Method::HEAD)
            && let Some(token) = cookie_value(&parts.headers, COOKIE)
            && let Some(s) = state.store.session(&token).await?
        {
            return Ok(Caller::Session(s));
        }
        Err(ApiError::unauthorized(
            "send an API key as `Authorization: Bearer KEY` (the first one is in the admin key file the server wrote at its first start)",
        ))
    }
}

/// A logged-in dashboard user; anything else is sent to the login page.
pub struct WebUser {
    pub session: Session,
}

pub struct ToLogin;

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to("/login").into_response()
    }
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie_value(&parts.headers, COOKIE) else {
            return Err(ToLogin.into_response());
        };
        match state.store.session(&token).await {
            Ok(Some(session)) => Ok(WebUser { session }),
            Ok(None) => Err(ToLogin.into_response()),
            Err(e) => Err(super::web::internal(&e.to_string())),
        }
    }
}

impl WebUser {
    /// Whether a form carried this session's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, presented: &str) -> bool {
        let want = self.session.csrf.as_bytes();
        let got = presented.as_bytes();
        want.len() == got.len() && want.iter().zip(got).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

pub fn session_cookie(token: &str, max_age_secs: u64) -> String {
    format!("{COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_secs}")
}

pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}

/// In front of `/mcp`: an API key, and nothing else (no session cookie: an MCP call starts
/// scans, and a browser must not be able to make one on a user's behalf).
#[cfg(feature = "mcp")]
pub async fn require_key(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(key) = bearer(req.headers()) else {
        return ApiError::unauthorized("send an API key as `Authorization: Bearer KEY`")
            .into_response();
    };
    match state.store.verify_api_key(key).await {
        Ok(Some(_)) => next.run(req).await,
        Ok(None) => ApiError::unauthorized("the API key is not valid").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
