use std::io::Read;
use std::time::{Duration, Instant};

use crate::engine::Engine;
use crate::{Cracker, Source, Target};

/// What [`benchmark`] measured.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// End-to-end rate of the full pipeline (reader, chunking, workers).
    pub candidates_per_sec: f64,
    /// `sha2::compress256` on one block at a time, one core: the rate a
    /// straightforward SHA-256 implementation gets on this machine.
    pub compressions_per_sec_single_core: f64,
    /// SHA-256 compressions per candidate for the benchmark token (5: a
    /// 111-byte signing input, as in a typical small JWT).
    pub compressions_per_candidate: usize,
    /// `threads × compressions_per_sec_single_core / compressions_per_candidate`.
    pub bound_candidates_per_sec: f64,
    /// `candidates_per_sec / bound_candidates_per_sec`; above 1 means the
    /// multi-buffer kernel beats one-at-a-time hashing.
    pub fraction_of_bound: f64,
    /// Raw compressions per second of this crate's two-lane SHA-NI kernel
    /// on one core (0 without SHA-NI): what interleaving buys over the line
    /// above.
    pub kernel_compressions_per_sec_single_core: f64,
    pub threads: usize,
    /// Whether the SHA-NI kernel was used.
    pub sha_ni: bool,
}

/// The HS256 token the benchmark cracks: 111-byte signing input, a secret
/// that is not among the generated candidates.
pub(crate) const BENCH_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.39xJgmRTKJ0B066IbLOyHgnZ3woOlme8nf-kpNNq7bw";

/// Endless newline-separated candidates, cheap to produce so the reader
/// thread costs what reading a cached file would.
struct Endless {
    block: Vec<u8>,
    pos: usize,
}

impl Endless {
    fn new() -> Endless {
        let mut block = Vec::with_capacity(1 << 20);
        let mut i = 0u32;
        while block.len() < (1 << 20) - 32 {
            block.extend_from_slice(format!("candidate{i:07}\n").as_bytes());
            i += 1;
        }
        Endless { block, pos: 0 }
    }
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.block.len() - self.pos);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos = (self.pos + n) % self.block.len();
        Ok(n)
    }
}

fn single_block_rate(d: Duration) -> f64 {
    let block = [sha2::digest::generic_array::GenericArray::from(
        [0x5au8; 64],
    )];
    let mut st = crate::engine::H256;
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < d {
        for _ in 0..10_000 {
            sha2::compress256(&mut st, &block);
        }
        n += 10_000;
    }
    std::hint::black_box(st);
    n as f64 / start.elapsed().as_secs_f64()
}

/// Measures the machine's single-core SHA-256 compression rate, then runs the
/// real cracking pipeline on `threads` workers for `duration` and relates
/// the two.
pub fn benchmark(duration: Duration, threads: usize) -> BenchReport {
    let threads = threads.max(1);
    let target = Target::from_jwt(BENCH_TOKEN).expect("benchmark token is valid");
    let per = Engine::compressions_per_candidate(&target);
    let single =
        single_block_rate((duration / 4).clamp(Duration::from_millis(100), Duration::from_secs(2)));
    let outcome = Cracker::new(target)
        .threads(threads)
        .time_budget(duration)
        .source(Source::Reader(Box::new(Endless::new())))
        .run();
    let (tried, secs) = match outcome {
        Ok(o) => (o.tried, o.elapsed.as_secs_f64()),
        Err(_) => (0, 1.0),
    };
    let cps = tried as f64 / secs.max(1e-9);
    let bound = threads as f64 * single / per as f64;
    BenchReport {
        candidates_per_sec: cps,
        compressions_per_sec_single_core: single,
        compressions_per_candidate: per,
        bound_candidates_per_sec: bound,
        fraction_of_bound: cps / bound,
        kernel_compressions_per_sec_single_core: kernel_rate(Duration::from_millis(300)),
        threads,
        sha_ni: sha_ni(),
    }
}

fn kernel_rate(d: Duration) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if crate::shani::available() {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < d {
            std::hint::black_box(crate::shani::compress_many(5_000));
            n += 5_000 * crate::shani::LANES as u64;
        }
        return n as f64 / start.elapsed().as_secs_f64();
    }
    let _ = d;
    0.0
}

fn sha_ni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::shani::available()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
