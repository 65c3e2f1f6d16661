//! What `authprobe mcp` may do, fixed when it starts: the scan scope, the credential
//! profiles, the request budget of each call and the history store. A tool call can read
//! none of the secrets and change none of it; the model only ever names a profile.
//!
//! The configuration file is YAML (JSON is YAML too):
//!
//! ```yaml
//! allow_targets: [127.0.0.1, "*.staging.example.com", 10.20.0.0/16]
//! max_requests: 300        # per tool call
//! max_time: 5m
//! db: postgres://authprobe@db/authprobe   # else serve's default SQLite file
//! profiles:
//!   staging-user:
//!     bearer: { env: STAGING_TOKEN }      # or a literal, or { file: path }
//!     client_cert: /etc/authprobe/client.pem
//!     client_key: /etc/authprobe/client.key
//! ```
//!
//! Profiles also come from the environment: `AUTHPROBE_MCP_PROFILE_<NAME>_<FIELD>`, where
//! FIELD is BEARER, BASIC, API_KEY, HEADER, CLIENT_CERT, CLIENT_KEY or SERVER_CA (the last
//! three are paths) and NAME becomes the profile name in lower case with `-` for `_`.

use crate::service::scope::{Owner, Scope};
use crate::store::TargetCredentials;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The configuration file may not be larger than this.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// The default request budget of one `scan_api` call: about one single-URL scan with
/// every check; a whole-API scan stops at it rather than growing with the operations.
pub const DEFAULT_MAX_REQUESTS: usize = 400;
/// The default time limit of one scan.
pub const DEFAULT_MAX_TIME: Duration = Duration::from_secs(5 * 60);
const ENV_PREFIX: &str = "AUTHPROBE_MCP_PROFILE_";

/// A secret in the configuration file: written out, or read from the environment or a
/// file when the server starts, so that the file itself need not hold it.
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Secret {
    Literal(String),
    Env { env: String },
    File { file: PathBuf },
}

impl Secret {
    fn resolve(&self, what: &str) -> Result<String, String> {
        match self {
            Secret::Literal(s) => Ok(s.clone()),
            Secret::Env { env } => std::env::var(env)
                .map_err(|_| format!("{what}: the environment variable {env} is not set")),
            Secret::File { file } => std::fs::read_to_string(file)
                .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
                .map_err(|e| format!("{what}: reading {}: {e}", file.display())),
        }
    }
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    bearer: Option<Secret>,
    /// `user:password`.
    basic: Option<Secret>,
    /// `NAME=VALUE` each.
    #[serde(default)]
    api_keys: Vec<Secret>,
    /// `Name: value` each.
    #[serde(default)]
    headers: Vec<Secret>,
    client_cert: Option<PathBuf>,
    client_key: Option<PathBuf>,
    server_ca: Option<PathBuf>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    allow_targets: Vec<String>,
    max_requests: Option<usize>,
    /// humantime: `90s`, `5m`.
    max_time: Option<String>,
    db: Option<String>,
    data_dir: Option<PathBuf>,
    #[serde(default)]
    profiles: BTreeMap<String, ProfileFile>,
}

/// The command line's part: `--config`, `--allow-target` (added to the file's), and the
/// rest overriding the file.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub allow_target: Vec<String>,
    pub db: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub max_requests: Option<usize>,
    pub max_time: Option<Duration>,
}

/// The server's settings, resolved once at start.
#[derive(Clone)]
pub struct McpConfig {
    pub scope: Scope,
    /// Profile name to its credentials (secrets read already).
    pub profiles: BTreeMap<String, TargetCredentials>,
    pub max_requests: usize,
    pub max_time: Duration,
    pub db: Option<String>,
    pub data_dir: Option<PathBuf>,
}

impl std::fmt::Debug for McpConfig {
    // Never the credentials: only which profiles exist.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpConfig")
            .field("scope", &self.scope.describe())
            .field("profiles", &self.profiles.keys().collect::<Vec<_>>())
            .field("max_requests", &self.max_requests)
            .field("max_time", &self.max_time)
            .finish()
    }
}

