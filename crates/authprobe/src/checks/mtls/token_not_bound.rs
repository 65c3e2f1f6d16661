use crate::check::{Check, CheckFuture, CheckMeta, Need, Outcome, Remediation};
use crate::checks::mtls;
use crate::facts::jwt::{minted_value, minted_var, user_jwt};
use crate::finding::{Confidence, Family, Severity};
use crate::http::ClientIdentity;
use crate::oracle::Verdict;
use crate::pki::Variant;
use crate::scan::Scan;
use base64::Engine as _;
use std::sync::Arc;

pub static META: CheckMeta = CheckMeta {
    id: "mtls.token_not_bound",
    title: "The token is not bound to the client certificate it was issued for",
    family: Family::Mtls,
    severity: Severity::High,
    cwe: &[294, 287],
    owasp: &["API2"],
    description: "Replays the user's token over a connection with a second certificate of the same subject (--client-cert2, or one minted from the test CA) and over one with none; reads whether the token carries an RFC 8705 cnf.x5t#S256 thumbprint; with a known signing key, sends a token whose cnf names another certificate over the user's own.",
    needs: &[Need::Token, Need::Cert],
    explained_by: &["mtls.not_required"],
    remediation: Remediation {
        summary: "Bind access tokens to the client certificate (RFC 8705): the issuer puts cnf.x5t#S256 (the base64url SHA-256 of the certificate's DER) in the token, and every resource server compares it with the certificate of the connection and refuses a mismatch or a missing cnf. Then a stolen token is useless without the certificate's key.",
        frameworks: &[
            (
                "spring",
                "Spring Security's resource server: enable X.509 certificate-bound access tokens (oauth2ResourceServer with the x5t#S256 validator, or a custom OAuth2TokenValidator comparing cnf with the request's X509Certificate).",
            ),
            (
                "django",
                "In the JWT authentication class, compute the base64url SHA-256 of the verified client certificate's DER (forwarded by the proxy) and compare with claims['cnf']['x5t#S256']; raise AuthenticationFailed when absent or different.",
            ),
            (
                "express",
                "After jsonwebtoken.verify, compare payload.cnf['x5t#S256'] with the base64url SHA-256 of req.socket.getPeerCertificate().raw; 401 when missing or different.",
            ),
            (
                "go",
                "Compare claims cnf.x5t#S256 with base64.RawURLEncoding of sha256.Sum256(r.TLS.PeerCertificates[0].Raw); refuse on mismatch.",
            ),
            (
                "gateway",
                "Keycloak: enable 'OAuth 2.0 Mutual TLS Certificate Bound Access Tokens'; Envoy/Kong: validate cnf against the downstream certificate in the JWT filter or a plugin.",
            ),
        ],
    },
    references: &["RFC 8705 §3", "RFC 8705 §3.1", "RFC 7800 §3.1"],
    budget: crate::check::Budget::Fixed(64),
    lab_flaw: Some("mtls.token_not_bound"),
    finds: "the token replayed over a second certificate of the same subject (`--client-cert2`, or minted) is accepted; with a known key, a token whose `cnf.x5t#S256` names another certificate is; an informational note when the token has no `cnf` and nothing could be replayed",
    needs_note: "(+ second cert or ca-key)",
};

pub struct TokenNotBound;

impl Check for TokenNotBound {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move {
            let Some(own) = ctx.opts().creds.client.clone() else {
                return Outcome::NotApplicable("needs a client certificate".into());
            };
            if let Err(e) = mtls::oracle(ctx) {
                return Outcome::Inconclusive(e);
            }
            let jwt = user_jwt(ctx);
            let cnf = mtls::token_binding(ctx);
            let own_print = mtls::thumbprint(&own);
            let cnf_note = match &cnf {
                Some(c) if *c == own_print => "The token carries cnf.x5t#S256 for the user's certificate, but the server does not compare it with the connection's.".to_string(),
                Some(_) => "The token carries a cnf.x5t#S256 that is not the user's certificate's thumbprint.".to_string(),
                None if jwt.is_some() => "The token carries no RFC 8705 cnf.x5t#S256 thumbprint.".to_string(),
                None => "The token is opaque (not a JWT), so its binding cannot be read.".to_string(),
            };

