//! Node configuration. Every field has a documented default and unit; the whole struct
//! deserialises with serde (TOML for the relay, a JS object in the browser).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{
    discovery::config::{MdnsConfig, RendezvousConfig},
    gossip::{
        chunking::ChunkConfig, flood::FloodConfig, pacer::PacerConfig, reputation::ReputationConfig,
    },
};

/// The longest ping interval or timeout accepted, in seconds (an hour): timers beyond that are
/// no heartbeat, and very large ones overflow the browser's `setTimeout`.
pub const MAX_PING_SECS: u64 = 3600;

/// Whether this node answers Kademlia queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum KadMode {
    /// Server mode: answers queries. For dialable nodes (the relay, native peers).
    Server,
    /// Client mode: only asks. For pages, which cannot be dialled.
    Client,
    /// Let libp2p decide from confirmed external addresses (default).
    #[default]
    Auto,
}

/// Gossipsub settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct GossipConfig {
    /// Largest gossip message, in bytes. Default 65,536 (64 KiB). Larger payloads are sent as
    /// chunks of this size (see `chunks`).
    pub max_message_bytes: usize,
    /// Gossipsub heartbeat interval, in milliseconds. Default 700.
    pub heartbeat_interval_ms: u64,
    /// Publish to every subscribed peer, not only the mesh (lower first-hop latency). Default true.
    pub flood_publish: bool,
    /// Most topics this node subscribes to itself. Default 64.
    pub max_topics: usize,
    /// Most topics a remote peer may be subscribed to, as seen by this node. Default 128.
    pub max_remote_topics: usize,
    /// Subscribe to any topic a connected peer subscribes to (up to `max_topics`), so that this
    /// node forwards it: what a relay bridging pages and native peers needs. Default false.
    pub follow_peer_topics: bool,
    /// Inbound flood control: per-author and global rate limits.
    pub flood: FloodConfig,
    /// Application reputation per peer, and bans.
    pub reputation: ReputationConfig,
    /// Payloads above `maxMessageBytes`: chunking and reassembly (`chunks.maxPayloadBytes` is the
    /// largest payload `publish` accepts, default 16 MiB).
    pub chunks: ChunkConfig,
    /// The pace of outbound publishes.
    pub pacer: PacerConfig,
    /// A validator that has not answered after this many milliseconds counts as `ignore`.
    /// Default 2,000.
    pub validation_timeout_ms: u64,
    /// Messages awaiting a validator at once; more are shed (ignored). Default 1,024.
    pub max_pending_validations: usize,
    /// Publishes queued per topic before `publish` rejects with `BACKPRESSURE`. Default 1,024.
    pub publish_queue_per_topic: usize,
    /// Bytes queued for publishing across all topics. Default 32 MiB.
    pub publish_queue_bytes: usize,
    /// Gossipsub peer scoring (see `gossip::scoring`). Default true.
    pub peer_scoring: bool,
    /// How many peers this node forwards each message to (the gossipsub mesh).
    pub mesh: MeshConfig,
}

/// The gossipsub mesh degree: how many peers per topic a node forwards full messages to (the
/// others get only IHAVE gossip, a heartbeat or more later).
///
/// The defaults (gossipsub's D = 6, D_lo = 5, D_hi = 12) suit a peer among peers. A relay that
/// pages reach only through it must forward to all of them, so the relay raises `high` to the
/// number of connections it accepts (see `meshwork-relay`'s defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct MeshConfig {
    /// Fewer mesh peers than this and the heartbeat grafts more, up to `target`. Default 5.
    pub low: usize,
    /// The mesh size the heartbeat grafts or prunes towards. Default 6.
    pub target: usize,
    /// More mesh peers than this and the heartbeat prunes down to `target`; a GRAFT beyond it
    /// is refused. Default 12.
    pub high: usize,
}

impl Default for MeshConfig {
    fn default() -> Self {
        Self {
            low: 5,
            target: 6,
            high: 12,
        }
    }
}

