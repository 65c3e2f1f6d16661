//! End-to-end behaviour of the cracker through its public API.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use authprobe_crack::{Alg, CrackError, Cracker, Rules, Source, Stopped, Target, export_hashcat};
use common::{CLAIMS, mint, wordlist};

fn crack(token: &str, sources: Vec<Source>, rules: Rules) -> authprobe_crack::Outcome {
    let mut c = Cracker::new(Target::from_jwt(token).unwrap())
        .rules(rules)
        .threads(2);
    for s in sources {
        c = c.source(s);
    }
    c.run().unwrap()
}

/// Each algorithm's secret is found in a plain wordlist (with CRLF and blank
/// lines around), with the right alg and a plausible count.
#[test]
fn finds_secret_in_wordlist_for_each_alg() {
    let dir = tempfile::tempdir().unwrap();
    for alg in ["HS256", "HS384", "HS512"] {
        let secret = format!("s3cret-for-{alg}");
        let token = mint(alg, secret.as_bytes(), CLAIMS);
        let wl = wordlist(&dir, alg, secret.as_bytes(), 20_000);
        let o = crack(&token, vec![Source::File(wl)], Rules::None);
        assert_eq!(o.found.as_deref(), Some(secret.as_bytes()), "{alg}");
        assert_eq!(o.stopped, Stopped::Found);
        assert_eq!(o.alg.name(), alg);
        assert!(o.tried >= 1 && o.tried <= 20_002, "{}", o.tried);
    }
}

/// A gzip wordlist is recognised by its magic bytes although named `.txt`.
#[test]
fn finds_secret_in_gzip_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let token = mint("HS256", b"gzipped-secret", CLAIMS);
    let mut raw = Vec::new();
    for i in 0..50_000 {
        writeln!(raw, "nope{i}").unwrap();
    }
    raw.extend_from_slice(b"gzipped-secret\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    let path = dir.path().join("words.txt");
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let c = Cracker::new(Target::from_jwt(&token).unwrap()).source(Source::File(path.clone()));
    let progress = c.progress();
    let o = c.run().unwrap();
    assert_eq!(o.found.as_deref(), Some(&b"gzipped-secret"[..]));
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(progress.bytes_total(), size);
    assert!(progress.bytes_read() <= size && progress.bytes_read() > 0);
}

/// Real stdin: the test binary re-runs itself as a child reading a piped
/// wordlist through `Source::Stdin` and through the `-` path.
#[test]
fn finds_secret_from_stdin() {
    const ENV: &str = "AUTHPROBE_CRACK_STDIN_CHILD";
    if let Ok(mode) = std::env::var(ENV) {
        let token = mint("HS256", b"piped-secret", CLAIMS);
        let src = if mode == "dash" {
            Source::File("-".into())
        } else {
            Source::Stdin
        };
        let o = crack(&token, vec![src], Rules::None);
        println!(
            "CHILD-FOUND={}",
            String::from_utf8_lossy(&o.found.unwrap_or_default())
        );
        return;
    }
    for mode in ["stdin", "dash"] {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "finds_secret_from_stdin",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ENV, mode)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            for i in 0..100_000 {
                // The child may stop reading once it has found the secret.
                if writeln!(stdin, "piped-{i}").is_err() {
                    return;
                }
                if i == 70_000 {
                    let _ = stdin.write_all(b"piped-secret\n");
                }
            }
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("CHILD-FOUND=piped-secret"),
            "{mode}: {stdout}"
        );
    }
}

/// `password` in the list plus the default rules finds `Password2024!`;
/// leetspeak too; and a rule file in the documented syntax works.
#[test]
fn rules_mangle_words() {
    let dir = tempfile::tempdir().unwrap();
    for secret in ["Password2024!", "p@ssw0rd07", "PASSWORD123!"] {
        let token = mint("HS256", secret.as_bytes(), CLAIMS);
        let wl = wordlist(&dir, "base", b"password", 30);
        let o = crack(&token, vec![Source::File(wl)], Rules::Default);
        assert_eq!(o.found.as_deref(), Some(secret.as_bytes()));
    }
    let rule_file = dir.path().join("my.rules");
    std::fs::write(&rule_file, "# mine\nr $[0-9]\n").unwrap();
    let token = mint("HS384", b"drowssap7", CLAIMS);
    let wl = wordlist(&dir, "base2", b"password", 30);
    let o = crack(&token, vec![Source::File(wl)], Rules::File(rule_file));
    assert_eq!(o.found.as_deref(), Some(&b"drowssap7"[..]));
}

