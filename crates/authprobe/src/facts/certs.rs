//! The certificate facts the `mtls.*` checks share: the minter of probe certificates (from
//! the test CA when given), and each swapped-certificate trial, with the token re-bound to
//! the probe certificate where the token is bound to the user's (RFC 8705
//! `cnf.x5t#S256`). The self-signed trial is sent once per scan.

use crate::facts::FactCell;
use crate::http::{ClientIdentity, Exchange, Probe};
use crate::oracle::{Sample, Verdict};
use crate::pki::{Minter, UserCert};
use crate::scan::{Compare, Scan, Trial};
use std::sync::Arc;

#[derive(Default)]
pub struct CertFacts {
    minter: FactCell<Result<Arc<Minter>, String>>,
    /// The self-signed copy of the user's certificate, with the user's credentials.
    self_signed: FactCell<Result<CertTrial, String>>,
}

/// The user's certificate, parsed.
pub fn user_cert(ctx: &Scan) -> Result<UserCert, String> {
    let Some(id) = &ctx.opts().creds.client else {
        return Err("needs a client certificate (--client-cert and --client-key)".into());
    };
    let leaf = id.chain.first().map(|c| c.as_ref()).unwrap_or(&[]);
    UserCert::parse(leaf).map_err(|e| e.to_string())
}

impl CertFacts {
    pub async fn minter(&self, ctx: &Scan) -> Result<Arc<Minter>, String> {
        self.minter
            .get_or_init(|| async {
                let ca = ctx
                    .opts()
                    .creds
                    .client_ca
                    .as_ref()
                    .map(|(c, k)| (c.as_path(), k.as_path()));
                match &ctx.opts().keep_artifacts {
                    Some(dir) => Minter::kept(ca, dir),
                    None => Minter::new(ca),
                }
                .map(Arc::new)
                .map_err(|e| e.to_string())
            })
            .await
            .clone()
    }

