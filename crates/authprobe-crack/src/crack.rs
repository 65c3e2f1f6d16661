use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::engine::Engine;
use crate::rules::{RuleSet, Rules, Scratch};
use crate::stream::{self, Chunk, Counting, Feed, Pool};
use crate::target::{Alg, Target};
use crate::{BUILTIN_SECRETS, CrackError};

/// Where candidates come from. Sources are read one after the other.
pub enum Source {
    /// [`BUILTIN_SECRETS`].
    Builtin,
    /// A wordlist file, plain or gzip (by content). `-` is stdin.
    File(PathBuf),
    /// Standard input, plain or gzip.
    Stdin,
    /// Any byte stream of newline-separated candidates, plain or gzip.
    Reader(Box<dyn Read + Send>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Builtin => f.write_str("Builtin"),
            Source::File(p) => write!(f, "File({})", p.display()),
            Source::Stdin => f.write_str("Stdin"),
            Source::Reader(_) => f.write_str("Reader"),
        }
    }
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The secret was found.
    Found,
    /// Every candidate was tried.
    Exhausted,
    /// The deadline passed first.
    Deadline,
    /// The cancellation flag was raised.
    Cancelled,
}

/// Result of [`Cracker::run`].
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The secret, when found (verified against the token).
    pub found: Option<Vec<u8>>,
    pub alg: Alg,
    /// Candidates tried (after mangling).
    pub tried: u64,
    pub elapsed: Duration,
    pub stopped: Stopped,
}

/// Live counters for a progress bar, updated by the workers every few
/// thousand candidates. Read them from any thread while `run` is going.
#[derive(Debug, Default)]
pub struct Progress {
    tried: AtomicU64,
    bytes_read: AtomicU64,
    bytes_total: AtomicU64,
}

impl Progress {
    /// Candidates tried so far.
    pub fn tried(&self) -> u64 {
        self.tried.load(Ordering::Relaxed)
    }

    /// Input bytes consumed so far (compressed bytes for gzip files).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Total input size when every source has a known size (files), else 0.
    /// `bytes_read / bytes_total` then gives the fraction done for an ETA.
    pub fn bytes_total(&self) -> u64 {
        self.bytes_total.load(Ordering::Relaxed)
    }
}

/// Configures and runs one crack. Build with [`Cracker::new`], add sources,
/// then [`Cracker::run`].
pub struct Cracker {
    target: Target,
    sources: Vec<Source>,
    rules: Rules,
    threads: usize,
    deadline: Option<Instant>,
    budget: Option<Duration>,
    cancel: Arc<AtomicBool>,
    progress: Arc<Progress>,
}

const REASON_NONE: u8 = 0;
const REASON_FOUND: u8 = 1;
const REASON_DEADLINE: u8 = 2;
const REASON_CANCEL: u8 = 3;
const REASON_ERROR: u8 = 4;

/// Candidates between checks of the stop conditions: small enough that a
/// deadline or cancel is honoured within a millisecond, large enough that
/// reading the clock costs nothing measurable.
const PIECE: usize = 4096;
/// More worker threads than this are never started, whatever [`Cracker::threads`] asks.
pub const MAX_THREADS: usize = 1024;

/// Shared by the reader and the workers.
struct Shared {
    stop: AtomicBool,
    reason: AtomicU8,
    cancel: Arc<AtomicBool>,
    deadline: Option<Instant>,
    progress: Arc<Progress>,
    found: Mutex<Option<Vec<u8>>>,
}

impl Shared {
    fn halt(&self, reason: u8) {
        // First reason wins: a find just before the deadline stays a find.
        let _ =
            self.reason
                .compare_exchange(REASON_NONE, reason, Ordering::AcqRel, Ordering::Acquire);
        self.stop.store(true, Ordering::Release);
    }

    /// Checks the external stop conditions; true when work should end.
    fn should_stop(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return true;
        }
        if self.cancel.load(Ordering::Relaxed) {
            self.halt(REASON_CANCEL);
            return true;
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.halt(REASON_DEADLINE);
            return true;
        }
        false
    }
}

impl Cracker {
    pub fn new(target: Target) -> Cracker {
        Cracker {
            target,
            sources: Vec::new(),
            rules: Rules::None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            deadline: None,
            budget: None,
            cancel: Arc::new(AtomicBool::new(false)),
            progress: Arc::new(Progress::default()),
        }
    }

    /// Adds a candidate source; sources are tried in the order added.
    pub fn source(mut self, s: Source) -> Cracker {
        self.sources.push(s);
        self
    }

    pub fn rules(mut self, r: Rules) -> Cracker {
        self.rules = r;
        self
    }

