//! Kept peers: the ones the node wants connected (bootstrap peers, relays it reserves on,
//! peers added by hand), with their addresses and redial schedule. Plain state with injected
//! time; the event loop does the dialling.

use std::collections::HashMap;

use libp2p::{Multiaddr, PeerId};
use web_time::{Duration, Instant};

use super::backoff::{Backoff, Jitter};

/// Addresses remembered per kept peer, best first.
pub const MAX_ADDRESSES: usize = 8;

/// Why a peer is kept. A peer can have several roles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Roles {
    /// From the bootstrap list: dialled while the node has fewer than `connections.target` peers.
    pub bootstrap: bool,
    /// A relay the node keeps a reservation on: always redialled, then reserved on again.
    pub relay: bool,
    /// Added with `addPeer`: always redialled.
    pub manual: bool,
}

impl Roles {
    /// Both sets of roles.
    pub fn union(self, other: Roles) -> Roles {
        Roles {
            bootstrap: self.bootstrap || other.bootstrap,
            relay: self.relay || other.relay,
            manual: self.manual || other.manual,
        }
    }

    /// Redialled whatever the peer count (relays and manual peers).
    fn always(self) -> bool {
        self.relay || self.manual
    }
}

/// One kept peer.
#[derive(Debug, Clone)]
pub struct KeptPeer {
    /// Where to dial it, best first (at most [`MAX_ADDRESSES`]).
    pub addresses: Vec<Multiaddr>,
    /// Why it is kept.
    pub roles: Roles,
    /// Connected now.
    pub connected: bool,
    /// A redial is in flight.
    pub dialing: bool,
    /// When the next redial is due (`None` while connected or dialling).
    pub next_attempt: Option<Instant>,
    /// Failures since the last connection.
    pub backoff: Backoff,
    /// Why the last dial failed, if it did.
    pub last_error: Option<String>,
}

/// The kept peers, at most `max`.
#[derive(Debug)]
pub struct KeptPeers {
    peers: HashMap<PeerId, KeptPeer>,
    max: usize,
    base: Duration,
    cap: Duration,
    jitter: Jitter,
}

/// No room for another kept peer.
#[derive(Debug, PartialEq, Eq)]
pub struct Full(pub usize);

impl KeptPeers {
    /// Empty, holding at most `max` peers, redialling after `base · 2^failures` (at most `cap`).
    pub fn new(max: usize, base: Duration, cap: Duration, jitter: Jitter) -> Self {
        Self {
            peers: HashMap::new(),
            max,
            base,
            cap,
            jitter,
        }
    }

    /// Keep `peer` for `roles`, dialled at `addresses` (merged with any it had, new ones
    /// first). A peer not connected is due at once. Returns whether it was new.
    pub fn keep(
        &mut self,
        peer: PeerId,
        addresses: &[Multiaddr],
        roles: Roles,
        connected: bool,
        now: Instant,
    ) -> Result<bool, Full> {
        if let Some(kept) = self.peers.get_mut(&peer) {
            kept.roles = kept.roles.union(roles);
            kept.addresses = first_unique(addresses.iter().chain(kept.addresses.iter()));
            return Ok(false);
        }
        if self.peers.len() >= self.max {
            return Err(Full(self.max));
        }
        self.peers.insert(
            peer,
            KeptPeer {
                addresses: first_unique(addresses.iter()),
                roles,
                connected,
                dialing: false,
                next_attempt: (!connected).then_some(now),
                backoff: Backoff::default(),
                last_error: None,
            },
        );
        Ok(true)
    }

    /// Stop keeping `peer`.
    pub fn forget(&mut self, peer: &PeerId) -> Option<KeptPeer> {
        self.peers.remove(peer)
    }

    /// The kept peer, if it is one.
    pub fn get(&self, peer: &PeerId) -> Option<&KeptPeer> {
        self.peers.get(peer)
    }

    /// Every kept peer.
    pub fn iter(&self) -> impl Iterator<Item = (&PeerId, &KeptPeer)> {
        self.peers.iter()
    }

    /// Kept peers are protected from pruning.
    pub fn is_kept(&self, peer: &PeerId) -> bool {
        self.peers.contains_key(peer)
    }

    /// A connection to `peer` is up.
    pub fn on_connected(&mut self, peer: &PeerId) {
        if let Some(kept) = self.peers.get_mut(peer) {
            kept.connected = true;
            kept.dialing = false;
            kept.next_attempt = None;
            kept.backoff.reset();
            kept.last_error = None;
        }
    }

    /// The last connection to `peer` closed: a redial is scheduled after a backoff.
    pub fn on_disconnected(&mut self, peer: &PeerId, now: Instant) {
        let (base, cap) = (self.base, self.cap);
        if let Some(kept) = self.peers.get_mut(peer) {
            kept.connected = false;
            if !kept.dialing {
                let delay = kept.backoff.fail(base, cap, &mut self.jitter);
                kept.next_attempt = Some(now + delay);
            }
        }
    }

