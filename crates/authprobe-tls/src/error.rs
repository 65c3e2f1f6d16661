//! Error types. Decoding errors are kept apart from I/O errors so that callers
//! can tell "the peer sent garbage" from "the peer could not be reached".

use std::io;

/// Why bytes received from the peer could not be decoded.
///
/// Every parser in [`crate::msgs`] returns this instead of panicking: the
/// input is attacker-controlled by definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMessage {
    #[error("truncated {0}")]
    Truncated(&'static str),
    #[error("unexpected trailing bytes after {0}")]
    TrailingData(&'static str),
    #[error("record of {0} bytes exceeds the TLS limit")]
    RecordTooLarge(usize),
    #[error("handshake message of {0} bytes exceeds the configured limit")]
    MessageTooLarge(usize),
    #[error("peer sent more than {0} bytes during the handshake")]
    FlightTooLarge(usize),
    #[error("unknown record content type {0:#04x} (not a TLS server?)")]
    UnknownContentType(u8),
    #[error("illegal value in {0}")]
    Illegal(&'static str),
    #[error("empty {0}")]
    Empty(&'static str),
    #[error("duplicate extension {0:#06x}")]
    DuplicateExtension(u16),
    #[error("unexpected {0} before ServerHello")]
    UnexpectedMessage(&'static str),
}

/// Errors of the probing API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("connect to {addr} failed: {source}")]
    Connect {
        addr: std::net::SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("connect to {0} timed out")]
    ConnectTimeout(std::net::SocketAddr),
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("malformed server response: {0}")]
    Decode(#[from] InvalidMessage),
    #[error("cannot encode ClientHello: {0}")]
    Encode(&'static str),
    #[error("server selected {0:#06x}, which the ClientHello did not offer")]
    NotOffered(u16),
    #[error("the concurrency limiter was closed")]
    LimiterClosed,
}
