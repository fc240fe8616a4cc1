//! Inbound connections per IP address (`limits.maxConnectionsPerIp`) over real TCP sockets on
//! loopback, with the loopback exemption turned off: the third connection from 127.0.0.1 is
//! refused, and a slot frees when a connection closes.

use std::time::Duration;

use futures::StreamExt;
use libp2p::{identity::Keypair, Multiaddr};
use meshwork_core::{event_loop::EventLoop, ErrorCode, Event, NodeConfig, NodeHandle};
use meshwork_relay::{native_swarm, settings::WebTransportSettings};

const DEADLINE: Duration = Duration::from_secs(20);

/// A node; with `listen`, also its full TCP address.
async fn start(config: NodeConfig, listen: bool) -> (NodeHandle, Option<Multiaddr>) {
    let keypair = Keypair::generate_ed25519();
    let traffic = meshwork_core::Traffic::default();
    let swarm = native_swarm::build(
        keypair.clone(),
        &config,
        None,
        &WebTransportSettings::default(),
        &traffic,
    )
    .await
    .expect("swarm");
    let peer_id = *swarm.local_peer_id();
    let (event_loop, handle, mut events) = EventLoop::new(swarm, keypair, config);
    tokio::spawn(event_loop.with_traffic(traffic).run());
    if !listen {
        tokio::spawn(async move { while events.next().await.is_some() {} });
        return (handle, None);
    }
    handle
        .listen("/ip4/127.0.0.1/tcp/0".parse().expect("addr"))
        .await
        .expect("listen");
    let address = tokio::time::timeout(DEADLINE, async {
        loop {
            if let Some(Event::ListenAddr { address }) = events.next().await {
                return address;
            }
        }
    })
    .await
    .expect("listen address");
    tokio::spawn(async move { while events.next().await.is_some() {} });
    (handle, Some(address.with_p2p(peer_id).expect("p2p")))
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
