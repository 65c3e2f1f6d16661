//! `cargo run --release -p authprobe-crack --example bench -- [SECONDS] [THREADS]`
//!
//! What `authprobe crack --benchmark` prints: the end-to-end HS256 rate and
//! how it compares with this machine's own SHA-256 compression rate.

use std::time::Duration;

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let threads: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let r = authprobe_crack::benchmark(Duration::from_secs_f64(secs), threads);
    println!("threads                         {}", r.threads);
    println!("sha-ni kernel                   {}", r.sha_ni);
    println!(
        "sha2 compress256, 1 core        {:.2} M blocks/s",
        r.compressions_per_sec_single_core / 1e6
    );
    println!(
        "2-lane kernel, 1 core           {:.2} M blocks/s",
        r.kernel_compressions_per_sec_single_core / 1e6
    );
    println!(
        "compressions per candidate      {}",
        r.compressions_per_candidate
    );
    println!(
        "bound ({} x sha2 rate / {})      {:.2} M candidates/s",
        r.threads,
        r.compressions_per_candidate,
        r.bound_candidates_per_sec / 1e6
    );
    println!(
        "measured (HS256, end to end)    {:.2} M candidates/s",
        r.candidates_per_sec / 1e6
    );
    println!("fraction of bound               {:.2}", r.fraction_of_bound);
}
