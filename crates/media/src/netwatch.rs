//! The machine's network addresses, to notice a network change (Wi-Fi to cable, VPN up, a new
//! DHCP lease) during a call: the call's ICE must then restart on the addresses there are now.

use std::collections::BTreeSet;
use std::net::IpAddr;

/// The addresses a call's media could use now: every interface address but loopback,
/// unspecified and link-local ones (as webrtc's candidate gathering skips them). An error
/// from the system gives the empty set.
pub fn usable_addresses() -> BTreeSet<IpAddr> {
    let interfaces = rtc::shared::ifaces::ifaces().unwrap_or_default();
    usable(interfaces.iter().filter_map(|i| i.addr.map(|a| a.ip())))
}

/// The usable ones of `addresses`.
pub fn usable(addresses: impl IntoIterator<Item = IpAddr>) -> BTreeSet<IpAddr> {
    addresses.into_iter().filter(|ip| !ip.is_loopback() && !ip.is_unspecified() && !is_link_local(ip)).collect()
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// What changed between two readings of [`usable_addresses`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkChange {
    /// Addresses that appeared.
    pub added: Vec<IpAddr>,
    /// Addresses that went away.
    pub removed: Vec<IpAddr>,
}

/// The change from `before` to `after`, if there is one.
pub fn change(before: &BTreeSet<IpAddr>, after: &BTreeSet<IpAddr>) -> Option<NetworkChange> {
    let added: Vec<IpAddr> = after.difference(before).copied().collect();
    let removed: Vec<IpAddr> = before.difference(after).copied().collect();
    (!added.is_empty() || !removed.is_empty()).then_some(NetworkChange { added, removed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(list: &[&str]) -> BTreeSet<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn loopback_unspecified_and_link_local_addresses_do_not_count() {
        let all = ["127.0.0.1", "::1", "0.0.0.0", "169.254.3.4", "fe80::1", "192.168.1.20", "2001:db8::7"].map(|s| s.parse().unwrap());
        assert_eq!(usable(all), set(&["192.168.1.20", "2001:db8::7"]));
    }

    #[test]
    fn a_change_lists_what_came_and_what_went() {
        let wifi = set(&["192.168.1.20"]);
        let cable = set(&["10.0.0.5"]);
        assert_eq!(change(&wifi, &wifi), None);
        let c = change(&wifi, &cable).unwrap();
        assert_eq!((c.added, c.removed), (vec!["10.0.0.5".parse::<IpAddr>().unwrap()], vec!["192.168.1.20".parse::<IpAddr>().unwrap()]));
        assert_eq!(change(&BTreeSet::new(), &wifi).unwrap().added.len(), 1, "coming online is a change");
    }
}
