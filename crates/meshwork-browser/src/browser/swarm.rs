//! The browser swarm: WebTransport, WebRTC-direct and WebSocket, plus the relay client, around
//! the core behaviour. Which one is tried first is decided in `addresses::dial_plan`.

use libp2p::{
    core::{muxing::StreamMuxerBox, upgrade::Version},
    identity::Keypair,
    noise, websocket_websys, webtransport_websys, yamux, Swarm, SwarmBuilder, Transport,
};
use meshwork_core::{behaviour::Behaviour, CoreError, ErrorCode, NodeConfig};

/// Build the swarm for a page.
pub fn build(keypair: Keypair, config: &NodeConfig) -> Result<Swarm<Behaviour>, CoreError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        CoreError::new(ErrorCode::StartFailed, format!("{what}: {e}"))
    };
    let idle = config.idle_connection_timeout();
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_wasm_bindgen()
        .with_other_transport(|key| {
            let websocket = websocket_websys::Transport::default()
                .upgrade(Version::V1Lazy)
                .authenticate(
                    noise::Config::new(key).map_err(meshwork_core::behaviour::BoxError::from)?,
                )
                .multiplex(yamux::Config::default())
                .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)));
            let webrtc =
                meshwork_webrtc_browser::Transport::new(meshwork_webrtc_browser::Config::new(key))
                    .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)));
            let webtransport =
                webtransport_websys::Transport::new(webtransport_websys::Config::new(key))
                    .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)));
            Ok::<_, meshwork_core::behaviour::BoxError>(
                webtransport
                    .or_transport(webrtc)
                    .map(|either, _| either.into_inner())
                    .or_transport(websocket)
                    .map(|either, _| either.into_inner()),
            )
        })
        .map_err(|e| fail("transports", &e))?
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .map_err(|e| fail("relay client", &e))?
        .with_behaviour(|key, relay| Behaviour::for_swarm(key, relay, config))
        .map_err(|e| fail("behaviour", &e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
        .build();
    Ok(swarm)
}