impl MeshConfig {
    /// Every subscriber up to `high` peers: a relay's mesh.
    pub fn everyone(high: usize) -> Self {
        Self {
            low: high.min(64),
            target: high,
            high,
        }
    }

    /// Check `1 ≤ low ≤ target ≤ high ≤ 1,000,000`.
    pub fn validate(&self) -> Result<(), String> {
        if self.low == 0 || self.low > self.target || self.target > self.high {
            return Err("gossip.mesh must have 1 <= low <= target <= high".into());
        }
        if self.high > 1_000_000 {
            return Err("gossip.mesh.high must be at most 1000000".into());
        }
        Ok(())
    }
}

impl Default for GossipConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024,
            heartbeat_interval_ms: 700,
            flood_publish: true,
            max_topics: 64,
            max_remote_topics: 128,
            follow_peer_topics: false,
            flood: FloodConfig::default(),
            reputation: ReputationConfig::default(),
            chunks: ChunkConfig::default(),
            pacer: PacerConfig::default(),
            validation_timeout_ms: 2_000,
            max_pending_validations: 1024,
            publish_queue_per_topic: 1024,
            publish_queue_bytes: 32 << 20,
            peer_scoring: true,
            mesh: MeshConfig::default(),
        }
    }
}

/// Connection and queue limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct LimitsConfig {
    /// Most established connections in total. Default 512.
    pub max_established: u32,
    /// Most established connections to one peer. Default 4.
    pub max_established_per_peer: u32,
    /// Most pending incoming connections (handshakes in progress). Default 128.
    pub max_pending_incoming: u32,
    /// Most pending outgoing dials. Default 64.
    pub max_pending_outgoing: u32,
    /// Capacity of the command channel into the event loop. Default 256.
    pub command_queue: usize,
    /// Capacity of the event channel out of the event loop. Default 1,024.
    pub event_queue: usize,
    /// A connection with no open stream is closed after this many seconds (1 to 86,400).
    /// Default 60.
    pub idle_connection_timeout_secs: u64,
    /// Most inbound connections from one IP address (pending and established; relayed ones
    /// are not counted); 0 for no limit. Default 64.
    pub max_connections_per_ip: u32,
    /// Loopback addresses are not limited per IP (a reverse proxy on the same host, local
    /// tests). Default true.
    pub per_ip_exempt_loopback: bool,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_established: 512,
            max_established_per_peer: 4,
            max_pending_incoming: 128,
            max_pending_outgoing: 64,
            command_queue: 256,
            event_queue: 1024,
            idle_connection_timeout_secs: 60,
            max_connections_per_ip: 64,
            per_ip_exempt_loopback: true,
        }
    }
}

/// Circuit relay v2 server settings (the relay turns this on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RelayServerConfig {
    /// Most reservations held at once. Default 1,024.
    pub max_reservations: usize,
    /// Most reservations per peer. Default 4.
    pub max_reservations_per_peer: usize,
    /// How long a reservation lasts, in seconds. Default 3,600.
    pub reservation_duration_secs: u64,
    /// Most relayed circuits at once. Default 256.
    pub max_circuits: usize,
    /// Most relayed circuits per peer. Default 16.
    pub max_circuits_per_peer: usize,
    /// Longest a circuit may live, in seconds. Default 600.
    pub max_circuit_duration_secs: u64,
    /// Most bytes relayed per circuit (each direction). Default 16 MiB.
    pub max_circuit_bytes: u64,
    /// New reservations per peer ID. Default a burst of 30, then one per 120 s (libp2p's).
    pub reservation_rate_per_peer: RateLimit,
    /// New reservations per IP address. Default a burst of 600, then one per second: many
    /// browsers can share one NAT address (libp2p's default, 60 then one per minute, would stop
    /// the 61st page of an office).
    pub reservation_rate_per_ip: RateLimit,
    /// New circuits per source peer ID. Default a burst of 30, then one per 120 s (libp2p's).
    pub circuit_rate_per_peer: RateLimit,
    /// New circuits per source IP address. Default a burst of 600, then one per second.
    pub circuit_rate_per_ip: RateLimit,
}

