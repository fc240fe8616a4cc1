//! The browser swarm: WebTransport, WebRTC-direct and WebSocket, plus the relay client and
//! browser-to-browser WebRTC, around the core behaviour. Which relay transport is tried first is
//! decided in `addresses::dial_plan`.

use libp2p::{
    core::{muxing::StreamMuxerBox, upgrade::Version},
    identity::Keypair,
    noise, relay, websocket_websys, webtransport_websys, yamux, Swarm, SwarmBuilder, Transport,
};
use meshwork_core::{
    behaviour::Behaviour, direct_upgrade::RefuseBrowserToBrowser, libp2p_stream, ConnectedPeers,
    CoreError, ErrorCode, Traffic,
};

use crate::options::BrowserOptions;

/// Build the swarm for a page.
/// Every connection counts its bytes into `traffic` (hand the same one to the event loop).
pub fn build(
    keypair: Keypair,
    options: &BrowserOptions,
    connected: &ConnectedPeers,
    traffic: &Traffic,
) -> Result<Swarm<Behaviour>, CoreError> {
    let traffic = traffic.clone();
    let config = &options.node;
    let webrtc_config = |key: &Keypair| {
        meshwork_webrtc_browser::Config::new(key)
            .with_limits(options.webrtc.limits())
            .with_ice_servers(options.webrtc.ice_servers.clone())
            .with_ice_transport_policy(options.webrtc.ice_transport_policy)
    };
    // Made first so the browser-to-browser transport can signal over its streams.
    let streams = libp2p_stream::Behaviour::new();
    let signaling = streams.new_control();
    // Made here rather than by `with_relay_client`, which would put the relay transport first
    // and let it take `/p2p-circuit/webrtc` addresses for plain circuits.
    let (relay_transport, relay_behaviour) = relay::client::new(keypair.public().to_peer_id());
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
            let webrtc = meshwork_webrtc_browser::Transport::new(webrtc_config(key))
                .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)));
            let connected = connected.clone();
            let browser_to_browser = meshwork_webrtc_browser::BrowserToBrowserTransport::new(
                webrtc_config(key),
                signaling,
                std::sync::Arc::new(move |peer| connected.contains(peer)),
            )
            .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)));
            let relayed = RefuseBrowserToBrowser(relay_transport)
                .upgrade(Version::V1Lazy)
                .authenticate(
                    noise::Config::new(key).map_err(meshwork_core::behaviour::BoxError::from)?,
                )
                .multiplex(yamux::Config::default())
                .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)));
            let webtransport =
                webtransport_websys::Transport::new(webtransport_websys::Config::new(key))
                    .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)));
            // Order matters: the WebSocket transport reads `<relay>/ws/p2p/<relay>/p2p-circuit/…`
            // as a dial of the relay itself, so browser-to-browser and the relay client (each
            // refusing the other's addresses) go first.
            Ok::<_, meshwork_core::behaviour::BoxError>(
                browser_to_browser
                    .or_transport(relayed)
                    .map(|either, _| either.into_inner())
                    .or_transport(webtransport)
                    .map(|either, _| either.into_inner())
                    .or_transport(webrtc)
                    .map(|either, _| either.into_inner())
                    .or_transport(websocket)
                    .map(|either, _| either.into_inner())
                    .map(move |(peer, muxer), _| (peer, traffic.wrap(peer, muxer))),
            )
        })
        .map_err(|e| fail("transports", &e))?
        .with_behaviour(|key| {
            Ok::<_, meshwork_core::behaviour::BoxError>(Behaviour::with_streams(
                key,
                relay_behaviour,
                config,
                streams,
            )?)
        })
        .map_err(|e| fail("behaviour", &e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
        .build();
    Ok(swarm)
}
