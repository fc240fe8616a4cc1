//! Peer exchange over gossip in process: two nodes that know only a hub learn each other's
//! addresses from their signed announcements (and, with `peerExchange.dial`, connect); a raw
//! gossipsub peer's forged announcements are refused and reported to nobody.

use std::time::Duration;

use futures::StreamExt;
use libp2p::{
    gossipsub::{self, IdentTopic},
    identity::Keypair,
    swarm::SwarmEvent,
    PeerId,
};
use meshwork_core::{
    dht::peer_record, discovery::exchange, services, DiscoverySource, Event, NodeConfig,
    PeerExchangeConfig,
};
use meshwork_tests::{raw_memory_swarm, sim::server_config, spawn_node, TestNode, EVENT_DEADLINE};

fn exchanging(dial: bool) -> NodeConfig {
    NodeConfig {
        peer_exchange: PeerExchangeConfig {
            dial,
            ..PeerExchangeConfig::default()
        },
        ..server_config()
    }
}

async fn discovered_by_gossip(node: &mut TestNode, peer: PeerId) -> Vec<String> {
    node.next_matching(|e| match e {
        Event::PeerDiscovered {
            peer_id,
            addresses,
            source: DiscoverySource::Gossip,
            ..
        } if *peer_id == peer => Some(addresses.iter().map(ToString::to_string).collect()),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_that_know_only_a_hub_learn_each_other_and_dial() {
    let hub = spawn_node(exchanging(false)).await;
    let mut a = spawn_node(exchanging(false)).await;
    let mut b = spawn_node(exchanging(true)).await;
    for node in [&a, &b] {
        node.handle
            .dial(hub.full_address())
            .await
            .expect("dial the hub");
    }
    // Each announces once someone listens on the topic (the hub): within a tick or two.
    let a_heard = discovered_by_gossip(&mut b, a.peer_id()).await;
    assert!(
        a_heard.contains(&a.full_address().to_string()),
        "b heard a at {a_heard:?}"
    );
    let b_heard = discovered_by_gossip(&mut a, b.peer_id()).await;
    assert!(
        b_heard.contains(&b.full_address().to_string()),
        "{b_heard:?}"
    );
    // b dials what it heard (peerExchange.dial); a does not.
    let connected = async {
        loop {
            let peers = b.handle.peers().await.expect("peers");
            if peers.iter().any(|p| p.peer_id == a.peer_id().to_string()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(EVENT_DEADLINE, connected)
        .await
        .expect("b dialled the peer it heard of");
}

type RawGossip = libp2p::Swarm<gossipsub::Behaviour>;

/// A bare gossipsub peer with meshwork's wire settings, not running meshwork's checks.
fn raw_gossip_peer(keypair: Keypair) -> RawGossip {
    raw_memory_swarm(keypair, |key| {
        let config = gossipsub::ConfigBuilder::default()
            .message_id_fn(meshwork_core::gossip::content_message_id)
            .build()
            .expect("gossipsub config");
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Signed(key.clone()), config)
            .expect("gossipsub")
    })
}

/// Drive `raw` until `done` says so (or fail after the deadline).
async fn drive(raw: &mut RawGossip, mut done: impl FnMut(&SwarmEvent<gossipsub::Event>) -> bool) {
    tokio::time::timeout(EVENT_DEADLINE, async {
        loop {
            let event = raw.select_next_some().await;
            if done(&event) {
                return;
            }
        }
    })
    .await
    .expect("the raw peer got there in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_announcements_are_refused_and_reported_to_nobody() {
    let mut node = spawn_node(exchanging(false)).await;
    let raw_key = Keypair::generate_ed25519();
    let raw_peer = raw_key.public().to_peer_id();
    let mut raw = raw_gossip_peer(raw_key.clone());
    let exchange_topic = IdentTopic::new(exchange::TOPIC);
    let services_topic = IdentTopic::new(services::TOPIC);
    for topic in [&exchange_topic, &services_topic] {
        raw.behaviour_mut().subscribe(topic).expect("subscribe");
    }
    raw.dial(node.full_address()).expect("dial");
    let mut subscribed = 0;
    drive(&mut raw, |e| {
        if let SwarmEvent::Behaviour(gossipsub::Event::Subscribed { .. }) = e {
            subscribed += 1;
        }
        subscribed >= 2
    })
    .await;

    // Control: the raw peer's own record is taken and reported.
    let own = peer_record::sign(&raw_key, vec!["/memory/77".parse().unwrap()]).unwrap();
    raw.behaviour_mut()
        .publish(exchange_topic.clone(), own)
        .expect("publish");
    let pump = async {
        loop {
            raw.select_next_some().await;
        }
    };
    let heard = tokio::select! {
        heard = discovered_by_gossip(&mut node, raw_peer) => heard,
        _ = pump => unreachable!(),
    };
    assert_eq!(heard, vec![format!("/memory/77/p2p/{raw_peer}")]);

    // Forged: someone else's record sent by the raw peer, garbage on both topics.
    let victim = Keypair::generate_ed25519();
    let forged = peer_record::sign(&victim, vec!["/memory/78".parse().unwrap()]).unwrap();
    for (topic, data) in [
        (exchange_topic.clone(), forged),
        (exchange_topic.clone(), b"junk".to_vec()),
        (services_topic.clone(), b"junk".to_vec()),
    ] {
        raw.behaviour_mut().publish(topic, data).expect("publish");
    }
    let handle = node.handle.clone();
    let rejected = async {
        loop {
            let stats = handle.stats().await.expect("stats");
            let count = |t: &str| stats.topics.get(t).map_or(0, |s| s.rejected);
            if count(exchange::TOPIC) >= 2 && count(services::TOPIC) >= 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let pump = async {
        loop {
            raw.select_next_some().await;
        }
    };
    tokio::select! {
        r = tokio::time::timeout(EVENT_DEADLINE, rejected) => r.expect("the forged messages were refused"),
        _ = pump => unreachable!(),
    }
    // Nothing about the victim or a service reached the application.
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(200), node.events.next()).await
    {
        match event {
            Event::PeerDiscovered { peer_id, .. } => {
                assert_ne!(
                    peer_id,
                    victim.public().to_peer_id(),
                    "a forged record was taken"
                )
            }
            Event::ServiceAnnounced { .. } | Event::ServiceDeparted { .. } => {
                panic!("garbage was taken as a service record")
            }
            _ => {}
        }
    }
}
