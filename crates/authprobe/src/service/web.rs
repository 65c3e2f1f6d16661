//! The dashboard's routes: server-rendered pages ([`super::ui`]) over the same store and
//! runner as the API. Every form that changes something carries the session's CSRF token.

use super::AppState;
use super::auth::{self, WebUser};
use super::targets::{CredentialsInput, InputError, TargetInput, checked_new};
use super::ui::{self, Chrome, NewTargetForm, Progress};
use crate::store::{
    Diff, ScanRow, ScanStatus, StoreError, Target, TargetSummary, now_millis, schedule,
};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use futures::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

/// A dashboard session lasts this long.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

fn page(status: StatusCode, html: String) -> Response {
    (status, Html(html)).into_response()
}

pub fn error(status: StatusCode, heading: &str, detail: &str) -> Response {
    let chrome = Chrome {
        title: heading,
        user: None,
        csrf: None,
        flash: None,
    };
    page(
        status,
        ui::error_page(&chrome, status.as_u16(), heading, detail),
    )
}

pub fn internal(detail: &str) -> Response {
    tracing::error!("{detail}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on the server",
        "The server could not finish this request; its log says why. Try again, or go back to the targets.",
    )
}

fn store_err(e: StoreError) -> Response {
    internal(&e.to_string())
}

fn chrome<'a>(u: &'a WebUser, title: &'a str, flash: Option<&'a str>) -> Chrome<'a> {
    Chrome {
        title,
        user: Some(&u.session.user.username),
        csrf: Some(&u.session.csrf),
        flash,
    }
}

fn forbidden_csrf() -> Response {
    error(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form was sent without this session's security token (it may be from an old page or another site). Go back, reload the page and send it again.",
    )
}

#[derive(Deserialize, Default)]
pub struct Flash {
    flash: Option<String>,
}

fn flash_text(f: &Flash) -> Option<&'static str> {
    Some(match f.flash.as_deref()? {
        "queued" => "Scan queued: it starts as soon as a worker is free.",
        "busy" => "A scan of this target is already queued or running.",
        "deleted" => "Target deleted, with its scans and reports.",
        "created" => "Target added.",
        _ => return None,
    })
}

pub async fn targets(
    State(state): State<AppState>,
    user: WebUser,
    Query(f): Query<Flash>,
) -> Response {
    match state.store.list_targets(20).await {
        Ok(rows) => page(
            StatusCode::OK,
            ui::targets(
                &chrome(&user, "Targets", flash_text(&f)),
                &rows,
                now_millis(),
            ),
        ),
        Err(e) => store_err(e),
    }
}

/// A target's row of the list, from its history (newest first): the same summary the
/// targets list shows, without a second read of the scans.
fn summary(target: Target, history: &[ScanRow]) -> TargetSummary {
    let recent = &history[..history.len().min(20)];
    let latest = recent
        .iter()
        .find(|s| s.status == ScanStatus::Done)
        .cloned();
    let active = recent
        .iter()
        .find(|s| matches!(s.status, ScanStatus::Queued | ScanStatus::Running))
        .cloned();
    let mut recent_scores: Vec<u32> = recent.iter().filter_map(|s| s.score).collect();
    recent_scores.reverse();
    TargetSummary {
        target,
        latest,
        recent_scores,
        active,
    }
}

pub async fn target(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> PageResult {
    let target = found(state.store.target(id).await, "target")?;
    let history = state
        .store
        .list_scans(Some(id), 200, None)
        .await
        .map_err(store_err)?;
    let s = summary(target, &history);
    let title = s.target.name.clone();
    Ok(page(
        StatusCode::OK,
        ui::target(
            &chrome(&user, &title, flash_text(&f)),
            &s,
            &history,
            now_millis(),
        ),
    ))
}

/// A page's handler: the page, or the error page that replaces it.
type PageResult = Result<Response, Response>;

/// The row, or the page that says it is not there (or that the database failed).
// The error is the page the handler answers with, built once per request: boxing it
// would only add an allocation.
#[allow(clippy::result_large_err)]
fn found<T>(r: Result<Option<T>, StoreError>, what: &str) -> Result<T, Response> {
    match r {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(not_found_page(what)),
        Err(e) => Err(store_err(e)),
    }
}

fn not_found_page(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("No such {what}"),
        &format!("This {what} does not exist, or was deleted."),
    )
}