impl McpConfig {
    /// Reads the file (if any) and the environment's profiles, and applies the flags.
    pub fn load(flags: &Flags, env: &[(String, String)]) -> Result<McpConfig, String> {
        let (file, path) = match &flags.config {
            Some(p) => (read_file(p)?, Some(p.display().to_string())),
            None => (ConfigFile::default(), None),
        };
        let mut allow = file.allow_targets.clone();
        allow.extend(flags.allow_target.iter().cloned());
        let scope = Scope::parse(&allow)?.owned_by(Owner::Mcp {
            config: path.clone(),
        });
        let base = flags
            .config
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut profiles = BTreeMap::new();
        for (name, p) in &file.profiles {
            check_profile_name(name)?;
            profiles.insert(name.clone(), resolve_profile(name, p, &base)?);
        }
        for (name, p) in env_profiles(env)? {
            // The environment adds profiles; it does not silently merge into the file's.
            if profiles.contains_key(&name) {
                return Err(format!(
                    "profile {name:?} is defined both in the configuration file and in {ENV_PREFIX}* variables; keep one"
                ));
            }
            profiles.insert(name.clone(), resolve_profile(&name, &p, Path::new(""))?);
        }
        let max_time = match (&flags.max_time, &file.max_time) {
            (Some(d), _) => *d,
            (None, Some(s)) => humantime::parse_duration(s)
                .map_err(|e| format!("max_time {s:?}: {e} (e.g. 90s, 5m)"))?,
            (None, None) => DEFAULT_MAX_TIME,
        };
        let max_requests = flags
            .max_requests
            .or(file.max_requests)
            .unwrap_or(DEFAULT_MAX_REQUESTS);
        if max_requests == 0 {
            return Err("max_requests must be at least 1".into());
        }
        Ok(McpConfig {
            scope,
            profiles,
            max_requests,
            max_time,
            db: flags.db.clone().or(file.db),
            data_dir: flags.data_dir.clone().or(file.data_dir),
        })
    }

    /// The configuration of `/mcp` under `serve`: its profiles and budget from `path`
    /// and the environment, its scope the server's own (`serve --allow-target`), which the
    /// file may not widen.
    pub fn for_serve(
        path: Option<&Path>,
        env: &[(String, String)],
        scope: Scope,
    ) -> Result<McpConfig, String> {
        if let Some(p) = path
            && !read_file(p)?.allow_targets.is_empty()
        {
            return Err(format!(
                "--mcp-config {}: allow_targets has no effect under serve, whose scope is --allow-target; remove it",
                p.display()
            ));
        }
        let flags = Flags {
            config: path.map(Path::to_path_buf),
            ..Flags::default()
        };
        let mut config = McpConfig::load(&flags, env)?;
        config.scope = scope;
        Ok(config)
    }

    /// Every secret value of every profile, in every form a report would catch it in,
    /// for the redaction of tool results.
    pub fn secrets(&self) -> Vec<String> {
        let mut raw = Vec::new();
        for c in self.profiles.values() {
            // What the reports redact of these credentials: the bearer (and its
            // truncations and signature), the Basic pair and password, the API keys...
            if let Ok(creds) = crate::service::runner::app_credentials(c) {
                raw.extend(creds.secrets());
            }
            // ...and here every header's value, not only the conventional secret ones: a
            // profile has a header because the API wants it. Short values would redact
            // ordinary words; nothing that short is a real secret.
            let values = c.headers.iter().filter_map(|h| h.split_once(':'));
            raw.extend(
                values
                    .map(|(_, v)| v.trim().to_string())
                    .filter(|v| v.len() >= 6),
            );
            // A private key's base64 lines: any one of them is a piece of the key.
            if let Some(key) = &c.client_key_pem {
                let lines = key.lines().map(str::trim);
                raw.extend(
                    lines
                        .filter(|l| !l.starts_with("-----") && l.len() >= 6)
                        .map(str::to_string),
                );
            }
        }
        let mut out: Vec<String> = raw
            .iter()
            .flat_map(|s| crate::report::redact::encodings(s))
            .collect();
        // Longest first, so a form that contains another is replaced whole.
        out.sort();
        out.dedup();
        out.sort_by_key(|s| std::cmp::Reverse(s.len()));
        out
    }
}

