//! Checks: each is its metadata (id, severity, CWE, OWASP, remediation) plus a probe,
//! in one file under `checks/<family>/`. The engine runs them without knowing any by name;
//! the catalog (`authprobe checks`) and the reports are generated from the metadata.

pub mod auth;
pub mod basic;
pub mod jwt;
pub mod mtls;
pub mod tls;

use crate::engine::Ctx;
use crate::finding::{Confidence, Evidence, Family, Finding, RemediationText, Severity};
use std::future::Future;
use std::pin::Pin;

/// What a check needs from the user before it can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// A bearer token (`--bearer`).
    Token,
    /// A Basic pair (`--basic`).
    Basic,
    /// A client certificate and key (`--client-cert/--client-key`).
    Cert,
    /// A CA able to mint client certificates (`--client-ca-cert/--client-ca-key`).
    CaKey,
    /// An `https://` target.
    Https,
}

impl Need {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Token => "needs a bearer token (--bearer)",
            Self::Basic => "needs Basic credentials (--basic)",
            Self::Cert => "needs a client certificate (--client-cert and --client-key)",
            Self::CaKey => "needs a test CA (--client-ca-cert and --client-ca-key)",
            Self::Https => "needs an https:// target",
        }
    }
}

pub struct Remediation {
    pub summary: &'static str,
    pub frameworks: &'static [(&'static str, &'static str)],
}

pub struct CheckMeta {
    pub id: &'static str,
    pub title: &'static str,
    pub family: Family,
    pub severity: Severity,
    pub cwe: &'static [u32],
    /// OWASP API Security Top 10 (2023) ids, e.g. "API2".
    pub owasp: &'static [&'static str],
    pub description: &'static str,
    pub needs: &'static [Need],
    /// Root causes whose finding implies this check's result by construction (nothing
    /// verifies signatures, so `alg: none` proves nothing more). When one of them is
    /// found, the engine does not run this check and reports it inconclusive, "explained
    /// by" the root. Only by construction: where this check's probe can still tell
    /// something new (an expired certificate where a self-signed one passed), it is not
    /// listed and runs.
    pub explained_by: &'static [&'static str],
    pub remediation: Remediation,
}

pub fn owasp_name(id: &str) -> &'static str {
    match id {
        "API1" => "API1:2023 Broken Object Level Authorization",
        "API2" => "API2:2023 Broken Authentication",
        "API3" => "API3:2023 Broken Object Property Level Authorization",
        "API4" => "API4:2023 Unrestricted Resource Consumption",
        "API5" => "API5:2023 Broken Function Level Authorization",
        "API6" => "API6:2023 Unrestricted Access to Sensitive Business Flows",
        "API7" => "API7:2023 Server Side Request Forgery",
        "API8" => "API8:2023 Security Misconfiguration",
        "API9" => "API9:2023 Improper Inventory Management",
        "API10" => "API10:2023 Unsafe Consumption of APIs",
        _ => "unknown OWASP API Top 10 id",
    }
}

impl CheckMeta {
    pub fn cwe_ids(&self) -> Vec<String> {
        self.cwe.iter().map(|c| format!("CWE-{c}")).collect()
    }

    pub fn owasp_ids(&self) -> Vec<String> {
        self.owasp
            .iter()
            .map(|o| owasp_name(o).to_string())
            .collect()
    }

