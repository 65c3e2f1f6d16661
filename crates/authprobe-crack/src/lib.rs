//! Offline recovery of weak HMAC secrets behind HS256 / HS384 / HS512 JWTs.
//!
//! A JWT signed with an HMAC algorithm is only as strong as its secret. When a
//! service signs tokens with a default, example or otherwise guessable secret,
//! anyone holding one token can mint arbitrary tokens. This crate tests a token
//! against candidate secrets entirely offline, as fast as the CPU allows.
//!
//! # Usage
//!
//! ```no_run
//! use authprobe_crack::{Cracker, Rules, Source, Target};
//!
//! let target = Target::from_jwt("eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo")?;
//! let outcome = Cracker::new(target)
//!     .source(Source::Builtin)
//!     .source(Source::File("rockyou.txt".into()))
//!     .rules(Rules::Default)
//!     .run()?;
//! if let Some(secret) = outcome.found {
//!     println!("secret: {}", String::from_utf8_lossy(&secret));
//! }
//! # Ok::<(), authprobe_crack::CrackError>(())
//! ```
//!
//! # Candidate sources
//!
//! * [`Source::Builtin`]: a short list of secrets seen in library docs,
//!   framework defaults and tutorials ([`BUILTIN_SECRETS`]).
//! * [`Source::File`]: a wordlist, one candidate per line. Gzip files are
//!   recognised by their magic bytes, whatever their name. `-` means stdin.
//! * [`Source::Stdin`] and [`Source::Reader`] for anything else.
//!
//! Lines are bytes, not text: invalid UTF-8 is tried as is. A trailing `\r` is
//! stripped and empty lines are skipped. A line longer than the streaming
//! chunk (1 MiB) is skipped.
//!
//! # Mangling rules
//!
//! [`Rules::Default`] derives, from every word, these base forms (duplicates
//! are dropped per word): the word itself, lower case, upper case,
//! capitalised, and lower-case / capitalised leetspeak (`a→@ e→3 i→1
//! o→0`). Each base form is tried bare and followed by each of: `0`–`99`,
//! `00`–`09`, `1990`–`2030`, `!`, `123`, `1234`, and the same numbers and
//! `123` followed by `!` (so `password` yields `Password2024!`). That is
//! about 1,800 candidates per word: meant for short lists, not for rockyou.
//!
//! [`Rules::File`] reads rules in a tiny syntax, one rule per line, each
//! line a sequence of operations applied left to right (blank lines and
//! lines starting with `#` are ignored, spaces between operations too):
//!
//! | op | effect |
//! |----|--------|
//! | `:` | nothing (the word as is) |
//! | `l` / `u` / `c` | lower case / upper case / capitalise (ASCII letters only) |
//! | `t` | toggle the case of every ASCII letter |
//! | `r` | reverse |
//! | `d` | duplicate (`abc` → `abcabc`) |
//! | `sXY` | replace every byte `X` by `Y` |
//! | `^X` | prepend byte `X` |
//! | `$X` | append byte `X` |
//! | `$[A-B]` | append each decimal number from `A` to `B`; `A` written with a leading zero sets a fixed width (`$[00-09]`) |
//!
//! A line with `$[A-B]` stands for one rule per number (several ranges
//! multiply). The default set above is itself written in this syntax
//! ([`rules::DEFAULT_RULES`]).
//!
//! # Speed
//!
//! Everything that depends only on the token is computed once: the padded
//! message blocks of the signing input (and, on the SHA-NI path, their whole
//! message schedule with the round constants already added), and the padding
//! of the outer block. Per candidate only the ipad and opad blocks, the inner
//! message blocks and the outer block are compressed: for a typical 111-byte
//! signing input that is 5 SHA-256 compressions. On x86-64 CPUs with the SHA
//! extensions a hand-written kernel runs two candidates interleaved, so the
//! SHA unit never waits on the latency of one chain. See [`benchmark`].
//!
//! Memory stays bounded whatever the wordlist size: a reader thread fills a
//! small pool of fixed-size chunks that the workers hand back once tried.

// `sha2::compress*` take generic-array 0.14 blocks, which that crate now
// marks deprecated; sha2 0.10 offers no other block type.
#[allow(deprecated)]
mod bench;
mod builtin;
mod crack;
#[allow(deprecated)]
mod engine;
pub mod rules;
#[cfg(target_arch = "x86_64")]
#[allow(deprecated)]
mod shani;
mod stream;
mod target;

pub use bench::{BenchReport, benchmark};
pub use builtin::BUILTIN_SECRETS;
pub use crack::{Cracker, MAX_THREADS, Outcome, Progress, Source, Stopped};
pub use rules::{MAX_RULE_FILE, Rules};
pub use target::{Alg, MAX_TOKEN_LEN, Target, export_hashcat};

/// Anything that keeps a crack from starting or finishing.
#[derive(Debug, thiserror::Error)]
pub enum CrackError {
    /// The token is not a well-formed compact JWS.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The token is signed with something other than HS256/HS384/HS512.
    #[error(
        "unsupported algorithm {0:?}: only HS256, HS384 and HS512 tokens can be cracked offline"
    )]
    UnsupportedAlg(String),
    /// The token is larger than [`MAX_TOKEN_LEN`].
    #[error("token too large ({0} bytes)")]
    TooLarge(usize),
    /// A wordlist or rule file could not be read.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A rule file is larger than [`MAX_RULE_FILE`] (or is endless, such as a device).
    #[error("{path}: larger than the {limit}-byte limit for rule files")]
    FileTooLarge { path: String, limit: u64 },
    /// A rule file line could not be parsed.
    #[error("rule file line {line}: {msg}")]
    Rule { line: usize, msg: String },
    /// A worker thread could not be started.
    #[error("thread spawn failed: {0}")]
    Thread(std::io::Error),
}