pub async fn scan(State(state): State<AppState>, user: WebUser, Path(id): Path<i64>) -> PageResult {
    let s = found(state.store.scan(id).await, "scan")?;
    let target = found(state.store.target(s.target_id).await, "target")?;
    let report = state.store.report(id).await.map_err(store_err)?;
    let progress = state.live.get(id).map(|l| Progress {
        done: l.done,
        total: l.total,
        phase: l.phase,
    });
    let title = format!("Scan {id} · {}", target.name);
    Ok(page(
        StatusCode::OK,
        ui::scan(
            &chrome(&user, &title, None),
            &target,
            &s,
            report.as_ref(),
            progress,
            now_millis(),
        ),
    ))
}

/// Live progress of a scan as Server-Sent Events: `progress` while it runs, then one
/// `done` with its final status.
pub async fn events(
    State(state): State<AppState>,
    _user: WebUser,
    Path(id): Path<i64>,
) -> Response {
    let rx = state.live.subscribe(id);
    let stream = async_stream(rx, state.store.clone(), state.live.clone(), id);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn async_stream(
    rx: Option<tokio::sync::watch::Receiver<super::live::LiveState>>,
    store: crate::store::Store,
    live: super::live::Live,
    id: i64,
) -> impl Stream<Item = Result<Event, Infallible>> {
    // At most an hour per connection; the page reconnects if it is still open.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    futures::stream::unfold((rx, false), move |(rx, ended)| {
        let store = store.clone();
        let live = live.clone();
        async move {
            if ended {
                return None;
            }
            // A queued scan that a worker has just taken: follow it from now on.
            let rx = rx.or_else(|| live.subscribe(id));
            let final_status =
                |s: Option<crate::store::ScanRow>| s.map_or("gone", |s| s.status.as_str());
            let Some(mut rx) = rx else {
                // Not running here: queued (waiting) or already finished.
                let s = store.scan(id).await.ok().flatten();
                if let Some(row) = &s
                    && row.status == crate::store::ScanStatus::Queued
                {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    let ev = Event::default()
                        .event("progress")
                        .data(r#"{"status":"queued","done":0,"total":0,"phase":"queued"}"#);
                    return Some((Ok(ev), (None, false)));
                }
                let data = serde_json::json!({"status": final_status(s)}).to_string();
                return Some((Ok(Event::default().event("done").data(data)), (None, true)));
            };
            let changed = tokio::time::timeout_at(deadline, rx.changed()).await;
            let state = rx.borrow().clone();
            match changed {
                Ok(Ok(())) if state.status == "running" => {
                    let data = serde_json::to_string(&state).unwrap_or_default();
                    Some((
                        Ok(Event::default().event("progress").data(data)),
                        (Some(rx), false),
                    ))
                }
                Err(_) => None,
                _ => {
                    // The sender is gone or published the end: read the stored status.
                    let s = store.scan(id).await.ok().flatten();
                    let data = serde_json::json!({"status": final_status(s)}).to_string();
                    Some((Ok(Event::default().event("done").data(data)), (None, true)))
                }
            }
        }
    })
}

/// `GET /webhooks`: every webhook with its latest deliveries (made through the API).
pub async fn webhooks(State(state): State<AppState>, user: WebUser) -> PageResult {
    let hooks = state.store.list_webhooks().await.map_err(store_err)?;
    let mut rows = Vec::with_capacity(hooks.len());
    for webhook in hooks {
        let target = match webhook.target_id {
            Some(id) => state.store.target(id).await.map_err(store_err)?,
            None => None,
        };
        let deliveries = state
            .store
            .webhook_deliveries(webhook.id, 10)
            .await
            .map_err(store_err)?;
        rows.push(ui::WebhookRow {
            webhook,
            target,
            deliveries,
        });
    }
    Ok(page(
        StatusCode::OK,
        ui::webhooks(&chrome(&user, "Webhooks", None), &rows, now_millis()),
    ))
}

