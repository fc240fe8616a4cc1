//! Addresses for browser-to-browser (`/webrtc`) connections, which go through a relay first:
//! `<relay address>/p2p/<relay>/p2p-circuit/webrtc/p2p/<remote>` is dialled as the relayed
//! connection `<relay address>/p2p/<relay>/p2p-circuit/p2p/<remote>`, then upgraded over it.
//!
//! Pure address logic; the event loop does the dialling.

use libp2p::{multiaddr::Protocol, Multiaddr, PeerId};
use serde::{Deserialize, Serialize};

/// Browser-to-browser upgrades. Not part of the serialised configuration: the browser package
/// sets it when its `/webrtc` transport is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectUpgrade {
    /// Close the relayed connection to a peer once a direct one is up. Default true.
    pub close_relayed: bool,
}

impl Default for DirectUpgrade {
    fn default() -> Self {
        Self {
            close_relayed: true,
        }
    }
}

/// For `<circuit>/webrtc/p2p/<remote>`: the remote and the relayed address to reach it first.
pub fn split(addr: &Multiaddr) -> Option<(PeerId, Multiaddr)> {
    let protocols: Vec<Protocol<'_>> = addr.iter().collect();
    let [circuit @ .., Protocol::P2pCircuit, Protocol::WebRTC, Protocol::P2p(remote)] =
        protocols.as_slice()
    else {
        return None;
    };
    let relayed: Multiaddr = circuit
        .iter()
        .cloned()
        .chain([Protocol::P2pCircuit, Protocol::P2p(*remote)])
        .collect();
    Some((*remote, relayed))
}

/// A circuit listen address up to and including `/p2p-circuit` (the relay client reports them
/// as `<relay>/p2p-circuit/p2p/<self>`); `None` for other addresses.
fn circuit_prefix(circuit_listen: &Multiaddr) -> Option<Multiaddr> {
    let mut protocols: Vec<Protocol<'_>> = circuit_listen.iter().collect();
    if matches!(protocols.last(), Some(Protocol::P2p(_))) {
        protocols.pop();
    }
    matches!(protocols.last(), Some(Protocol::P2pCircuit)).then(|| protocols.into_iter().collect())
}

/// The `/webrtc` address this node is reachable at through a circuit listen address
/// (`<relay>/p2p-circuit/webrtc`, without our own `/p2p`).
pub fn webrtc_address(circuit_listen: &Multiaddr) -> Option<Multiaddr> {
    circuit_prefix(circuit_listen).map(|prefix| prefix.with(Protocol::WebRTC))
}

/// The address to reach `remote` through one of our circuit listen addresses: directly over
/// `/webrtc` when upgrades are on, else the plain relayed address.
pub fn via_relay(circuit_listen: &Multiaddr, remote: PeerId, upgrade: bool) -> Option<Multiaddr> {
    let base = if upgrade {
        webrtc_address(circuit_listen)?
    } else {
        circuit_prefix(circuit_listen)?
    };
    Some(base.with(Protocol::P2p(remote)))
}

/// Wraps the relay client transport so it refuses browser-to-browser addresses.
///
/// libp2p's relay client transport reads `<relay>/p2p-circuit/webrtc/p2p/<remote>` as a plain
/// circuit to `<remote>` (it skips the `/webrtc`), and the swarm builder puts it first; without
/// this wrapper a `/webrtc` dial silently becomes a second relayed connection.
#[derive(Debug)]
pub struct RefuseBrowserToBrowser<T>(pub T);

impl<T: libp2p::core::Transport + Unpin> libp2p::core::Transport for RefuseBrowserToBrowser<T> {
    type Output = T::Output;
    type Error = T::Error;
    type ListenerUpgrade = T::ListenerUpgrade;
    type Dial = T::Dial;

    fn listen_on(
        &mut self,
        id: libp2p::core::transport::ListenerId,
        addr: Multiaddr,
    ) -> Result<(), libp2p::core::transport::TransportError<Self::Error>> {
        self.0.listen_on(id, addr)
    }

