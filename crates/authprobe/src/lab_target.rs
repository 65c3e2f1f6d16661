//! The built-in lab as a scan target: the options a user would give on the command line to
//! scan it (every credential it issued, its CA, its login endpoint), for `authprobe demo`
//! and the end-to-end tests.

use crate::engine::{BasicOptions, Credentials, ScanOptions};
use crate::http::{ClientIdentity, Limits, TlsSettings};
use crate::load;
use anyhow::{Context, Result, anyhow};
use std::sync::Arc;
use url::Url;

/// Scan options for the lab described by `ready`, within `limits`.
pub fn scan_options(ready: &authprobe_lab::Ready, limits: Limits) -> Result<ScanOptions> {
    let at = |path: &str| lab_url(&format!("{path}{}", ready.protected_path));
    let (user, pass) = ready
        .basic
        .split_once(':')
        .ok_or_else(|| anyhow!("lab basic credentials malformed"))?;
    let creds = Credentials {
        bearer: Some(ready.token.clone()),
        basic: Some((user.to_string(), pass.to_string())),
        client: Some(Arc::new(load::load_identity(
            &ready.client_cert,
            &ready.client_key,
        )?)),
        client_ca: Some((ready.ca_cert.clone(), ready.client_ca_key.clone())),
        revoked: revoked_identity(ready)?,
        ..Credentials::default()
    };
    let tls = TlsSettings {
        server_ca: Some((ready.ca_cert.clone(), load::load_server_ca(&ready.ca_cert)?)),
        insecure: false,
    };
    let basic = BasicOptions {
        url: Some(lab_url(&format!(
            "{}{}",
            ready.https_url,
            authprobe_lab::LOGIN_PATH
        ))?),
        // The lab's password is random, per run, and only ever crosses loopback.
        allow_cleartext: true,
        ..BasicOptions::default()
    };
    Ok(ScanOptions::new(at(&ready.https_url)?)
        .with_http_url(Some(at(&ready.http_url)?))
        // The lab serves the same resource at the application's own address with --origin.
        .with_origin(ready.origin_url.as_deref().map(at).transpose()?)
        .with_credentials(creds)
        .with_limits(limits)
        .with_tls(tls)
        .with_basic(basic))
}

/// The lab's API key under both names its description may give it, for a whole-API scan:
/// where each goes is the description's to say (a header, or the query with
/// `spec.apikey_in_query`). Not part of [`scan_options`]: a single-URL scan would send
/// both as headers on every authorized request.
pub fn api_keys(ready: &authprobe_lab::Ready) -> Vec<crate::options::ApiKey> {
    if ready.api_key.is_empty() {
        return Vec::new();
    }
    [authprobe_lab::APIKEY_HEADER, authprobe_lab::APIKEY_QUERY]
        .into_iter()
        .map(|name| crate::options::ApiKey {
            name: name.to_string(),
            value: ready.api_key.clone(),
            location: crate::options::KeyLocation::Header,
        })
        .collect()
}

fn lab_url(s: &str) -> Result<Url> {
    Url::parse(s).with_context(|| format!("lab URL {s:?} is not a valid URL"))
}

/// The certificate the lab revoked in its CRL, which it writes beside the user's (not in
/// the ready JSON, whose shape is a contract); a user of the lab passes it as
/// `--revoked-cert DIR/revoked.pem --revoked-key DIR/revoked.key`.
fn revoked_identity(ready: &authprobe_lab::Ready) -> Result<Option<Arc<ClientIdentity>>> {
    let cert = ready.client_cert.with_file_name("revoked.pem");
    let key = ready.client_cert.with_file_name("revoked.key");
    if !(cert.exists() && key.exists()) {
        return Ok(None);
    }
    Ok(Some(Arc::new(load::load_identity(&cert, &key)?)))
}
