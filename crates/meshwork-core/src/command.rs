//! Typed commands into the event loop. Each carries a one-shot reply channel.

use std::sync::Arc;

use futures::channel::oneshot;
use libp2p::{Multiaddr, PeerId};

use crate::{
    connmgr::Roles,
    gossip::{outbound::Priority, stats::GossipStats, validator::MessageValidator},
    CoreError, DiscoveredPeer, PeerInfo,
};

/// A validator as a command carries it.
#[derive(Clone)]
pub struct ValidatorHandle(pub Arc<dyn MessageValidator>);

impl std::fmt::Debug for ValidatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ValidatorHandle")
    }
}

/// Where the loop sends a command's result.
pub type Reply<T> = oneshot::Sender<Result<T, CoreError>>;

/// A request to the node. Build these through [`crate::NodeHandle`] rather than by hand.
#[derive(Debug)]
pub enum Command {
    /// Keep a peer connected (redialled with backoff when lost); replies once the first dial
    /// ends (at once if connected).
    Keep {
        /// The peer.
        peer: PeerId,
        /// Where to dial it, best first.
        addresses: Vec<Multiaddr>,
        /// Why it is kept.
        roles: Roles,
        /// The result.
        reply: Reply<PeerId>,
    },
    /// Stop keeping a peer and close its connections; replies whether it was kept or connected.
    RemovePeer {
        /// The peer.
        peer: PeerId,
        /// The result.
        reply: Reply<bool>,
    },
    /// Connect to an address; replies with the remote peer ID once connected.
    Dial {
        /// Where to dial. A trailing `/p2p/<id>` is checked against the remote's identity.
        address: Multiaddr,
        /// Open a new connection even if the peer is connected: proves that `address` reaches
        /// the peer its `/p2p/<id>` names.
        fresh: bool,
        /// The result.
        reply: Reply<PeerId>,
    },
    /// Listen on an address (a relay's `/p2p-circuit` address makes a reservation).
    Listen {
        /// What to listen on.
        address: Multiaddr,
        /// The result.
        reply: Reply<()>,
    },
    /// Subscribe to a topic; replies `true` if newly subscribed.
    Subscribe {
        /// The topic name.
        topic: String,
        /// The result.
        reply: Reply<bool>,
    },
    /// Unsubscribe from a topic; replies `true` if it was subscribed.
    Unsubscribe {
        /// The topic name.
        topic: String,
        /// The result.
        reply: Reply<bool>,
    },
    /// Publish a payload (chunked if large); replies with the message ID (of the first chunk)
    /// once it is handed to gossipsub, or `BACKPRESSURE` if the queue has no room.
    Publish {
        /// The topic name.
        topic: String,
        /// The payload.
        data: Vec<u8>,
        /// Its priority in the outbound queue.
        priority: Priority,
        /// The result.
        reply: Reply<String>,
    },
    /// Install (or with `None`, remove) the validator of a topic.
    SetValidator {
        /// The topic name.
        topic: String,
        /// The validator.
        validator: Option<ValidatorHandle>,
        /// Done.
        reply: Reply<()>,
    },
    /// Gossip counters and queue state.
    Stats {
        /// The snapshot.
        reply: Reply<GossipStats>,
    },
    /// List connected peers.
    Peers {
        /// Also list kept peers that are not connected.
        include_kept: bool,
        /// The result.
        reply: Reply<Vec<PeerInfo>>,
    },
    /// List this node's listen addresses.
    ListenAddrs {
        /// The result.
        reply: Reply<Vec<Multiaddr>>,
    },
    /// Register under a rendezvous namespace at every connected rendezvous point, and keep the
    /// registration refreshed until `Unregister`; replies with the lifetime a point granted.
    Register {
        /// The namespace.
        namespace: String,
        /// The lifetime to ask for, in seconds (`rendezvous.defaultTtlSecs` if `None`).
        ttl_secs: Option<u64>,
        /// The granted lifetime.
        reply: Reply<u64>,
    },
    /// Stop refreshing a namespace and unregister from it; replies `true` if it was registered.
    Unregister {
        /// The namespace.
        namespace: String,
        /// The result.
        reply: Reply<bool>,
    },
    /// Ask every connected rendezvous point for the peers registered under a namespace.
    Discover {
        /// The namespace.
        namespace: String,
        /// Every unexpired peer known under it (each point asked only for what is new).
        reply: Reply<Vec<DiscoveredPeer>>,
    },
    /// Find a peer's addresses in the DHT: as a DHT server among the closest peers, else from
    /// its signed peer record.
    FindPeer {
        /// The peer.
        peer: PeerId,
        /// Its addresses and how the lookup went.
        reply: Reply<crate::dht::FoundPeer>,
    },
    /// Store a record at the closest DHT servers (and locally); kept republished while the node
    /// runs.
    PutRecord {
        /// The key (1 to 256 bytes, not under `/meshwork/peer/`).
        key: Vec<u8>,
        /// The value (at most `dht.maxValueBytes`).
        value: Vec<u8>,
        /// Servers that must store it for success.
        quorum: usize,
        /// Done.
        reply: Reply<()>,
    },
    /// Fetch a record: the first value found in `quorum` copies.
    GetRecord {
        /// The key.
        key: Vec<u8>,
        /// Matching copies needed.
        quorum: usize,
        /// The value.
        reply: Reply<Vec<u8>>,
    },
    /// Announce in the DHT that this node provides a key (republished while the node runs).
    Provide {
        /// The key (1 to 256 bytes, not under a reserved prefix).
        key: Vec<u8>,
        /// Done once the closest servers took the provider record.
        reply: Reply<()>,
    },
    /// Stop announcing a key; replies whether this node provided it.
    StopProviding {
        /// The key.
        key: Vec<u8>,
        /// The result.
        reply: Reply<bool>,
    },
    /// Find the providers of a key, with the addresses this node knows for each.
    FindProviders {
        /// The key.
        key: Vec<u8>,
        /// Most providers wanted (1 to 20).
        limit: usize,
        /// The providers found (possibly none).
        reply: Reply<Vec<crate::dht::Provider>>,
    },
    /// Register a service: our signed record into the service's DHT set (and announced over
    /// gossip), refreshed until `UnregisterService`; replies with the record once stored.
    RegisterService {
        /// The service ID.
        service: String,
        /// Its type, metadata and lifetime.
        registration: crate::Registration,
        /// The record as stored.
        reply: Reply<crate::ServiceView>,
    },
    /// Stop providing a service: a signed departure replaces our record; replies `true` if it
    /// was registered.
    UnregisterService {
        /// The service ID.
        service: String,
        /// The result.
        reply: Reply<bool>,
    },
    /// Find a service's freshest live record (DHT sets and gossip announcements).
    FindService {
        /// The service ID.
        service: String,
        /// The record.
        reply: Reply<crate::ServiceView>,
    },
    /// Stop the loop, closing every connection.
    Shutdown {
        /// Answered once the loop has let go of the swarm.
        reply: Reply<()>,
    },
}
