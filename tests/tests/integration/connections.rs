//! The connection manager in process: kept peers are redialled after a loss (and relays
//! reserved on again), `removePeer` lets go, a wrong identity is refused, bootstrap peers that
//! were down are reached in the background, pruning spares protected peers, and `listPeers`
//! reports traffic. Connection state events come in a valid order throughout.

use std::time::Duration;

use libp2p::{identity::Keypair, multiaddr::Protocol, Multiaddr, PeerId};
use meshwork_core::{
    connmgr::bootstrap::{self, BootstrapTarget},
    ConnState, ConnectionsConfig, ErrorCode, Event, NodeConfig, RelayServerConfig, Traffic,
};
use meshwork_tests::{
    counted_memory_swarm, memory_address, run_counted_node, spawn_node, TestNode, EVENT_DEADLINE,
};

/// Fast redials, so a test does not wait out production backoffs.
fn quick_config() -> NodeConfig {
    NodeConfig {
        connections: ConnectionsConfig {
            reconnect_base_ms: 100,
            reconnect_max_secs: 1,
            ..ConnectionsConfig::default()
        },
        ..NodeConfig::default()
    }
}

async fn node_at(keypair: Keypair, config: NodeConfig, address: Multiaddr) -> TestNode {
    let traffic = Traffic::default();
    let swarm = counted_memory_swarm(keypair.clone(), &config, &traffic);
    run_counted_node(swarm, keypair, config, address, traffic).await
}

/// The next state event about `peer`.
async fn next_state(node: &mut TestNode, peer: PeerId) -> (ConnState, Option<String>) {
    node.next_matching(|e| match e {
        Event::PeerState {
            peer_id,
            state,
            reason,
        } if *peer_id == peer => Some((*state, reason.clone())),
        _ => None,
    })
    .await
}

/// States of `peer` until (and including) `until`, checking each step is a legal transition.
async fn states_until(node: &mut TestNode, peer: PeerId, until: ConnState) -> Vec<ConnState> {
    use ConnState::*;
    let mut seen = Vec::new();
    let mut previous = None;
    loop {
        let (state, _) = next_state(node, peer).await;
        if let Some(from) = previous {
            let legal = matches!(
                (from, state),
                (Disconnected, Connecting)
                    | (Disconnected, Connected)
                    | (Connecting, Connected)
                    | (Connecting, Disconnected)
                    | (Connected, Disconnecting)
                    | (Connected, Disconnected)
                    | (Disconnecting, Disconnected)
            );
            assert!(legal, "{from:?} -> {state:?} in {seen:?}");
        }
        previous = Some(state);
        seen.push(state);
        if state == until {
            return seen;
        }
    }
}

async fn connected_ids(node: &TestNode) -> Vec<PeerId> {
    node.handle
        .peers()
        .await
        .expect("peers")
        .iter()
        .filter_map(|p| p.peer_id.parse().ok())
        .collect()
}

/// Poll `check` every 100 ms until it holds; panics after [`EVENT_DEADLINE`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let waited = tokio::time::timeout(EVENT_DEADLINE, async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{what}: not within {EVENT_DEADLINE:?}");
}

