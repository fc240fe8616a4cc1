//! The pace at which queued publishes are handed to gossipsub: a token bucket whose rate adapts
//! (additive increase, multiplicative decrease) to what the links carry.
//!
//! gossipsub drops a message when a peer's send queue is full or a message waited there too
//! long, and reports it afterwards (`SlowPeer`); it does not say how full the queues are. So the
//! pacer halves its rate on every such report and on a publish refused for full queues, and
//! raises it by a step each second in which it held messages back without a loss. An
//! application that awaits `publish` is slowed to that rate instead of losing messages.

use serde::{Deserialize, Serialize};
use web_time::{Duration, Instant};

/// Pacer settings (`gossip.pacer`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct PacerConfig {
    /// Starting rate, bytes per second. Default 8 MiB/s.
    pub initial_bytes_per_sec: u64,
    /// The rate never falls below this. Default 256 KiB/s.
    pub min_bytes_per_sec: u64,
    /// The rate never rises above this. Default 256 MiB/s.
    pub max_bytes_per_sec: u64,
    /// Added to the rate after each loss-free second in which messages were held back. Default
    /// 1 MiB/s.
    pub increase_bytes_per_sec: u64,
}

impl Default for PacerConfig {
    fn default() -> Self {
        Self {
            initial_bytes_per_sec: 8 << 20,
            min_bytes_per_sec: 256 << 10,
            max_bytes_per_sec: 256 << 20,
            increase_bytes_per_sec: 1 << 20,
        }
    }
}

impl PacerConfig {
    /// Check the values, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.min_bytes_per_sec == 0 {
            return Err("gossip.pacer.minBytesPerSec must be at least 1".into());
        }
        if !(self.min_bytes_per_sec..=self.max_bytes_per_sec).contains(&self.initial_bytes_per_sec)
        {
            return Err(
                "gossip.pacer.initialBytesPerSec must lie between minBytesPerSec and maxBytesPerSec"
                    .into(),
            );
        }
        Ok(())
    }
}

/// How much rate may be saved up, in seconds of the current rate.
const BURST: Duration = Duration::from_millis(50);

/// The adaptive token bucket.
#[derive(Debug)]
pub struct Pacer {
    config: PacerConfig,
    rate: f64,
    tokens: f64,
    last: Instant,
    /// Messages were held back since the last tick.
    held_back: bool,
    /// A loss was reported since the last tick.
    lost: bool,
}

impl Pacer {
    /// A pacer at the initial rate with a full bucket.
    pub fn new(config: PacerConfig, now: Instant) -> Self {
        let rate = config.initial_bytes_per_sec as f64;
        Self {
            config,
            rate,
            tokens: rate * BURST.as_secs_f64(),
            last: now,
            held_back: false,
            lost: false,
        }
    }

    /// The current rate, bytes per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        let cap = (self.rate * BURST.as_secs_f64()).max(1.0);
        self.tokens = (self.tokens + elapsed * self.rate).min(cap);
    }

    /// Take `bytes` now, or say how long to wait. The bucket may go into debt by one message, so
    /// a message larger than the burst still goes out.
    pub fn take(&mut self, bytes: usize, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 0.0 {
            self.tokens -= bytes as f64;
            return Ok(());
        }
        self.held_back = true;
        let wait = (-self.tokens / self.rate).max(0.001);
        Err(Duration::from_secs_f64(wait))
    }

    /// gossipsub lost or refused messages: halve the rate.
    pub fn on_loss(&mut self) {
        self.lost = true;
        self.rate = (self.rate / 2.0).max(self.config.min_bytes_per_sec as f64);
    }

    /// Once a second: raise the rate if messages waited and nothing was lost.
    pub fn tick(&mut self) {
        if self.held_back && !self.lost {
            self.rate = (self.rate + self.config.increase_bytes_per_sec as f64)
                .min(self.config.max_bytes_per_sec as f64);
        }
        self.held_back = false;
        self.lost = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_at_the_rate_and_adapts() {
        let start = Instant::now();
        let config = PacerConfig {
            initial_bytes_per_sec: 1000,
            min_bytes_per_sec: 100,
            max_bytes_per_sec: 2000,
            increase_bytes_per_sec: 500,
        };
        let mut pacer = Pacer::new(config, start);
        // The bucket allows one message into debt, then makes us wait for the debt to clear.
        assert!(pacer.take(500, start).is_ok());
        let wait = pacer.take(500, start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.45).abs() < 0.01, "{wait:?}");
        assert!(pacer.take(500, start + Duration::from_millis(460)).is_ok());
        pacer.tick();
        assert_eq!(pacer.rate(), 1500.0);
        pacer.on_loss();
        pacer.tick();
        assert_eq!(pacer.rate(), 750.0);
        for _ in 0..10 {
            pacer.on_loss();
        }
        assert_eq!(pacer.rate(), 100.0);
        // No increase without having held anything back.
        pacer.tick();
        assert_eq!(pacer.rate(), 100.0);
    }

    #[test]
    fn config_is_checked() {
        assert!(PacerConfig::default().validate().is_ok());
        let bad = PacerConfig {
            initial_bytes_per_sec: 1,
            ..PacerConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("initialBytesPerSec"));
    }
}
