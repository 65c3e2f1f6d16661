//! `authprobe worker`: scans from the PostgreSQL job queue that `serve` fills, alongside
//! any number of other workers (src/fleet).

use crate::cli::args::WorkerArgs;
use anyhow::{Context, Result, bail};
use authprobe::fleet::{Fleet, FleetOptions};
use authprobe::service::{AppState, open_store, redacted_db, scope::Scope};
use authprobe::store::Backend;

pub async fn run_worker(a: WorkerArgs) -> Result<i32> {
    if !(a.db.starts_with("postgres://") || a.db.starts_with("postgresql://")) {
        bail!(
            "--db must be a postgres:// URL: workers share a PostgreSQL job queue (on SQLite, `authprobe serve` runs every scan itself)"
        );
    }
    // Targets' credentials were sealed by the server: a new key here would open none.
    let key_file = a
        .data_dir
        .clone()
        .unwrap_or_else(authprobe::service::default_data_dir)
        .join("secret.key");
    if std::env::var_os("AUTHPROBE_SECRET_KEY").is_none() && !key_file.exists() {
        bail!(
            "a worker needs the server's credentials key: set AUTHPROBE_SECRET_KEY (as for `authprobe serve`), or copy the server's secret.key to {}",
            key_file.display()
        );
    }
    let scope = Scope::parse(&a.allow_target).map_err(anyhow::Error::msg)?;
    let opened = open_store(Some(&a.db), a.data_dir.as_deref()).await?;
    if opened.store.backend() != Backend::Postgres {
        bail!("--db must be PostgreSQL");
    }
    let state = AppState::new(opened.store.clone(), scope);
    let jobs = super::serve::jobs(&a.jobs);
    let runner = state.runner(authprobe::http::Limits::default(), &jobs, "worker");
    let name = runner.worker.clone();
    let fleet = Fleet::connect(
        &a.db,
        runner,
        FleetOptions {
            host_limit: jobs.host_limit,
            connections: a.concurrency + 4,
        },
    )
    .await?;
    eprintln!(
        "authprobe: worker {name} · database {} · {} scans at once · scan scope {}",
        redacted_db(&opened.url),
        a.concurrency,
        state.scope.describe()
    );
    if let Some(path) = &a.ready_file {
        let tmp = path.with_extension("tmp");
        let ready = serde_json::json!({"worker": name, "db": redacted_db(&opened.url)});
        std::fs::write(&tmp, serde_json::to_vec(&ready)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path)?;
    }
    let stop = tokio_util::sync::CancellationToken::new();
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            super::lab::wait_for_shutdown().await;
            eprintln!(
                "authprobe: worker stopping: no new scan; the scans in hand finish or are handed back"
            );
            stop.cancel();
        });
    }
    fleet.work(a.concurrency as usize, stop, a.jobs.grace).await;
    Ok(0)
}