    /// A redial of `peer` failed: the next one waits longer. Returns the delay.
    pub fn on_dial_failed(&mut self, peer: &PeerId, error: &str, now: Instant) -> Option<Duration> {
        let (base, cap) = (self.base, self.cap);
        let kept = self.peers.get_mut(peer)?;
        kept.dialing = false;
        kept.last_error = Some(error.to_owned());
        if kept.connected {
            return None;
        }
        let delay = kept.backoff.fail(base, cap, &mut self.jitter);
        kept.next_attempt = Some(now + delay);
        Some(delay)
    }

    /// The peers to redial now, marked as dialling: relays and manual peers whenever they are
    /// due; bootstrap peers only while `connected + dialling < target`.
    pub fn take_due(
        &mut self,
        now: Instant,
        connected: usize,
        target: usize,
    ) -> Vec<(PeerId, Vec<Multiaddr>)> {
        let mut busy = connected + self.peers.values().filter(|k| k.dialing).count();
        let mut due: Vec<(&PeerId, &mut KeptPeer)> = self
            .peers
            .iter_mut()
            .filter(|(_, k)| {
                !k.connected
                    && !k.dialing
                    && !k.addresses.is_empty()
                    && k.next_attempt.is_some_and(|at| at <= now)
            })
            .collect();
        // Soonest due first, so a long list is worked through fairly.
        due.sort_by_key(|(_, k)| k.next_attempt);
        let mut out = Vec::new();
        for (peer, kept) in due {
            if !kept.roles.always() {
                if busy >= target {
                    continue;
                }
                busy += 1;
            }
            kept.dialing = true;
            kept.next_attempt = None;
            out.push((*peer, kept.addresses.clone()));
        }
        out
    }
}

/// The first [`MAX_ADDRESSES`] distinct addresses, in order.
fn first_unique<'a>(addresses: impl Iterator<Item = &'a Multiaddr>) -> Vec<Multiaddr> {
    let mut unique: Vec<Multiaddr> = Vec::new();
    for a in addresses {
        if unique.len() == MAX_ADDRESSES {
            break;
        }
        if !unique.contains(a) {
            unique.push(a.clone());
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()
    }

    fn kept(max: usize) -> KeptPeers {
        KeptPeers::new(
            max,
            Duration::from_secs(1),
            Duration::from_secs(8),
            Jitter::seeded(9),
        )
    }

    const BOOT: Roles = Roles {
        bootstrap: true,
        relay: false,
        manual: false,
    };
    const MANUAL: Roles = Roles {
        bootstrap: false,
        relay: false,
        manual: true,
    };

    #[test]
    fn bootstrap_peers_are_dialled_only_below_target() {
        let now = Instant::now();
        let mut k = kept(10);
        for port in 1..=4 {
            k.keep(PeerId::random(), &[addr(port)], BOOT, false, now)
                .unwrap();
        }
        // Target 3, one connected already: two dials.
        assert_eq!(k.take_due(now, 1, 3).len(), 2);
        // The two in flight count: nothing more.
        assert!(k.take_due(now, 1, 3).is_empty());
    }

    #[test]
    fn manual_peers_are_redialled_whatever_the_count() {
        let now = Instant::now();
        let mut k = kept(10);
        let peer = PeerId::random();
        k.keep(peer, &[addr(1)], MANUAL, false, now).unwrap();
        assert_eq!(k.take_due(now, 100, 3), vec![(peer, vec![addr(1)])]);
    }

    #[test]
    fn failures_back_off_and_success_resets() {
        let now = Instant::now();
        let mut k = kept(10);
        let peer = PeerId::random();
        k.keep(peer, &[addr(1)], MANUAL, false, now).unwrap();
        assert_eq!(k.take_due(now, 0, 1).len(), 1);
        let first = k.on_dial_failed(&peer, "refused", now).unwrap();
        assert!(first <= Duration::from_secs(1));
        assert!(
            k.take_due(now, 0, 1).is_empty(),
            "not due before the backoff"
        );
        assert_eq!(k.take_due(now + first, 0, 1).len(), 1);
        let second = k.on_dial_failed(&peer, "refused", now).unwrap();
        assert!(second >= Duration::from_secs(1) && second <= Duration::from_secs(2));
        k.on_connected(&peer);
        assert_eq!(k.get(&peer).unwrap().backoff.failures(), 0);
        k.on_disconnected(&peer, now);
        let at = k.get(&peer).unwrap().next_attempt.unwrap();
        assert!(at <= now + Duration::from_secs(1));
    }

    #[test]
    fn bounded_and_merging() {
        let now = Instant::now();
        let mut k = kept(1);
        let peer = PeerId::random();
        assert_eq!(k.keep(peer, &[addr(1)], BOOT, false, now), Ok(true));
        assert_eq!(
            k.keep(PeerId::random(), &[addr(2)], BOOT, false, now),
            Err(Full(1))
        );
        let many: Vec<Multiaddr> = (10..30).map(addr).collect();
        assert_eq!(k.keep(peer, &many, MANUAL, false, now), Ok(false));
        let entry = k.get(&peer).unwrap();
        assert_eq!(entry.addresses.len(), MAX_ADDRESSES);
        assert_eq!(entry.addresses[0], addr(10), "new addresses come first");
        assert!(entry.roles.bootstrap && entry.roles.manual);
        assert!(k.forget(&peer).is_some());
        assert!(!k.is_kept(&peer));
    }
}
