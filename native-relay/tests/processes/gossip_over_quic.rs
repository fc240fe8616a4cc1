//! Gossip of full-size messages between two native nodes over QUIC on loopback.
//!
//! QUIC (like WebTransport) hands gossipsub's decoder reads that span message frames, which
//! yamux streams do not. libp2p-gossipsub 0.50.1 checks its size limit against the whole read
//! buffer (one frame plus up to one read of the next), so with too little headroom over the
//! largest message it dropped the stream and every message in flight on it. This test sends
//! messages of exactly `maxMessageBytes` back to back and requires every one to arrive.

use crate::native_node;

use std::time::Duration;

use futures::StreamExt;
use libp2p::Multiaddr;
use meshwork_core::{gossip::flood::FloodConfig, Event, EventReceiver, NodeConfig, NodeHandle};

const MESSAGES: usize = 300;
const DEADLINE: Duration = Duration::from_secs(60);

fn config() -> NodeConfig {
    let mut c = NodeConfig::default();
    // The test sends faster than the default per-author limits allow an untrusted peer.
    c.gossip.flood = FloodConfig {
        per_peer_messages_per_sec: 100_000,
        per_peer_burst: 100_000,
        global_messages_per_sec: 100_000,
        global_burst: 100_000,
        per_peer_bytes_per_sec: 1 << 30,
        per_peer_bytes_burst: 1 << 30,
        ..FloodConfig::default()
    };
    c
}

async fn start() -> (NodeHandle, EventReceiver, Multiaddr) {
    let (handle, events, address) =
        native_node::start_node(config(), Some("/ip4/127.0.0.1/udp/0/quic-v1")).await;
    (handle, events, address.expect("address"))
}

/// A plain message of exactly `size` bytes carrying `i` (its first byte is never the chunk
/// magic's, so it is not taken for a chunk).
fn numbered(i: usize, size: usize) -> Vec<u8> {
    let mut m = vec![(i % 251) as u8; size];
    m[..8].copy_from_slice(&(i as u64).to_be_bytes());
    m[0] = 0xff;
    m
}

fn number_of(data: &[u8]) -> usize {
    let mut index = [0u8; 8];
    index.copy_from_slice(&data[..8]);
    index[0] = 0;
    u64::from_be_bytes(index) as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_size_messages_all_arrive_over_quic() {
    let (sender, _sender_events, _) = start().await;
    let (receiver, mut receiver_events, receiver_address) = start().await;
    sender.dial(receiver_address).await.expect("dial over QUIC");
    receiver.subscribe("full").await.unwrap();
    sender.subscribe("full").await.unwrap();
    let size = NodeConfig::default().gossip.max_message_bytes;
    tokio::time::timeout(DEADLINE, async {
        while sender.publish("full", numbered(0, size)).await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the receiver subscribed in time");
    for i in 1..MESSAGES {
        sender
            .publish("full", numbered(i, size))
            .await
            .expect("publish");
    }
    let mut seen = vec![false; MESSAGES];
    let mut count = 0;
    let outcome = tokio::time::timeout(DEADLINE, async {
        while count < MESSAGES {
            match receiver_events.next().await {
                Some(Event::Message { data, .. }) => {
                    assert_eq!(data.len(), size);
                    let i = number_of(&data);
                    if !std::mem::replace(&mut seen[i], true) {
                        count += 1;
                    }
                }
                Some(_) => {}
                None => break,
            }
        }
    })
    .await;
    let missing: Vec<usize> = (0..MESSAGES).filter(|i| !seen[*i]).collect();
    assert!(
        outcome.is_ok() && missing.is_empty(),
        "{count} of {MESSAGES} arrived; missing (first 20) {:?}",
        &missing[..missing.len().min(20)]
    );
}
