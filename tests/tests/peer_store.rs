//! The persisted peer store in process: a node's kept peers come back after a restart (same
//! identity, the document its previous run saved) and are dialled with no call from the
//! application; a document that is not ours is discarded with a reason and the node runs on.

use futures::StreamExt;
use libp2p::{identity::Keypair, PeerId};
use meshwork_core::{ConnState, Event, NodeConfig};
use meshwork_tests::{memory_address, memory_swarm, run_stored_node, spawn_node, TestNode};

/// Wait for `peer` to be connected.
async fn connected(node: &mut TestNode, peer: PeerId) {
    node.next_matching(|e| match e {
        Event::PeerState {
            peer_id,
            state: ConnState::Connected,
            ..
        } if *peer_id == peer => Some(()),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn kept_peers_come_back_after_a_restart_and_foreign_data_is_discarded() {
    let other = spawn_node(NodeConfig::default()).await;
    let keypair = Keypair::generate_ed25519();
    let config = NodeConfig::default();

    // First run: nothing stored; add a peer and take the document the node sends.
    let swarm = memory_swarm(keypair.clone(), &config);
    let (first, mut documents, loaded) = run_stored_node(
        swarm,
        keypair.clone(),
        config.clone(),
        memory_address(),
        None,
    )
    .await;
    assert_eq!(loaded, (0, 0, None));
    first
        .handle
        .add_peer(other.full_address(), Some(other.peer_id()))
        .await
        .expect("addPeer");
    let document = tokio::time::timeout(meshwork_tests::EVENT_DEADLINE, async {
        loop {
            let d = documents.next().await.expect("a document");
            if d.contains(&other.peer_id().to_string()) {
                return d;
            }
        }
    })
    .await
    .expect("the added peer is stored");
    first.handle.shutdown().await.expect("shutdown");

    // Second run, same identity, the stored document: the peer is kept and dialled at once.
    let swarm = memory_swarm(keypair.clone(), &config);
    let (mut second, _documents, loaded) = run_stored_node(
        swarm,
        keypair.clone(),
        config.clone(),
        memory_address(),
        Some(document.as_bytes()),
    )
    .await;
    assert_eq!(loaded, (1, 0, None));
    connected(&mut second, other.peer_id()).await;
    let listed = second.handle.list_peers().await.expect("listPeers");
    let entry = listed
        .iter()
        .find(|p| p.peer_id == other.peer_id().to_string())
        .expect("listed");
    assert!(entry.kept.is_some_and(|k| k.manual), "{entry:?}");
    second.handle.shutdown().await.expect("shutdown");

    // Another application's data, and garbage: discarded with a reason, the node works.
    for (stored, says) in [
        (
            br#"{"format":"someone-else","peers":[]}"#.to_vec(),
            "foreign",
        ),
        (b"\xff\xfe not json".to_vec(), "not JSON"),
    ] {
        let swarm = memory_swarm(keypair.clone(), &config);
        let (third, _documents, (restored, _, discarded)) = run_stored_node(
            swarm,
            keypair.clone(),
            config.clone(),
            memory_address(),
            Some(&stored),
        )
        .await;
        assert_eq!(restored, 0);
        assert!(
            discarded.as_deref().is_some_and(|d| d.contains(says)),
            "{discarded:?}"
        );
        third
            .handle
            .dial(other.full_address())
            .await
            .expect("still dials");
        third.handle.shutdown().await.expect("shutdown");
    }
}
