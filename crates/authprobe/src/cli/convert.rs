//! What the arguments mean for the library: [`super::args`] turned into
//! [`ScanOptions`], [`Limits`] and the cracker's options, checking each value (URLs, header
//! names, key files) before anything is sent.

use super::args::{CrackArgs, Format, JwtArgs, LimitArgs, ScanArgs};
use super::cmd::crack::CrackOptions;
use super::output;
use anyhow::{Context, Result, anyhow, bail};
use authprobe::http::{Limits, Proxy, ProxyRoute, TlsSettings};
use authprobe::load::CertAndKey;
use authprobe::options::{BasicOptions, Credentials, JwtOptions, ScanOptions};
use authprobe::{checks, load};
use std::path::PathBuf;
use std::time::Duration;

fn jwt_options(a: &JwtArgs, max_time: Duration) -> Result<JwtOptions> {
    if let Some(p) = &a.jwt_key {
        load::check_jwt_key(p)?;
    }
    if let Some(p) = &a.jwt_public_key {
        load::check_jwt_public_key(p)?;
    }
    for w in &a.wordlist {
        std::fs::metadata(w).with_context(|| format!("cannot read wordlist {}", w.display()))?;
    }
    Ok(JwtOptions {
        secret: a.jwt_secret.clone(),
        key: a.jwt_key.clone(),
        public_key: a.jwt_public_key.clone(),
        expired_token: a.expired_token.clone(),
        alt_token: a.alt_token.clone(),
        callback_url: a
            .callback_url
            .as_deref()
            .map(|u| parse_url(u, "--callback-url"))
            .transpose()?,
        wordlists: a.wordlist.clone(),
        crack_time: a
            .crack_time
            .unwrap_or(JwtOptions::defaults().crack_time.min(max_time)),
        max_lifetime: a.max_token_lifetime.as_secs(),
    })
}

fn parse_url(s: &str, what: &str) -> Result<url::Url> {
    let u = url::Url::parse(s).map_err(|e| anyhow!("{what} {s:?} is not a valid URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        bail!("{what} {s:?} must be an http:// or https:// URL");
    }
    if u.host_str().is_none() {
        bail!("{what} {s:?} has no host");
    }
    Ok(u)
}

/// `--max-requests` when not given, for one URL.
pub const DEFAULT_MAX_REQUESTS: usize = 600;

pub fn limits(a: &LimitArgs) -> Result<Limits> {
    Ok(Limits {
        concurrency: a.concurrency as usize,
        rate: a.rate,
        max_requests: a.max_requests.unwrap_or(DEFAULT_MAX_REQUESTS),
        timeout: a.timeout,
        max_body: a.max_body,
        max_time: a.max_time.unwrap_or(authprobe::http::DEFAULT_MAX_TIME),
        max_timeouts_per_host: authprobe::http::DEFAULT_MAX_TIMEOUTS_PER_HOST,
    })
}

fn check_selection(list: &[String]) -> Result<()> {
    if let Some(p) = checks::unknown_selection(list) {
        bail!("--checks {p:?} names no check (see `authprobe checks`)");
    }
    Ok(())
}

/// The lab's own options (target, credentials, CAs) with the limits, selection and safety
/// options the user gave: what `demo` and `scan --lab` scan.
pub fn lab_scan_options(
    ready: &authprobe_lab::Ready,
    l: &LimitArgs,
    show_secrets: bool,
) -> Result<ScanOptions> {
    check_selection(&l.checks)?;
    let mut opts = authprobe::lab_target::scan_options(ready, limits(l)?)?;
    opts.jwt.crack_time = opts.jwt.crack_time.min(opts.limits.max_time);
    opts.show_secrets = show_secrets;
    opts.allow_unsafe_methods = l.allow_unsafe_methods;
    opts.only = l.checks.clone();
    opts.basic.lockout_attempts = l.lockout_attempts as usize;
    Ok(opts)
}

/// `scan --lab READY.json`: the lab's options, then every option the user added that the
/// ready JSON does not fill (JWT keys, wordlists, extra headers).
fn lab_file_options(path: &std::path::Path, a: &ScanArgs) -> Result<ScanOptions> {
    let text = authprobe::load::files::read_capped(
        path,
        authprobe::load::files::MAX_REPORT_FILE,
        "--lab",
        "ready files",
    )?;
    let ready: authprobe_lab::Ready = serde_json::from_slice(&text).map_err(|e| {
        anyhow!(
            "--lab {} is not the ready JSON of `authprobe lab --ready-file`: {e}",
            path.display()
        )
    })?;
    // The lab's certificates live in a directory it removes when it stops.
    if !ready.client_cert.exists() {
        bail!(
            "--lab {}: {} is gone; is that lab still running?",
            path.display(),
            ready.client_cert.display()
        );
    }
    if a.bearer.is_some() || a.basic.is_some() {
        // The environment may hold a real API's credentials: say they are not sent.
        output::note(
            "authprobe: note: --lab scans with the lab's own token and Basic pair; the \
             --bearer/--basic given (or AUTHPROBE_BEARER/AUTHPROBE_BASIC) are not used",
        );
    }
    let mut opts = lab_scan_options(&ready, &a.limits, a.output.show_secrets)?;
    if a.spec.is_some() {
        opts.creds.api_keys = authprobe::lab_target::api_keys(&ready);
    }
    opts.keep_artifacts = a.output.keep_artifacts.clone();
    opts.jwt = jwt_options(&a.jwt, opts.limits.max_time)?;
    opts.creds.headers = headers(&a.headers)?;
    opts.creds.extra_secrets = jwt_secrets(&a.jwt);
    if let Some(p) = &a.basic_wordlist {
        opts.basic.wordlist = read_wordlist(p)?;
    }
    Ok(opts)
}

/// The JWT options' secrets, redacted in reports like the credentials.
fn jwt_secrets(a: &JwtArgs) -> Vec<String> {
    [&a.jwt_secret, &a.expired_token, &a.alt_token]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
}

fn headers(list: &[String]) -> Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    for h in list {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| anyhow!("--header {h:?} must look like 'Name: value'"))?;
        let k = k.trim();
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            bail!("--header {h:?} has an invalid name");
        }
        headers.push((k.to_string(), v.trim().to_string()));
    }
    Ok(headers)
}

