//! Flood control for inbound gossip: token buckets (GCRA, from `governor`) per message author,
//! per author in bytes, and one for the whole node.
//!
//! Buckets are keyed by the message's *author* (the signed `source` `PeerId`), not by the peer
//! that forwarded it: in a relay-centred network almost every message arrives through the relay,
//! and limiting the relay would limit everybody. Unsigned messages (no author) share one
//! "anonymous" bucket.
//!
//! Per-author checks run before the global one, so an author's excess is refused before it can
//! consume the global budget that everybody shares.
//!
//! Memory is bounded: at most `maxTrackedPeers` authors have their own buckets (see
//! [`FloodControl::check`] for what happens to the rest).
//!
//! The clock is `governor`'s `MonotonicClock`, which uses `web_time::Instant`, so the same code
//! runs in a page and natively.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use governor::clock::MonotonicClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::{HashMapStateStore, ShrinkableKeyedStateStore};
use governor::state::{InMemoryState, NotKeyed, StateStore};
use governor::{Quota, RateLimiter};
use libp2p::PeerId;
use serde::{Deserialize, Serialize};

/// Bytes are counted in units of this many bytes, so that `governor`'s `u32` cell counts suffice.
const BYTE_UNIT: u64 = 1024;

/// Largest accepted `maxTrackedPeers`.
const MAX_TRACKED_PEERS_LIMIT: usize = 1 << 20;

/// Flood control settings. Rates are per second; a burst is how much may arrive at once after a
/// quiet period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct FloodConfig {
    /// Messages per second one author may sustain. Default 10.
    pub per_peer_messages_per_sec: u32,
    /// Messages one author may send at once. Default 20.
    pub per_peer_burst: u32,
    /// Messages per second accepted from all authors together. Default 1,000.
    pub global_messages_per_sec: u32,
    /// Messages accepted at once from all authors together. Default 2,000.
    pub global_burst: u32,
    /// Bytes per second one author may sustain, counted in whole KiB (a message counts
    /// `ceil(len / 1024)` KiB, at least 1). At least 1,024. Default 8 MiB.
    pub per_peer_bytes_per_sec: u64,
    /// Bytes one author may send at once, counted in whole KiB like `perPeerBytesPerSec`. A single
    /// message larger than this is always refused, so keep it at least the largest message
    /// accepted. At least 1,024. Default 16 MiB.
    pub per_peer_bytes_burst: u64,
    /// Most authors with buckets of their own; past it, new authors share one overflow bucket.
    /// Between 1 and 1,048,576. Default 4,096.
    pub max_tracked_peers: usize,
}

impl Default for FloodConfig {
    fn default() -> Self {
        Self {
            per_peer_messages_per_sec: 10,
            per_peer_burst: 20,
            global_messages_per_sec: 1000,
            global_burst: 2000,
            per_peer_bytes_per_sec: 8 * 1024 * 1024,
            per_peer_bytes_burst: 16 * 1024 * 1024,
            max_tracked_peers: 4096,
        }
    }
}

impl FloodConfig {
    /// Check the values for ones that cannot work; returns a message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        self.quotas().map(|_| ())
    }

    /// The three quotas (per-author messages, per-author KiB, global messages), or the error
    /// naming the offending key.
    fn quotas(&self) -> Result<(Quota, Quota, Quota), String> {
        let per_peer = quota(
            self.per_peer_messages_per_sec,
            "perPeerMessagesPerSec",
            self.per_peer_burst,
            "perPeerBurst",
        )?;
        let global = quota(
            self.global_messages_per_sec,
            "globalMessagesPerSec",
            self.global_burst,
            "globalBurst",
        )?;
        let bytes = quota(
            kib(self.per_peer_bytes_per_sec, "perPeerBytesPerSec")?,
            "perPeerBytesPerSec",
            kib(self.per_peer_bytes_burst, "perPeerBytesBurst")?,
            "perPeerBytesBurst",
        )?;
        if self.max_tracked_peers == 0 || self.max_tracked_peers > MAX_TRACKED_PEERS_LIMIT {
            return Err(format!(
                "maxTrackedPeers must be between 1 and {MAX_TRACKED_PEERS_LIMIT}"
            ));
        }
        Ok((per_peer, bytes, global))
    }
}

