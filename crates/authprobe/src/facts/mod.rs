//! Facts gathered at most once per scan and shared by checks and reports: each a typed
//! provider the first asker computes and every later one reads. Checks are verdicts over
//! these facts plus their own probes; the report's `tls` and `client_auth` sections are
//! made from the facts the scan returns, not from any check's internals.

pub mod auth;
pub mod certs;
pub mod client_auth;
pub mod jwt;
pub mod tls;

use std::sync::Arc;
use tokio::sync::OnceCell;

#[derive(Default)]
pub struct Facts {
    /// Keys (given, found, cracked, confused), the crack result, the shared forgeries and
    /// whether signatures are verified at all.
    pub jwt: jwt::JwtFacts,
    /// The probe-certificate minter and the certificate trials.
    pub certs: certs::CertFacts,
    /// Whether the server asks for a client certificate, per protocol version.
    pub client_auth: client_auth::ClientAuth,
    /// Garbage accepted, certificate alone accepted.
    pub auth: auth::AuthFacts,
    /// The TLS prober's scan of the target and the certificate verdict.
    pub tls: OnceCell<Result<Arc<tls::TlsFacts>, String>>,
}
