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

/// Why the probes that open their own TCP connections (the TLS prober, client-auth
/// discovery) did not run under `--proxy`: sent around the proxy they would reach the
/// target from another address than the scan's requests, unseen by the user watching the
/// proxy; tunnelling them through CONNECT would judge the proxy's TLS when it intercepts.
pub const NOT_THROUGH_PROXY: &str = "not run with --proxy: this probe opens its own TLS connections, which would bypass the proxy (run `authprobe tls` without a proxy for it)";

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
    pub tls: FactCell<Result<Arc<tls::TlsFacts>, String>>,
}

/// A fact's cell: computed at most once per scan, by whichever check asks first, outside
/// that check's request budget.
pub struct FactCell<T>(OnceCell<T>);

impl<T> Default for FactCell<T> {
    fn default() -> Self {
        Self(OnceCell::new())
    }
}

impl<T> FactCell<T> {
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        // Boxed: facts ask for other facts, and the nested futures would otherwise sit on
        // the stack of whichever check asked first.
        self.0
            .get_or_init(|| Box::pin(crate::scan::outside_budget(init())))
            .await
    }

    pub fn get(&self) -> Option<&T> {
        self.0.get()
    }
}
