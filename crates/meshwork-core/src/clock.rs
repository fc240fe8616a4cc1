//! Wall-clock time as milliseconds since the Unix epoch (what stored and signed records carry).

use web_time::SystemTime;

/// `t` in milliseconds since the Unix epoch (`None` before it).
pub(crate) fn epoch_ms(t: SystemTime) -> Option<u64> {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Now, in milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> u64 {
    epoch_ms(SystemTime::now()).unwrap_or(0)
}
