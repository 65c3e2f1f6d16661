//! `authprobe lab`: the built-in target API, serving until SIGINT or SIGTERM.

use crate::cli::args::LabArgs;
use crate::cli::output;
use anyhow::{Context, Result};
use std::path::Path;

pub async fn run_lab(a: LabArgs) -> Result<i32> {
    let lab = authprobe_lab::start(authprobe_lab::LabOptions {
        profile: a.profile.parse()?,
        flaws: a.flaws,
        modes: a.modes,
        origin: a.origin,
        open_operations: a.open_operations,
        generated_operations: a.generated_operations,
        latency: a.latency,
    })
    .await?;
    let json = serde_json::to_string(&lab.ready)?;
    match &a.ready_file {
        Some(p) => {
            // Write then rename, so a reader polling for the file never sees half of it.
            let tmp = p.with_extension("tmp");
            std::fs::write(&tmp, &json)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, p).with_context(|| format!("cannot write {}", p.display()))?;
        }
        None => println!("{json}"),
    }
    // On stderr: stdout may be the ready JSON a script parses.
    let exe = std::env::args()
        .next()
        .unwrap_or_else(|| "authprobe".into());
    if let Some(p) = &a.ready_file {
        output::note(&format!(
            "authprobe lab: ready; scan it with: {} scan --lab {}",
            shell_quote(&exe),
            shell_quote(&p.display().to_string())
        ));
    }
    output::note(&format!(
        "authprobe lab: {}: {}",
        if a.ready_file.is_some() {
            "or in full"
        } else {
            "ready; scan it with"
        },
        scan_command(&exe, &lab.ready)
    ));
    wait_for_shutdown().await;
    drop(lab);
    Ok(0)
}

/// The `authprobe scan` line that scans this lab with every flag filled in, equivalent
/// to `scan --lab` (see `lab_target::scan_options`), for a ready JSON on stdout.
fn scan_command(exe: &str, r: &authprobe_lab::Ready) -> String {
    let q = |s: &str| shell_quote(s);
    let p = |p: &Path| shell_quote(&p.display().to_string());
    let mut c = format!(
        "{} scan {} --http-url {} --bearer {} --basic {} --basic-url {} --allow-cleartext-basic \
         --client-cert {} --client-key {} --server-ca {} --client-ca-cert {} --client-ca-key {}",
        q(exe),
        q(&format!("{}{}", r.https_url, r.protected_path)),
        q(&format!("{}{}", r.http_url, r.protected_path)),
        q(&r.token),
        q(&r.basic),
        q(&format!("{}{}", r.https_url, authprobe_lab::LOGIN_PATH)),
        p(&r.client_cert),
        p(&r.client_key),
        p(&r.ca_cert),
        p(&r.ca_cert),
        p(&r.client_ca_key),
    );
    if let Some(o) = &r.origin_url {
        c.push_str(&format!(
            " --origin {}",
            q(&format!("{o}{}", r.protected_path))
        ));
    }
    let revoked = r.client_cert.with_file_name("revoked.pem");
    if revoked.exists() {
        c.push_str(&format!(
            " --revoked-cert {} --revoked-key {}",
            p(&revoked),
            p(&r.client_cert.with_file_name("revoked.key"))
        ));
    }
    c
}

/// Single quotes unless the word is plainly safe, so the printed line pastes as is.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-:=@%+,".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

pub async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
