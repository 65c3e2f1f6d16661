//! Checks: each is its metadata (id, severity, CWE, OWASP, remediation) plus a probe,
//! in one file under `checks/<family>/`. The engine runs them without knowing any by name;
//! the catalog (`authprobe checks`) and the reports are generated from the metadata.

pub mod auth;
pub mod basic;
pub mod catalog_md;
pub mod jwt;
pub mod mtls;
pub mod tls;

pub use catalog_md::markdown_table;

use crate::engine::Ctx;
use crate::finding::{Confidence, Evidence, Family, Finding, RemediationText, Severity};
use std::borrow::Cow;
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
    /// Any one of these ("a token or a Basic pair"): a check that works with whichever
    /// application credential it is given declares it here, so the engine skips it with a
    /// reason instead of the check finding out in its body.
    AnyOf(&'static [Need]),
}

impl Need {
    /// Borrowed for the single needs (most callers), owned only when alternatives are
    /// joined.
    pub fn describe(self) -> Cow<'static, str> {
        match self {
            Self::Token => "needs a bearer token (--bearer)".into(),
            Self::Basic => "needs Basic credentials (--basic)".into(),
            Self::Cert => "needs a client certificate (--client-cert and --client-key)".into(),
            Self::CaKey => "needs a test CA (--client-ca-cert and --client-ca-key)".into(),
            Self::Https => "needs an https:// target".into(),
            Self::AnyOf(alts) => alts
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let d = n.describe();
                    match d.strip_prefix("needs ") {
                        Some(rest) if i > 0 => rest.to_string(),
                        _ => d.into_owned(),
                    }
                })
                .collect::<Vec<_>>()
                .join(" or ")
                .into(),
        }
    }

    /// The catalog's short name ("token", "cert", "token or basic").
    pub fn short(self) -> String {
        match self {
            Self::Token => "token".into(),
            Self::Basic => "basic".into(),
            Self::Cert => "cert".into(),
            Self::CaKey => "ca-key".into(),
            Self::Https => "https".into(),
            Self::AnyOf(alts) => alts
                .iter()
                .map(|n| n.short())
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

/// The most requests one run of a check may send (on one operation, with a spec),
/// counting the shared facts it may be the first to ask for (a JWKS lookup, the alg-none
/// probes a minted token builds on): which check asks first is a race, so each carries
/// the cost. Data for the engine's per-check budget; not enforced here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// Sends no request of its own: reads the token, the baselines or what others probed.
    Passive,
    /// At most this many requests.
    Fixed(u32),
    /// `fixed` plus one per `--lockout-attempts` (a burst the user sizes).
    PerLockoutAttempt { fixed: u32 },
    /// `fixed` plus one per pair of `--basic-wordlist` (a list the user sizes).
    PerWordlistPair { fixed: u32 },
    /// No HTTP request: TLS handshakes of the shared prober, bounded by its own design
    /// (about one per accepted suite and version) and its deadline.
    TlsHandshakes,
}

impl Budget {
    /// The request budget for the given user-sized inputs; `None` for budgets that are not
    /// counted in requests (passive checks, TLS handshakes).
    pub fn requests(self, lockout_attempts: u32, wordlist_pairs: u32) -> Option<u32> {
        match self {
            Self::Passive | Self::TlsHandshakes => None,
            Self::Fixed(n) => Some(n),
            Self::PerLockoutAttempt { fixed } => Some(fixed.saturating_add(lockout_attempts)),
            Self::PerWordlistPair { fixed } => Some(fixed.saturating_add(wordlist_pairs)),
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
    /// Standards sections, CVEs and vendor documents behind the check, for readers who
    /// want the primary source: "RFC 8725 §3.1", "CVE-2022-21449", a URL.
    pub references: &'static [&'static str],
    pub budget: Budget,
    /// The lab's `--flaw` switch that this check finds (its own id), or `None` when the
    /// lab cannot exhibit it (TLS protocol and certificate properties of rustls).
    pub lab_flaw: Option<&'static str>,
    /// What a finding proves, one sentence for the README's table.
    pub finds: &'static str,
    /// What the check needs beyond [`Self::needs`], as the README's table says it ("+ key,
    /// or `--expired-token`"); empty when nothing.
    pub needs_note: &'static str,
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
        Box::new(jwt::x5c_injection::X5cInjection),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_that_sends_has_a_budget_above_zero() {
        for c in registry() {
            let m = c.meta();
            match m.budget {
                // Declared, not forgotten: these send no HTTP request at all.
                Budget::Passive | Budget::TlsHandshakes => {}
                b => assert!(
                    b.requests(0, 0).is_some_and(|n| n > 0),
                    "{}: budget {b:?}",
                    m.id
                ),
            }
        }
    }

    #[test]
    fn lockout_budget_grows_with_the_burst() {
        let b = Budget::PerLockoutAttempt { fixed: 6 };
        assert_eq!(b.requests(20, 0), Some(26));
        assert_eq!(b.requests(100, 0), Some(106));
    }

    #[test]
    fn every_check_cites_a_reference_and_says_what_it_finds() {
        for c in registry() {
            let m = c.meta();
            assert!(!m.references.is_empty(), "{} has no reference", m.id);
            assert!(
                m.references.iter().all(|r| r.starts_with("RFC ")
                    || r.starts_with("CVE-")
                    || r.starts_with("NIST ")
                    || r.starts_with("https://")),
                "{}: references should be RFC sections, CVEs or URLs",
                m.id
            );
            assert!(!m.finds.is_empty(), "{} has no finds text", m.id);
        }
    }

    #[test]
    fn any_of_describes_its_alternatives() {
        let n = Need::AnyOf(&[Need::Token, Need::Basic]);
        assert_eq!(
            n.describe(),
            "needs a bearer token (--bearer) or Basic credentials (--basic)"
        );
        assert_eq!(n.short(), "token or basic");
    }
}
