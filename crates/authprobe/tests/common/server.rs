//! An `authprobe serve` process for the tests: started on an ephemeral port with a
//! database, its ready JSON read, its admin key loaded; killed (SIGKILL) when dropped.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_authprobe");

pub struct Server {
    pub child: Child,
    pub url: String,
    pub db: String,
    pub key: String,
    pub data_dir: PathBuf,
    pub client: reqwest::Client,
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

impl Server {
    /// Starts a server on `db` with its files in `data_dir`, and waits for its ready file.
    pub async fn start(db: &str, data_dir: &Path, extra: &[&str]) -> Server {
        let ready = data_dir.join(format!("ready-{}.json", std::process::id()));
        let _ = std::fs::remove_file(&ready);
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--db")
            .arg(db)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--ready-file")
            .arg(&ready)
            .args(extra)
            .env_remove("AUTHPROBE_SECRET_KEY")
            .env_remove("AUTHPROBE_DB")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("serve starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        let text = loop {
            if let Ok(t) = std::fs::read_to_string(&ready)
                && !t.is_empty()
            {
                break t;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("serve exited before it was ready: {status}");
            }
            assert!(Instant::now() < deadline, "serve not ready within 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let v: Value = serde_json::from_str(&text).expect("ready JSON");
        let key_file = data_dir.join("admin.key");
        let key = std::fs::read_to_string(&key_file)
            .expect("admin key file")
            .trim()
            .to_string();
        Server {
            child,
            url: v["url"].as_str().unwrap().to_string(),
            db: v["db"].as_str().unwrap().to_string(),
            key,
            data_dir: data_dir.to_path_buf(),
            client: client(),
        }
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(self.at(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("GET");
        let status = r.status().as_u16();
        (status, json(r).await)
    }

    pub async fn get_text(&self, path: &str) -> (u16, String, String) {
        let r = self
            .client
            .get(self.at(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("GET");
        let status = r.status().as_u16();
        let ctype = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, ctype, r.text().await.unwrap_or_default())
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, self.at(path))
            .bearer_auth(&self.key);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&b).unwrap());
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        (status, json(r).await)
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// Polls a scan until it leaves queued/running, at most `limit`.
    pub async fn wait_scan(&self, id: i64, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let (s, v) = self.get(&format!("/api/v1/scans/{id}")).await;
            assert_eq!(s, 200, "{v}");
            let st = v["status"].as_str().unwrap_or_default().to_string();
            if st != "queued" && st != "running" {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "scan {id} still {st} after {limit:?}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A dashboard session: a user made with the admin key, signed in through the form.
    pub async fn session_cookie(&self) -> String {
        let (s, v) = self
            .post(
                "/api/v1/users",
                serde_json::json!({"username": "tester", "password": "a long test password"}),
            )
            .await;
        assert!(s == 201 || s == 400, "{v}");
        let r = self
            .client
            .post(self.at("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("username=tester&password=a+long+test+password")
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 303, "login");
        let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
        set.split(';').next().unwrap().to_string()
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub async fn json(r: reqwest::Response) -> Value {
    let text = r.text().await.unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The lab's credentials as a target's `credentials` object.
pub fn lab_credentials(lab: &authprobe_lab::Lab) -> Value {
    let r = &lab.ready;
    let read = |p: &Path| std::fs::read_to_string(p).expect("lab file");
    serde_json::json!({
        "bearer": r.token,
        "client_cert_pem": read(&r.client_cert),
        "client_key_pem": read(&r.client_key),
        "server_ca_pem": read(&r.ca_cert),
    })
}

pub fn lab_url(lab: &authprobe_lab::Lab) -> String {
    format!("{}{}", lab.ready.https_url, lab.ready.protected_path)
}

/// Runs the binary off the async runtime (labs and servers serve on it meanwhile).
pub async fn run_bin(args: Vec<String>, envs: Vec<(String, String)>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(&args)
            .envs(envs)
            .env_remove("AUTHPROBE_BEARER")
            .env_remove("AUTHPROBE_BASIC")
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs")
    })
    .await
    .expect("join")
}

/// A listener that accepts and never answers: a scan of it waits out its timeouts, long
/// enough to kill or stop what runs it in the middle.
pub async fn tarpit() -> (String, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", l.local_addr().unwrap());
    let h = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    (url, h)
}
