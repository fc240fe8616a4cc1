//! Kademlia-only nodes, for DHT simulations larger than full meshwork nodes allow in one
//! process (the 1,000-node benchmark, `examples/dht_routing.rs`).
//!
//! Each node runs meshwork's own Kademlia ([`meshwork_core::behaviour::kademlia`]: protocol,
//! query timeout, replication, mode) and identify, which feeds Kademlia the peers' listen
//! addresses as the core event loop does, on the memory transport with Noise and yamux. Nothing
//! else: no gossipsub, ping, relay or connection manager, so a node and each of its
//! connections cost a fraction of a full node's. A peer lookup is the one `findPeer` starts for a
//! DHT server: the single closest peer to the target's ID, found when that is the target.

use std::{
    collections::HashMap,
    num::NonZeroUsize,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Duration,
};

use futures::StreamExt;
use libp2p::{
    identify,
    identity::Keypair,
    kad::{self, QueryId, QueryResult},
    multiaddr::Protocol,
    swarm::{NetworkBehaviour, SwarmEvent},
    Multiaddr, PeerId,
};
use meshwork_core::{behaviour::KAD_PROTOCOL, dht::closest::target_addresses, NodeConfig};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::{
    hop_trace::{hops_to, node_span, HopTrace},
    memory_address, raw_memory_swarm_with_idle,
    sim::{bootstrap_picks, Lcg},
};

/// Commands a node's task takes at once, at most (callers wait for room).
const COMMAND_QUEUE: usize = 16;

/// Lookups a node runs at once, at most; more are refused.
pub const MAX_LOOKUPS: usize = 64;

/// Totals over every node of this process, for progress reports, indexed by the constants
/// below.
static TOTALS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];
const OPENED: usize = 0;
const CLOSED: usize = 1;
const REQUESTS_ANSWERED: usize = 2;
const OWN_QUERY_STEPS: usize = 3;
const PEAK_OPEN: usize = 4;

/// What every node of this process has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Connection ends established (each connection between two nodes of the process counts
    /// twice, once at each node).
    pub opened: u64,
    /// Connection ends closed.
    pub closed: u64,
    /// The most connection ends open at once.
    pub peak_open: u64,
    /// Kademlia requests answered.
    pub requests_answered: u64,
    /// Steps of queries Kademlia ran by itself (bootstrap and bucket refresh).
    pub own_query_steps: u64,
}

/// The totals so far.
pub fn totals() -> Totals {
    let at = |i: usize| TOTALS[i].load(Relaxed);
    Totals {
        opened: at(OPENED),
        closed: at(CLOSED),
        peak_open: at(PEAK_OPEN),
        requests_answered: at(REQUESTS_ANSWERED),
        own_query_steps: at(OWN_QUERY_STEPS),
    }
}

/// Meshwork's Kademlia and identify, nothing else.
#[derive(NetworkBehaviour)]
struct KadOnly {
    identify: identify::Behaviour,
    kad: kad::Behaviour<kad::store::MemoryStore>,
}

/// Where a simulated node departs from a meshwork node's settings.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// A connection without streams closes after this (meshwork:
    /// `limits.idleConnectionTimeoutSecs`, 60 s by default).
    pub idle: Duration,
    /// Whether Kademlia bootstraps again every 5 minutes (meshwork: yes). Each node still
    /// bootstraps when its routing table gets its first peers.
    pub periodic_bootstrap: bool,
}

/// What one peer lookup found.
#[derive(Debug, Clone)]
pub struct LookupOutcome {
    /// The target answered and an address of it is known
    /// ([`meshwork_core::dht::closest::target_addresses`], as `findPeer` decides).
    pub found: bool,
    /// Kademlia requests the query sent.
    pub requests: u32,
    /// Answers in the chain that named the target ([`hops_to`]); `None` without a trace or when
    /// no answer named it.
    pub hops: Option<u32>,
}

enum Command {
    Dial(Multiaddr),
    FindPeer(PeerId, oneshot::Sender<Result<LookupOutcome, KadNodeError>>),
}

/// A running Kademlia-only node.
pub struct KadNode {
    /// Its peer ID.
    pub peer_id: PeerId,
    /// Its `/memory/<port>` listen address.
    pub address: Multiaddr,
    commands: mpsc::Sender<Command>,
}

/// Why a [`KadNode`] call did not complete.
#[derive(Debug)]
pub enum KadNodeError {
    /// The node's task has ended.
    Stopped,
    /// [`MAX_LOOKUPS`] lookups were already running.
    Busy,
}

impl KadNode {
    /// Start node number `index` (its trace events carry it) with `config`'s Kademlia mode and
    /// settings, changed as `options` say. `trace`, when given, records the answers of this
    /// node's lookups for their hop counts.
    pub async fn start(
        index: usize,
        config: &NodeConfig,
        options: &SimOptions,
        trace: Option<HopTrace>,
    ) -> Result<Self, String> {
        let keypair = Keypair::generate_ed25519();
        let peer_id = keypair.public().to_peer_id();
        let mut kad_config = meshwork_core::behaviour::kademlia_config(config);
        if !options.periodic_bootstrap {
            kad_config.set_periodic_bootstrap_interval(None);
        }
        let behaviour = |key: &Keypair| KadOnly {
            identify: meshwork_core::behaviour::identify(key, config),
            kad: meshwork_core::behaviour::kademlia_with(peer_id, config, kad_config),
        };
        let mut swarm = raw_memory_swarm_with_idle(keypair, options.idle, behaviour);
        let listen = memory_address();
        swarm
            .listen_on(listen.clone())
            .map_err(|e| format!("listen on {listen}: {e}"))?;
        let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
        let task = NodeTask {
            index,
            swarm,
            trace,
            lookups: HashMap::new(),
        };
        tokio::spawn(task.run(receiver).instrument(node_span(index)));
        Ok(Self {
            peer_id,
            address: listen,
            commands,
        })
    }

