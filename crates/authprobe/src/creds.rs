//! Credential presentation and secret collection: how the user's credentials go on the
//! wire (every secret as a shell variable in the evidence, see [`crate::http::Value`]), and
//! the list of secrets that reports and logs must never show.

use crate::http::{Probe, Value};
use crate::options::{Credentials, ScanOptions};
use base64::Engine as _;

pub const BEARER_VAR: &str = "AUTHPROBE_BEARER";
pub const BASIC_VAR: &str = "AUTHPROBE_BASIC";

impl Credentials {
    pub fn has_app_credentials(&self) -> bool {
        self.bearer.is_some() || self.basic.is_some() || !self.api_keys.is_empty()
    }

    pub fn has_any(&self) -> bool {
        self.has_app_credentials() || self.client.is_some()
    }

    /// Every secret string that must never appear in output unless the user asks.
    pub fn secrets(&self) -> Vec<String> {
        let mut s = Vec::new();
        if let Some(t) = &self.bearer {
            s.push(t.clone());
            // A server that echoes a tampered or truncated token (checks send both) would
            // otherwise show most of the signature.
            let cut = t.len().saturating_sub(10);
            if cut >= 16 && t.is_char_boundary(cut) {
                s.push(t[..cut].to_string());
            }
        }
        if let Some((u, p)) = &self.basic {
            s.push(base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}")));
            s.push(p.clone());
        }
        for (name, value) in &self.headers {
            if is_secret_header(name) {
                s.push(value.clone());
            }
        }
        if let Some(sig) = self
            .bearer
            .as_deref()
            .and_then(|t| t.rsplit_once('.'))
            .map(|(_, s)| s)
            && sig.len() >= 16
        {
            // The signature alone, with the claims one can read in a forged token, would
            // rebuild the credential.
            s.push(sig.to_string());
        }
        s.extend(self.api_keys.iter().map(|k| k.value.clone()));
        s.extend(self.extra_secrets.iter().cloned());
        s.retain(|v| v.len() >= 4);
        s
    }
}

/// Headers whose values are credentials by convention.
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "auth", "token", "key", "secret", "cookie", "session", "password",
    ]
    .iter()
    .any(|w| n.contains(w))
}

pub fn bare_probe(opts: &ScanOptions, method: &str) -> Probe {
    let mut p = Probe::new(method, opts.target.clone());
    if method.eq_ignore_ascii_case(&opts.method) {
        p = p.with_body(opts.body.clone());
    }
    for (name, value) in &opts.creds.headers {
        let v = if is_secret_header(name) {
            Value::from_segs(vec![crate::http::Seg::Secret {
                expr: format!("${{{}}}", header_var(name)),
                raw: value.clone(),
            }])
        } else {
            Value::lit(value.clone())
        };
        p = p.header(name, v);
    }
    p
}

/// The variables the user's own credentials appear as, with their values. Only those a
/// `${NAME}` alone cannot recover from the evidence: the Basic pair (shown through
/// `printf | base64`) and the token (shown cut, `${AUTHPROBE_BEARER##*.}`).
pub fn variables(opts: &ScanOptions) -> std::collections::BTreeMap<String, String> {
    let mut vars = std::collections::BTreeMap::new();
    if let Some(t) = &opts.creds.bearer {
        vars.insert(BEARER_VAR.to_string(), t.clone());
    }
    if let Some((u, p)) = &opts.creds.basic {
        vars.insert(BASIC_VAR.to_string(), format!("{u}:{p}"));
    }
    for (name, value) in &opts.creds.headers {
        if is_secret_header(name) {
            vars.insert(header_var(name), value.clone());
        }
    }
    for k in &opts.creds.api_keys {
        vars.insert(api_key_var(&k.name), k.value.clone());
    }
    vars
}

fn api_key_var(name: &str) -> String {
    format!("AUTHPROBE_API_KEY_{}", env_name(name))
}