    /// Worker threads (default: available cores). The reader is extra.
    pub fn threads(mut self, n: usize) -> Cracker {
        // Queue sizes are multiples of this: an absurd count must not overflow them.
        self.threads = n.clamp(1, MAX_THREADS);
        self
    }

    /// Stop at this instant.
    pub fn deadline(mut self, at: Instant) -> Cracker {
        self.deadline = Some(at);
        self
    }

    /// Stop this long after `run` starts.
    pub fn time_budget(mut self, d: Duration) -> Cracker {
        self.budget = Some(d);
        self
    }

    /// Raise this flag from any thread to stop the run early.
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Cracker {
        self.cancel = flag;
        self
    }

    /// Counters to poll while `run` is going.
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Runs to the first match, the end of the sources, the deadline or
    /// cancellation. Errors only for unreadable sources or rule files, and
    /// not if the secret was found before the unreadable part.
    pub fn run(self) -> Result<Outcome, CrackError> {
        let start = Instant::now();
        let rules = RuleSet::load(&self.rules)?.map(Arc::new);
        let mut total = 0u64;
        let mut sized = true;
        for s in &self.sources {
            match s {
                Source::File(p) if p.as_os_str() != "-" => {
                    let m = std::fs::metadata(p).map_err(|source| CrackError::Io {
                        path: p.display().to_string(),
                        source,
                    })?;
                    total += m.len();
                }
                Source::Builtin => {
                    total += BUILTIN_SECRETS
                        .iter()
                        .map(|s| s.len() as u64 + 1)
                        .sum::<u64>();
                }
                _ => sized = false,
            }
        }
        self.progress
            .bytes_total
            .store(if sized { total } else { 0 }, Ordering::Relaxed);

        // A budget too long to add to an instant (`500000000000y`) is no deadline at all.
        let from_budget = self.budget.and_then(|b| start.checked_add(b));
        let deadline = match (self.deadline, from_budget) {
            (Some(d), Some(b)) => Some(d.min(b)),
            (d, b) => d.or(b),
        };
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            reason: AtomicU8::new(REASON_NONE),
            cancel: self.cancel.clone(),
            deadline,
            progress: self.progress.clone(),
            found: Mutex::new(None),
        });

        let threads = self.threads;
        // Bounded queue plus one buffer per worker and one being filled:
        // this is the whole memory budget of the streaming.
        let (tx, rx) = sync_channel::<Chunk>(threads);
        let (back_tx, back_rx) = sync_channel::<Vec<u8>>(2 * threads + 2);
        let pool = Pool::new(back_rx, 2 * threads + 1);
        let rx = Arc::new(Mutex::new(rx));

        let mut workers = Vec::with_capacity(threads);
        for _ in 0..threads {
            let rx = rx.clone();
            let back = back_tx.clone();
            let wshared = shared.clone();
            let target = self.target.clone();
            let rules = rules.clone();
            let h = std::thread::Builder::new()
                .name("crack-worker".into())
                .spawn(move || worker(&target, &rx, &back, &wshared, rules.as_deref()))
                .map_err(CrackError::Thread);
            match h {
                Ok(h) => workers.push(h),
                Err(e) => {
                    shared.halt(REASON_ERROR);
                    return Err(e);
                }
            }
        }
        drop(back_tx);

        let sources = self.sources;
        let rshared = shared.clone();
        let reader = std::thread::Builder::new()
            .name("crack-reader".into())
            .spawn(move || read_all(sources, pool, tx, &rshared))
            .map_err(|e| {
                shared.halt(REASON_ERROR);
                CrackError::Thread(e)
            })?;

        for w in workers {
            let _ = w.join();
        }
        let reason = shared.reason.load(Ordering::Acquire);
        let found = shared.found.lock().map(|mut f| f.take()).unwrap_or(None);
        // The reader can be blocked in a read on a pipe that will never
        // deliver; after an early stop it is left to notice the closed
        // channel on its own rather than holding up the result.
        let read_result = if reason == REASON_NONE || reason == REASON_ERROR {
            reader.join().unwrap_or(Ok(()))
        } else {
            Ok(())
        };
        let stopped = match reason {
            REASON_FOUND => Stopped::Found,
            REASON_DEADLINE => Stopped::Deadline,
            REASON_CANCEL => Stopped::Cancelled,
            _ => {
                read_result?;
                Stopped::Exhausted
            }
        };
        Ok(Outcome {
            found,
            alg: self.target.alg(),
            tried: self.progress.tried(),
            elapsed: start.elapsed(),
            stopped,
        })
    }
}