#[tokio::test]
async fn an_added_peer_is_redialled_after_a_restart_and_let_go_on_remove() {
    let b_key = Keypair::generate_ed25519();
    let b_address = memory_address();
    let b = node_at(b_key.clone(), NodeConfig::default(), b_address.clone()).await;
    let b_id = b.peer_id();
    let mut a = spawn_node(quick_config()).await;

    let added = a.handle.add_peer(b.full_address(), Some(b_id)).await;
    assert_eq!(added.expect("addPeer"), b_id);
    assert_eq!(
        states_until(&mut a, b_id, ConnState::Connected).await,
        [ConnState::Connecting, ConnState::Connected]
    );

    // B goes away and comes back with the same identity at the same address.
    b.handle.shutdown().await.expect("shutdown");
    drop(b);
    assert_eq!(next_state(&mut a, b_id).await.0, ConnState::Disconnected);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let _b = node_at(b_key, NodeConfig::default(), b_address).await;
    let states = states_until(&mut a, b_id, ConnState::Connected).await;
    assert_eq!(states.first(), Some(&ConnState::Connecting), "{states:?}");

    let listed = a.handle.list_peers().await.expect("listPeers");
    let entry = listed
        .iter()
        .find(|p| p.peer_id == b_id.to_string())
        .expect("b listed");
    assert!(entry.kept.is_some_and(|r| r.manual));
    assert_eq!(entry.state, ConnState::Connected);

    assert!(a.handle.remove_peer(b_id).await.expect("removePeer"));
    assert_eq!(
        next_state(&mut a, b_id).await,
        (ConnState::Disconnecting, Some("removed".into()))
    );
    assert_eq!(
        next_state(&mut a, b_id).await,
        (ConnState::Disconnected, Some("removed".into()))
    );
    // Not redialled: still gone well after the backoff.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!connected_ids(&a).await.contains(&b_id));
    assert!(a.handle.list_peers().await.expect("listPeers").is_empty());
    assert!(!a.handle.remove_peer(b_id).await.expect("removePeer again"));
}

#[tokio::test]
async fn add_peer_refuses_a_wrong_identity_and_keeps_nothing() {
    let b = spawn_node(NodeConfig::default()).await;
    let a = spawn_node(quick_config()).await;
    let stranger = PeerId::random();

    // The address names B, the caller expects someone else: refused before dialling.
    let e = a
        .handle
        .add_peer(b.full_address(), Some(stranger))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::PeerIdMismatch, "{e}");

    // A bare address: the handshake shows the remote is B, not the expected peer.
    let e = a
        .handle
        .add_peer(b.address.clone(), Some(stranger))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::PeerIdMismatch, "{e}");

    // Nobody listens there.
    let e = a
        .handle
        .add_peer(memory_address().with(Protocol::P2p(stranger)), None)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DialFailed, "{e}");

    // Our own ID.
    let e = a
        .handle
        .add_peer(b.address.clone(), Some(a.peer_id()))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidPeerId, "{e}");

    assert!(a.handle.list_peers().await.expect("listPeers").is_empty());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(connected_ids(&a).await.is_empty());
}

#[tokio::test]
async fn a_bootstrap_peer_down_at_start_is_reached_in_the_background() {
    let b_key = Keypair::generate_ed25519();
    let b_id = b_key.public().to_peer_id();
    let b_address = memory_address();
    let a = spawn_node(quick_config()).await;

    let targets = [BootstrapTarget {
        peer: Some(b_id),
        addresses: vec![b_address.clone().with(Protocol::P2p(b_id))],
        relay: false,
    }];
    let outcome = bootstrap::run(&a.handle, &targets).await;
    assert!(outcome.reached.is_empty());
    assert_eq!(outcome.failures.len(), 1);
    assert_eq!(
        outcome.require_one().unwrap_err().code,
        ErrorCode::DialFailed
    );
    let listed = a.handle.list_peers().await.expect("listPeers");
    assert_eq!(listed.len(), 1, "kept while down");
    assert!(listed[0].last_error.is_some());
    assert!(listed[0].kept.is_some_and(|r| r.bootstrap));

    let _b = node_at(b_key, NodeConfig::default(), b_address).await;
    eventually("the bootstrap peer is redialled", || async {
        connected_ids(&a).await.contains(&b_id)
    })
    .await;
}

