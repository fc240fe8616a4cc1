//! Which of a peer's addresses to dial, and in what order: the one place that decides.

use libp2p::{multiaddr::Protocol, Multiaddr};

use crate::TransportKind;

/// Keep the addresses whose transport is in `preference`, ordered by that preference
/// (stable within one transport), without duplicates.
pub fn dial_plan(addresses: &[Multiaddr], preference: &[TransportKind]) -> Vec<Multiaddr> {
    let mut plan: Vec<(usize, Multiaddr)> = Vec::new();
    for addr in addresses {
        let kind = TransportKind::of(addr);
        if let Some(rank) = preference.iter().position(|k| *k == kind) {
            if !plan.iter().any(|(_, a)| a == addr) {
                plan.push((rank, addr.clone()));
            }
        }
    }
    plan.sort_by_key(|(rank, _)| *rank);
    plan.into_iter().map(|(_, a)| a).collect()
}

/// The peer ID at the end of an address (`/p2p/<id>`), if any.
pub fn peer_id_of(addr: &Multiaddr) -> Option<libp2p::PeerId> {
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => Some(peer),
        _ => None,
    }
}

/// The address with `/p2p/<peer>` appended unless it already ends with a peer ID.
pub fn with_peer_id(addr: Multiaddr, peer: libp2p::PeerId) -> Multiaddr {
    if peer_id_of(&addr).is_some() {
        addr
    } else {
        addr.with(Protocol::P2p(peer))
    }
}

/// [`with_peer_id`] for each address: ready-to-dial addresses of one peer.
pub fn all_with_peer_id(addrs: Vec<Multiaddr>, peer: libp2p::PeerId) -> Vec<Multiaddr> {
    addrs.into_iter().map(|a| with_peer_id(a, peer)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Multiaddr {
        s.parse().unwrap()
    }

    #[test]
    fn orders_by_preference_and_drops_undialable() {
        let addrs = [
            m("/ip4/127.0.0.1/tcp/4001"),
            m("/ip4/127.0.0.1/tcp/4002/ws"),
            m("/ip4/127.0.0.1/udp/4003/webrtc-direct"),
            m("/ip4/127.0.0.1/tcp/4002/ws"),
        ];
        let plan = dial_plan(
            &addrs,
            &[TransportKind::WebrtcDirect, TransportKind::Websocket],
        );
        assert_eq!(plan, vec![addrs[2].clone(), addrs[1].clone()]);
    }

    #[test]
    fn peer_id_is_appended_once() {
        let peer = libp2p::PeerId::random();
        let a = with_peer_id(m("/ip4/127.0.0.1/tcp/1"), peer);
        assert_eq!(peer_id_of(&a), Some(peer));
        assert_eq!(with_peer_id(a.clone(), peer), a);
    }
}
