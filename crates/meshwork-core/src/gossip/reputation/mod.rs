//! Application reputation per peer: every validated gossip message moves its author's score
//! (up for valid, down for rejected or rate-limited), scores decay toward 0 over time, and a peer
//! whose score falls to the ban threshold is banned for a while. The connection manager also
//! reads scores when it prunes connections.
//!
//! Time is passed in (`now`), never read here, so the logic is deterministic and testable; the
//! caller uses `web_time::Instant::now()`, which works in a page and natively. Decay is applied
//! lazily from the time elapsed since a score was last written, so nothing needs a timer except
//! an occasional [`Reputation::expire`] (every heartbeat is plenty).
//!
//! Both maps are bounded (`maxTracked` scores, `maxBans` bans); see [`Reputation::record`] for
//! what gets evicted.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::Duration;

use libp2p::PeerId;
use serde::{Deserialize, Serialize};
use web_time::Instant;

/// Largest accepted `banSecs`: one year.
const MAX_BAN_SECS: u64 = 365 * 24 * 60 * 60;

/// Largest accepted `maxTracked` and `maxBans`.
const MAX_ENTRIES: usize = 1 << 20;

/// [`Reputation::expire`] forgets a peer whose score has decayed to within this distance of 0...
pub const FORGET_BELOW: f64 = 0.5;

/// ...and which has not been seen (no [`Reputation::record`]) for this long: five minutes.
pub const FORGET_AFTER: Duration = Duration::from_secs(300);

/// Reputation settings. Scores are unitless; deltas are added per message outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ReputationConfig {
    /// Added for a valid message. At least 0. Default +1.0.
    pub valid_delta: f64,
    /// Added for a rejected (invalid) message. At most 0. Default -10.0.
    pub rejected_delta: f64,
    /// Added for a message dropped by flood control. At most 0. Default -5.0 (a flooder is banned
    /// after 20 messages over its limit, before gossipsub's own score would graylist it).
    pub rate_limited_delta: f64,
    /// Added for an ignored message (for example a duplicate). Default 0.0.
    pub ignored_delta: f64,
    /// Highest score; scores are clamped to it. Above 0. Default 100.0.
    pub max: f64,
    /// Lowest score; scores are clamped to it. Below 0. Default -1,000.0.
    pub min: f64,
    /// A peer whose score falls to or below this is banned. Between `min` and 0 (exclusive).
    /// Default -100.0.
    pub ban_threshold: f64,
    /// How long a ban lasts, in seconds. Between 1 and 31,536,000 (a year). Default 600.
    pub ban_secs: u64,
    /// Fraction of the distance to 0 a score loses each minute (compounded continuously:
    /// after `m` minutes a score is multiplied by `(1 - decayPerMinute)^m`). Between 0 and 1.
    /// Default 0.1.
    pub decay_per_minute: f64,
    /// Most peers with a score. Between 1 and 1,048,576. Default 4,096.
    pub max_tracked: usize,
    /// Most bans held at once. Between 1 and 1,048,576. Default 1,024.
    pub max_bans: usize,
}

impl Default for ReputationConfig {
    fn default() -> Self {
        Self {
            valid_delta: 1.0,
            rejected_delta: -10.0,
            rate_limited_delta: -5.0,
            ignored_delta: 0.0,
            max: 100.0,
            min: -1000.0,
            ban_threshold: -100.0,
            ban_secs: 600,
            decay_per_minute: 0.1,
            max_tracked: 4096,
            max_bans: 1024,
        }
    }
}

impl ReputationConfig {
    /// Check the values for ones that cannot work; returns a message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        let floats = [
            (self.valid_delta, "validDelta"),
            (self.rejected_delta, "rejectedDelta"),
            (self.rate_limited_delta, "rateLimitedDelta"),
            (self.ignored_delta, "ignoredDelta"),
            (self.max, "max"),
            (self.min, "min"),
            (self.ban_threshold, "banThreshold"),
            (self.decay_per_minute, "decayPerMinute"),
        ];
        if let Some((_, key)) = floats.iter().find(|(v, _)| !v.is_finite()) {
            return Err(format!("{key} must be a finite number"));
        }
        if self.valid_delta < 0.0 {
            return Err("validDelta must be at least 0".into());
        }
        if self.rejected_delta > 0.0 {
            return Err("rejectedDelta must be at most 0".into());
        }
        if self.rate_limited_delta > 0.0 {
            return Err("rateLimitedDelta must be at most 0".into());
        }
        if self.max <= 0.0 {
            return Err("max must be above 0".into());
        }
        if self.min >= 0.0 {
            return Err("min must be below 0".into());
        }
        if self.ban_threshold < self.min || self.ban_threshold >= 0.0 {
            return Err("banThreshold must be at least min and below 0".into());
        }
        if self.ban_secs == 0 || self.ban_secs > MAX_BAN_SECS {
            return Err(format!("banSecs must be between 1 and {MAX_BAN_SECS}"));
        }
        if !(0.0..=1.0).contains(&self.decay_per_minute) {
            return Err("decayPerMinute must be between 0 and 1".into());
        }
        if self.max_tracked == 0 || self.max_tracked > MAX_ENTRIES {
            return Err(format!("maxTracked must be between 1 and {MAX_ENTRIES}"));
        }
        if self.max_bans == 0 || self.max_bans > MAX_ENTRIES {
            return Err(format!("maxBans must be between 1 and {MAX_ENTRIES}"));
        }
        Ok(())
    }
}

