//! Passive analysis: what can be said about a token without sending anything.

use serde_json::{Map, Value};

use crate::alg::AlgFamily;
use crate::token::Jwt;

/// Thresholds for the passive checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Longest acceptable `exp - iat`, in seconds (default 24 h, for access tokens).
    pub max_lifetime_secs: u64,
    /// Current time (Unix seconds). When set, a token without `iat` is judged by its remaining
    /// validity instead; when `None` such a token's lifetime is not judged.
    pub now: Option<u64>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_lifetime_secs: 24 * 3600,
            now: None,
        }
    }
}

/// One passive finding, tagged with its catalog id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Catalog id: one of [`MISSING_EXP`], [`LONG_LIFETIME`], [`MISSING_AUDIENCE_OR_ISSUER`],
    /// [`SENSITIVE_CLAIMS`].
    pub id: &'static str,
    /// What was seen, for humans. Never contains a sensitive value in full.
    pub detail: String,
}

/// Catalog id: the token has no `exp`.
pub const MISSING_EXP: &str = "jwt.missing_exp";
/// Catalog id: `exp - iat` exceeds the policy.
pub const LONG_LIFETIME: &str = "jwt.long_lifetime";
/// Catalog id: no `aud` or no `iss`.
pub const MISSING_AUDIENCE_OR_ISSUER: &str = "jwt.missing_audience_or_issuer";
/// Catalog id: personal data or secrets in the payload.
pub const SENSITIVE_CLAIMS: &str = "jwt.sensitive_claims";

fn numeric_date(claims: &Map<String, Value>, name: &str) -> Option<f64> {
    claims
        .get(name)
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite())
}

/// Renders seconds as the largest sensible unit, e.g. `30 days`, `36 hours`, `90 minutes`.
pub fn human_duration(secs: f64) -> String {
    let secs = secs.max(0.0);
    if secs >= 3.0 * 86400.0 {
        format!("{:.0} days", secs / 86400.0)
    } else if secs >= 2.0 * 3600.0 {
        format!("{:.0} hours", secs / 3600.0)
    } else if secs >= 120.0 {
        format!("{:.0} minutes", secs / 60.0)
    } else {
        format!("{secs:.0} seconds")
    }
}

