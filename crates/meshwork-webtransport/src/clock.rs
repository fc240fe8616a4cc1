//! The wall clock, injectable so that certificate rotation can be tested without waiting.

use std::time::SystemTime;

/// A source of wall-clock time.
///
/// The transport reads it to pick the certificate window, to decide when to rotate, and (when
/// dialing) as the "now" against which the listener's certificate validity is checked. Tests
/// inject a clock they can advance; production uses [`SystemClock`].
pub trait Clock: Send + Sync + 'static {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock ([`SystemTime::now`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}
