//! Public-API tests: signing round trips, every attack builder, byte exactness, hostile input.

use std::sync::OnceLock;

use authprobe_jwt::attacks::{self, AttackerKeys, forged_header};
use authprobe_jwt::keys::Jwks;
use authprobe_jwt::{
    Alg, Draft, Edit, Jwt, PrivateKey, PublicKey, SignError, SigningKey, VerifyingKey, analyze,
    header_notes, json_edit, redact_token,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

fn enc(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s.as_bytes())
}

fn rsa_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate_rsa(2048).unwrap())
}

fn attacker_keys() -> &'static AttackerKeys {
    static KEYS: OnceLock<AttackerKeys> = OnceLock::new();
    KEYS.get_or_init(|| AttackerKeys {
        rsa: rsa_key().clone(),
        ec: PrivateKey::generate_p256(),
    })
}

/// Header and payload with deliberate oddities: escaped slashes, spaces, member order.
const HEADER: &str = r#"{"typ":"JWT", "alg":"RS256","kid":"key-1"}"#;
const PAYLOAD: &str = r#"{"iss":"https:\/\/idp.example\/","sub":"alice", "role":"user","aud":"api","iat":1700000000,"exp":1700000900}"#;

fn original() -> Jwt {
    let d = Draft::new(HEADER, PAYLOAD).unwrap();
    let token = d
        .sign(Alg::Rs256, &SigningKey::Private(rsa_key().clone()))
        .unwrap();
    Jwt::parse(&token).unwrap()
}

fn header_of(token: &str) -> Value {
    forged_header(token).unwrap()
}

fn parse(token: &str) -> Jwt {
    Jwt::parse(token).unwrap_or_else(|e| panic!("{token}: {e}"))
}