            // A second certificate of the same subject: the user's own (another device),
            // or one the test CA mints.
            let second: Option<(Arc<ClientIdentity>, &str)> = match &ctx.opts().creds.client2 {
                Some(id) => Some((
                    id.clone(),
                    "the second certificate given with --client-cert2",
                )),
                None if ctx.opts().creds.client_ca.is_some() => {
                    match mtls::mint_from_ca(ctx, Variant::SameSubject).await {
                        Ok(id) => Some((
                            id,
                            "a second certificate for the user's subject minted from the test CA",
                        )),
                        Err(o) => return o,
                    }
                }
                None => None,
            };

            let mut refused = false;
            let mut reasons = Vec::new();
            if let Some((id, label)) = &second {
                match mtls::trial(ctx, mtls::with_identity(ctx, Some(id.clone()))).await {
                    Ok(t) if t.accepted() => {
                        let without = match mtls::accepted_without_cert(ctx).await {
                            Ok(Some(_)) => {
                                " It is also accepted with no certificate at all (mtls.not_required)."
                            }
                            _ => "",
                        };
                        return Outcome::found(META.finding(
                            Confidence::Firm,
                            format!(
                                "the user's token replayed over a connection with {label} got the authorized answer: a token stolen from one client works from another\n{cnf_note}{without} The second certificate is {}.",
                                id.cert_path.display()
                            ),
                            ctx.evidence(&t.exchange),
                        ));
                    }
                    Ok(t) => match t.verdict {
                        Verdict::Inconclusive(r) => reasons.push(r),
                        _ => refused = true,
                    },
                    Err(e) => reasons.push(e),
                }
            }

            // With a known key: a token naming another certificate, over the user's own.
            if let Some(jwt) = &jwt
                && let Ok(Some(k)) = ctx.facts().jwt.key(ctx).await
            {
                let other = match &second {
                    Some((id, _)) => mtls::thumbprint(id),
                    None => base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .encode(rand::random::<[u8; 32]>()),
                };
                let minted = authprobe_jwt::attacks::mint_changed_claim(
                    jwt,
                    k.alg,
                    &k.key,
                    "cnf",
                    serde_json::json!({ "x5t#S256": other }),
                    authprobe_jwt::attacks::unix_now(),
                );
                match minted {
                    Ok(f) => {
                        let var = minted_var(META.id);
                        let p = ctx
                            .authorized_probe(&ctx.opts().method)
                            .without_header("Authorization")
                            .header("Authorization", minted_value(&var, &f.token));
                        match mtls::trial(ctx, p).await {
                            Ok(t) if t.accepted() => {
                                return Outcome::found(META.finding(
                                    Confidence::Firm,
                                    format!(
                                        "a token whose cnf.x5t#S256 names another certificate (minted with the signing key {}) got the authorized answer over the user's certificate: the server never compares the token's binding with the connection\nThe token in the evidence is withheld as ${{{var}}}: it is a live credential (--secrets-file writes it; --show-secrets prints it).",
                                        k.source
                                    ),
                                    ctx.evidence(&t.exchange),
                                ));
                            }
                            Ok(t) => match t.verdict {
                                Verdict::Inconclusive(r) => reasons.push(r),
                                _ => refused = true,
                            },
                            Err(e) => reasons.push(e),
                        }
                    }
                    Err(e) => reasons.push(format!("could not mint a token: {e}")),
                }
            }

            if refused {
                return Outcome::Pass;
            }
            if second.is_none() && cnf.is_none() && jwt.is_some() {
                // Nothing could be replayed; what the token says is all there is.
                let Some(x) = ctx
                    .baselines()
                    .authorized
                    .as_ref()
                    .and_then(|b| b.exchanges.first())
                else {
                    return Outcome::Inconclusive("no authorized baseline".into());
                };
                let mut f = META.finding(
                    Confidence::Tentative,
                    format!(
                        "note: {cnf_note} Without a second certificate (--client-cert2, or --client-ca-cert/--client-ca-key to mint one) the replay could not be tried; a token without cnf is bound to no certificate unless the server ties it to the certificate's subject. The evidence is the user's own authorized request."
                    ),
                    ctx.evidence(x),
                );
                f.severity = Severity::Info;
                return Outcome::found(f);
            }
            Outcome::Inconclusive(reasons.first().cloned().unwrap_or_else(|| {
                "needs a second certificate (--client-cert2, or --client-ca-cert/--client-ca-key to mint one) or the token's signing key".into()
            }))
        })
    }
}
