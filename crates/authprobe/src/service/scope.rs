//! What a server that scans on request may scan. An API that launches scans is an SSRF
//! engine: whoever holds a key could point it at the metadata service or the intranet. So
//! a target must be named by the administrator (`--allow-target HOST|CIDR`), loopback only
//! by default, and a name is judged by every address it resolves to, not by its spelling.

use ipnet::IpNet;
use std::net::IpAddr;
use std::time::Duration;
use url::Url;

/// How long a name may take to resolve before the target is refused.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct Scope {
    /// Host names allowed by name, lower case; `*.example.com` allows subdomains.
    hosts: Vec<String>,
    nets: Vec<IpNet>,
    /// Who sets the scope, for the refusal to name the setting to change.
    owner: Owner,
}

/// Where a scope comes from: a refusal says how to widen it there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    /// `authprobe serve --allow-target`.
    Serve,
    /// `authprobe mcp`: its `--allow-target` flags and the `allow_targets` list of its
    /// configuration file (the path, when one was read).
    Mcp { config: Option<String> },
}

impl Owner {
    fn how(&self, suggest: &str) -> String {
        match self {
            Owner::Serve => format!(
                "an administrator can allow it with `authprobe serve --allow-target {suggest}`"
            ),
            Owner::Mcp { config } => format!(
                "the user can allow it by adding `{suggest}` to `allow_targets` in {} or by starting the server with `authprobe mcp --allow-target {suggest}`; a tool call cannot change the scope",
                config
                    .as_deref()
                    .unwrap_or("the MCP configuration file (--config)")
            ),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScopeError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{host} is outside this server's scan scope{resolved}; {how} (a host name or a CIDR, repeatable; the default is loopback only)"
    )]
    Outside {
        host: String,
        resolved: String,
        suggest: String,
        how: String,
    },
    #[error("{host} does not resolve: {reason}")]
    Unresolved { host: String, reason: String },
}

impl Default for Scope {
    fn default() -> Self {
        Scope::parse(&[]).expect("loopback scope")
    }
}

impl Scope {
    /// `--allow-target` values: IP addresses, CIDRs or host names. None given: loopback.
    pub fn parse(items: &[String]) -> Result<Scope, String> {
        let mut scope = Scope {
            hosts: Vec::new(),
            nets: Vec::new(),
            owner: Owner::Serve,
        };
        if items.is_empty() {
            scope.nets = vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
            scope.hosts.push("localhost".into());
            return Ok(scope);
        }
        for raw in items {
            let item = raw.trim();
            if let Ok(net) = item.parse::<IpNet>() {
                scope.nets.push(net);
            } else if let Ok(ip) = item.parse::<IpAddr>() {
                scope.nets.push(IpNet::from(ip));
            } else if is_host_pattern(item) {
                scope.hosts.push(item.to_ascii_lowercase());
            } else {
                return Err(format!(
                    "--allow-target {raw:?} is neither an IP address, a CIDR (10.0.0.0/8) nor a host name (api.example.com, *.example.com)"
                ));
            }
        }
        Ok(scope)
    }

    /// The same scope, set by `owner`: refusals name its setting.
    pub fn owned_by(mut self, owner: Owner) -> Self {
        self.owner = owner;
        self
    }

    /// What the scope allows, for the start-up line.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.nets.iter().map(ToString::to_string).collect();
        parts.extend(self.hosts.iter().cloned());
        parts.join(", ")
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|h| match h.strip_prefix("*.") {
            Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
            None => *h == host,
        })
    }

    fn ip_allowed(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// Whether `url` may be scanned: an http(s) URL whose host is allowed by name, or whose
    /// every resolved address is inside an allowed network.
    pub async fn check(&self, url: &Url) -> Result<(), ScopeError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ScopeError::Invalid(format!(
                "{url} is not an http:// or https:// URL"
            )));
        }
        let Some(host) = url.host() else {
            return Err(ScopeError::Invalid(format!("{url} has no host")));
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let shown = url.host_str().unwrap_or_default().to_string();
        let addrs: Vec<IpAddr> = match host {
            url::Host::Ipv4(ip) => vec![IpAddr::V4(ip)],
            url::Host::Ipv6(ip) => vec![IpAddr::V6(ip)],
            url::Host::Domain(name) => {
                if self.host_allowed(name) {
                    return Ok(());
                }
                let lookup = tokio::net::lookup_host((name, port));
                match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
                    Ok(Ok(it)) => it.map(|a| a.ip()).collect(),
                    Ok(Err(e)) => {
                        return Err(ScopeError::Unresolved {
                            host: shown,
                            reason: e.to_string(),
                        });
                    }
                    Err(_) => {
                        return Err(ScopeError::Unresolved {
                            host: shown,
                            reason: format!("no answer within {}s", RESOLVE_TIMEOUT.as_secs()),
                        });
                    }
                }
            }
        };
        self.judge(shown, matches!(host, url::Host::Domain(_)), &addrs)
    }

    /// The verdict on `host` (a name when `is_name`) from the addresses it resolved to.
    fn judge(&self, shown: String, is_name: bool, addrs: &[IpAddr]) -> Result<(), ScopeError> {
        if addrs.is_empty() {
            return Err(ScopeError::Unresolved {
                host: shown,
                reason: "no address".into(),
            });
        }
        let outside: Vec<IpAddr> = addrs
            .iter()
            .copied()
            .filter(|a| !self.ip_allowed(*a))
            .collect();
        if outside.is_empty() {
            return Ok(());
        }
        let list = |v: &[IpAddr]| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let suggest = if is_name {
            shown.clone()
        } else {
            list(&outside[..1])
        };
        Err(ScopeError::Outside {
            host: shown,
            resolved: if is_name {
                format!(" (it resolves to {})", list(addrs))
            } else {
                String::new()
            },
            how: self.owner.how(&suggest),
            suggest,
        })
    }
}

