//! The service registry in process, on DHT server nodes over the memory transport: a service is
//! announced over gossip and found through the DHT; a second provider does not overwrite the
//! first; departures supersede records; bad registrations get codes; forged and malformed sets
//! put by a raw Kademlia peer are never stored or returned.

use std::{collections::BTreeMap, time::Duration};

use futures::StreamExt;
use libp2p::{
    identity::Keypair,
    kad::{self, store::RecordStore},
    Multiaddr,
};
use meshwork_core::{
    behaviour::KAD_PROTOCOL,
    services::{self, record, set},
    ErrorCode, Event, NodeConfig, Registration, ServicesConfig,
};
use meshwork_tests::{
    raw_memory_swarm,
    sim::{network, server_config, Lcg, SimNode},
    spawn_node, TestNode, EVENT_DEADLINE,
};

/// A server node that joined the DHT through three of `dht`.
async fn member(dht: &[SimNode], config: NodeConfig) -> TestNode {
    let node = spawn_node(config).await;
    for other in dht.iter().take(3) {
        node.handle
            .dial(other.full_address())
            .await
            .expect("join the DHT");
    }
    node
}

fn chat(room: &str) -> Registration {
    Registration {
        kind: "chat".into(),
        metadata: BTreeMap::from([("room".into(), room.into())]),
        ttl_secs: Some(120),
    }
}

