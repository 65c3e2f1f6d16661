//! Target credentials at rest: AES-256-GCM (ring) under a 32-byte key from
//! `AUTHPROBE_SECRET_KEY` or a 0600 key file created beside the database.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

#[derive(Clone)]
pub struct Sealer {
    key: Arc<LessSafeKey>,
}

/// Where the key came from, for the start-up log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    Env,
    /// Read from an existing file.
    File(std::path::PathBuf),
    /// Created now (the service warns: back it up, or set AUTHPROBE_SECRET_KEY).
    Created(std::path::PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("AUTHPROBE_SECRET_KEY must be 32 bytes as 64 hex digits or base64: {0}")]
    BadEnv(String),
    #[error("key file {path}: {reason}")]
    File { path: String, reason: String },
}

/// 64 hex digits, either case.
fn parse_hex(s: &str) -> Option<[u8; 32]> {
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut key = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        key[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(key)
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of `AUTHPROBE_SECRET_KEY`: 64 hex digits, or base64 (standard or URL-safe
/// alphabet, padded or not) of exactly 32 bytes. The error never repeats the value.
fn parse_env_key(value: &str) -> Result<[u8; 32], KeyError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(KeyError::BadEnv("it is empty".into()));
    }
    if let Some(key) = parse_hex(value) {
        return Ok(key);
    }
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(value).ok());
    match decoded {
        Some(bytes) => <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
            KeyError::BadEnv(format!(
                "it is base64 of {} bytes, not 32 (make one with `openssl rand -hex 32`)",
                bytes.len()
            ))
        }),
        None => Err(KeyError::BadEnv(format!(
            "it is {} characters that are neither 64 hex digits nor base64 (make one with `openssl rand -hex 32`)",
            value.chars().count()
        ))),
    }
}

fn file_error(path: &Path, reason: impl Into<String>) -> KeyError {
    KeyError::File {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// An existing key file: 64 hex digits (a trailing newline allowed), not readable by
/// group or others.
fn read_key_file(path: &Path) -> Result<[u8; 32], KeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| file_error(path, e.to_string()))?;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(file_error(
                path,
                format!(
                    "it is readable or writable by others (mode {:o}): `chmod 600` it, and replace the key if others may have read it",
                    mode & 0o777
                ),
            ));
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| file_error(path, format!("cannot read it: {e}")))?;
    parse_hex(text.trim()).ok_or_else(|| {
        file_error(
            path,
            "it does not hold a key (64 hex digits); restore it from a backup, or set AUTHPROBE_SECRET_KEY",
        )
    })
}

/// A new key file, 0600, never overwriting one that appeared meanwhile.
fn create_key_file(path: &Path) -> Result<[u8; 32], KeyError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| file_error(path, format!("cannot create its directory: {e}")))?;
    }
    let mut key = [0u8; 32];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| file_error(path, "no randomness for a new key"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| file_error(path, format!("cannot create it: {e}")))?;
    let written = file
        .write_all(format!("{}\n", to_hex(&key)).as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(file_error(path, format!("cannot write it: {e}")));
    }
    Ok(key)
}

impl Sealer {
    /// From 32 raw bytes.
    pub fn new(key: [u8; 32]) -> Sealer {
        let unbound = UnboundKey::new(&AES_256_GCM, &key).expect("AES-256-GCM takes a 32-byte key");
        Sealer {
            key: Arc::new(LessSafeKey::new(unbound)),
        }
    }
    /// `AUTHPROBE_SECRET_KEY` (`env` is its value, if set), else `key_file` (created 0600
    /// with a random key when absent; refused when readable by others).
    pub fn from_env_or_file(
        env: Option<&str>,
        key_file: &Path,
    ) -> Result<(Sealer, KeySource), KeyError> {
        if let Some(value) = env {
            return Ok((Sealer::new(parse_env_key(value)?), KeySource::Env));
        }
        match std::fs::symlink_metadata(key_file) {
            Ok(_) => Ok((
                Sealer::new(read_key_file(key_file)?),
                KeySource::File(key_file.to_path_buf()),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((
                Sealer::new(create_key_file(key_file)?),
                KeySource::Created(key_file.to_path_buf()),
            )),
            Err(e) => Err(file_error(key_file, e.to_string())),
        }
    }
    /// nonce (12 random bytes) || ciphertext || tag; `aad` binds the blob to its use.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random number generator works");
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let mut body = out.split_off(NONCE_LEN);
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .expect("AES-GCM seals any plaintext under 64 GiB");
        out.extend_from_slice(&body);
        out
    }
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut body)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AAD: &[u8] = b"authprobe:target-credentials:v1";

