//! The lab's switchable misconfigurations, named by the catalog id of the check that finds
//! each one (see CATALOG.md: the ids are a contract).

use anyhow::{Result, bail};

/// Every flaw the lab can switch on, by catalog id.
pub const KNOWN_FLAWS: &[&str] = &[
    "auth.missing",
    "auth.method_bypass",
    "auth.malformed_token_accepted",
    "auth.scheme_confusion",
    "auth.token_optional_with_cert",
    "auth.verbose_errors",
    "auth.user_enumeration",
    "jwt.alg_none",
    "jwt.signature_not_verified",
    "jwt.empty_signature",
    "jwt.weak_hmac_secret",
    "jwt.key_confusion",
    "jwt.embedded_jwk",
    "jwt.jku_injection",
    "jwt.kid_injection",
    "jwt.psychic_signature",
    "jwt.expired_accepted",
    "jwt.nbf_not_enforced",
    "jwt.audience_not_checked",
    "jwt.issuer_not_checked",
    "jwt.missing_exp",
    "jwt.long_lifetime",
    "jwt.missing_audience_or_issuer",
    "jwt.sensitive_claims",
    "jwt.token_in_url",
    "jwt.x5c_injection",
    "mtls.not_required",
    "mtls.untrusted_cert_accepted",
    "mtls.expired_cert_accepted",
    "mtls.revoked_cert_accepted",
    "mtls.eku_not_checked",
    "mtls.identity_not_mapped",
    "mtls.header_spoofing",
    "mtls.token_not_bound",
    "tls.plaintext_http",
    "tls.hsts_missing",
    "tls.forwarded_proto_trusted",
    "tls.insecure_cookie",
    "basic.cleartext",
    "basic.default_credentials",
    "basic.no_lockout",
    "basic.realm_leak",
    "spec.apikey_in_query",
    "spec.cleartext_server",
    "spec.security_undeclared",
];

/// Flaws the `vulnerable` profile leaves off: each makes one credential alone get the
/// authorized answer (a certificate without a token, a token without a certificate), so
/// the scanner's reference answers coincide and the evidence of every other flaw is lost
/// in them. They are switched on only by `--flaw`.
pub const MASKING_FLAWS: &[&str] = &["auth.token_optional_with_cert", "mtls.not_required"];

/// `hardened` switches every flaw off; `vulnerable` switches every one on except the
/// [`MASKING_FLAWS`], the `spec.*` flaws of the served API description included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Profile {
    #[default]
    Hardened,
    Vulnerable,
}

impl std::str::FromStr for Profile {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "hardened" => Ok(Self::Hardened),
            "vulnerable" => Ok(Self::Vulnerable),
            other => bail!("unknown profile {other:?}: expected hardened or vulnerable"),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flaws {
    /// Every flaw switched on, by catalog id.
    pub on: std::collections::BTreeSet<&'static str>,
    pub auth_missing: bool,
    pub method_bypass: bool,
    pub malformed_token_accepted: bool,
    pub scheme_confusion: bool,
    pub verbose_errors: bool,
    pub user_enumeration: bool,
    pub plaintext_http: bool,
    pub hsts_missing: bool,
    pub basic_cleartext: bool,
    pub default_credentials: bool,
    pub no_lockout: bool,
    pub realm_leak: bool,
}

impl Flaws {
    /// The flaws of `profile` plus each id in `extra`; an unknown id is an error that lists
    /// the known ones, so a typo never silently yields a hardened lab.
    pub fn resolve(profile: Profile, extra: &[String]) -> Result<Self> {
        let mut ids: Vec<&str> = match profile {
            Profile::Hardened => Vec::new(),
            Profile::Vulnerable => KNOWN_FLAWS
                .iter()
                .copied()
                .filter(|id| !MASKING_FLAWS.contains(id))
                .collect(),
        };
        for id in extra {
            if !KNOWN_FLAWS.contains(&id.as_str()) {
                bail!(
                    "the lab has no flaw {id:?}; known flaws: {}",
                    KNOWN_FLAWS.join(", ")
                );
            }
            ids.push(id);
        }
        let mut f = Flaws::default();
        for id in ids {
            let known = KNOWN_FLAWS.iter().find(|k| **k == id).copied();
            f.on.extend(known);
            match id {
                "auth.missing" => f.auth_missing = true,
                "auth.method_bypass" => f.method_bypass = true,
                "auth.malformed_token_accepted" => f.malformed_token_accepted = true,
                "auth.scheme_confusion" => f.scheme_confusion = true,
                "auth.verbose_errors" => f.verbose_errors = true,
                "auth.user_enumeration" => f.user_enumeration = true,
                "tls.plaintext_http" => f.plaintext_http = true,
                "tls.hsts_missing" => f.hsts_missing = true,
                "basic.cleartext" => f.basic_cleartext = true,
                "basic.default_credentials" => f.default_credentials = true,
                "basic.no_lockout" => f.no_lockout = true,
                "basic.realm_leak" => f.realm_leak = true,
                _ => {} // flaws read through `has`
            }
        }
        Ok(f)
    }

    /// Whether the flaw behind catalog id `id` is on.
    pub fn has(&self, id: &str) -> bool {
        self.on.contains(id)
    }

    /// The ids switched on, in catalog order.
    pub fn ids(&self) -> Vec<String> {
        KNOWN_FLAWS
            .iter()
            .filter(|id| self.on.contains(*id))
            .map(|id| id.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_and_ids_round_trip() {
        let all = Flaws::resolve(Profile::Vulnerable, &[]).unwrap();
        let unmasked: Vec<&str> = KNOWN_FLAWS
            .iter()
            .copied()
            .filter(|id| !MASKING_FLAWS.contains(id))
            .collect();
        assert_eq!(all.ids(), unmasked);
        assert!(MASKING_FLAWS.iter().all(|id| KNOWN_FLAWS.contains(id)));
        let masked = Flaws::resolve(Profile::Vulnerable, &["mtls.not_required".into()]).unwrap();
        assert!(masked.has("mtls.not_required"));
        assert!(!masked.has("auth.token_optional_with_cert"));
        let none = Flaws::resolve(Profile::Hardened, &[]).unwrap();
        assert!(none.ids().is_empty());
        let one = Flaws::resolve(Profile::Hardened, &["tls.hsts_missing".into()]).unwrap();
        assert_eq!(one.ids(), vec!["tls.hsts_missing"]);
    }

    #[test]
    fn unknown_flaw_is_an_error() {
        let err = Flaws::resolve(Profile::Hardened, &["jwt.nope".into()]).unwrap_err();
        assert!(err.to_string().contains("known flaws"));
    }
}
