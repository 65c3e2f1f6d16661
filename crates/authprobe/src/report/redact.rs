//! Credentials that servers hand out, withheld from reports. The user's own secrets are
//! removed by value ([`super::Report::redact`]); what a server issues (the token in a login
//! answer, a password or API key echoed back) is not known in advance, so it is recognised
//! by shape: JWT-shaped strings, and the values of fields whose names say they hold a
//! credential (`access_token`, `refresh_token`, `id_token`, `token`, `password`, `secret`,
//! `api_key`, …), in JSON (`"token": "…"`) and in URL or form encoding (`token=…`).
//!
//! Each is replaced by a placeholder that says what was removed, so the evidence still
//! reads: `"access_token": "[REDACTED: JWT, alg HS256]"`. `--show-secrets` keeps them.

use base64::Engine as _;
use regex::{Captures, Regex};
use std::borrow::Cow;
use std::sync::LazyLock;

/// A JWS (three segments) or JWE (five) whose header is JSON, as every JWT's is (`{"` is
/// `eyJ` in base64url). The signature may be empty (`alg: none`), and an excerpt may cut
/// the token anywhere after its header.
static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?(?:\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)?",
    )
    .expect("regex")
});

/// `"name" : "value"` in JSON, the value possibly cut by the end of an excerpt.
static JSON_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""([A-Za-z0-9_.\-]{1,64})"(\s*:\s*)"((?:[^"\\\n]|\\[^\n])*)("|\\?\n|\\?\z)"#)
        .expect("regex")
});

/// `name=value` in a query string, a fragment (implicit-flow redirects) or a form body.
static FORM_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(^|[?&#;\s,{(])([A-Za-z][A-Za-z0-9_.\-]{0,63})=([^&\s"'<>;,#]+)"#).expect("regex")
});

/// Whether a field of this name holds a credential by convention. Names are compared
/// without case, `_`, `-` and `.`: `access_token`, `accessToken` and `access-token` alike.
pub fn is_secret_field(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    const SUFFIXES: [&str; 11] = [
        "token",
        "secret",
        "password",
        "passwd",
        "apikey",
        "accesskey",
        "privatekey",
        "secretkey",
        "sessionid",
        "credential",
        "credentials",
    ];
    SUFFIXES.iter().any(|s| n.ends_with(s))
        || matches!(
            n.as_str(),
            "pwd" | "passphrase" | "authorization" | "cookie"
        )
}

/// What a JWT placeholder says: the algorithm when the header can be read.
fn jwt_placeholder(token: &str) -> String {
    let header = token.split('.').next().unwrap_or("");
    let alg = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("alg").and_then(|a| a.as_str()).map(str::to_string))
        .filter(|a| a.len() <= 16 && a.chars().all(|c| c.is_ascii_alphanumeric()));
    match alg {
        Some(a) => format!("[REDACTED: JWT, alg {a}]"),
        None => "[REDACTED: JWT]".to_string(),
    }
}

fn field_placeholder(name: &str) -> String {
    format!("[REDACTED: {name}]")
}

/// `text` with every server-issued credential replaced by a placeholder.
pub fn server_secrets(text: &str) -> Cow<'_, str> {
    // One pass can uncover a match for the next: a replaced token changes the quotes a
    // field's pattern sees around it. Passes run until nothing changes (two or three in
    // practice), so that redacting a redacted text changes nothing.
    let mut out = one_pass(text);
    for _ in 0..8 {
        let next = one_pass(&out).into_owned();
        if next == out {
            break;
        }
        out = Cow::Owned(next);
    }
    out
}

fn one_pass(text: &str) -> Cow<'_, str> {
    // Fields first, so a token in a named field is labelled by the field's name.
    let out = JSON_FIELD.replace_all(text, |c: &Captures| {
        let name = &c[1];
        if is_secret_field(name) && !c[3].is_empty() && !c[3].starts_with("[REDACTED") {
            format!("\"{name}\"{}\"{}{}", &c[2], field_placeholder(name), &c[4])
        } else {
            c[0].to_string()
        }
    });
    let out = match FORM_FIELD.replace_all(&out, |c: &Captures| {
        let name = &c[2];
        if is_secret_field(name) && !c[3].starts_with("[REDACTED") {
            format!("{}{name}={}", &c[1], field_placeholder(name))
        } else {
            c[0].to_string()
        }
    }) {
        Cow::Borrowed(_) => out,
        Cow::Owned(o) => Cow::Owned(o),
    };
    let out = match JWT.replace_all(&out, |c: &Captures| jwt_placeholder(&c[0])) {
        Cow::Borrowed(_) => out,
        Cow::Owned(o) => Cow::Owned(o),
    };
    if out == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(out.into_owned())
    }
}

