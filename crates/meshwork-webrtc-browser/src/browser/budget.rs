//! The page's budget of `RTCPeerConnection`s, shared by both transports of this crate.
//!
//! Browsers cap peer connections (Chrome: 500 per page, after which creating one throws until
//! the page reloads). Every peer connection takes a [`Slot`] first; the slot frees its live
//! count when the peer connection is dropped. The lifetime count never goes down.

use std::cell::Cell;

use crate::{Error, Limits};

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static CREATED: Cell<usize> = const { Cell::new(0) };
}

/// One live peer connection's share of the budget; dropping it frees the live count.
#[derive(Debug)]
pub(crate) struct Slot(());

impl Slot {
    /// Takes a slot, or says which limit stands in the way.
    pub(crate) fn take(limits: &Limits) -> Result<Self, Error> {
        let live = LIVE.with(Cell::get);
        let created = CREATED.with(Cell::get);
        if live >= limits.max_live_peer_connections {
            return Err(Error::PeerConnectionLimit(format!(
                "{live} peer connections are open (maxLivePeerConnections {})",
                limits.max_live_peer_connections
            )));
        }
        if created >= limits.max_total_peer_connections {
            return Err(Error::PeerConnectionLimit(format!(
                "{created} peer connections were created by this page (maxTotalPeerConnections {}); reload to reset",
                limits.max_total_peer_connections
            )));
        }
        LIVE.with(|c| c.set(live + 1));
        CREATED.with(|c| c.set(created + 1));
        Ok(Self(()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        LIVE.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

/// `(live, created)` peer connections of this page, for stats.
pub fn peer_connection_counts() -> (usize, usize) {
    (LIVE.with(Cell::get), CREATED.with(Cell::get))
}
