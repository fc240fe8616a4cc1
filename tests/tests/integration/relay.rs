//! A relay reservation and a circuit through it, in process.

use libp2p::multiaddr::Protocol;
use meshwork_core::{Event, NodeConfig, RelayServerConfig, TransportKind};
use meshwork_tests::{publish_when_ready, spawn_node};

#[tokio::test]
async fn reservation_then_circuit_then_gossip_over_it() {
    let relay_config = NodeConfig {
        relay_server: Some(RelayServerConfig::default()),
        advertise_listen_addrs: true,
        ..NodeConfig::default()
    };
    let relay = spawn_node(relay_config).await;
    let mut listener = spawn_node(NodeConfig::default()).await;
    let mut dialer = spawn_node(NodeConfig::default()).await;

    listener
        .handle
        .dial(relay.full_address())
        .await
        .expect("dial relay");
    let circuit = relay.full_address().with(Protocol::P2pCircuit);
    listener
        .handle
        .listen(circuit.clone())
        .await
        .expect("listen on circuit");
    let reserved_on = listener
        .next_matching(|e| match e {
            Event::RelayReservation { relay_peer_id, .. } => Some(*relay_peer_id),
            _ => None,
        })
        .await;
    assert_eq!(reserved_on, relay.peer_id());

    let target = circuit.with(Protocol::P2p(listener.peer_id()));
    let remote = dialer
        .handle
        .dial(target)
        .await
        .expect("dial through the circuit");
    assert_eq!(remote, listener.peer_id());
    let transport = dialer
        .next_matching(|e| match e {
            Event::PeerConnected {
                peer_id, transport, ..
            } if *peer_id == listener.peer_id() => Some(*transport),
            _ => None,
        })
        .await;
    assert_eq!(transport, TransportKind::Circuit);

    // Gossip over the relayed connection alone (the dialer knows no one else).
    listener.handle.subscribe("over-circuit").await.unwrap();
    dialer.handle.subscribe("over-circuit").await.unwrap();
    publish_when_ready(&dialer, "over-circuit", b"through the relay").await;
    let data = listener
        .next_matching(|e| match e {
            Event::Message { data, .. } => Some(data.clone()),
            _ => None,
        })
        .await;
    assert_eq!(data, b"through the relay");
}
