//! A throwaway PostgreSQL cluster for tests: one per test binary, started on first use,
//! a fresh database per test.
//!
//! It finds `initdb`, `postgres` and `psql` under `/usr/lib/postgresql/<highest>/bin` or
//! on `PATH`, initialises a cluster in a temporary directory (as the `postgres` user when
//! the tests run as root: PostgreSQL refuses root) and starts it on a free port of
//! 127.0.0.1 with fsync off. A shell that holds the cluster reads the test process's pipe:
//! when the test binary exits, however it exits, the pipe closes and the shell stops the
//! server and removes the directory.
//!
//! Without PostgreSQL, [`database`] prints `SKIPPED` and returns `None`, unless `CI` is
//! set: CI must have it, so there it panics.
//!
//! [`restart`] stops the server (fast shutdown: every connection is cut) and starts it
//! again on the same port and data: the cluster is shared by the test binary, so only a
//! binary whose tests all expect it may call it (tests/fleet.rs).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A database of the shared cluster, dropped (with its connections) on drop.
pub struct PgDatabase {
    name: String,
    url: String,
    psql: PathBuf,
    port: u16,
}

impl PgDatabase {
    /// `postgres://postgres@127.0.0.1:PORT/NAME`
    pub fn url(&self) -> &str {
        &self.url
    }
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = psql(
            &self.psql,
            self.port,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
    }
}

struct Cluster {
    port: u16,
    psql: PathBuf,
    /// The holder shell; its stdin is the pipe whose end stops the cluster, and a line on
    /// which restarts it.
    holder: Mutex<Child>,
}

static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();

/// Restarts the shared cluster (see the module's note) and returns once it answers again.
pub fn restart() {
    use std::io::Write;
    let cluster = CLUSTER
        .get()
        .and_then(Option::as_ref)
        .expect("a cluster to restart");
    {
        let mut holder = cluster.holder.lock().unwrap();
        let stdin = holder.stdin.as_mut().expect("the holder's pipe");
        stdin
            .write_all(b"restart\n")
            .and_then(|()| stdin.flush())
            .expect("restart asked");
    }
    // The old server refuses connections while it stops; then the new one takes them.
    std::thread::sleep(Duration::from_millis(300));
    let deadline = Instant::now() + Duration::from_secs(30);
    while psql(&cluster.psql, cluster.port, "SELECT 1").is_err() {
        assert!(Instant::now() < deadline, "PostgreSQL did not come back");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A fresh, empty database, or `None` (with a loud note) when PostgreSQL is not installed
/// and `CI` is not set.
pub fn database() -> Option<PgDatabase> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let cluster = CLUSTER.get_or_init(start).as_ref()?;
    let name = format!(
        "test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    psql(
        &cluster.psql,
        cluster.port,
        &format!("CREATE DATABASE \"{name}\""),
    )
    .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    Some(PgDatabase {
        url: format!("postgres://postgres@127.0.0.1:{}/{name}", cluster.port),
        name,
        psql: cluster.psql.clone(),
        port: cluster.port,
    })
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The directory holding `initdb` and `postgres`: the highest Debian/Ubuntu version, else
/// the one on PATH.
fn find_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    which("initdb").and_then(|p| p.parent().map(Path::to_path_buf))
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program args` as the postgres user when we are root.
fn command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn psql(psql: &Path, port: u16, sql: &str) -> Result<String, String> {
    let output = Command::new(psql)
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .args(["-c", sql])
        .env("PGCONNECT_TIMEOUT", "5")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn start() -> Option<Cluster> {
    let Some(bin) = find_bin_dir() else {
        if in_ci() {
            panic!(
                "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin or on PATH), and CI is set: the store tests must run on PostgreSQL in CI"
            );
        }
        eprintln!(
            "\n*** SKIPPED: PostgreSQL not installed (no initdb under /usr/lib/postgresql/*/bin or on PATH); the store tests ran on SQLite only ***\n"
        );
        return None;
    };
    let psql_bin = [bin.join("psql")]
        .into_iter()
        .find(|p| p.is_file())
        .or_else(|| which("psql"))
        .expect("psql beside initdb or on PATH");
    let as_postgres = is_root();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let dir = std::env::temp_dir().join(format!("authprobe-pg-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir).expect("cluster directory");
    if as_postgres {
        let status = Command::new("chown")
            .args(["postgres:", dir.to_str().unwrap()])
            .status()
            .expect("chown");
        assert!(status.success(), "chown postgres {}", dir.display());
    }
    let data = dir.join("data");
    let output = command(as_postgres, &bin.join("initdb"))
        .args(["-D", data.to_str().unwrap()])
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("initdb runs");
    if !output.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        panic!(
            "initdb failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let mut last_log = String::new();
    for _attempt in 0..5 {
        let port = free_port();
        // The holder: starts the server, waits for its stdin (our pipe) to close, then
        // stops the server at once and removes the directory.
        // Each line on the pipe restarts the server (fast shutdown, then start again).
        let script = r#"
            run() {
                "$1/postgres" -D "$2/data" -k "$2" -p "$3" -c listen_addresses=127.0.0.1 \
                    -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
                    -c max_connections=200 >>"$2/log" 2>&1 &
                pid=$!
            }
            : >"$2/log"
            run "$@"
            while read -r _line; do
                kill -INT "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
                run "$@"
            done
            kill -QUIT "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            if [ ! -e "$2/retry" ]; then rm -rf "$2"; fi
        "#;
        let mut holder = command(as_postgres, Path::new("/bin/sh"))
            .args(["-c", script, "pg-holder"])
            .arg(&bin)
            .arg(&dir)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the cluster holder starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if psql(&psql_bin, port, "SELECT 1").is_ok() {
                return Some(Cluster {
                    port,
                    psql: psql_bin,
                    holder: Mutex::new(holder),
                });
            }
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            let failed = log.contains("FATAL") || Instant::now() > deadline;
            if failed || holder.try_wait().ok().flatten().is_some() {
                last_log = log;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Close the pipe: the holder stops what it started, and keeps the directory for
        // the next attempt (a port taken meanwhile).
        let retry = dir.join("retry");
        let _ = std::fs::write(&retry, b"");
        drop(holder.stdin.take());
        let _ = holder.wait();
        let _ = std::fs::remove_file(&retry);
    }
    let _ = std::fs::remove_dir_all(&dir);
    panic!("PostgreSQL did not start:\n{last_log}");
}