/// A token bucket: up to `burst` at once, then one more every `refill_secs` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RateLimit {
    /// Requests allowed at once (at least 1).
    pub burst: u32,
    /// Seconds until one more is allowed (at least 1).
    pub refill_secs: u64,
}

impl RateLimit {
    /// libp2p's per-peer default: 30, then one per two minutes.
    pub const PER_PEER: Self = Self {
        burst: 30,
        refill_secs: 120,
    };
    /// meshwork's per-IP default: 600, then one per second.
    pub const PER_IP: Self = Self {
        burst: 600,
        refill_secs: 1,
    };

    fn validate(&self, name: &str) -> Result<(), String> {
        if self.burst == 0 || self.refill_secs == 0 || self.refill_secs > 86_400 {
            return Err(format!(
                "relayServer.{name} needs burst >= 1 and 1 <= refillSecs <= 86400"
            ));
        }
        Ok(())
    }
}

impl Default for RelayServerConfig {
    fn default() -> Self {
        Self {
            max_reservations: 1024,
            max_reservations_per_peer: 4,
            reservation_duration_secs: 3600,
            max_circuits: 256,
            max_circuits_per_peer: 16,
            max_circuit_duration_secs: 600,
            max_circuit_bytes: 16 * 1024 * 1024,
            reservation_rate_per_peer: RateLimit::PER_PEER,
            reservation_rate_per_ip: RateLimit::PER_IP,
            circuit_rate_per_peer: RateLimit::PER_PEER,
            circuit_rate_per_ip: RateLimit::PER_IP,
        }
    }
}

/// Everything the core node needs to know. `NodeConfig::default()` is a good browser node;
/// the relay turns on `relay_server`, `autonat_server`, Kademlia server mode and
/// `gossip.follow_peer_topics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeConfig {
    /// Identify protocol version string. Default `"/meshwork/1.0.0"`.
    pub protocol_version: String,
    /// Identify agent version. Default `"meshwork/<crate version>"`.
    pub agent_version: String,
    /// Ping interval, in seconds. Default 15 (1 to [`MAX_PING_SECS`]).
    pub ping_interval_secs: u64,
    /// How long a ping waits for its pong, in seconds; a connection whose ping fails is closed
    /// (the heartbeat). Default 20 (1 to [`MAX_PING_SECS`]).
    pub ping_timeout_secs: u64,
    /// Kademlia mode. Default [`KadMode::Auto`].
    pub kad_mode: KadMode,
    /// Run the circuit relay v2 server. Default `None` (off).
    pub relay_server: Option<RelayServerConfig>,
    /// Answer AutoNAT dial-back requests and probe our own reachability. Default false.
    pub autonat: bool,
    /// Hole punching (DCUtR) for relayed connections. Default false (pages cannot hole-punch).
    pub dcutr: bool,
    /// Treat every listen address as a confirmed external address (announced through identify,
    /// relay reservations and Kademlia). For a relay with public or known listen addresses.
    /// Default false.
    pub advertise_listen_addrs: bool,
    /// Gossipsub settings.
    pub gossip: GossipConfig,
    /// Connection and queue limits.
    pub limits: LimitsConfig,
    /// Kademlia records: lifetimes, bounds, our signed peer record.
    pub dht: crate::dht::DhtConfig,
    /// Rendezvous namespaces: registration, discovery and (with `server`) a rendezvous point.
    pub rendezvous: RendezvousConfig,
    /// mDNS on the local segment (native only).
    pub mdns: MdnsConfig,
    /// How many peers to keep connected, pruning, redials.
    pub connections: crate::connmgr::ConnectionsConfig,
    /// The service registry: gossip announcements, bounds, the DHT quorum of registrations.
    pub services: crate::services::ServicesConfig,
    /// Peer exchange over gossip: announcing our signed peer record, hearing the others'.
    pub peer_exchange: crate::discovery::config::PeerExchangeConfig,
    /// Browser-to-browser upgrades: `None` (the default, and always for native nodes) when this
    /// node has no `/webrtc` transport. Set by the browser package, not by configuration.
    #[serde(skip)]
    pub direct_upgrade: Option<crate::direct_upgrade::DirectUpgrade>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            protocol_version: "/meshwork/1.0.0".to_owned(),
            agent_version: concat!("meshwork/", env!("CARGO_PKG_VERSION")).to_owned(),
            ping_interval_secs: 15,
            ping_timeout_secs: 20,
            kad_mode: KadMode::Auto,
            relay_server: None,
            autonat: false,
            dcutr: false,
            advertise_listen_addrs: false,
            gossip: GossipConfig::default(),
            limits: LimitsConfig::default(),
            dht: crate::dht::DhtConfig::default(),
            rendezvous: RendezvousConfig::default(),
            mdns: MdnsConfig::default(),
            connections: crate::connmgr::ConnectionsConfig::default(),
            services: crate::services::ServicesConfig::default(),
            peer_exchange: crate::discovery::config::PeerExchangeConfig::default(),
            direct_upgrade: None,
        }
    }
}