/// The target URL; `host:port` or `host/path` without a scheme is taken as https://, with
/// a note, since a bare host is what people paste from a browser's address bar.
pub fn target_url(s: &str) -> Result<url::Url> {
    if s.contains("://") || s.trim().is_empty() || s.contains(char::is_whitespace) {
        return parse_url(s, "target");
    }
    let with = format!("https://{s}");
    let u = parse_url(&with, "target").map_err(|_| anyhow!("target {s:?} is not a valid URL"))?;
    output::note(&format!(
        "authprobe: note: no scheme in {s:?}; using {u} (write http:// for plain HTTP)"
    ));
    Ok(u)
}

/// `--proxy` and `--proxy-ca`.
fn proxy(a: &ScanArgs) -> Result<Option<Proxy>> {
    let Some(p) = a.proxy.as_deref() else {
        return Ok(None);
    };
    let route = if p == "env" {
        ProxyRoute::Env
    } else {
        let u = url::Url::parse(p).map_err(|e| {
            anyhow!("--proxy {p:?} is not a valid URL: {e} (e.g. http://127.0.0.1:8080, or env)")
        })?;
        if !matches!(u.scheme(), "http" | "https" | "socks5" | "socks5h") {
            bail!(
                "--proxy {p:?} must be an http://, https://, socks5:// or socks5h:// URL, or env"
            );
        }
        if u.host_str().is_none() {
            bail!("--proxy {p:?} has no host");
        }
        ProxyRoute::Url(u)
    };
    let ca = match &a.proxy_ca {
        Some(path) => Some((path.clone(), load::load_certs(path, "--proxy-ca")?)),
        None => None,
    };
    Ok(Some(Proxy { route, ca }))
}

pub fn scan_options(a: &ScanArgs) -> Result<ScanOptions> {
    if let Some(path) = &a.lab {
        return lab_file_options(path, a);
    }
    let url = a
        .url
        .as_deref()
        .ok_or_else(|| anyhow!("a target URL (or --lab READY.json) is required"))?;
    scan_options_at(a, url)
}