/// The scope judges every connection a scan opens, on the addresses it is opened to.
impl crate::http::AddressGuard for Scope {
    fn allow(&self, host: &str, addrs: &[IpAddr]) -> Result<(), String> {
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let is_name = literal.parse::<IpAddr>().is_err();
        if is_name && self.host_allowed(literal) {
            return Ok(());
        }
        self.judge(literal.to_string(), is_name, addrs)
            .map_err(|e| e.to_string())
    }
}

/// An IPv4-mapped IPv6 address is the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_host_pattern(s: &str) -> bool {
    let name = s.strip_prefix("*.").unwrap_or(s);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[tokio::test]
    async fn loopback_only_by_default() {
        let s = Scope::default();
        assert!(s.check(&url("http://127.0.0.1:8080/x")).await.is_ok());
        assert!(s.check(&url("https://[::1]/x")).await.is_ok());
        assert!(s.check(&url("http://localhost:1/")).await.is_ok());
        let e = s.check(&url("http://10.0.0.5/")).await.unwrap_err();
        assert!(e.to_string().contains("--allow-target 10.0.0.5"), "{e}");
        let e = s
            .check(&url("http://169.254.169.254/latest/meta-data"))
            .await
            .unwrap_err();
        assert!(matches!(e, ScopeError::Outside { .. }));
        // The IPv4-mapped form of an outside address is outside too.
        assert!(s.check(&url("http://[::ffff:10.0.0.5]/")).await.is_err());
        assert!(s.check(&url("http://[::ffff:127.0.0.1]/")).await.is_ok());
    }

    #[tokio::test]
    async fn cidrs_hosts_and_wildcards() {
        let s = Scope::parse(&[
            "10.0.0.0/8".into(),
            "*.example.test".into(),
            "api.other.test".into(),
        ])
        .unwrap();
        assert!(s.check(&url("http://10.1.2.3/")).await.is_ok());
        assert!(s.check(&url("http://a.example.test/")).await.is_ok());
        assert!(s.check(&url("http://API.OTHER.TEST./")).await.is_ok());
        // The wildcard does not cover the bare domain or a look-alike.
        assert!(!s.host_allowed("example.test"));
        assert!(!s.host_allowed("evilexample.test"));
        // Loopback is no longer in scope once the administrator names the scope.
        assert!(s.check(&url("http://127.0.0.1/")).await.is_err());
    }

    #[tokio::test]
    async fn a_name_is_judged_by_what_it_resolves_to() {
        // `localhost` resolves to loopback; allowing 10/8 only must refuse it and say why.
        let s = Scope::parse(&["10.0.0.0/8".into()]).unwrap();
        let e = s.check(&url("http://localhost:9/")).await.unwrap_err();
        assert!(e.to_string().contains("resolves to"), "{e}");
        assert!(e.to_string().contains("--allow-target localhost"), "{e}");
    }

    #[test]
    fn a_name_resolving_to_one_private_address_outside_is_refused() {
        // What an injected prompt would try: a harmless-looking name that points inside.
        let s = Scope::parse(&["203.0.113.0/24".into()])
            .unwrap()
            .owned_by(Owner::Mcp {
                config: Some("/home/me/mcp.yaml".into()),
            });
        let inside: IpAddr = "203.0.113.7".parse().unwrap();
        let private: IpAddr = "10.0.0.5".parse().unwrap();
        assert!(s.judge("api.example.test".into(), true, &[inside]).is_ok());
        let e = s
            .judge("api.example.test".into(), true, &[inside, private])
            .unwrap_err()
            .to_string();
        assert!(e.contains("resolves to 203.0.113.7, 10.0.0.5"), "{e}");
        assert!(e.contains("`allow_targets` in /home/me/mcp.yaml"), "{e}");
        assert!(e.contains("a tool call cannot change the scope"), "{e}");
    }

    #[tokio::test]
    async fn junk_is_refused() {
        assert!(Scope::parse(&["not a host!".into()]).is_err());
        assert!(Scope::parse(&["-bad.example".into()]).is_err());
        let s = Scope::default();
        assert!(matches!(
            s.check(&url("ftp://127.0.0.1/")).await,
            Err(ScopeError::Invalid(_))
        ));
        assert!(matches!(
            s.check(&url("http://no-such-host.invalid/")).await,
            Err(ScopeError::Unresolved { .. } | ScopeError::Outside { .. })
        ));
    }
}
