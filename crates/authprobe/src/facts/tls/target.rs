//! Which endpoint the TLS facts describe, and the name its certificate must carry.

use rustls::pki_types::ServerName;
use std::net::IpAddr;
use url::Url;

/// An endpoint to probe, and the name its certificate must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsTarget {
    pub host: String,
    pub port: u16,
    /// Sent as SNI, and the name the certificate is checked against. `None` when the
    /// host is an IP address and no `--sni` was given: TLS forbids IP literals in SNI,
    /// and the certificate is then checked for the address.
    pub sni: Option<String>,
}

impl TlsTarget {
    pub fn from_url(u: &Url) -> Option<Self> {
        let host = match u.host()? {
            url::Host::Domain(d) => d.to_string(),
            url::Host::Ipv4(a) => a.to_string(),
            url::Host::Ipv6(a) => a.to_string(),
        };
        let port = u.port_or_known_default()?;
        let sni = host.parse::<IpAddr>().is_err().then(|| host.clone());
        Some(Self { host, port, sni })
    }

    /// `HOST:PORT`, `HOST` (port 443), `[V6]:PORT` or an `https://` URL.
    pub fn parse(spec: &str, sni: Option<String>) -> Result<Self, String> {
        let mut t = if spec.contains("://") {
            let u = Url::parse(spec).map_err(|e| format!("{spec:?} is not a valid URL: {e}"))?;
            Self::from_url(&u).ok_or_else(|| format!("{spec:?} has no host"))?
        } else {
            let (host, port) = if let Some(rest) = spec.strip_prefix('[') {
                let (h, p) = rest
                    .split_once(']')
                    .ok_or_else(|| format!("{spec:?}: unclosed [ in an IPv6 address"))?;
                (h.to_string(), p.strip_prefix(':'))
            } else if spec.matches(':').count() > 1 {
                (spec.to_string(), None) // a bare IPv6 address
            } else {
                match spec.split_once(':') {
                    Some((h, p)) => (h.to_string(), Some(p)),
                    None => (spec.to_string(), None),
                }
            };
            let port = match port {
                Some(p) => p
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("{spec:?}: {p:?} is not a port number"))?,
                None => 443,
            };
            if host.is_empty() {
                return Err(format!("{spec:?} has no host"));
            }
            let sni = host.parse::<IpAddr>().is_err().then(|| host.clone());
            Self { host, port, sni }
        };
        if let Some(s) = sni {
            t.sni = Some(s);
        }
        Ok(t)
    }

    pub fn display(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The name the certificate must be valid for.
    pub fn expected_name(&self) -> Option<ServerName<'static>> {
        let name = self.sni.as_deref().unwrap_or(&self.host);
        ServerName::try_from(name.to_string()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        let t = TlsTarget::parse("example.test:8443", None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("example.test", 8443));
        assert_eq!(t.sni.as_deref(), Some("example.test"));
        let t = TlsTarget::parse("127.0.0.1:443", Some("api.test".into())).unwrap();
        assert_eq!(t.sni.as_deref(), Some("api.test"));
        let t = TlsTarget::parse("127.0.0.1", None).unwrap();
        assert_eq!((t.port, t.sni.clone()), (443, None));
        let t = TlsTarget::parse("[::1]:9443", None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9443));
        assert_eq!(t.display(), "[::1]:9443");
        let t = TlsTarget::parse("https://api.test/v1/me", None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("api.test", 443));
        assert!(TlsTarget::parse("host:http", None).is_err());
        assert!(TlsTarget::parse(":443", None).is_err());
    }
}
