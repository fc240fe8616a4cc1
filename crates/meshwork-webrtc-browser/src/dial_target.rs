//! What a WebRTC-direct address tells the dialer: where to send STUN, which certificate to
//! expect, and (optionally) which peer.

use std::net::SocketAddr;

use libp2p::{multiaddr::Protocol, Multiaddr, PeerId};
use libp2p_webrtc_utils::{parse_webrtc_dial_addr, Fingerprint};

/// A parsed `/ip4|ip6/…/udp/…/webrtc-direct/certhash/…[/p2p/…]` address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DialTarget {
    /// The listener's UDP socket.
    pub(crate) socket: SocketAddr,
    /// The sha-256 fingerprint of the listener's DTLS certificate (the `/certhash`).
    pub(crate) fingerprint: Fingerprint,
    /// The listener's peer id, when the address names one.
    pub(crate) peer_id: Option<PeerId>,
}

impl DialTarget {
    /// Parses a dialable WebRTC-direct address.
    ///
    /// Returns `None` for anything this transport cannot dial, so the swarm tries its other
    /// transports: other protocol stacks, certhashes that are not sha-256, port 0, unspecified
    /// IPs, and addresses that continue after `/p2p` (relayed addresses).
    pub(crate) fn parse(addr: &Multiaddr) -> Option<Self> {
        let (socket, fingerprint) = parse_webrtc_dial_addr(addr)?;
        if socket.port() == 0 || socket.ip().is_unspecified() {
            return None;
        }
        // `parse_webrtc_dial_addr` checks the first five components only; anything after an
        // optional `/p2p` (e.g. `/p2p-circuit/…`) names some other peer behind this one.
        let mut rest = addr.iter().skip(4);
        let peer_id = match rest.next() {
            Some(Protocol::P2p(peer_id)) => Some(peer_id),
            None => None,
            Some(_) => return None,
        };
        if rest.next().is_some() {
            return None;
        }
        Some(Self {
            socket,
            fingerprint,
            peer_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::*;

    const CERTHASH: &str = "uEiDikp5KVUgkLta1EjUN-IKbHk-dUBg8VzKgf5nXxLK46w";
    const PEER: &str = "12D3KooWNpDk9w6WrEEcdsEH1y47W71S36yFjw4sd3j7omzgCSMS";
    const DIGEST: [u8; 32] = [
        0xe2, 0x92, 0x9e, 0x4a, 0x55, 0x48, 0x24, 0x2e, 0xd6, 0xb5, 0x12, 0x35, 0x0d, 0xf8, 0x82,
        0x9b, 0x1e, 0x4f, 0x9d, 0x50, 0x18, 0x3c, 0x57, 0x32, 0xa0, 0x7f, 0x99, 0xd7, 0xc4, 0xb2,
        0xb8, 0xeb,
    ];

    fn parse(text: &str) -> Option<DialTarget> {
        DialTarget::parse(&text.parse().expect("valid multiaddr"))
    }

    #[test]
    fn ip4_with_peer() {
        let target = parse(&format!(
            "/ip4/127.0.0.1/udp/39901/webrtc-direct/certhash/{CERTHASH}/p2p/{PEER}"
        ))
        .expect("dialable");
        assert_eq!(
            target,
            DialTarget {
                socket: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 39901),
                fingerprint: Fingerprint::raw(DIGEST),
                peer_id: Some(PEER.parse().expect("valid peer id")),
            }
        );
    }

    #[test]
    fn ip6_without_peer() {
        let target = parse(&format!(
            "/ip6/::1/udp/4001/webrtc-direct/certhash/{CERTHASH}"
        ))
        .expect("dialable");
        assert_eq!(
            target.socket,
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 4001)
        );
        assert_eq!(target.fingerprint, Fingerprint::raw(DIGEST));
        assert_eq!(target.peer_id, None);
    }

    #[test]
    fn rejects_what_it_cannot_dial() {
        for addr in [
            format!("/ip4/0.0.0.0/udp/4001/webrtc-direct/certhash/{CERTHASH}"),
            format!("/ip6/::/udp/4001/webrtc-direct/certhash/{CERTHASH}"),
            format!("/ip4/10.0.0.1/udp/0/webrtc-direct/certhash/{CERTHASH}"),
            "/ip4/10.0.0.1/udp/4001/webrtc-direct".to_owned(),
            format!("/ip4/10.0.0.1/udp/4001/quic-v1/p2p/{PEER}"),
            format!("/ip4/10.0.0.1/tcp/4001/p2p/{PEER}"),
            format!("/dns4/example.com/udp/4001/webrtc-direct/certhash/{CERTHASH}"),
            format!(
                "/ip4/10.0.0.1/udp/4001/webrtc-direct/certhash/{CERTHASH}/p2p/{PEER}/p2p-circuit"
            ),
        ] {
            assert_eq!(parse(&addr), None, "{addr}");
        }
    }
}
