//! A peer that sends gossip with forged signatures: gossipsub (strict signing) drops every such
//! message before the application sees it, and the sender's gossipsub score falls.
//!
//! The forger writes gossipsub RPC frames itself, on a `/meshsub/1.1.0` stream it opens through
//! its node's stream control, because no publishing API can produce a bad signature.

use std::time::Duration;

use futures::{AsyncWriteExt, StreamExt};
use libp2p::{PeerId, StreamProtocol};
use meshwork_core::{Event, NodeConfig};
use meshwork_tests::{spawn_node, EVENT_DEADLINE};

/// Protobuf varint.
fn varint(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A length-delimited protobuf field.
fn field(number: u64, bytes: &[u8], out: &mut Vec<u8>) {
    varint(number << 3 | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// One gossipsub RPC (length-prefixed): a subscription to `topic` and a message "from" `author`
/// with sequence number `seq` and a signature that signs nothing.
fn forged_rpc(author: PeerId, topic: &str, seq: u64) -> Vec<u8> {
    let mut subscription = Vec::new();
    subscription.extend_from_slice(&[0x08, 0x01]); // subscribe = true
    field(2, topic.as_bytes(), &mut subscription);
    let mut message = Vec::new();
    field(1, &author.to_bytes(), &mut message);
    field(2, format!("forged {seq}").as_bytes(), &mut message);
    field(3, &seq.to_be_bytes(), &mut message);
    field(4, topic.as_bytes(), &mut message);
    field(5, &[0xab; 64], &mut message);
    let mut rpc = Vec::new();
    field(1, &subscription, &mut rpc);
    field(2, &message, &mut rpc);
    let mut framed = Vec::new();
    varint(rpc.len() as u64, &mut framed);
    framed.extend_from_slice(&rpc);
    framed
}

#[tokio::test]
async fn forged_signatures_are_dropped_and_lower_the_senders_score() {
    let mut receiver = spawn_node(NodeConfig::default()).await;
    receiver.handle.subscribe("sig").await.unwrap();
    let forger = spawn_node(NodeConfig::default()).await;
    forger
        .handle
        .dial(receiver.full_address())
        .await
        .expect("dial");

    let mut stream = forger
        .handle
        .stream_control()
        .open_stream(receiver.peer_id(), StreamProtocol::new("/meshsub/1.1.0"))
        .await
        .expect("a gossipsub stream");
    for seq in 1..=30 {
        stream
            .write_all(&forged_rpc(forger.peer_id(), "sig", seq))
            .await
            .expect("write");
    }
    stream.flush().await.expect("flush");

    // The score falls below zero; no forged message is delivered.
    let score = tokio::time::timeout(EVENT_DEADLINE, async {
        loop {
            let peers = receiver.handle.peers().await.unwrap();
            let score = peers
                .iter()
                .find(|p| p.peer_id == forger.peer_id().to_string())
                .and_then(|p| p.gossip_score);
            if let Some(s) = score.filter(|s| *s < 0.0) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the forger's score fell");
    assert!(score < 0.0);
    while let Some(Some(event)) = futures::FutureExt::now_or_never(receiver.events.next()) {
        assert!(!matches!(event, Event::Message { .. }), "{event:?}");
    }
}