impl NodeConfig {
    /// The idle connection timeout as a [`Duration`].
    pub fn idle_connection_timeout(&self) -> Duration {
        Duration::from_secs(self.limits.idle_connection_timeout_secs)
    }

    /// Check the values for ones that cannot work; returns a message naming the field.
    pub fn validate(&self) -> Result<(), String> {
        let g = &self.gossip;
        if g.max_message_bytes < 256 || g.max_message_bytes > 16 * 1024 * 1024 {
            return Err("gossip.maxMessageBytes must be between 256 and 16777216".into());
        }
        if g.heartbeat_interval_ms < 50 || g.heartbeat_interval_ms > 60_000 {
            return Err("gossip.heartbeatIntervalMs must be between 50 and 60000".into());
        }
        if g.max_topics == 0 || g.max_remote_topics == 0 {
            return Err("gossip.maxTopics and gossip.maxRemoteTopics must be at least 1".into());
        }
        g.flood
            .validate()
            .map_err(|e| format!("gossip.flood: {e}"))?;
        g.reputation
            .validate()
            .map_err(|e| format!("gossip.reputation: {e}"))?;
        g.chunks
            .validate()
            .map_err(|e| format!("gossip.chunks: {e}"))?;
        g.pacer.validate()?;
        g.mesh.validate()?;
        if g.validation_timeout_ms == 0 || g.validation_timeout_ms > 60_000 {
            return Err("gossip.validationTimeoutMs must be between 1 and 60000".into());
        }
        if g.max_pending_validations == 0 || g.publish_queue_per_topic == 0 {
            return Err(
                "gossip.maxPendingValidations and gossip.publishQueuePerTopic must be at least 1"
                    .into(),
            );
        }
        if g.publish_queue_bytes < g.chunks.max_payload_bytes {
            return Err(
                "gossip.publishQueueBytes must be at least gossip.chunks.maxPayloadBytes".into(),
            );
        }
        let l = &self.limits;
        if l.command_queue == 0 || l.event_queue == 0 {
            return Err("limits.commandQueue and limits.eventQueue must be at least 1".into());
        }
        if l.max_established == 0 || l.max_established_per_peer == 0 {
            return Err(
                "limits.maxEstablished and limits.maxEstablishedPerPeer must be at least 1".into(),
            );
        }
        // 0 would close every connection the moment no stream is open (before a lookup's
        // next request can reuse it); above a day an idle connection is a leak.
        if !(1..=86_400).contains(&l.idle_connection_timeout_secs) {
            return Err("limits.idleConnectionTimeoutSecs must be between 1 and 86400".into());
        }
        for (name, secs) in [
            ("pingIntervalSecs", self.ping_interval_secs),
            ("pingTimeoutSecs", self.ping_timeout_secs),
        ] {
            if !(1..=MAX_PING_SECS).contains(&secs) {
                return Err(format!("{name} must be between 1 and {MAX_PING_SECS}"));
            }
        }
        self.dht.validate()?;
        self.rendezvous.validate()?;
        self.mdns.validate()?;
        self.connections.validate()?;
        self.services.validate()?;
        self.peer_exchange.validate()?;
        if let Some(r) = &self.relay_server {
            if r.max_circuit_duration_secs > u64::from(u32::MAX) {
                return Err("relayServer.maxCircuitDurationSecs is too large".into());
            }
            r.reservation_rate_per_peer
                .validate("reservationRatePerPeer")?;
            r.reservation_rate_per_ip.validate("reservationRatePerIp")?;
            r.circuit_rate_per_peer.validate("circuitRatePerPeer")?;
            r.circuit_rate_per_ip.validate("circuitRatePerIp")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(NodeConfig::default().validate(), Ok(()));
    }

    #[test]
    fn ping_timers_are_bounded() {
        for (interval, timeout, ok) in [
            (15, 20, true),
            (0, 20, false),
            (15, 0, false),
            (15, MAX_PING_SECS + 1, false),
            (MAX_PING_SECS, MAX_PING_SECS, true),
        ] {
            let c = NodeConfig {
                ping_interval_secs: interval,
                ping_timeout_secs: timeout,
                ..NodeConfig::default()
            };
            assert_eq!(c.validate().is_ok(), ok, "{interval} / {timeout}");
        }
    }

    #[test]
    fn zero_queue_is_refused_with_the_field_name() {
        let mut c = NodeConfig::default();
        c.limits.command_queue = 0;
        assert!(c.validate().unwrap_err().contains("commandQueue"));
    }

    #[test]
    fn idle_timeout_is_bounded() {
        for (secs, ok) in [
            (0, false),
            (1, true),
            (60, true),
            (86_400, true),
            (86_401, false),
        ] {
            let mut c = NodeConfig::default();
            c.limits.idle_connection_timeout_secs = secs;
            let result = c.validate();
            assert_eq!(result.is_ok(), ok, "{secs}: {result:?}");
            if !ok {
                assert!(result.unwrap_err().contains("idleConnectionTimeoutSecs"));
            }
        }
    }

    #[test]
    fn mesh_degrees_are_ordered() {
        let mut c = NodeConfig::default();
        c.gossip.mesh = MeshConfig::everyone(4096);
        assert_eq!(c.validate(), Ok(()));
        c.gossip.mesh.low = 5000;
        assert!(c.validate().unwrap_err().contains("gossip.mesh"));
        c.gossip.mesh = MeshConfig {
            low: 0,
            target: 1,
            high: 1,
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn relay_rate_limits_are_checked() {
        let mut c = NodeConfig {
            relay_server: Some(RelayServerConfig::default()),
            ..NodeConfig::default()
        };
        assert_eq!(c.validate(), Ok(()));
        if let Some(r) = c.relay_server.as_mut() {
            r.circuit_rate_per_ip.burst = 0;
        }
        assert!(c.validate().unwrap_err().contains("circuitRatePerIp"));
        let parsed: RelayServerConfig =
            serde_json::from_str(r#"{"reservationRatePerIp":{"burst":5,"refillSecs":10}}"#)
                .unwrap();
        assert_eq!(parsed.reservation_rate_per_ip.burst, 5);
        assert_eq!(parsed.circuit_rate_per_ip, RateLimit::PER_IP);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let r: Result<NodeConfig, _> = serde_json::from_str(r#"{"gossip":{"maxMesageBytes":1}}"#);
        assert!(r.is_err());
    }

    #[test]
    fn partial_json_keeps_other_defaults() {
        let c: NodeConfig = serde_json::from_str(r#"{"gossip":{"maxMessageBytes":1000}}"#).unwrap();
        assert_eq!(c.gossip.max_message_bytes, 1000);
        assert_eq!(c.gossip.heartbeat_interval_ms, 700);
        assert_eq!(c.limits, LimitsConfig::default());
    }
}
