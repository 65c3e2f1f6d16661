//! What a scan is asked to do: the target, the credentials the user gave, the limits, and
//! the options of the JWT and Basic checks. Plain data; how credentials are presented on
//! the wire is [`crate::creds`].

use crate::http::{ClientIdentity, Limits, Proxy, TlsSettings};
use std::path::PathBuf;
use std::sync::Arc;
use url::Url;

/// What the user gave us to authenticate with.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub bearer: Option<String>,
    pub basic: Option<(String, String)>,
    /// `--header` pairs, sent on every request.
    pub headers: Vec<(String, String)>,
    pub client: Option<Arc<ClientIdentity>>,
    /// `--client-cert2/--client-key2`: a second certificate of the same user (another
    /// device), over which the user's token must be refused (`mtls.token_not_bound`).
    pub client2: Option<Arc<ClientIdentity>>,
    /// `--revoked-cert/--revoked-key`: a certificate the CA has revoked.
    pub revoked: Option<Arc<ClientIdentity>>,
    pub client_ca: Option<(PathBuf, PathBuf)>,
    /// Other secrets given for the JWT checks (expired or alternate tokens, the HMAC
    /// secret), redacted like the rest.
    pub extra_secrets: Vec<String>,
    /// `--api-key NAME=VALUE`: where each goes (header, query or cookie) comes from the
    /// API description's apiKey scheme of that name; a header without one.
    pub api_keys: Vec<ApiKey>,
}

/// An API key and where it is presented.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub name: String,
    pub value: String,
    pub location: KeyLocation,
}

/// Where an API key goes on the request: OpenAPI's `in` of an apiKey scheme, the one type
/// the description and the credentials share.
pub use crate::spec::KeyLocation;

/// What the JWT checks may use beyond the bearer token.
#[derive(Clone, Debug, Default)]
pub struct JwtOptions {
    /// `--jwt-secret`: the HMAC secret.
    pub secret: Option<String>,
    /// `--jwt-key`: a private signing key (PEM).
    pub key: Option<PathBuf>,
    /// `--jwt-public-key`: the server's public key (PEM), for key confusion.
    pub public_key: Option<PathBuf>,
    /// `--expired-token`: a genuinely issued token whose `exp` has passed.
    pub expired_token: Option<String>,
    /// `--alt-token`: a genuinely issued token for another audience.
    pub alt_token: Option<String>,
    /// `--callback-url`: a URL the target can reach that serves what the scanner's jku
    /// listener serves (for targets off this machine).
    pub callback_url: Option<Url>,
    /// `--wordlist`: extra candidate secrets for the HMAC cracker.
    pub wordlists: Vec<PathBuf>,
    /// `--crack-time`.
    pub crack_time: std::time::Duration,
    /// `--max-token-lifetime`, seconds.
    pub max_lifetime: u64,
}

impl JwtOptions {
    pub fn defaults() -> Self {
        Self {
            crack_time: std::time::Duration::from_secs(10),
            max_lifetime: 24 * 3600,
            ..Self::default()
        }
    }
}

/// How far the HTTP Basic checks may go.
#[derive(Clone, Debug)]
pub struct BasicOptions {
    /// Where the `--basic` pair is used (a login or token endpoint, GET), when not the
    /// target itself.
    pub url: Option<Url>,
    /// Failed logins `basic.no_lockout` sends for the user's own account.
    pub lockout_attempts: usize,
    /// Extra USER:PASSWORD pairs for `basic.default_credentials`.
    pub wordlist: Vec<(String, String)>,
    /// Whether the user's real Basic pair may be sent to the plain-HTTP URL to confirm
    /// `basic.cleartext` (off by default: that request is itself a leak).
    pub allow_cleartext: bool,
}

