//! # authprobe
//!
//! A black-box scanner for the authentication layer of HTTP APIs: JWT validation, mutual
//! TLS and certificate identity, HTTP Basic, and the TLS transport under them. It proves
//! each finding with a reproducible request, scores the API and says how to fix it.
//!
//! Layout: [`http`] (the only way out to the network, with the safety limits), [`oracle`]
//! (accepted / rejected / inconclusive), [`checks`] (metadata plus a probe each),
//! [`engine`] (baselines and scheduling), [`report`] (model, scoring, renderings),
//! [`load`] (the certificate and key files a user names) and [`lab_target`] (scan options
//! for the built-in lab). The command line is the package's binary, not part of this API.

pub mod checks;
pub mod engine;
pub mod finding;
pub mod http;
pub mod lab_target;
pub mod load;
pub mod oracle;
pub mod report;

/// The capped file reads under their former path, which the checks still use.
pub use load::files;
