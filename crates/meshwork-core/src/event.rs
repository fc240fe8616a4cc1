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
    /// A peer was found by rendezvous, mDNS or peer exchange (or its addresses changed).
    PeerDiscovered {
        /// The peer.
        peer_id: PeerId,
        /// Its addresses, each ending in `/p2p/<peer>`.
        addresses: Vec<Multiaddr>,
        /// How it was found.
        source: crate::DiscoverySource,
        /// The rendezvous namespace it registered under (`None` for mDNS and peer exchange).
        namespace: Option<String>,
    },
    /// A peer's connection state changed. For one peer the states come in the order
    /// `connecting`, `connected`, `disconnecting`, `disconnected`; an inbound connection starts
    /// at `connected`, a remote close skips `disconnecting`, a failed dial goes from
    /// `connecting` to `disconnected`.
    PeerState {
        /// The peer.
        peer_id: PeerId,
        /// Its new state.
        state: crate::ConnState,
        /// For `disconnecting` and `disconnected`: why (`pruned`, `removed`, `banned`, or the
        /// connection's error).
        reason: Option<String>,
    },
    /// The stored peer store was read at start (`with_peer_store`): how many peers it gave back
    /// (kept and dialled first), how many entries were left out, and, if the whole document was
    /// discarded (not ours, corrupt, too large), why. Nothing stored yet: all zero.
    PeerStoreLoaded {
        /// Peers kept from the store.
        restored: usize,
        /// Entries left out (bad peer ID, no usable address, this node, over the limit).
        skipped: usize,
        /// Why the whole document was discarded, if it was.
        discarded: Option<String>,
    },
    /// A provider announced a service over gossip (a new or fresher record than heard before).
    ServiceAnnounced {
        /// The checked record.
        record: crate::services::ServiceRecord,
    },
    /// A provider announced over gossip that it no longer offers a service.
    ServiceDeparted {
        /// The service ID.
        service: String,
        /// The provider.
        provider: PeerId,
    },
    /// Something failed without a caller to tell (a listener error, a failed background dial).
    Error {
        /// What failed.
        error: CoreError,
    },
}

/// A peer as `peers()` (connected peers) and `listPeers()` (those and the kept peers that are
/// not connected) list it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    /// The remote, as a string.
    pub peer_id: String,
    /// Its connection state.
    pub state: crate::ConnState,
    /// Transport of the oldest open connection (`None` when not connected).
    pub transport: Option<TransportKind>,
    /// Remote address of the oldest open connection (`None` when not connected).
    pub address: Option<String>,
    /// Connected: the remote address of every open connection. Not connected (a kept peer):
    /// the addresses it is redialled at.
    pub addresses: Vec<String>,
    /// Open connections to this peer.
    pub connections: usize,
    /// When its first open connection opened, in milliseconds since the Unix epoch.
    pub connected_since_ms: Option<u64>,
    /// Stream bytes sent to it over its open connections (`None` if the edge counts no
    /// traffic, or not connected).
    pub bytes_sent: Option<u64>,
    /// Stream bytes received from it over its open connections.
    pub bytes_received: Option<u64>,
    /// Connected: when bytes last moved (to the second). Not connected: when it was last
    /// connected. Milliseconds since the Unix epoch.
    pub last_seen_ms: Option<u64>,
    /// Why it is kept (bootstrap, relay, added by hand), if it is.
    pub kept: Option<crate::connmgr::Roles>,
    /// A kept peer's last dial error, while it is not connected.
    pub last_error: Option<String>,
    /// Last measured round-trip time in milliseconds, if pinged yet.
    pub rtt_ms: Option<f64>,
    /// The agent the peer announced through identify, if known yet.
    pub agent: Option<String>,
    /// Its gossipsub peer score (`None` with `gossip.peerScoring` off).
    pub gossip_score: Option<f64>,
    /// Its application reputation (see `gossip::reputation`; 0 for a peer with no record).
    pub reputation: f64,
    /// For a kept relay: whether we hold a reservation on it, and how full it said it is.
    pub relay: Option<RelayInfo>,
}

/// A kept relay as `listPeers` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayInfo {
    /// We hold (or asked for) a reservation on it.
    pub reserved: bool,
    /// What it said about its load (`None`: not asked yet, or it could not say).
    pub status: Option<crate::relay_status::RelayStatus>,
}