async fn announced(node: &mut TestNode, service: &str) -> libp2p::PeerId {
    node.next_matching(|e| match e {
        Event::ServiceAnnounced { record } if record.service == service => Some(record.provider),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_are_announced_found_superseded_and_departed() {
    let dht = network(6, &mut Lcg(11)).await;
    let a = member(&dht, server_config()).await;
    let mut b = member(&dht, server_config()).await;
    let c = member(&dht, server_config()).await;
    // Subscriptions to the services topic travel, and gossip meshes form.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let view = a
        .handle
        .register_service("rooms/lobby", chat("lobby"))
        .await
        .expect("register");
    assert_eq!(view.provider, a.peer_id().to_string());
    assert_eq!(view.expires_at_ms, view.issued_at_ms + 120_000);
    assert!(
        view.addresses
            .iter()
            .any(|x| x.starts_with(&a.address.to_string())),
        "the record lists the provider's address: {:?}",
        view.addresses
    );
    assert_eq!(announced(&mut b, "rooms/lobby").await, a.peer_id());
    let found = b.handle.find_service("rooms/lobby").await.expect("find");
    assert_eq!(found, view);

    // A second provider of the same service: its record is the freshest; the first one stays
    // in the set.
    let second = c
        .handle
        .register_service("rooms/lobby", chat("lobby-2"))
        .await
        .expect("second provider");
    let newcomer = member(&dht, server_config()).await;
    let found = newcomer.handle.find_service("rooms/lobby").await.unwrap();
    assert_eq!(found, second);

    // The second departs: the others hear it, and the first provider is found again.
    assert!(c.handle.unregister_service("rooms/lobby").await.unwrap());
    let departed = b
        .next_matching(|e| match e {
            Event::ServiceDeparted { service, provider } if service == "rooms/lobby" => {
                Some(*provider)
            }
            _ => None,
        })
        .await;
    assert_eq!(departed, c.peer_id());
    let late = member(&dht, server_config()).await;
    let found = late.handle.find_service("rooms/lobby").await.unwrap();
    assert_eq!(found.provider, a.peer_id().to_string());

    // The first departs too: nobody provides it.
    assert!(a.handle.unregister_service("rooms/lobby").await.unwrap());
    let last = member(&dht, server_config()).await;
    let gone = last.handle.find_service("rooms/lobby").await.unwrap_err();
    assert_eq!(gone.code, ErrorCode::NotFound, "{gone}");
    assert!(!a.handle.unregister_service("rooms/lobby").await.unwrap());
    let missing = b.handle.find_service("rooms/none").await.unwrap_err();
    assert_eq!(missing.code, ErrorCode::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_registrations_get_codes() {
    let alone = spawn_node(server_config()).await;
    let no_dht = alone
        .handle
        .register_service("svc", chat("x"))
        .await
        .unwrap_err();
    assert_eq!(no_dht.code, ErrorCode::DiscoveryFailed, "{no_dht}");

    let dht = network(3, &mut Lcg(5)).await;
    let config = NodeConfig {
        services: ServicesConfig {
            max_registered: 1,
            ..ServicesConfig::default()
        },
        ..server_config()
    };
    let node = member(&dht, config).await;
    let code =
        |r: Result<meshwork_core::ServiceView, meshwork_core::CoreError>| r.unwrap_err().code;
    let h = &node.handle;
    assert_eq!(
        code(h.register_service("", chat("x")).await),
        ErrorCode::InvalidOptions
    );
    let long = "s".repeat(services::MAX_SERVICE_ID_BYTES + 1);
    assert_eq!(
        code(h.register_service(long, chat("x")).await),
        ErrorCode::InvalidOptions
    );
    let untyped = Registration::default();
    assert_eq!(
        code(h.register_service("svc", untyped).await),
        ErrorCode::InvalidOptions
    );
    let short_lived = Registration {
        ttl_secs: Some(5),
        ..chat("x")
    };
    assert_eq!(
        code(h.register_service("svc", short_lived).await),
        ErrorCode::InvalidOptions
    );
    let oversized = Registration {
        metadata: BTreeMap::from([("blob".into(), "x".repeat(services::MAX_METADATA_BYTES))]),
        ..chat("x")
    };
    assert_eq!(
        code(h.register_service("svc", oversized).await),
        ErrorCode::PayloadTooLarge
    );
    let reserved = h
        .put_record(b"/meshwork/service/svc".to_vec(), b"v".to_vec(), 1)
        .await
        .unwrap_err();
    assert_eq!(reserved.code, ErrorCode::InvalidOptions);

    h.register_service("one", chat("x")).await.expect("first");
    assert_eq!(
        code(h.register_service("two", chat("x")).await),
        ErrorCode::LimitReached
    );
    h.register_service("one", chat("y"))
        .await
        .expect("an update is not a new one");
}

/// A bare Kademlia peer speaking the meshwork DHT protocol, not running meshwork's checks.
fn raw_kad_peer(keypair: Keypair) -> libp2p::Swarm<kad::Behaviour<kad::store::MemoryStore>> {
    raw_memory_swarm(keypair, |key| {
        let peer = key.public().to_peer_id();
        let mut behaviour = kad::Behaviour::with_config(
            peer,
            kad::store::MemoryStore::new(peer),
            kad::Config::new(KAD_PROTOCOL),
        );
        behaviour.set_mode(Some(kad::Mode::Client));
        behaviour
    })
}

/// Put `value` under `key` from `raw`, waiting for the query to end (its outcome does not
/// matter: a meshwork node answers a put whether or not it stores it).
async fn raw_put(
    raw: &mut libp2p::Swarm<kad::Behaviour<kad::store::MemoryStore>>,
    key: kad::RecordKey,
    value: Vec<u8>,
) {
    let id = raw
        .behaviour_mut()
        .put_record(kad::Record::new(key, value), kad::Quorum::One)
        .expect("local store");
    tokio::time::timeout(EVENT_DEADLINE, async {
        loop {
            if let libp2p::swarm::SwarmEvent::Behaviour(kad::Event::OutboundQueryProgressed {
                id: done,
                step,
                ..
            }) = raw.select_next_some().await
            {
                if done == id && step.last {
                    return;
                }
            }
        }
    })
    .await
    .expect("the raw put ended");
}

/// Whether any DHT node hands `raw` a record under `key`.
async fn raw_get(
    raw: &mut libp2p::Swarm<kad::Behaviour<kad::store::MemoryStore>>,
    key: kad::RecordKey,
) -> bool {
    raw.behaviour_mut().store_mut().remove(&key);
    let id = raw.behaviour_mut().get_record(key);
    tokio::time::timeout(EVENT_DEADLINE, async {
        loop {
            if let libp2p::swarm::SwarmEvent::Behaviour(kad::Event::OutboundQueryProgressed {
                id: done,
                result,
                step,
                ..
            }) = raw.select_next_some().await
            {
                if done != id {
                    continue;
                }
                if let kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(_))) = result {
                    return true;
                }
                if step.last {
                    return false;
                }
            }
        }
    })
    .await
    .expect("the raw get ended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_malformed_sets_are_never_stored_or_returned() {
    let dht = network(3, &mut Lcg(9)).await;
    let mut raw = raw_kad_peer(Keypair::generate_ed25519());
    for node in &dht {
        let address: Multiaddr = node.address.clone();
        raw.behaviour_mut().add_address(&node.peer_id(), address);
    }
    let provider = Keypair::generate_ed25519();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let signed = |service: &str| {
        let r = record::ServiceRecord {
            service: service.into(),
            kind: "chat".into(),
            provider: provider.public().to_peer_id(),
            addresses: vec![],
            metadata: BTreeMap::new(),
            issued_at_ms: now,
            ttl_secs: 600,
            departed: false,
        };
        record::sign(&provider, r).expect("sign")
    };

    // Control: a good set put the same way is stored and found.
    raw_put(
        &mut raw,
        services::key("good"),
        set::encode(&[signed("good")]),
    )
    .await;
    // A record whose signature was tampered with.
    let mut tampered = signed("tampered");
    let last = tampered.signed.len() - 1;
    tampered.signed[last] ^= 1;
    raw_put(
        &mut raw,
        services::key("tampered"),
        set::encode(&[tampered]),
    )
    .await;
    // A good record under another service's key.
    raw_put(
        &mut raw,
        services::key("misfiled"),
        set::encode(&[signed("good")]),
    )
    .await;
    // Not a set at all.
    raw_put(&mut raw, services::key("junk"), b"junk".to_vec()).await;

    // The storing nodes kept only the good set.
    assert!(raw_get(&mut raw, services::key("good")).await, "control");
    for bad in ["tampered", "misfiled", "junk"] {
        assert!(
            !raw_get(&mut raw, services::key(bad)).await,
            "{bad} was stored"
        );
    }

    let finder = member(&dht, server_config()).await;
    let found = finder
        .handle
        .find_service("good")
        .await
        .expect("the good set");
    assert_eq!(found.provider, provider.public().to_peer_id().to_string());
    for bad in ["tampered", "misfiled", "junk"] {
        let e = finder.handle.find_service(bad).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound, "{bad}: {e}");
    }
}
