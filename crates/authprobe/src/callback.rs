//! The callback listener: an HTTP listener on this machine that serves documents a check
//! registers (a JWKS for `jku`, a certificate for `x5u`) and records every path the target
//! fetched. An engine service: started on the first check that asks, shared by every check
//! of the scan, stopped with the scan. Targets off this machine reach it through
//! `--callback-url`, which names the URL that forwards to its port.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

/// The most a fetch's request head may be; anything longer is cut (paths are all we read).
const HEAD_CAP: usize = 8192;
/// How long one fetch may take to send its request and read the answer.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

type Docs = Arc<Mutex<Vec<(String, &'static str, String)>>>;

pub struct Callback {
    base: String,
    docs: Docs,
    seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Callback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Callback {
    /// Listens on loopback: on the port of `public` when given (what forwards to us), else
    /// on any free port. `Err` says why no listener can serve this target.
    pub async fn start(target: &Url, public: Option<&Url>) -> Result<Self, String> {
        if public.is_none() && !is_loopback(target) {
            return Err("the target cannot reach a listener on this machine: give --callback-url (a URL that reaches port P of 127.0.0.1 here)".into());
        }
        let bind = match public {
            Some(u) => format!("127.0.0.1:{}", u.port_or_known_default().unwrap_or(80)),
            None => "127.0.0.1:0".to_string(),
        };
        let l = TcpListener::bind(&bind)
            .await
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        let addr = l
            .local_addr()
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        let docs: Docs = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(serve(l, docs.clone(), seen.clone()));
        let base = match public {
            Some(u) => u.as_str().trim_end_matches('/').to_string(),
            None => format!("http://{addr}"),
        };
        Ok(Self {
            base,
            docs,
            seen,
            task,
        })
    }

    /// The URL the target is given for `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Serves `body` at `path` from now on, replacing what was there.
    pub fn serve(&self, path: &str, content_type: &'static str, body: String) {
        if let Ok(mut d) = self.docs.lock() {
            d.retain(|(p, _, _)| p != path);
            d.push((path.to_string(), content_type, body));
        }
    }

    /// The documents served under `prefix`, by path: what a rerun of the evidence
    /// needs served again once the listener is gone.
    pub fn documents(&self, prefix: &str) -> Vec<(String, String)> {
        self.docs
            .lock()
            .map(|d| {
                d.iter()
                    .filter(|(p, _, _)| p.starts_with(prefix))
                    .map(|(p, _, body)| (p.clone(), body.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The paths under `prefix` the target has fetched so far.
    pub fn fetched(&self, prefix: &str) -> Vec<String> {
        self.seen
            .lock()
            .map(|s| {
                s.iter()
                    .filter(|p| p.starts_with(prefix))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn is_loopback(target: &Url) -> bool {
    match target.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

async fn serve(l: TcpListener, docs: Docs, seen: Arc<Mutex<Vec<String>>>) {
    while let Ok((mut s, _)) = l.accept().await {
        let seen = seen.clone();
        let docs = docs.clone();
        tokio::spawn(async move {
            let work = async {
                let mut buf = vec![0u8; HEAD_CAP];
                let n = s.read(&mut buf).await.ok()?;
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let path = head.split_whitespace().nth(1)?.to_string();
                seen.lock().ok()?.push(path.clone());
                let doc = docs
                    .lock()
                    .ok()?
                    .iter()
                    .find(|(p, _, _)| *p == path)
                    .cloned();
                let resp = match doc {
                    Some((_, ct, body)) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                    None => {
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_string()
                    }
                };
                s.write_all(resp.as_bytes()).await.ok()
            };
            let _ = tokio::time::timeout(FETCH_TIMEOUT, work).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_what_is_registered_and_records_fetches() {
        let target = Url::parse("http://127.0.0.1:1/").unwrap();
        let cb = Callback::start(&target, None).await.unwrap();
        cb.serve("/a/jwks.json", "application/json", "{\"keys\":[]}".into());
        let url = cb.url("/a/jwks.json");
        let addr = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /a/jwks.json HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(
            out.starts_with("HTTP/1.1 200") && out.ends_with("{\"keys\":[]}"),
            "{out}"
        );
        assert_eq!(cb.fetched("/a/"), vec!["/a/jwks.json".to_string()]);
        assert!(cb.fetched("/b/").is_empty());
    }

    #[tokio::test]
    async fn a_remote_target_needs_a_callback_url() {
        let target = Url::parse("https://api.example.test/").unwrap();
        let e = Callback::start(&target, None).await.err().unwrap();
        assert!(e.contains("--callback-url"), "{e}");
    }
}
