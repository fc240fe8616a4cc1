//! Gossip under load, in process: validators, flood control and bans, large payloads and forged
//! chunk sets, backpressure and priorities.

use std::{sync::Arc, time::Duration};

use futures::{future::join_all, StreamExt};
use libp2p::{gossipsub::IdentTopic, identity::Keypair};
use meshwork_core::{
    gossip::{
        chunking,
        outbound::Priority,
        validator::{Acceptance, InboundMessage},
    },
    ErrorCode, Event, NodeConfig,
};
use meshwork_tests::{
    memory_address, memory_swarm, publish_when_ready, spawn_node, TestNode, EVENT_DEADLINE,
};

fn relay_config() -> NodeConfig {
    let mut c = NodeConfig::default();
    c.gossip.follow_peer_topics = true;
    c
}

/// Payloads of `Message` events on `topic` that `node` receives within `wait`.
async fn collect(node: &mut TestNode, topic: &str, wait: Duration) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    let deadline = tokio::time::sleep(wait);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => return got,
            event = node.events.next() => match event {
                Some(Event::Message { topic: t, data, .. }) if t == topic => got.push(data),
                Some(_) => {}
                None => return got,
            },
        }
    }
}

#[tokio::test]
async fn a_validator_decides_what_is_delivered() {
    let publisher = spawn_node(NodeConfig::default()).await;
    let mut receiver = spawn_node(NodeConfig::default()).await;
    receiver
        .handle
        .dial(publisher.full_address())
        .await
        .expect("dial");
    receiver.handle.subscribe("v").await.unwrap();
    publisher.handle.subscribe("v").await.unwrap();
    let validator = |m: &InboundMessage| {
        let verdict = if m.data.starts_with(b"bad") {
            Acceptance::Reject
        } else if m.data.starts_with(b"meh") {
            Acceptance::Ignore
        } else {
            Acceptance::Accept
        };
        async move { verdict }
    };
    receiver
        .handle
        .set_validator("v", Some(Arc::new(validator)))
        .await
        .unwrap();

    publish_when_ready(&publisher, "v", b"good 1").await;
    for text in ["bad 1", "meh 1", "good 2"] {
        publisher
            .handle
            .publish("v", text.as_bytes().to_vec())
            .await
            .unwrap();
    }
    let got = collect(&mut receiver, "v", Duration::from_secs(2)).await;
    assert_eq!(got, vec![b"good 1".to_vec(), b"good 2".to_vec()]);
    let stats = receiver.handle.stats().await.unwrap().topics["v"];
    assert_eq!((stats.delivered, stats.rejected, stats.ignored), (2, 1, 1));
}

#[tokio::test]
async fn a_slow_validator_times_out_as_ignore() {
    let mut config = NodeConfig::default();
    config.gossip.validation_timeout_ms = 200;
    let publisher = spawn_node(NodeConfig::default()).await;
    let mut receiver = spawn_node(config).await;
    receiver
        .handle
        .dial(publisher.full_address())
        .await
        .expect("dial");
    receiver.handle.subscribe("slow").await.unwrap();
    publisher.handle.subscribe("slow").await.unwrap();
    let never = |_: &InboundMessage| futures::future::pending::<Acceptance>();
    receiver
        .handle
        .set_validator("slow", Some(Arc::new(never)))
        .await
        .unwrap();
    publish_when_ready(&publisher, "slow", b"x").await;
    assert!(collect(&mut receiver, "slow", Duration::from_secs(1))
        .await
        .is_empty());
    let stats = receiver.handle.stats().await.unwrap().topics["slow"];
    assert_eq!((stats.ignored, stats.validation_timeouts), (1, 1));
}