/// The scan options with `url` as the target: the URL given, or in a whole-API scan the
/// first target of the list or the description's base URL (each operation's own replaces
/// it).
pub fn scan_options_at(a: &ScanArgs, url: &str) -> Result<ScanOptions> {
    if let Some(path) = &a.lab {
        return lab_file_options(path, a);
    }
    check_selection(&a.limits.checks)?;
    let target = target_url(url)?;
    let basic = match &a.basic {
        Some(b) => {
            let (u, p) = b
                .split_once(':')
                .ok_or_else(|| anyhow!("--basic must be USER:PASSWORD"))?;
            Some((u.to_string(), p.to_string()))
        }
        None => None,
    };
    if a.bearer.as_deref().is_some_and(|b| b.trim().is_empty()) {
        bail!("--bearer is empty");
    }
    let headers = headers(&a.headers)?;
    let [client, client2, revoked] = load::client_identities(
        [
            cert_and_key(&a.client_cert, &a.client_key),
            cert_and_key(&a.client_cert2, &a.client_key2),
            cert_and_key(&a.revoked_cert, &a.revoked_key),
        ],
        a.client_key_pass.as_deref(),
    )?;
    let client_ca = match (&a.client_ca_cert, &a.client_ca_key) {
        (Some(c), Some(k)) => {
            load::check_client_ca(c, k)?;
            Some((c.clone(), k.clone()))
        }
        _ => None,
    };
    let limits = limits(&a.limits)?;
    let jwt = jwt_options(&a.jwt, limits.max_time)?;
    if let Some(t) = a.jwt.crack_time
        && t > limits.max_time
    {
        bail!(
            "--crack-time {} is longer than --max-time {}",
            humantime::format_duration(t),
            humantime::format_duration(limits.max_time)
        );
    }
    let server_ca = match &a.server_ca {
        Some(p) => Some((p.clone(), load::load_server_ca(p)?)),
        None => None,
    };
    let creds = Credentials {
        bearer: a.bearer.clone(),
        basic,
        headers,
        client,
        client_ca,
        client2,
        revoked,
        extra_secrets: jwt_secrets(&a.jwt),
        api_keys: api_keys(&a.api_keys)?,
    };
    let tls = TlsSettings {
        server_ca,
        insecure: a.insecure,
    };
    let http_url = a
        .http_url
        .as_deref()
        .map(|u| parse_url(u, "--http-url"))
        .transpose()?;
    let origin = a
        .origin
        .as_deref()
        .map(|u| parse_url(u, "--origin"))
        .transpose()?;
    let basic = BasicOptions {
        url: a
            .basic_url
            .as_deref()
            .map(|u| parse_url(u, "--basic-url"))
            .transpose()?,
        lockout_attempts: a.limits.lockout_attempts as usize,
        wordlist: match &a.basic_wordlist {
            Some(p) => read_wordlist(p)?,
            None => Vec::new(),
        },
        allow_cleartext: a.limits.allow_cleartext_basic,
    };
    let opts = ScanOptions::new(target)
        .with_http_url(http_url)
        .with_origin(origin)
        .with_credentials(creds)
        .with_limits(limits)
        .with_tls(tls)
        .with_jwt(jwt)
        .with_basic(basic)
        .with_only(a.limits.checks.clone())
        .with_show_secrets(a.output.show_secrets)
        .with_keep_artifacts(a.output.keep_artifacts.clone())
        .with_unsafe_methods(a.limits.allow_unsafe_methods)
        .with_proxy(proxy(a)?)
        .with_plain_http_credentials(a.limits.allow_plain_http_credentials);
    let exposed = authprobe::engine::plain_http_credentials(&opts);
    if !exposed.is_empty() && opts.allow_plain_http_credentials {
        // Not a note: --quiet must not hide that a secret is going out in clear.
        eprintln!(
            "authprobe: WARNING: sending {} over plain HTTP to {}: anyone on the path can \
             read it (--allow-plain-http-credentials)",
            exposed.join(", "),
            opts.target
        );
    }
    if let Some(p) = &opts.proxy {
        output::note(&format!(
            "authprobe: note: every request goes through {}; the TLS prober and client-auth \
             discovery are skipped (they would bypass it)",
            p.describe()
        ));
    }
    Ok(opts)
}