#[tokio::test]
async fn a_kept_relay_is_reserved_on_again_after_it_restarts() {
    let relay_key = Keypair::generate_ed25519();
    let relay_address = memory_address();
    let relay_config = NodeConfig {
        relay_server: Some(RelayServerConfig::default()),
        advertise_listen_addrs: true,
        ..NodeConfig::default()
    };
    let relay = node_at(
        relay_key.clone(),
        relay_config.clone(),
        relay_address.clone(),
    )
    .await;
    let relay_id = relay.peer_id();
    let mut page = spawn_node(quick_config()).await;

    let targets = bootstrap::targets(vec![relay.full_address()], &[relay_id]);
    assert!(targets[0].relay);
    let outcome = bootstrap::run(&page.handle, &targets).await;
    assert_eq!(outcome.reached, [relay_id]);
    let reserved = |e: &Event| match e {
        Event::RelayReservation { relay_peer_id, .. } if *relay_peer_id == relay_id => Some(()),
        _ => None,
    };
    page.next_matching(reserved).await;

    relay.handle.shutdown().await.expect("shutdown");
    drop(relay);
    let started = std::time::Instant::now();
    let _relay = node_at(relay_key, relay_config, relay_address).await;
    page.next_matching(reserved).await;
    println!(
        "reserved again {} ms after the relay came back",
        started.elapsed().as_millis()
    );
    let addrs = page.handle.listen_addrs().await.expect("listen addrs");
    assert!(
        addrs
            .iter()
            .any(|a| a.iter().any(|p| p == Protocol::P2pCircuit)),
        "{addrs:?}"
    );
}

#[tokio::test]
async fn pruning_above_max_spares_protected_peers() {
    let config = NodeConfig {
        connections: ConnectionsConfig {
            target: 2,
            max: 4,
            grace_secs: 0,
            ..quick_config().connections
        },
        ..NodeConfig::default()
    };
    let mut hub = spawn_node(config).await;
    let kept_a = spawn_node(NodeConfig::default()).await;
    let kept_b = spawn_node(NodeConfig::default()).await;
    for kept in [&kept_a, &kept_b] {
        hub.handle
            .add_peer(kept.full_address(), None)
            .await
            .expect("addPeer");
    }
    let mut others = Vec::new();
    for _ in 0..6 {
        let other = spawn_node(NodeConfig::default()).await;
        other
            .handle
            .dial(hub.full_address())
            .await
            .expect("dial the hub");
        others.push(other);
    }
    let protected = [kept_a.peer_id(), kept_b.peer_id()];
    eventually("pruned down to the protected peers", || async {
        let mut ids = connected_ids(&hub).await;
        ids.sort();
        let mut want = protected.to_vec();
        want.sort();
        ids == want
    })
    .await;
    let pruned = hub
        .next_matching(|e| match e {
            Event::PeerState {
                state: ConnState::Disconnected,
                reason,
                ..
            } => reason.clone(),
            _ => None,
        })
        .await;
    assert_eq!(pruned, "pruned");
}

#[tokio::test]
async fn list_peers_reports_traffic_and_times() {
    let a = spawn_node(NodeConfig::default()).await;
    let b = spawn_node(NodeConfig::default()).await;
    let before_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    a.handle.dial(b.full_address()).await.expect("dial");
    b.handle.subscribe("t").await.expect("subscribe");
    a.handle.subscribe("t").await.expect("subscribe");
    meshwork_tests::publish_when_ready(&a, "t", &[7u8; 4096]).await;
    let b_id = b.peer_id().to_string();
    eventually("bytes counted both ways", || async {
        let peers = a.handle.peers().await.expect("peers");
        peers.iter().any(|p| {
            p.peer_id == b_id
                && p.bytes_sent.is_some_and(|n| n >= 4096)
                && p.bytes_received.is_some_and(|n| n > 0)
        })
    })
    .await;
    let peers = a.handle.peers().await.expect("peers");
    let entry = peers.iter().find(|p| p.peer_id == b_id).expect("b");
    let since = entry.connected_since_ms.expect("connectedSinceMs");
    assert!(since + 1000 >= before_ms, "{since} vs {before_ms}");
    assert!(entry.last_seen_ms.is_some_and(|t| t + 1000 >= since));
    assert_eq!(entry.state, ConnState::Connected);
    assert_eq!(entry.addresses.len(), entry.connections);
    assert!(entry.kept.is_none());
}
