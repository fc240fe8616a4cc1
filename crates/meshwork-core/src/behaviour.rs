//! The one composed `NetworkBehaviour`, built from a [`NodeConfig`]. Optional parts (relay server,
//! AutoNAT, DCUtR) are `Toggle`d by configuration, never by the target.

// The derive generates `BehaviourEvent` with one undocumented variant per field.
#![allow(missing_docs)]

use std::{num::NonZeroUsize, time::Duration};

use libp2p::{
    allow_block_list, autonat, connection_limits, dcutr, gossipsub, identify,
    identity::Keypair,
    kad, ping, relay, rendezvous,
    swarm::{behaviour::toggle::Toggle, NetworkBehaviour},
    StreamProtocol,
};

use crate::{
    discovery::{self, mdns::Mdns},
    gossip, CoreError, ErrorCode, KadMode, NodeConfig,
};

/// The Kademlia protocol of the meshwork DHT (kept apart from the public IPFS DHT).
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/meshwork/kad/1.0.0");

/// Bytes added to the largest payload to get gossipsub's frame limit (signature, key, topic, ids).
const GOSSIP_FRAME_OVERHEAD: usize = 8 * 1024;

/// More headroom on the frame limit, for a bug in libp2p-gossipsub 0.50.1: its decoder checks the
/// limit against the whole read buffer, which holds the frame plus up to one read (8 KiB,
/// asynchronous-codec's read size) of the next frame. On QUIC and WebTransport, where reads span
/// frames, a full-size message then failed the check and gossipsub dropped the stream with
/// every message in flight on it. Test: `native-relay/tests/processes/gossip_over_quic.rs`.
const GOSSIP_READ_SLACK: usize = 8 * 1024;

/// Messages gossipsub queues per peer for sending (publishes, forwards, IHAVE/IWANT).
const GOSSIP_PEER_QUEUE: usize = 5000;

/// Gossipsub with a bound on how many topics a remote may announce.
pub type Gossipsub = gossipsub::Behaviour<
    gossipsub::IdentityTransform,
    gossipsub::MaxCountSubscriptionFilter<gossipsub::AllowAllSubscriptionFilter>,
>;

/// Every protocol a meshwork node speaks.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Refuses connections over the configured limits, before any handshake work.
    pub limits: connection_limits::Behaviour,
    /// Refuses inbound connections beyond `limits.maxConnectionsPerIp` from one address.
    pub ip_limits: crate::connmgr::ip_limits::IpLimits,
    /// Banned peers: refused and disconnected (see `gossip::reputation`).
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Exchanges agent, addresses and protocols with each peer.
    pub identify: identify::Behaviour,
    /// Keeps connections alive and measures round-trip time.
    pub ping: ping::Behaviour,
    /// Publish/subscribe messaging.
    pub gossipsub: Gossipsub,
    /// Wakes every connection so gossipsub sends what it queued (see `gossip::wake`).
    pub gossip_wake: crate::gossip::wake::GossipWake,
    /// The DHT: peer routing and records.
    pub kad: kad::Behaviour<kad::store::MemoryStore>,
    /// Circuit relay v2 client: reservations and relayed dials.
    pub relay_client: relay::client::Behaviour,
    /// Circuit relay v2 server (the relay only).
    pub relay_server: Toggle<relay::Behaviour>,
    /// AutoNAT v1 client and server.
    pub autonat: Toggle<autonat::Behaviour>,
    /// Direct connection upgrade through relay (hole punching).
    pub dcutr: Toggle<dcutr::Behaviour>,
    /// Rendezvous client: registers under namespaces and discovers by them.
    pub rendezvous: rendezvous::client::Behaviour,
    /// Rendezvous point (the relay only).
    pub rendezvous_server: Toggle<rendezvous::server::Behaviour>,
    /// mDNS on the local segment (native only, when configured).
    pub mdns: Toggle<Mdns>,
    /// Plain protocol streams (perf): opened and accepted through a `libp2p_stream::Control`.
    pub streams: libp2p_stream::Behaviour,
}

impl Behaviour {
    /// Build the behaviour. `relay_client` comes from the swarm builder, which pairs it with the
    /// relay transport.
    pub fn new(
        keypair: &Keypair,
        relay_client: relay::client::Behaviour,
        config: &NodeConfig,
    ) -> Result<Self, CoreError> {
        Self::with_streams(
            keypair,
            relay_client,
            config,
            libp2p_stream::Behaviour::new(),
        )
    }

