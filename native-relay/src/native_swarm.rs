//! The native transports (TCP, QUIC, WebSocket, optionally WebRTC-direct, relay client) around
//! the core behaviour.

use libp2p::{
    core::{muxing::StreamMuxerBox, transport::OptionalTransport, upgrade::Version},
    identity::Keypair,
    noise, relay, tcp, yamux, PeerId, Swarm, SwarmBuilder, Transport,
};
use meshwork_core::{
    behaviour::Behaviour, direct_upgrade::RefuseBrowserToBrowser, NodeConfig, Traffic,
};

use crate::{settings::WebTransportSettings, webrtc_frames::FrameAlignedMuxer};

/// Build a tokio swarm for `config`: TCP, QUIC, WebSocket and WebTransport (listens only where
/// asked; WebTransport settings from `webtransport`), and with a certificate WebRTC-direct too.
/// Every connection counts its bytes into `traffic` (hand the same one to the event loop).
pub async fn build(
    keypair: Keypair,
    config: &NodeConfig,
    webrtc: Option<libp2p_webrtc::tokio::Certificate>,
    webtransport: &WebTransportSettings,
    traffic: &Traffic,
) -> Result<Swarm<Behaviour>, String> {
    install_crypto_provider();
    let idle = config.idle_connection_timeout();
    // Made here rather than by `with_relay_client`: its transport would take browser-to-browser
    // addresses (`/p2p-circuit/webrtc`) for plain circuits (see `RefuseBrowserToBrowser`).
    let (relay_transport, relay_behaviour) = relay::client::new(keypair.public().to_peer_id());
    let counted = |traffic: Traffic| {
        move |(peer, muxer): (PeerId, StreamMuxerBox), _| (peer, traffic.wrap(peer, muxer))
    };
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        // TCP, WebSocket and QUIC built here rather than by the builder's `with_tcp`/`with_quic`
        // /`with_websocket`: every connection's muxer is wrapped to count bytes per peer.
        .with_other_transport(|key| {
            let tcp = || tcp::tokio::Transport::new(tcp::Config::default().nodelay(true));
            let websocket = libp2p::websocket::Config::new(tcp())
                .upgrade(Version::V1Lazy)
                .authenticate(noise::Config::new(key)?)
                .multiplex(yamux::Config::default())
                .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
                .map(counted(traffic.clone()));
            let plain_tcp = tcp()
                .upgrade(Version::V1Lazy)
                .authenticate(noise::Config::new(key)?)
                .multiplex(yamux::Config::default())
                .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
                .map(counted(traffic.clone()));
            let quic = libp2p::quic::tokio::Transport::new(libp2p::quic::Config::new(key))
                .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
                .map(counted(traffic.clone()));
            // WebSocket first: its addresses are TCP addresses with `/ws` on top.
            Ok::<_, meshwork_core::behaviour::BoxError>(
                websocket
                    .or_transport(plain_tcp)
                    .map(|either, _| either.into_inner())
                    .or_transport(quic)
                    .map(|either, _| either.into_inner()),
            )
        })
        .map_err(|e| format!("TCP, WebSocket and QUIC transports: {e}"))?
        .with_other_transport(|key| match webrtc {
            Some(cert) => OptionalTransport::some(
                libp2p_webrtc::tokio::Transport::new(key.clone(), cert)
                    .map(|(peer, conn), _| (peer, StreamMuxerBox::new(FrameAlignedMuxer(conn))))
                    .map(counted(traffic.clone())),
            ),
            None => OptionalTransport::none(),
        })
        .map_err(|e| format!("WebRTC transport: {e}"))?
        .with_other_transport(|key| {
            meshwork_webtransport::Transport::new(webtransport.to_config(key))
                .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)))
                .map(counted(traffic.clone()))
        })
        .map_err(|e| format!("WebTransport transport: {e}"))?
        .with_other_transport(|key| {
            Ok::<_, meshwork_core::behaviour::BoxError>(
                RefuseBrowserToBrowser(relay_transport)
                    .upgrade(Version::V1Lazy)
                    .authenticate(noise::Config::new(key)?)
                    .multiplex(yamux::Config::default())
                    .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
                    .map(counted(traffic.clone())),
            )
        })
        .map_err(|e| format!("relay client: {e}"))?
        .with_dns()
        .map_err(|e| format!("DNS: {e}"))?
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
