//! A whole-endpoint scan and its serializable result.

use crate::error::Error;
use crate::msgs::enums::{NamedGroup, TlsVersion};
use crate::msgs::handshake::{ServerKeyExchange, distinguished_name_text};
use crate::probe::{ProbeOptions, Prober, ServerFlight};
use crate::suites::{self, KeyExchange};
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::net::SocketAddr;
use std::time::Instant;

/// DER bytes, serialized as standard base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Der(pub Vec<u8>);

impl Serialize for Der {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Der {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map(Der)
            .map_err(serde::de::Error::custom)
    }
}

/// A suite code as "0xc02f", the form IANA's registry and the scanner's report print.
mod hex_code {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(code: &u16, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{code:04x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        let text = String::deserialize(d)?;
        text.strip_prefix("0x")
            .and_then(|h| u16::from_str_radix(h, 16).ok())
            .ok_or_else(|| D::Error::custom(format!("{text:?} is not a suite code like 0xc02f")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteReport {
    #[serde(with = "hex_code")]
    pub code: u16,
    /// IANA name, or the hex code for a suite outside the table.
    pub name: String,
    pub openssl_name: Option<String>,
    pub weak: bool,
    pub forward_secrecy: bool,
    pub aead: bool,
}

impl SuiteReport {
    pub fn from_code(code: u16) -> Self {
        match suites::by_code(code) {
            Some(s) => SuiteReport {
                code,
                name: s.iana_name.to_owned(),
                openssl_name: s.openssl_name.map(str::to_owned),
                weak: s.is_weak(),
                forward_secrecy: s.has_forward_secrecy(),
                aead: s.is_aead(),
            },
            None => SuiteReport {
                code,
                name: format!("0x{code:04x}"),
                openssl_name: None,
                weak: false,
                forward_secrecy: false,
                aead: false,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupReport {
    pub code: u16,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolReport {
    pub version: TlsVersion,
    pub accepted: bool,
    /// In the order the server picked them: its preference order when
    /// `server_enforces_order` is true, ours otherwise.
    pub suites: Vec<SuiteReport>,
    /// `None` with fewer than two suites, or when the test was inconclusive.
    pub server_enforces_order: Option<bool>,
    /// Key-exchange groups (probed for TLS 1.2 and 1.3 only).
    pub groups: Vec<GroupReport>,
}

/// The server asked for a client certificate (TLS <= 1.2 CertificateRequest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAuthRequest {
    pub version: TlsVersion,
    pub certificate_types: Vec<u8>,
    pub signature_schemes: Vec<u16>,
    /// The acceptable CA names as text; `None` entries were not valid DER Names.
    pub ca_names: Vec<Option<String>>,
    pub ca_names_der: Vec<Der>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanReport {
    pub target: SocketAddr,
    pub server_name: Option<String>,
    pub protocols: Vec<ProtocolReport>,
    /// Leaf first, from a TLS <= 1.2 Certificate message; empty for a
    /// TLS 1.3-only server (fetch it with a real TLS client).
    pub certificate_chain: Vec<Der>,
    pub chain_version: Option<TlsVersion>,
    pub client_auth: Option<ClientAuthRequest>,
    /// Size of the DHE prime, when a DHE suite is accepted under TLS <= 1.2.
    pub dh_prime_bits: Option<u32>,
    /// ClientHellos sent (one connection each).
    pub handshakes: u32,
    pub duration_ms: u64,
    /// Probe steps that failed; the rest of the report still stands.
    pub errors: Vec<String>,
}

/// A finding in the `tls.*` catalog, derived from the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsIssue {
    pub id: &'static str,
    pub detail: String,
}

impl ScanReport {
    pub fn protocol(&self, v: TlsVersion) -> Option<&ProtocolReport> {
        self.protocols.iter().find(|p| p.version == v)
    }

    pub fn accepted_versions(&self) -> Vec<TlsVersion> {
        self.protocols
            .iter()
            .filter(|p| p.accepted)
            .map(|p| p.version)
            .collect()
    }

    /// Accepted suites over all protocols, each once, in first-seen order.
    pub fn all_suites(&self) -> Vec<&SuiteReport> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for s in self.protocols.iter().flat_map(|p| &p.suites) {
            if !seen.contains(&s.code) {
                seen.push(s.code);
                out.push(s);
            }
        }
        out
    }

    /// Whether any ClientHello got a ServerHello back.
    pub fn speaks_tls(&self) -> bool {
        self.protocols.iter().any(|p| p.accepted)
    }

    /// Accepted versions older than TLS 1.2 (`tls.legacy_protocol`), oldest first.
    pub fn legacy_protocols(&self) -> Vec<&ProtocolReport> {
        self.protocols
            .iter()
            .filter(|p| p.accepted && p.version.is_legacy())
            .collect()
    }

    /// TLS 1.3 was probed and refused by a server that speaks an older version
    /// (`tls.no_tls13`); a server that speaks no TLS at all lacks nothing in particular.
    pub fn refuses_tls13(&self) -> bool {
        self.speaks_tls()
            && self
                .protocol(TlsVersion::Tls13)
                .is_some_and(|p| !p.accepted)
    }

    /// Maps the report onto catalog ids `tls.legacy_protocol`,
    /// `tls.weak_cipher`, `tls.no_forward_secrecy` and `tls.no_tls13`.
    pub fn issues(&self) -> Vec<TlsIssue> {
        let mut out = Vec::new();
        let legacy: Vec<&str> = self
            .legacy_protocols()
            .into_iter()
            .map(|p| p.version.name())
            .collect();
        if !legacy.is_empty() {
            out.push(TlsIssue {
                id: "tls.legacy_protocol",
                detail: format!("offered: {}", legacy.join(", ")),
            });
        }
        let names = |pred: &dyn Fn(&SuiteReport) -> bool| -> Vec<String> {
            self.all_suites()
                .into_iter()
                .filter(|s| pred(s))
                .map(|s| s.name.clone())
                .collect()
        };
        let weak = names(&|s| s.weak);
        if !weak.is_empty() {
            out.push(TlsIssue {
                id: "tls.weak_cipher",
                detail: format!("{} weak suites: {}", weak.len(), weak.join(", ")),
            });
        }
        let no_fs = names(&|s| !s.forward_secrecy);
        if !no_fs.is_empty() {
            out.push(TlsIssue {
                id: "tls.no_forward_secrecy",
                detail: format!(
                    "{} suites without (EC)DHE: {}",
                    no_fs.len(),
                    no_fs.join(", ")
                ),
            });
        }
        if self.refuses_tls13() {
            out.push(TlsIssue {
                id: "tls.no_tls13",
                detail: "TLS 1.3 is not offered".into(),
            });
        }
        out
    }
}

impl Prober {
    /// Probes every version in the options concurrently (connections capped
    /// by the limiter), then fetches the certificate chain, any client
    /// certificate request and the DH size from the best TLS <= 1.2 version.
    pub async fn scan(&self) -> ScanReport {
        let start = Instant::now();
        let wanted = |v: TlsVersion| self.options().versions.contains(&v);
        let run = |v: TlsVersion| async move {
            if wanted(v) {
                Some(self.scan_version(v).await)
            } else {
                None
            }
        };
        let (a, b, c, d, e) = tokio::join!(
            run(TlsVersion::Ssl3),
            run(TlsVersion::Tls10),
            run(TlsVersion::Tls11),
            run(TlsVersion::Tls12),
            run(TlsVersion::Tls13),
        );
        let mut protocols = Vec::new();
        let mut errors = Vec::new();
        for (report, errs) in [a, b, c, d, e].into_iter().flatten() {
            protocols.push(report);
            errors.extend(errs);
        }

        let mut report = ScanReport {
            target: self.addr(),
            server_name: self.server_name().map(str::to_owned),
            protocols,
            certificate_chain: Vec::new(),
            chain_version: None,
            client_auth: None,
            dh_prime_bits: None,
            handshakes: 0,
            duration_ms: 0,
            errors,
        };

        let best_legacy = report
            .protocols
            .iter()
            .filter(|p| p.accepted && p.version <= TlsVersion::Tls12)
            .max_by_key(|p| p.version)
            .map(|p| {
                (
                    p.version,
                    p.suites.iter().map(|s| s.code).collect::<Vec<_>>(),
                )
            });
        if let Some((version, codes)) = best_legacy {
            self.fill_from_flight(&mut report, version, &codes).await;
        }

        report.handshakes = self.handshakes();
        report.duration_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        report
    }

    async fn fill_from_flight(&self, report: &mut ScanReport, version: TlsVersion, codes: &[u16]) {
        let is_dhe =
            |c: &u16| suites::by_code(*c).is_some_and(|s| s.key_exchange == KeyExchange::Dhe);
        // Authenticated suites first: anonymous ones would yield no chain.
        let (mut ordered, weak): (Vec<u16>, Vec<u16>) = codes
            .iter()
            .partition(|c| suites::by_code(**c).is_none_or(|s| !s.is_weak()));
        ordered.extend(weak);

        let mut dh_done = false;
        match self.fetch_flight(version, &ordered).await {
            Ok(Some(flight)) => {
                dh_done = self.record_flight(report, version, &flight);
            }
            Ok(None) => {}
            Err(e) => report
                .errors
                .push(format!("{version} certificate flight: {e}")),
        }
        let dhe: Vec<u16> = codes.iter().copied().filter(is_dhe).collect();
        if !dh_done && !dhe.is_empty() {
            match self.fetch_flight(version, &dhe).await {
                Ok(Some(ServerFlight {
                    key_exchange: Some(ServerKeyExchange::Dhe { prime_bits, .. }),
                    ..
                })) => report.dh_prime_bits = Some(prime_bits),
                Ok(_) => {}
                Err(e) => report.errors.push(format!("{version} DHE parameters: {e}")),
            }
        }
    }

    /// Returns whether the flight already told us the DH prime size.
    fn record_flight(
        &self,
        report: &mut ScanReport,
        version: TlsVersion,
        f: &ServerFlight,
    ) -> bool {
        if let Some(chain) = &f.certificates {
            report.certificate_chain = chain.iter().cloned().map(Der).collect();
            report.chain_version = Some(version);
        }
        if let Some(cr) = &f.certificate_request {
            report.client_auth = Some(ClientAuthRequest {
                version,
                certificate_types: cr.certificate_types.clone(),
                signature_schemes: cr.signature_schemes.iter().map(|s| s.0).collect(),
                ca_names: cr
                    .ca_names
                    .iter()
                    .map(|d| distinguished_name_text(d))
                    .collect(),
                ca_names_der: cr.ca_names.iter().cloned().map(Der).collect(),
            });
        }
        if let Some(ServerKeyExchange::Dhe { prime_bits, .. }) = f.key_exchange {
            report.dh_prime_bits = Some(prime_bits);
            return true;
        }
        false
    }

    async fn scan_version(&self, version: TlsVersion) -> (ProtocolReport, Vec<String>) {
        let mut errors = Vec::new();
        let mut note = |what: &str, e: Error| errors.push(format!("{version} {what}: {e}"));

        let candidates = suites::codes_for(version);
        let found = self.enumerate_suites_inner(version, &candidates).await;
        let mut accepted = found.found;
        if let Some(e) = found.error {
            note("suite enumeration", e);
        }

        // With one bundle, the first elimination answer is the server's pick
        // from `accepted` in this very order.
        let forward_pick = (found.bundles_with_hits == 1)
            .then(|| accepted.first().copied())
            .flatten();
        let enforces = match self
            .server_preference_inner(version, &accepted, forward_pick)
            .await
        {
            Ok(x) => x,
            Err(e) => {
                note("server preference", e);
                None
            }
        };
        // Across bundles the order of discovery is not the server's order:
        // re-rank the accepted suites in one bundle.
        if enforces == Some(true) && found.bundles_with_hits > 1 {
            let reranked = self.enumerate_suites_inner(version, &accepted).await;
            if reranked.error.is_none() && reranked.found.len() == accepted.len() {
                accepted = reranked.found;
            } else if let Some(e) = reranked.error {
                note("re-ranking", e);
            }
        }

        let mut groups = Vec::new();
        if !accepted.is_empty() && version >= TlsVersion::Tls12 {
            let candidates = if version == TlsVersion::Tls13 {
                NamedGroup::tls13_candidates()
            } else {
                NamedGroup::tls12_candidates()
            };
            let e = self
                .enumerate_groups_inner(version, &accepted, &candidates)
                .await;
            groups = e.found;
            if let Some(err) = e.error {
                note("group enumeration", err);
            }
        }

        let report = ProtocolReport {
            version,
            accepted: !accepted.is_empty(),
            suites: accepted.into_iter().map(SuiteReport::from_code).collect(),
            server_enforces_order: enforces,
            groups: groups
                .into_iter()
                .map(|g| GroupReport {
                    code: g,
                    name: NamedGroup(g).to_string(),
                })
                .collect(),
        };
        (report, errors)
    }
}

/// Scans `addr` with default-constructed state; see [`Prober::scan`].
pub async fn scan(addr: SocketAddr, server_name: Option<&str>, opts: ProbeOptions) -> ScanReport {
    Prober::new(addr, server_name, opts).scan().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_codes_travel_as_iana_hex() {
        let s = SuiteReport::from_code(0xc02f);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["code"], "0xc02f");
        assert_eq!(serde_json::from_value::<SuiteReport>(json).unwrap(), s);
        let bad = serde_json::json!({"code": 49199, "name": "x", "openssl_name": null,
            "weak": false, "forward_secrecy": false, "aead": false});
        assert!(serde_json::from_value::<SuiteReport>(bad).is_err());
    }

    #[test]
    fn legacy_and_tls13_verdicts_need_an_accepted_version() {
        let p = |version, accepted| ProtocolReport {
            version,
            accepted,
            suites: Vec::new(),
            server_enforces_order: None,
            groups: Vec::new(),
        };
        let mut r = ScanReport {
            target: "127.0.0.1:443".parse().unwrap(),
            server_name: None,
            protocols: vec![p(TlsVersion::Tls10, false), p(TlsVersion::Tls13, false)],
            certificate_chain: Vec::new(),
            chain_version: None,
            client_auth: None,
            dh_prime_bits: None,
            handshakes: 0,
            duration_ms: 0,
            errors: Vec::new(),
        };
        // Nothing answered: no TLS at all is not "lacks TLS 1.3".
        assert!(!r.refuses_tls13());
        assert!(r.legacy_protocols().is_empty());
        r.protocols[0].accepted = true;
        assert!(r.refuses_tls13());
        assert_eq!(r.legacy_protocols().len(), 1);
    }
}
