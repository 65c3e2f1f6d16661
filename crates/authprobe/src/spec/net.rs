//! Descriptions served over HTTP: one URL ([`fetch`]) or the usual places on an origin
//! ([`discover`], `--spec auto`). Requests go through the scanner's [`Http`], so they
//! count against its budget and obey its limits; `$ref`s to other files are not followed.

use super::{AUTO_PATHS, ApiSpec, MAX_SPEC_BYTES, SpecError, parse};
use crate::http::{Http, Probe, SendError, Value};
use url::Url;

/// GETs `url` and reads the answer as a description. The body is read up to `http`'s
/// `Limits::max_body`: the scan's default (1 MiB) is too small for large descriptions, so
/// build the `Http` used here with `max_body` of [`MAX_SPEC_BYTES`] (32 MiB); a longer
/// answer is refused, never parsed truncated. Redirects are not followed.
pub async fn fetch(http: &Http, url: &Url) -> Result<(ApiSpec, Url), SpecError> {
    let fail = |reason: String| SpecError::Fetch {
        url: url.to_string(),
        reason,
    };
    let probe = Probe::new("GET", url.clone()).header(
        "Accept",
        Value::lit("application/json, application/yaml;q=0.9, */*;q=0.1"),
    );
    let answer = http.send(&probe).await.map_err(|e| match e {
        SendError::Transport(t) => fail(t.to_string()),
        other => fail(other.to_string()),
    })?;
    if answer.truncated {
        let cap = http.limits().max_body.min(MAX_SPEC_BYTES);
        return Err(fail(format!(
            "the answer is larger than {cap} bytes, the most read for a description"
        )));
    }
    if (300..400).contains(&answer.status) {
        let to = answer.header("location").unwrap_or("nowhere");
        return Err(fail(format!(
            "answered HTTP {} (redirects are not followed; the description may be at {to})",
            answer.status
        )));
    }
    if !(200..300).contains(&answer.status) {
        return Err(fail(format!("answered HTTP {}", answer.status)));
    }
    let spec = parse(&answer.body, url.as_str())?;
    Ok((spec, url.clone()))
}

/// Tries [`AUTO_PATHS`] in order on `origin` (its path is replaced) and returns the first
/// description that parses, with its URL; when none does, an error lists what each path
/// answered.
pub async fn discover(http: &Http, origin: &Url) -> Result<(ApiSpec, Url), SpecError> {
    let mut tried = Vec::new();
    for path in AUTO_PATHS {
        let url = origin.join(path).map_err(|e| SpecError::Fetch {
            url: origin.to_string(),
            reason: format!("cannot join {path}: {e}"),
        })?;
        match fetch(http, &url).await {
            Ok(found) => return Ok(found),
            Err(SpecError::Fetch { reason, .. }) => tried.push(format!("  {path}: {reason}")),
            Err(e) => tried.push(format!("  {path}: {}", without_source(&e, url.as_str()))),
        }
    }
    Err(SpecError::NotFound {
        origin: origin.origin().ascii_serialization(),
        tried: tried.join("\n"),
    })
}

/// An error's text without the leading "URL: " every [`SpecError`] starts with.
fn without_source(e: &SpecError, url: &str) -> String {
    let s = e.to_string();
    match s.strip_prefix(url).and_then(|r| r.strip_prefix(": ")) {
        Some(rest) => rest.to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Limits, TlsSettings};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A loopback server answering each request path from `routes` (404 otherwise).
    async fn server(routes: &'static [(&'static str, u16, &'static str)]) -> Url {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buf[..n]);
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let (status, body) = routes
                        .iter()
                        .find(|(p, _, _)| *p == path)
                        .map(|(_, s, b)| (*s, *b))
                        .unwrap_or((404, "not found"));
                    let resp = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = s.write_all(resp.as_bytes()).await;
                });
            }
        });
        Url::parse(&format!("http://{addr}/app/")).unwrap()
    }

    fn http() -> Http {
        Http::new(
            Limits {
                max_body: MAX_SPEC_BYTES,
                timeout: Duration::from_secs(5),
                ..Limits::default()
            },
            TlsSettings::default(),
        )
    }

    const YAML: &str = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get: {responses: {'200': {description: ok}}}\n";

    #[tokio::test]
    async fn discover_takes_the_first_path_that_parses_and_says_what_the_others_answered() {
        let origin = server(&[("/openapi.json", 500, "oops"), ("/openapi.yaml", 200, YAML)]).await;
        let (spec, url) = discover(&http(), &origin).await.unwrap();
        assert_eq!(url.path(), "/openapi.yaml");
        assert_eq!(spec.operations.len(), 1);
        assert_eq!(spec.source, url.as_str());

        let empty = server(&[("/swagger.json", 200, "<html>hello</html>")]).await;
        let e = discover(&http(), &empty).await.unwrap_err().to_string();
        assert!(e.contains("/openapi.json: answered HTTP 404"), "{e}");
        assert!(e.contains("/swagger.json: not an OpenAPI"), "{e}");
        assert!(e.contains("/.well-known/openapi.json"), "{e}");
    }

    #[tokio::test]
    async fn fetch_refuses_refs_to_other_files() {
        const EXT: &str = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: 'paths.yaml#/a'\n";
        let origin = server(&[("/spec.yaml", 200, EXT)]).await;
        let e = fetch(&http(), &origin.join("/spec.yaml").unwrap())
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("points to another file"), "{e}");
    }
}
