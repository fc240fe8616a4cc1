//! mDNS, the one part of discovery that differs by target: natively it is libp2p's mDNS on
//! tokio; in the browser (no multicast sockets) a behaviour that does nothing, so the composed
//! behaviour has the same shape on both.

use libp2p::{Multiaddr, PeerId};

use super::config::MdnsConfig;
use crate::CoreError;
#[cfg(not(target_arch = "wasm32"))]
use crate::ErrorCode;

/// The mDNS behaviour of this target.
#[cfg(not(target_arch = "wasm32"))]
pub type Mdns = libp2p::mdns::tokio::Behaviour;
/// The mDNS behaviour of this target.
#[cfg(target_arch = "wasm32")]
pub type Mdns = libp2p::swarm::dummy::Behaviour;

/// What the mDNS behaviour reports.
pub type MdnsEvent = <Mdns as libp2p::swarm::NetworkBehaviour>::ToSwarm;

/// Build mDNS if `config` turns it on (natively; always `None` in the browser).
#[cfg(not(target_arch = "wasm32"))]
pub fn behaviour(config: &MdnsConfig, local: PeerId) -> Result<Option<Mdns>, CoreError> {
    if !config.enabled {
        return Ok(None);
    }
    let mdns_config = libp2p::mdns::Config {
        query_interval: std::time::Duration::from_secs(config.query_interval_secs),
        // Announced records live a few query intervals.
        ttl: std::time::Duration::from_secs(config.query_interval_secs * 3),
        ..libp2p::mdns::Config::default()
    };
    Mdns::new(mdns_config, local)
        .map(Some)
        .map_err(|e| CoreError::new(ErrorCode::StartFailed, format!("cannot start mDNS: {e}")))
}

/// Build mDNS if `config` turns it on (natively; always `None` in the browser).
#[cfg(target_arch = "wasm32")]
pub fn behaviour(_config: &MdnsConfig, _local: PeerId) -> Result<Option<Mdns>, CoreError> {
    Ok(None)
}

/// The peers (with an address each) an mDNS event reports as found.
#[cfg(not(target_arch = "wasm32"))]
pub fn found(event: MdnsEvent) -> Vec<(PeerId, Multiaddr)> {
    match event {
        libp2p::mdns::Event::Discovered(list) => list,
        libp2p::mdns::Event::Expired(_) => Vec::new(),
    }
}

/// The peers (with an address each) an mDNS event reports as found.
#[cfg(target_arch = "wasm32")]
pub fn found(event: MdnsEvent) -> Vec<(PeerId, Multiaddr)> {
    match event {}
}
