//! Root causes of the `auth.*` family that other checks defer to: whether plain garbage in
//! the bearer is accepted, and whether the certificate alone is.

use crate::facts::FactCell;
use crate::http::Value;
use crate::oracle::{Sample, Verdict};
use crate::scan::{Compare, Scan};

#[derive(Default)]
pub struct AuthFacts {
    garbage: FactCell<bool>,
    cert_alone: FactCell<bool>,
}

impl AuthFacts {
    /// Whether plain garbage in the bearer gets the authorized answer: a root cause that other
    /// checks must not report again. Probed once per scan.
    pub async fn garbage_accepted(&self, ctx: &Scan) -> bool {
        *self
            .garbage
            .get_or_init(|| async {
                let Ok(oracle) = ctx.judge(Compare::AppCredentialSwapped) else {
                    return false;
                };
                let p = ctx
                    .transport_probe(&ctx.opts().method)
                    .without_header("Authorization")
                    .header("Authorization", Value::lit("Bearer authprobe-not-a-token"));
                match ctx.send(p).await {
                    Ok(x) => matches!(
                        oracle.judge(&Sample::from_exchange(&x)),
                        Verdict::Accepted { .. }
                    ),
                    Err(_) => false,
                }
            })
            .await
    }

    /// Whether the certificate alone gets the authorized answer: a root cause that checks
    /// sending the certificate with a broken or misplaced token must not report again.
    pub async fn cert_alone_accepted(&self, ctx: &Scan) -> bool {
        *self
            .cert_alone
            .get_or_init(|| async {
                let Some(t) = &ctx.baselines().transport_only else {
                    return false;
                };
                let Ok(o) = ctx.judge(Compare::CertAlone) else {
                    return false;
                };
                t.exchanges
                    .iter()
                    .all(|x| matches!(o.judge(&Sample::from_exchange(x)), Verdict::Accepted { .. }))
            })
            .await
    }
}