    fn remove_listener(&mut self, id: libp2p::core::transport::ListenerId) -> bool {
        self.0.remove_listener(id)
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        opts: libp2p::core::transport::DialOpts,
    ) -> Result<Self::Dial, libp2p::core::transport::TransportError<Self::Error>> {
        if is_browser_to_browser(&addr) {
            return Err(libp2p::core::transport::TransportError::MultiaddrNotSupported(addr));
        }
        self.0.dial(addr, opts)
    }

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<libp2p::core::transport::TransportEvent<Self::ListenerUpgrade, Self::Error>>
    {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

/// Whether `addr` has `/p2p-circuit/webrtc` in it (a browser-to-browser address).
pub fn is_browser_to_browser(addr: &Multiaddr) -> bool {
    let mut previous = None;
    for protocol in addr.iter() {
        if matches!(
            (&previous, &protocol),
            (Some(Protocol::P2pCircuit), Protocol::WebRTC)
        ) {
            return true;
        }
        previous = Some(protocol);
    }
    false
}

/// A bare `/p2p/<peer>` address (dial by peer ID).
pub fn bare_peer(addr: &Multiaddr) -> Option<PeerId> {
    let mut protocols = addr.iter();
    match (protocols.next(), protocols.next()) {
        (Some(Protocol::P2p(peer)), None) => Some(peer),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Multiaddr {
        s.parse().expect("valid multiaddr")
    }

    const RELAY: &str = "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo";
    const REMOTE: &str = "12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5STiGwxBhgFRcw3UERE";

    #[test]
    fn splits_a_browser_to_browser_address() {
        let addr = m(&format!(
            "/ip4/127.0.0.1/tcp/4002/ws/p2p/{RELAY}/p2p-circuit/webrtc/p2p/{REMOTE}"
        ));
        let (remote, relayed) = split(&addr).expect("browser-to-browser");
        assert_eq!(remote.to_string(), REMOTE);
        assert_eq!(
            relayed,
            m(&format!(
                "/ip4/127.0.0.1/tcp/4002/ws/p2p/{RELAY}/p2p-circuit/p2p/{REMOTE}"
            ))
        );
    }

    #[test]
    fn other_addresses_do_not_split() {
        for s in [
            format!("/ip4/127.0.0.1/tcp/4002/ws/p2p/{RELAY}/p2p-circuit/p2p/{REMOTE}"),
            format!("/ip4/127.0.0.1/udp/1/webrtc-direct/p2p/{REMOTE}"),
            format!("/webrtc/p2p/{REMOTE}"),
            format!("/ip4/127.0.0.1/tcp/4002/ws/p2p/{RELAY}/p2p-circuit/webrtc"),
        ] {
            assert_eq!(split(&m(&s)), None, "{s}");
        }
    }

    #[test]
    fn addresses_through_our_reservation() {
        let listen = m(&format!(
            "/ip4/127.0.0.1/tcp/4002/ws/p2p/{RELAY}/p2p-circuit"
        ));
        let remote: PeerId = REMOTE.parse().expect("peer");
        assert_eq!(
            webrtc_address(&listen),
            Some(m(&format!(
                "/ip4/127.0.0.1/tcp/4002/ws/p2p/{RELAY}/p2p-circuit/webrtc"
            )))
        );
        assert_eq!(
            via_relay(&listen, remote, true),
            Some(m(&format!(
                "/ip4/127.0.0.1/tcp/4002/ws/p2p/{RELAY}/p2p-circuit/webrtc/p2p/{REMOTE}"
            )))
        );
        assert_eq!(
            via_relay(&listen, remote, false),
            Some(m(&format!(
                "/ip4/127.0.0.1/tcp/4002/ws/p2p/{RELAY}/p2p-circuit/p2p/{REMOTE}"
            )))
        );
        assert_eq!(via_relay(&m("/ip4/127.0.0.1/tcp/1"), remote, true), None);
        // As the relay client reports them: with our own peer ID at the end.
        let reported = m(&format!(
            "/ip4/127.0.0.1/tcp/4002/ws/p2p/{RELAY}/p2p-circuit/p2p/{REMOTE}"
        ));
        assert_eq!(
            webrtc_address(&reported),
            Some(m(&format!(
                "/ip4/127.0.0.1/tcp/4002/ws/p2p/{RELAY}/p2p-circuit/webrtc"
            )))
        );
        assert_eq!(webrtc_address(&m("/ip4/127.0.0.1/tcp/1")), None);
    }

    #[test]
    fn relay_transport_is_kept_off_browser_to_browser_addresses() {
        use libp2p::core::{
            transport::{DialOpts, PortUse, TransportError},
            Endpoint, Transport as _,
        };
        let mut transport =
            RefuseBrowserToBrowser(libp2p::core::transport::MemoryTransport::default());
        let opts = DialOpts {
            role: Endpoint::Dialer,
            port_use: PortUse::New,
        };
        let b2b = m(&format!(
            "/memory/1/p2p/{RELAY}/p2p-circuit/webrtc/p2p/{REMOTE}"
        ));
        assert!(matches!(
            transport.dial(b2b, opts),
            Err(TransportError::MultiaddrNotSupported(_))
        ));
        // Everything else reaches the inner transport (nobody listens on this port, so the
        // memory transport refuses it itself, with its own error).
        assert!(matches!(
            transport.dial(m("/memory/4242"), opts),
            Err(TransportError::Other(_))
        ));
        assert!(!is_browser_to_browser(&m(&format!(
            "/memory/1/p2p/{RELAY}/p2p-circuit/p2p/{REMOTE}"
        ))));
    }

    #[test]
    fn bare_peer_ids() {
        assert_eq!(
            bare_peer(&m(&format!("/p2p/{REMOTE}"))).map(|p| p.to_string()),
            Some(REMOTE.to_owned())
        );
        assert_eq!(
            bare_peer(&m(&format!("/ip4/1.2.3.4/tcp/1/p2p/{REMOTE}"))),
            None
        );
    }
}