#[tokio::test]
async fn a_flooder_is_throttled_and_banned_while_honest_traffic_arrives_complete() {
    let mut relay = spawn_node(relay_config()).await;
    let flooder = spawn_node(NodeConfig::default()).await;
    let honest = spawn_node(NodeConfig::default()).await;
    let mut receiver = spawn_node(NodeConfig::default()).await;
    for n in [&flooder, &honest, &receiver] {
        n.handle
            .dial(relay.full_address())
            .await
            .expect("dial relay");
        n.handle.subscribe("room").await.unwrap();
    }
    publish_when_ready(&honest, "room", b"warm-up").await;

    let flood = {
        let handle = flooder.handle.clone();
        tokio::spawn(async move {
            let publishes =
                (0..3000).map(|i| handle.publish("room", format!("flood {i}").into_bytes()));
            join_all(publishes).await
        })
    };
    for i in 0..15 {
        honest
            .handle
            .publish("room", format!("honest {i}").into_bytes())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = flood.await;
    let got = collect(&mut receiver, "room", Duration::from_secs(2)).await;
    let honest_got: Vec<_> = got.iter().filter(|d| d.starts_with(b"honest ")).collect();
    let expected: Vec<Vec<u8>> = (0..15)
        .map(|i| format!("honest {i}").into_bytes())
        .collect();
    assert!(
        expected.iter().all(|e| honest_got.contains(&e)),
        "{honest_got:?}"
    );
    let flood_got = got.iter().filter(|d| d.starts_with(b"flood ")).count();
    assert_eq!(honest_got.len(), 15, "every honest message arrives");
    // The relay let through at most the flooder's burst plus its rate over the test (~2 s).
    assert!(
        flood_got <= 20 + 10 * 4,
        "{flood_got} flood messages got through"
    );
    let banned = relay
        .next_matching(|e| match e {
            Event::PeerBanned { peer_id, .. } => Some(*peer_id),
            _ => None,
        })
        .await;
    assert_eq!(banned, flooder.peer_id());
    let stats = relay.handle.stats().await.unwrap();
    assert!(stats.topics["room"].rate_limited > 0);
    assert_eq!(stats.banned_peers, 1);
}

#[tokio::test]
async fn a_10_mib_payload_crosses_a_relay_intact() {
    let relay = spawn_node(relay_config()).await;
    let sender = spawn_node(NodeConfig::default()).await;
    let mut receiver = spawn_node(NodeConfig::default()).await;
    for n in [&sender, &receiver] {
        n.handle
            .dial(relay.full_address())
            .await
            .expect("dial relay");
        n.handle.subscribe("big").await.unwrap();
    }
    publish_when_ready(&sender, "big", b"warm-up").await;
    let payload: Vec<u8> = (0..10 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    sender
        .handle
        .publish("big", payload.clone())
        .await
        .expect("publish 10 MiB");
    let got = receiver
        .next_matching(|e| match e {
            Event::Message { data, .. } if data.len() > 1024 => Some(data.clone()),
            _ => None,
        })
        .await;
    assert!(got == payload, "the payload arrives byte for byte");
    let stats = receiver.handle.stats().await.unwrap();
    assert_eq!(stats.reassembly_bytes, 0);
}

#[tokio::test]
async fn forged_and_incomplete_chunk_sets_are_discarded() {
    let mut config = NodeConfig::default();
    config.gossip.chunks.set_timeout_ms = 500;
    let mut receiver = spawn_node(config.clone()).await;
    receiver.handle.subscribe("c").await.unwrap();

    // A raw swarm of ours that publishes hand-made chunks, bypassing `publish`'s encoding.
    let mut forger = memory_swarm(Keypair::generate_ed25519(), &NodeConfig::default());
    forger.listen_on(memory_address()).unwrap();
    forger.dial(receiver.full_address()).unwrap();
    let topic = IdentTopic::new("c");
    forger.behaviour_mut().gossipsub.subscribe(&topic).unwrap();
    let max = config.gossip.max_message_bytes;
    let payload = vec![7u8; 3 * max];
    let mut forged = chunking::encode(&payload, max, 1 << 24).unwrap();
    let last = forged[1].len() - 1;
    forged[1][last] ^= 1; // flip one payload byte of the second chunk
    let mut incomplete = chunking::encode(&vec![9u8; 3 * max], max, 1 << 24).unwrap();
    incomplete.remove(1);

    let drive = async {
        // Wait until the receiver is a gossip peer, then publish both sets.
        let mut sent = false;
        loop {
            // Run the swarm until it has nothing ready.
            if futures::FutureExt::now_or_never(forger.select_next_some()).is_some() {
                continue;
            }
            if !sent
                && forger
                    .behaviour()
                    .gossipsub
                    .all_peers()
                    .any(|(_, t)| t.contains(&&topic.hash()))
            {
                for chunk in forged.iter().chain(incomplete.iter()) {
                    forger
                        .behaviour_mut()
                        .gossipsub
                        .publish(topic.clone(), chunk.clone())
                        .unwrap();
                }
                sent = true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let watch = async {
        let got = collect(&mut receiver, "c", Duration::from_secs(3)).await;
        assert!(
            got.is_empty(),
            "no forged or incomplete payload is delivered"
        );
        let stats = receiver.handle.stats().await.unwrap();
        assert_eq!(stats.topics["c"].rejected, 1, "the forged set is rejected");
        assert_eq!(stats.reassembly_bytes, 0, "the incomplete set expired");
    };
    tokio::select! {
        _ = drive => unreachable!(),
        _ = tokio::time::timeout(EVENT_DEADLINE, watch) => {}
    }
}

#[tokio::test]
async fn backpressure_and_priorities_without_dropping_the_connection() {
    let mut config = NodeConfig::default();
    config.gossip.publish_queue_per_topic = 8;
    config.gossip.pacer.initial_bytes_per_sec = 4096;
    config.gossip.pacer.min_bytes_per_sec = 1024;
    config.gossip.pacer.max_bytes_per_sec = 8192;
    let sender = spawn_node(config).await;
    let receiver = spawn_node(NodeConfig::default()).await;
    receiver
        .handle
        .dial(sender.full_address())
        .await
        .expect("dial");
    receiver.handle.subscribe("bp").await.unwrap();
    sender.handle.subscribe("bp").await.unwrap();
    publish_when_ready(&sender, "bp", b"warm-up").await;

    let kib = vec![1u8; 1024];
    let low = (0..20).map(|_| sender.handle.publish_with("bp", kib.clone(), Priority::Low));
    let results = join_all(low).await;
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(e) if e.code == ErrorCode::Backpressure))
        .count();
    assert!(refused > 0, "a full queue refuses with BACKPRESSURE");
    assert!(
        results.iter().any(|r| r.is_ok()),
        "queued publishes go out at the paced rate"
    );

    // Fill the queue with low-priority publishes, then a high one sheds the newest of them.
    let handle = sender.handle.clone();
    let lows = tokio::spawn(async move {
        join_all((0..8).map(|_| handle.publish_with("bp", vec![2u8; 1024], Priority::Low))).await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    sender
        .handle
        .publish_with("bp", vec![3u8; 1024], Priority::High)
        .await
        .expect("high goes through");
    let lows = lows.await.unwrap();
    assert!(lows.iter().any(
        |r| matches!(r, Err(e) if e.code == ErrorCode::Backpressure && e.message.contains("shed"))
    ));

    let peers = sender.handle.peers().await.unwrap();
    assert!(
        peers
            .iter()
            .any(|p| p.peer_id == receiver.peer_id().to_string()),
        "still connected"
    );
    let stats = sender.handle.stats().await.unwrap().topics["bp"];
    assert!(stats.shed > 0 && stats.published > 0);
}
