//! The lab's behaviour modes: how real frameworks answer, orthogonal to the flaws. A mode
//! is not a vulnerability; it changes which credential the app reads, the order of its
//! checks or the shape of its refusals, as the scanner meets them in the field, so a scan
//! of the lab in any mode should find the flaws that are on and nothing else.

use anyhow::{Result, bail};

/// Every mode the lab knows, by name.
pub const KNOWN_MODES: &[&str] = &[
    "cert-only",
    "unknown-user-401",
    "errors-200",
    "status-403-missing",
    "status-422-malformed",
    "token-first",
];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Modes {
    /// The client certificate's CN is the identity; no token is read.
    pub cert_only: bool,
    /// A token whose `sub` names no user is a 401 `user_not_found` (simplejwt).
    pub unknown_user_401: bool,
    /// Refusals of the protected routes are HTTP 200 with GraphQL `errors`.
    pub errors_200: bool,
    /// Missing credentials are a 403 (DRF without a WWW-Authenticate authenticator).
    pub status_403_missing: bool,
    /// A bearer value that is not a JWT is a 422 (flask-jwt-extended).
    pub status_422_malformed: bool,
    /// The token is checked before the certificate's mapping.
    pub token_first: bool,
}

impl Modes {
    /// The modes named in `names`; an unknown name is an error that lists the known ones,
    /// so a typo never silently yields the default behaviour.
    pub fn resolve(names: &[String]) -> Result<Self> {
        let mut m = Modes::default();
        for name in names {
            match name.as_str() {
                "cert-only" => m.cert_only = true,
                "unknown-user-401" => m.unknown_user_401 = true,
                "errors-200" => m.errors_200 = true,
                "status-403-missing" => m.status_403_missing = true,
                "status-422-malformed" => m.status_422_malformed = true,
                "token-first" => m.token_first = true,
                other => bail!(
                    "the lab has no mode {other:?}; known modes: {}",
                    KNOWN_MODES.join(", ")
                ),
            }
        }
        if m.cert_only && m.token_first {
            // One app cannot both ignore the token and check it first: refusing the pair
            // beats silently letting one win.
            bail!("modes cert-only and token-first exclude each other: cert-only reads no token");
        }
        Ok(m)
    }

    /// The modes switched on, in [`KNOWN_MODES`] order.
    pub fn names(&self) -> Vec<String> {
        let on = [
            self.cert_only,
            self.unknown_user_401,
            self.errors_200,
            self.status_403_missing,
            self.status_422_malformed,
            self.token_first,
        ];
        KNOWN_MODES
            .iter()
            .zip(on)
            .filter(|(_, on)| *on)
            .map(|(name, _)| name.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_catalog_order() {
        let all: Vec<String> = KNOWN_MODES
            .iter()
            .filter(|m| **m != "token-first")
            .rev()
            .map(|m| m.to_string())
            .collect();
        let mut expected = all.clone();
        expected.reverse();
        assert_eq!(Modes::resolve(&all).unwrap().names(), expected);
        assert!(Modes::resolve(&[]).unwrap().names().is_empty());
        let tf = Modes::resolve(&["token-first".into()]).unwrap();
        assert_eq!(tf.names(), vec!["token-first"]);
    }

    #[test]
    fn unknown_mode_is_an_error_naming_the_known_ones() {
        let err = Modes::resolve(&["graphql".into()]).unwrap_err().to_string();
        assert!(err.contains("no mode \"graphql\""), "{err}");
        assert!(err.contains("errors-200"), "{err}");
    }

    #[test]
    fn cert_only_and_token_first_exclude_each_other() {
        let both = ["cert-only".to_string(), "token-first".to_string()];
        assert!(Modes::resolve(&both).is_err());
    }
}