/// What became of one message from a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Valid and accepted: `validDelta`.
    Valid,
    /// Invalid (bad signature, malformed, refused by the application): `rejectedDelta`.
    Rejected,
    /// Dropped by flood control: `rateLimitedDelta`.
    RateLimited,
    /// Neither good nor bad (for example a duplicate): `ignoredDelta`.
    Ignored,
}

/// A ban that [`Reputation::record`] has just imposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ban {
    /// The banned peer.
    pub peer: PeerId,
    /// When the ban ends.
    pub until: Instant,
}

/// One peer's score.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The score as of `at`.
    score: f64,
    /// When the score was last written, which is also when the peer was last seen.
    at: Instant,
}

/// Scores and bans for peers. Single-threaded: the event loop owns it.
#[derive(Debug, Clone)]
pub struct Reputation {
    config: ReputationConfig,
    /// What is left of a score after one minute: `1 - decayPerMinute`, within 0..=1.
    keep_per_minute: f64,
    /// How long a ban lasts.
    ban_duration: Duration,
    peers: HashMap<PeerId, Entry>,
    /// Ban end per peer; ended bans linger until [`Reputation::expire`] or eviction.
    bans: HashMap<PeerId, Instant>,
}

impl Reputation {
    /// Build an empty table. Validate the configuration first
    /// ([`ReputationConfig::validate`]); out-of-range values never panic, but give odd results.
    pub fn new(config: ReputationConfig) -> Self {
        // NaN fails both comparisons and becomes "no decay".
        let decay = if config.decay_per_minute >= 0.0 {
            config.decay_per_minute.min(1.0)
        } else {
            0.0
        };
        let ban_duration = Duration::from_secs(config.ban_secs.min(MAX_BAN_SECS));
        Self {
            keep_per_minute: 1.0 - decay,
            ban_duration,
            peers: HashMap::new(),
            bans: HashMap::new(),
            config,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ReputationConfig {
        &self.config
    }

    /// Record the outcome of one message from `peer` at `now`: the score (decayed to `now`)
    /// moves by the outcome's delta and is clamped to `min..=max`.
    ///
    /// Returns the ban when this record lowers the score to or below `banThreshold` and the peer
    /// is not banned already; the ban lasts `banSecs` from `now`. (A score still below the
    /// threshold when a ban ends bans again on the next lowering record.)
    ///
    /// Bounds: when `maxTracked` peers are scored, a new peer is compared with the least
    /// important tracked one (O(n)), where importance orders negative scores before
    /// non-negative ones, then larger distance from 0, then more recently seen. The new peer
    /// replaces it only if the new peer is more important; otherwise the new peer is simply not
    /// tracked (its score stays 0, neutral). So a negative score is never evicted in favour of
    /// a new zero or positive one: identities are free to mint, and if fresh identities could
    /// push misbehaving peers out of the table, an abuser could wash its score (and dodge the
    /// ban threshold) by churning through them. Tracked positive peers can be displaced, which
    /// costs them only their good standing.
    pub fn record(&mut self, peer: PeerId, outcome: Outcome, now: Instant) -> Option<Ban> {
        let delta = self.delta(outcome);
        let score = self.clamp(self.score(&peer, now) + delta);
        self.store(peer, score, now);
        let lowers = delta < 0.0;
        if !lowers || score > self.config.ban_threshold || self.is_banned(&peer, now) {
            return None;
        }
        let until = now.checked_add(self.ban_duration)?;
        self.insert_ban(peer, until, now);
        Some(Ban { peer, until })
    }

    /// The peer's score at `now`, with decay applied; 0 for a peer not tracked.
    pub fn score(&self, peer: &PeerId, now: Instant) -> f64 {
        self.peers.get(peer).map_or(0.0, |e| self.decayed(e, now))
    }

    /// Whether the peer is banned at `now`.
    pub fn is_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.bans.get(peer).is_some_and(|until| *until > now)
    }

    /// The bans in force at `now`, with their end times, in no particular order.
    pub fn bans(&self, now: Instant) -> impl Iterator<Item = (PeerId, Instant)> + '_ {
        self.bans
            .iter()
            .filter(move |(_, until)| **until > now)
            .map(|(peer, until)| (*peer, *until))
    }