/// A quota of `rate` cells per second with a burst of `burst`; both must be at least 1.
fn quota(rate: u32, rate_key: &str, burst: u32, burst_key: &str) -> Result<Quota, String> {
    let rate = NonZeroU32::new(rate).ok_or_else(|| format!("{rate_key} must be at least 1"))?;
    let burst = NonZeroU32::new(burst).ok_or_else(|| format!("{burst_key} must be at least 1"))?;
    Ok(Quota::per_second(rate).allow_burst(burst))
}

/// A byte setting in whole KiB (rounded up); it must be at least 1 KiB and fit a `u32` of KiB.
fn kib(bytes: u64, key: &str) -> Result<u32, String> {
    let max = u64::from(u32::MAX) * BYTE_UNIT;
    if !(BYTE_UNIT..=max).contains(&bytes) {
        return Err(format!("{key} must be between {BYTE_UNIT} and {max}"));
    }
    u32::try_from(bytes.div_ceil(BYTE_UNIT)).map_err(|_| format!("{key} is too large"))
}

/// What flood control says about one inbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within every budget: process it.
    Allowed,
    /// Over its author's message or byte budget (or the shared anonymous or overflow bucket it
    /// was put in): drop it.
    PeerLimited,
    /// Within its author's budget but over the node's global message budget: drop it.
    GlobalLimited,
}

/// Whose bucket a message is charged to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// A tracked author.
    Author(PeerId),
    /// Every message without an author.
    Anonymous,
    /// Every new author once `maxTrackedPeers` authors are tracked.
    Overflow,
}

/// A `governor` hash-map state store that we can also look into (`governor` has no
/// "contains key"): the limiter holds one handle, [`FloodControl`] the other.
#[derive(Debug, Clone, Default)]
struct SharedStore(Arc<HashMapStateStore<Key>>);

impl SharedStore {
    fn contains(&self, key: &Key) -> bool {
        self.0.lock().contains_key(key)
    }
}

impl StateStore for SharedStore {
    type Key = Key;

    fn measure_and_replace<T, F, E>(&self, key: &Key, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        self.0.measure_and_replace(key, f)
    }
}

impl ShrinkableKeyedStateStore<Key> for SharedStore {
    fn retain_recent(&self, drop_below: Nanos) {
        self.0.retain_recent(drop_below);
    }

    fn shrink_to_fit(&self) {
        ShrinkableKeyedStateStore::shrink_to_fit(&*self.0);
    }

    fn len(&self) -> usize {
        ShrinkableKeyedStateStore::len(&*self.0)
    }

    fn is_empty(&self) -> bool {
        ShrinkableKeyedStateStore::is_empty(&*self.0)
    }
}

type KeyedLimiter =
    RateLimiter<Key, SharedStore, MonotonicClock, NoOpMiddleware<web_time::Instant>>;
type DirectLimiter =
    RateLimiter<NotKeyed, InMemoryState, MonotonicClock, NoOpMiddleware<web_time::Instant>>;

/// Flood control for inbound gossip. Build it once from a validated [`FloodConfig`], call
/// [`check`](Self::check) for every inbound message and [`housekeeping`](Self::housekeeping) every
/// heartbeat.
pub struct FloodControl {
    /// Per-author message buckets.
    messages: KeyedLimiter,
    /// A handle on `messages`' state.
    messages_store: SharedStore,
    /// Per-author byte buckets, in KiB.
    bytes: KeyedLimiter,
    /// A handle on `bytes`' state.
    bytes_store: SharedStore,
    /// The node-wide message bucket.
    global: DirectLimiter,
    /// Most authors with buckets of their own.
    max_tracked: usize,
    /// Whether a full map may still be swept from `check` before the next `housekeeping`; at most
    /// one such sweep per heartbeat, so a stream of new authors cannot make every check O(map).
    sweep_allowed: AtomicBool,
}

impl fmt::Debug for FloodControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FloodControl")
            .field("tracked_peers", &self.tracked_peers())
            .field("max_tracked", &self.max_tracked)
            .finish_non_exhaustive()
    }
}

impl FloodControl {
    /// Build flood control; fails with a message naming the key if the configuration is invalid.
    pub fn new(config: &FloodConfig) -> Result<Self, String> {
        let (per_peer, bytes, global) = config.quotas()?;
        Ok(Self::from_quotas(
            per_peer,
            bytes,
            global,
            config.max_tracked_peers,
        ))
    }

    /// Flood control with the [`FloodConfig::default`] limits; cannot fail.
    pub fn with_defaults() -> Self {
        const fn nz(n: u32) -> NonZeroU32 {
            match NonZeroU32::new(n) {
                Some(n) => n,
                None => NonZeroU32::MIN,
            }
        }
        Self::from_quotas(
            Quota::per_second(nz(10)).allow_burst(nz(20)),
            Quota::per_second(nz(8 * 1024)).allow_burst(nz(16 * 1024)),
            Quota::per_second(nz(1000)).allow_burst(nz(2000)),
            4096,
        )
    }

