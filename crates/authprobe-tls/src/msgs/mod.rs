//! Wire codecs: everything that turns bytes into typed messages and back.
//! No I/O and no probing decisions live here.

pub mod codec;
pub mod enums;
pub mod handshake;
pub mod hello;
pub mod record;