/// Runs the passive checks. Observations come in catalog order; at most one per id.
pub fn analyze(jwt: &Jwt, policy: &Policy) -> Vec<Observation> {
    let claims = jwt.claims();
    let mut out = Vec::new();
    let exp = numeric_date(claims, "exp");
    match (claims.get("exp"), exp) {
        (None, _) => out.push(Observation {
            id: MISSING_EXP,
            detail: "the token has no exp claim: it never expires".into(),
        }),
        (Some(v), None) => out.push(Observation {
            id: MISSING_EXP,
            detail: format!(
                "exp is {}, not a NumericDate: most libraries will treat the token as never expiring",
                type_name(v)
            ),
        }),
        _ => {}
    }
    if let Some(exp) = exp {
        let max = policy.max_lifetime_secs as f64;
        if let Some(iat) = numeric_date(claims, "iat") {
            let lifetime = exp - iat;
            if lifetime > max {
                out.push(Observation {
                    id: LONG_LIFETIME,
                    detail: format!(
                        "the token lives {} (exp - iat), over the policy of {}",
                        human_duration(lifetime),
                        human_duration(max)
                    ),
                });
            }
        } else if let Some(now) = policy.now {
            let remaining = exp - now as f64;
            if remaining > max {
                out.push(Observation {
                    id: LONG_LIFETIME,
                    detail: format!(
                        "the token has no iat and stays valid {} from now, over the policy of {}",
                        human_duration(remaining),
                        human_duration(max)
                    ),
                });
            }
        }
    }
    let missing: Vec<&str> = ["aud", "iss"]
        .into_iter()
        .filter(|c| !claims.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        let what = missing.join(" and ");
        out.push(Observation {
            id: MISSING_AUDIENCE_OR_ISSUER,
            detail: format!(
                "the token carries no {what}: a token minted for another service of the same issuer (or by another issuer sharing the key) cannot be told apart"
            ),
        });
    }
    let found = sensitive_claims(jwt);
    if !found.is_empty() {
        const SHOWN: usize = 8;
        let mut parts: Vec<String> = found
            .iter()
            .take(SHOWN)
            .map(|s| format!("{} ({}: {})", s.path, s.kind.label(), s.masked))
            .collect();
        if found.len() > SHOWN {
            parts.push(format!("and {} more", found.len() - SHOWN));
        }
        out.push(Observation {
            id: SENSITIVE_CLAIMS,
            detail: format!(
                "the payload, readable by anyone holding the token, carries {}",
                parts.join("; ")
            ),
        });
    }
    out
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Facts about the header (and the `cnf` claim) worth showing next to the findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderNotes {
    /// `alg` as written.
    pub alg: Option<String>,
    /// Its family.
    pub family: AlgFamily,
    /// `typ`.
    pub typ: Option<String>,
    /// `kid`.
    pub kid: Option<String>,
    /// `jku`: the server may fetch keys from it.
    pub jku: Option<String>,
    /// `x5u`.
    pub x5u: Option<String>,
    /// Number of certificates in `x5c` (0 when absent).
    pub x5c: usize,
    /// A `jwk` member is present.
    pub jwk: bool,
    /// The payload carries a `cnf` (RFC 7800) claim.
    pub cnf: bool,
    /// `cnf.x5t#S256`, the RFC 8705 certificate binding.
    pub cnf_x5t_s256: Option<String>,
}

/// Collects [`HeaderNotes`].
pub fn header_notes(jwt: &Jwt) -> HeaderNotes {
    let h = jwt.header();
    let text = |name: &str| h.get(name).and_then(Value::as_str).map(str::to_owned);
    let cnf = jwt.claim("cnf");
    HeaderNotes {
        alg: text("alg"),
        family: AlgFamily::of(jwt.alg()),
        typ: text("typ"),
        kid: text("kid"),
        jku: text("jku"),
        x5u: text("x5u"),
        x5c: h.get("x5c").and_then(Value::as_array).map_or(0, Vec::len),
        jwk: h.contains_key("jwk"),
        cnf: cnf.is_some(),
        cnf_x5t_s256: cnf
            .and_then(|c| c.get("x5t#S256"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

impl HeaderNotes {
    /// One human line per fact.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "alg {} ({})",
            self.alg.as_deref().unwrap_or("(missing)"),
            self.family.label()
        )];
        if let Some(t) = &self.typ {
            out.push(format!("typ {t}"));
        }
        if let Some(k) = &self.kid {
            out.push(format!("kid {k:?}"));
        }
        if let Some(u) = &self.jku {
            out.push(format!("jku {u} (the server may fetch keys from this URL)"));
        }
        if let Some(u) = &self.x5u {
            out.push(format!(
                "x5u {u} (the server may fetch a certificate from this URL)"
            ));
        }
        if self.x5c > 0 {
            out.push(format!("x5c with {} certificate(s)", self.x5c));
        }
        if self.jwk {
            out.push("jwk embedded in the header".into());
        }
        match (&self.cnf_x5t_s256, self.cnf) {
            (Some(t), _) => out.push(format!("bound to a client certificate (cnf.x5t#S256 {t})")),
            (None, true) => out.push("cnf claim present (proof-of-possession)".into()),
            (None, false) => {}
        }
        out
    }
}

/// What kind of sensitive data a claim holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensitiveKind {
    /// E-mail address.
    Email,
    /// Telephone number.
    Phone,
    /// Luhn-valid payment-card number.
    PaymentCard,
    /// A password in clear.
    Password,
    /// A password hash (crackable offline).
    PasswordHash,
    /// PEM private key.
    PrivateKey,
    /// A vendor API key or access token with a recognisable prefix.
    ApiKey,
    /// A value under a secret-looking name.
    Secret,
}

impl SensitiveKind {
    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            SensitiveKind::Email => "e-mail address",
            SensitiveKind::Phone => "phone number",
            SensitiveKind::PaymentCard => "payment-card number",
            SensitiveKind::Password => "password",
            SensitiveKind::PasswordHash => "password hash",
            SensitiveKind::PrivateKey => "private key",
            SensitiveKind::ApiKey => "API key",
            SensitiveKind::Secret => "secret",
        }
    }
}