    /// [`Behaviour::new`] with a stream behaviour made beforehand, so that a transport can hold
    /// one of its controls (the browser-to-browser transport signals over its streams).
    pub fn with_streams(
        keypair: &Keypair,
        relay_client: relay::client::Behaviour,
        config: &NodeConfig,
        streams: libp2p_stream::Behaviour,
    ) -> Result<Self, CoreError> {
        config
            .validate()
            .map_err(|m| CoreError::new(ErrorCode::InvalidOptions, m))?;
        let peer_id = keypair.public().to_peer_id();
        Ok(Self {
            limits: connection_limits::Behaviour::new(connection_limits(config)),
            ip_limits: crate::connmgr::ip_limits::IpLimits::new(
                config.limits.max_connections_per_ip,
                config.limits.per_ip_exempt_loopback,
            ),
            blocked: allow_block_list::Behaviour::default(),
            identify: identify(keypair, config),
            ping: ping::Behaviour::new(
                ping::Config::new()
                    .with_interval(Duration::from_secs(config.ping_interval_secs))
                    .with_timeout(Duration::from_secs(config.ping_timeout_secs)),
            ),
            gossipsub: gossipsub(keypair, config)?,
            gossip_wake: Default::default(),
            kad: kademlia(peer_id, config),
            relay_client,
            relay_server: Toggle::from(
                config
                    .relay_server
                    .as_ref()
                    .map(|r| relay::Behaviour::new(peer_id, relay_server(r))),
            ),
            autonat: Toggle::from(
                config
                    .autonat
                    .then(|| autonat::Behaviour::new(peer_id, autonat::Config::default())),
            ),
            dcutr: Toggle::from(config.dcutr.then(|| dcutr::Behaviour::new(peer_id))),
            rendezvous: rendezvous::client::Behaviour::new(keypair.clone()),
            rendezvous_server: Toggle::from(
                config
                    .rendezvous
                    .server
                    .as_ref()
                    .map(|s| rendezvous::server::Behaviour::new(rendezvous_server(s))),
            ),
            mdns: Toggle::from(discovery::mdns::behaviour(&config.mdns, peer_id)?),
            streams,
        })
    }
}

/// The error type `SwarmBuilder::with_behaviour` accepts.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Behaviour {
    /// [`Behaviour::new`] with the error boxed, for `SwarmBuilder::with_behaviour`:
    /// `.with_behaviour(|key, relay| Behaviour::for_swarm(key, relay, &config))`.
    pub fn for_swarm(
        keypair: &Keypair,
        relay_client: relay::client::Behaviour,
        config: &NodeConfig,
    ) -> Result<Self, BoxError> {
        Ok(Self::new(keypair, relay_client, config)?)
    }
}

fn connection_limits(config: &NodeConfig) -> connection_limits::ConnectionLimits {
    let l = &config.limits;
    connection_limits::ConnectionLimits::default()
        .with_max_established(Some(l.max_established))
        .with_max_established_per_peer(Some(l.max_established_per_peer))
        .with_max_pending_incoming(Some(l.max_pending_incoming))
        .with_max_pending_outgoing(Some(l.max_pending_outgoing))
}

fn gossipsub(keypair: &Keypair, config: &NodeConfig) -> Result<Gossipsub, CoreError> {
    let g = &config.gossip;
    let invalid = |m: &str| CoreError::new(ErrorCode::InvalidOptions, format!("gossipsub: {m}"));
    let gossip_config = gossipsub::ConfigBuilder::default()
        .heartbeat_interval(Duration::from_millis(g.heartbeat_interval_ms))
        .max_transmit_size(g.max_message_bytes + GOSSIP_FRAME_OVERHEAD + GOSSIP_READ_SLACK)
        .mesh_n_low(g.mesh.low)
        .mesh_n(g.mesh.target)
        .mesh_n_high(g.mesh.high)
        // gossipsub requires mesh_outbound_min <= mesh_n_low and 2 * mesh_outbound_min <= mesh_n
        // (its default is 2).
        .mesh_outbound_min(2.min(g.mesh.low).min(g.mesh.target / 2))
        .validation_mode(gossipsub::ValidationMode::Strict)
        // Nothing is delivered or forwarded before the event loop's checks say so.
        .validate_messages()
        .message_id_fn(gossip::content_message_id)
        .flood_publish(g.flood_publish)
        // The event loop paces publishes (gossip::pacer); what gossipsub still holds per peer is
        // bounded here, and a message of ours may wait a while rather than be dropped.
        .connection_handler_queue_len(GOSSIP_PEER_QUEUE)
        .publish_queue_duration(Duration::from_secs(30))
        // Forwards may wait longer than gossipsub's 1 s default: a chunk set crossing a slow
        // link (WebRTC-direct, ~10 MB/s) must not lose chunks to age.
        .forward_queue_duration(Duration::from_secs(10))
        .build()
        .map_err(|e| invalid(&e.to_string()))?;
    let filter = gossipsub::MaxCountSubscriptionFilter {
        filter: gossipsub::AllowAllSubscriptionFilter {},
        max_subscribed_topics: g.max_remote_topics,
        max_subscriptions_per_request: g.max_remote_topics,
    };
    let mut behaviour = gossipsub::Behaviour::new_with_subscription_filter(
        gossipsub::MessageAuthenticity::Signed(keypair.clone()),
        gossip_config,
        filter,
    )
    .map_err(invalid)?;
    if g.peer_scoring {
        behaviour
            .with_peer_score(
                gossip::scoring::peer_score_params(),
                gossip::scoring::peer_score_thresholds(),
            )
            .map_err(|e| invalid(&e))?;
    }
    Ok(behaviour)
}