fn read_file(path: &Path) -> Result<ConfigFile, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("--config {shown}: {e}"))?;
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(format!(
            "--config {shown} is larger than {MAX_CONFIG_BYTES} bytes"
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("--config {shown}: {e}"))?;
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    serde_saphyr::from_str(&text).map_err(|e| format!("--config {shown}: {e}"))
}

fn check_profile_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "profile name {name:?}: use 1 to 64 letters, digits, '-', '_' or '.'"
        ))
    }
}

fn env_profiles(env: &[(String, String)]) -> Result<BTreeMap<String, ProfileFile>, String> {
    // Longest first, so `_CLIENT_KEY` is not read as a profile ending in `_CLIENT` with
    // field `KEY`.
    const FIELDS: [&str; 7] = [
        "_CLIENT_CERT",
        "_CLIENT_KEY",
        "_SERVER_CA",
        "_API_KEY",
        "_BEARER",
        "_HEADER",
        "_BASIC",
    ];
    let mut out: BTreeMap<String, ProfileFile> = BTreeMap::new();
    for (key, value) in env {
        let Some(rest) = key.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let Some((raw, field)) = FIELDS
            .iter()
            .find_map(|f| rest.strip_suffix(f).map(|name| (name, *f)))
        else {
            return Err(format!(
                "{key}: the name must end in one of {}",
                FIELDS.join(", ")
            ));
        };
        let name = raw.to_ascii_lowercase().replace('_', "-");
        check_profile_name(&name).map_err(|e| format!("{key}: {e}"))?;
        let p = out.entry(name).or_default();
        let v = Secret::Literal(value.clone());
        match field {
            "_BEARER" => p.bearer = Some(v),
            "_BASIC" => p.basic = Some(v),
            "_API_KEY" => p.api_keys.push(v),
            "_HEADER" => p.headers.push(v),
            "_CLIENT_CERT" => p.client_cert = Some(value.into()),
            "_CLIENT_KEY" => p.client_key = Some(value.into()),
            _ => p.server_ca = Some(value.into()),
        }
    }
    Ok(out)
}