impl Default for BasicOptions {
    fn default() -> Self {
        Self {
            url: None,
            lockout_attempts: 20,
            wordlist: Vec::new(),
            allow_cleartext: false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub target: Url,
    pub http_url: Option<Url>,
    pub origin: Option<Url>,
    pub creds: Credentials,
    pub limits: Limits,
    pub tls: TlsSettings,
    pub show_secrets: bool,
    pub allow_unsafe_methods: bool,
    /// `--checks`: run only these (ids, or family names such as `jwt`); empty = all.
    pub only: Vec<String>,
    pub jwt: JwtOptions,
    pub basic: BasicOptions,
    /// `--proxy`: every HTTP request goes through it; the probes that open their own
    /// connections (TLS enumeration, client-auth discovery) are skipped, not sent around it.
    pub proxy: Option<Proxy>,
    /// `--allow-plain-http-credentials`: send the bearer token or Basic pair to an
    /// `http://` target that is not this machine.
    pub allow_plain_http_credentials: bool,
    /// `--keep-artifacts`: where minted certificates, keys and served key sets are kept
    /// after the scan; without it they live in a temporary directory the scan removes.
    pub keep_artifacts: Option<PathBuf>,
    /// `--spec`: the API description, read once and shared (the static `spec.*` checks
    /// read it; the engine scans its operations).
    pub spec: Option<Arc<crate::spec::ApiSpec>>,
    /// The method of the target's own request: GET for a URL; an operation's method in a
    /// whole-API scan (unsafe ones only with `--allow-unsafe-methods`).
    pub method: String,
    /// The target request's body, for an unsafe operation that requires one.
    pub body: Option<crate::http::Body>,
    /// The API description declares the target operation protected (a whole-API scan): an
    /// answer to no credentials at all is then judged against the declaration, not only
    /// against the refusals (which may all be successes too). Which security it declares
    /// is added to the operation's findings by the whole-API scan.
    pub declared_protected: bool,
    /// Where the scan may connect (`serve`'s and `mcp`'s scope); `None`: anywhere, as the
    /// command line scans what its user names.
    pub guard: Option<Arc<dyn crate::http::AddressGuard>>,
}

/// The one way to build [`ScanOptions`], shared by the command line and the lab: start from
/// a target with nothing else known, then say what is.
impl ScanOptions {
    /// Scan `target` with no credential, default limits, the system's trust store, every
    /// check, GET/HEAD/OPTIONS only and secrets redacted.
    pub fn new(target: Url) -> Self {
        ScanOptions {
            target,
            http_url: None,
            origin: None,
            creds: Credentials::default(),
            limits: Limits::default(),
            tls: TlsSettings::default(),
            show_secrets: false,
            allow_unsafe_methods: false,
            only: Vec::new(),
            jwt: JwtOptions::defaults(),
            basic: BasicOptions::default(),
            proxy: None,
            allow_plain_http_credentials: false,
            keep_artifacts: None,
            spec: None,
            method: "GET".to_string(),
            body: None,
            declared_protected: false,
            guard: None,
        }
    }

    /// The target's own request: its method and, for an unsafe one, its body.
    pub fn with_request(mut self, method: &str, body: Option<crate::http::Body>) -> Self {
        self.method = method.to_ascii_uppercase();
        self.body = body;
        self
    }

    /// The plain-HTTP URL of the same resource (`--http-url`).
    pub fn with_http_url(mut self, url: Option<Url>) -> Self {
        self.http_url = url;
        self
    }

    /// The same resource at the application's own address behind its TLS proxy.
    pub fn with_origin(mut self, url: Option<Url>) -> Self {
        self.origin = url;
        self
    }

    pub fn with_credentials(mut self, creds: Credentials) -> Self {
        self.creds = creds;
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn with_tls(mut self, tls: TlsSettings) -> Self {
        self.tls = tls;
        self
    }

    pub fn with_jwt(mut self, jwt: JwtOptions) -> Self {
        self.jwt = jwt;
        self
    }

    pub fn with_basic(mut self, basic: BasicOptions) -> Self {
        self.basic = basic;
        self
    }

    /// Run only these checks (ids or families); empty runs every one.
    pub fn with_only(mut self, checks: Vec<String>) -> Self {
        self.only = checks;
        self
    }

    pub fn with_keep_artifacts(mut self, dir: Option<PathBuf>) -> Self {
        self.keep_artifacts = dir;
        self
    }

    pub fn with_show_secrets(mut self, show: bool) -> Self {
        self.show_secrets = show;
        self
    }

    pub fn with_unsafe_methods(mut self, allow: bool) -> Self {
        self.allow_unsafe_methods = allow;
        self
    }

    pub fn with_proxy(mut self, proxy: Option<Proxy>) -> Self {
        self.proxy = proxy;
        self
    }

    /// The API description to scan by (`--spec`).
    pub fn with_spec(mut self, spec: Option<Arc<crate::spec::ApiSpec>>) -> Self {
        self.spec = spec;
        self
    }

    pub fn with_plain_http_credentials(mut self, allow: bool) -> Self {
        self.allow_plain_http_credentials = allow;
        self
    }
}
