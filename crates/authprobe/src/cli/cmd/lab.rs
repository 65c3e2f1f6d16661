//! `authprobe lab`: the built-in target API, serving until SIGINT or SIGTERM.

use crate::cli::args::LabArgs;
use anyhow::{Context, Result};

pub async fn run_lab(a: LabArgs) -> Result<i32> {
    let lab = authprobe_lab::start(authprobe_lab::LabOptions {
        profile: a.profile.parse()?,
        flaws: a.flaws,
        modes: a.modes,
        origin: a.origin,
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
    wait_for_shutdown().await;
    drop(lab);
    Ok(0)
}

async fn wait_for_shutdown() {
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
