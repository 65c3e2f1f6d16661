//! Full enumeration of one endpoint, for benchmarking:
//! `cargo run --release -p authprobe-tls --example enumerate -- 127.0.0.1:PORT [SNI] [--json]`

use authprobe_tls::{ProbeOptions, Prober};
use std::net::SocketAddr;
use std::time::Instant;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(addr) = args.first().and_then(|a| a.parse::<SocketAddr>().ok()) else {
        eprintln!("usage: enumerate IP:PORT [SNI] [--json]");
        std::process::exit(2);
    };
    let json = args.iter().any(|a| a == "--json");
    let sni = args
        .get(1)
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str);

    let start = Instant::now();
    let report = Prober::new(addr, sni, ProbeOptions::default()).scan().await;
    let elapsed = start.elapsed();

    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serializable")
        );
        return;
    }
    for p in &report.protocols {
        let order = match p.server_enforces_order {
            Some(true) => "server order",
            Some(false) => "client order",
            None => "order n/a",
        };
        println!(
            "{:8} {:3} suites ({order}), {} groups",
            p.version.name(),
            p.suites.len(),
            p.groups.len()
        );
        for s in &p.suites {
            let flags = match (s.weak, s.forward_secrecy) {
                (true, _) => " [weak]",
                (false, false) => " [no FS]",
                _ => "",
            };
            println!(
                "           {}{flags}",
                s.openssl_name.as_deref().unwrap_or(&s.name)
            );
        }
    }
    for i in report.issues() {
        println!("{}: {}", i.id, i.detail);
    }
    for e in &report.errors {
        println!("error: {e}");
    }
    println!(
        "handshakes: {}  wall time: {:.1} ms",
        report.handshakes,
        elapsed.as_secs_f64() * 1000.0
    );
}
