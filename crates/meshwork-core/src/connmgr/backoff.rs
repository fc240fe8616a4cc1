//! Exponential backoff with jitter for redials.

use web_time::Duration;

/// A small random source for jitter (splitmix64), seeded from the OS or the browser.
/// Not for anything secret: it only spreads redials so that many nodes that lost the same
/// relay do not all come back in the same instant.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeded from `getrandom`; a fixed seed if that fails (jitter still varies per attempt).
    pub fn from_entropy() -> Self {
        let mut seed = [0u8; 8];
        if getrandom::getrandom(&mut seed).is_err() {
            tracing::warn!("no entropy for redial jitter; using a fixed seed");
        }
        Self(u64::from_le_bytes(seed))
    }

    /// A fixed seed (tests).
    pub fn seeded(seed: u64) -> Self {
        Self(seed)
    }

    /// The next number in `0..=u64::MAX`.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A fraction in `[0, 1)`.
    pub fn fraction(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Failures so far for one peer, and the delay before the next attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// Consecutive failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// A dial succeeded: the next loss starts from the base delay again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// A dial failed (or the connection was lost): the delay before the next attempt,
    /// `base · 2^failures` capped at `max`, minus a random part of up to half.
    pub fn fail(&mut self, base: Duration, max: Duration, jitter: &mut Jitter) -> Duration {
        let full = base
            .checked_mul(1u32 << self.failures.min(20))
            .unwrap_or(max)
            .min(max);
        self.failures = self.failures.saturating_add(1);
        full.mul_f64(1.0 - 0.5 * jitter.fraction())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_at_most_half_taken_off() {
        let (base, max) = (Duration::from_millis(100), Duration::from_secs(2));
        let mut jitter = Jitter::seeded(7);
        let mut backoff = Backoff::default();
        let mut ceilings = Vec::new();
        for _ in 0..8 {
            let failures = backoff.failures();
            let delay = backoff.fail(base, max, &mut jitter);
            let ceiling = (base * (1u32 << failures)).min(max);
            assert!(
                delay <= ceiling && delay >= ceiling / 2,
                "{delay:?} vs {ceiling:?}"
            );
            ceilings.push(ceiling);
        }
        assert_eq!(ceilings[0], Duration::from_millis(100));
        assert_eq!(ceilings[4], Duration::from_millis(1600));
        assert_eq!(ceilings[7], max);
        backoff.reset();
        assert!(backoff.fail(base, max, &mut jitter) <= base);
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut jitter = Jitter::seeded(1);
        let delays: std::collections::HashSet<u128> = (0..50)
            .map(|_| {
                Backoff::default()
                    .fail(Duration::from_secs(1), Duration::from_secs(60), &mut jitter)
                    .as_millis()
            })
            .collect();
        assert!(delays.len() > 40, "only {} distinct delays", delays.len());
    }

    #[test]
    fn many_failures_do_not_overflow() {
        let mut jitter = Jitter::seeded(3);
        let mut backoff = Backoff::default();
        for _ in 0..100 {
            let d = backoff.fail(Duration::from_secs(1), Duration::from_secs(60), &mut jitter);
            assert!(d <= Duration::from_secs(60));
        }
    }
}
