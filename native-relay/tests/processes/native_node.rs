//! A native meshwork node on real sockets for the integration tests: `native_swarm::build`
//! driven by the core event loop, counting its traffic.

use std::time::Duration;

use futures::StreamExt;
use libp2p::{identity::Keypair, Multiaddr};
use meshwork_core::{event_loop::EventLoop, Event, EventReceiver, NodeConfig, NodeHandle};
use meshwork_relay::{native_swarm, settings::WebTransportSettings};

/// How long a node may take to report its listen address.
const LISTEN_DEADLINE: Duration = Duration::from_secs(20);

/// Start a node with `config`; with `listen`, wait for its listen address and return it with
/// `/p2p/<id>`.
pub async fn start_node(
    config: NodeConfig,
    listen: Option<&str>,
) -> (NodeHandle, EventReceiver, Option<Multiaddr>) {
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
    let Some(listen) = listen else {
        return (handle, events, None);
    };
    handle
        .listen(listen.parse().expect("listen address"))
        .await
        .expect("listen");
    let address = tokio::time::timeout(LISTEN_DEADLINE, async {
        loop {
            if let Some(Event::ListenAddr { address }) = events.next().await {
                return address;
            }
        }
    })
    .await
    .expect("listen address");
    (
        handle,
        events,
        Some(address.with_p2p(peer_id).expect("p2p")),
    )
}
