//! What the end-to-end tests share: a lab on 127.0.0.1, the options a user would scan it
//! with, the scan itself and the ids it found.

// Each test file compiles this module on its own and uses only some of it.
#![allow(dead_code)]

pub mod pg;
pub mod server;

use authprobe::engine::{self, Progress, ScanOptions};
use authprobe::http::Limits;
use authprobe::report::Report;
use authprobe_lab::{Lab, LabOptions, Profile};
use std::sync::Arc;
use std::time::Duration;

/// A lab with `flaws` switched on over `profile`.
pub async fn lab(profile: Profile, flaws: &[&str]) -> Lab {
    lab_with(LabOptions {
        profile,
        flaws: strings(flaws),
        origin: false,
        modes: Vec::new(),
        ..Default::default()
    })
    .await
}

pub async fn lab_with(options: LabOptions) -> Lab {
    authprobe_lab::start(options).await.expect("lab starts")
}

pub fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Default limits but a short timeout: the lab answers at once, and a test that waits
/// ten seconds per request has found a bug anyway.
pub fn quick_limits() -> Limits {
    Limits {
        timeout: Duration::from_secs(5),
        ..Limits::default()
    }
}

/// The options `authprobe demo` would scan `lab` with.
pub fn options(lab: &Lab, limits: Limits) -> ScanOptions {
    authprobe::lab_target::scan_options(&lab.ready, limits).expect("options")
}

/// The lab's token signing key, as a user who knows their staging key gives it: the lab
/// binds tokens to the certificate (RFC 8705), so a swapped-certificate probe can only
/// tell anything with a token re-bound to the probe certificate.
pub fn give_signing_key(opts: &mut ScanOptions, lab: &Lab) {
    let key = std::fs::read_to_string(&lab.jwt_key).expect("lab key");
    if key.starts_with("-----BEGIN") {
        opts.jwt.key = Some(lab.jwt_key.clone());
    } else {
        opts.jwt.secret = Some(key.trim().to_string());
    }
}

pub async fn scan(opts: ScanOptions) -> Report {
    engine::scan(opts, Arc::new(Progress::default()))
        .await
        .expect("scan completes")
}

/// What a user passes on the command line to scan `lab` as its user: the token, the
/// client certificate and key, and the lab CA for the server certificate.
pub fn lab_cli_credentials(lab: &Lab) -> Vec<std::ffi::OsString> {
    let r = &lab.ready;
    vec![
        "--bearer".into(),
        r.token.clone().into(),
        "--client-cert".into(),
        r.client_cert.clone().into(),
        "--client-key".into(),
        r.client_key.clone().into(),
        "--server-ca".into(),
        r.ca_cert.clone().into(),
    ]
}

/// The ids of the findings, in report order.
pub fn ids(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.id.as_str()).collect()
}

/// The ids of the findings, sorted.
pub fn sorted_ids(r: &Report) -> Vec<&str> {
    let mut v = ids(r);
    v.sort();
    v
}
