//! The REST API under `/api/v1`, described by [`super::openapi`]. JSON in and out; errors
//! are `{"error": "...", "status": N}`; nothing returned carries a target's credentials
//! (targets show which kinds they have, by name only).

use super::AppState;
use super::auth::Caller;
use super::targets::{InputError, TargetInput, TargetPatchInput, checked_new, checked_patch};
use crate::report::Report;
use crate::store::{NewWebhook, ScanRow, StoreError, Webhook, WebhookEvents, WebhookFormat};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    pub fn unauthorized(m: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, m)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("no such {what}"))
    }
    pub fn bad(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(json!({"error": self.message, "status": self.status.as_u16()})),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"authprobe\""),
            );
        }
        r
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            StoreError::NotFound(m) => Self::new(StatusCode::NOT_FOUND, m),
            StoreError::Invalid(m) => Self::bad(m),
            other => {
                tracing::error!("store: {other}");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the server's database failed; see its log",
                )
            }
        }
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        match e {
            InputError::Invalid(m) => Self::bad(m),
            InputError::Scope(m) => Self::new(StatusCode::FORBIDDEN, m),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        Self::new(e.status(), e.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        Self::bad(e.body_text())
    }
}

type ApiResult<T = Response> = Result<T, ApiError>;

fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

/// A scan as the API shows it: its row, live progress while it runs, and its links.
pub fn scan_json(state: &AppState, s: &ScanRow) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
    if let Some(live) = state.live.get(s.id) {
        v["progress"] = json!({"done": live.done, "total": live.total, "phase": live.phase});
    }
    v["links"] = json!({
        "self": format!("/api/v1/scans/{}", s.id),
        "report": format!("/api/v1/scans/{}/report", s.id),
        "page": format!("/scans/{}", s.id),
    });
    v
}

pub async fn create_target(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<TargetInput>, JsonRejection>,
) -> ApiResult {
    let _ = caller;
    let Json(input) = body?;
    let new = checked_new(input, &state.scope).await?;
    let t = state.store.create_target(new).await?;
    Ok(created(serde_json::to_value(t).unwrap_or_default()))
}

pub async fn list_targets(State(state): State<AppState>, _c: Caller) -> ApiResult {
    let rows = state.store.list_targets(20).await?;
    Ok(Json(json!({ "targets": rows })).into_response())
}

pub async fn get_target(
    State(state): State<AppState>,
    _c: Caller,
    Path(id): Path<i64>,
) -> ApiResult {
    let t = state
        .store
        .target(id)
        .await?
        .ok_or_else(|| ApiError::not_found("target"))?;
    Ok(Json(t).into_response())
}

pub async fn patch_target(
    State(state): State<AppState>,
    _c: Caller,
    Path(id): Path<i64>,
    body: Result<Json<TargetPatchInput>, JsonRejection>,
) -> ApiResult {
    let Json(input) = body?;
    let patch = checked_patch(input, &state.scope).await?;
    let t = state
        .store
        .update_target(id, patch)
        .await?
        .ok_or_else(|| ApiError::not_found("target"))?;
    Ok(Json(t).into_response())
}

pub async fn delete_target(
    State(state): State<AppState>,
    _c: Caller,
    Path(id): Path<i64>,
) -> ApiResult {
    if state.store.delete_target(id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("target"))
    }
}

pub async fn start_scan(
    State(state): State<AppState>,
    _c: Caller,
    Path(id): Path<i64>,
) -> ApiResult {
    let scan = state.start_scan(id, "api").await?;
    let mut r = (StatusCode::ACCEPTED, Json(scan_json(&state, &scan))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/scans/{}", scan.id)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanQuery {
    target: Option<i64>,
    limit: Option<u32>,
    before: Option<i64>,
}

pub async fn list_scans(
    State(state): State<AppState>,
    _c: Caller,
    q: Result<Query<ScanQuery>, QueryRejection>,
) -> ApiResult {
    let Query(q) = q?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad("limit must be between 1 and 500"));
    }
    let rows = state.store.list_scans(q.target, limit, q.before).await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|s| s.id))
        .flatten();
    let scans: Vec<Value> = rows.iter().map(|s| scan_json(&state, s)).collect();
    Ok(Json(json!({"scans": scans, "next_before": next})).into_response())
}

