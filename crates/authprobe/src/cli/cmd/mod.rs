//! One module per command; each takes its parsed arguments and returns the exit code.

pub mod checks;
pub mod crack;
pub mod demo;
pub mod docs;
pub mod lab;
pub mod mcp;
pub mod mint_revoked;
pub mod scan;
pub mod serve;
pub mod tls;
pub mod token;
pub mod whole;
pub mod worker;
