//! Raw TLS prober for authprobe: which protocol versions, cipher suites and
//! key-exchange groups a server accepts, whether it imposes its suite order,
//! its certificate chain, and whether it asks for client certificates.
//!
//! # Why hand-rolled
//! No maintained TLS library will offer SSLv3 or TLS 1.0, EXPORT or NULL
//! suites, or an arbitrary list of suite codes it does not implement — and a
//! scanner has to offer exactly those to learn whether a server accepts them.
//! So this crate writes ClientHellos and parses the server's first flight by
//! hand. It never completes a handshake and never decrypts anything: it
//! learns everything it needs from the plaintext part of the exchange.
//!
//! # Layout
//! - [`msgs`]: wire codecs (records, ClientHello, ServerHello, Certificate,
//!   ServerKeyExchange, CertificateRequest, Alert). No I/O; every parser
//!   returns an error on malformed input and never panics.
//! - [`suites`]: the IANA cipher suite table with OpenSSL names and
//!   weakness / forward-secrecy classification.
//! - [`probe`]: async probing over TCP (tokio), by elimination: offer a
//!   bundle, remove the server's pick, repeat until it refuses.
//! - [`report`]: [`Prober::scan`] and the serializable [`ScanReport`], with
//!   [`ScanReport::issues`] mapping it onto the `tls.*` catalog ids.
//! - [`profile`]: Mozilla's intermediate server-side profile and a scan's
//!   deviations from it.
//!
//! ```no_run
//! # async fn demo() {
//! use authprobe_tls::{ProbeOptions, Prober};
//! let prober = Prober::new("127.0.0.1:443".parse().unwrap(), Some("api.example.test"), ProbeOptions::default());
//! let report = prober.scan().await;
//! for issue in report.issues() {
//!     println!("{}: {}", issue.id, issue.detail);
//! }
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod error;
pub mod msgs;
pub mod probe;
pub mod profile;
pub mod report;
pub mod suites;

pub use error::{Error, InvalidMessage};
pub use msgs::enums::{AlertDescription, AlertLevel, NamedGroup, SignatureScheme, TlsVersion};
pub use msgs::handshake::{Alert, CertificateRequest, ServerKeyExchange};
pub use msgs::hello::{ClientHello, ServerHello};
pub use probe::{Outcome, ProbeOptions, Prober, ReadUntil, Refusal, ServerFlight};
pub use report::{ScanReport, TlsIssue, scan};
pub use suites::CipherSuite;
