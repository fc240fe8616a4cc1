//! Which certificate window is current at a given time, and the validity of each window.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{config::MAX_CERTIFICATE_VALIDITY, error::Error};

/// How far into the past a certificate's `notBefore` is set by default, so that dialers whose
/// clock runs a little behind still accept it: 1 hour (see `Config::with_clock_skew_allowance`).
pub const CLOCK_SKEW_ALLOWANCE: Duration = Duration::from_secs(3600);

/// The shortest rotation period accepted: 10 seconds. Periods that short only make sense in
/// tests (with a small skew allowance); deployments rotate every several days.
const MIN_PERIOD_SECS: u64 = 10;

/// The certificate timetable of one host.
///
/// Time (in whole seconds since the Unix epoch) is cut into windows of `period` seconds, shifted
/// by a per-host `offset` so that hosts do not all rotate at the same instant. Window `k` starts
/// at `offset + k * period`; during it, certificate `k` is served and certificates `k` and `k + 1`
/// are advertised. Certificate `k` is valid from `start(k) - skew` for `validity`, so when
/// window `k + 1` starts it still has the rotation lead time left, and certificate `k + 1` has
/// already been valid for `skew` (the clock-skew allowance, default [`CLOCK_SKEW_ALLOWANCE`]).
///
/// `period = validity - lead - skew`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    offset: u64,
    period: u64,
    validity: u64,
    skew: u64,
}

impl Schedule {
    /// A timetable for certificates valid for `validity`, rotated `lead` before they expire,
    /// back-dated by `skew`, with windows shifted by `offset_seed % period` seconds.
    ///
    /// Fails if `validity` exceeds [`MAX_CERTIFICATE_VALIDITY`] or the resulting period would be
    /// shorter than ten seconds.
    pub fn new(
        validity: Duration,
        lead: Duration,
        skew: Duration,
        offset_seed: u64,
    ) -> Result<Self, Error> {
        if validity > MAX_CERTIFICATE_VALIDITY {
            return Err(Error::InvalidConfig(format!(
                "certificate validity {validity:?} exceeds 14 days"
            )));
        }
        let validity = validity.as_secs();
        let period = validity
            .checked_sub(lead.as_secs())
            .and_then(|p| p.checked_sub(skew.as_secs()))
            .filter(|p| *p >= MIN_PERIOD_SECS)
            .ok_or_else(|| {
                Error::InvalidConfig(format!(
                    "certificate validity ({validity} s) must exceed the rotation lead time \
                     ({} s) plus the clock-skew allowance ({} s) by at least {MIN_PERIOD_SECS} s",
                    lead.as_secs(),
                    skew.as_secs()
                ))
            })?;
        Ok(Self {
            offset: offset_seed % period,
            period,
            validity,
            skew: skew.as_secs(),
        })
    }

    /// The window current at `time`. Times before the epoch (or before the first window) map to
    /// window 0.
    pub fn window_at(&self, time: SystemTime) -> u64 {
        let secs = time
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        secs.saturating_sub(self.offset) / self.period
    }

    /// When window `window` starts (and its certificate starts being served).
    pub fn window_start(&self, window: u64) -> SystemTime {
        to_system_time(self.start_secs(window))
    }

    /// The `notBefore` of certificate `window`.
    pub fn not_before(&self, window: u64) -> SystemTime {
        to_system_time(self.not_before_secs(window))
    }

    /// The `notAfter` of certificate `window`.
    pub fn not_after(&self, window: u64) -> SystemTime {
        to_system_time(self.not_after_secs(window))
    }

    /// The length of a window (the time between two rotations).
    pub fn period(&self) -> Duration {
        Duration::from_secs(self.period)
    }

    /// The validity of every certificate.
    pub fn validity(&self) -> Duration {
        Duration::from_secs(self.validity)
    }

    pub(crate) fn not_before_secs(&self, window: u64) -> u64 {
        self.start_secs(window).saturating_sub(self.skew)
    }

    pub(crate) fn not_after_secs(&self, window: u64) -> u64 {
        self.not_before_secs(window).saturating_add(self.validity)
    }

    fn start_secs(&self, window: u64) -> u64 {
        self.offset
            .saturating_add(window.saturating_mul(self.period))
    }
}

/// Seconds since the epoch as a `SystemTime`, saturating at the end of year 9999.
pub(crate) fn to_system_time(secs: u64) -> SystemTime {
    const YEAR_9999_END: u64 = 253_402_300_799;
    UNIX_EPOCH + Duration::from_secs(secs.min(YEAR_9999_END))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 24 * 3600;

    fn schedule() -> Schedule {
        Schedule::new(
            Duration::from_secs(12 * DAY),
            Duration::from_secs(DAY),
            CLOCK_SKEW_ALLOWANCE,
            12_345,
        )
        .expect("valid schedule")
    }

    #[test]
    fn period_is_validity_minus_lead_and_skew() {
        let s = schedule();
        assert_eq!(s.period(), Duration::from_secs(11 * DAY - 3600));
    }

    #[test]
    fn each_window_is_covered_by_its_certificate_with_the_lead_time_left() {
        let s = schedule();
        for window in [1_000u64, 1_001, 5_000] {
            let start = s.window_start(window);
            let end = s.window_start(window + 1);
            assert_eq!(s.window_at(start), window);
            assert_eq!(s.window_at(end - Duration::from_secs(1)), window);
            assert_eq!(s.window_at(end), window + 1);
            // Valid for the skew allowance before being served …
            assert_eq!(
                start.duration_since(s.not_before(window)).ok(),
                Some(CLOCK_SKEW_ALLOWANCE)
            );
            // … and for the lead time after being replaced.
            assert_eq!(
                s.not_after(window).duration_since(end).ok(),
                Some(Duration::from_secs(DAY))
            );
            assert!(s.validity() <= MAX_CERTIFICATE_VALIDITY);
        }
    }

    #[test]
    fn rejects_validity_over_14_days_and_too_short_periods() {
        assert!(Schedule::new(
            Duration::from_secs(15 * DAY),
            Duration::ZERO,
            CLOCK_SKEW_ALLOWANCE,
            0
        )
        .is_err());
        assert!(Schedule::new(
            Duration::from_secs(DAY),
            Duration::from_secs(DAY),
            CLOCK_SKEW_ALLOWANCE,
            0
        )
        .is_err());
        let short = |skew| {
            Schedule::new(
                Duration::from_secs(40),
                Duration::from_secs(10),
                Duration::from_secs(skew),
                0,
            )
        };
        assert!(short(21).is_err(), "a 9 s period is refused");
        assert_eq!(
            short(20).map(|s| s.period()).ok(),
            Some(Duration::from_secs(10))
        );
        assert!(Schedule::new(
            Duration::from_secs(14 * DAY),
            Duration::ZERO,
            CLOCK_SKEW_ALLOWANCE,
            0
        )
        .is_ok());
    }

    #[test]
    fn times_before_the_epoch_do_not_panic() {
        let s = schedule();
        assert_eq!(s.window_at(UNIX_EPOCH - Duration::from_secs(10)), 0);
        assert_eq!(s.window_at(UNIX_EPOCH), 0);
        let _ = s.not_before(0);
        let _ = s.not_after(u64::MAX);
    }
}