pub async fn get_scan(State(state): State<AppState>, _c: Caller, Path(id): Path<i64>) -> ApiResult {
    let s = state
        .store
        .scan(id)
        .await?
        .ok_or_else(|| ApiError::not_found("scan"))?;
    Ok(Json(scan_json(&state, &s)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    format: Option<String>,
}

/// A stored report in one of the CLI's formats.
pub fn render(report: &Report, format: &str) -> Option<(&'static str, String)> {
    use crate::report::{html, junit, markdown, sarif};
    Some(match format {
        "json" => ("application/json", report.to_json()),
        "sarif" => ("application/sarif+json", sarif::render(report)),
        "junit" => ("application/xml", junit::render(report)),
        "markdown" => ("text/markdown; charset=utf-8", markdown::render(report)),
        "html" => ("text/html; charset=utf-8", html::render(report)),
        _ => return None,
    })
}

pub async fn get_report(
    State(state): State<AppState>,
    _c: Caller,
    Path(id): Path<i64>,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> ApiResult {
    let Query(q) = q?;
    let scan = state
        .store
        .scan(id)
        .await?
        .ok_or_else(|| ApiError::not_found("scan"))?;
    let format = q.format.as_deref().unwrap_or("json");
    let report = state.store.report(id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            format!("scan {id} is {} and has no report", scan.status.as_str()),
        )
    })?;
    let (ctype, body) = render(&report, format)
        .ok_or_else(|| ApiError::bad("format must be json, sarif, junit, markdown or html"))?;
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if format == "html" {
        // The standalone report carries its own inline style, and nothing else runs.
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"),
        );
    }
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    against: i64,
}

pub async fn diff(
    State(state): State<AppState>,
    _c: Caller,
    Path(id): Path<i64>,
    q: Result<Query<DiffQuery>, QueryRejection>,
) -> ApiResult {
    let Query(q) = q?;
    let (to, from) = (
        state
            .store
            .scan(id)
            .await?
            .ok_or_else(|| ApiError::not_found("scan"))?,
        state
            .store
            .scan(q.against)
            .await?
            .ok_or_else(|| ApiError::not_found("scan (against)"))?,
    );
    if to.target_id != from.target_id {
        return Err(ApiError::bad(format!(
            "scans {} and {} belong to different targets; a diff compares two scans of one target",
            from.id, to.id
        )));
    }
    let d = state.store.diff(from.id, to.id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "both scans must be done to be compared",
        )
    })?;
    Ok(Json(d).into_response())
}

/// `POST /reports`: a JSON report the CLI wrote (`--upload`, or by hand).
pub async fn import_report(
    State(state): State<AppState>,
    _c: Caller,
    body: axum::body::Bytes,
) -> ApiResult {
    let report: Report = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("the body is not an authprobe JSON report: {e}")))?;
    if report.schema_version == 0 || report.schema_version > crate::report::SCHEMA_VERSION {
        return Err(ApiError::bad(format!(
            "report schema_version {} is not one this server reads (1..={})",
            report.schema_version,
            crate::report::SCHEMA_VERSION
        )));
    }
    // A `--targets` run names its list (a file, stdin), not a URL: it is kept as history
    // under that name, and scanning it from here fails with the reason.
    let name = match url::Url::parse(&report.target) {
        Ok(u) => u.to_string(),
        Err(_) => report.target.trim().to_string(),
    };
    if name.is_empty() || name.len() > 2048 || name.chars().any(char::is_control) {
        return Err(ApiError::bad(
            "the report's target must be a URL or a name of at most 2048 characters",
        ));
    }
    let target = state.store.target_for_url(&name).await?;
    let scan = state.store.import_report(target.id, &report).await?;
    // A report from CI (`scan --upload`) is a finished scan like any other to webhooks.
    if let Err(e) = super::webhooks::on_scan_finished(&state.store, scan.id).await {
        tracing::error!("webhooks of imported scan {}: {e}", scan.id);
    }
    Ok(created(
        json!({"scan": scan_json(&state, &scan), "target": target}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    username: String,
    password: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<UserInput>, JsonRejection>,
) -> ApiResult {
    if !caller.is_admin() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only an admin API key may create users",
        ));
    }
    let Json(u) = body?;
    let user = state
        .store
        .create_user(&u.username, &u.password)
        .await
        .map_err(user_error)?;
    Ok(created(serde_json::to_value(user).unwrap_or_default()))
}