/// The forms a secret the user gave may take in a report besides its own: URL-escaped
/// (a query string), base64 (a header), JSON- and HTML-escaped (a body that quotes it).
/// Formats escape at render time, so the model only needs what servers send back.
pub fn encodings(secret: &str) -> Vec<String> {
    let mut v = vec![secret.to_string()];
    let url: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    v.push(url.replace('+', "%20"));
    v.push(url);
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    v.push(b64.trim_end_matches('=').to_string());
    v.push(b64);
    v.push(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
    if let Ok(json) = serde_json::to_string(secret) {
        v.push(json[1..json.len() - 1].to_string());
    }
    v.push(
        secret
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;"),
    );
    v.retain(|s| s.len() >= 4);
    v.sort();
    v.dedup();
    // Longest first, so a form that contains another is replaced whole.
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT_HS256: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";

    #[test]
    fn a_login_answer_keeps_its_shape_and_loses_its_token() {
        let body = format!(
            "HTTP 200\ncontent-type: application/json\n\n{{\"access_token\":\"{JWT_HS256}\",\"token_type\":\"Bearer\",\"expires_in\":3600,\"refresh_token\": \"r3fr3sh-0paque-v4lue\"}}"
        );
        let out = server_secrets(&body);
        assert!(!out.contains(JWT_HS256), "{out}");
        assert!(!out.contains("r3fr3sh-0paque-v4lue"), "{out}");
        assert!(
            out.contains("\"access_token\":\"[REDACTED: access_token]\""),
            "{out}"
        );
        assert!(
            out.contains("\"refresh_token\": \"[REDACTED: refresh_token]\""),
            "{out}"
        );
        assert!(out.contains("\"token_type\":\"Bearer\""), "{out}");
        assert!(out.contains("\"expires_in\":3600"), "{out}");
    }

    #[test]
    fn a_bare_jwt_is_named_with_its_algorithm() {
        let text = format!("welcome, your session is {JWT_HS256}.");
        let out = server_secrets(&text);
        assert_eq!(out, "welcome, your session is [REDACTED: JWT, alg HS256].");
        // Cut by the end of an excerpt: the part that is left goes too.
        let cut = &JWT_HS256[..60];
        let text = format!("{{\"jwt_list\":[\"{cut}\n[…]");
        let out = server_secrets(&text);
        assert!(!out.contains(cut), "{out}");
    }

    #[test]
    fn query_fragment_and_form_values_are_withheld() {
        let out = server_secrets(
            "location: https://app.test/cb#access_token=opaque123&state=xyz\n\nuser=bob&password=hunter2&api_key=AKIA1234",
        );
        assert!(
            out.contains("#access_token=[REDACTED: access_token]&state=xyz"),
            "{out}"
        );
        assert!(
            out.contains("user=bob&password=[REDACTED: password]&api_key=[REDACTED: api_key]"),
            "{out}"
        );
    }

    #[test]
    fn cut_and_escaped_json_values_are_withheld() {
        let out = server_secrets("{\"secret\":\"abc\\\"def\",\"apiKey\":\"k-123");
        assert!(!out.contains("abc"), "{out}");
        assert!(!out.contains("k-123"), "{out}");
        assert!(out.contains("\"apiKey\":\"[REDACTED: apiKey]"), "{out}");
    }

    #[test]
    fn ordinary_evidence_is_left_alone() {
        for text in [
            "HTTP 401\nwww-authenticate: Bearer realm=\"api\", error=\"invalid_token\"\n\n{\"error\":\"invalid_token\",\"detail\":\"Token is expired\"}",
            "HTTP 200\nset-cookie: sid=[REDACTED]; Path=/; Secure\n\n{\"user\":\"alice\",\"role\":\"admin\"}",
            "{\"token_type\":\"Bearer\",\"keys\":[{\"kty\":\"EC\",\"x\":\"abc\"}]}",
        ] {
            assert_eq!(server_secrets(text), text);
        }
    }

    #[test]
    fn field_names_are_recognised_in_every_spelling() {
        for n in [
            "access_token",
            "accessToken",
            "refresh-token",
            "id_token",
            "token",
            "password",
            "client_secret",
            "api_key",
            "X-Api-Key",
            "apikey",
            "sessionId",
            "Authorization",
        ] {
            assert!(is_secret_field(n), "{n}");
        }
        for n in [
            "token_type",
            "expires_in",
            "user",
            "error",
            "kid",
            "keys",
            "tokens_left",
        ] {
            assert!(!is_secret_field(n), "{n}");
        }
    }

    /// Text built from the pieces the patterns care about, shuffled at random: redacting
    /// never panics, is idempotent, and leaves no JWT-shaped run behind.
    #[test]
    fn random_pieces_never_break_the_redactor() {
        const PIECES: [&str; 22] = [
            "\"",
            ":",
            "=",
            "&",
            "#",
            "?",
            " ",
            "\n",
            "\\",
            ".",
            "eyJhbGciOiJub25lIn0",
            "eyJ",
            "access_token",
            "token",
            "Password",
            "\"secret\": \"",
            "{",
            "}",
            "[REDACTED",
            "abc123",
            "é",
            "-_",
        ];
        for _ in 0..20_000 {
            let n = rand::random_range(0..40);
            let text: String = (0..n)
                .map(|_| PIECES[rand::random_range(0..PIECES.len())])
                .collect();
            let once = server_secrets(&text).into_owned();
            assert_eq!(server_secrets(&once), once, "not idempotent on {text:?}");
            assert!(!JWT.is_match(&once), "{text:?} -> {once:?}");
        }
    }

    #[test]
    fn a_token_replaced_first_cannot_hide_a_field_from_the_next_pass() {
        // Found by random_pieces_never_break_the_redactor: the secret field was only seen
        // once the token before it had been replaced.
        let text = "\"eyJhbGciOiJub25lIn0.\":\n\"secret\": \" [REDACTED&}\"}\"?{";
        let once = server_secrets(text).into_owned();
        assert_eq!(server_secrets(&once), once);
        assert!(once.contains("[REDACTED: secret]"), "{once}");
    }

    #[test]
    fn a_secret_is_known_in_its_encodings() {
        let e = encodings("pa ss&<\"wörd/+");
        for form in [
            "pa ss&<\"wörd/+",
            "pa+ss%26%3C%22w%C3%B6rd%2F%2B",
            "pa%20ss%26%3C%22w%C3%B6rd%2F%2B",
            "pa ss&<\\\"wörd/+",
            "pa ss&amp;&lt;&quot;wörd/+",
        ] {
            assert!(e.iter().any(|x| x == form), "{form} missing from {e:?}");
        }
        assert!(e.windows(2).all(|w| w[0].len() >= w[1].len()));
    }
}