#[derive(Deserialize)]
pub struct DiffParams {
    from: Option<i64>,
    to: Option<i64>,
}

pub async fn diff(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Query(q): Query<DiffParams>,
) -> PageResult {
    let target = found(state.store.target(id).await, "target")?;
    let (Some(from), Some(to)) = (q.from, q.to) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Pick two scans to compare",
            "Choose a scan to compare from and one to compare to on the target's page.",
        ));
    };
    let pair = (state.store.scan(from).await, state.store.scan(to).await);
    let ok = matches!(&pair, (Ok(Some(a)), Ok(Some(b))) if a.target_id == id && b.target_id == id);
    if !ok {
        return Err(not_found_page("scan of this target"));
    }
    let Some(d): Option<Diff> = state.store.diff(from, to).await.map_err(store_err)? else {
        return Err(error(
            StatusCode::CONFLICT,
            "These scans cannot be compared yet",
            "Both scans must have finished with a report.",
        ));
    };
    let title = format!("{}: scan {from} → {to}", target.name);
    Ok(page(
        StatusCode::OK,
        ui::diff(&chrome(&user, &title, None), &target, &d, now_millis()),
    ))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

pub async fn start_scan(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !user.csrf_ok(&f.csrf) {
        return forbidden_csrf();
    }
    match state.start_scan(id, "ui").await {
        Ok(s) => Redirect::to(&format!("/scans/{}", s.id)).into_response(),
        Err(e) if e.status == StatusCode::CONFLICT => {
            Redirect::to(&format!("/targets/{id}?flash=busy")).into_response()
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => not_found_page("target"),
        Err(e) => internal(&e.message),
    }
}

pub async fn delete_target(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !user.csrf_ok(&f.csrf) {
        return forbidden_csrf();
    }
    if f.confirm.is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "Nothing was deleted",
            "Tick the confirmation box to delete a target with all of its scans and reports.",
        );
    }
    match state.store.delete_target(id).await {
        Ok(true) => Redirect::to("/?flash=deleted").into_response(),
        Ok(false) => not_found_page("target"),
        Err(e) => store_err(e),
    }
}

pub async fn new_target(user: WebUser) -> Response {
    let form = NewTargetForm::default();
    page(
        StatusCode::OK,
        ui::new_target(&chrome(&user, "Add a target", None), &form, None),
    )
}

#[derive(Deserialize, Default)]
pub struct TargetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    spec: String,
    #[serde(default)]
    checks: String,
    #[serde(default)]
    schedule_minutes: String,
    #[serde(default)]
    schedule_cron: String,
    /// Minutes here (the API takes seconds): a person spreads scans by minutes.
    #[serde(default)]
    schedule_jitter_minutes: String,
    #[serde(default)]
    bearer: String,
    #[serde(default)]
    basic_user: String,
    #[serde(default)]
    basic_password: String,
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    header: String,
    #[serde(default)]
    client_cert_pem: String,
    #[serde(default)]
    client_key_pem: String,
    #[serde(default)]
    server_ca_pem: String,
    scan_now: Option<String>,
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

