//! Reading the files a user names, each under a cap suited to what it holds, so that a
//! wrong path (`/dev/zero`, a 200 MiB log instead of a PEM) fails at once with an error
//! naming the limit instead of reading until memory runs out. Wordlists are not read here:
//! they are streamed line by line.

use super::LoadError;
use std::io::Read;
use std::path::Path;

/// PEM and DER certificates, keys, CA bundles and PKCS#12 files. A long chain with its key
/// is a few kilobytes and the whole Mozilla CA bundle about 200 KiB.
pub const MAX_KEY_FILE: u64 = 4 * 1024 * 1024;

/// An earlier JSON report (`--baseline`): the largest report authprobe writes is far under
/// this (findings carry 600-byte excerpts; a scan sends at most `--max-requests`).
pub const MAX_REPORT_FILE: u64 = 16 * 1024 * 1024;

/// Reads `path` whole if it holds at most `cap` bytes. A regular file over the cap is
/// refused from its size without being read; anything else (a device, a pipe) is read
/// up to one byte past the cap. `what` names the option (`--server-ca`), `kind` what the
/// cap is for (`PEM and key files`).
pub fn read_capped(path: &Path, cap: u64, what: &str, kind: &str) -> Result<Vec<u8>, LoadError> {
    let too_big = || LoadError::TooLarge {
        what: what.to_string(),
        path: path.to_path_buf(),
        cap,
        kind: kind.to_string(),
    };
    let unreadable = |source| LoadError::Read {
        what: what.to_string(),
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    if let Ok(m) = file.metadata() {
        if m.is_dir() {
            return Err(LoadError::Directory {
                what: what.to_string(),
                path: path.to_path_buf(),
            });
        }
        if m.is_file() && m.len() > cap {
            return Err(too_big());
        }
    }
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > cap {
        return Err(too_big());
    }
    Ok(bytes)
}

/// [`read_capped`] with [`MAX_KEY_FILE`], for certificates and keys.
pub fn read_key_file(path: &Path, what: &str) -> Result<Vec<u8>, LoadError> {
    read_capped(path, MAX_KEY_FILE, what, "PEM, DER and PKCS#12 files")
}

/// [`read_key_file`] as text (PEM): bytes that are not UTF-8 are an error naming the file.
pub fn read_pem_text(path: &Path, what: &str) -> Result<String, LoadError> {
    let bytes = read_key_file(path, what)?;
    String::from_utf8(bytes).map_err(|_| LoadError::NotText {
        what: what.to_string(),
        path: path.to_path_buf(),
    })
}

/// `4 MiB`, `64 KiB`, `100 bytes`.
pub fn size(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// Creates `path` for secrets (keys, tokens): a new file only the user can read (0600 on
/// Unix), never an existing one reopened.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn an_endless_device_fails_at_the_cap_and_names_it() {
        let started = Instant::now();
        let e = read_capped(Path::new("/dev/zero"), 1024, "--server-ca", "PEM files")
            .unwrap_err()
            .to_string();
        assert!(e.contains("1 KiB limit for PEM files"), "{e}");
        assert!(e.contains("--server-ca /dev/zero"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_large_regular_file_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.pem");
        // Sparse: 200 MiB of size, nothing written.
        std::fs::File::create(&p)
            .unwrap()
            .set_len(200 * 1024 * 1024)
            .unwrap();
        let e = read_key_file(&p, "--client-cert").unwrap_err().to_string();
        assert!(e.contains("4 MiB limit"), "{e}");
    }

    #[test]
    fn files_at_or_under_the_cap_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ok");
        std::fs::write(&p, vec![b'x'; 1024]).unwrap();
        assert_eq!(read_capped(&p, 1024, "x", "y").unwrap().len(), 1024);
        std::fs::write(&p, vec![b'x'; 1025]).unwrap();
        assert!(read_capped(&p, 1024, "x", "y").is_err());
        let e = read_capped(dir.path(), 1024, "--baseline", "reports")
            .unwrap_err()
            .to_string();
        assert!(e.contains("directory"), "{e}");
    }
}
