//! The JWS algorithms this crate can sign and verify.

/// A JWS `alg` this crate implements. `none` is deliberately absent: it is not an algorithm
/// anything should sign with, and the forger writes it as a plain header string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// HMAC SHA-256.
    Hs256,
    /// HMAC SHA-384.
    Hs384,
    /// HMAC SHA-512.
    Hs512,
    /// RSASSA-PKCS1-v1_5 SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 SHA-512.
    Rs512,
    /// RSASSA-PSS SHA-256, salt of hash length.
    Ps256,
    /// RSASSA-PSS SHA-384.
    Ps384,
    /// RSASSA-PSS SHA-512.
    Ps512,
    /// ECDSA P-256 SHA-256, raw r||s signature.
    Es256,
    /// ECDSA P-384 SHA-384.
    Es384,
    /// ECDSA P-521 SHA-512.
    Es512,
    /// Ed25519.
    EdDsa,
}

/// Broad family of an algorithm, for reports and for choosing attacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlgFamily {
    /// HS*: shared secret.
    Hmac,
    /// RS*/PS*.
    Rsa,
    /// ES*.
    Ecdsa,
    /// EdDSA.
    EdDsa,
    /// `none` in any letter case.
    None,
    /// Missing, not a string, or unknown.
    Unknown,
}

impl Alg {
    /// Every algorithm, in a stable order.
    pub const ALL: [Alg; 13] = [
        Alg::Hs256,
        Alg::Hs384,
        Alg::Hs512,
        Alg::Rs256,
        Alg::Rs384,
        Alg::Rs512,
        Alg::Ps256,
        Alg::Ps384,
        Alg::Ps512,
        Alg::Es256,
        Alg::Es384,
        Alg::Es512,
        Alg::EdDsa,
    ];

    /// The registered JWS name, e.g. `"RS256"`.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::Hs384 => "HS384",
            Alg::Hs512 => "HS512",
            Alg::Rs256 => "RS256",
            Alg::Rs384 => "RS384",
            Alg::Rs512 => "RS512",
            Alg::Ps256 => "PS256",
            Alg::Ps384 => "PS384",
            Alg::Ps512 => "PS512",
            Alg::Es256 => "ES256",
            Alg::Es384 => "ES384",
            Alg::Es512 => "ES512",
            Alg::EdDsa => "EdDSA",
        }
    }

    /// Parses a registered name; exact case, as RFC 7515 names are case-sensitive.
    pub fn from_name(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The algorithm's family.
    pub fn family(self) -> AlgFamily {
        match self {
            Alg::Hs256 | Alg::Hs384 | Alg::Hs512 => AlgFamily::Hmac,
            Alg::Rs256 | Alg::Rs384 | Alg::Rs512 | Alg::Ps256 | Alg::Ps384 | Alg::Ps512 => {
                AlgFamily::Rsa
            }
            Alg::Es256 | Alg::Es384 | Alg::Es512 => AlgFamily::Ecdsa,
            Alg::EdDsa => AlgFamily::EdDsa,
        }
    }
}

impl AlgFamily {
    /// Family of a header `alg` string.
    pub fn of(alg: Option<&str>) -> AlgFamily {
        match alg {
            Some(a) if a.eq_ignore_ascii_case("none") => AlgFamily::None,
            Some(a) => Alg::from_name(a).map_or(AlgFamily::Unknown, Alg::family),
            None => AlgFamily::Unknown,
        }
    }

    /// Short human name.
    pub fn label(self) -> &'static str {
        match self {
            AlgFamily::Hmac => "HMAC (shared secret)",
            AlgFamily::Rsa => "RSA",
            AlgFamily::Ecdsa => "ECDSA",
            AlgFamily::EdDsa => "EdDSA",
            AlgFamily::None => "none (unsigned)",
            AlgFamily::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
