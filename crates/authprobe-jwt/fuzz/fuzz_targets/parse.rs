#![no_main]
//! Parses arbitrary bytes as a token; whatever parses goes through the passive analysis, the
//! header notes, the claim editor and the cheap attack builders, none of which may panic.

use authprobe_jwt::{Edit, Jwt, analyze, attacks, header_notes, json_edit, redact_token};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = redact_token(&String::from_utf8_lossy(data));
    let Ok(jwt) = Jwt::parse_bytes(data) else {
        return;
    };
    let _ = analyze(&jwt, &Default::default());
    let _ = header_notes(&jwt).lines();
    // The parsed token must re-emit exactly its own segments.
    assert_eq!(
        Jwt::parse(&jwt.to_token()).map(|t| t.to_token()),
        Ok(jwt.to_token())
    );

    let edits = [
        Edit::set("sub", "authprobe"),
        Edit::set("exp", 0),
        Edit::remove("aud"),
    ];
    for text in [jwt.payload_json(), jwt.header_json()] {
        let members = json_edit::members(text).expect("parsed JSON is an object");
        let edited = json_edit::apply(text, &edits).expect("edits on a valid object succeed");
        let v: serde_json::Value = serde_json::from_str(&edited).expect("edited text is JSON");
        assert_eq!(v["sub"], "authprobe");
        assert!(v.get("aud").is_none());
        // Members the edits did not name keep their bytes.
        for m in members
            .iter()
            .filter(|m| !["sub", "exp", "aud"].contains(&m.name.as_str()))
        {
            assert!(edited.contains(&text[m.value_start..m.value_end]));
        }
    }
    let _ = attacks::alg_none(&jwt, &edits);
    let _ = attacks::empty_signature(&jwt, &edits);
    let _ = attacks::signature_not_verified(&jwt, &edits);
    let _ = attacks::psychic_signature(&jwt, &edits);
});
