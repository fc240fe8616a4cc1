//! Rendezvous in process: nodes register under namespaces at a point (a relay, as in the real
//! network), find each other by namespace, and dial what they found. Pages are played by nodes
//! that, like a page, are reachable only through their relay reservation.

use std::time::Duration;

use libp2p::{multiaddr::Protocol, Multiaddr, PeerId};
use meshwork_core::{
    DiscoverySource, ErrorCode, Event, NodeConfig, RelayServerConfig, RendezvousServerConfig,
};
use meshwork_tests::{spawn_node, TestNode};

fn point_config(server: RendezvousServerConfig) -> NodeConfig {
    let mut config = NodeConfig {
        relay_server: Some(RelayServerConfig::default()),
        advertise_listen_addrs: true,
        ..NodeConfig::default()
    };
    config.rendezvous.server = Some(server);
    config
}

async fn point() -> TestNode {
    spawn_node(point_config(RendezvousServerConfig::default())).await
}

/// A node like a page: connected to the point, reachable through a reservation on it.
async fn page(point: &TestNode, config: NodeConfig) -> TestNode {
    let node = spawn_node(config).await;
    node.handle
        .dial(point.full_address())
        .await
        .expect("dial the point");
    node.handle
        .listen(point.full_address().with(Protocol::P2pCircuit))
        .await
        .expect("reserve on the point");
    node
}

fn ids(found: &[meshwork_core::DiscoveredPeer]) -> Vec<String> {
    let mut ids: Vec<String> = found.iter().map(|p| p.peer_id.clone()).collect();
    ids.sort();
    ids
}

fn sorted(peers: &[PeerId]) -> Vec<String> {
    let mut ids: Vec<String> = peers.iter().map(|p| p.to_string()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_page_finds_another_by_namespace_and_dials_what_it_found() {
    let point = point().await;
    let a = page(&point, NodeConfig::default()).await;
    // Called at once: it waits for the point's identify and for the reservation.
    let granted = a
        .handle
        .register("meshwork/chat", None)
        .await
        .expect("register");
    assert_eq!(granted, 300, "the default lifetime");

    let mut b = page(&point, NodeConfig::default()).await;
    let found = b.handle.discover("meshwork/chat").await.expect("discover");
    assert_eq!(ids(&found), sorted(&[a.peer_id()]));
    let entry = &found[0];
    assert_eq!(entry.namespace, "meshwork/chat");
    assert!(entry.expires_in_secs > 250 && entry.expires_in_secs <= 300);
    let circuit = entry
        .addresses
        .iter()
        .find(|a| a.contains("/p2p-circuit/"))
        .expect("a circuit address");
    let (peer, source) = b
        .next_matching(|e| match e {
            Event::PeerDiscovered {
                peer_id, source, ..
            } => Some((*peer_id, *source)),
            _ => None,
        })
        .await;
    assert_eq!((peer, source), (a.peer_id(), DiscoverySource::Rendezvous));

    let address: Multiaddr = circuit.parse().expect("a multiaddr");
    let reached = b.handle.dial(address).await.expect("dial what was found");
    assert_eq!(reached, a.peer_id());
}

#[tokio::test]
async fn discovery_asks_for_what_is_new_and_returns_the_whole_current_set() {
    let point = point().await;
    let a = page(&point, NodeConfig::default()).await;
    a.handle.register("room", None).await.expect("a registers");
    let mut b = page(&point, NodeConfig::default()).await;
    assert_eq!(
        ids(&b.handle.discover("room").await.unwrap()),
        sorted(&[a.peer_id()])
    );

    let c = page(&point, NodeConfig::default()).await;
    c.handle
        .register("room", Some(120))
        .await
        .expect("c registers");
    // The second discover sends the point's cookie: only C comes back over the wire, the
    // answer still holds both.
    let both = b.handle.discover("room").await.unwrap();
    assert_eq!(ids(&both), sorted(&[a.peer_id(), c.peer_id()]));
    let mut discovered = Vec::new();
    while discovered.len() < 2 {
        let peer = b
            .next_matching(|e| match e {
                Event::PeerDiscovered { peer_id, .. } => Some(*peer_id),
                _ => None,
            })
            .await;
        discovered.push(peer);
    }
    assert_eq!(
        sorted(&discovered),
        sorted(&[a.peer_id(), c.peer_id()]),
        "each found once"
    );

    // A leaves the namespace: a newcomer (no cookie) sees only C.
    assert!(a.handle.unregister("room").await.unwrap());
    assert!(!a.handle.unregister("room").await.unwrap(), "already gone");
    let d = page(&point, NodeConfig::default()).await;
    let mut seen = Vec::new();
    for _ in 0..50 {
        seen = ids(&d.handle.discover("room").await.unwrap());
        if seen == sorted(&[c.peer_id()]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, sorted(&[c.peer_id()]));
}

#[tokio::test]
async fn registrations_are_refreshed_before_they_expire() {
    let point = spawn_node(point_config(RendezvousServerConfig {
        min_ttl_secs: 1,
        ..RendezvousServerConfig::default()
    }))
    .await;
    let a = page(&point, NodeConfig::default()).await;
    assert_eq!(a.handle.register("short", Some(10)).await.unwrap(), 10);
    // Past the first lifetime: still listed, because A refreshed at half of it.
    tokio::time::sleep(Duration::from_secs(14)).await;
    let b = page(&point, NodeConfig::default()).await;
    let found = b.handle.discover("short").await.unwrap();
    assert_eq!(ids(&found), sorted(&[a.peer_id()]));
}

#[tokio::test]
async fn bad_input_and_refusals_get_clear_errors() {
    let point = spawn_node(point_config(RendezvousServerConfig {
        min_ttl_secs: 60,
        max_registrations_per_peer: 2,
        ..RendezvousServerConfig::default()
    }))
    .await;
    let a = page(&point, NodeConfig::default()).await;

    for bad in [String::new(), "n".repeat(256), "a\u{0}b".to_owned()] {
        let e = a.handle.register(bad.clone(), None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidNamespace, "{bad:?}");
        let e = a.handle.discover(bad).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidNamespace);
    }
    let e = a.handle.register("ns", Some(5)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidOptions);
    assert!(e.message.contains("ttlSecs"), "{}", e.message);

    // The point's own limits: a lifetime below its minimum, more namespaces than it allows.
    let e = a.handle.register("ns", Some(30)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::DiscoveryFailed);
    assert!(e.message.contains("InvalidTtl"), "{}", e.message);
    a.handle.register("one", None).await.unwrap();
    a.handle.register("two", None).await.unwrap();
    let e = a.handle.register("three", None).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::DiscoveryFailed, "{}", e.message);
    // And this node's own bound (`rendezvous.maxNamespaces`), checked before asking.
    let mut one_namespace = NodeConfig::default();
    one_namespace.rendezvous.max_namespaces = 1;
    let b = page(&point, one_namespace).await;
    b.handle.register("x", None).await.unwrap();
    let e = b.handle.register("y", None).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitReached);

    // No point at all: the call waits `rendezvous.timeoutSecs`, then says why.
    let mut lonely_config = NodeConfig::default();
    lonely_config.rendezvous.timeout_secs = 1;
    let lonely = spawn_node(lonely_config).await;
    let e = lonely.handle.discover("ns").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::DiscoveryFailed);
    assert!(e.message.contains("no rendezvous point"), "{}", e.message);
}