    pub fn remediation_text(&self) -> RemediationText {
        RemediationText {
            summary: self.remediation.summary.to_string(),
            frameworks: self
                .remediation
                .frameworks
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A finding of this check with its catalog metadata filled in.
    pub fn finding(
        &self,
        confidence: Confidence,
        description: String,
        evidence: Evidence,
    ) -> Finding {
        Finding {
            id: self.id.to_string(),
            title: self.title.to_string(),
            severity: self.severity,
            confidence,
            cwe: self.cwe_ids(),
            owasp: self.owasp_ids(),
            description,
            evidence,
            remediation: self.remediation_text(),
        }
    }
}

/// How a check ended.
pub enum Outcome {
    /// Probed, and the flaw is absent.
    Pass,
    Found(Box<Finding>),
    /// Probed, but the answers do not decide; never a finding.
    Inconclusive(String),
    /// Does not apply to this target (reported with the skipped checks).
    NotApplicable(String),
}

impl Outcome {
    pub fn found(f: Finding) -> Self {
        Self::Found(Box::new(f))
    }
}

pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// When the engine runs a check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Phase {
    /// With every other check, concurrently.
    #[default]
    Concurrent,
    /// After all concurrent checks, one at a time in registry order: for checks that
    /// change the server's state for the user's account (failed logins that trip a
    /// throttle or lockout), which would otherwise make other checks' answers flip.
    Last,
}

pub trait Check: Send + Sync {
    fn meta(&self) -> &'static CheckMeta;
    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a>;
    fn phase(&self) -> Phase {
        Phase::Concurrent
    }
}

/// Facts computed once per scan and shared between checks.
#[derive(Default)]
pub struct Shared {
    pub jwt: jwt::JwtShared,
    pub mtls: mtls::MtlsShared,
    /// See [`auth::malformed_token_accepted::garbage_accepted`].
    pub garbage_accepted: tokio::sync::OnceCell<bool>,
    /// The TLS prober's scan of the target and the certificate verdict (`tls.*` checks).
    pub tls: tokio::sync::OnceCell<Result<std::sync::Arc<tls::transport::TlsFacts>, String>>,
}

/// Every check, in catalog order.
pub fn registry() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(auth::missing::AuthMissing),
        Box::new(auth::method_bypass::MethodBypass),
        Box::new(auth::malformed_token_accepted::MalformedTokenAccepted),
        Box::new(auth::scheme_confusion::SchemeConfusion),
        Box::new(auth::token_optional_with_cert::TokenOptionalWithCert),
        Box::new(auth::verbose_errors::VerboseErrors),
        Box::new(auth::user_enumeration::UserEnumeration),
        Box::new(jwt::alg_none::AlgNone),
        Box::new(jwt::signature_not_verified::SignatureNotVerified),
        Box::new(jwt::empty_signature::EmptySignature),
        Box::new(jwt::weak_hmac_secret::WeakHmacSecret),
        Box::new(jwt::key_confusion::KeyConfusion),
        Box::new(jwt::embedded_jwk::EmbeddedJwk),
        Box::new(jwt::jku_injection::JkuInjection),
        Box::new(jwt::kid_injection::KidInjection),
        Box::new(jwt::psychic_signature::PsychicSignature),
        Box::new(jwt::expired_accepted::ExpiredAccepted),
        Box::new(jwt::nbf_not_enforced::NbfNotEnforced),
        Box::new(jwt::audience_not_checked::AudienceNotChecked),
        Box::new(jwt::issuer_not_checked::IssuerNotChecked),
        Box::new(jwt::missing_exp::MissingExp),
        Box::new(jwt::long_lifetime::LongLifetime),
        Box::new(jwt::missing_audience_or_issuer::MissingAudienceOrIssuer),
        Box::new(jwt::sensitive_claims::SensitiveClaims),
        Box::new(jwt::token_in_url::TokenInUrl),
        Box::new(mtls::not_required::NotRequired),
        Box::new(mtls::untrusted_cert_accepted::UntrustedCertAccepted),
        Box::new(mtls::expired_cert_accepted::ExpiredCertAccepted),
        Box::new(mtls::revoked_cert_accepted::RevokedCertAccepted),
        Box::new(mtls::eku_not_checked::EkuNotChecked),
        Box::new(mtls::identity_not_mapped::IdentityNotMapped),
        Box::new(mtls::header_spoofing::HeaderSpoofing),
        Box::new(mtls::token_not_bound::TokenNotBound),
        Box::new(tls::legacy_protocol::LegacyProtocol),
        Box::new(tls::weak_cipher::WeakCipher),
        Box::new(tls::no_forward_secrecy::NoForwardSecrecy),
        Box::new(tls::no_tls13::NoTls13),
        Box::new(tls::cert_invalid::CertInvalid),
        Box::new(tls::cert_weak_key::CertWeakKey),
        Box::new(tls::plaintext_http::PlaintextHttp),
        Box::new(tls::hsts_missing::HstsMissing),
        Box::new(tls::forwarded_proto_trusted::ForwardedProtoTrusted),
        Box::new(tls::insecure_cookie::InsecureCookie),
        Box::new(basic::cleartext::Cleartext),
        Box::new(basic::default_credentials::DefaultCredentials),
        Box::new(basic::no_lockout::NoLockout),
        Box::new(basic::realm_leak::RealmLeak),
    ]
}