/// Identify as a meshwork node runs it: protocol and agent version from `config`, listen
/// address changes pushed, the last 256 peers' addresses cached.
pub fn identify(keypair: &Keypair, config: &NodeConfig) -> identify::Behaviour {
    identify::Behaviour::new(
        identify::Config::new(config.protocol_version.clone(), keypair.public())
            .with_agent_version(config.agent_version.clone())
            .with_push_listen_addr_updates(true)
            .with_cache_size(256),
    )
}

/// Kademlia as a meshwork node runs it: [`KAD_PROTOCOL`], `config.dht`'s settings
/// ([`kademlia_config`]), a store bounded by them, and the mode of `config.kadMode`. Public so
/// that the DHT benchmark's Kademlia-only nodes run exactly this.
pub fn kademlia(
    peer_id: libp2p::PeerId,
    config: &NodeConfig,
) -> kad::Behaviour<kad::store::MemoryStore> {
    kademlia_with(peer_id, config, kademlia_config(config))
}

/// Kademlia's own settings from `config.dht`: query timeout, replication, record TTL,
/// republication interval, and every inbound record filtered (the event loop checks it before
/// storing). Periodic bootstrap keeps rust-libp2p's default (every 5 minutes).
pub fn kademlia_config(config: &NodeConfig) -> kad::Config {
    let d = &config.dht;
    let mut kad_config = kad::Config::new(KAD_PROTOCOL);
    kad_config.set_query_timeout(Duration::from_secs(d.query_timeout_secs));
    kad_config.set_replication_factor(NonZeroUsize::new(20).unwrap_or(NonZeroUsize::MIN));
    kad_config.set_record_ttl(Some(Duration::from_secs(d.record_ttl_secs)));
    // Our records (the signed peer record included) go out again on this interval.
    kad_config.set_publication_interval(Some(Duration::from_secs(d.peer_record_interval_secs)));
    // What others ask us to store passes the event loop's checks first (event_loop::dht).
    kad_config.set_record_filtering(kad::StoreInserts::FilterBoth);
    kad_config
}

/// [`kademlia`] with Kademlia settings other than [`kademlia_config`]'s (the benchmark turns
/// one off); the store and mode still come from `config`.
pub fn kademlia_with(
    peer_id: libp2p::PeerId,
    config: &NodeConfig,
    kad_config: kad::Config,
) -> kad::Behaviour<kad::store::MemoryStore> {
    let d = &config.dht;
    let store = kad::store::MemoryStore::with_config(
        peer_id,
        kad::store::MemoryStoreConfig {
            max_records: d.max_records,
            max_value_bytes: d.max_value_bytes,
            ..Default::default()
        },
    );
    let mut kad = kad::Behaviour::with_config(peer_id, store, kad_config);
    kad.set_mode(match config.kad_mode {
        KadMode::Server => Some(kad::Mode::Server),
        KadMode::Client => Some(kad::Mode::Client),
        KadMode::Auto => None,
    });
    kad
}

fn relay_server(r: &crate::RelayServerConfig) -> relay::Config {
    // (burst, refill) as libp2p's limiter wants them; validation keeps burst >= 1.
    let rate = |l: crate::config::RateLimit| {
        (
            std::num::NonZeroU32::new(l.burst).unwrap_or(std::num::NonZeroU32::MIN),
            Duration::from_secs(l.refill_secs),
        )
    };
    let config = relay::Config {
        max_reservations: r.max_reservations,
        max_reservations_per_peer: r.max_reservations_per_peer,
        reservation_duration: Duration::from_secs(r.reservation_duration_secs),
        reservation_rate_limiters: Vec::new(),
        max_circuits: r.max_circuits,
        max_circuits_per_peer: r.max_circuits_per_peer,
        max_circuit_duration: Duration::from_secs(r.max_circuit_duration_secs),
        max_circuit_bytes: r.max_circuit_bytes,
        circuit_src_rate_limiters: Vec::new(),
    };
    let (burst, refill) = rate(r.reservation_rate_per_peer);
    let config = config.reservation_rate_per_peer(burst, refill);
    let (burst, refill) = rate(r.reservation_rate_per_ip);
    let config = config.reservation_rate_per_ip(burst, refill);
    let (burst, refill) = rate(r.circuit_rate_per_peer);
    let config = config.circuit_src_per_peer(burst, refill);
    let (burst, refill) = rate(r.circuit_rate_per_ip);
    config.circuit_src_per_ip(burst, refill)
}

fn rendezvous_server(s: &crate::RendezvousServerConfig) -> rendezvous::server::Config {
    rendezvous::server::Config::default()
        .with_min_ttl(s.min_ttl_secs)
        .with_max_ttl(s.max_ttl_secs)
        .with_max_registration_per_peer(s.max_registrations_per_peer)
        .with_max_registration_total(s.max_registrations)
        .with_max_stored_cookies(s.max_cookies)
}
