//! Gossip across several in-process nodes, through a node that bridges topics it follows.

use meshwork_core::{Event, NodeConfig};
use meshwork_tests::{publish_when_ready, spawn_node};

fn bridge_config() -> NodeConfig {
    let mut c = NodeConfig::default();
    c.gossip.follow_peer_topics = true;
    c
}

#[tokio::test]
async fn message_crosses_a_chain_of_four_nodes_through_a_bridge() {
    // a - hub - b, and hub - c - d: the hub follows topics; c subscribes itself to forward to d.
    let hub = spawn_node(bridge_config()).await;
    let mut a = spawn_node(NodeConfig::default()).await;
    let mut b = spawn_node(NodeConfig::default()).await;
    let c = spawn_node(NodeConfig::default()).await;
    let mut d = spawn_node(NodeConfig::default()).await;
    for n in [&a, &b, &c] {
        n.handle.dial(hub.full_address()).await.expect("dial hub");
    }
    d.handle.dial(c.full_address()).await.expect("dial c");
    for n in [&a, &b, &c, &d] {
        n.handle.subscribe("chat").await.expect("subscribe");
    }

    publish_when_ready(&a, "chat", b"hello from a").await;
    let got = b
        .next_matching(|e| match e {
            Event::Message {
                topic,
                data,
                source,
                ..
            } if topic == "chat" => Some((data.clone(), *source)),
            _ => None,
        })
        .await;
    assert_eq!(got.0, b"hello from a");
    assert_eq!(
        got.1,
        Some(a.peer_id()),
        "the signed author is a, not the hub"
    );
    let at_d = d
        .next_matching(|e| match e {
            Event::Message { data, .. } => Some(data.clone()),
            _ => None,
        })
        .await;
    assert_eq!(at_d, b"hello from a");

    // And back the other way.
    publish_when_ready(&d, "chat", b"reply from d").await;
    let back = a
        .next_matching(|e| match e {
            Event::Message { data, .. } if data == b"reply from d" => Some(()),
            _ => None,
        })
        .await;
    assert_eq!(back, ());
}

#[tokio::test]
async fn unsubscribed_node_gets_nothing_and_publish_without_peers_says_no_peers() {
    let hub = spawn_node(bridge_config()).await;
    let a = spawn_node(NodeConfig::default()).await;
    a.handle.dial(hub.full_address()).await.expect("dial");
    let err = a
        .handle
        .publish("nobody-here", b"x".to_vec())
        .await
        .unwrap_err();
    assert_eq!(err.code, meshwork_core::ErrorCode::NoPeers);
}

#[tokio::test]
async fn bad_input_gets_coded_errors_and_the_node_keeps_working() {
    use meshwork_core::ErrorCode;
    let mut config = NodeConfig::default();
    config.gossip.max_message_bytes = 1000;
    config.gossip.chunks.max_payload_bytes = 2000;
    let a = spawn_node(config).await;
    assert_eq!(
        a.handle.subscribe("").await.unwrap_err().code,
        ErrorCode::InvalidTopic
    );
    assert_eq!(
        a.handle.publish("t", vec![0; 2001]).await.unwrap_err().code,
        ErrorCode::PayloadTooLarge
    );
    let wrong_peer = format!("{}/p2p/{}", a.address, libp2p::PeerId::random());
    let err = a
        .handle
        .dial(wrong_peer.parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DialFailed);
    assert!(a.handle.subscribe("ok").await.expect("still works"));
    a.handle.shutdown().await.expect("shutdown");
    assert_eq!(
        a.handle.subscribe("ok").await.unwrap_err().code,
        ErrorCode::NodeStopped
    );
}
