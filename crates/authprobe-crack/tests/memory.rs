//! Bounded memory: a 14-million-line wordlist with the secret on the last
//! line is cracked by a child process whose peak RSS (VmHWM) stays small.

mod common;

use std::io::Write;

use authprobe_crack::{Cracker, Source, Stopped, Target};

const ENV: &str = "AUTHPROBE_CRACK_MEM_CHILD";
const LINES: u64 = 14_000_000;
const LIMIT_KIB: u64 = 64 * 1024;

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

#[test]
fn fourteen_million_lines_in_bounded_memory() {
    if let Ok(spec) = std::env::var(ENV) {
        let (token, path) = spec.split_once('\n').unwrap();
        let o = Cracker::new(Target::from_jwt(token).unwrap())
            .threads(2)
            .source(Source::File(path.into()))
            .run()
            .unwrap();
        println!(
            "CHILD found={} stopped={:?} tried={} secs={:.2} hwm_kib={}",
            String::from_utf8_lossy(&o.found.unwrap_or_default()),
            o.stopped,
            o.tried,
            o.elapsed.as_secs_f64(),
            vm_hwm_kib()
        );
        assert_eq!(o.stopped, Stopped::Found);
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
    // Cheap to generate: an incrementing 8-digit counter, no formatting.
    let mut digits = *b"w00000000\n";
    for _ in 0..LINES - 1 {
        w.write_all(&digits).unwrap();
        let mut i = 8;
        while digits[i] == b'9' {
            digits[i] = b'0';
            i -= 1;
        }
        digits[i] += 1;
    }
    w.write_all(b"the-secret-on-the-last-line\n").unwrap();
    w.flush().unwrap();
    drop(w);

    let token = common::mint("HS256", b"the-secret-on-the-last-line", common::CLAIMS);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "fourteen_million_lines_in_bounded_memory",
            "--nocapture",
        ])
        .env(ENV, format!("{token}\n{}", path.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("CHILD "))
        .expect("child report");
    assert!(line.contains("found=the-secret-on-the-last-line"), "{line}");
    let hwm: u64 = line
        .rsplit("hwm_kib=")
        .next()
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(hwm < LIMIT_KIB, "peak RSS {hwm} KiB");
    let tried: u64 = line
        .split("tried=")
        .nth(1)
        .and_then(|v| v.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    // The secret on the last line proves the reader streamed the whole file; `tried` proves
    // the lines were hashed, not skipped. When one worker finds the secret, the chunk the
    // other is still on is abandoned, so up to one 1 MiB chunk (~105k of these 10-byte
    // lines) per other thread may go uncounted.
    let in_flight = (1u64 << 20) / 10;
    assert!(tried >= LINES - in_flight, "tried {tried}");
}
