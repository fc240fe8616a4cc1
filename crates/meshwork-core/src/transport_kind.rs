//! Which transport a connection or an address uses, read from its multiaddr.

use libp2p::multiaddr::{Multiaddr, Protocol};
use serde::{Deserialize, Serialize};

/// The transport of a connection, as the events report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportKind {
    /// Plain TCP.
    Tcp,
    /// QUIC v1.
    Quic,
    /// WebSocket (`/ws` or `/wss`, also the `/tls/ws` form).
    Websocket,
    /// WebRTC-direct (browser to a native listener).
    WebrtcDirect,
    /// WebRTC between browsers (`/webrtc`).
    Webrtc,
    /// WebTransport over QUIC.
    Webtransport,
    /// A circuit through a relay (`/p2p-circuit`).
    Circuit,
    /// The in-process memory transport (tests).
    Memory,
    /// Anything else.
    Other,
}

impl TransportKind {
    /// Classify an address by its protocols; the outermost meaningful one wins
    /// (a WebSocket over TCP is `Websocket`, anything through `/p2p-circuit` is `Circuit`,
    /// except `/p2p-circuit/webrtc`, the direct browser-to-browser connection set up through it,
    /// which is `Webrtc`).
    pub fn of(addr: &Multiaddr) -> Self {
        let mut kind = TransportKind::Other;
        let mut protocols = addr.iter().peekable();
        while let Some(p) = protocols.next() {
            kind = match p {
                Protocol::P2pCircuit => {
                    return if protocols.peek() == Some(&Protocol::WebRTC) {
                        TransportKind::Webrtc
                    } else {
                        TransportKind::Circuit
                    };
                }
                Protocol::Memory(_) => TransportKind::Memory,
                Protocol::Tcp(_) if kind == TransportKind::Other => TransportKind::Tcp,
                Protocol::QuicV1 => TransportKind::Quic,
                Protocol::Ws(_) | Protocol::Wss(_) => TransportKind::Websocket,
                Protocol::WebRTCDirect => TransportKind::WebrtcDirect,
                Protocol::WebRTC => TransportKind::Webrtc,
                Protocol::WebTransport => TransportKind::Webtransport,
                _ => kind,
            };
        }
        kind
    }

    /// Classify a connection. A listener's local address names the transport (a relayed
    /// inbound connection's remote address is only `/p2p/<remote>`; its local address is the
    /// circuit listen address), a dialer's the remote address.
    pub fn of_endpoint(endpoint: &libp2p::core::ConnectedPoint) -> Self {
        match endpoint {
            libp2p::core::ConnectedPoint::Dialer { address, .. } => Self::of(address),
            libp2p::core::ConnectedPoint::Listener {
                local_addr,
                send_back_addr,
            } => match Self::of(local_addr) {
                TransportKind::Other => Self::of(send_back_addr),
                kind => kind,
            },
        }
    }

    /// The stable name used in events and options (`"websocket"`, `"webrtc-direct"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Tcp => "tcp",
            TransportKind::Quic => "quic",
            TransportKind::Websocket => "websocket",
            TransportKind::WebrtcDirect => "webrtc-direct",
            TransportKind::Webrtc => "webrtc",
            TransportKind::Webtransport => "webtransport",
            TransportKind::Circuit => "circuit",
            TransportKind::Memory => "memory",
            TransportKind::Other => "other",
        }
    }

    /// Parse a stable name back (the inverse of [`TransportKind::as_str`]).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            TransportKind::Tcp,
            TransportKind::Quic,
            TransportKind::Websocket,
            TransportKind::WebrtcDirect,
            TransportKind::Webrtc,
            TransportKind::Webtransport,
            TransportKind::Circuit,
            TransportKind::Memory,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> TransportKind {
        TransportKind::of(&s.parse().unwrap())
    }

    #[test]
    fn classifies_each_transport() {
        assert_eq!(kind("/ip4/127.0.0.1/tcp/1"), TransportKind::Tcp);
        assert_eq!(kind("/ip4/127.0.0.1/udp/1/quic-v1"), TransportKind::Quic);
        assert_eq!(kind("/ip4/127.0.0.1/tcp/1/ws"), TransportKind::Websocket);
        assert_eq!(
            kind("/dns4/a.example/tcp/443/tls/ws"),
            TransportKind::Websocket
        );
        assert_eq!(
            kind("/ip4/127.0.0.1/udp/1/webrtc-direct"),
            TransportKind::WebrtcDirect
        );
        assert_eq!(
            kind("/ip4/127.0.0.1/udp/1/quic-v1/webtransport"),
            TransportKind::Webtransport
        );
        assert_eq!(kind("/memory/5"), TransportKind::Memory);
        assert_eq!(
            kind("/ip4/127.0.0.1/tcp/1/ws/p2p-circuit"),
            TransportKind::Circuit
        );
        assert_eq!(kind("/ip4/127.0.0.1"), TransportKind::Other);
        assert_eq!(
            kind("/ip4/127.0.0.1/tcp/1/ws/p2p-circuit/webrtc"),
            TransportKind::Webrtc
        );
        assert_eq!(
            kind("/webrtc/p2p/12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5STiGwxBhgFRcw3UERE"),
            TransportKind::Webrtc
        );
    }

    #[test]
    fn listeners_are_classified_by_their_local_address() {
        use libp2p::core::{ConnectedPoint, Endpoint};
        let listener = |local: &str, remote: &str| ConnectedPoint::Listener {
            local_addr: local.parse().expect("addr"),
            send_back_addr: remote.parse().expect("addr"),
        };
        let peer = "/p2p/12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5STiGwxBhgFRcw3UERE";
        assert_eq!(
            TransportKind::of_endpoint(&listener("/ip4/127.0.0.1/tcp/1/ws/p2p-circuit", peer)),
            TransportKind::Circuit
        );
        assert_eq!(
            TransportKind::of_endpoint(&listener("/webrtc", &format!("/webrtc{peer}"))),
            TransportKind::Webrtc
        );
        assert_eq!(
            TransportKind::of_endpoint(&listener(
                "/ip4/127.0.0.1/tcp/1/ws",
                "/ip4/127.0.0.1/tcp/9"
            )),
            TransportKind::Websocket
        );
        assert_eq!(
            TransportKind::of_endpoint(&listener("/memory/1", "/memory/2")),
            TransportKind::Memory
        );
        let dialer = ConnectedPoint::Dialer {
            address: "/ip4/127.0.0.1/udp/1/quic-v1".parse().expect("addr"),
            role_override: Endpoint::Dialer,
            port_use: libp2p::core::transport::PortUse::Reuse,
        };
        assert_eq!(TransportKind::of_endpoint(&dialer), TransportKind::Quic);
    }

    #[test]
    fn names_round_trip() {
        for k in [
            TransportKind::Tcp,
            TransportKind::WebrtcDirect,
            TransportKind::Websocket,
        ] {
            assert_eq!(TransportKind::from_name(k.as_str()), Some(k));
        }
        assert_eq!(TransportKind::from_name("carrier-pigeon"), None);
    }
}