pub async fn create_target(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<TargetForm>,
) -> Response {
    if !user.csrf_ok(&f.csrf) {
        return forbidden_csrf();
    }
    // Re-shown on error without any secret: the user types those again.
    let refill = NewTargetForm {
        name: f.name.clone(),
        url: f.url.clone(),
        spec: f.spec.clone(),
        checks: f.checks.clone(),
        schedule_minutes: f.schedule_minutes.clone(),
        schedule_cron: f.schedule_cron.clone(),
        schedule_jitter_minutes: f.schedule_jitter_minutes.clone(),
        basic_user: f.basic_user.clone(),
        server_ca_pem: f.server_ca_pem.clone(),
        bearer_set: !f.bearer.is_empty(),
        basic_password_set: !f.basic_password.is_empty(),
        api_key_set: !f.api_key.trim().is_empty(),
        header_set: !f.header.trim().is_empty(),
        client_cert_set: !f.client_cert_pem.trim().is_empty(),
        client_key_set: !f.client_key_pem.trim().is_empty(),
        scan_later: f.scan_now.is_none(),
    };
    let fail = |msg: String| {
        page(
            StatusCode::BAD_REQUEST,
            ui::new_target(&chrome(&user, "Add a target", None), &refill, Some(&msg)),
        )
    };
    let schedule = match f.schedule_minutes.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => return fail("Rescan every … minutes must be a whole number".into()),
        },
    };
    let jitter = match f.schedule_jitter_minutes.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) if (0..=schedule::MAX_JITTER_SECONDS / 60).contains(&n) => Some(n * 60),
            _ => {
                return fail(format!(
                    "Jitter must be a whole number of minutes from 0 to {}",
                    schedule::MAX_JITTER_SECONDS / 60
                ));
            }
        },
    };
    let basic = match (f.basic_user.is_empty(), f.basic_password.is_empty()) {
        (true, true) => None,
        (false, _) => Some(format!("{}:{}", f.basic_user, f.basic_password)),
        (true, false) => return fail("A Basic password needs a user name".into()),
    };
    let input = TargetInput {
        url: f.url.clone(),
        name: Some(f.name.clone()),
        spec: Some(f.spec.clone()),
        checks: f
            .checks
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        schedule_minutes: schedule,
        schedule_cron: Some(f.schedule_cron.clone()),
        schedule_jitter_seconds: jitter,
        credentials: CredentialsInput {
            bearer: Some(f.bearer),
            basic,
            api_keys: lines(&f.api_key),
            headers: lines(&f.header),
            client_cert_pem: Some(f.client_cert_pem),
            client_key_pem: Some(f.client_key_pem),
            server_ca_pem: Some(f.server_ca_pem),
        },
    };
    let new = match checked_new(input, &state.scope).await {
        Ok(n) => n,
        Err(InputError::Invalid(m) | InputError::Scope(m)) => return fail(m),
    };
    let t = match state.store.create_target(new).await {
        Ok(t) => t,
        Err(e) => return store_err(e),
    };
    if f.scan_now.is_some() {
        match state.start_scan(t.id, "ui").await {
            Ok(s) => return Redirect::to(&format!("/scans/{}", s.id)).into_response(),
            Err(e) => tracing::warn!("first scan of {}: {}", t.id, e.message),
        }
    }
    Redirect::to(&format!("/targets/{}?flash=created", t.id)).into_response()
}

// Login, first account, logout.

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

fn bare(title: &str) -> Chrome<'_> {
    Chrome {
        title,
        user: None,
        csrf: None,
        flash: None,
    }
}

pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let setup = state
        .store
        .user_count()
        .await
        .map(|n| n == 0)
        .unwrap_or(false);
    let mut chrome = bare("Sign in");
    if !state.tls && !secure_context(&headers) {
        chrome.flash = Some(PLAIN_HTTP_NOTE);
    }
    page(StatusCode::OK, ui::login(&chrome, None, "", setup))
}

const PLAIN_HTTP_NOTE: &str = "This page came over plain HTTP from another machine: browsers keep the session cookie (Secure) only over HTTPS or on localhost, so signing in will not stick. Serve authprobe behind a TLS proxy.";

/// Whether a browser will keep a `Secure` cookie from this request: HTTPS (as a proxy in
/// front reports it) or a loopback host, which browsers treat as secure.
fn secure_context(h: &HeaderMap) -> bool {
    let https = h
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    https
        || name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub async fn login(State(state): State<AppState>, Form(f): Form<LoginForm>) -> Response {
    // Keyed on the name alone: a forwarded address is the client's to choose, so keying on
    // it would let a guesser reset the count at will.
    let who = format!("login|{}", f.username.trim().to_lowercase());
    if let Some(wait) = state.throttle.blocked(&who) {
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            ui::login(
                &bare("Sign in"),
                Some(&format!(
                    "Too many failed sign-ins. Try again in {} s.",
                    wait.as_secs().max(1)
                )),
                &f.username,
                false,
            ),
        );
    }
    let user = match state.store.verify_login(&f.username, &f.password).await {
        Ok(u) => u,
        Err(e) => return store_err(e),
    };
    let Some(user) = user else {
        state.throttle.failed(&who);
        return page(
            StatusCode::UNAUTHORIZED,
            ui::login(
                &bare("Sign in"),
                Some("Wrong user name or password."),
                &f.username,
                false,
            ),
        );
    };
    state.throttle.clear(&who);
    signed_in(&state, user.id).await
}

