//! The persisted peer store in process: a node's kept peers come back after a restart (same
//! identity, the document its previous run saved) and are dialled with no call from the
//! application; a document that is not ours is discarded with a reason and the node runs on;
//! the last document goes out on shutdown; a restored peer that is not back keeps its stored
//! last-connected time.

use futures::StreamExt;
use libp2p::{identity::Keypair, PeerId};
use meshwork_core::{ConnState, Event, NodeConfig};
use meshwork_tests::{run_stored_node, spawn_node, TestNode};

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

/// `lastConnectedMs` of `peer` in a stored document.
fn last_connected_ms(document: &str, peer: &PeerId) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(document).expect("JSON");
    value["peers"]
        .as_array()?
        .iter()
        .find(|p| p["peerId"] == peer.to_string().as_str())?["lastConnectedMs"]
        .as_u64()
}

#[tokio::test]
async fn kept_peers_come_back_after_a_restart_and_foreign_data_is_discarded() {
    let other = spawn_node(NodeConfig::default()).await;
    let keypair = Keypair::generate_ed25519();
    let config = NodeConfig::default();

    // First run: nothing stored; add a peer and stop at once: the last document goes out on
    // shutdown (whether or not a tick sent one before).
    let (first, documents, loaded) = run_stored_node(&keypair, &config, None).await;
    assert_eq!(loaded, (0, 0, None));
    first
        .handle
        .add_peer(other.full_address(), Some(other.peer_id()))
        .await
        .expect("addPeer");
    let reader = tokio::spawn(async move { documents.collect::<Vec<String>>().await });
    first.handle.shutdown().await.expect("shutdown");
    let sent = tokio::time::timeout(meshwork_tests::EVENT_DEADLINE, reader)
        .await
        .expect("the documents end with the loop")
        .expect("reader");
    let document = sent.last().expect("a document").clone();
    assert!(
        document.contains(&other.peer_id().to_string()),
        "{document}"
    );

    // Second run, same identity, the stored document: the peer is kept and dialled at once.
    let (mut second, _documents, loaded) =
        run_stored_node(&keypair, &config, Some(document.as_bytes())).await;
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
        let (third, _documents, (restored, _, discarded)) =
            run_stored_node(&keypair, &config, Some(&stored)).await;
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

    // The peer is gone when the node comes back: it is kept, and the stored time it was last
    // connected survives the next document (it is not connected to refresh it).
    let stored_at = last_connected_ms(&document, &other.peer_id());
    assert!(stored_at.is_some());
    let other_id = other.peer_id();
    other.handle.shutdown().await.expect("shutdown");
    let (last, mut documents, loaded) =
        run_stored_node(&keypair, &config, Some(document.as_bytes())).await;
    assert_eq!(loaded.0, 1);
    let next = tokio::time::timeout(meshwork_tests::EVENT_DEADLINE, documents.next())
        .await
        .expect("a document")
        .expect("a document");
    assert_eq!(last_connected_ms(&next, &other_id), stored_at, "{next}");
    last.handle.shutdown().await.expect("shutdown");
}
