//! A target as the API and the form describe it, checked before it is stored: a URL in
//! scope, a description location that is a URL or `auto` (never a path on this server's
//! disk), check ids that exist, credentials that parse. Errors are one line a person can
//! act on; none of them repeats a secret.

use super::scope::Scope;
use crate::store::schedule::{self, Cron};
use crate::store::{NewTarget, TargetCredentials, TargetPatch};
use serde::{Deserialize, Deserializer};
use std::path::Path;
use url::Url;

/// Shortest schedule accepted, in minutes: a monitor, not a load generator. A cron
/// expression is held to the same floor.
pub const MIN_SCHEDULE_MINUTES: i64 = schedule::MIN_MINUTES;
/// Longest: a year.
pub const MAX_SCHEDULE_MINUTES: i64 = 525_600;
const MAX_FIELD: usize = 2048;
const MAX_PEM: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// 400: the request is wrong.
    #[error("{0}")]
    Invalid(String),
    /// 403: the request is fine, the scope forbids it.
    #[error("{0}")]
    Scope(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsInput {
    pub bearer: Option<String>,
    pub basic: Option<String>,
    #[serde(default)]
    pub api_keys: Vec<String>,
    #[serde(default)]
    pub headers: Vec<String>,
    pub client_cert_pem: Option<String>,
    pub client_key_pem: Option<String>,
    pub server_ca_pem: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    pub url: String,
    pub name: Option<String>,
    pub spec: Option<String>,
    #[serde(default)]
    pub checks: Vec<String>,
    pub schedule_minutes: Option<i64>,
    pub schedule_cron: Option<String>,
    pub schedule_jitter_seconds: Option<i64>,
    #[serde(default)]
    pub credentials: CredentialsInput,
}

/// `PATCH /targets/{id}`: absent leaves a field alone, `null` clears an optional one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetPatchInput {
    pub name: Option<String>,
    pub url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub spec: Option<Option<String>>,
    pub checks: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub schedule_minutes: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    pub schedule_cron: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub schedule_jitter_seconds: Option<Option<i64>>,
    pub credentials: Option<CredentialsInput>,
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn invalid(s: impl Into<String>) -> InputError {
    InputError::Invalid(s.into())
}

/// An http(s) URL with a host, in scope.
pub async fn checked_url(raw: &str, what: &str, scope: &Scope) -> Result<Url, InputError> {
    let raw = raw.trim();
    if raw.len() > MAX_FIELD {
        return Err(invalid(format!(
            "{what} is longer than {MAX_FIELD} characters"
        )));
    }
    let url =
        Url::parse(raw).map_err(|e| invalid(format!("{what} {raw:?} is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(format!(
            "{what} {raw:?} must be an http:// or https:// URL with a host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(format!(
            "{what} must not carry credentials in the URL; give them as the target's credentials"
        )));
    }
    scope
        .check(&url)
        .await
        .map_err(|e| InputError::Scope(format!("{what}: {e}")))?;
    Ok(url)
}

async fn checked_spec(spec: Option<String>, scope: &Scope) -> Result<Option<String>, InputError> {
    match spec.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some("auto") => Ok(Some("auto".into())),
        Some(s) if s.starts_with("http://") || s.starts_with("https://") => {
            Ok(Some(checked_url(s, "spec", scope).await?.to_string()))
        }
        Some(s) => Err(invalid(format!(
            "spec {s:?} must be `auto` or the http(s) URL of an OpenAPI or Swagger document (the server does not read its own files)"
        ))),
    }
}

fn checked_checks(list: Vec<String>) -> Result<Vec<String>, InputError> {
    let list: Vec<String> = list
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(p) = crate::checks::unknown_selection(&list) {
        return Err(invalid(format!(
            "checks: {p:?} names no check (see `authprobe checks`)"
        )));
    }
    Ok(list)
}

fn checked_schedule(m: Option<i64>) -> Result<Option<i64>, InputError> {
    match m {
        Some(m) if !(MIN_SCHEDULE_MINUTES..=MAX_SCHEDULE_MINUTES).contains(&m) => {
            Err(invalid(format!(
                "schedule_minutes must be between {MIN_SCHEDULE_MINUTES} and {MAX_SCHEDULE_MINUTES}"
            )))
        }
        m => Ok(m),
    }
}

/// A 5-field cron expression in UTC, at most every [`MIN_SCHEDULE_MINUTES`]; empty is none.
fn checked_cron(cron: Option<String>) -> Result<Option<String>, InputError> {
    match cron.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(c) => Cron::parse(c)
            .map(|c| Some(c.as_str().to_string()))
            .map_err(|e| invalid(format!("schedule_cron: {e}"))),
    }
}

fn checked_jitter(seconds: Option<i64>) -> Result<Option<i64>, InputError> {
    seconds
        .map(schedule::check_jitter)
        .transpose()
        .map_err(|e| invalid(format!("schedule_jitter_seconds: {e}")))
}

const BOTH_SCHEDULES: &str = "give schedule_minutes or schedule_cron, not both: a target runs on an interval or at the times of a cron expression";

fn checked_name(name: Option<String>) -> Result<Option<String>, InputError> {
    match name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) {
        Some(n) if n.chars().count() > 200 || n.chars().any(char::is_control) => Err(invalid(
            "name must be at most 200 characters, without control characters",
        )),
        n => Ok(n),
    }
}

