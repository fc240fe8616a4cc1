//! Discovery settings: rendezvous (client and point), mDNS and peer exchange over gossip.

use serde::{Deserialize, Serialize};

/// Rendezvous: registering this node under namespaces at rendezvous points, and discovering
/// peers by namespace. A rendezvous point is any connected peer whose identify lists
/// `/rendezvous/1.0.0` (meshwork-relay is one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RendezvousConfig {
    /// Registration lifetime asked for when a call names none, in seconds. Default 300. The
    /// registration is refreshed at half its granted lifetime until unregistered, so a node that
    /// goes away disappears from the point within this time.
    pub default_ttl_secs: u64,
    /// Namespaces this node may be registered under at once. Default 32 (what a point accepts
    /// per peer by default).
    pub max_namespaces: usize,
    /// Peers remembered per discovered namespace, and asked of a point per request.
    /// Default 1,000.
    pub max_peers_per_namespace: usize,
    /// Namespaces whose discovered peers (and cookies) are remembered; the least recently used
    /// is forgotten first. Default 64.
    pub max_discovered_namespaces: usize,
    /// How long `register` and `discover` wait for the points' answers, in seconds. Default 10.
    pub timeout_secs: u64,
    /// Run a rendezvous point. Default `None` (off); meshwork-relay turns it on.
    pub server: Option<RendezvousServerConfig>,
}

impl Default for RendezvousConfig {
    fn default() -> Self {
        Self {
            default_ttl_secs: 300,
            max_namespaces: 32,
            max_peers_per_namespace: 1000,
            max_discovered_namespaces: 64,
            timeout_secs: 10,
            server: None,
        }
    }
}

/// A rendezvous point's limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RendezvousServerConfig {
    /// Shortest registration lifetime accepted, in seconds. Default 60 (the spec's default
    /// minimum of 2 hours keeps a closed page listed far too long).
    pub min_ttl_secs: u64,
    /// Longest registration lifetime accepted, in seconds. Default 259,200 (72 hours).
    pub max_ttl_secs: u64,
    /// Most namespaces one peer may be registered under. Default 32.
    pub max_registrations_per_peer: usize,
    /// Most registrations held in total. Default 10,000.
    pub max_registrations: usize,
    /// Most discovery cookies remembered. Default 10,000.
    pub max_cookies: usize,
}

impl Default for RendezvousServerConfig {
    fn default() -> Self {
        Self {
            min_ttl_secs: 60,
            max_ttl_secs: 72 * 3600,
            max_registrations_per_peer: 32,
            max_registrations: 10_000,
            max_cookies: 10_000,
        }
    }
}

/// Longest registration lifetime a client may ask for, in seconds (the spec's maximum).
pub const MAX_TTL_SECS: u64 = 72 * 3600;
/// Shortest registration lifetime a client may ask for, in seconds: below this the refresh
/// traffic is out of proportion.
pub const MIN_TTL_SECS: u64 = 10;

impl RendezvousConfig {
    /// Check the values; returns a message naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(MIN_TTL_SECS..=MAX_TTL_SECS).contains(&self.default_ttl_secs) {
            return Err(format!(
                "rendezvous.defaultTtlSecs must be between {MIN_TTL_SECS} and {MAX_TTL_SECS}"
            ));
        }
        if self.max_namespaces == 0
            || self.max_peers_per_namespace == 0
            || self.max_discovered_namespaces == 0
        {
            return Err("rendezvous.maxNamespaces, maxPeersPerNamespace and \
                        maxDiscoveredNamespaces must be at least 1"
                .into());
        }
        if self.timeout_secs == 0 || self.timeout_secs > 300 {
            return Err("rendezvous.timeoutSecs must be between 1 and 300".into());
        }
        if let Some(s) = &self.server {
            if s.min_ttl_secs == 0 || s.min_ttl_secs > s.max_ttl_secs {
                return Err(
                    "rendezvous.server.minTtlSecs must be at least 1 and at most maxTtlSecs".into(),
                );
            }
            if s.max_registrations_per_peer == 0 || s.max_registrations == 0 || s.max_cookies == 0 {
                return Err(
                    "rendezvous.server.maxRegistrationsPerPeer, maxRegistrations and \
                            maxCookies must be at least 1"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

/// mDNS: find meshwork nodes on the local network segment with no configuration (native only;
/// ignored in the browser, which has no multicast sockets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct MdnsConfig {
    /// Run mDNS. Default false in the core (in-process tests must not find each other through
    /// the host's network); meshwork-relay and meshwork-peer turn it on.
    pub enabled: bool,
    /// Dial peers found this way when not connected yet. Default true.
    pub dial: bool,
    /// Seconds between announcements/queries. Default 30.
    pub query_interval_secs: u64,
}

impl Default for MdnsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            dial: true,
            query_interval_secs: 30,
        }
    }
}

impl MdnsConfig {
    /// Check the values; returns a message naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.query_interval_secs == 0 || self.query_interval_secs > 3600 {
            return Err("mdns.queryIntervalSecs must be between 1 and 3600".into());
        }
        Ok(())
    }
}

/// Peer exchange over gossip (`discovery::exchange`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct PeerExchangeConfig {
    /// Join the peer-exchange topic: announce our signed peer record, and report the peers
    /// others announce as `peer:discovery` (source `gossip`). Default true.
    pub enabled: bool,
    /// How often this node announces itself, in seconds (10 to 3,600; also within 10 s of an
    /// address change). Default 30.
    pub interval_secs: u64,
    /// Peers whose newest record is remembered. Default 1,024.
    pub max_known_peers: usize,
    /// Dial a newly announced peer while this node has fewer than `connections.target` peers.
    /// Default false.
    pub dial: bool,
}

impl Default for PeerExchangeConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_secs: 30,
            max_known_peers: 1024,
            dial: false,
        }
    }
}

impl PeerExchangeConfig {
    /// Check the values; returns a message naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(10..=3600).contains(&self.interval_secs) {
            return Err("peerExchange.intervalSecs must be between 10 and 3600".into());
        }
        if self.max_known_peers == 0 || self.max_known_peers > 65_536 {
            return Err("peerExchange.maxKnownPeers must be between 1 and 65536".into());
        }
        Ok(())
    }
}
