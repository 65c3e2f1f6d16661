//! HTTP Basic checks, and the references they judge a Basic endpoint's answers against.
//! How Basic probes are built and read is shared with the Basic-related `auth.*` checks in
//! [`crate::basic_auth`].

pub mod cleartext;
pub mod default_credentials;
pub mod no_lockout;
pub mod realm_leak;

/// The family's checks, in catalog order.
pub fn checks() -> Vec<Box<dyn crate::check::Check>> {
    vec![
        Box::new(cleartext::Cleartext),
        Box::new(default_credentials::DefaultCredentials),
        Box::new(no_lockout::NoLockout),
        Box::new(realm_leak::RealmLeak),
    ]
}

use crate::basic_auth::{literal_basic, probe_to, random_word, user_basic};
use crate::http::Probe;
use crate::oracle::{Class, Oracle, Sample};
use crate::scan::{Baseline, Scan};
use url::Url;

/// The Basic endpoint's answers to the user's pair (when given) and to a made-up pair,
/// each twice: what "logged in" and "refused" look like there.
pub struct References {
    pub ok: Option<Baseline>,
    pub wrong: Baseline,
}

impl References {
    pub fn oracle(&self) -> Oracle<'_> {
        Oracle::new(self.ok.as_ref().map(|b| &b.class), vec![&self.wrong.class])
    }
}

async fn twice(ctx: &Scan, label: &str, probe: Probe) -> Result<Baseline, String> {
    let (a, b) = tokio::join!(ctx.send(probe.clone()), ctx.send(probe));
    let exchanges = vec![a?, b?];
    let class = Class::new(label, exchanges.iter().map(Sample::from_exchange).collect());
    Ok(Baseline { class, exchanges })
}

/// A made-up username keeps the wrong-pair reference from counting as a failed login
/// against a real account.
pub async fn references(ctx: &Scan, url: &Url) -> Result<References, String> {
    let wrong_value = literal_basic(&random_word("user"), &random_word("pass"));
    let wrong = twice(
        ctx,
        "made-up Basic pair",
        probe_to(ctx, url).header("Authorization", wrong_value),
    );
    let ok = async {
        match user_basic(ctx) {
            Some(v) => twice(
                ctx,
                "the user's Basic pair",
                probe_to(ctx, url).header("Authorization", v),
            )
            .await
            .map(Some),
            None => Ok(None),
        }
    };
    let (wrong, ok) = tokio::join!(wrong, ok);
    Ok(References {
        ok: ok?,
        wrong: wrong?,
    })
}