/// An absent secret: every candidate tried, nothing found.
#[test]
fn exhausts_when_absent() {
    let dir = tempfile::tempdir().unwrap();
    let token = mint("HS256", b"not-in-any-list", CLAIMS);
    let wl = wordlist(&dir, "w", b"something-else", 10_001);
    let o = crack(&token, vec![Source::File(wl.clone())], Rules::None);
    assert_eq!(o.found, None);
    assert_eq!(o.stopped, Stopped::Exhausted);
    // 10,001 decoys + the other word + "after-the-secret"; blank lines skipped.
    assert_eq!(o.tried, 10_003);
    let small = wordlist(&dir, "small", b"something-else", 100);
    let o = crack(
        &token,
        vec![Source::Builtin, Source::File(small)],
        Rules::Default,
    );
    assert_eq!(o.stopped, Stopped::Exhausted);
    assert!(o.tried > 300 * 1000, "{}", o.tried);
}

/// HMAC hashes keys longer than the block first: long secrets on both sides
/// of the boundary are found for every algorithm.
#[test]
fn keys_longer_than_block() {
    let dir = tempfile::tempdir().unwrap();
    for (alg, lens) in [
        ("HS256", [63usize, 64, 65, 200]),
        ("HS384", [127, 128, 129, 300]),
        ("HS512", [127, 128, 129, 1000]),
    ] {
        for len in lens {
            let secret: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let token = mint(alg, &secret, CLAIMS);
            let mut shorter = secret.clone();
            shorter.pop();
            let mut list = shorter.clone();
            list.push(b'\n');
            let wl = wordlist(&dir, "long", &[&list[..], &secret[..]].concat(), 3);
            let o = crack(&token, vec![Source::File(wl)], Rules::None);
            assert_eq!(o.found, Some(secret), "{alg} {len}");
        }
    }
}

/// The built-in list alone finds the jwt.io debugger's default secret.
#[test]
fn builtin_list_finds_jwt_io_default() {
    let token = mint("HS256", b"your-256-bit-secret", CLAIMS);
    let o = crack(&token, vec![Source::Builtin], Rules::None);
    assert_eq!(o.found.as_deref(), Some(&b"your-256-bit-secret"[..]));
    let unique: std::collections::HashSet<_> = authprobe_crack::BUILTIN_SECRETS.iter().collect();
    assert_eq!(
        unique.len(),
        authprobe_crack::BUILTIN_SECRETS.len(),
        "duplicates"
    );
    assert!((100..=350).contains(&unique.len()));
}

/// An endless source stops at the deadline, or when the flag is raised.
#[test]
fn deadline_and_cancel() {
    struct Endless(u64);
    impl std::io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let line = format!("{}\n", self.0);
            self.0 += 1;
            let n = line.len().min(buf.len());
            buf[..n].copy_from_slice(&line.as_bytes()[..n]);
            Ok(n)
        }
    }
    let token = mint("HS512", b"never", CLAIMS);
    let t = Target::from_jwt(&token).unwrap();
    let start = Instant::now();
    let o = Cracker::new(t.clone())
        .source(Source::Reader(Box::new(Endless(0))))
        .time_budget(Duration::from_millis(300))
        .run()
        .unwrap();
    assert_eq!(o.stopped, Stopped::Deadline);
    assert!(o.tried > 0);
    assert!(start.elapsed() < Duration::from_secs(3));

    let flag = Arc::new(AtomicBool::new(false));
    let f2 = flag.clone();
    let raiser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        f2.store(true, Ordering::Relaxed);
    });
    let o = Cracker::new(t)
        .source(Source::Reader(Box::new(Endless(0))))
        .cancel_flag(flag)
        .deadline(Instant::now() + Duration::from_secs(30))
        .run()
        .unwrap();
    raiser.join().unwrap();
    assert_eq!(o.stopped, Stopped::Cancelled);
}