    #[test]
    fn round_trip() {
        let sealer = Sealer::new([7; 32]);
        let sealed = sealer.seal(b"bearer secret-token", AAD);
        assert_eq!(sealed.len(), 12 + 19 + 16);
        assert!(!sealed.windows(12).any(|w| w == b"secret-token"));
        assert_eq!(
            sealer.open(&sealed, AAD).as_deref(),
            Some(&b"bearer secret-token"[..])
        );
        // A fresh nonce each time.
        assert_ne!(sealer.seal(b"x", AAD), sealer.seal(b"x", AAD));
        assert_eq!(sealer.open(&sealer.seal(b"", AAD), AAD), Some(Vec::new()));
    }

    #[test]
    fn tampering_is_detected() {
        let sealer = Sealer::new([7; 32]);
        let sealed = sealer.seal(b"bearer secret-token", AAD);
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(sealer.open(&bad, AAD), None, "flipped byte {i}");
        }
        assert_eq!(sealer.open(&sealed[..sealed.len() - 1], AAD), None);
        assert_eq!(sealer.open(&sealed[..10], AAD), None);
        assert_eq!(sealer.open(&[], AAD), None);
    }

    #[test]
    fn wrong_key_or_aad_fails() {
        let sealed = Sealer::new([7; 32]).seal(b"secret", AAD);
        assert_eq!(Sealer::new([8; 32]).open(&sealed, AAD), None);
        assert_eq!(Sealer::new([7; 32]).open(&sealed, b"other use"), None);
        assert!(Sealer::new([7; 32]).open(&sealed, AAD).is_some());
    }

    #[test]
    fn env_key_formats() {
        let key: [u8; 32] = std::array::from_fn(|i| (i * 7 + 250) as u8);
        let hex = to_hex(&key);
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        for value in [
            hex.clone(),
            hex.to_uppercase(),
            format!("  {hex}\n"),
            STANDARD.encode(key),
            STANDARD_NO_PAD.encode(key),
            URL_SAFE.encode(key),
            URL_SAFE_NO_PAD.encode(key),
        ] {
            assert_eq!(parse_env_key(&value).unwrap(), key, "{value}");
        }
        // The key the env names is the one used, and the file is not touched.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        let (sealer, source) = Sealer::from_env_or_file(Some(&hex), &file).unwrap();
        assert_eq!(source, KeySource::Env);
        assert!(!file.exists());
        let sealed = sealer.seal(b"x", AAD);
        assert!(Sealer::new(key).open(&sealed, AAD).is_some());
    }

    #[test]
    fn bad_env_keys_are_refused_without_echoing_them() {
        let secretish = "not-a-key-but-maybe-a-password";
        for value in [
            "",
            "abcd",
            secretish,
            &"a".repeat(63),
            &"g".repeat(64),
            // base64 of 31 and 33 bytes
            &base64::engine::general_purpose::STANDARD.encode([1u8; 31]),
            &base64::engine::general_purpose::STANDARD.encode([1u8; 33]),
        ] {
            let err = parse_env_key(value).unwrap_err();
            assert!(matches!(err, KeyError::BadEnv(_)), "{value}");
            let text = err.to_string();
            if value.len() > 3 {
                assert!(!text.contains(value), "{text}");
            }
        }
        let err = Sealer::from_env_or_file(Some(secretish), Path::new("/nonexistent/key"))
            .err()
            .unwrap();
        assert!(!err.to_string().contains(secretish));
    }

    #[cfg(unix)]
    #[test]
    fn key_file_created_0600_then_read_and_refused_when_open_to_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub").join("secret.key");
        let (first, source) = Sealer::from_env_or_file(None, &file).unwrap();
        assert_eq!(source, KeySource::Created(file.clone()));
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.len(), 65);
        assert!(text.ends_with('\n'));

        let (second, source) = Sealer::from_env_or_file(None, &file).unwrap();
        assert_eq!(source, KeySource::File(file.clone()));
        let sealed = first.seal(b"x", AAD);
        assert_eq!(second.open(&sealed, AAD).as_deref(), Some(&b"x"[..]));

        for mode in [0o640, 0o604, 0o660, 0o602] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let err = Sealer::from_env_or_file(None, &file).err().unwrap();
            assert!(matches!(err, KeyError::File { .. }));
            assert!(err.to_string().contains("chmod 600"), "{err}");
        }
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&file, "garbage\n").unwrap();
        let err = Sealer::from_env_or_file(None, &file).err().unwrap();
        assert!(matches!(err, KeyError::File { .. }), "{err}");
        assert!(!err.to_string().contains("garbage"));
    }
}
