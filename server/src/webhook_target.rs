//! Where a webhook may send: the address is checked when the request is made, not
//! when the webhook is saved, because a name can resolve elsewhere tomorrow.
//!
//! Unless internal receivers are allowed (`FOGHORN_WEBHOOK_ALLOW_PRIVATE`), an
//! address on loopback, a private or shared network, link-local or unique-local is
//! refused: otherwise a webhook (and the error the delivery log shows) would be a
//! probe of the network Foghorn runs in. Cloud metadata services are refused always:
//! no chat server lives there. The request connects only to the addresses that were
//! checked, so a name cannot be re-resolved to another address between check and use.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Addresses of cloud metadata services (AWS, GCP, Azure, OpenStack at the first;
/// Azure's wire server; Alibaba; AWS over IPv6).
const METADATA: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V4(Ipv4Addr::new(168, 63, 129, 16)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
];

/// Why a webhook may not reach `ip`, or `None` if it may.
pub fn refusal(ip: IpAddr, allow_private: bool) -> Option<String> {
    let ip = embedded_v4(ip).map(IpAddr::V4).unwrap_or(ip);
    if METADATA.contains(&ip) {
        return Some(format!("refused: {ip} is a cloud metadata address"));
    }
    if allow_private {
        return None;
    }
    let kind = match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }?;
    Some(format!(
        "refused: {ip} is a {kind} address (set FOGHORN_WEBHOOK_ALLOW_PRIVATE=true to allow internal receivers)"
    ))
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    Some(match () {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_private() => "private",
        _ if ip.is_link_local() => "link-local",
        _ if ip.is_unspecified() || a == 0 => "unspecified",
        // 100.64.0.0/10, shared by carrier-grade NAT and some clouds' internal services.
        _ if a == 100 && (64..128).contains(&b) => "shared (carrier NAT)",
        _ if ip.is_broadcast() || ip.is_multicast() || a >= 240 => "broadcast, multicast or reserved",
        _ => return None,
    })
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(match () {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_unspecified() => "unspecified",
        _ if first & 0xfe00 == 0xfc00 => "unique-local",
        _ if first & 0xffc0 == 0xfe80 => "link-local",
        // fec0::/10: deprecated site-local, still routed inside some networks.
        _ if first & 0xffc0 == 0xfec0 => "site-local",
        _ if ip.is_multicast() => "multicast",
        _ => return None,
    })
}

/// The IPv4 address inside an IPv6 one that reaches it: IPv4-mapped (`::ffff:a.b.c.d`),
/// NAT64 (`64:ff9b::a.b.c.d`) and 6to4 (`2002:AABB:CCDD::`).
fn embedded_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let from = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(from(hi, lo)),
        [0x2002, hi, lo, ..] => Some(from(hi, lo)),
        _ => None,
    }
}

/// The refusal of a URL whose host is written as an address (no lookup happens for it).
pub fn literal_refusal(url: &reqwest::Url, allow_private: bool) -> Option<String> {
    let host = url.host_str()?;
    let ip: IpAddr = host.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    refusal(ip, allow_private)
}

/// A name's addresses were refused.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Resolves a webhook's host name and refuses it if any of its addresses is refused
/// (a name answering with one public and one internal address is not a receiver).
pub struct CheckedResolver {
    pub allow_private: bool,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(why) = addrs.iter().find_map(|a| refusal(a.ip(), allow_private)) {
                return Err(Box::new(Refused(format!("{why}; {host} resolves to it"))) as _);
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The refusal behind a failed request, if that is why it failed.
pub fn refused_by(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused.0.clone());
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::refusal;
    use std::net::IpAddr;

    fn refused(ip: &str, allow_private: bool) -> bool {
        refusal(ip.parse::<IpAddr>().unwrap(), allow_private).is_some()
    }

    #[test]
    fn internal_addresses_are_refused_in_every_spelling() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            assert!(refused(ip, false), "{ip} is let through");
            assert!(!refused(ip, true), "{ip} is refused although internal receivers are allowed");
        }
    }

    #[test]
    fn public_addresses_pass_and_metadata_never_does() {
        for ip in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!refused(ip, false), "{ip} is refused");
        }
        for ip in ["169.254.169.254", "168.63.129.16", "100.100.100.200", "fd00:ec2::254", "::ffff:169.254.169.254"] {
            assert!(refused(ip, false) && refused(ip, true), "{ip} is let through");
        }
    }
}