#[test]
fn sign_verify_round_trip_for_every_algorithm() {
    let keys = [
        (Alg::Hs256, SigningKey::hmac(b"s3cret"), None),
        (Alg::Hs384, SigningKey::hmac(b""), None),
        (Alg::Hs512, SigningKey::hmac([7u8; 100]), None),
        (Alg::Rs256, rsa_key().clone().into(), Some(256)),
        (Alg::Rs384, rsa_key().clone().into(), Some(256)),
        (Alg::Rs512, rsa_key().clone().into(), Some(256)),
        (Alg::Ps256, rsa_key().clone().into(), Some(256)),
        (Alg::Ps384, rsa_key().clone().into(), Some(256)),
        (Alg::Ps512, rsa_key().clone().into(), Some(256)),
        (Alg::Es256, PrivateKey::generate_p256().into(), Some(64)),
        (Alg::Es384, PrivateKey::generate_p384().into(), Some(96)),
        (Alg::Es512, PrivateKey::generate_p521().into(), Some(132)),
        (Alg::EdDsa, PrivateKey::generate_ed25519().into(), Some(64)),
    ];
    for (alg, key, sig_len) in keys {
        let verifier = match &key {
            SigningKey::Hmac(s) => VerifyingKey::Hmac(s.clone()),
            SigningKey::Private(k) => VerifyingKey::Public(k.public_key()),
        };
        let header = format!(r#"{{"alg":"{}"}}"#, alg.name());
        let token = Draft::new(&header, PAYLOAD)
            .unwrap()
            .sign(alg, &key)
            .unwrap();
        let jwt = parse(&token);
        assert_eq!(jwt.verify(&verifier), Ok(()), "{alg}");
        if let Some(n) = sig_len {
            assert_eq!(jwt.signature().len(), n, "{alg} signature width");
        }
        // Any change to the signed bytes must fail.
        let mut d = jwt.draft();
        d.edit_payload(&[Edit::set("sub", "mallory")]).unwrap();
        let tampered = parse(&d.with_raw_signature(jwt.raw_signature()));
        assert_eq!(
            tampered.verify(&verifier),
            Err(SignError::BadSignature),
            "{alg}"
        );
    }
}

#[test]
fn mismatched_keys_and_unknown_algs_are_errors() {
    let d = Draft::new(r#"{"alg":"ES256"}"#, "{}").unwrap();
    assert!(matches!(
        d.sign(Alg::Es256, &rsa_key().clone().into()),
        Err(SignError::KeyMismatch { .. })
    ));
    assert!(matches!(
        d.sign(Alg::Rs256, &SigningKey::hmac("x")),
        Err(SignError::KeyMismatch { .. })
    ));
    let none = parse(&d.unsigned(true));
    assert!(matches!(
        none.verify(&VerifyingKey::hmac("x")),
        Err(SignError::KeyMismatch { .. })
    ));
    let t = Draft::new(r#"{"alg":"none"}"#, "{}")
        .unwrap()
        .unsigned(true);
    assert_eq!(
        parse(&t).verify(&VerifyingKey::hmac("x")),
        Err(SignError::UnknownAlg("none".into()))
    );
}

#[test]
fn unchanged_token_with_escaped_slashes_round_trips_byte_exact() {
    let jwt = original();
    assert!(jwt.payload_json().contains(r"https:\/\/idp.example\/"));
    let reparsed = parse(&jwt.to_token());
    assert_eq!(reparsed.to_token(), jwt.to_token());
    assert_eq!(reparsed.payload_json(), PAYLOAD);
    assert_eq!(reparsed.header_json(), HEADER);
    // A no-edit draft reproduces the token; so does "setting" a member to its current text.
    let mut d = jwt.draft();
    d.edit_payload(&[]).unwrap();
    d.edit_header(&[Edit::set("alg", "RS256")]).unwrap();
    assert_eq!(d.with_raw_signature(jwt.raw_signature()), jwt.to_token());
    assert_eq!(jwt.verify(&rsa_key().public_key().into()), Ok(()));
}

#[test]
fn editing_a_claim_touches_only_that_member() {
    let jwt = original();
    for (name, value, expect) in [
        (
            "sub",
            json!("bob"),
            PAYLOAD.replace(r#""alice""#, r#""bob""#),
        ),
        (
            "role",
            json!("admin"),
            PAYLOAD.replace(r#""user""#, r#""admin""#),
        ),
        ("exp", json!(1), PAYLOAD.replace("1700000900", "1")),
        (
            "aud",
            json!(["a", "b"]),
            PAYLOAD.replace(r#""api""#, r#"["a","b"]"#),
        ),
    ] {
        let mut d = jwt.draft();
        d.edit_payload(&[Edit::set(name, value)]).unwrap();
        assert_eq!(d.payload_json(), expect);
        assert_eq!(d.raw_header(), jwt.raw_header(), "header untouched");
    }
    let mut d = jwt.draft();
    d.edit_header(&[
        Edit::set("alg", "HS256"),
        Edit::set("jku", "https://a.test/k"),
    ])
    .unwrap();
    assert_eq!(
        d.header_json(),
        r#"{"typ":"JWT", "alg":"HS256","kid":"key-1","jku":"https://a.test/k"}"#
    );
    assert_eq!(d.raw_payload(), jwt.raw_payload(), "payload untouched");
    let removed = json_edit::apply(PAYLOAD, &[Edit::remove("aud")]).unwrap();
    assert_eq!(removed, PAYLOAD.replace(r#","aud":"api""#, ""));
}

#[test]
fn alg_none_covers_four_spellings_with_and_without_dot() {
    let jwt = original();
    let forged = attacks::alg_none(&jwt, &[Edit::set("sub", "bob")]).unwrap();
    assert_eq!(forged.len(), 8);
    let spellings: Vec<String> = forged
        .iter()
        .map(|f| header_of(&f.token)["alg"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        spellings,
        [
            "none", "none", "None", "None", "NONE", "NONE", "nOnE", "nOnE"
        ]
    );
    for f in &forged {
        let h = header_of(&f.token);
        assert_eq!(h["kid"], "key-1", "other header members survive");
        if f.label.ends_with("trailing dot") && !f.label.contains("no trailing") {
            let t = parse(&f.token);
            assert!(t.signature().is_empty());
            assert_eq!(t.claim("sub").unwrap(), "bob");
            assert_eq!(t.payload_json(), PAYLOAD.replace(r#""alice""#, r#""bob""#));
        } else {
            assert_eq!(f.token.matches('.').count(), 1, "{}", f.label);
        }
    }
    assert_eq!(forged[7].label, "alg=nOnE, no trailing dot");
    // Without edits the payload segment is the original one, byte for byte.
    let plain = attacks::alg_none(&jwt, &[]).unwrap();
    assert_eq!(parse(&plain[0].token).raw_payload(), jwt.raw_payload());
}

#[test]
fn signature_not_verified_keeps_or_randomises_the_signature() {
    let jwt = original();
    let forged = attacks::signature_not_verified(&jwt, &[Edit::set("role", "admin")]).unwrap();
    assert_eq!(forged.len(), 3);
    let kept = parse(&forged[0].token);
    assert_eq!(kept.raw_signature(), jwt.raw_signature());
    assert_eq!(kept.claim("role").unwrap(), "admin");
    assert_eq!(kept.raw_header(), jwt.raw_header());
    let random = parse(&forged[1].token);
    assert_eq!(random.signature().len(), jwt.signature().len());
    assert_ne!(random.signature(), jwt.signature());
    let flipped = parse(&forged[2].token);
    let diff: u32 = flipped
        .signature()
        .iter()
        .zip(jwt.signature())
        .map(|(a, b)| (a ^ b).count_ones())
        .sum();
    assert_eq!(diff, 1);
    for f in &forged {
        assert!(
            parse(&f.token)
                .verify(&rsa_key().public_key().into())
                .is_err()
        );
    }
    // No edits: no "original signature" variant, which would just be the original token.
    assert_eq!(attacks::signature_not_verified(&jwt, &[]).unwrap().len(), 2);
}

#[test]
fn empty_signature_keeps_the_trailing_dot() {
    let jwt = original();
    let forged = attacks::empty_signature(&jwt, &[]).unwrap();
    assert_eq!(forged.len(), 1);
    assert_eq!(
        forged[0].token,
        format!("{}.{}.", jwt.raw_header(), jwt.raw_payload())
    );
    assert!(forged[0].label.contains("RS256"));
}

#[test]
fn key_confusion_hmac_verifies_with_the_public_key_bytes() {
    let jwt = original();
    let public = rsa_key().public_key();
    let pem = public.to_spki_pem().unwrap();
    let forged = attacks::key_confusion(&jwt, &[Edit::set("sub", "bob")], &public, None).unwrap();
    // 7 encodings (SPKI/PKCS#1 PEM with and without newline, 2 DER, JWK) x 3 algorithms.
    assert_eq!(forged.len(), 21);
    let f = forged
        .iter()
        .find(|f| f.label == "HS256 keyed with the SPKI PEM with final newline")
        .unwrap();
    let t = parse(&f.token);
    assert_eq!(t.alg(), Some("HS256"));
    assert_eq!(t.verify(&VerifyingKey::hmac(pem.as_bytes())), Ok(()));
    assert_eq!(t.claim("sub").unwrap(), "bob");
    let f = forged
        .iter()
        .find(|f| f.label == "HS512 keyed with the SPKI PEM without final newline")
        .unwrap();
    assert_eq!(
        parse(&f.token).verify(&VerifyingKey::hmac(pem.trim_end().as_bytes())),
        Ok(())
    );
    let f = forged
        .iter()
        .find(|f| f.label == "HS384 keyed with the PKCS#1 DER")
        .unwrap();
    assert_eq!(
        parse(&f.token).verify(&VerifyingKey::hmac(public.to_pkcs1_der().unwrap())),
        Ok(())
    );
    let f = forged
        .iter()
        .find(|f| f.label == "HS256 keyed with the public JWK JSON")
        .unwrap();
    assert_eq!(
        parse(&f.token).verify(&VerifyingKey::hmac(public.to_jwk())),
        Ok(())
    );

    // The exact text the user gave comes first, plus its newline twin.
    let given = b"-----BEGIN PUBLIC KEY-----\r\nodd bytes\r\n-----END PUBLIC KEY-----";
    let forged = attacks::key_confusion(&jwt, &[], &public, Some(given)).unwrap();
    assert_eq!(forged.len(), 27);
    assert_eq!(
        parse(&forged[0].token).verify(&VerifyingKey::hmac(given)),
        Ok(())
    );
    let with_nl = [&given[..], b"\n"].concat();
    assert_eq!(
        parse(&forged[1].token).verify(&VerifyingKey::hmac(with_nl)),
        Ok(())
    );

    let ec = PrivateKey::generate_p256().public_key();
    let forged = attacks::key_confusion(&jwt, &[], &ec, None).unwrap();
    assert_eq!(forged.len(), 12);
    assert_eq!(
        parse(&forged[0].token).verify(&VerifyingKey::hmac(ec.to_spki_pem().unwrap())),
        Ok(())
    );
}

#[test]
fn embedded_jwk_tokens_verify_with_the_embedded_key() {
    let jwt = original();
    let forged = attacks::embedded_jwk(&jwt, &[Edit::set("sub", "bob")], attacker_keys()).unwrap();
    assert_eq!(forged.len(), 2);
    let mut algs = Vec::new();
    for f in &forged {
        let t = parse(&f.token);
        let jwk = t.header().get("jwk").unwrap();
        assert_eq!(jwk["kid"], "key-1");
        let key = PublicKey::from_jwk(&jwk.to_string()).unwrap();
        assert_eq!(t.verify(&key.into()), Ok(()), "{}", f.label);
        assert_eq!(t.claim("sub").unwrap(), "bob");
        algs.push(t.alg().unwrap().to_owned());
    }
    assert_eq!(algs, ["RS256", "ES256"]);
}

#[test]
fn jku_injection_serves_a_jwks_that_verifies_the_token() {
    let jwt = original();
    let key = attacker_keys().ec.clone();
    let url = "http://127.0.0.1:9/jwks.json";
    let attack = attacks::jku_injection(&jwt, &[], url, &key).unwrap();
    assert_eq!(attack.kid, "key-1");
    assert_eq!(attack.content_type, "application/json");
    let t = parse(&attack.forged[0].token);
    assert_eq!(t.header()["jku"], url);
    assert_eq!(t.header()["kid"], "key-1");
    let set = Jwks::parse(&attack.document).unwrap();
    let entry = set.by_kid("key-1").unwrap();
    assert_eq!(entry.alg.as_deref(), Some("ES256"));
    assert_eq!(t.verify(&entry.public_key().unwrap().into()), Ok(()));

    // A token without kid gets one, and the JWKS lists the key under it.
    let no_kid = parse(
        &Draft::new(r#"{"alg":"HS256"}"#, PAYLOAD)
            .unwrap()
            .sign(Alg::Hs256, &SigningKey::hmac("k"))
            .unwrap(),
    );
    let attack = attacks::jku_injection(&no_kid, &[], url, &attacker_keys().rsa).unwrap();
    assert_eq!(attack.kid, "authprobe");
    assert!(
        Jwks::parse(&attack.document)
            .unwrap()
            .by_kid("authprobe")
            .is_some()
    );
}

#[test]
fn x5u_injection_serves_a_certificate_that_verifies_the_token() {
    let jwt = original();
    for key in [attacker_keys().ec.clone(), attacker_keys().rsa.clone()] {
        let url = "http://127.0.0.1:9/cert.pem";
        let attack = attacks::x5u_injection(&jwt, &[], url, &key).unwrap();
        assert!(attack.document.starts_with("-----BEGIN CERTIFICATE-----"));
        let t = parse(&attack.forged[0].token);
        assert_eq!(t.header()["x5u"], url);
        let cert_key = PublicKey::from_pem(&attack.document).unwrap();
        assert_eq!(cert_key, key.public_key());
        assert_eq!(t.verify(&cert_key.into()), Ok(()));
    }
}

#[test]
fn kid_injection_tokens_verify_with_the_predictable_keys() {
    let jwt = original();
    let forged = attacks::kid_injection(&jwt, &[]).unwrap();
    assert_eq!(forged.len(), 7);
    let check = |kid_part: &str, secret: &[u8], n: usize| {
        let hits: Vec<_> = forged
            .iter()
            .map(|f| parse(&f.token))
            .filter(|t| t.header()["kid"].as_str().unwrap().contains(kid_part))
            .filter(|t| t.verify(&VerifyingKey::hmac(secret)).is_ok())
            .collect();
        assert_eq!(hits.len(), n, "{kid_part}");
        for t in hits {
            assert_eq!(t.alg(), Some("HS256"));
        }
    };
    check("dev/null", b"", 2);
    check("../../../../../../../../../../dev/null", b"", 1);
    check("proc/sys/kernel/ostype", b"Linux\n", 1);
    check("proc/sys/kernel/ostype", b"Linux", 1);
    check("UNION SELECT", b"authprobe", 3);
    assert!(
        forged
            .iter()
            .any(|f| header_of(&f.token)["kid"] == "x' UNION SELECT 'authprobe'-- ")
    );
    // An HS512 token keeps HS512.
    let hs512 = parse(
        &Draft::new(r#"{"alg":"HS512"}"#, "{}")
            .unwrap()
            .sign(Alg::Hs512, &SigningKey::hmac("k"))
            .unwrap(),
    );
    let forged = attacks::kid_injection(&hs512, &[]).unwrap();
    assert!(forged.iter().all(|f| header_of(&f.token)["alg"] == "HS512"));
}

#[test]
fn psychic_signatures_are_all_zero() {
    let es256 = parse(
        &Draft::new(r#"{"alg":"ES256"}"#, PAYLOAD)
            .unwrap()
            .sign(Alg::Es256, &attacker_keys().ec.clone().into())
            .unwrap(),
    );
    let forged = attacks::psychic_signature(&es256, &[]).unwrap();
    assert_eq!(forged.len(), 2);
    let raw = parse(&forged[0].token);
    assert_eq!(raw.signature(), &[0u8; 64][..]);
    assert_eq!(raw.alg(), Some("ES256"));
    assert_eq!(raw.raw_payload(), es256.raw_payload());
    let der = parse(&forged[1].token);
    assert_eq!(der.signature(), &attacks::PSYCHIC_DER[..]);
    // A correct verifier rejects it.
    let key: VerifyingKey = attacker_keys().ec.public_key().into();
    assert!(raw.verify(&key).is_err());
    assert!(der.verify(&key).is_err());

    let forged = attacks::psychic_signature(&original(), &[Edit::set("sub", "bob")]).unwrap();
    assert_eq!(forged.len(), 6);
    let widths: Vec<usize> = forged
        .iter()
        .step_by(2)
        .map(|f| parse(&f.token).signature().len())
        .collect();
    assert_eq!(widths, [64, 96, 132]);
    assert!(forged.iter().all(|f| parse(&f.token).signature().iter().all(|b| *b == 0) || f.label.contains("DER")));
}

#[test]
fn minted_tokens_carry_the_intended_claims_and_verify() {
    let jwt = original();
    let key: SigningKey = rsa_key().clone().into();
    let key = attacks::Signer::key(Alg::Rs256, key);
    let vkey: VerifyingKey = rsa_key().public_key().into();
    let now = 1_800_000_000u64;

    let t = parse(&attacks::mint_expired(&jwt, &key, now).unwrap().token);
    assert_eq!(t.verify(&vkey), Ok(()));
    assert_eq!(t.claim("exp").unwrap(), now - 3600);
    assert_eq!(t.claim("iat").unwrap(), now - 7200);
    assert_eq!(t.claim("iss").unwrap(), "https://idp.example/");

    let t = parse(&attacks::mint_not_yet_valid(&jwt, &key, now).unwrap().token);
    assert_eq!(t.verify(&vkey), Ok(()));
    assert_eq!(t.claim("nbf").unwrap(), now + 3600);
    assert!(t.claim("exp").unwrap().as_u64().unwrap() > now + 3600);

    let t = parse(
        &attacks::mint_other_audience(&jwt, &key, Some("other-api"), now)
            .unwrap()
            .token,
    );
    assert_eq!(t.claim("aud").unwrap(), "other-api");
    assert_eq!(t.claim("exp").unwrap(), now + 600);
    let t = parse(
        &attacks::mint_other_audience(&jwt, &key, None, now)
            .unwrap()
            .token,
    );
    assert!(t.claim("aud").is_none());
    assert_eq!(t.verify(&vkey), Ok(()));

    let t = parse(
        &attacks::mint_other_issuer(&jwt, &key, "https://evil.test", now)
            .unwrap()
            .token,
    );
    assert_eq!(t.claim("iss").unwrap(), "https://evil.test");
    let f = attacks::mint_changed_claim(
        &jwt,
        Alg::Hs256,
        &SigningKey::hmac("k"),
        "role",
        json!("admin"),
        now,
    )
    .unwrap();
    let t = parse(&f.token);
    assert_eq!(t.claim("role").unwrap(), "admin");
    assert_eq!(t.alg(), Some("HS256"));
    assert_eq!(t.verify(&VerifyingKey::hmac("k")), Ok(()));
    assert_eq!(f.label, "role set to \"admin\"");
}

#[test]
fn redaction_hides_the_signature_of_forged_tokens() {
    let jwt = original();
    let r = redact_token(&jwt.to_token());
    assert!(r.ends_with(".<redacted>"));
    assert!(!r.contains(jwt.raw_signature()));
    assert!(parse(&r.replace("<redacted>", "")).signature().is_empty());
}

/// A token of every shape the scanner may meet; the parser must answer each without panicking.
fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..rng.random_range(1..8) {
        let len = b.len();
        match rng.random_range(0..7) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                b[i] = rng.random();
            }
            1 => {
                let i = rng.random_range(0..=len);
                b.insert(i, b".=-_+/ \"{}[]\\"[rng.random_range(0..13)]);
            }
            2 if len > 0 => {
                b.truncate(rng.random_range(0..len));
            }
            3 if len > 0 => {
                let i = rng.random_range(0..len);
                b.remove(i);
            }
            4 if len > 1 => {
                let i = rng.random_range(0..len);
                let j = rng.random_range(i..len);
                let chunk = b[i..j].to_vec();
                b.extend_from_slice(&chunk);
            }
            5 => b = (0..rng.random_range(0..64)).map(|_| rng.random()).collect(),
            _ => {}
        }
    }
    b
}

fn json_fragment(rng: &mut StdRng) -> String {
    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"sub\"",
        "\"a\\/b\"",
        "\"\\u00e9\"",
        "\"\\ud800\"",
        "1e999",
        "-0",
        "null",
        "true",
        "\"exp\"",
        "\"aud\"",
        "12345678901234567890",
        " ",
        "\n",
        "\"\\\"",
        "\"email\"",
        "\"x@y.zz\"",
        "\"4111111111111111\"",
        "\"+441234567890\"",
    ];
    (0..rng.random_range(0..24))
        .map(|_| PIECES[rng.random_range(0..PIECES.len())])
        .collect()
}

#[test]
fn hostile_input_never_panics() {
    let mut rng = StdRng::seed_from_u64(0x5eed_a07b);
    let seed = original().to_token().into_bytes();
    let keys = attacker_keys();
    let public = keys.ec.public_key();
    let mut parsed = 0usize;
    for i in 0..6000 {
        let input: Vec<u8> = match i % 3 {
            0 => mutate(&mut rng, &seed),
            1 => {
                let h = json_fragment(&mut rng);
                let p = json_fragment(&mut rng);
                format!(
                    "{}.{}.{}",
                    enc(&format!("{{\"alg\":\"HS256\"{h}")),
                    enc(&format!("{{{p}")),
                    enc(&p)
                )
                .into_bytes()
            }
            _ => {
                let h = json_fragment(&mut rng);
                let p = json_fragment(&mut rng);
                format!("{}.{}.", enc(&h), enc(&p)).into_bytes()
            }
        };
        let _ = redact_token(&String::from_utf8_lossy(&input));
        let Ok(jwt) = Jwt::parse_bytes(&input) else {
            continue;
        };
        parsed += 1;
        let _ = analyze(&jwt, &Default::default());
        let _ = header_notes(&jwt).lines();
        let edits = [Edit::set("sub", "bob"), Edit::remove("exp")];
        let _ = attacks::alg_none(&jwt, &edits).unwrap();
        let _ = attacks::empty_signature(&jwt, &edits).unwrap();
        let _ = attacks::signature_not_verified(&jwt, &edits).unwrap();
        let _ = attacks::psychic_signature(&jwt, &edits).unwrap();
        if i % 50 == 0 {
            let _ = attacks::kid_injection(&jwt, &edits).unwrap();
            let _ = attacks::key_confusion(&jwt, &edits, &public, None).unwrap();
        }
        let _ = jwt.verify(&VerifyingKey::hmac("k"));
        let _ = PublicKey::from_jwk(jwt.payload_json());
        let _ = Jwks::parse(jwt.payload_json());
    }
    assert!(
        parsed > 100,
        "the generator must reach the post-parse code ({parsed})"
    );
}

#[test]
fn deeply_nested_payload_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let t = format!("{}.{}.", enc(r#"{"alg":"none"}"#), enc(&deep));
    assert!(Jwt::parse(&t).is_err());
    let nested_obj = format!("{}1{}", r#"{"a":"#.repeat(120), "}".repeat(120));
    let t = format!("{}.{}.", enc(r#"{"alg":"none"}"#), enc(&nested_obj));
    let jwt = Jwt::parse(&t).unwrap();
    let _ = analyze(&jwt, &Default::default());
    let mut d = jwt.draft();
    d.edit_payload(&[Edit::set("b", 2)]).unwrap();
    assert!(d.payload_json().ends_with(r#"},"b":2}"#));
}

#[test]
fn random_keys_and_jwks_never_panic() {
    let mut rng = StdRng::seed_from_u64(7);
    let seeds = [
        rsa_key().public_key().to_spki_pem().unwrap(),
        attacker_keys().ec.public_key().to_jwk(),
        format!(
            "{{\"keys\":[{}]}}",
            attacker_keys().ec.public_key().to_jwk()
        ),
        attacker_keys().ec.to_pkcs8_pem().unwrap(),
    ];
    for i in 0..1500 {
        let input = mutate(&mut rng, seeds[i % seeds.len()].as_bytes());
        let text = String::from_utf8_lossy(&input);
        let _ = PublicKey::from_pem(&text);
        let _ = PrivateKey::from_pem(&text);
        let _ = PublicKey::from_jwk(&text);
        let _ = Jwks::parse(&text);
        let _ = PublicKey::from_der(&input);
        let _ = PrivateKey::from_der(&input);
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Fixtures were made with the OpenSSL 3 command line (genrsa -traditional, ecparam -genkey,
/// genpkey, rsa -pubout / -RSAPublicKey_out, req -x509): the encodings servers actually hold.
#[test]
fn openssl_generated_keys_are_read_and_re_encoded_identically() {
    let rsa = PrivateKey::from_pem(&fixture("rsa_pkcs1.pem")).unwrap();
    let spki = fixture("rsa_spki.pem");
    assert_eq!(PublicKey::from_pem(&spki).unwrap(), rsa.public_key());
    // Byte-identical PEM is what makes key confusion work without the original text.
    assert_eq!(rsa.public_key().to_spki_pem().unwrap(), spki);
    let pkcs1_pub = fixture("rsa_pkcs1_pub.pem");
    assert_eq!(PublicKey::from_pem(&pkcs1_pub).unwrap(), rsa.public_key());
    assert_eq!(rsa.public_key().to_pkcs1_pem().unwrap(), pkcs1_pub);
    let der = std::fs::read(format!(
        "{}/tests/fixtures/rsa_spki.der",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(PublicKey::from_der(&der).unwrap(), rsa.public_key());
    assert_eq!(rsa.public_key().to_spki_der().unwrap(), der);

    let p256 = PrivateKey::from_pem(&fixture("p256_sec1.pem")).unwrap();
    assert_eq!(p256.kind(), "P-256");
    let p256_spki = fixture("p256_spki.pem");
    assert_eq!(PublicKey::from_pem(&p256_spki).unwrap(), p256.public_key());
    assert_eq!(p256.public_key().to_spki_pem().unwrap(), p256_spki);
    assert_eq!(
        PublicKey::from_pem(&fixture("p256_cert.pem")).unwrap(),
        p256.public_key()
    );

    assert_eq!(
        PrivateKey::from_pem(&fixture("p384_pkcs8.pem"))
            .unwrap()
            .kind(),
        "P-384"
    );
    let ed = PrivateKey::from_pem(&fixture("ed25519_pkcs8.pem")).unwrap();
    let ed_spki = fixture("ed25519_spki.pem");
    assert_eq!(PublicKey::from_pem(&ed_spki).unwrap(), ed.public_key());
    assert_eq!(ed.public_key().to_spki_pem().unwrap(), ed_spki);

    // A token signed with the OpenSSL-made key verifies with its public PEM.
    let t = Draft::new(r#"{"alg":"ES256"}"#, "{}")
        .unwrap()
        .sign(Alg::Es256, &p256.into())
        .unwrap();
    assert_eq!(
        parse(&t).verify(&PublicKey::from_pem(&p256_spki).unwrap().into()),
        Ok(())
    );
}

/// A token carrying every identity claim an application may look the user up by.
fn identity_token(role: Value) -> Jwt {
    let mut claims = json!({
        "iss": "https://idp.example/",
        "sub": "alice",
        "user_id": 42,
        "uid": "u-42",
        "email": "alice@example.test",
        "username": "alice",
        "preferred_username": "Alice",
        "jti": "j-1",
        "iat": 1_700_000_000u64,
        "exp": 1_700_000_900u64,
    });
    if !role.is_null() {
        claims["roles"] = role;
    }
    let d = Draft::new(HEADER, &claims.to_string()).unwrap();
    parse(
        &d.sign(Alg::Rs256, &SigningKey::Private(rsa_key().clone()))
            .unwrap(),
    )
}

#[test]
fn every_forgery_without_edits_keeps_every_claim_byte_for_byte() {
    let jwt = original();
    let key = rsa_key().public_key();
    let hosted = PrivateKey::generate_p256();
    let mut all: Vec<attacks::Forged> = Vec::new();
    all.extend(attacks::alg_none(&jwt, &[]).unwrap());
    all.extend(attacks::signature_not_verified(&jwt, &[]).unwrap());
    all.extend(attacks::empty_signature(&jwt, &[]).unwrap());
    all.extend(attacks::key_confusion(&jwt, &[], &key, None).unwrap());
    all.extend(attacks::embedded_jwk(&jwt, &[], attacker_keys()).unwrap());
    all.extend(
        attacks::jku_injection(&jwt, &[], "http://127.0.0.1:1/j", &hosted)
            .unwrap()
            .forged,
    );
    all.extend(
        attacks::x5u_injection(&jwt, &[], "http://127.0.0.1:1/c", &hosted)
            .unwrap()
            .forged,
    );
    all.extend(attacks::kid_injection(&jwt, &[]).unwrap());
    all.extend(attacks::psychic_signature(&jwt, &[]).unwrap());
    assert!(all.len() > 40);
    for f in &all {
        assert_eq!(
            f.token.split('.').nth(1),
            Some(jwt.raw_payload()),
            "{}: the primary probe changes the claims",
            f.label
        );
        assert!(attacks::keeps_identity(&jwt, &f.token), "{}", f.label);
    }
    // The signature-only forgeries keep the header too: they change the signature and
    // nothing else.
    for f in attacks::signature_not_verified(&jwt, &[]).unwrap() {
        assert_eq!(f.token.split('.').next(), Some(jwt.raw_header()));
        assert_ne!(parse(&f.token).raw_signature(), jwt.raw_signature());
    }
}

#[test]
fn confirmation_edits_never_touch_the_identity() {
    for roles in [json!(["user"]), Value::Null] {
        let jwt = identity_token(roles.clone());
        let mut edits = attacks::unused_claim_edits(&jwt, "authprobe-abc123");
        assert_eq!(edits.len(), 3, "added claim, jti, iat");
        assert_eq!(edits[0].0, "claim \"authprobe\" added");
        let (claim, role) = attacks::role_edit(&jwt, "authprobe-abc123");
        edits.push((claim.clone(), role));
        for (label, edit) in &edits {
            for forged in [
                attacks::signature_not_verified(&jwt, std::slice::from_ref(edit)).unwrap(),
                attacks::alg_none(&jwt, std::slice::from_ref(edit)).unwrap(),
                attacks::kid_injection(&jwt, std::slice::from_ref(edit)).unwrap(),
            ] {
                for f in forged {
                    let t = parse_lenient(&f.token);
                    assert!(
                        attacks::keeps_identity(&jwt, &f.token),
                        "{label}: {}",
                        f.label
                    );
                    assert_ne!(t, jwt.claims().clone(), "{label}: the claims must change");
                }
            }
        }
        let t =
            parse(&attacks::signature_not_verified(&jwt, &[edits[3].1.clone()]).unwrap()[0].token);
        if roles.is_null() {
            // No role-like claim: a new one is added, the identity left alone.
            assert_eq!(claim, "role");
            assert_eq!(t.claim("role").unwrap(), "authprobe-abc123");
        } else {
            // A list keeps what the user had and gains the marker.
            assert_eq!(claim, "roles");
            assert_eq!(
                t.claim("roles").unwrap(),
                &json!(["user", "authprobe-abc123"])
            );
        }
    }
    // A space-separated scope gains the marker; a string role is replaced.
    let jwt = original();
    assert_eq!(attacks::role_edit(&jwt, "m").0, "role");
    let d = Draft::new(HEADER, r#"{"sub":"alice","scope":"read write"}"#).unwrap();
    let scoped = parse(&d.with_signature(b"sig"));
    let (claim, edit) = attacks::role_edit(&scoped, "m");
    assert_eq!(claim, "scope");
    let t = parse(&attacks::signature_not_verified(&scoped, &[edit]).unwrap()[0].token);
    assert_eq!(t.claim("scope").unwrap(), "read write m");
    // No jti, no iat: only the added claim.
    assert_eq!(attacks::unused_claim_edits(&scoped, "m").len(), 1);
}

/// The claims of a token that may lack its trailing dot.
fn parse_lenient(token: &str) -> serde_json::Map<String, Value> {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[test]
fn minted_tokens_keep_the_identity_whatever_signs_them() {
    let jwt = identity_token(json!(["user"]));
    let now = 1_800_000_000u64;
    let confused = attacks::key_confusion_signers(&rsa_key().public_key(), None).unwrap();
    let mut signers = vec![
        (
            "key".to_owned(),
            attacks::Signer::key(Alg::Rs256, rsa_key().clone().into()),
        ),
        (
            "original signature".to_owned(),
            attacks::Signer::OriginalSignature,
        ),
    ];
    signers.push(confused[0].clone());
    signers.push(attacks::alg_none_signers()[1].clone());
    for (what, signer) in &signers {
        for f in [
            attacks::mint_expired(&jwt, signer, now).unwrap(),
            attacks::mint_not_yet_valid(&jwt, signer, now).unwrap(),
            attacks::mint_other_audience(&jwt, signer, Some("other"), now).unwrap(),
            attacks::mint_other_audience(&jwt, signer, None, now).unwrap(),
            attacks::mint_other_issuer(&jwt, signer, "https://evil.test", now).unwrap(),
        ] {
            assert!(
                attacks::keeps_identity(&jwt, &f.token),
                "{what}: {}",
                f.label
            );
            let claims = parse_lenient(&f.token);
            assert_eq!(claims["jti"], "j-1", "{what}: {}", f.label);
            assert_eq!(claims["roles"], json!(["user"]), "{what}: {}", f.label);
        }
    }
    let expired = |s: &attacks::Signer| attacks::mint_expired(&jwt, s, now).unwrap().token;
    // The unverified path keeps header and signature, changing only the payload.
    let t = expired(&signers[1].1);
    let segs: Vec<&str> = t.split('.').collect();
    assert_eq!(segs[0], jwt.raw_header());
    assert_eq!(segs[2], jwt.raw_signature());
    assert_eq!(parse_lenient(&t)["exp"], now - 3600);
    // The confused key verifies as HS256 with the public key's PEM; alg none is unsigned.
    let t = parse(&expired(&signers[2].1));
    assert_eq!(t.alg(), Some("HS256"));
    let pem = rsa_key().public_key().to_spki_pem().unwrap();
    assert_eq!(t.verify(&VerifyingKey::hmac(pem.as_bytes())), Ok(()));
    assert_eq!(
        signers[2].0,
        "HS256 keyed with the SPKI PEM with final newline"
    );
    let t = expired(&signers[3].1);
    assert_eq!(header_of(&t)["alg"], "none");
    assert!(!t.ends_with('.'));
    assert_eq!(signers[3].0, "alg=none, no trailing dot");
    // The signers and the builders agree on labels and tokens.
    let labels: Vec<String> = attacks::key_confusion(&jwt, &[], &rsa_key().public_key(), None)
        .unwrap()
        .into_iter()
        .map(|f| f.label)
        .collect();
    assert_eq!(
        labels,
        confused.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>()
    );
}
