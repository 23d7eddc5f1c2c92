//! Requests this server makes to addresses people give it (push endpoints,
//! links to preview): which destinations are allowed, and an HTTP client
//! that only ever connects to an allowed address.
//!
//! A URL from a client must not turn the server into a way in to its own
//! network (SSRF): loopback, private, link-local (cloud metadata at
//! 169.254.169.254), shared (CGNAT), documentation, multicast and reserved
//! ranges are refused, in every spelling — IPv4-mapped and -compatible IPv6,
//! NAT64, 6to4 and Teredo. IP literals are checked once the URL is parsed
//! (the WHATWG rules `url` follows make `https://2130706433/` and
//! `https://0x7f.1/` 127.0.0.1); names are checked by the client's resolver,
//! which hands the connector only the addresses that passed, so a name that
//! resolves elsewhere on the second lookup cannot slip through.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Where outbound requests may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reach {
    /// https on port 443 to public addresses only.
    #[default]
    Public,
    /// Also plain http, any port, and loopback addresses: for tests, which
    /// stand in for internet services on 127.0.0.1. Never in production.
    Loopback,
    /// Public addresses, and the literal address 127.0.0.1 on this one
    /// port: for tests, whose stand-in web sites listen there. Names never
    /// resolve to loopback, and every other loopback address and port
    /// stays refused, so that a test can watch one that must never be
    /// reached.
    LoopbackPort(u16),
}

/// What a destination is for, which decides its schemes and ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A push service: https on 443.
    Push,
    /// A web page or its picture: http on 80 or https on 443, as a browser
    /// would open it without a port in the link.
    Page,
}

/// Names resolved without asking the system, before it is asked: for
/// tests, to stand in for a DNS answer (a name that resolves to a private
/// address). Empty in production.
pub type Hosts = Arc<HashMap<String, Vec<IpAddr>>>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("not a URL")]
    NotAUrl,
    #[error("only https URLs are accepted")]
    NotHttps,
    #[error("only http and https links can be previewed")]
    NotWeb,
    #[error("only the https port (443) is accepted")]
    Port,
    #[error("only links on the usual ports (80 for http, 443 for https) can be previewed")]
    PagePort,
    #[error("a URL with a user name or password is not accepted")]
    Credentials,
    #[error("the URL has no host")]
    NoHost,
    #[error("{0} is not a public internet address")]
    Private(IpAddr),
}

impl Reach {
    /// Checks `text` as a push endpoint: the scheme, the port, and the
    /// host if it is an IP literal. Names are checked when they are
    /// resolved.
    pub fn check(self, text: &str) -> Result<Url, OutboundError> {
        let url = Url::parse(text).map_err(|_| OutboundError::NotAUrl)?;
        self.check_url(url, Purpose::Push)
    }

    /// Checks an already parsed `url` as a destination for `purpose`.
    pub fn check_url(self, url: Url, purpose: Purpose) -> Result<Url, OutboundError> {
        let loopback = self == Reach::Loopback;
        match (purpose, url.scheme()) {
            (Purpose::Push, "https") | (Purpose::Page, "https" | "http") => {}
            (Purpose::Push, "http") if loopback => {}
            (Purpose::Push, _) => return Err(OutboundError::NotHttps),
            (Purpose::Page, _) => return Err(OutboundError::NotWeb),
        }
        let port = url.port_or_known_default();
        let test_port = self.test_port().is_some() && port == self.test_port();
        match purpose {
            _ if loopback || test_port => {}
            Purpose::Push if url.port().is_some_and(|port| port != 443) => {
                return Err(OutboundError::Port)
            }
            Purpose::Page
                if !matches!(
                    (url.scheme(), port),
                    ("http", Some(80)) | ("https", Some(443))
                ) =>
            {
                return Err(OutboundError::PagePort)
            }
            _ => {}
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(OutboundError::Credentials);
        }
        let ip = match url.host().ok_or(OutboundError::NoHost)? {
            url::Host::Domain(_) => return Ok(url),
            url::Host::Ipv4(ip) => IpAddr::V4(ip),
            url::Host::Ipv6(ip) => IpAddr::V6(ip),
        };
        if self.allows(ip) || (test_port && ip == IpAddr::V4(Ipv4Addr::LOCALHOST)) {
            Ok(url)
        } else {
            Err(OutboundError::Private(ip))
        }
    }

