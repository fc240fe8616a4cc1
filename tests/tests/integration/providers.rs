//! Kademlia provider records in process, on DHT server nodes over the memory transport: two
//! providers of a key are found with their addresses, a limit is honoured, an unknown key has
//! none, and bad keys and limits get codes.

use meshwork_core::ErrorCode;
use meshwork_tests::{
    sim::{network, server_config, Lcg, SimNode},
    spawn_node, TestNode,
};

async fn member(dht: &[SimNode]) -> TestNode {
    let node = spawn_node(server_config()).await;
    for other in dht.iter().take(3) {
        node.handle.dial(other.full_address()).await.expect("join");
    }
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_are_found_with_addresses_and_bad_input_gets_codes() {
    let dht = network(8, &mut Lcg(3)).await;
    let a = member(&dht).await;
    let b = member(&dht).await;
    let finder = member(&dht).await;
    for p in [&a, &b] {
        p.handle
            .provide(b"films/42".to_vec())
            .await
            .expect("provide");
    }
    let found = finder
        .handle
        .find_providers(b"films/42".to_vec(), 20)
        .await
        .expect("find providers");
    let mut peers: Vec<_> = found.iter().map(|p| p.peer_id).collect();
    peers.sort();
    let mut want = vec![a.peer_id(), b.peer_id()];
    want.sort();
    assert_eq!(peers, want);
    for (provider, node) in found
        .iter()
        .map(|p| (p, if p.peer_id == a.peer_id() { &a } else { &b }))
    {
        assert!(
            provider.addresses.contains(&node.full_address()),
            "{} at {:?}",
            provider.peer_id,
            provider.addresses
        );
    }
    let one = finder
        .handle
        .find_providers(b"films/42".to_vec(), 1)
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    // A provider does not find itself.
    let others = a
        .handle
        .find_providers(b"films/42".to_vec(), 20)
        .await
        .unwrap();
    assert_eq!(
        others.iter().map(|p| p.peer_id).collect::<Vec<_>>(),
        vec![b.peer_id()]
    );
    let none = finder
        .handle
        .find_providers(b"films/none".to_vec(), 20)
        .await
        .unwrap();
    assert!(none.is_empty());

    assert!(a.handle.stop_providing(b"films/42".to_vec()).await.unwrap());
    assert!(!a.handle.stop_providing(b"films/42".to_vec()).await.unwrap());

    let h = &finder.handle;
    let code = |e: meshwork_core::CoreError| e.code;
    assert_eq!(
        code(h.provide(vec![]).await.unwrap_err()),
        ErrorCode::InvalidOptions
    );
    assert_eq!(
        code(
            h.provide(b"/meshwork/service/x".to_vec())
                .await
                .unwrap_err()
        ),
        ErrorCode::InvalidOptions
    );
    for limit in [0, 21] {
        let e = h.find_providers(b"k".to_vec(), limit).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidOptions, "limit {limit}");
    }
    assert_eq!(
        code(h.find_providers(vec![b'k'; 257], 1).await.unwrap_err()),
        ErrorCode::InvalidOptions
    );
}
