//! Inbound connections per IP address (`limits.maxConnectionsPerIp`) over real TCP sockets on
//! loopback, with the loopback exemption turned off: the third connection from 127.0.0.1 is
//! refused, and a slot frees when a connection closes.

use crate::native_node;

use std::time::Duration;

use futures::StreamExt;
use libp2p::Multiaddr;
use meshwork_core::{ErrorCode, NodeConfig, NodeHandle};

const DEADLINE: Duration = Duration::from_secs(20);

/// A node; with `listen`, also its full TCP address. Its events are drained.
async fn start(config: NodeConfig, listen: bool) -> (NodeHandle, Option<Multiaddr>) {
    let (handle, mut events, address) =
        native_node::start_node(config, listen.then_some("/ip4/127.0.0.1/tcp/0")).await;
    tokio::spawn(async move { while events.next().await.is_some() {} });
    (handle, address)
}

#[tokio::test]
async fn the_third_connection_from_one_address_is_refused() {
    let mut config = NodeConfig::default();
    config.limits.max_connections_per_ip = 2;
    config.limits.per_ip_exempt_loopback = false;
    let (server, address) = start(config, true).await;
    let address = address.expect("address");

    let mut clients = Vec::new();
    for _ in 0..2 {
        let (client, _) = start(NodeConfig::default(), false).await;
        client
            .dial(address.clone())
            .await
            .expect("within the limit");
        clients.push(client);
    }
    let (third, _) = start(NodeConfig::default(), false).await;
    let refused = tokio::time::timeout(DEADLINE, third.dial(address.clone()))
        .await
        .expect("an answer");
    let e = refused.expect_err("a third connection from 127.0.0.1");
    assert_eq!(e.code, ErrorCode::DialFailed, "{e}");
    assert_eq!(server.peers().await.expect("peers").len(), 2);

    // One client leaves: its slot is free again.
    clients.remove(0).shutdown().await.expect("shutdown");
    let waited = tokio::time::timeout(DEADLINE, async {
        loop {
            if third.dial(address.clone()).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "the freed slot was not given back");
}
