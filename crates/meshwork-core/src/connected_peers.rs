//! The set of connected peers, readable outside the event loop (by transports).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use libp2p::PeerId;

/// Peers with at least one open connection, kept by the event loop. Cheap to clone; every
/// clone sees the same set. Bounded by the connection limits.
///
/// The browser-to-browser transport reads it: it signals only over an existing connection, and
/// must not make `libp2p-stream` dial (which would dial the peer's `/webrtc` addresses again).
#[derive(Debug, Clone, Default)]
pub struct ConnectedPeers(Arc<Mutex<HashSet<PeerId>>>);

impl ConnectedPeers {
    /// Whether `peer` is connected.
    pub fn contains(&self, peer: &PeerId) -> bool {
        self.0.lock().map(|set| set.contains(peer)).unwrap_or(false)
    }

    pub(crate) fn insert(&self, peer: PeerId) {
        if let Ok(mut set) = self.0.lock() {
            set.insert(peer);
        }
    }

    pub(crate) fn remove(&self, peer: &PeerId) {
        if let Ok(mut set) = self.0.lock() {
            set.remove(peer);
        }
    }
}
