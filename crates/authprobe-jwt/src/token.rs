//! Compact JWS parsing that keeps every segment byte-exact, and drafts for re-issuing.

use serde_json::{Map, Value};
use thiserror::Error;

use crate::alg::Alg;
use crate::b64;
use crate::json_edit::{self, Edit, EditError};
use crate::keys::SigningKey;
use crate::sign::{self, SignError};

/// Longest token the parser accepts. Real tokens are a few KiB; a cap keeps a hostile
/// server or user from making the scanner decode and hold megabytes per probe.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Which of the three segments an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// The JOSE header.
    Header,
    /// The claims.
    Payload,
    /// The signature.
    Signature,
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Segment::Header => "header",
            Segment::Payload => "payload",
            Segment::Signature => "signature",
        })
    }
}

/// Why a string is not a usable compact JWS.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// Longer than [`MAX_TOKEN_LEN`].
    #[error("token is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Input bytes are not UTF-8 (only from [`Jwt::parse_bytes`]).
    #[error("token is not UTF-8 text")]
    NotUtf8,
    /// Not three dot-separated segments (five would be a JWE).
    #[error("token has {0} dot-separated segments; a compact JWS has 3")]
    SegmentCount(usize),
    /// A segment is not base64url.
    #[error("{0} segment is not valid base64url")]
    Base64(Segment),
    /// Header or payload does not decode to JSON text.
    #[error("{segment} is not valid JSON: {reason}")]
    Json {
        /// Header or payload.
        segment: Segment,
        /// Parser message.
        reason: String,
    },
    /// Header or payload is JSON but not an object.
    #[error("{0} is JSON but not an object")]
    NotObject(Segment),
}

/// A parsed compact JWS. The original segment strings are kept verbatim (including any
/// padding or non-canonical base64), so the token can be re-emitted or partially edited
/// without disturbing bytes an attack does not mean to change.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwt {
    raw_header: String,
    raw_payload: String,
    raw_signature: String,
    header_json: String,
    payload_json: String,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    signature: Vec<u8>,
}

impl Jwt {
    /// Parses a compact JWS. Surrounding ASCII whitespace is ignored (pasted tokens often
    /// carry a newline); everything between is kept byte-exact.
    pub fn parse(token: &str) -> Result<Jwt, ParseError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(ParseError::TooLarge {
                len: token.len(),
                max: MAX_TOKEN_LEN,
            });
        }
        let token = token.trim_matches(|c: char| c.is_ascii_whitespace());
        let parts: Vec<&str> = token.split('.').collect();
        let [h, p, s] = parts.as_slice() else {
            return Err(ParseError::SegmentCount(parts.len()));
        };
        let (header_json, header) = decode_object(h, Segment::Header)?;
        let (payload_json, claims) = decode_object(p, Segment::Payload)?;
        let signature = b64::decode(s).map_err(|_| ParseError::Base64(Segment::Signature))?;
        Ok(Jwt {
            raw_header: (*h).to_owned(),
            raw_payload: (*p).to_owned(),
            raw_signature: (*s).to_owned(),
            header_json,
            payload_json,
            header,
            claims,
            signature,
        })
    }

    /// Like [`Jwt::parse`] for raw bytes (fuzzing, bytes off the wire).
    pub fn parse_bytes(token: &[u8]) -> Result<Jwt, ParseError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(ParseError::TooLarge {
                len: token.len(),
                max: MAX_TOKEN_LEN,
            });
        }
        Jwt::parse(std::str::from_utf8(token).map_err(|_| ParseError::NotUtf8)?)
    }

    /// The header segment exactly as received.
    pub fn raw_header(&self) -> &str {
        &self.raw_header
    }

    /// The payload segment exactly as received.
    pub fn raw_payload(&self) -> &str {
        &self.raw_payload
    }

    /// The signature segment exactly as received (empty for `alg: none` tokens).
    pub fn raw_signature(&self) -> &str {
        &self.raw_signature
    }

    /// Decoded header JSON text, byte for byte.
    pub fn header_json(&self) -> &str {
        &self.header_json
    }

    /// Decoded payload JSON text, byte for byte.
    pub fn payload_json(&self) -> &str {
        &self.payload_json
    }

    /// Header members (duplicates collapse, last wins, as serde_json reads them).
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// Payload claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// One claim.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// Decoded signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The `alg` header value when it is a string.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// `header.payload`, the bytes the signature covers.
    pub fn signing_input(&self) -> String {
        format!("{}.{}", self.raw_header, self.raw_payload)
    }

    /// The token re-assembled from its raw segments (equal to the input, minus outer whitespace).
    pub fn to_token(&self) -> String {
        format!(
            "{}.{}.{}",
            self.raw_header, self.raw_payload, self.raw_signature
        )
    }

    /// The token with its signature replaced by `<redacted>`, for reports.
    pub fn redacted(&self) -> String {
        format!("{}.{}.<redacted>", self.raw_header, self.raw_payload)
    }

    /// A draft that starts from this token's raw header and payload.
    pub fn draft(&self) -> Draft {
        Draft {
            header: Part {
                raw: self.raw_header.clone(),
                json: self.header_json.clone(),
            },
            payload: Part {
                raw: self.raw_payload.clone(),
                json: self.payload_json.clone(),
            },
        }
    }

    /// Verifies the signature with `key` under the token's own `alg`.
    pub fn verify(&self, key: &crate::keys::VerifyingKey) -> Result<(), SignError> {
        let name = self.alg().unwrap_or("");
        let alg = Alg::from_name(name).ok_or_else(|| SignError::UnknownAlg(name.to_owned()))?;
        sign::verify(alg, key, self.signing_input().as_bytes(), &self.signature)
    }
}

