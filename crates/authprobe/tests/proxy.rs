//! `--proxy`: a scan of the lab through a small recording proxy (CONNECT for https://,
//! absolute-form forwarding for http://) is seen by it and still works; the proxy
//! variables of the environment are honoured only with `--proxy env`.

mod common;

use authprobe::http::{Proxy, ProxyRoute};
use authprobe_lab::{Lab, Profile};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const BIN: &str = env!("CARGO_BIN_EXE_authprobe");

/// A proxy on 127.0.0.1 that records each connection's first request line (`CONNECT
/// host:port` or `GET http://host:port/path`) and then relays bytes both ways.
struct Recorder {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let _ = relay(conn, log).await;
                });
            }
        });
        Recorder { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

async fn relay(conn: TcpStream, log: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn);
    let mut head = Vec::new();
    loop {
        let before = head.len();
        if reader.read_until(b'\n', &mut head).await? == 0 {
            return Ok(());
        }
        if &head[before..] == b"\r\n" {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let first = text.lines().next().unwrap_or("").to_string();
    let mut parts = first.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    log.lock().unwrap().push(format!("{method} {target}"));
    let early = reader.buffer().to_vec();
    let mut client = reader.into_inner();
    if method == "CONNECT" {
        let mut upstream = TcpStream::connect(target).await?;
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await?;
        upstream.write_all(&early).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    } else {
        let url = url::Url::parse(target).map_err(std::io::Error::other)?;
        let addr = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(80)
        );
        let mut upstream = TcpStream::connect(addr).await?;
        upstream.write_all(&head).await?;
        upstream.write_all(&early).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    }
    Ok(())
}

fn host_port(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    format!("{}:{}", u.host_str().unwrap(), u.port().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_through_the_proxy_is_seen_by_it_and_still_works() {
    let proxy = Recorder::start().await;
    let lab = common::lab(Profile::Hardened, &["auth.missing"]).await;
    let mut opts = common::options(&lab, common::quick_limits());
    opts.proxy = Some(Proxy {
        route: ProxyRoute::Url(url::Url::parse(&proxy.url()).unwrap()),
        ca: None,
    });
    let report = common::scan(opts).await;
    assert!(common::ids(&report).contains(&"auth.missing"), "{report:?}");
    let seen = proxy.seen();
    let connect = format!("CONNECT {}", host_port(&lab.ready.https_url));
    assert!(seen.contains(&connect), "{seen:?}");
    let forwarded = format!("GET {}", lab.ready.http_url);
    assert!(
        seen.iter().any(|s| s.starts_with(&forwarded)),
        "the plain-HTTP probe is forwarded too: {seen:?}"
    );
    assert!(
        seen.iter()
            .all(|s| s.starts_with("CONNECT ") || s.starts_with("GET ")),
        "{seen:?}"
    );
    // The prober's own connections would bypass the proxy: those checks say why they
    // did not run, and no section pretends they did.
    let skipped: Vec<_> = report
        .checks_skipped
        .iter()
        .filter(|s| s.id.starts_with("tls.legacy_protocol") || s.id == "tls.cert_invalid")
        .collect();
    assert_eq!(skipped.len(), 2, "{:?}", report.checks_skipped);
    assert!(
        skipped.iter().all(|s| s.reason.contains("--proxy")),
        "{skipped:?}"
    );
    assert!(report.tls.is_none() && report.client_auth.is_none());
}

/// `authprobe scan` of the lab with the proxy variables all pointing at `proxy`.
async fn scan_with_env(lab: &Lab, proxy: &Recorder, extra: &[&str]) -> std::process::Output {
    let r = &lab.ready;
    let target = format!("{}{}", r.https_url, r.protected_path);
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["scan", &target, "--checks", "auth.missing", "--no-progress"])
        .args(common::lab_cli_credentials(lab))
        .args(extra);
    for v in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"] {
        cmd.env(v, proxy.url()).env(v.to_lowercase(), proxy.url());
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_variables_are_honoured_only_with_proxy_env() {
    let proxy = Recorder::start().await;
    let lab = common::lab(Profile::Hardened, &[]).await;

    let out = scan_with_env(&lab, &proxy, &[]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        proxy.seen(),
        Vec::<String>::new(),
        "HTTPS_PROXY was used unasked"
    );

    let out = scan_with_env(&lab, &proxy, &["--proxy", "env"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("goes through"), "{stderr}");
    let connect = format!("CONNECT {}", host_port(&lab.ready.https_url));
    assert!(proxy.seen().contains(&connect), "{:?}", proxy.seen());
}

#[test]
fn a_bad_proxy_is_a_one_line_error() {
    for (args, says) in [
        (&["--proxy", "ftp://127.0.0.1:21"][..], "must be an http://"),
        (&["--proxy", "not a url"][..], "is not a valid URL"),
        (
            &[
                "--proxy",
                "http://127.0.0.1:9",
                "--proxy-ca",
                "/nonexistent.pem",
            ][..],
            "cannot read --proxy-ca /nonexistent.pem",
        ),
    ] {
        let out = std::process::Command::new(BIN)
            .args(["scan", "https://127.0.0.1:1/"])
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