/// A claim holding sensitive data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveClaim {
    /// Claim path, e.g. `user.email` or `contacts[1]`.
    pub path: String,
    /// What it holds.
    pub kind: SensitiveKind,
    /// The value masked, safe to print.
    pub masked: String,
}

/// Bounds on the walk: payloads are attacker-influenced, and the report needs examples, not
/// an inventory.
const MAX_DEPTH: usize = 16;
const MAX_FOUND: usize = 64;

/// Finds claims holding personal data or secrets.
pub fn sensitive_claims(jwt: &Jwt) -> Vec<SensitiveClaim> {
    let mut out = Vec::new();
    for (name, value) in jwt.claims() {
        walk(name, &words(name), value, 0, &mut out);
    }
    out
}

fn walk(path: &str, name: &[String], value: &Value, depth: usize, out: &mut Vec<SensitiveClaim>) {
    if depth > MAX_DEPTH || out.len() >= MAX_FOUND {
        return;
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                walk(&format!("{path}.{k}"), &words(k), v, depth + 1, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(&format!("{path}[{i}]"), name, v, depth + 1, out);
            }
        }
        Value::String(s) => {
            if let Some((kind, masked)) = classify_string(name, s) {
                out.push(SensitiveClaim {
                    path: path.to_owned(),
                    kind,
                    masked,
                });
            }
        }
        Value::Number(n) => {
            // Numbers are ids and timestamps far more often than card numbers: only a name
            // that says "card" makes a Luhn-valid number worth reporting.
            if has_any(name, &["card", "pan", "cc", "ccnumber", "cardnumber"]) {
                let digits = n.to_string();
                if is_card_number(&digits) {
                    out.push(SensitiveClaim {
                        path: path.to_owned(),
                        kind: SensitiveKind::PaymentCard,
                        masked: mask_card(&digits),
                    });
                }
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// Splits a claim name into lowercase words at `_`, `-`, `.`, spaces and camelCase humps.
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn has_any(words: &[String], wanted: &[&str]) -> bool {
    words.iter().any(|w| wanted.contains(&w.as_str()))
}

fn has_pair(words: &[String], a: &str, b: &str) -> bool {
    words.windows(2).any(|w| w[0] == a && w[1] == b)
}

/// Trailing words that make a secret-sounding name describe metadata about the secret
/// (`password_changed_at`, `client_secret_expires_at`, `password_policy`) rather than hold it.
const METADATA_WORDS: &[&str] = &[
    "at",
    "policy",
    "hint",
    "type",
    "changed",
    "updated",
    "expires",
    "expiry",
    "expiration",
    "required",
    "reset",
    "length",
    "set",
    "status",
    "strength",
    "alg",
    "algorithm",
    "id",
    "version",
    "verified",
    "enabled",
    "url",
    "uri",
    "endpoint",
    "method",
    "age",
    "date",
    "time",
    "count",
    "last",
    "rule",
    "rules",
];

fn classify_string(name: &[String], s: &str) -> Option<(SensitiveKind, String)> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if t.contains("-----BEGIN") && t.contains("PRIVATE KEY") {
        return Some((SensitiveKind::PrivateKey, hidden(t)));
    }
    if is_password_hash(t) {
        return Some((SensitiveKind::PasswordHash, prefix_mask(t, 4)));
    }
    if is_api_key(t) {
        return Some((SensitiveKind::ApiKey, prefix_mask(t, 4)));
    }
    if let Some(email) = find_email(t) {
        return Some((SensitiveKind::Email, mask_email(email)));
    }
    if is_card_number(t) {
        return Some((SensitiveKind::PaymentCard, mask_card(t)));
    }
    let phone_name = has_any(
        name,
        &[
            "phone",
            "mobile",
            "tel",
            "telephone",
            "cell",
            "fax",
            "msisdn",
        ],
    );
    if is_phone(t, phone_name) {
        return Some((SensitiveKind::Phone, mask_phone(t)));
    }
    let metadata = name
        .last()
        .is_some_and(|w| METADATA_WORDS.contains(&w.as_str()));
    if metadata {
        return None;
    }
    if has_any(name, &["password", "passwd", "pwd", "passphrase"])
        || name.iter().map(String::as_str).eq(["pass"])
    {
        let kind = if has_any(name, &["hash", "hashed", "digest"]) {
            SensitiveKind::PasswordHash
        } else {
            SensitiveKind::Password
        };
        return Some((kind, hidden(t)));
    }
    if has_any(
        name,
        &["secret", "apikey", "privatekey", "secretkey", "accesskey"],
    ) || has_pair(name, "api", "key")
        || has_pair(name, "private", "key")
        || has_pair(name, "secret", "key")
        || has_pair(name, "access", "key")
        || has_pair(name, "refresh", "token")
    {
        return Some((SensitiveKind::Secret, hidden(t)));
    }
    None
}

fn is_password_hash(s: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "$2a$", "$2b$", "$2y$", "$argon2", "$scrypt$", "$pbkdf2", "$5$", "$6$", "$y$",
    ];
    s.len() >= 20 && !s.contains(char::is_whitespace) && PREFIXES.iter().any(|p| s.starts_with(p))
}

fn is_api_key(s: &str) -> bool {
    let body_ok = |b: &str, min: usize| {
        b.len() >= min
            && b.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    // AWS access key ids: a fixed prefix and exactly 16 upper-case alphanumerics.
    if (s.starts_with("AKIA") || s.starts_with("ASIA"))
        && s.len() == 20
        && s[4..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return true;
    }
    const PREFIXED: &[(&str, usize)] = &[
        ("sk_live_", 16),
        ("rk_live_", 16),
        ("sk_test_", 16),
        ("ghp_", 30),
        ("gho_", 30),
        ("ghs_", 30),
        ("ghu_", 30),
        ("github_pat_", 30),
        ("glpat-", 20),
        ("xoxb-", 20),
        ("xoxp-", 20),
        ("AIza", 35),
    ];
    PREFIXED
        .iter()
        .any(|(p, min)| s.strip_prefix(p).is_some_and(|rest| body_ok(rest, *min)))
}

fn find_email(s: &str) -> Option<&str> {
    s.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '(' | ')' | '"'))
        .find(|w| is_email(w))
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.contains('@') || domain.len() > 253 {
        return false;
    }
    let local_ok = local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.');
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A Luhn-valid 13–19 digit number, optionally grouped with spaces or dashes, starting with a
/// card-network prefix. The prefix check matters: one random number in ten passes Luhn.
fn is_card_number(s: &str) -> bool {
    if !s
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return false;
    }
    let digits: Vec<u8> = s
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    if !(13..=19).contains(&digits.len()) || !luhn(&digits) {
        return false;
    }
    let prefix = |n: usize| {
        digits
            .iter()
            .take(n)
            .fold(0u32, |acc, d| acc * 10 + u32::from(*d))
    };
    let visa = digits[0] == 4;
    let mastercard = (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4));
    let amex = matches!(prefix(2), 34 | 37) && digits.len() == 15;
    let discover = prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3));
    let jcb = (3528..=3589).contains(&prefix(4));
    visa || mastercard || amex || discover || jcb
}

