//! `crack TOKEN [--rules default|none|FILE] [--threads N] [--seconds S] WORDLIST...`
//!
//! A thin command line over the library, used by `bench/vs-hashcat.sh` and
//! handy for trying the cracker by hand. `-` reads stdin; `builtin` is the
//! built-in list. Exit status 0 when found, 1 when not, 2 on error.

use std::path::PathBuf;
use std::time::Duration;

use authprobe_crack::{Cracker, Rules, Source, Target};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(token) = args.next() else {
        eprintln!("usage: crack TOKEN [--rules R] [--threads N] [--seconds S] WORDLIST...");
        std::process::exit(2);
    };
    let target = match Target::from_jwt(&token) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let mut cracker = Cracker::new(target);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rules" => {
                cracker = cracker.rules(match args.next().as_deref() {
                    Some("default") => Rules::Default,
                    Some("none") | None => Rules::None,
                    Some(f) => Rules::File(PathBuf::from(f)),
                })
            }
            "--threads" => {
                let n = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
                cracker = cracker.threads(n);
            }
            "--seconds" => {
                let s = args.next().and_then(|s| s.parse().ok()).unwrap_or(60.0);
                cracker = cracker.time_budget(Duration::from_secs_f64(s));
            }
            "builtin" => cracker = cracker.source(Source::Builtin),
            path => cracker = cracker.source(Source::File(PathBuf::from(path))),
        }
    }
    match cracker.run() {
        Ok(o) => {
            let secs = o.elapsed.as_secs_f64();
            println!(
                "{} tried {} in {:.2}s: {:.2} M candidates/s ({:?})",
                o.alg,
                o.tried,
                secs,
                o.tried as f64 / secs / 1e6,
                o.stopped
            );
            match o.found {
                Some(k) => {
                    println!("FOUND {}", String::from_utf8_lossy(&k));
                }
                None => std::process::exit(1),
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