    /// Drop the bans that have ended by `now`, and forget peers whose score has decayed to within
    /// [`FORGET_BELOW`] of 0 and that have not been seen for [`FORGET_AFTER`]. O(n); call it every
    /// heartbeat or so.
    pub fn expire(&mut self, now: Instant) {
        self.bans.retain(|_, until| *until > now);
        let keep_per_minute = self.keep_per_minute;
        self.peers.retain(|_, e| {
            let idle = now.saturating_duration_since(e.at);
            decay(e.score, idle, keep_per_minute).abs() >= FORGET_BELOW || idle < FORGET_AFTER
        });
        self.peers
            .shrink_to(self.config.max_tracked.min(self.peers.len() * 2));
        self.bans
            .shrink_to(self.config.max_bans.min(self.bans.len() * 2));
    }

    /// How many peers have a score (at most `maxTracked`).
    pub fn tracked_peers(&self) -> usize {
        self.peers.len()
    }

    /// How many bans are held, including ended ones not yet dropped by [`expire`](Self::expire)
    /// (at most `maxBans`).
    pub fn ban_count(&self) -> usize {
        self.bans.len()
    }

    fn delta(&self, outcome: Outcome) -> f64 {
        match outcome {
            Outcome::Valid => self.config.valid_delta,
            Outcome::Rejected => self.config.rejected_delta,
            Outcome::RateLimited => self.config.rate_limited_delta,
            Outcome::Ignored => self.config.ignored_delta,
        }
    }

    /// Clamp to `min..=max` without `f64::clamp`, which panics on a NaN or inverted bound.
    fn clamp(&self, score: f64) -> f64 {
        score.max(self.config.min).min(self.config.max)
    }

    fn decayed(&self, entry: &Entry, now: Instant) -> f64 {
        decay(
            entry.score,
            now.saturating_duration_since(entry.at),
            self.keep_per_minute,
        )
    }

    /// Write a score, applying the `maxTracked` bound (see [`record`](Self::record)).
    fn store(&mut self, peer: PeerId, score: f64, now: Instant) {
        if let Some(entry) = self.peers.get_mut(&peer) {
            *entry = Entry { score, at: now };
            return;
        }
        if score == 0.0 {
            // The same as not being tracked.
            return;
        }
        if self.peers.len() >= self.config.max_tracked {
            let least = self
                .peers
                .iter()
                .map(|(p, e)| (*p, self.decayed(e, now), e.at))
                .min_by(|a, b| importance((a.1, a.2), (b.1, b.2)));
            match least {
                Some((victim, victim_score, victim_at))
                    if importance((victim_score, victim_at), (score, now)) == Ordering::Less =>
                {
                    self.peers.remove(&victim);
                }
                // Nothing less important to evict (or `maxTracked` is 0): do not track.
                _ => return,
            }
        }
        self.peers.insert(peer, Entry { score, at: now });
    }

    /// Insert a ban, applying the `maxBans` bound: ended bans go first, then the one ending
    /// soonest (all bans last `banSecs`, so the new one ends last).
    fn insert_ban(&mut self, peer: PeerId, until: Instant, now: Instant) {
        if !self.bans.contains_key(&peer) && self.bans.len() >= self.config.max_bans {
            self.bans.retain(|_, u| *u > now);
            if self.bans.len() >= self.config.max_bans {
                let soonest = self.bans.iter().min_by_key(|(_, u)| **u).map(|(p, _)| *p);
                match soonest {
                    Some(p) => {
                        self.bans.remove(&p);
                    }
                    None => return,
                }
            }
        }
        self.bans.insert(peer, until);
    }
}

/// A score after `elapsed` of decay.
fn decay(score: f64, elapsed: Duration, keep_per_minute: f64) -> f64 {
    if elapsed.is_zero() {
        return score;
    }
    score * keep_per_minute.powf(elapsed.as_secs_f64() / 60.0)
}

/// How much keeping a score matters: negative before non-negative, then farther from 0, then
/// seen more recently. `Less` means `a` matters less (is evicted first).
fn importance(a: (f64, Instant), b: (f64, Instant)) -> Ordering {
    let negative = |s: f64| s < 0.0;
    negative(a.0)
        .cmp(&negative(b.0))
        .then_with(|| a.0.abs().total_cmp(&b.0.abs()))
        .then_with(|| a.1.cmp(&b.1))
}

#[cfg(test)]
mod tests;
