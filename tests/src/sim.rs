//! Many DHT server nodes in one process on the memory transport: the DHT simulation test and
//! the DHT lookup benchmark (`examples/dht_lookup.rs`) build on these.

use std::collections::HashSet;

use futures::StreamExt;
use libp2p::{identity::Keypair, multiaddr::Protocol, Multiaddr, PeerId};
use meshwork_core::{KadMode, NodeConfig, NodeHandle};

use crate::{memory_address, memory_swarm, run_node, TestNode};

/// A running node of the simulation (its events are drained in the background).
pub struct SimNode {
    /// Its identity, to bring it back after it left.
    pub keypair: Keypair,
    /// Sends commands.
    pub handle: NodeHandle,
    /// `/memory/<port>`.
    pub address: Multiaddr,
}

impl SimNode {
    /// The peer ID.
    pub fn peer_id(&self) -> PeerId {
        self.handle.local_peer_id()
    }

    /// The dialable address, with `/p2p/<id>`.
    pub fn full_address(&self) -> Multiaddr {
        self.address.clone().with(Protocol::P2p(self.peer_id()))
    }
}

/// A DHT server whose memory address is its confirmed external address. Like a relay it keeps
/// every connection up to its limit (no pruning), and it does not announce itself over gossip
/// (peer exchange): the simulation measures the DHT, not the connection manager or gossip.
/// `tests/peer_exchange.rs` covers peer exchange.
pub fn server_config() -> NodeConfig {
    let limits = meshwork_core::LimitsConfig::default();
    NodeConfig {
        kad_mode: KadMode::Server,
        advertise_listen_addrs: true,
        connections: meshwork_core::ConnectionsConfig::serving(limits.max_established as usize),
        limits,
        peer_exchange: meshwork_core::PeerExchangeConfig {
            enabled: false,
            ..Default::default()
        },
        ..NodeConfig::default()
    }
}

/// Start a server node with `keypair` at a fresh address; its events are drained (nobody
/// reads them, and an unread event queue would stall the node).
pub async fn start(keypair: Keypair) -> SimNode {
    start_with(keypair, server_config()).await
}

/// [`start`] with another configuration.
pub async fn start_with(keypair: Keypair, config: NodeConfig) -> SimNode {
    let swarm = memory_swarm(keypair.clone(), &config);
    let TestNode {
        handle,
        mut events,
        address,
    } = run_node(swarm, keypair.clone(), config, memory_address()).await;
    tokio::spawn(async move { while events.next().await.is_some() {} });
    SimNode {
        keypair,
        handle,
        address,
    }
}

/// A small deterministic generator (no randomness crate needed).
pub struct Lcg(pub u64);

impl Lcg {
    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Three distinct random indexes below `count` (all of them if fewer): whom a joining node
/// dials.
pub fn bootstrap_picks(count: usize, rng: &mut Lcg) -> HashSet<usize> {
    let mut picked = HashSet::new();
    while picked.len() < count.min(3) {
        picked.insert(rng.below(count));
    }
    picked
}

/// Connect `node` to three random `earlier` nodes (all of them if fewer).
pub async fn join(node: &SimNode, earlier: &[SimNode], rng: &mut Lcg) {
    for i in bootstrap_picks(earlier.len(), rng) {
        node.handle
            .dial(earlier[i].full_address())
            .await
            .expect("dial a bootstrap node");
    }
}

/// Start `count` nodes, each joining three random earlier ones.
pub async fn network(count: usize, rng: &mut Lcg) -> Vec<SimNode> {
    network_with(count, rng, server_config()).await
}

/// [`network`] of nodes with `config`.
pub async fn network_with(count: usize, rng: &mut Lcg, config: NodeConfig) -> Vec<SimNode> {
    let mut nodes: Vec<SimNode> = Vec::with_capacity(count);
    grow(&mut nodes, count, rng, &config).await;
    nodes
}

/// Add `count` nodes with `config` to `nodes`, each joining three random earlier ones (so a
/// caller can build a large network in steps and report on each).
pub async fn grow(nodes: &mut Vec<SimNode>, count: usize, rng: &mut Lcg, config: &NodeConfig) {
    for _ in 0..count {
        let node = start_with(Keypair::generate_ed25519(), config.clone()).await;
        join(&node, nodes, rng).await;
        nodes.push(node);
    }
}
