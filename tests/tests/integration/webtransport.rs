//! Two meshwork nodes talking over meshwork-webtransport on real UDP sockets (127.0.0.1):
//! connect, ping, gossip both ways.

use std::time::Duration;

use libp2p::{core::muxing::StreamMuxerBox, identity::Keypair, SwarmBuilder, Transport};
use meshwork_core::{behaviour::Behaviour, Event, NodeConfig, TransportKind};
use meshwork_tests::{publish_when_ready, run_node, TestNode, EVENT_DEADLINE};

async fn webtransport_node() -> TestNode {
    let config = NodeConfig::default();
    let behaviour_config = config.clone();
    let keypair = Keypair::generate_ed25519();
    let swarm = SwarmBuilder::with_existing_identity(keypair.clone())
        .with_tokio()
        .with_other_transport(|key| {
            meshwork_webtransport::Transport::new(meshwork_webtransport::Config::new(key))
                .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)))
        })
        .expect("webtransport")
        .with_relay_client(libp2p::noise::Config::new, libp2p::yamux::Config::default)
        .expect("relay client")
        .with_behaviour(|key, relay| Behaviour::for_swarm(key, relay, &behaviour_config))
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    // The dialer listens too (on its own port); only its dial matters here.
    run_node(
        swarm,
        keypair,
        config,
        "/ip4/127.0.0.1/udp/0/quic-v1/webtransport"
            .parse()
            .expect("addr"),
    )
    .await
}

#[tokio::test]
async fn native_dialer_and_listener_ping_and_gossip_over_webtransport() {
    let mut listener = webtransport_node().await;
    let mut dialer = webtransport_node().await;
    assert_eq!(
        listener
            .address
            .iter()
            .filter(|p| matches!(p, libp2p::multiaddr::Protocol::Certhash(_)))
            .count(),
        2,
        "current and next certificate hashes are advertised: {}",
        listener.address
    );
    let remote = dialer
        .handle
        .dial(listener.full_address())
        .await
        .expect("dial over WebTransport");
    assert_eq!(remote, listener.peer_id());
    let transport = dialer
        .next_matching(|e| match e {
            Event::PeerConnected { transport, .. } => Some(*transport),
            _ => None,
        })
        .await;
    assert_eq!(transport, TransportKind::Webtransport);

    // Ping: the round-trip time shows up in the peer list once measured.
    let rtt = tokio::time::timeout(EVENT_DEADLINE, async {
        loop {
            let peers = dialer.handle.peers().await.expect("peers");
            if let Some(rtt) = peers.first().and_then(|p| p.rtt_ms) {
                return rtt;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("a ping round trip");
    assert!(rtt >= 0.0);

    for n in [&listener, &dialer] {
        n.handle.subscribe("wt").await.expect("subscribe");
    }
    publish_when_ready(&dialer, "wt", b"dialer to listener").await;
    let got = listener
        .next_matching(|e| match e {
            Event::Message { data, .. } => Some(data.clone()),
            _ => None,
        })
        .await;
    assert_eq!(got, b"dialer to listener");
    publish_when_ready(&listener, "wt", b"listener to dialer").await;
    let back = dialer
        .next_matching(|e| match e {
            Event::Message { data, .. } => Some(data.clone()),
            _ => None,
        })
        .await;
    assert_eq!(back, b"listener to dialer");
}
