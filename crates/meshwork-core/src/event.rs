//! Typed events out of the event loop.

use libp2p::{Multiaddr, PeerId};
use serde::Serialize;

use crate::{CoreError, TransportKind};

/// Something that happened in the node.
#[derive(Debug, Clone)]
pub enum Event {
    /// The node listens on a new address.
    ListenAddr {
        /// The address, without `/p2p/<self>`.
        address: Multiaddr,
    },
    /// A listen address went away.
    ListenAddrExpired {
        /// The address.
        address: Multiaddr,
    },
    /// The first connection to a peer is up.
    PeerConnected {
        /// The remote.
        peer_id: PeerId,
        /// The transport of that connection.
        transport: TransportKind,
        /// The remote address of that connection.
        address: Multiaddr,
    },
    /// A direct browser-to-browser (`/webrtc`) connection to an already connected peer is up;
    /// the relayed one is closed unless configured otherwise.
    PeerUpgraded {
        /// The remote.
        peer_id: PeerId,
        /// The new connection's transport (`Webrtc`).
        transport: TransportKind,
        /// The new connection's remote address.
        address: Multiaddr,
    },
    /// The last connection to a peer closed.
    PeerDisconnected {
        /// The remote.
        peer_id: PeerId,
        /// The transport of the connection that closed last.
        transport: TransportKind,
        /// Why, if the connection ended with an error.
        cause: Option<String>,
    },
    /// A gossip message arrived (never our own).
    Message {
        /// The topic.
        topic: String,
        /// The signed author.
        source: Option<PeerId>,
        /// The peer that forwarded it to us.
        propagation_source: PeerId,
        /// The gossipsub message ID.
        id: String,
        /// The payload.
        data: Vec<u8>,
    },
    /// A remote subscribed to or unsubscribed from a topic.
    Subscription {
        /// The remote.
        peer_id: PeerId,
        /// The topic.
        topic: String,
        /// `true` for subscribe, `false` for unsubscribe.
        subscribed: bool,
    },
    /// A relay accepted (or renewed) our reservation: we are reachable through it.
    RelayReservation {
        /// The relay.
        relay_peer_id: PeerId,
        /// Whether this renews an earlier reservation.
        renewal: bool,
    },
    /// A peer's reputation fell below the ban threshold: it is disconnected and refused until
    /// the ban ends.
    PeerBanned {
        /// The peer.
        peer_id: PeerId,
        /// How long the ban lasts, in seconds.
        secs: u64,
    },
    /// A peer was found by rendezvous or mDNS (or its addresses changed).
    PeerDiscovered {
        /// The peer.
        peer_id: PeerId,
        /// Its addresses, each ending in `/p2p/<peer>`.
        addresses: Vec<Multiaddr>,
        /// How it was found.
        source: crate::DiscoverySource,
        /// The rendezvous namespace it registered under (`None` for mDNS).
        namespace: Option<String>,
    },
    /// Something failed without a caller to tell (a listener error, a failed background dial).
    Error {
        /// What failed.
        error: CoreError,
    },
}

/// A connected peer, as `peers()` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    /// The remote, as a string.
    pub peer_id: String,
    /// Transport of the oldest open connection.
    pub transport: TransportKind,
    /// Remote address of the oldest open connection.
    pub address: String,
    /// Open connections to this peer.
    pub connections: usize,
    /// Last measured round-trip time in milliseconds, if pinged yet.
    pub rtt_ms: Option<f64>,
    /// The agent the peer announced through identify, if known yet.
    pub agent: Option<String>,
    /// Its gossipsub peer score (`None` with `gossip.peerScoring` off).
    pub gossip_score: Option<f64>,
    /// Its application reputation (see `gossip::reputation`; 0 for a peer with no record).
    pub reputation: f64,
}