fn decode_object(seg: &str, which: Segment) -> Result<(String, Map<String, Value>), ParseError> {
    let bytes = b64::decode(seg).map_err(|_| ParseError::Base64(which))?;
    let text = String::from_utf8(bytes).map_err(|_| ParseError::Json {
        segment: which,
        reason: "not UTF-8".into(),
    })?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok((text, map)),
        Ok(_) => Err(ParseError::NotObject(which)),
        Err(e) => Err(ParseError::Json {
            segment: which,
            reason: e.to_string(),
        }),
    }
}

/// Replaces everything after the payload with `<redacted>`, so a report can show the claims
/// without ever holding a replayable token. Works on strings that do not parse, too: the
/// first two segments are kept and the rest is hidden; a string without a dot is hidden whole.
pub fn redact_token(token: &str) -> String {
    let token = token.trim_matches(|c: char| c.is_ascii_whitespace());
    let mut parts = token.splitn(3, '.');
    match (parts.next(), parts.next()) {
        (Some(h), Some(p)) => format!("{h}.{p}.<redacted>"),
        _ => "<redacted>".to_owned(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    raw: String,
    json: String,
}

impl Part {
    fn edit(&mut self, edits: &[Edit]) -> Result<(), EditError> {
        if edits.is_empty() {
            return Ok(());
        }
        let json = json_edit::apply(&self.json, edits)?;
        // An edit that changes nothing keeps the original segment, padding and all.
        if json != self.json {
            self.raw = b64::encode(json.as_bytes());
            self.json = json;
        }
        Ok(())
    }
}

/// An unsigned header and payload being prepared for a forged or re-minted token. Segments
/// that no edit touched keep the original base64 text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    header: Part,
    payload: Part,
}

impl Draft {
    /// A draft from header and payload JSON text (each must be an object).
    pub fn new(header_json: &str, payload_json: &str) -> Result<Draft, EditError> {
        json_edit::members(header_json)?;
        json_edit::members(payload_json)?;
        Ok(Draft {
            header: Part {
                raw: b64::encode(header_json.as_bytes()),
                json: header_json.to_owned(),
            },
            payload: Part {
                raw: b64::encode(payload_json.as_bytes()),
                json: payload_json.to_owned(),
            },
        })
    }

    /// Applies member edits to the header.
    pub fn edit_header(&mut self, edits: &[Edit]) -> Result<&mut Self, EditError> {
        self.header.edit(edits)?;
        Ok(self)
    }

    /// Applies member edits to the payload.
    pub fn edit_payload(&mut self, edits: &[Edit]) -> Result<&mut Self, EditError> {
        self.payload.edit(edits)?;
        Ok(self)
    }

    /// Header JSON text.
    pub fn header_json(&self) -> &str {
        &self.header.json
    }

    /// Payload JSON text.
    pub fn payload_json(&self) -> &str {
        &self.payload.json
    }

    /// Header segment (base64url).
    pub fn raw_header(&self) -> &str {
        &self.header.raw
    }

    /// Payload segment (base64url).
    pub fn raw_payload(&self) -> &str {
        &self.payload.raw
    }

    /// `header.payload`.
    pub fn signing_input(&self) -> String {
        format!("{}.{}", self.header.raw, self.payload.raw)
    }

    /// The token with the given signature bytes.
    pub fn with_signature(&self, signature: &[u8]) -> String {
        self.with_raw_signature(&b64::encode(signature))
    }

    /// The token with a signature segment given verbatim.
    pub fn with_raw_signature(&self, segment: &str) -> String {
        format!("{}.{}", self.signing_input(), segment)
    }

    /// `header.payload.` (with `trailing_dot`) or `header.payload`.
    pub fn unsigned(&self, trailing_dot: bool) -> String {
        if trailing_dot {
            format!("{}.", self.signing_input())
        } else {
            self.signing_input()
        }
    }

    /// Signs the current header and payload. The header's `alg` is not changed here: callers
    /// set it with an edit first, so that a deliberate mismatch remains possible.
    pub fn sign(&self, alg: Alg, key: &SigningKey) -> Result<String, SignError> {
        let sig = sign::sign(alg, key, self.signing_input().as_bytes())?;
        Ok(self.with_signature(&sig))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        b64::encode(s.as_bytes())
    }

    const PAYLOAD: &str =
        "{\"iss\":\"https:\\/\\/idp.example\\/\",\"sub\":\"alice\" , \"role\":\"user\"}";

    fn sample() -> String {
        format!(
            "{}.{}.{}",
            enc("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"),
            enc(PAYLOAD),
            enc("sig")
        )
    }

    #[test]
    fn parse_keeps_raw_segments_and_decodes() {
        let t = sample();
        let jwt = Jwt::parse(&t).unwrap();
        assert_eq!(jwt.to_token(), t);
        assert_eq!(jwt.payload_json(), PAYLOAD);
        assert_eq!(jwt.alg(), Some("HS256"));
        assert_eq!(jwt.claim("iss").unwrap(), "https://idp.example/");
        assert_eq!(jwt.signature(), b"sig");
        assert_eq!(Jwt::parse(&format!(" {t}\n")).unwrap().to_token(), t);
    }

    #[test]
    fn unchanged_draft_round_trips_byte_exact() {
        let jwt = Jwt::parse(&sample()).unwrap();
        let mut d = jwt.draft();
        d.edit_payload(&[]).unwrap();
        d.edit_header(&[Edit::set("alg", "HS256")]).unwrap();
        assert_eq!(d.with_raw_signature(jwt.raw_signature()), jwt.to_token());
    }

    #[test]
    fn editing_one_claim_changes_only_that_member() {
        let jwt = Jwt::parse(&sample()).unwrap();
        let mut d = jwt.draft();
        d.edit_payload(&[Edit::set("role", "admin")]).unwrap();
        assert_eq!(d.payload_json(), PAYLOAD.replace("\"user\"", "\"admin\""));
        assert_eq!(d.raw_header(), jwt.raw_header());
        let forged = Jwt::parse(&d.with_signature(b"x")).unwrap();
        assert_eq!(forged.payload_json(), d.payload_json());
        assert!(forged.payload_json().contains("https:\\/\\/idp.example\\/"));
    }

    #[test]
    fn padded_segments_are_accepted_and_kept() {
        let h = enc("{\"alg\":\"none\",\"x\":1}");
        let pad = "=".repeat((4 - h.len() % 4) % 4);
        assert!(!pad.is_empty(), "fixture must need padding");
        let t = format!("{h}{pad}.{}.", enc("{\"a\":1}"));
        let jwt = Jwt::parse(&t).unwrap();
        assert_eq!(jwt.raw_header(), format!("{h}{pad}"));
        assert_eq!(jwt.to_token(), t);
    }

    #[test]
    fn parse_errors() {
        let h = enc("{\"alg\":\"HS256\"}");
        assert_eq!(Jwt::parse("a.b"), Err(ParseError::SegmentCount(2)));
        assert_eq!(Jwt::parse("a.b.c.d.e"), Err(ParseError::SegmentCount(5)));
        assert_eq!(
            Jwt::parse(&format!("{h}.***.x")),
            Err(ParseError::Base64(Segment::Payload))
        );
        assert_eq!(
            Jwt::parse(&format!("{h}.{h}.***")),
            Err(ParseError::Base64(Segment::Signature))
        );
        assert!(matches!(
            Jwt::parse(&format!("{}.{h}.", enc("not json"))),
            Err(ParseError::Json {
                segment: Segment::Header,
                ..
            })
        ));
        assert_eq!(
            Jwt::parse(&format!("{h}.{}.", enc("[1,2]"))),
            Err(ParseError::NotObject(Segment::Payload))
        );
        let big = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(Jwt::parse(&big), Err(ParseError::TooLarge { .. })));
        assert_eq!(Jwt::parse_bytes(b"\xff.a.b"), Err(ParseError::NotUtf8));
        assert!(matches!(
            Jwt::parse(&format!("{}.{h}.", b64::encode(b"\xff\xfe"))),
            Err(ParseError::Json { .. })
        ));
    }

    #[test]
    fn redaction_never_keeps_the_signature() {
        let t = sample();
        let jwt = Jwt::parse(&t).unwrap();
        let r = redact_token(&t);
        assert_eq!(
            r,
            format!("{}.{}.<redacted>", jwt.raw_header(), jwt.raw_payload())
        );
        assert_eq!(jwt.redacted(), r);
        assert!(!r.contains(jwt.raw_signature()));
        assert_eq!(redact_token("opaque-secret"), "<redacted>");
        assert_eq!(redact_token("a.b.c.d.e"), "a.b.<redacted>");
        assert_eq!(redact_token("a.b"), "a.b.<redacted>");
    }
}
