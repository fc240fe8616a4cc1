//! The loop's side of the persisted peer store (`connmgr::store`): stored peers are kept (and so
//! dialled) before anything else at start, and the kept set goes out as a document whenever it
//! changed, at most once a tick, and once more on shutdown.

use crate::clock::epoch_ms;
use futures::{channel::mpsc, SinkExt};
use web_time::{Instant, SystemTime};

use super::EventLoop;
use crate::{
    connmgr::store::{self, StoredPeer},
    Event,
};

/// Receives the peer store's documents (JSON text) for the edge to keep: a file natively,
/// IndexedDB in a page. Only the newest matters; each is complete.
pub type PeerStoreReceiver = mpsc::Receiver<String>;

/// Where the loop sends documents, and the last one sent.
pub(super) struct StoreOut {
    sender: mpsc::Sender<String>,
    last: Option<String>,
}

impl EventLoop {
    /// Keep the peers of a stored document (`None`: nothing stored yet) and send the kept set to
    /// the returned receiver from now on. At most half of `connections.maxKeptPeers` come back
    /// (the rest is for the peers the application names). Reports `PeerStoreLoaded`; a document
    /// that is not ours is discarded with its reason. Call before `run`.
    pub fn with_peer_store(mut self, stored: Option<&[u8]>) -> (Self, PeerStoreReceiver) {
        // One slot: the loop retries on the next tick while the edge is still writing.
        let (sender, receiver) = mpsc::channel(1);
        let own = *self.swarm.local_peer_id();
        let max = (self.config.connections.max_kept_peers / 2).max(1);
        let now_ms = epoch_ms(SystemTime::now()).unwrap_or_default();
        let (restored, skipped, discarded) =
            match stored.map(|bytes| store::decode(bytes, &own, max, now_ms)) {
                None => (0, 0, None),
                Some(Ok(loaded)) => (self.restore(&loaded.peers), loaded.skipped, None),
                Some(Err(why)) => {
                    tracing::warn!("the stored peer store was discarded: {why}");
                    (0, 0, Some(why))
                }
            };
        self.queued.push_back(Event::PeerStoreLoaded {
            restored,
            skipped,
            discarded,
        });
        self.store = Some(StoreOut { sender, last: None });
        (self, receiver)
    }

    /// Keep the stored peers (due at once), with when each was last connected; returns how many.
    fn restore(&mut self, peers: &[StoredPeer]) -> usize {
        let now = Instant::now();
        let mut restored = 0;
        for p in peers {
            if self
                .kept
                .keep(p.peer, &p.addresses, p.roles, false, now)
                .is_err()
            {
                continue;
            }
            restored += 1;
            if let Some(ms) = p.last_connected_ms {
                let at = SystemTime::UNIX_EPOCH + web_time::Duration::from_millis(ms);
                self.manager.last_seen.insert(p.peer, at);
            }
        }
        restored
    }

    /// The kept peers as stored: when each was last connected is its current connection's start,
    /// or when it was last seen (stable while nothing changes, so the document is too).
    fn stored_peers(&self) -> Vec<StoredPeer> {
        self.kept
            .iter()
            .map(|(peer, kept)| StoredPeer {
                peer: *peer,
                addresses: kept.addresses.clone(),
                roles: kept.roles,
                last_connected_ms: self
                    .peers
                    .get(peer)
                    .map(|s| s.since_wall)
                    .or_else(|| self.manager.last_seen.get(peer).copied())
                    .and_then(epoch_ms),
            })
            .collect()
    }

    /// The document, if it changed since the last one sent.
    fn changed_document(&self) -> Option<String> {
        let out = self.store.as_ref()?;
        let document = store::encode(&self.stored_peers());
        (out.last.as_ref() != Some(&document)).then_some(document)
    }

    /// Once a tick: send the document if it changed and the edge has taken the last one.
    pub(super) fn save_peer_store(&mut self) {
        let Some(document) = self.changed_document() else {
            return;
        };
        if let Some(out) = self.store.as_mut() {
            if out.sender.try_send(document.clone()).is_ok() {
                out.last = Some(document);
            }
        }
    }

    /// On shutdown: the last document, waiting for the edge to take it.
    pub(super) async fn flush_peer_store(&mut self) {
        let Some(document) = self.changed_document() else {
            return;
        };
        if let Some(out) = self.store.as_mut() {
            if out.sender.send(document.clone()).await.is_ok() {
                out.last = Some(document);
            }
        }
    }
}
