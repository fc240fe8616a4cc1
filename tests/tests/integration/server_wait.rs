//! DHT calls made before a node knows any DHT server: a lookup, a put or a provide made
//! before the node has even dialled one waits, and goes on once a server is known; with none known it fails with
//! `DISCOVERY_FAILED` at the deadline (10 s) instead of a `NOT_FOUND` from asking nobody.

use std::time::Duration;

use meshwork_core::ErrorCode;
use meshwork_tests::{
    sim::{network, server_config, Lcg},
    spawn_node,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_wait_for_the_first_dht_server() {
    let dht = network(4, &mut Lcg(5)).await;
    let newcomer = spawn_node(server_config()).await;
    let target = dht[3].peer_id();

    // Asked before any connection: the lookups wait rather than answer from an empty table.
    let finding = tokio::spawn({
        let handle = newcomer.handle.clone();
        async move { handle.find_peer(target).await }
    });
    let reading = tokio::spawn({
        let handle = newcomer.handle.clone();
        async move { handle.get_record(b"nobody/stored/this".to_vec(), 1).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !finding.is_finished(),
        "the lookup did not wait for a server"
    );
    newcomer
        .handle
        .dial(dht[0].full_address())
        .await
        .expect("dial a server");

    let found = tokio::time::timeout(Duration::from_secs(20), finding)
        .await
        .expect("the waiting lookup went on")
        .expect("task")
        .expect("found once a server was known");
    assert!(found
        .addresses
        .iter()
        .any(|a| a.to_string().starts_with(&dht[3].address.to_string())));
    // The record lookup went on too, and asked: nobody has it.
    let missing = tokio::time::timeout(Duration::from_secs(20), reading)
        .await
        .expect("the waiting record lookup went on")
        .expect("task")
        .unwrap_err();
    assert_eq!(missing.code, ErrorCode::NotFound, "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_and_provides_wait_for_the_first_dht_server() {
    let dht = network(4, &mut Lcg(9)).await;
    let newcomer = spawn_node(server_config()).await;
    // Before any connection: without the wait the put would miss its quorum and the provider
    // announcement would reach nobody.
    let putting = tokio::spawn({
        let handle = newcomer.handle.clone();
        async move {
            handle
                .put_record(b"early/record".to_vec(), b"value".to_vec(), 1)
                .await
        }
    });
    let providing = tokio::spawn({
        let handle = newcomer.handle.clone();
        async move { handle.provide(b"early/provided".to_vec()).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!putting.is_finished(), "the put did not wait for a server");
    assert!(!providing.is_finished(), "the provide did not wait");
    newcomer
        .handle
        .dial(dht[0].full_address())
        .await
        .expect("dial a server");
    for (what, task) in [("put", putting), ("provide", providing)] {
        tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .unwrap_or_else(|_| panic!("the waiting {what} went on"))
            .expect("task")
            .unwrap_or_else(|e| panic!("{what} once a server was known: {e}"));
    }
    // Both really reached the DHT: another node finds them.
    let value = dht[2]
        .handle
        .get_record(b"early/record".to_vec(), 1)
        .await
        .expect("the record was stored");
    assert_eq!(value, b"value");
    let providers = dht[2]
        .handle
        .find_providers(b"early/provided".to_vec(), 1)
        .await
        .expect("the provider was announced");
    assert!(
        providers.iter().any(|p| p.peer_id == newcomer.peer_id()),
        "{providers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_provide_withdrawn_by_stop_providing_never_goes_out() {
    let dht = network(4, &mut Lcg(13)).await;
    let newcomer = spawn_node(server_config()).await;
    let providing = tokio::spawn({
        let handle = newcomer.handle.clone();
        async move { handle.provide(b"withdrawn".to_vec()).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let was = newcomer
        .handle
        .stop_providing(b"withdrawn".to_vec())
        .await
        .expect("stop");
    assert!(was, "the waiting provide counts as provided");
    let e = tokio::time::timeout(Duration::from_secs(5), providing)
        .await
        .expect("the withdrawn provide is answered at once")
        .expect("task")
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DiscoveryFailed, "{e}");
    newcomer
        .handle
        .dial(dht[0].full_address())
        .await
        .expect("dial a server");
    // Give a wrongly kept provide time to go out once the server is known, then look.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let providers = dht[2]
        .handle
        .find_providers(b"withdrawn".to_vec(), 1)
        .await
        .expect("lookup");
    assert!(providers.is_empty(), "{providers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_server_a_lookup_fails_with_discovery_failed_at_the_deadline() {
    let alone = spawn_node(server_config()).await;
    let started = std::time::Instant::now();
    let e = tokio::time::timeout(
        Duration::from_secs(30),
        alone.handle.find_providers(b"k".to_vec(), 1),
    )
    .await
    .expect("answered by the deadline")
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::DiscoveryFailed, "{e}");
    // Not before the wait: catches a lookup that gave up at once.
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
}
