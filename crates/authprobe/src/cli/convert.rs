//! What the arguments mean for the library: [`super::args`] turned into
//! [`ScanOptions`], [`Limits`] and the cracker's options, checking each value (URLs, header
//! names, key files) before anything is sent.

use super::args::{CrackArgs, Format, JwtArgs, LimitArgs, ScanArgs};
use super::cmd::crack::CrackOptions;
use anyhow::{Context, Result, anyhow, bail};
use authprobe::http::{Limits, TlsSettings};
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

pub fn limits(a: &LimitArgs) -> Result<Limits> {
    if !(a.timeout.is_finite() && a.timeout > 0.0 && a.timeout <= 600.0) {
        bail!("--timeout must be between 0 and 600 seconds");
    }
    Ok(Limits {
        concurrency: a.concurrency as usize,
        rate: a.rate,
        max_requests: a.max_requests,
        timeout: Duration::from_secs_f64(a.timeout),
        max_body: a.max_body,
        max_time: a.max_time,
        max_timeouts_per_host: authprobe::http::DEFAULT_MAX_TIMEOUTS_PER_HOST,
    })
}

fn check_selection(list: &[String]) -> Result<()> {
    let ids: Vec<&str> = checks::registry().iter().map(|c| c.meta().id).collect();
    for p in list {
        if !ids
            .iter()
            .any(|id| checks::selected(std::slice::from_ref(p), id))
        {
            bail!("--checks {p:?} names no check (see `authprobe checks`)");
        }
    }
    Ok(())
}

pub fn scan_options(a: &ScanArgs) -> Result<ScanOptions> {
    check_selection(&a.limits.checks)?;
    let target = parse_url(&a.url, "target")?;
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
    let mut headers = Vec::new();
    for h in &a.headers {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| anyhow!("--header {h:?} must look like 'Name: value'"))?;
        let k = k.trim();
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            bail!("--header {h:?} has an invalid name");
        }
        headers.push((k.to_string(), v.trim().to_string()));
    }
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
        extra_secrets: [&a.jwt.jwt_secret, &a.jwt.expired_token, &a.jwt.alt_token]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
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
    Ok(ScanOptions::new(target)
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
        .with_unsafe_methods(a.limits.allow_unsafe_methods))
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
            benchmark: a.benchmark,
            export_hashcat: a.export_hashcat,
            progress: !a.no_progress,
        }
    }
}

/// A certificate option with its key option, when the certificate was given.
fn cert_and_key<'a>(cert: &'a Option<PathBuf>, key: &'a Option<PathBuf>) -> Option<CertAndKey<'a>> {
    Some((cert.as_deref()?, key.as_deref()))
}