    /// The self-signed copy of the user's certificate, tried once per scan.
    pub async fn self_signed_trial(&self, ctx: &Scan) -> Result<&CertTrial, String> {
        self.self_signed
            .get_or_init(|| async {
                let user = user_cert(ctx).map_err(|_| "no client certificate".to_string())?;
                let m = self.minter(ctx).await?;
                let id = m.self_signed(&user).map_err(|e| e.to_string())?;
                cert_trial(ctx, id).await
            })
            .await
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The user's authorized request presented with `identity` instead of their certificate.
pub fn with_identity(ctx: &Scan, identity: Option<Arc<ClientIdentity>>) -> Probe {
    ctx.authorized_probe(&ctx.opts().method)
        .with_identity(identity)
}

/// Sends `probe` (a swapped certificate) and judges the answer.
pub async fn trial(ctx: &Scan, probe: Probe) -> Result<Trial, String> {
    if ctx.authorized_class().is_none() {
        return Err("no authorized baseline".into());
    }
    let o = ctx.judge(Compare::CertSwapped)?;
    let label = probe.identity.as_ref().map_or_else(
        || "no certificate".into(),
        |i| i.cert_path.display().to_string(),
    );
    let exchange = ctx.send(probe).await?;
    let verdict = o.judge(&Sample::from_exchange(&exchange));
    Ok(Trial {
        label,
        exchange,
        verdict,
    })
}

/// A swapped certificate with the user's credentials, and, where the user's token is
/// bound to the user's own certificate, the same request with the token re-bound to the
/// probe certificate.
pub struct CertTrial {
    pub full: Trial,
    /// `Some` when `full` was refused by the application (not at the handshake) and the
    /// token carries `cnf.x5t#S256`: the re-bound trial, or why it could not be sent.
    pub rebound: Option<Result<Trial, String>>,
    /// Where the re-binding key came from.
    pub key_source: Option<String>,
}

impl CertTrial {
    pub fn accepted(&self) -> bool {
        self.full.accepted() || matches!(&self.rebound, Some(Ok(t)) if t.accepted())
    }

    pub fn refused(&self) -> bool {
        !self.accepted()
            && self.full.verdict == Verdict::Rejected
            && match &self.rebound {
                None => true,
                Some(Ok(t)) => t.verdict == Verdict::Rejected,
                Some(Err(_)) => false,
            }
    }

    /// The exchange that proves acceptance, and how to say what it proves.
    pub fn proof(&self) -> Option<(&Exchange, String)> {
        if self.full.accepted() {
            return Some((
                &self.full.exchange,
                "with the user's other credentials, got the authorized answer".into(),
            ));
        }
        match &self.rebound {
            Some(Ok(t)) if t.accepted() => Some((
                &t.exchange,
                format!(
                    "with the user's token re-bound to it (cnf.x5t#S256 set to its thumbprint, signed with the key {}; every other claim kept), got the authorized answer",
                    self.key_source.as_deref().unwrap_or("the scan knows")
                ),
            )),
            _ => None,
        }
    }

    pub fn inconclusive_reason(&self) -> Option<String> {
        match (&self.full.verdict, &self.rebound) {
            (Verdict::Inconclusive(r), _) => Some(r.clone()),
            (_, Some(Err(r))) => Some(r.clone()),
            (
                _,
                Some(Ok(Trial {
                    verdict: Verdict::Inconclusive(r),
                    ..
                })),
            ) => Some(r.clone()),
            _ => None,
        }
    }
}

/// The SHA-256 thumbprint of a certificate, as RFC 8705 `cnf.x5t#S256` carries it.
pub fn thumbprint(id: &ClientIdentity) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let der = id.chain.first().map(|c| c.as_ref()).unwrap_or(&[]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(der))
}

/// The user's token's RFC 8705 binding, if it has one.
pub fn token_binding(ctx: &Scan) -> Option<String> {
    crate::facts::jwt::user_jwt(ctx).and_then(|j| {
        j.claim("cnf")
            .and_then(|c| c.get("x5t#S256"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    })
}

pub async fn cert_trial(ctx: &Scan, identity: Arc<ClientIdentity>) -> Result<CertTrial, String> {
    let full = trial(ctx, with_identity(ctx, Some(identity.clone()))).await?;
    let refused_by_app = full.verdict == Verdict::Rejected
        && full
            .exchange
            .result
            .as_ref()
            .is_ok_and(|_| token_binding(ctx).is_some());
    if !refused_by_app {
        return Ok(CertTrial {
            full,
            rebound: None,
            key_source: None,
        });
    }
    let Some(jwt) = crate::facts::jwt::user_jwt(ctx) else {
        return Ok(CertTrial {
            full,
            rebound: None,
            key_source: None,
        });
    };
    let k = match ctx.facts().jwt.key(ctx).await {
        Ok(k) => k,
        Err(e) => {
            return Ok(CertTrial {
                full,
                rebound: Some(Err(e)),
                key_source: None,
            });
        }
    };
    let Some(k) = k else {
        return Ok(CertTrial {
            full,
            rebound: Some(Err("the token is bound to the user's certificate (cnf.x5t#S256), so the application refuses it over any other certificate whatever the certificate layer did; give the token's signing key (--jwt-key or --jwt-secret) so the probe can carry a token bound to the probe certificate".into())),
            key_source: None,
        });
    };
    let minted = authprobe_jwt::attacks::mint_changed_claim(
        &jwt,
        k.alg,
        &k.key,
        "cnf",
        serde_json::json!({ "x5t#S256": thumbprint(&identity) }),
        authprobe_jwt::attacks::unix_now(),
    );
    let rebound = match minted {
        Ok(f) => {
            // One variable per probe certificate: each carries its own re-bound token.
            let stem = identity
                .cert_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let p = with_identity(ctx, Some(identity))
                .without_header("Authorization")
                .header(
                    "Authorization",
                    crate::facts::jwt::minted_value(
                        &crate::facts::jwt::minted_var(&format!("bound_{stem}")),
                        &f.token,
                    ),
                );
            trial(ctx, p).await
        }
        Err(e) => Err(format!("could not re-bind the token: {e}")),
    };
    Ok(CertTrial {
        full,
        rebound: Some(rebound),
        key_source: Some(k.source.clone()),
    })
}
