//! The native transports (TCP, QUIC, WebSocket, optionally WebRTC-direct, relay client) around
//! the core behaviour.

use libp2p::{
    core::{muxing::StreamMuxerBox, transport::OptionalTransport, upgrade::Version},
    identity::Keypair,
    noise, relay, tcp, yamux, Swarm, SwarmBuilder, Transport,
};
use meshwork_core::{behaviour::Behaviour, direct_upgrade::RefuseBrowserToBrowser, NodeConfig};

use crate::{settings::WebTransportSettings, webrtc_frames::FrameAlignedMuxer};

/// Build a tokio swarm for `config`: TCP, QUIC, WebSocket and WebTransport (listens only where
/// asked; WebTransport settings from `webtransport`), and with a certificate WebRTC-direct too.
pub async fn build(
    keypair: Keypair,
    config: &NodeConfig,
    webrtc: Option<libp2p_webrtc::tokio::Certificate>,
    webtransport: &WebTransportSettings,
) -> Result<Swarm<Behaviour>, String> {
    install_crypto_provider();
    let idle = config.idle_connection_timeout();
    // Made here rather than by `with_relay_client`: its transport would take browser-to-browser
    // addresses (`/p2p-circuit/webrtc`) for plain circuits (see `RefuseBrowserToBrowser`).
    let (relay_transport, relay_behaviour) = relay::client::new(keypair.public().to_peer_id());
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| format!("TCP transport: {e}"))?
        .with_quic()
        .with_other_transport(|key| match webrtc {
            Some(cert) => OptionalTransport::some(
                libp2p_webrtc::tokio::Transport::new(key.clone(), cert)
                    .map(|(peer, conn), _| (peer, StreamMuxerBox::new(FrameAlignedMuxer(conn)))),
            ),
            None => OptionalTransport::none(),
        })
        .map_err(|e| format!("WebRTC transport: {e}"))?
        .with_other_transport(|key| {
            meshwork_webtransport::Transport::new(webtransport.to_config(key))
                .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)))
        })
        .map_err(|e| format!("WebTransport transport: {e}"))?
        .with_other_transport(|key| {
            Ok::<_, meshwork_core::behaviour::BoxError>(
                RefuseBrowserToBrowser(relay_transport)
                    .upgrade(Version::V1Lazy)
                    .authenticate(noise::Config::new(key)?)
                    .multiplex(yamux::Config::default())
                    .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer))),
            )
        })
        .map_err(|e| format!("relay client: {e}"))?
        .with_dns()
        .map_err(|e| format!("DNS: {e}"))?
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .map_err(|e| format!("WebSocket transport: {e}"))?
        .with_behaviour(|key| Behaviour::for_swarm(key, relay_behaviour, config))
        .map_err(|e| format!("behaviour: {e}"))?
        .with_swarm_config(|c| {
            c.with_idle_connection_timeout(idle)
                .with_dial_concurrency_factor(
                    std::num::NonZeroU8::new(4).unwrap_or(std::num::NonZeroU8::MIN),
                )
        })
        .build();
    Ok(swarm)
}

/// Select rustls' process-wide crypto provider (ring). Both QUIC and WebRTC's DTLS use rustls,
/// and with more than one provider compiled in, rustls refuses to guess: without this call the
/// first WebRTC handshake panics inside a DTLS task. Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
