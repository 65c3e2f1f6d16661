//! # authprobe
//!
//! A black-box scanner for the authentication layer of HTTP APIs: JWT validation, mutual
//! TLS and certificate identity, HTTP Basic, and the TLS transport under them. It proves
//! each finding with a reproducible request, scores the API and says how to fix it.
//!
//! Layout: [`http`] (the only way out to the network, with the safety limits), [`oracle`]
//! (accepted / rejected / inconclusive), [`checks`] (metadata plus a probe each),
//! [`engine`] (baselines and scheduling), [`report`] (model, scoring, renderings) and
//! [`cli`].

#![forbid(unsafe_code)]

pub mod checks;
pub mod cli;
pub mod engine;
pub mod files;
pub mod finding;
pub mod http;
pub mod oracle;
pub mod report;
