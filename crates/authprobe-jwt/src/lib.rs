//! JWT handling for authprobe: parse tokens without losing a byte, forge the tokens each
//! `jwt.*` check sends, sign and verify them, and say what a token reveals on its own.
//!
//! The crate never touches the network; the scanner sends what it builds here.
//!
//! * [`Jwt::parse`] splits a compact JWS and keeps the three base64url segments exactly as
//!   received, next to the decoded header and claims (both the `serde_json` maps and the raw
//!   JSON text). Hostile input gets a [`ParseError`], never a panic; input is capped at
//!   [`MAX_TOKEN_LEN`].
//! * [`json_edit`] changes one top-level member of a JSON object while every other byte
//!   (order, whitespace, escapes such as `\/`) stays put; [`Draft`] applies such edits to a
//!   token's header and payload and re-encodes only the segment that changed.
//! * [`sign`] and [`keys`] sign and verify HS256/384/512, RS256/384/512, PS256/384/512,
//!   ES256/384/512 (JOSE `r || s` form) and EdDSA, with keys from PEM (PKCS#1, PKCS#8, SEC1,
//!   SPKI, certificates), DER, JWK and JWKS, and generate attacker keys.
//! * [`attacks`] builds the forged tokens: `alg: none`, unverified and empty signatures,
//!   RSA/EC key confusion, embedded `jwk`, `jku`/`x5u` injection, `kid` injection, the psychic
//!   ECDSA signature, and re-minted tokens (expired, not yet valid, other audience or issuer)
//!   issued by any [`attacks::Signer`] the server was shown to accept. None of them changes
//!   the user's identity claims ([`attacks::IDENTITY_CLAIMS`]).
//! * [`analyze()`] reports the passive findings (`jwt.missing_exp`, `jwt.long_lifetime`,
//!   `jwt.missing_audience_or_issuer`, `jwt.sensitive_claims`) and [`header_notes`] the
//!   header facts worth showing.
//! * [`redact_token`] turns a token into something a report can print: claims visible,
//!   signature replaced by `<redacted>`.
//!
//! ```
//! use authprobe_jwt::{Jwt, attacks, json_edit::Edit};
//!
//! let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln";
//! let jwt = Jwt::parse(token).unwrap();
//! assert_eq!(jwt.claim("sub").unwrap(), "alice");
//! let forged = attacks::alg_none(&jwt, &[Edit::set("role", "admin")]).unwrap();
//! assert_eq!(forged[0].label, "alg=none, trailing dot");
//! assert!(forged[0].token.ends_with('.'));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alg;
pub mod analyze;
pub mod attacks;
mod b64;
pub mod json_edit;
pub mod keys;
pub mod sign;
pub mod token;

pub use alg::{Alg, AlgFamily};
pub use analyze::{HeaderNotes, Observation, Policy, analyze, header_notes};
pub use attacks::{AttackError, Forged, Signer};
pub use json_edit::{Edit, EditError};
pub use keys::{Jwk, Jwks, KeyError, PrivateKey, PublicKey, SigningKey, VerifyingKey};
pub use sign::SignError;
pub use token::{Draft, Jwt, MAX_TOKEN_LEN, ParseError, Segment, redact_token};