/// A stalled input (a pipe that never delivers) still honours the deadline
/// and cancellation, after a secret was found earlier in it too.
#[test]
fn stalled_input_honours_deadline() {
    struct Stalled(Option<std::sync::mpsc::Receiver<Vec<u8>>>, Vec<u8>);
    impl std::io::Read for Stalled {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1.is_empty() {
                // Blocks until the test drops the sender.
                match self.0.as_ref().map(|r| r.recv()) {
                    Some(Ok(v)) => self.1 = v,
                    _ => return Ok(0),
                }
            }
            let n = self.1.len().min(buf.len());
            buf[..n].copy_from_slice(&self.1[..n]);
            self.1.drain(..n);
            Ok(n)
        }
    }
    let token = mint("HS256", b"never", CLAIMS);
    let (tx, rx) = std::sync::mpsc::channel();
    tx.send(b"a\nb\nc\n".to_vec()).unwrap();
    let start = Instant::now();
    let o = Cracker::new(Target::from_jwt(&token).unwrap())
        .source(Source::Reader(Box::new(Stalled(Some(rx), Vec::new()))))
        .time_budget(Duration::from_millis(300))
        .run()
        .unwrap();
    assert_eq!(o.stopped, Stopped::Deadline);
    assert!(start.elapsed() < Duration::from_secs(3));
    drop(tx);
}