fn open(src: Source) -> Result<Box<dyn Read + Send>, CrackError> {
    let io = |path: &str| {
        let path = path.to_string();
        move |source| CrackError::Io { path, source }
    };
    match src {
        Source::Builtin => {
            let mut v = Vec::new();
            for s in BUILTIN_SECRETS {
                v.extend_from_slice(s.as_bytes());
                v.push(b'\n');
            }
            Ok(Box::new(std::io::Cursor::new(v)))
        }
        Source::File(p) if p.as_os_str() == "-" => open(Source::Stdin),
        Source::File(p) => {
            let f = std::fs::File::open(&p).map_err(io(&p.display().to_string()))?;
            Ok(Box::new(f))
        }
        Source::Stdin => Ok(Box::new(std::io::stdin())),
        Source::Reader(r) => Ok(r),
    }
}

fn read_all(
    sources: Vec<Source>,
    mut pool: Pool,
    tx: SyncSender<Chunk>,
    shared: &Shared,
) -> Result<(), CrackError> {
    let fail = |e: CrackError| {
        shared.halt(REASON_ERROR);
        Err(e)
    };
    for src in sources {
        let name = format!("{src:?}");
        let raw = match open(src) {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        let counted = Counting {
            inner: raw,
            count: &shared.progress.bytes_read,
        };
        let mut r = match stream::maybe_gunzip(counted) {
            Ok(r) => r,
            Err(source) => return fail(CrackError::Io { path: name, source }),
        };
        match stream::feed(&mut r, &mut pool, &tx, &shared.stop) {
            Ok(Feed::Done) => {}
            Ok(Feed::Stopped) => return Ok(()),
            Err(source) => return fail(CrackError::Io { path: name, source }),
        }
    }
    Ok(())
}

/// Candidates produced by rules, packed back to back so that a batch is a
/// list of byte slices of one reused buffer.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Batch {
    fn push(&mut self, head: &[u8], tail: &[u8]) {
        self.data.extend_from_slice(head);
        self.data.extend_from_slice(tail);
        self.ends.push(self.data.len());
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&e| {
            let s = &self.data[start..e];
            start = e;
            s
        })
    }

    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }
}

fn report(shared: &Shared, tried: u64, hit: Option<&[u8]>) -> bool {
    shared.progress.tried.fetch_add(tried, Ordering::Relaxed);
    if let Some(k) = hit {
        if let Ok(mut f) = shared.found.lock() {
            f.get_or_insert_with(|| k.to_vec());
        }
        shared.halt(REASON_FOUND);
        return false;
    }
    !shared.should_stop()
}

fn worker(
    target: &Target,
    rx: &Mutex<Receiver<Chunk>>,
    back: &SyncSender<Vec<u8>>,
    shared: &Shared,
    rules: Option<&RuleSet>,
) {
    let mut engine = Engine::new(target);
    let mut scratch = Scratch::default();
    let mut batch = Batch::default();
    loop {
        // A timed wait so that a deadline or cancel is honoured even while
        // the input is stalled (a pipe with nothing to say).
        let chunk = loop {
            if shared.should_stop() {
                return;
            }
            let got = match rx.lock() {
                Ok(rx) => rx.recv_timeout(Duration::from_millis(50)),
                Err(_) => return,
            };
            match got {
                Ok(c) => break c,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        let go_on = match rules {
            None => plain(&mut engine, &chunk, shared),
            Some(r) => mangled(&mut engine, &chunk, shared, r, &mut scratch, &mut batch),
        };
        let _ = back.send(chunk.buf);
        if !go_on {
            return;
        }
    }
}

fn plain(engine: &mut Engine, chunk: &Chunk, shared: &Shared) -> bool {
    let mut lines = chunk.lines();
    loop {
        let (tried, hit) = engine.scan(lines.by_ref().take(PIECE));
        if !report(shared, tried, hit) {
            return false;
        }
        if (tried as usize) < PIECE {
            return true;
        }
    }
}

/// Flush threshold for rule output: keeps the batch in L2 and bounds memory
/// however long the words are.
const BATCH_BYTES: usize = 256 * 1024;

fn mangled(
    engine: &mut Engine,
    chunk: &Chunk,
    shared: &Shared,
    rules: &RuleSet,
    scratch: &mut Scratch,
    batch: &mut Batch,
) -> bool {
    batch.clear();
    let mut go_on = true;
    let mut flush = |batch: &mut Batch| -> bool {
        let (tried, hit) = engine.scan(batch.iter());
        let ok = report(shared, tried, hit);
        batch.clear();
        ok
    };
    for word in chunk.lines() {
        let complete = rules.apply(word, scratch, &mut |head, tail| {
            batch.push(head, tail);
            if batch.ends.len() >= PIECE || batch.data.len() >= BATCH_BYTES {
                go_on = flush(batch);
            }
            go_on
        });
        if !complete || !go_on {
            return false;
        }
    }
    if !batch.ends.is_empty() {
        go_on = flush(batch);
    }
    go_on
}