/// `--api-key NAME=VALUE` pairs, as headers until a description says otherwise.
fn api_keys(list: &[String]) -> Result<Vec<authprobe::options::ApiKey>> {
    list.iter()
        .map(|kv| {
            let (name, value) = kv
                .split_once('=')
                .filter(|(n, v)| !n.trim().is_empty() && !v.is_empty())
                .ok_or_else(|| anyhow!("--api-key must be NAME=VALUE"))?;
            Ok(authprobe::options::ApiKey {
                name: name.trim().to_string(),
                value: value.to_string(),
                location: authprobe::options::KeyLocation::Header,
            })
        })
        .collect()
}

/// Most pairs a wordlist may add: the request budget would stop a longer list anyway, and
/// a default-credentials check is not a brute-force tool.
const MAX_WORDLIST_PAIRS: usize = 1000;
/// The longest `USER:PASSWORD` line of `--basic-wordlist`.
const MAX_WORDLIST_LINE: usize = 1024;
/// Bytes of `--basic-wordlist` read at most (comments and blank lines included) before
/// [`MAX_WORDLIST_PAIRS`] pairs are found.
const MAX_WORDLIST_BYTES: u64 = 4 * 1024 * 1024;

/// Streams `--basic-wordlist` a line at a time, stopping at [`MAX_WORDLIST_PAIRS`] pairs:
/// an endless or binary file (`/dev/zero`) fails at once with the limit it hit.
fn read_wordlist(path: &std::path::Path) -> Result<Vec<(String, String)>> {
    use std::io::{BufRead, Read};
    let what = || format!("--basic-wordlist {}", path.display());
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", what()))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        bail!("cannot read {}: it is a directory", what());
    }
    let mut reader = std::io::BufReader::new(file);
    let mut pairs = Vec::new();
    let mut read = 0u64;
    let mut raw = Vec::new();
    for n in 1.. {
        raw.clear();
        let got = (&mut reader)
            .take(MAX_WORDLIST_LINE as u64 + 2)
            .read_until(b'\n', &mut raw)
            .with_context(|| format!("cannot read {}", what()))?;
        if got == 0 {
            break;
        }
        read += got as u64;
        if read > MAX_WORDLIST_BYTES {
            bail!(
                "{} is larger than the {} limit for wordlists of USER:PASSWORD pairs",
                what(),
                authprobe::load::files::size(MAX_WORDLIST_BYTES)
            );
        }
        let body = raw.strip_suffix(b"\n").unwrap_or(&raw);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.len() > MAX_WORDLIST_LINE {
            bail!(
                "{} line {n} is longer than the {}-byte limit for a USER:PASSWORD line",
                what(),
                MAX_WORDLIST_LINE
            );
        }
        let line = std::str::from_utf8(body)
            .map_err(|_| anyhow!("{} line {n} is not UTF-8 text", what()))?;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (u, p) = line
            .split_once(':')
            .ok_or_else(|| anyhow!("{} line {n}: expected USER:PASSWORD", what()))?;
        pairs.push((u.to_string(), p.to_string()));
        if pairs.len() == MAX_WORDLIST_PAIRS {
            break;
        }
    }
    Ok(pairs)
}

impl From<CrackArgs> for CrackOptions {
    fn from(a: CrackArgs) -> Self {
        CrackOptions {
            token: a.token,
            wordlists: a.wordlist,
            rules: a.rules,
            builtin: !a.no_builtin,
            threads: a.threads,
            max_time: a.max_time,
            json: a.format == Format::Json,
            show_secret: a.show_secret,
            benchmark: a.benchmark.map(|d| d.as_secs_f64()),
            export_hashcat: a.export_hashcat,
            progress: !a.no_progress,
        }
    }
}

/// A certificate option with its key option, when the certificate was given.
fn cert_and_key<'a>(cert: &'a Option<PathBuf>, key: &'a Option<PathBuf>) -> Option<CertAndKey<'a>> {
    Some((cert.as_deref()?, key.as_deref()))
}