/// Malformed or non-HMAC tokens are clean errors, never panics.
#[test]
fn malformed_tokens_are_errors() {
    let b = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    };
    let good = mint("HS256", b"k", CLAIMS);
    let sig = good.rsplit('.').next().unwrap().to_string();
    let long = "a".repeat(300_000);
    let bad = [
        String::new(),
        ".".into(),
        "..".into(),
        "a.b".into(),
        "a.b.c.d".into(),
        format!("{}.e30.{sig}", b(r#"{"alg":"RS256"}"#)),
        format!("{}.e30.{sig}", b(r#"{"alg":"none"}"#)),
        format!("{}.e30.", b(r#"{"alg":"none"}"#)),
        format!("{}.e30.{sig}", b(r#"{"alg":5}"#)),
        format!("{}.e30.{sig}", b(r#"{"typ":"JWT"}"#)),
        format!("{}.e30.{sig}", b("not json")),
        format!("{}.e30.{sig}", b("[1,2]")),
        format!("!!!.e30.{sig}"),
        format!("{}.e3 0.{sig}", b(r#"{"alg":"HS256"}"#)),
        format!("{}.e30.AAAA", b(r#"{"alg":"HS256"}"#)),
        format!("{}.e30.{sig}", b(r#"{"alg":"HS512"}"#)),
        format!("{}.e30.%%%", b(r#"{"alg":"HS256"}"#)),
        format!("{}.{long}.{sig}", b(r#"{"alg":"HS256"}"#)),
        "\u{0}\u{ffff}.\u{1F600}.x".into(),
    ];
    for t in &bad {
        assert!(Target::from_jwt(t).is_err(), "{:.80}", t);
        assert!(export_hashcat(t).is_err());
    }
    assert!(matches!(
        Target::from_jwt(&bad[5]),
        Err(CrackError::UnsupportedAlg(a)) if a == "RS256"
    ));
    assert!(matches!(
        Target::from_jwt(&bad[17]),
        Err(CrackError::TooLarge(_))
    ));
    let t = Target::from_jwt(&format!("  {good}\n")).unwrap();
    assert_eq!(t.alg(), Alg::HS256);
    assert_eq!(t.mac().len(), 32);
    assert_eq!(export_hashcat(&good).unwrap(), good);
}

/// Binary garbage lines (NULs, invalid UTF-8, lone CRs, huge lines) are
/// just more candidates; a secret that is itself invalid UTF-8 is found.
#[test]
fn binary_wordlist_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = 0x9e3779b97f4a7c15u64;
    let mut junk = Vec::with_capacity(3 << 20);
    while junk.len() < 3 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        junk.extend_from_slice(&x.to_le_bytes());
    }
    // A 1.5 MiB line without any newline, longer than a chunk.
    junk.extend(std::iter::repeat_n(0xffu8, 3 << 19));
    junk.extend_from_slice(b"\n\xc3\x28\xff\x00secret\r\n");
    let path = dir.path().join("junk");
    std::fs::write(&path, &junk).unwrap();
    for alg in ["HS256", "HS512"] {
        let token = mint(alg, b"\xc3\x28\xff\x00secret", CLAIMS);
        let o = crack(&token, vec![Source::File(path.clone())], Rules::None);
        assert_eq!(o.found.as_deref(), Some(&b"\xc3\x28\xff\x00secret"[..]));
        let token = mint(alg, b"absent", CLAIMS);
        let o = crack(&token, vec![Source::File(path.clone())], Rules::None);
        assert_eq!(o.stopped, Stopped::Exhausted);
        // Rules on binary words: a slice of the junk is enough.
        let small = dir.path().join("junk-small");
        std::fs::write(&small, &junk[..16 << 10]).unwrap();
        let o = crack(&token, vec![Source::File(small)], Rules::Default);
        assert_eq!(o.stopped, Stopped::Exhausted);
    }
}

/// Unreadable sources and bad rule files are errors, not panics.
#[test]
fn io_and_rule_errors() {
    let token = mint("HS256", b"x", CLAIMS);
    let t = Target::from_jwt(&token).unwrap();
    let r = Cracker::new(t.clone())
        .source(Source::File("/nonexistent/words".into()))
        .run();
    assert!(matches!(r, Err(CrackError::Io { .. })));
    let dir = tempfile::tempdir().unwrap();
    let rf = dir.path().join("bad.rules");
    std::fs::write(&rf, ":\n$[9-1]\n").unwrap();
    let r = Cracker::new(t.clone())
        .source(Source::Builtin)
        .rules(Rules::File(rf))
        .run();
    assert!(matches!(r, Err(CrackError::Rule { line: 2, .. })), "{r:?}");
    // A directory opens but fails on read: surfaced as an error too.
    let r = Cracker::new(t)
        .source(Source::File(dir.path().into()))
        .run();
    assert!(matches!(r, Err(CrackError::Io { .. })), "{r:?}");
}

/// Extreme values from the user are limits, not panics: a budget too long to add to an
/// instant means no deadline, an absurd thread count is clamped, and an endless rule file
/// fails at the rule-file cap.
#[test]
fn extreme_values_do_not_panic() {
    let token = mint("HS256", b"changeme", CLAIMS);
    let t = Target::from_jwt(&token).unwrap();
    // `--max-time 500000000000y`: humantime parses it; Instant + it overflows.
    let huge = Duration::from_secs(500_000_000_000 * 31_557_600);
    for budget in [huge, Duration::MAX] {
        let o = Cracker::new(t.clone())
            .source(Source::Builtin)
            .rules(Rules::None)
            .time_budget(budget)
            .deadline(Instant::now() + Duration::from_secs(60))
            .run()
            .unwrap();
        assert_eq!(o.found.as_deref(), Some(&b"changeme"[..]));
        let o = Cracker::new(t.clone())
            .source(Source::Builtin)
            .rules(Rules::None)
            .time_budget(budget)
            .run()
            .unwrap();
        assert_eq!(o.stopped, Stopped::Found);
    }
    let o = Cracker::new(t.clone())
        .source(Source::Builtin)
        .rules(Rules::None)
        .threads(usize::MAX)
        .run()
        .unwrap();
    assert_eq!(o.stopped, Stopped::Found);
    let started = Instant::now();
    let r = Cracker::new(t)
        .source(Source::Builtin)
        .rules(Rules::File("/dev/zero".into()))
        .run();
    assert!(
        matches!(&r, Err(CrackError::FileTooLarge { limit, .. }) if *limit == authprobe_crack::MAX_RULE_FILE),
        "{r:?}"
    );
    assert!(r.unwrap_err().to_string().contains("limit for rule files"));
    assert!(started.elapsed() < Duration::from_secs(10));
}