async fn signed_in(state: &AppState, user_id: i64) -> Response {
    match state.store.create_session(user_id, SESSION_TTL).await {
        Ok((token, _)) => {
            let mut r = Redirect::to("/").into_response();
            if let Ok(v) =
                HeaderValue::from_str(&auth::session_cookie(&token, SESSION_TTL.as_secs()))
            {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => store_err(e),
    }
}

pub async fn setup_page(State(state): State<AppState>) -> Response {
    match state.store.user_count().await {
        Ok(0) => page(
            StatusCode::OK,
            ui::setup(&bare("Create the first account"), None, ""),
        ),
        Ok(_) => Redirect::to("/login").into_response(),
        Err(e) => store_err(e),
    }
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    admin_key: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

/// The first account. Whoever reaches the server first must not become its owner: the
/// form wants the admin API key, which only the person who started the server can read.
pub async fn setup(State(state): State<AppState>, Form(f): Form<SetupForm>) -> Response {
    match state.store.user_count().await {
        Ok(0) => {}
        Ok(_) => return Redirect::to("/login").into_response(),
        Err(e) => return store_err(e),
    }
    let who = "setup".to_string();
    let again = |status: StatusCode, msg: &str| {
        page(
            status,
            ui::setup(&bare("Create the first account"), Some(msg), &f.username),
        )
    };
    if let Some(wait) = state.throttle.blocked(&who) {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "Too many wrong keys. Try again in {} s.",
                wait.as_secs().max(1)
            ),
        );
    }
    match state.store.verify_api_key(f.admin_key.trim()).await {
        Ok(Some(k)) if k.admin => {}
        Ok(_) => {
            state.throttle.failed(&who);
            return again(
                StatusCode::FORBIDDEN,
                "That is not this server's admin API key.",
            );
        }
        Err(e) => return store_err(e),
    }
    if f.password != f.password2 {
        return again(StatusCode::BAD_REQUEST, "The two passwords differ.");
    }
    match state.store.create_user(&f.username, &f.password).await {
        Ok(u) => signed_in(&state, u.id).await,
        Err(StoreError::Db(e)) => internal(&e.to_string()),
        Err(e) => again(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !user.csrf_ok(&f.csrf) {
        return forbidden_csrf();
    }
    if let Some(token) = auth::cookie_value(&headers, auth::COOKIE) {
        let _ = state.store.delete_session(&token).await;
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::clear_cookie()) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub async fn stylesheet() -> Response {
    static CSS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let css = CSS.get_or_init(ui::stylesheet).clone();
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        css,
    )
        .into_response()
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        ui::LIVE_JS,
    )
        .into_response()
}

pub async fn not_found() -> Response {
    not_found_page("page")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(host: &str, proto: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(p) = proto {
            h.insert("x-forwarded-proto", HeaderValue::from_str(p).unwrap());
        }
        h
    }

    #[test]
    fn the_cookie_sticks_only_where_browsers_keep_secure_cookies() {
        assert!(secure_context(&with("127.0.0.1:7878", None)));
        assert!(secure_context(&with("localhost:7878", None)));
        assert!(secure_context(&with("[::1]:7878", None)));
        assert!(secure_context(&with("scanner.internal", Some("https"))));
        assert!(!secure_context(&with("scanner.internal:7878", None)));
        assert!(!secure_context(&with("10.0.0.5:7878", Some("http"))));
    }
}
