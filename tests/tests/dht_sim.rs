//! The DHT at scale, in process: 200 meshwork nodes in Kademlia server mode on the memory
//! transport, each knowing three others at start. Every node finds every other by a DHT lookup;
//! records put with a quorum are read back from anywhere, services registered and keys provided
//! by some are found by others; then a third of the nodes leave and come back at new addresses,
//! and lookups find them at their new addresses.

use std::time::Duration;

use futures::{stream, StreamExt};
use meshwork_core::{ErrorCode, Registration};
use meshwork_tests::sim::{network, start, Lcg, SimNode};

const NODES: usize = 200;
/// Lookups in flight across the whole simulation.
const CONCURRENCY: usize = 64;
/// Catches hangs only; the run takes far less.
const PHASE_DEADLINE: Duration = Duration::from_secs(600);

/// Each (from, to) lookup, many at once; returns the failures.
async fn lookups(nodes: &[SimNode], pairs: Vec<(usize, usize)>) -> Vec<String> {
    let failures: Vec<String> = stream::iter(pairs)
        .map(|(from, to)| {
            let handle = nodes[from].handle.clone();
            let target = nodes[to].peer_id();
            let want = nodes[to].address.clone();
            async move {
                // A lookup may race the tables filling in; three tries, then it counts.
                let mut last = String::new();
                for _ in 0..3 {
                    match handle.find_peer(target).await {
                        Ok(found)
                            if found
                                .addresses
                                .iter()
                                .any(|a| a.to_string().starts_with(&want.to_string())) =>
                        {
                            return None
                        }
                        Ok(found) => last = format!("{from}→{to}: stale addresses {found:?}"),
                        Err(e) => last = format!("{from}→{to}: {e}"),
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Some(last)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .filter_map(|r| async move { r })
        .collect()
        .await;
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_nodes_find_each_other_store_records_and_survive_churn() {
    let mut rng = Lcg(7);
    let mut nodes: Vec<SimNode> = network(NODES, &mut rng).await;
    // Let Kademlia's automatic bootstrap run on every node.
    tokio::time::sleep(Duration::from_secs(5)).await;

    // Every node finds every other.
    let all: Vec<(usize, usize)> = (0..NODES)
        .flat_map(|from| {
            (0..NODES)
                .filter(move |to| *to != from)
                .map(move |to| (from, to))
        })
        .collect();
    let count = all.len();
    let started = std::time::Instant::now();
    let failures = tokio::time::timeout(PHASE_DEADLINE, lookups(&nodes, all))
        .await
        .expect("lookups hung");
    eprintln!("{count} lookups in {:?}", started.elapsed());
    assert!(
        failures.is_empty(),
        "{} of {count} lookups failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );

    // Records: each of 20 nodes puts one with a quorum of 3; any node reads each back with a
    // quorum of 2.
    for i in 0..20 {
        nodes[i * 10]
            .handle
            .put_record(format!("sim/{i}").into_bytes(), vec![i as u8; 100], 3)
            .await
            .expect("put with a quorum of 3");
    }
    for i in 0..20 {
        let reader = &nodes[rng.below(NODES)];
        let value = reader
            .handle
            .get_record(format!("sim/{i}").into_bytes(), 2)
            .await
            .expect("get with a quorum of 2");
        assert_eq!(value, vec![i as u8; 100]);
    }
    let missing = nodes[0]
        .handle
        .get_record(b"sim/none".to_vec(), 1)
        .await
        .unwrap_err();
    assert_eq!(missing.code, ErrorCode::NotFound);

    // Services: 10 nodes register one each; random nodes find each (by DHT set or gossip).
    for i in 0..10 {
        let registration = Registration {
            kind: "sim".into(),
            ..Registration::default()
        };
        nodes[i * 20 + 5]
            .handle
            .register_service(format!("sim/service/{i}"), registration)
            .await
            .expect("register a service");
    }
    for i in 0..10 {
        let reader = &nodes[rng.below(NODES)];
        let found = reader
            .handle
            .find_service(format!("sim/service/{i}"))
            .await
            .expect("find a service");
        assert_eq!(found.provider, nodes[i * 20 + 5].peer_id().to_string());
    }

    // Providers: 10 keys, each provided by two nodes, found (both) from random nodes.
    for i in 0..10 {
        for j in [i * 20 + 7, i * 20 + 13] {
            nodes[j]
                .handle
                .provide(format!("sim/provided/{i}").into_bytes())
                .await
                .expect("provide");
        }
    }
    for i in 0..10 {
        let reader = &nodes[rng.below(NODES)];
        let found = reader
            .handle
            .find_providers(format!("sim/provided/{i}").into_bytes(), 20)
            .await
            .expect("find providers");
        for j in [i * 20 + 7, i * 20 + 13] {
            let want = nodes[j].peer_id();
            if want != reader.peer_id() {
                assert!(
                    found
                        .iter()
                        .any(|p| p.peer_id == want && !p.addresses.is_empty()),
                    "provider {j} of key {i}: {found:?}"
                );
            }
        }
    }

    // Churn: a third leave, the rest still find each other; they come back at new addresses
    // (same identities) and are found there.
    let leaving: Vec<usize> = (0..NODES).filter(|i| i % 3 == 1).collect();
    for &i in &leaving {
        nodes[i].handle.shutdown().await.expect("shutdown");
    }
    let stayed: Vec<usize> = (0..NODES).filter(|i| i % 3 != 1).collect();
    let sample: Vec<(usize, usize)> = (0..400)
        .map(|_| {
            (
                stayed[rng.below(stayed.len())],
                stayed[rng.below(stayed.len())],
            )
        })
        .filter(|(a, b)| a != b)
        .collect();
    let failures = lookups(&nodes, sample).await;
    assert!(failures.is_empty(), "after leaving: {failures:?}");

    for &i in &leaving {
        let keypair = nodes[i].keypair.clone();
        let node = start(keypair).await;
        let stay = stayed[rng.below(stayed.len())];
        node.handle
            .dial(nodes[stay].full_address())
            .await
            .expect("rejoin");
        nodes[i] = node;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let towards_returned: Vec<(usize, usize)> = (0..400)
        .map(|_| {
            (
                stayed[rng.below(stayed.len())],
                leaving[rng.below(leaving.len())],
            )
        })
        .collect();
    let failures = lookups(&nodes, towards_returned).await;
    assert!(
        failures.is_empty(),
        "{} lookups of returned nodes failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
}
