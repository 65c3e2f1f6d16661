//! # authprobe
//!
//! A black-box scanner for the authentication layer of HTTP APIs: JWT validation, mutual
//! TLS and certificate identity, HTTP Basic, and the TLS transport under them. It proves
//! each finding with a reproducible request, scores the API and says how to fix it.
//!
//! ## How a scan flows
//!
//! 1. [`options::ScanOptions`] says what to scan with what: the target, the credentials
//!    the user gave, the limits, the JWT and Basic options.
//! 2. [`engine::scan`] takes the baselines (the authorized request and its refused
//!    variants, each twice, see [`scan::Baselines`]), stops with
//!    [`engine::ScanError::CredentialsRefused`] when the user's own credentials are
//!    refused, then schedules the catalog's checks ([`checks::registry`]): root causes
//!    before the checks they explain, account-state-changing checks last, every request
//!    through [`http`]'s limits.
//! 3. Each check ([`check::Check`]) is its metadata ([`check::CheckMeta`]) and a probe in
//!    one file, `checks/<family>/<id>.rs`. It runs with a narrow handle ([`scan::Scan`]):
//!    the options, the baselines, the one refusal policy ([`scan::Compare`]), the facts
//!    gathered at most once per scan ([`facts`]: keys, the crack result, the TLS scan,
//!    client-auth discovery, the certificate trials, root causes) and engine services (the
//!    [`callback`] listener). Requests carry secrets as shell variables ([`creds`],
//!    [`http::Value`]), so evidence never holds them.
//! 4. The [`oracle`] judges every answer: accepted, rejected, or inconclusive; two refusals
//!    that look alike never make a finding.
//! 5. The engine assembles the [`report::Report`] from the outcomes and the facts; the
//!    report module scores it and renders it (pretty, JSON, SARIF, JUnit, Markdown, HTML).
//!
//! Layering, which `tests/architecture.rs` holds: the check API depends on the finding
//! model and the scan handle only; a family imports the check API, the scan handle, the
//! facts and the shared presentation helpers ([`basic_auth`], [`creds`]), never another
//! family; nothing below the families (engine, facts, reports) imports one.
//!
//! Around the scan: [`load`] reads the certificate and key files a user names, with typed
//! errors; [`spec`] reads an API description (OpenAPI 3.0/3.1, Swagger 2.0) into the
//! operations a whole-API scan walks; [`lab_target`] makes scan options for the built-in lab. The command line is the
//! package's binary (`src/main.rs`, `src/cli/`), not part of this API.
//!
//! Above the scan (feature `serve`, on by default): [`store`] keeps targets, scans, reports
//! and fingerprinted findings on SQLite or PostgreSQL, and [`service`] is `authprobe serve`
//! (REST API, dashboard, scan workers, target scope), which scans with this library as the
//! CLI does. Nothing below them names them (`tests/architecture.rs`).

#![forbid(unsafe_code)]

pub mod basic_auth;
pub mod callback;
pub mod check;
pub mod checks;
pub mod creds;
pub mod engine;
pub mod evidence;
pub mod facts;
pub mod finding;
#[cfg(feature = "serve")]
pub mod fleet;
pub mod http;
pub mod lab_target;
pub mod load;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod options;
pub mod oracle;
pub mod pki;
pub mod report;
pub mod scan;
pub mod secrets_file;
#[cfg(feature = "serve")]
pub mod service;
pub mod spec;
#[cfg(feature = "serve")]
pub mod store;
pub mod token_info;
