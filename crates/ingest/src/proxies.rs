//! Which proxies may be believed about the client address.
//!
//! `X-Forwarded-For` is written by whoever sent the request, so a client can put anything in
//! it. Only when the connection came from a proxy the operator trusts is the header used: the
//! client is then its first untrusted address, read from the right (each trusted proxy appends
//! the address it saw).

use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP address or CIDR block (like 10.0.0.0/8 or fd00::/8)")]
pub struct BadCidr(pub String);

/// A set of trusted proxy networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    blocks: Vec<(IpAddr, u8)>,
}

impl TrustedProxies {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `10.0.0.0/8`, `fd00::/8`, or a single address.
    pub fn add(&mut self, cidr: &str) -> Result<(), BadCidr> {
        let bad = || BadCidr(cidr.to_string());
        let (addr, len) = match cidr.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (cidr, None),
        };
        let ip: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let width = if ip.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(l) => l
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= width)
                .ok_or_else(bad)?,
            None => width,
        };
        self.blocks.push((ip, len));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|&(net, len)| in_block(ip, net, len))
    }

    /// The client address of a request that arrived from `peer` with `forwarded_for`, or `None`
    /// when the header must not be believed (the peer is not trusted, or every hop is).
    pub fn client<'a>(&self, peer: &str, forwarded_for: &'a str) -> Option<&'a str> {
        let peer: IpAddr = peer.parse().ok()?;
        if !self.contains(peer) {
            return None;
        }
        forwarded_for
            .rsplit(',')
            .map(str::trim)
            .find(|hop| hop.parse::<IpAddr>().is_ok_and(|ip| !self.contains(ip)))
    }
}

fn in_block(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    let to_bits = |ip: IpAddr| -> u128 {
        match ip {
            IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
            IpAddr::V6(v6) => u128::from(v6),
        }
    };
    // IPv4 blocks match IPv4 (and IPv4-mapped IPv6) addresses only.
    let ip = match ip {
        IpAddr::V6(v6) if net.is_ipv4() => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => return false,
        },
        other => other,
    };
    if ip.is_ipv4() != net.is_ipv4() {
        return false;
    }
    // IPv4 addresses sit in the top 32 bits, so an IPv4 prefix length counts from the top too.
    let bits = u32::from(len);
    if bits == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - bits);
    to_bits(ip) & mask == to_bits(net) & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let mut t = TrustedProxies::new();
        t.add("10.0.0.0/8").unwrap();
        t.add("::1").unwrap();
        // Behind a trusted proxy: believe the header, skipping trusted hops.
        assert_eq!(
            t.client("10.0.0.2", "203.0.113.7, 10.0.0.5"),
            Some("203.0.113.7")
        );
        assert_eq!(t.client("::1", "192.168.1.15"), Some("192.168.1.15"));
        // A client spoofing the header through a trusted proxy: the proxy appended the real one.
        assert_eq!(
            t.client("10.0.0.2", "1.1.1.1, 198.51.100.9"),
            Some("198.51.100.9")
        );
        // From an untrusted peer the header means nothing.
        assert_eq!(t.client("198.51.100.9", "203.0.113.7"), None);
        // Only trusted hops: no client to name.
        assert_eq!(t.client("10.0.0.2", "10.0.0.3"), None);
        assert_eq!(t.client("10.0.0.2", "-"), None);
    }

    #[test]
    fn blocks_parse_and_match() {
        let mut t = TrustedProxies::new();
        assert!(t.add("10.0.0.0/33").is_err());
        assert!(t.add("proxy.example").is_err());
        t.add("172.16.0.0/12").unwrap();
        t.add("fd00::/8").unwrap();
        assert!(t.contains("172.31.255.255".parse().unwrap()));
        assert!(!t.contains("172.32.0.0".parse().unwrap()));
        assert!(t.contains("fd12::1".parse().unwrap()));
        assert!(t.contains("::ffff:172.16.0.1".parse().unwrap()));
        assert!(!t.contains("fe80::1".parse().unwrap()));
    }
}