/// Trims, drops empties, and checks every credential parses, so a scan does not fail on
/// a typo hours later.
pub fn checked_credentials(c: CredentialsInput) -> Result<TargetCredentials, InputError> {
    let opt = |s: Option<String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let creds = TargetCredentials {
        bearer: opt(c.bearer),
        basic: c.basic.filter(|b| !b.is_empty()),
        api_keys: c
            .api_keys
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        headers: c
            .headers
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        client_cert_pem: opt(c.client_cert_pem),
        client_key_pem: opt(c.client_key_pem),
        server_ca_pem: opt(c.server_ca_pem),
    };
    if let Some(b) = &creds.bearer
        && (b.len() > 16 * 1024 || b.chars().any(char::is_whitespace))
    {
        return Err(invalid(
            "credentials.bearer must be one token without spaces, at most 16 KiB",
        ));
    }
    if let Some(b) = &creds.basic
        && (!b.contains(':') || b.len() > MAX_FIELD || b.chars().any(char::is_control))
    {
        return Err(invalid("credentials.basic must be USER:PASSWORD"));
    }
    for k in &creds.api_keys {
        let ok = k.split_once('=').is_some_and(|(n, v)| {
            !n.trim().is_empty() && !v.is_empty() && n.bytes().all(|b| b.is_ascii_graphic())
        });
        if !ok || k.len() > MAX_FIELD {
            return Err(invalid(
                "each credentials.api_keys entry must be NAME=VALUE",
            ));
        }
    }
    for h in &creds.headers {
        let ok = h.split_once(':').is_some_and(|(n, _)| {
            let n = n.trim();
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic() && b != b':')
        });
        if !ok || h.len() > MAX_FIELD || h.chars().any(char::is_control) {
            return Err(invalid(
                "each credentials.headers entry must be 'Name: value'",
            ));
        }
    }
    for (v, what) in [
        (&creds.client_cert_pem, "client_cert_pem"),
        (&creds.client_key_pem, "client_key_pem"),
        (&creds.server_ca_pem, "server_ca_pem"),
    ] {
        if v.as_ref().is_some_and(|p| p.len() > MAX_PEM) {
            return Err(invalid(format!(
                "credentials.{what} is larger than {} KiB",
                MAX_PEM / 1024
            )));
        }
    }
    match (&creds.client_cert_pem, &creds.client_key_pem) {
        (Some(c), Some(k)) => {
            crate::load::identity_from_bytes(
                Path::new("client_cert_pem"),
                c.as_bytes(),
                Some((Path::new("client_key_pem"), k.as_bytes())),
                None,
            )
            .map_err(|e| invalid(format!("credentials: {e}")))?;
        }
        (None, None) => {}
        _ => {
            return Err(invalid(
                "credentials.client_cert_pem and client_key_pem go together",
            ));
        }
    }
    if let Some(ca) = &creds.server_ca_pem {
        crate::load::certs_from_pem(Path::new("server_ca_pem"), ca.as_bytes(), "server CA")
            .map_err(|e| invalid(format!("credentials: {e}")))?;
    }
    Ok(creds)
}

pub async fn checked_new(input: TargetInput, scope: &Scope) -> Result<NewTarget, InputError> {
    let url = checked_url(&input.url, "url", scope).await?;
    let schedule_minutes = checked_schedule(input.schedule_minutes)?;
    let schedule_cron = checked_cron(input.schedule_cron)?;
    if schedule_minutes.is_some() && schedule_cron.is_some() {
        return Err(invalid(BOTH_SCHEDULES));
    }
    let schedule_jitter_seconds = checked_jitter(input.schedule_jitter_seconds)?;
    if schedule_jitter_seconds.is_some_and(|j| j > 0)
        && schedule_minutes.is_none()
        && schedule_cron.is_none()
    {
        return Err(invalid(
            "schedule_jitter_seconds delays scheduled scans: give schedule_minutes or schedule_cron with it",
        ));
    }
    Ok(NewTarget {
        name: checked_name(input.name)?,
        url: url.to_string(),
        spec: checked_spec(input.spec, scope).await?,
        checks: checked_checks(input.checks)?,
        schedule_minutes,
        schedule_cron,
        schedule_jitter_seconds,
        credentials: checked_credentials(input.credentials)?,
    })
}

pub async fn checked_patch(
    input: TargetPatchInput,
    scope: &Scope,
) -> Result<TargetPatch, InputError> {
    let url = match input.url {
        Some(u) => Some(checked_url(&u, "url", scope).await?.to_string()),
        None => None,
    };
    let spec = match input.spec {
        Some(s) => Some(checked_spec(s, scope).await?),
        None => None,
    };
    let schedule_minutes = input.schedule_minutes.map(checked_schedule).transpose()?;
    let schedule_cron = input.schedule_cron.map(checked_cron).transpose()?;
    if matches!(
        (&schedule_minutes, &schedule_cron),
        (Some(Some(_)), Some(Some(_)))
    ) {
        return Err(invalid(BOTH_SCHEDULES));
    }
    Ok(TargetPatch {
        name: match input.name {
            Some(n) => {
                Some(checked_name(Some(n))?.ok_or_else(|| invalid("name must not be empty"))?)
            }
            None => None,
        },
        url,
        spec,
        checks: input.checks.map(checked_checks).transpose()?,
        schedule_minutes,
        schedule_cron,
        schedule_jitter_seconds: input
            .schedule_jitter_seconds
            .map(checked_jitter)
            .transpose()?,
        credentials: input.credentials.map(checked_credentials).transpose()?,
    })
}
