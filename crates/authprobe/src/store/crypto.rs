//! Target credentials at rest: AES-256-GCM (ring) under a 32-byte key from
//! `AUTHPROBE_SECRET_KEY` or a 0600 key file created beside the database.

use std::path::Path;

#[derive(Clone)]
pub struct Sealer {
    _private: (),
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

impl Sealer {
    /// From 32 raw bytes.
    pub fn new(key: [u8; 32]) -> Sealer {
        let _ = key;
        todo!()
    }
    /// `AUTHPROBE_SECRET_KEY` (`env` is its value, if set), else `key_file` (created 0600
    /// with a random key when absent; refused when readable by others).
    pub fn from_env_or_file(
        env: Option<&str>,
        key_file: &Path,
    ) -> Result<(Sealer, KeySource), KeyError> {
        let _ = (env, key_file);
        todo!()
    }
    /// nonce (12 random bytes) || ciphertext || tag; `aad` binds the blob to its use.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let _ = (plaintext, aad);
        todo!()
    }
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        let _ = (sealed, aad);
        todo!()
    }
}