/// Adds the `--api-key` values where their schemes say: a header or a cookie as a shell
/// variable; a query parameter in the URL itself, where only the report's redaction can
/// hide it (which is why `spec.apikey_in_query` is a finding).
fn with_api_keys(mut p: Probe, keys: &[crate::options::ApiKey], spoil: bool) -> Probe {
    use crate::options::KeyLocation;
    for k in keys {
        let raw = if spoil {
            format!("{}-authprobe-wrong", k.value)
        } else {
            k.value.clone()
        };
        let expr = if spoil {
            format!("${{{}}}-authprobe-wrong", api_key_var(&k.name))
        } else {
            format!("${{{}}}", api_key_var(&k.name))
        };
        match k.location {
            KeyLocation::Header => {
                p = p.header(
                    &k.name,
                    Value::from_segs(vec![crate::http::Seg::Secret { expr, raw }]),
                );
            }
            KeyLocation::Cookie => {
                p = p.header(
                    "Cookie",
                    Value::prefixed_secret(&format!("{}=", k.name), &expr, &raw),
                );
            }
            KeyLocation::Query => {
                p.url.query_pairs_mut().append_pair(&k.name, &raw);
            }
        }
    }
    p
}

fn header_var(name: &str) -> String {
    format!("AUTHPROBE_HEADER_{}", env_name(name))
}

pub fn env_name(header: &str) -> String {
    header
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

pub fn bearer_value(token: &str) -> Value {
    Value::prefixed_secret("Bearer ", &format!("${{{BEARER_VAR}}}"), token)
}

/// `Basic base64(user:pass)` with the pair shown as `${AUTHPROBE_BASIC}`.
pub fn basic_value(user: &str, pass: &str) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    Value::prefixed_secret(
        "Basic ",
        &format!("$(printf %s \"${{{BASIC_VAR}}}\" | base64 -w0)"),
        &b64,
    )
}

pub fn authorized_probe(opts: &ScanOptions, method: &str) -> Probe {
    let mut p = bare_probe(opts, method).with_identity(opts.creds.client.clone());
    if let Some(t) = &opts.creds.bearer {
        p = p.header("Authorization", bearer_value(t));
    } else if let Some((u, pw)) = &opts.creds.basic {
        p = p.header("Authorization", basic_value(u, pw));
    }
    with_api_keys(p, &opts.creds.api_keys, false)
}

/// The user's token with its last five characters replaced: same shape, broken signature.
/// Five base64url characters carry at least 26 bits of the signature, so the bytes change.
pub fn tampered_token_value(token: &str) -> Value {
    let keep = token.len().saturating_sub(5);
    let tail: String = token[keep..]
        .chars()
        .map(|c| if c.is_ascii_uppercase() { 'z' } else { 'A' })
        .collect();
    Value::from_segs(vec![
        crate::http::Seg::Lit("Bearer ".into()),
        crate::http::Seg::Secret {
            expr: format!("${{{BEARER_VAR}%?????}}"),
            raw: token[..keep].to_string(),
        },
        crate::http::Seg::Lit(tail),
    ])
}

pub fn invalid_probe(opts: &ScanOptions) -> Option<Probe> {
    if opts.creds.client.is_some() && !opts.creds.has_app_credentials() {
        return None;
    }
    let p = bare_probe(opts, &opts.method).with_identity(opts.creds.client.clone());
    if opts.creds.bearer.is_none() && opts.creds.basic.is_none() && !opts.creds.api_keys.is_empty()
    {
        return Some(with_api_keys(p, &opts.creds.api_keys, true));
    }
    // Any API key stays as it is: the invalid request differs from the authorized one
    // in the one credential it spoils.
    let p = with_api_keys(p, &opts.creds.api_keys, false);
    if let Some(t) = &opts.creds.bearer {
        if !t.is_char_boundary(t.len().saturating_sub(5)) {
            return None;
        }
        Some(p.header("Authorization", tampered_token_value(t)))
    } else if opts.creds.basic.is_none() {
        // No credential to spoil: an obviously invalid bearer still shows how the server
        // refuses, which is the contrast the oracle needs.
        Some(p.header(
            "Authorization",
            Value::lit("Bearer authprobe.invalid.token"),
        ))
    } else {
        opts.creds.basic.as_ref().map(|(u, pw)| {
            let b64 = base64::engine::general_purpose::STANDARD
                .encode(format!("{u}:{pw}-authprobe-wrong"));
            p.header(
                "Authorization",
                Value::prefixed_secret(
                    "Basic ",
                    &format!("$(printf %s \"${{{BASIC_VAR}}}-authprobe-wrong\" | base64 -w0)"),
                    &b64,
                ),
            )
        })
    }
}

/// Masks a secret for display: first two and last two characters.
pub fn mask(secret: &[u8]) -> String {
    let s = String::from_utf8_lossy(secret);
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len().max(1));
    }
    format!(
        "{}{}{}",
        chars[..2].iter().collect::<String>(),
        "*".repeat(chars.len() - 4),
        chars[chars.len() - 2..].iter().collect::<String>()
    )
}
