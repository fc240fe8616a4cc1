//! Helpers for the integration tests: meshwork nodes in one process on libp2p's memory
//! transport, each running the real core event loop on tokio.

pub mod bench_stats;
pub mod hop_trace;
pub mod kad_sim;
pub mod sim;

use std::time::Duration;

use futures::StreamExt;
use libp2p::{
    core::{muxing::StreamMuxerBox, transport::MemoryTransport, upgrade::Version},
    identity::Keypair,
    multiaddr::Protocol,
    noise, yamux, Multiaddr, PeerId, SwarmBuilder, Transport,
};
use meshwork_core::{
    behaviour::Behaviour, event_loop::EventLoop, Event, EventReceiver, NodeConfig, NodeHandle,
    Traffic,
};

/// How long a test waits for any one expected event before failing (catches hangs only).
pub const EVENT_DEADLINE: Duration = Duration::from_secs(20);

/// A running node: its handle, its events and its memory listen address.
pub struct TestNode {
    /// Sends commands.
    pub handle: NodeHandle,
    /// Receives events.
    pub events: EventReceiver,
    /// `/memory/<port>` (without `/p2p`).
    pub address: Multiaddr,
}

impl TestNode {
    /// The peer ID.
    pub fn peer_id(&self) -> PeerId {
        self.handle.local_peer_id()
    }

    /// The full dialable address, with `/p2p/<id>`.
    pub fn full_address(&self) -> Multiaddr {
        self.address.clone().with(Protocol::P2p(self.peer_id()))
    }

    /// Wait for the first event `pick` accepts, skipping others; panics after [`EVENT_DEADLINE`].
    pub async fn next_matching<T>(&mut self, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let wait = async {
            while let Some(event) = self.events.next().await {
                if let Some(found) = pick(&event) {
                    return found;
                }
            }
            panic!("event stream ended");
        };
        tokio::time::timeout(EVENT_DEADLINE, wait)
            .await
            .expect("expected event did not arrive in time")
    }
}

/// Start a node with `config`, listening on a fresh memory address.
pub async fn spawn_node(config: NodeConfig) -> TestNode {
    let keypair = Keypair::generate_ed25519();
    let traffic = Traffic::default();
    let swarm = counted_memory_swarm(keypair.clone(), &config, &traffic);
    run_counted_node(swarm, keypair, config, memory_address(), traffic).await
}

/// A fresh memory address (`/memory/<port>`), unique in this process.
pub fn memory_address() -> Multiaddr {
    format!("/memory/{}", rand_port())
        .parse()
        .expect("memory addr")
}

/// A swarm with the meshwork behaviour on the memory transport (noise, yamux), not yet running.
pub fn memory_swarm(keypair: Keypair, config: &NodeConfig) -> libp2p::Swarm<Behaviour> {
    counted_memory_swarm(keypair, config, &Traffic::default())
}

/// A swarm of any behaviour on the memory transport (noise, yamux): a bare libp2p peer that
/// speaks meshwork's wire protocols without meshwork's checks, for tests that send what a
/// meshwork node never would.
pub fn raw_memory_swarm<B: libp2p::swarm::NetworkBehaviour>(
    keypair: Keypair,
    behaviour: impl FnOnce(&Keypair) -> B,
) -> libp2p::Swarm<B> {
    raw_memory_swarm_with_idle(keypair, Duration::from_secs(60), behaviour)
}

/// [`raw_memory_swarm`] whose connections close after `idle` without streams.
pub fn raw_memory_swarm_with_idle<B: libp2p::swarm::NetworkBehaviour>(
    keypair: Keypair,
    idle: Duration,
    behaviour: impl FnOnce(&Keypair) -> B,
) -> libp2p::Swarm<B> {
    SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_other_transport(|key| {
            MemoryTransport::default()
                .upgrade(Version::V1)
                .authenticate(noise::Config::new(key).expect("noise config"))
                .multiplex(yamux::Config::default())
        })
        .expect("memory transport")
        .with_behaviour(|key| behaviour(key))
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
        .build()
}