    /// The dialable address, with `/p2p/<id>`.
    pub fn full_address(&self) -> Multiaddr {
        self.address.clone().with(Protocol::P2p(self.peer_id))
    }

    /// Dial `address` (Kademlia learns the peer through identify once connected).
    pub async fn dial(&self, address: Multiaddr) -> Result<(), KadNodeError> {
        self.commands
            .send(Command::Dial(address))
            .await
            .map_err(|_| KadNodeError::Stopped)
    }

    /// Dial three random `earlier` nodes (all of them if fewer), as [`crate::sim::join`] does.
    pub async fn join(&self, earlier: &[KadNode], rng: &mut Lcg) -> Result<(), KadNodeError> {
        for i in bootstrap_picks(earlier.len(), rng) {
            self.dial(earlier[i].full_address()).await?;
        }
        Ok(())
    }

    /// Look `target` up as `findPeer` does for a DHT server.
    pub async fn find_peer(&self, target: PeerId) -> Result<LookupOutcome, KadNodeError> {
        let (reply, outcome) = oneshot::channel();
        self.commands
            .send(Command::FindPeer(target, reply))
            .await
            .map_err(|_| KadNodeError::Stopped)?;
        outcome.await.map_err(|_| KadNodeError::Stopped)?
    }
}

/// A lookup in flight: its target and who waits for the outcome.
struct Pending {
    target: PeerId,
    reply: oneshot::Sender<Result<LookupOutcome, KadNodeError>>,
}

struct NodeTask {
    index: usize,
    swarm: libp2p::Swarm<KadOnly>,
    trace: Option<HopTrace>,
    lookups: HashMap<QueryId, Pending>,
}

impl NodeTask {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    // Every handle is gone: the node stops.
                    None => return,
                },
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Dial(address) => {
                if let Err(e) = self.swarm.dial(address.clone()) {
                    tracing::debug!(%address, "dial failed: {e}");
                }
            }
            Command::FindPeer(target, reply) => {
                if self.lookups.len() >= MAX_LOOKUPS {
                    let _ = reply.send(Err(KadNodeError::Busy));
                    return;
                }
                let id = self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .get_n_closest_peers(target, NonZeroUsize::MIN);
                if let Some(trace) = &self.trace {
                    // The peers the query starts from, as Kademlia picks them (its 20 closest).
                    let key = kad::KBucketKey::from(target);
                    let seeds = self
                        .swarm
                        .behaviour_mut()
                        .kad
                        .get_closest_local_peers(&key)
                        .take(kad::K_VALUE.get())
                        .map(|k| *k.preimage())
                        .collect();
                    trace.watch(self.index, id, seeds);
                }
                self.lookups.insert(id, Pending { target, reply });
            }
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<KadOnlyEvent>) {
        match event {
            SwarmEvent::Behaviour(KadOnlyEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) if info.protocols.contains(&KAD_PROTOCOL) => {
                for address in info.listen_addrs {
                    self.swarm
                        .behaviour_mut()
                        .kad
                        .add_address(&peer_id, address);
                }
            }
            SwarmEvent::Behaviour(KadOnlyEvent::Kad(kad::Event::OutboundQueryProgressed {
                id,
                result: QueryResult::GetClosestPeers(result),
                stats,
                ..
            })) if self.lookups.contains_key(&id) => {
                let Some(Pending { target, reply }) = self.lookups.remove(&id) else {
                    return;
                };
                // As `findPeer` decides (a timed-out query is a miss there too).
                let found = result.is_ok_and(|ok| {
                    let kad = &mut self.swarm.behaviour_mut().kad;
                    target_addresses(kad, &ok.peers, target).is_some()
                });
                let hops = self
                    .trace
                    .as_ref()
                    .and_then(|trace| hops_to(target, &trace.take(self.index, id)));
                let _ = reply.send(Ok(LookupOutcome {
                    found,
                    requests: stats.num_requests(),
                    hops,
                }));
            }
            // Kademlia's own lookups (bootstrap and bucket refresh).
            SwarmEvent::Behaviour(KadOnlyEvent::Kad(kad::Event::OutboundQueryProgressed {
                ..
            })) => {
                TOTALS[OWN_QUERY_STEPS].fetch_add(1, Relaxed);
            }
            SwarmEvent::Behaviour(KadOnlyEvent::Kad(kad::Event::InboundRequest { .. })) => {
                TOTALS[REQUESTS_ANSWERED].fetch_add(1, Relaxed);
            }
            SwarmEvent::ConnectionEstablished { .. } => {
                let opened = TOTALS[OPENED].fetch_add(1, Relaxed) + 1;
                let open = opened.saturating_sub(TOTALS[CLOSED].load(Relaxed));
                TOTALS[PEAK_OPEN].fetch_max(open, Relaxed);
            }
            SwarmEvent::ConnectionClosed { .. } => {
                TOTALS[CLOSED].fetch_add(1, Relaxed);
            }
            _ => {}
        }
    }
}