    fn test_port(self) -> Option<u16> {
        match self {
            Reach::LoopbackPort(port) => Some(port),
            _ => None,
        }
    }

    /// Whether this server may connect to `ip`.
    pub fn allows(self, ip: IpAddr) -> bool {
        is_public(ip) || (self == Reach::Loopback && ip.is_loopback())
    }

    /// An HTTP client for these destinations: no proxy (it would connect
    /// for us, unchecked), no redirects of its own (a caller that follows
    /// them checks each hop, as [`crate::links::fetch`] does), names
    /// resolved through
    /// [`CheckedResolver`], and every request bounded by `timeout`.
    pub fn client(self, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
        self.client_resolving(timeout, Hosts::default())
    }

    /// [`Reach::client`], with `hosts` answered before the system's
    /// resolver is asked (and checked all the same).
    pub fn client_resolving(
        self,
        timeout: Duration,
        hosts: Hosts,
    ) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(CheckedResolver { reach: self, hosts }))
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("natter-server/", env!("CARGO_PKG_VERSION")))
            .build()
    }
}

/// Resolves names with the system's resolver and keeps only the addresses
/// [`Reach::allows`]; none left is an error, so nothing is connected to.
struct CheckedResolver {
    reach: Reach,
    hosts: Hosts,
}

#[derive(Debug, thiserror::Error)]
#[error("{0} has no public internet address")]
struct NoPublicAddress(String);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.reach;
        let known = self.hosts.get(name.as_str()).cloned();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = match known {
                Some(ips) => ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| reach.allows(addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(
                    Box::new(NoPublicAddress(host)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is an ordinary address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224; // multicast, reserved, broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        // IPv4-compatible (::/96) and -mapped (::ffff:0:0/96): an IPv4
        // address in disguise, refused whatever it is.
        || segments[..5] == [0; 5]
        // IPv4-translated (::ffff:0:0/96).
        || segments[..4] == [0; 4] && segments[4] == 0xffff && segments[5] == 0
        || segments[0] == 0x0064 && segments[1] == 0xff9b // NAT64 (64:ff9b::/96, 64:ff9b:1::/48)
        || segments[..4] == [0x0100, 0, 0, 0] // discard-only
        || segments[0] == 0x2001 && segments[1] < 0x0200 // IETF assignments, Teredo
        || segments[0] == 0x2001 && segments[1] == 0x0db8 // documentation
        || segments[0] == 0x2002 // 6to4
        || segments[0] & 0xfff0 == 0x3ff0 // documentation (3fff::/20)
        || segments[0] & 0xfe00 == 0xfc00 // unique local
        || segments[0] & 0xffc0 == 0xfe80 // link-local
        || segments[0] & 0xffc0 == 0xfec0 // site-local (deprecated)
        || segments[0] & 0xff00 == 0xff00; // multicast
    !refused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> bool {
        Reach::Public.check(url).is_err()
    }

    #[test]
    fn private_and_reserved_addresses_are_refused_in_every_spelling() {
        for url in [
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://017700000001/",
            "https://0/",
            "https://10.1.2.3/",
            "https://100.64.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://192.0.0.8/",
            "https://192.0.2.1/",
            "https://198.18.0.1/",
            "https://198.51.100.1/",
            "https://203.0.113.9/",
            "https://224.0.0.1/",
            "https://240.0.0.1/",
            "https://255.255.255.255/",
            "https://[::1]/",
            "https://[::]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[::ffff:0:7f00:1]/",
            "https://[::127.0.0.1]/",
            "https://[64:ff9b::7f00:1]/",
            "https://[64:ff9b:1::1]/",
            "https://[2001::1]/",
            "https://[2001:db8::1]/",
            "https://[2002:7f00:1::]/",
            "https://[3fff::1]/",
            "https://[fc00::1]/",
            "https://[fd12:3456::1]/",
            "https://[fe80::1]/",
            "https://[fec0::1]/",
            "https://[ff02::1]/",
            "https://[100::1]/",
        ] {
            assert!(refused(url), "{url} must be refused");
        }
    }

    #[test]
    fn public_https_on_its_port_is_allowed() {
        for url in [
            "https://fcm.googleapis.com/fcm/send/abc",
            "https://updates.push.services.mozilla.com/wpush/v2/x",
            "https://8.8.8.8/",
            "https://[2606:4700::1111]/",
            "https://push.example:443/x",
        ] {
            assert!(Reach::Public.check(url).is_ok(), "{url} must be allowed");
        }
    }

    #[test]
    fn other_schemes_ports_and_credentials_are_refused() {
        assert_eq!(
            Reach::Public.check("http://push.example/"),
            Err(OutboundError::NotHttps)
        );
        assert_eq!(
            Reach::Public.check("file:///etc/passwd"),
            Err(OutboundError::NotHttps)
        );
        assert_eq!(
            Reach::Public.check("https://push.example:8443/"),
            Err(OutboundError::Port)
        );
        assert_eq!(
            Reach::Public.check("https://me:pw@push.example/"),
            Err(OutboundError::Credentials)
        );
        assert_eq!(
            Reach::Public.check("not a url"),
            Err(OutboundError::NotAUrl)
        );
    }

    #[test]
    fn the_test_setting_allows_loopback_and_nothing_else_private() {
        assert!(Reach::Loopback.check("http://127.0.0.1:9000/push").is_ok());
        assert!(Reach::Loopback.check("http://[::1]:9000/push").is_ok());
        assert!(Reach::Loopback.check("http://10.0.0.1/").is_err());
        assert!(Reach::Loopback.check("http://169.254.169.254/").is_err());
    }

    fn page(reach: Reach, text: &str) -> Result<Url, OutboundError> {
        reach.check_url(Url::parse(text).expect("a URL"), Purpose::Page)
    }

    #[test]
    fn pages_are_http_or_https_on_their_usual_ports() {
        for url in [
            "http://example.org/a",
            "https://example.org/",
            "http://example.org:80/",
        ] {
            assert!(page(Reach::Public, url).is_ok(), "{url} must be allowed");
        }
        assert_eq!(
            page(Reach::Public, "http://example.org:443/"),
            Err(OutboundError::PagePort)
        );
        assert_eq!(
            page(Reach::Public, "https://example.org:8443/"),
            Err(OutboundError::PagePort)
        );
        assert_eq!(
            page(Reach::Public, "ftp://example.org/"),
            Err(OutboundError::NotWeb)
        );
        assert_eq!(
            page(Reach::Public, "javascript:alert(1)"),
            Err(OutboundError::NotWeb)
        );
        assert_eq!(
            page(Reach::Public, "https://user@example.org/"),
            Err(OutboundError::Credentials)
        );
        for url in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/",
        ] {
            assert!(
                matches!(page(Reach::Public, url), Err(OutboundError::Private(_))),
                "{url} must be refused as private"
            );
        }
    }

    #[test]
    fn the_test_port_opens_127_0_0_1_on_that_port_only() {
        let reach = Reach::LoopbackPort(8123);
        assert!(page(reach, "http://127.0.0.1:8123/").is_ok());
        assert_eq!(
            page(reach, "http://127.0.0.1:8124/"),
            Err(OutboundError::PagePort)
        );
        assert!(matches!(
            page(reach, "http://127.0.0.1/"),
            Err(OutboundError::Private(_))
        ));
        assert!(matches!(
            page(reach, "http://127.0.0.2:8123/"),
            Err(OutboundError::Private(_))
        ));
        assert!(matches!(
            page(reach, "http://[::1]:8123/"),
            Err(OutboundError::Private(_))
        ));
        assert!(reach.check("http://127.0.0.1:8123/push").is_err());
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_never_connected_to() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = Reach::Public.client(Duration::from_secs(5)).unwrap();
        // `localhost` passes the URL check (a name) and fails at resolution.
        let err = client
            .get(format!("https://localhost:{port}/"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err}");
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err(), "nothing connected to the listener");
    }
}