/// [`memory_swarm`] whose connections count their bytes into `traffic`.
pub fn counted_memory_swarm(
    keypair: Keypair,
    config: &NodeConfig,
    traffic: &Traffic,
) -> libp2p::Swarm<Behaviour> {
    let traffic = traffic.clone();
    let behaviour_config = config.clone();
    let idle = config.idle_connection_timeout();
    SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_other_transport(|key| {
            MemoryTransport::default()
                .upgrade(Version::V1)
                .authenticate(noise::Config::new(key).expect("noise config"))
                .multiplex(yamux::Config::default())
                .map(move |(peer, muxer), _| (peer, traffic.wrap(peer, StreamMuxerBox::new(muxer))))
        })
        .expect("memory transport")
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .expect("relay client")
        .with_behaviour(|key, relay| Behaviour::for_swarm(key, relay, &behaviour_config))
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
        .build()
}

/// Run the core event loop over `swarm` (whose identity is `keypair`), listen on `listen` and
/// wait for the first listen address (which becomes [`TestNode::address`]).
pub async fn run_node(
    swarm: libp2p::Swarm<Behaviour>,
    keypair: Keypair,
    config: NodeConfig,
    listen: Multiaddr,
) -> TestNode {
    run_counted_node(swarm, keypair, config, listen, Traffic::default()).await
}

/// [`run_node`] reading byte counts from `traffic` (the swarm's, see [`counted_memory_swarm`]).
pub async fn run_counted_node(
    swarm: libp2p::Swarm<Behaviour>,
    keypair: Keypair,
    config: NodeConfig,
    listen: Multiaddr,
    traffic: Traffic,
) -> TestNode {
    let (event_loop, handle, events) = EventLoop::new(swarm, keypair, config);
    tokio::spawn(event_loop.with_traffic(traffic).run());
    listening(handle, events, listen).await.0
}

/// What a node reported about its stored peers at start: (restored, skipped, discarded).
pub type StoreLoaded = (usize, usize, Option<String>);

/// A node with identity `keypair` on a fresh memory address, with a peer store: `stored` is the
/// document a previous run saved (`None`: none). Returns the node, where its new documents
/// arrive, and its `PeerStoreLoaded` report.
pub async fn run_stored_node(
    keypair: &Keypair,
    config: &NodeConfig,
    stored: Option<&[u8]>,
) -> (
    TestNode,
    meshwork_core::event_loop::PeerStoreReceiver,
    StoreLoaded,
) {
    let swarm = memory_swarm(keypair.clone(), config);
    let (event_loop, handle, events) = EventLoop::new(swarm, keypair.clone(), config.clone());
    let (event_loop, documents) = event_loop.with_peer_store(stored);
    tokio::spawn(event_loop.run());
    let (mut node, skipped) = listening(handle, events, memory_address()).await;
    let report = |e: &Event| match e {
        Event::PeerStoreLoaded {
            restored,
            skipped,
            discarded,
        } => Some((*restored, *skipped, discarded.clone())),
        _ => None,
    };
    let loaded = match skipped.iter().find_map(report) {
        Some(loaded) => loaded,
        None => node.next_matching(report).await,
    };
    (node, documents, loaded)
}

/// Listen on `listen` and wait for the first listen address; also returns the events that came
/// before it.
async fn listening(
    handle: meshwork_core::NodeHandle,
    mut events: meshwork_core::EventReceiver,
    listen: Multiaddr,
) -> (TestNode, Vec<Event>) {
    handle.listen(listen).await.expect("listen");
    let address = tokio::time::timeout(EVENT_DEADLINE, async {
        let mut before = Vec::new();
        loop {
            match events.next().await {
                Some(Event::ListenAddr { address }) => return (address, before),
                Some(other) => before.push(other),
                None => panic!("event stream ended before a listen address"),
            }
        }
    })
    .await
    .expect("listen address");
    let (address, before) = address;
    (
        TestNode {
            handle,
            events,
            address,
        },
        before,
    )
}

fn rand_port() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // Distinct per process run and per call; memory ports only need to be unique in-process.
    let base = u64::from(std::process::id()) << 20;
    base + NEXT.fetch_add(1, Ordering::Relaxed) + 1
}

/// Retry `publish` until some peer subscribes (gossip learns subscriptions asynchronously).
pub async fn publish_when_ready(node: &TestNode, topic: &str, data: &[u8]) -> String {
    tokio::time::timeout(EVENT_DEADLINE, async {
        loop {
            match node.handle.publish(topic, data.to_vec()).await {
                Ok(id) => return id,
                Err(e) if e.code == meshwork_core::ErrorCode::NoPeers => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(e) => panic!("publish failed: {e}"),
            }
        }
    })
    .await
    .expect("a peer subscribed in time")
}