/// Phone numbers need a `+` country prefix or a phone-like claim name: bare digit runs are
/// far more often ids, dates or versions.
fn is_phone(s: &str, phone_name: bool) -> bool {
    let body = s.strip_prefix('+');
    let plus = body.is_some();
    let body = body.unwrap_or(s);
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
    {
        return false;
    }
    let n = body.chars().filter(char::is_ascii_digit).count();
    (plus || phone_name) && (7..=15).contains(&n)
}

fn hidden(s: &str) -> String {
    format!("{} characters hidden", s.chars().count())
}

fn prefix_mask(s: &str, keep: usize) -> String {
    let shown: String = s.chars().take(keep).collect();
    format!("{shown}*** ({} characters)", s.chars().count())
}

fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

fn mask_card(s: &str) -> String {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits
        .chars()
        .skip(digits.len().saturating_sub(4))
        .collect();
    format!("****{tail}")
}

fn mask_phone(s: &str) -> String {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits
        .chars()
        .skip(digits.len().saturating_sub(2))
        .collect();
    format!("***{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b64;
    use serde_json::json;

    fn jwt(claims: Value) -> Jwt {
        let t = format!(
            "{}.{}.",
            b64::encode(br#"{"alg":"HS256","kid":"k1","jku":"https://x.test/jwks"}"#),
            b64::encode(claims.to_string().as_bytes())
        );
        Jwt::parse(&t).unwrap()
    }

    fn ids(obs: &[Observation]) -> Vec<&'static str> {
        obs.iter().map(|o| o.id).collect()
    }

    #[test]
    fn clean_token_has_no_observations() {
        let t = jwt(json!({
            "iss": "https://idp.example", "aud": "api", "sub": "0b6c3f9e-6a4f-4b8e-9d2a-1f2e3d4c5b6a",
            "iat": 1_700_000_000, "exp": 1_700_000_900, "email_verified": true,
            "phone_number_verified": false, "scope": "read write", "jti": "4111111111111111x",
            "password_changed_at": "2024-01-01T00:00:00Z", "client_secret_expires_at": 0,
            "version": "1.2.3", "tenant": 12345678, "ver": "20240101"
        }));
        assert!(
            analyze(&t, &Policy::default()).is_empty(),
            "{:?}",
            analyze(&t, &Policy::default())
        );
    }

    #[test]
    fn missing_exp_aud_iss() {
        let t = jwt(json!({"sub": "alice"}));
        let obs = analyze(&t, &Policy::default());
        assert_eq!(ids(&obs), [MISSING_EXP, MISSING_AUDIENCE_OR_ISSUER]);
        assert!(obs[1].detail.contains("aud and iss"));
        let t = jwt(json!({"exp": "tomorrow", "aud": "a", "iss": "b"}));
        let obs = analyze(&t, &Policy::default());
        assert_eq!(ids(&obs), [MISSING_EXP]);
        assert!(obs[0].detail.contains("a string"));
    }

    #[test]
    fn long_lifetime_uses_iat_or_now() {
        let t = jwt(json!({"iss":"i","aud":"a","iat": 0, "exp": 30 * 86400}));
        let obs = analyze(&t, &Policy::default());
        assert_eq!(ids(&obs), [LONG_LIFETIME]);
        assert!(obs[0].detail.contains("30 days"), "{}", obs[0].detail);
        let ok = jwt(json!({"iss":"i","aud":"a","iat": 0, "exp": 3600}));
        assert!(analyze(&ok, &Policy::default()).is_empty());
        let no_iat = jwt(json!({"iss":"i","aud":"a","exp": 10 * 86400}));
        assert!(analyze(&no_iat, &Policy::default()).is_empty());
        let p = Policy {
            now: Some(0),
            ..Policy::default()
        };
        assert_eq!(ids(&analyze(&no_iat, &p)), [LONG_LIFETIME]);
    }

    #[test]
    fn sensitive_claims_are_found_and_masked() {
        let t = jwt(json!({
            "iss":"i","aud":"a","exp":1,
            "email": "alice.smith@example.com",
            "phone_number": "+44 20 7946 0958",
            "card": "4111 1111 1111 1111",
            "password": "hunter2!",
            "profile": {"contact": "mail me: bob@corp.example.org", "api_key": "k-123456"},
            "aws": "AKIAIOSFODNN7EXAMPLE",
            "pw_hash": "$2b$12$abcdefghijklmnopqrstuv",
            "key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
            "cards": [{"pan": 5555555555554444u64}]
        }));
        let found = sensitive_claims(&t);
        let get = |p: &str| {
            found
                .iter()
                .find(|s| s.path == p)
                .unwrap_or_else(|| panic!("{p} not in {found:?}"))
        };
        assert_eq!(get("email").kind, SensitiveKind::Email);
        assert_eq!(get("email").masked, "a***@example.com");
        assert_eq!(get("phone_number").kind, SensitiveKind::Phone);
        assert_eq!(get("phone_number").masked, "***58");
        assert_eq!(get("card").kind, SensitiveKind::PaymentCard);
        assert_eq!(get("card").masked, "****1111");
        assert_eq!(get("password").kind, SensitiveKind::Password);
        assert_eq!(get("profile.contact").kind, SensitiveKind::Email);
        assert_eq!(get("profile.api_key").kind, SensitiveKind::Secret);
        assert_eq!(get("aws").kind, SensitiveKind::ApiKey);
        assert_eq!(get("pw_hash").kind, SensitiveKind::PasswordHash);
        assert_eq!(get("key").kind, SensitiveKind::PrivateKey);
        assert_eq!(get("cards[0].pan").kind, SensitiveKind::PaymentCard);
        let obs = analyze(&t, &Policy::default());
        let detail = &obs
            .iter()
            .find(|o| o.id == SENSITIVE_CLAIMS)
            .unwrap()
            .detail;
        for secret in [
            "alice.smith",
            "7946",
            "4111 1111",
            "hunter2",
            "k-123456",
            "IOSFODNN",
            "abcdefgh",
            "MIIB",
            "5555555555554444",
        ] {
            assert!(!detail.contains(secret), "{secret} leaked in {detail}");
        }
        assert!(detail.contains("and 2 more"), "{detail}");
    }

    #[test]
    fn lookalikes_are_not_sensitive() {
        for (name, value) in [
            ("sub", json!("550e8400-e29b-41d4-a716-446655440000")),
            ("email_verified", json!(true)),
            ("email", json!("not-an-address")),
            ("user", json!("alice@localhost")),
            ("id", json!(4111111111111111u64)),
            ("order", json!("4111111111111112")),
            ("ref", json!("1234567890123456")),
            ("build", json!("20240101 1234")),
            ("password_policy", json!("min 12 chars")),
            ("secret_rotated_at", json!("2024-01-01")),
            ("passport", json!("yes")),
            ("scope", json!("openid email phone")),
        ] {
            let t = jwt(json!({ name: value }));
            assert!(
                sensitive_claims(&t).is_empty(),
                "{name}: {:?}",
                sensitive_claims(&t)
            );
        }
    }

    #[test]
    fn header_notes_report_key_sources() {
        let t = jwt(json!({"cnf": {"x5t#S256": "abc"}}));
        let n = header_notes(&t);
        assert_eq!(n.family, AlgFamily::Hmac);
        assert_eq!(n.kid.as_deref(), Some("k1"));
        assert_eq!(n.jku.as_deref(), Some("https://x.test/jwks"));
        assert!(n.cnf);
        assert_eq!(n.cnf_x5t_s256.as_deref(), Some("abc"));
        let lines = n.lines().join("\n");
        assert!(lines.contains("jku https://x.test/jwks"));
        assert!(lines.contains("cnf.x5t#S256"));
    }

    #[test]
    fn word_splitting() {
        assert_eq!(words("clientSecret"), ["client", "secret"]);
        assert_eq!(words("API_KEY"), ["api", "key"]);
        assert_eq!(words("x5t#S256"), ["x5t", "s256"]);
    }
}
