//! Peer exchange over gossip: every node announces its signed peer record (the libp2p
//! `PeerRecord` envelope also used in the DHT: its peer ID, a sequence number and its reachable
//! addresses, relay circuit addresses for a page) on the system topic [`TOPIC`], and learns
//! the others' from theirs.
//!
//! What a node keeps is [`KnownPeers`]: per peer the newest record heard, bounded. An
//! announcement is taken only if it is signed by its author, newer than the last one from that
//! peer, and at least [`MIN_ANNOUNCE_GAP`] after it (a peer announcing faster is ignored, not
//! forwarded). `event_loop::peer_exchange` wires this to gossipsub.

use std::collections::HashMap;

use libp2p::{Multiaddr, PeerId};
use web_time::{Duration, Instant};

/// The gossip topic peer records travel on.
pub const TOPIC: &str = "/meshwork/peer-exchange/1";

/// Announcements from one peer closer together than this are ignored (and a node never
/// announces more often, even when its addresses change).
pub const MIN_ANNOUNCE_GAP: Duration = Duration::from_secs(10);

/// Most addresses taken from one record (the first ones).
pub const MAX_ADDRESSES: usize = 16;

/// How far ahead of our clock a record's sequence number (its signing time in seconds) may be.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// What [`KnownPeers::offer`] made of an announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// A peer not known before: forward it and report it.
    New,
    /// A known peer at other addresses: forward it and report it.
    Moved,
    /// A known peer, same addresses, newer record: forward it, nothing to report.
    Refreshed,
    /// Not newer than the record held: drop it.
    Stale,
    /// Newer, but within [`MIN_ANNOUNCE_GAP`] of the last one taken: drop it.
    TooSoon,
}

impl Offer {
    /// Whether the announcement is taken (and forwarded).
    pub fn taken(self) -> bool {
        matches!(self, Offer::New | Offer::Moved | Offer::Refreshed)
    }
}

struct Known {
    seq: u64,
    addresses: Vec<Multiaddr>,
    heard: Instant,
}

/// The newest record heard per peer, at most `max` peers (the one heard from longest ago makes
/// room). Default bound: `peerExchange.maxKnownPeers` (1,024).
pub struct KnownPeers {
    peers: HashMap<PeerId, Known>,
    max: usize,
}

impl KnownPeers {
    /// Empty, holding at most `max` peers (at least 1).
    pub fn new(max: usize) -> Self {
        Self {
            peers: HashMap::new(),
            max: max.max(1),
        }
    }

    /// Peers held.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether it holds nobody.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Weigh `peer`'s record (`seq`, `addresses`, already verified) heard at `now`.
    pub fn offer(
        &mut self,
        peer: PeerId,
        seq: u64,
        addresses: &[Multiaddr],
        now: Instant,
    ) -> Offer {
        let addresses: Vec<Multiaddr> = addresses.iter().take(MAX_ADDRESSES).cloned().collect();
        if let Some(known) = self.peers.get_mut(&peer) {
            if seq <= known.seq {
                return Offer::Stale;
            }
            if now.duration_since(known.heard) < MIN_ANNOUNCE_GAP {
                return Offer::TooSoon;
            }
            let moved = known.addresses != addresses;
            *known = Known {
                seq,
                addresses,
                heard: now,
            };
            return if moved {
                Offer::Moved
            } else {
                Offer::Refreshed
            };
        }
        if self.peers.len() >= self.max {
            let oldest = self
                .peers
                .iter()
                .min_by_key(|(_, k)| k.heard)
                .map(|(p, _)| *p);
            if let Some(oldest) = oldest {
                self.peers.remove(&oldest);
            }
        }
        self.peers.insert(
            peer,
            Known {
                seq,
                addresses,
                heard: now,
            },
        );
        Offer::New
    }

    /// The addresses last heard from `peer`.
    pub fn addresses(&self, peer: &PeerId) -> Option<&[Multiaddr]> {
        self.peers.get(peer).map(|k| k.addresses.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> Vec<Multiaddr> {
        vec![format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()]
    }

    #[test]
    fn newer_records_are_taken_once_per_gap_and_moves_reported() {
        let mut known = KnownPeers::new(8);
        let peer = PeerId::random();
        let t0 = Instant::now();
        assert_eq!(known.offer(peer, 10, &addr(1), t0), Offer::New);
        assert_eq!(
            known.offer(peer, 10, &addr(1), t0 + MIN_ANNOUNCE_GAP),
            Offer::Stale
        );
        assert_eq!(
            known.offer(peer, 9, &addr(2), t0 + MIN_ANNOUNCE_GAP),
            Offer::Stale
        );
        assert_eq!(
            known.offer(peer, 11, &addr(1), t0 + Duration::from_secs(1)),
            Offer::TooSoon
        );
        assert_eq!(
            known.offer(peer, 11, &addr(1), t0 + MIN_ANNOUNCE_GAP),
            Offer::Refreshed
        );
        let later = t0 + MIN_ANNOUNCE_GAP * 2;
        assert_eq!(known.offer(peer, 12, &addr(2), later), Offer::Moved);
        assert_eq!(known.addresses(&peer), Some(addr(2).as_slice()));
        assert!(Offer::Moved.taken() && !Offer::TooSoon.taken());
    }

    #[test]
    fn bounded_by_forgetting_the_longest_unheard() {
        let mut known = KnownPeers::new(2);
        let t0 = Instant::now();
        let (a, b, c) = (PeerId::random(), PeerId::random(), PeerId::random());
        known.offer(a, 1, &addr(1), t0);
        known.offer(b, 1, &addr(2), t0 + Duration::from_secs(1));
        known.offer(c, 1, &addr(3), t0 + Duration::from_secs(2));
        assert_eq!(known.len(), 2);
        assert!(known.addresses(&a).is_none());
        let many: Vec<Multiaddr> = (0..40).flat_map(addr).collect();
        known.offer(a, 1, &many, t0 + Duration::from_secs(3));
        assert_eq!(known.addresses(&a).map(<[_]>::len), Some(MAX_ADDRESSES));
    }
}
