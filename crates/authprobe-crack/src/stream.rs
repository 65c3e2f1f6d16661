//! Bounded-memory wordlist streaming.
//!
//! One reader thread cuts the input into fixed-size chunks that end on a line
//! boundary and hands them to the workers over a bounded channel; workers
//! send the emptied buffers back. At most `max_chunks` buffers ever exist, so
//! memory is `max_chunks × CHUNK` whatever the wordlist size, and nothing is
//! allocated per line.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};

pub(crate) const CHUNK: usize = 1 << 20;

/// Lines `buf[..len]`, each ended by `\n` except possibly the last.
pub(crate) struct Chunk {
    pub(crate) buf: Vec<u8>,
    pub(crate) len: usize,
}

impl Chunk {
    /// Candidate lines: `\r` before the newline stripped, empty lines skipped
    /// (an empty key is rarely the point and blank lines are common).
    pub(crate) fn lines(&self) -> impl Iterator<Item = &[u8]> {
        self.buf[..self.len]
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .filter(|l| !l.is_empty())
    }
}

/// Recycled chunk buffers, allocated lazily up to a fixed count.
pub(crate) struct Pool {
    back: Receiver<Vec<u8>>,
    made: usize,
    max: usize,
}

impl Pool {
    pub(crate) fn new(back: Receiver<Vec<u8>>, max: usize) -> Pool {
        Pool { back, made: 0, max }
    }

    /// None once every worker has gone (nobody will ever return a buffer).
    fn get(&mut self) -> Option<Vec<u8>> {
        match self.back.try_recv() {
            Ok(b) => return Some(b),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {}
        }
        if self.made < self.max {
            self.made += 1;
            return Some(vec![0; CHUNK]);
        }
        self.back.recv().ok()
    }
}

/// Counts bytes as they are read so progress can be shown against a file
/// size (for gzip, the compressed bytes, which is what the size measures).
pub(crate) struct Counting<'a, R> {
    pub(crate) inner: R,
    pub(crate) count: &'a AtomicU64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Wraps `r` in a gzip decoder when it starts with the gzip magic, whatever
/// the file is called.
pub(crate) fn maybe_gunzip<'a, R: Read + 'a>(mut r: R) -> io::Result<Box<dyn Read + 'a>> {
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match r.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let whole = io::Cursor::new(magic[..got].to_vec()).chain(r);
    if got == 2 && magic == [0x1f, 0x8b] {
        // Multi-member, as produced by `cat a.gz b.gz` or pigz.
        Ok(Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::new(whole),
        )))
    } else {
        Ok(Box::new(whole))
    }
}

/// Why the reader gave up before the end of its input.
pub(crate) enum Feed {
    Done,
    Stopped,
}

/// Streams `r` into chunks until EOF or `stop`.
pub(crate) fn feed(
    r: &mut dyn Read,
    pool: &mut Pool,
    out: &SyncSender<Chunk>,
    stop: &AtomicBool,
) -> io::Result<Feed> {
    let Some(mut cur) = pool.get() else {
        return Ok(Feed::Stopped);
    };
    let mut filled = 0;
    // Inside a line longer than a chunk: drop bytes up to the next newline.
    let mut skipping = false;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(Feed::Stopped);
        }
        let n = match r.read(&mut cur[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            if filled > 0
                && !skipping
                && out
                    .send(Chunk {
                        buf: cur,
                        len: filled,
                    })
                    .is_err()
            {
                return Ok(Feed::Stopped);
            }
            return Ok(Feed::Done);
        }
        let start = filled;
        filled += n;
        if skipping {
            match cur[start..filled].iter().position(|&b| b == b'\n') {
                Some(p) => {
                    cur.copy_within(start + p + 1..filled, 0);
                    filled -= start + p + 1;
                    skipping = false;
                }
                None => {
                    filled = 0;
                    continue;
                }
            }
        }
        if filled < CHUNK {
            continue;
        }
        match cur.iter().rposition(|&b| b == b'\n') {
            Some(p) => {
                let Some(mut next) = pool.get() else {
                    return Ok(Feed::Stopped);
                };
                let tail = CHUNK - (p + 1);
                next[..tail].copy_from_slice(&cur[p + 1..]);
                if out
                    .send(Chunk {
                        buf: cur,
                        len: p + 1,
                    })
                    .is_err()
                {
                    return Ok(Feed::Stopped);
                }
                cur = next;
                filled = tail;
            }
            None => {
                skipping = true;
                filled = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    fn collect(input: &[u8]) -> (Vec<Vec<u8>>, usize) {
        let (tx, rx) = sync_channel::<Chunk>(1);
        let (back_tx, back_rx) = sync_channel::<Vec<u8>>(4);
        let mut pool = Pool::new(back_rx, 3);
        let stop = AtomicBool::new(false);
        let mut r = input;
        let h = std::thread::spawn(move || {
            let mut lines = Vec::new();
            let mut chunks = 0;
            for c in rx {
                chunks += 1;
                lines.extend(c.lines().map(|l| l.to_vec()));
                let _ = back_tx.send(c.buf);
            }
            (lines, chunks)
        });
        assert!(matches!(
            feed(&mut r, &mut pool, &tx, &stop).unwrap(),
            Feed::Done
        ));
        drop(tx);
        h.join().unwrap()
    }

    #[test]
    fn lines_survive_chunk_boundaries() {
        let mut input = Vec::new();
        let mut want = Vec::new();
        let mut i = 0u64;
        while input.len() < 3 * CHUNK + 12345 {
            let w = format!("word-{i}-{}", "x".repeat((i % 37) as usize));
            input.extend_from_slice(w.as_bytes());
            input.extend_from_slice(if i.is_multiple_of(5) { b"\r\n" } else { b"\n" });
            want.push(w.into_bytes());
            i += 1;
        }
        input.extend_from_slice(b"last-without-newline");
        want.push(b"last-without-newline".to_vec());
        let (got, chunks) = collect(&input);
        assert_eq!(chunks, 4);
        assert_eq!(got, want);
    }

    #[test]
    fn overlong_lines_are_skipped() {
        let mut input = b"a\nb\n".to_vec();
        input.extend(std::iter::repeat_n(b'z', 2 * CHUNK + 7));
        input.extend_from_slice(b"\nc\n");
        input.extend(std::iter::repeat_n(b'y', CHUNK));
        let (got, _) = collect(&input);
        assert_eq!(got, [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    }

    #[test]
    fn gzip_is_detected_by_content() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"one\ntwo\n").unwrap();
        let gz = gz.finish().unwrap();
        let mut out = String::new();
        maybe_gunzip(&gz[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "one\ntwo\n");
        for plain in [&b""[..], b"x", b"\x1f", b"\x1fz\n"] {
            let mut out = Vec::new();
            maybe_gunzip(plain).unwrap().read_to_end(&mut out).unwrap();
            assert_eq!(out, plain);
        }
    }
}
