//! How HTTP Basic credentials are presented and how a Basic endpoint's answers are read:
//! shared by the `basic.*` checks and the Basic-related `auth.*` checks, so that neither
//! family imports the other.

use crate::creds::basic_value;
use crate::http::{Answer, Exchange, Probe, Value};
use crate::oracle::{Oracle, Sample, Verdict};
use crate::scan::Scan;
use base64::Engine as _;
use url::Url;

/// Where the user's Basic pair is accepted: `--basic-url`, else the target itself.
pub fn endpoint(ctx: &Scan) -> Url {
    ctx.opts()
        .basic
        .url
        .clone()
        .unwrap_or_else(|| ctx.opts().target.clone())
}

/// A GET to `url` with the user's plain headers and, over TLS, their client certificate,
/// as the client that owns the pair would send it.
pub fn probe_to(ctx: &Scan, url: &Url) -> Probe {
    let mut p = Probe::new("GET", url.clone());
    for (n, v) in ctx.bare("GET").headers {
        if !n.eq_ignore_ascii_case("authorization") {
            p = p.header(&n, v);
        }
    }
    if url.scheme() == "https" {
        p = p.with_identity(ctx.opts().creds.client.clone());
    }
    p
}

/// A Basic header for a pair the scanner made up: nothing secret, shown as is.
pub fn literal_basic(user: &str, pass: &str) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    Value::lit(format!("Basic {b64}"))
}

/// The user's own username with a scanner-made wrong password. The username stays
/// literal (it is not the secret); the password is a random marker.
pub fn wrong_password_for(user: &str) -> Value {
    literal_basic(user, &random_word("wrong"))
}

/// The user's pair, shown as `${AUTHPROBE_BASIC}` in evidence.
pub fn user_basic(ctx: &Scan) -> Option<Value> {
    ctx.opts()
        .creds
        .basic
        .as_ref()
        .map(|(u, p)| basic_value(u, p))
}

/// A fresh name no server has seen: `prefix-` and 16 hex digits.
pub fn random_word(prefix: &str) -> String {
    let bytes: [u8; 8] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("authprobe-{prefix}-{hex}")
}

/// A 429, or any answer carrying Retry-After: the server is slowing the caller down.
pub fn is_throttle(a: &Answer) -> bool {
    a.status == 429 || a.header("retry-after").is_some()
}

pub fn exchange_throttled(x: &Exchange) -> bool {
    x.answer().is_some_and(is_throttle)
}

/// The oracle's verdict, with any client-error answer the baselines did not foresee (400
/// for an ambiguous request, 429, 405) counted as a refusal: those never carry the
/// resource.
pub fn judge(oracle: &Oracle, s: &Sample) -> Verdict {
    match oracle.judge(s) {
        Verdict::Inconclusive(_) if matches!(s.status, Some(400..=499)) => Verdict::Rejected,
        v => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_words_differ_and_carry_their_prefix() {
        let a = random_word("user");
        let b = random_word("user");
        assert_ne!(a, b);
        assert!(a.starts_with("authprobe-user-") && a.len() == "authprobe-user-".len() + 16);
    }

    #[test]
    fn literal_basic_encodes_the_pair() {
        assert_eq!(
            literal_basic("admin", "admin").raw(),
            b"Basic YWRtaW46YWRtaW4="
        );
    }
}