/// A refused user name or password is the caller's mistake, not a server failure.
pub fn user_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Db(_)
        | StoreError::Migrate(_)
        | StoreError::Corrupt(_)
        | StoreError::WrongKey => e.into(),
        other => ApiError::bad(other.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyInput {
    name: String,
    #[serde(default)]
    admin: bool,
}

pub async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<KeyInput>, JsonRejection>,
) -> ApiResult {
    if !caller.is_admin() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only an admin API key may create keys",
        ));
    }
    let Json(k) = body?;
    let name = k.name.trim();
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::bad("name must be 1 to 100 characters"));
    }
    let (info, key) = state.store.create_api_key(name, k.admin).await?;
    // The only time the key is ever shown.
    Ok(created(json!({"key": key, "info": info})))
}

pub async fn openapi() -> Response {
    let mut r = Json(super::openapi::document()).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint; see /api/v1/openapi.json",
    )
}

// Webhooks: admin keys make and delete them (a webhook sends the server's findings out of
// it); any caller may read them, and sees the URL in full only with an admin key, since
// some URLs (Slack's) are themselves the credential.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEventsInput {
    #[serde(default)]
    new_findings: bool,
    #[serde(default)]
    fixed_findings: bool,
    score_drop: Option<u32>,
    #[serde(default)]
    grade_change: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    url: String,
    target_id: Option<i64>,
    events: WebhookEventsInput,
    format: Option<String>,
    secret: Option<String>,
}

fn admin_only(caller: &Caller, what: &str) -> Result<(), ApiError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("only an admin API key may {what}"),
        ))
    }
}

/// A webhook as the API shows it to `caller`.
pub fn webhook_json(caller: &Caller, w: &Webhook) -> Value {
    let mut v = serde_json::to_value(w).unwrap_or(Value::Null);
    if !caller.is_admin() {
        v["url"] = Value::String(super::webhooks::redacted_url(&w.url));
    }
    v["links"] = json!({"deliveries": format!("/api/v1/webhooks/{}/deliveries", w.id)});
    v
}

pub async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<WebhookInput>, JsonRejection>,
) -> ApiResult {
    admin_only(&caller, "create webhooks")?;
    let Json(input) = body?;
    let format = match input.format.as_deref() {
        None => WebhookFormat::Json,
        Some(f) => {
            WebhookFormat::parse(f).ok_or_else(|| ApiError::bad("format must be json or slack"))?
        }
    };
    let new = NewWebhook {
        url: input.url,
        target_id: input.target_id,
        events: WebhookEvents {
            new_findings: input.events.new_findings,
            fixed_findings: input.events.fixed_findings,
            score_drop: input.events.score_drop,
            grade_change: input.events.grade_change,
        },
        format,
        secret: input.secret,
    };
    let (webhook, secret) = state.store.create_webhook(new).await?;
    // The only time the secret is ever shown.
    Ok(created(
        json!({"webhook": webhook_json(&caller, &webhook), "secret": secret}),
    ))
}

pub async fn list_webhooks(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let hooks = state.store.list_webhooks().await?;
    let hooks: Vec<Value> = hooks.iter().map(|w| webhook_json(&caller, w)).collect();
    Ok(Json(json!({ "webhooks": hooks })).into_response())
}

pub async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult {
    admin_only(&caller, "delete webhooks")?;
    if state.store.delete_webhook(id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("webhook"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    limit: Option<u32>,
}

pub async fn webhook_deliveries(
    State(state): State<AppState>,
    _c: Caller,
    Path(id): Path<i64>,
    q: Result<Query<DeliveriesQuery>, QueryRejection>,
) -> ApiResult {
    let Query(q) = q?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad("limit must be between 1 and 500"));
    }
    if state.store.webhook(id).await?.is_none() {
        return Err(ApiError::not_found("webhook"));
    }
    let deliveries = state.store.webhook_deliveries(id, limit).await?;
    Ok(Json(json!({ "deliveries": deliveries })).into_response())
}