fn resolve_profile(name: &str, p: &ProfileFile, base: &Path) -> Result<TargetCredentials, String> {
    let what = |field: &str| format!("profile {name:?} {field}");
    let read_pem = |field: &str, path: &Path| {
        let path = if path.is_relative() {
            base.join(path)
        } else {
            path.to_path_buf()
        };
        std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: reading {}: {e}", what(field), path.display()))
    };
    let basic = p
        .basic
        .as_ref()
        .map(|s| s.resolve(&what("basic")))
        .transpose()?;
    if let Some(b) = &basic
        && !b.contains(':')
    {
        return Err(format!("{}: expected USER:PASSWORD", what("basic")));
    }
    let api_keys = p
        .api_keys
        .iter()
        .map(|s| s.resolve(&what("api_keys")))
        .collect::<Result<Vec<_>, _>>()?;
    if api_keys.iter().any(|k| !k.contains('=')) {
        return Err(format!("{}: expected NAME=VALUE", what("api_keys")));
    }
    let headers = p
        .headers
        .iter()
        .map(|s| s.resolve(&what("headers")))
        .collect::<Result<Vec<_>, _>>()?;
    if headers.iter().any(|h| !h.contains(':')) {
        return Err(format!("{}: expected `Name: value`", what("headers")));
    }
    if p.client_cert.is_some() != p.client_key.is_some() {
        return Err(format!(
            "{}: client_cert and client_key go together",
            what("client_cert")
        ));
    }
    let creds = TargetCredentials {
        bearer: p
            .bearer
            .as_ref()
            .map(|s| s.resolve(&what("bearer")))
            .transpose()?,
        basic,
        api_keys,
        headers,
        client_cert_pem: p
            .client_cert
            .as_deref()
            .map(|f| read_pem("client_cert", f))
            .transpose()?,
        client_key_pem: p
            .client_key
            .as_deref()
            .map(|f| read_pem("client_key", f))
            .transpose()?,
        server_ca_pem: p
            .server_ca
            .as_deref()
            .map(|f| read_pem("server_ca", f))
            .transpose()?,
    };
    if creds == TargetCredentials::default() {
        return Err(format!("profile {name:?} defines no credential"));
    }
    Ok(creds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn profiles_come_from_the_file_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp.yaml");
        std::fs::write(
            &path,
            "allow_targets: [10.0.0.0/8]\nmax_requests: 50\nmax_time: 90s\nprofiles:\n  staging:\n    bearer: {env: TEST_TOKEN_VAR_X}\n    headers: ['X-Tenant: 7']\n",
        )
        .unwrap();
        let flags = Flags {
            config: Some(path.clone()),
            allow_target: vec!["api.example.test".into()],
            ..Flags::default()
        };
        let e = McpConfig::load(&flags, &[]).unwrap_err();
        assert!(e.contains("TEST_TOKEN_VAR_X is not set"), "{e}");

        std::fs::write(
            &path,
            "allow_targets: [10.0.0.0/8]\nmax_requests: 50\nmax_time: 90s\nprofiles:\n  staging:\n    bearer: tok-en-value-1\n    headers: ['X-Tenant: 7']\n",
        )
        .unwrap();
        let c = McpConfig::load(
            &flags,
            &env(&[
                ("AUTHPROBE_MCP_PROFILE_CI_ADMIN_BASIC", "admin:s3cret-pw"),
                (
                    "AUTHPROBE_MCP_PROFILE_CI_ADMIN_API_KEY",
                    "X-Api-Key=k3y-value",
                ),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.max_requests, 50);
        assert_eq!(c.max_time, Duration::from_secs(90));
        assert_eq!(
            c.profiles.keys().collect::<Vec<_>>(),
            ["ci-admin", "staging"]
        );
        assert_eq!(
            c.profiles["ci-admin"].basic.as_deref(),
            Some("admin:s3cret-pw")
        );
        assert_eq!(c.profiles["ci-admin"].api_keys, ["X-Api-Key=k3y-value"]);
        assert_eq!(
            c.profiles["staging"].bearer.as_deref(),
            Some("tok-en-value-1")
        );
        let secrets = c.secrets();
        for s in [
            "tok-en-value-1",
            "s3cret-pw",
            "k3y-value",
            "YWRtaW46czNjcmV0LXB3",
        ] {
            assert!(secrets.iter().any(|x| x == s), "{s} in {secrets:?}");
        }
        // Debug output names profiles, never values.
        let shown = format!("{c:?}");
        assert!(
            shown.contains("ci-admin") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    #[test]
    fn mistakes_are_refused_with_the_reason() {
        let bad = |pairs: &[(&str, &str)]| McpConfig::load(&Flags::default(), &env(pairs));
        assert!(
            bad(&[("AUTHPROBE_MCP_PROFILE_X_TOKEN", "v")])
                .unwrap_err()
                .contains("must end in")
        );
        assert!(
            bad(&[("AUTHPROBE_MCP_PROFILE_X_BASIC", "nocolon")])
                .unwrap_err()
                .contains("USER:PASSWORD")
        );
        assert!(
            bad(&[("AUTHPROBE_MCP_PROFILE_X_CLIENT_CERT", "/nonexistent.pem")])
                .unwrap_err()
                .contains("go together")
        );
        let c = McpConfig::load(&Flags::default(), &[]).unwrap();
        assert!(c.profiles.is_empty());
        assert_eq!(c.max_requests, DEFAULT_MAX_REQUESTS);
    }

    #[test]
    fn unknown_fields_in_the_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp.yaml");
        std::fs::write(&path, "allow_target: [10.0.0.0/8]\n").unwrap();
        let flags = Flags {
            config: Some(path),
            ..Flags::default()
        };
        let e = McpConfig::load(&flags, &[]).unwrap_err();
        assert!(e.contains("allow_target"), "{e}");
    }
}