    fn from_quotas(per_peer: Quota, bytes: Quota, global: Quota, max_tracked: usize) -> Self {
        let messages_store = SharedStore::default();
        let bytes_store = SharedStore::default();
        Self {
            messages: RateLimiter::new(per_peer, messages_store.clone(), MonotonicClock),
            messages_store,
            bytes: RateLimiter::new(bytes, bytes_store.clone(), MonotonicClock),
            bytes_store,
            global: RateLimiter::direct_with_clock(global, MonotonicClock),
            max_tracked,
            sweep_allowed: AtomicBool::new(true),
        }
    }

    /// Charge one inbound message of `bytes` bytes to its `author` (`None` for unsigned
    /// messages, which share one anonymous bucket) and say whether to process it.
    ///
    /// `counts_as_message` is false for the continuation chunks of a large payload: those count
    /// against the author's byte budget only, not against the per-author or global message
    /// budgets. A message counts `ceil(bytes / 1024)` KiB, at least 1.
    ///
    /// Per-author budgets are checked first, then the global one; a refused message still uses
    /// up whatever budgets it passed before the refusing one (its author's own, never the global
    /// one on a per-author refusal).
    ///
    /// Bounded state: an author already tracked keeps its own buckets. A new author gets its own
    /// buckets while fewer than `maxTrackedPeers` keys are tracked. When the maps are full, idle
    /// keys are swept (`retain_recent`, at most once between two [`housekeeping`] calls); if they
    /// are still full, the new author is charged to one overflow bucket shared by all such
    /// authors, with the per-author quotas. Under a flood of new identities the newcomers then
    /// throttle each other, while tracked authors and the global budget are unaffected.
    ///
    /// [`housekeeping`]: Self::housekeeping
    pub fn check(&self, author: Option<&PeerId>, bytes: usize, counts_as_message: bool) -> Verdict {
        let key = self.key_for(author);
        if counts_as_message && self.messages.check_key(&key).is_err() {
            return Verdict::PeerLimited;
        }
        let units = u64::try_from(bytes)
            .map(|b| b.div_ceil(BYTE_UNIT).max(1))
            .ok()
            .and_then(|u| u32::try_from(u).ok())
            .and_then(NonZeroU32::new);
        let Some(units) = units else {
            // Too large to count: it could never fit the byte burst anyway.
            return Verdict::PeerLimited;
        };
        // Err(InsufficientCapacity): larger than the whole byte burst, never allowed.
        if !matches!(self.bytes.check_key_n(&key, units), Ok(Ok(()))) {
            return Verdict::PeerLimited;
        }
        if counts_as_message && self.global.check().is_err() {
            return Verdict::GlobalLimited;
        }
        Verdict::Allowed
    }

    /// Drop idle buckets (ones that have refilled completely) and release spare map capacity.
    /// Call it every heartbeat; it costs O(tracked keys).
    pub fn housekeeping(&self) {
        self.sweep();
        self.messages.shrink_to_fit();
        self.bytes.shrink_to_fit();
        self.sweep_allowed.store(true, Ordering::Relaxed);
    }

    /// Keys with buckets of their own right now: the larger of the two per-author maps. This
    /// includes the shared anonymous and overflow buckets when in use, so it is at most
    /// `maxTrackedPeers + 2`.
    pub fn tracked_peers(&self) -> usize {
        self.messages.len().max(self.bytes.len())
    }

    /// The bucket key for an author, applying the `maxTrackedPeers` bound.
    fn key_for(&self, author: Option<&PeerId>) -> Key {
        let Some(peer) = author else {
            return Key::Anonymous;
        };
        let key = Key::Author(*peer);
        if self.bytes_store.contains(&key) || self.messages_store.contains(&key) {
            return key;
        }
        if self.tracked_peers() < self.max_tracked {
            return key;
        }
        if self.sweep_allowed.swap(false, Ordering::Relaxed) {
            self.sweep();
            if self.tracked_peers() < self.max_tracked {
                return key;
            }
        }
        Key::Overflow
    }

    /// Drop the keys whose buckets are indistinguishable from fresh ones.
    fn sweep(&self) {
        self.messages.retain_recent();
        self.bytes.retain_recent();
    }
}

#[cfg(test)]
mod tests;
