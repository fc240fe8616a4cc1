//! Limits and settings, with documented defaults.

use std::{fmt, sync::Arc, time::Duration};

use libp2p::identity::Keypair;

use crate::clock::{Clock, SystemClock};

/// Default [`Config::with_handshake_timeout`]: 10 seconds.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`Config::with_max_pending_sessions`]: 64 sessions.
pub const DEFAULT_MAX_PENDING_SESSIONS: usize = 64;
/// Default [`Config::with_max_streams_per_session`]: 256 streams.
pub const DEFAULT_MAX_STREAMS_PER_SESSION: u32 = 256;
/// Default [`Config::with_idle_timeout`]: 30 seconds.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`Config::with_certificate_validity`]: 12 days.
pub const DEFAULT_CERTIFICATE_VALIDITY: Duration = Duration::from_secs(12 * 24 * 3600);
/// The longest certificate validity browsers accept for `serverCertificateHashes`: 14 days.
pub const MAX_CERTIFICATE_VALIDITY: Duration = Duration::from_secs(14 * 24 * 3600);
/// Default [`Config::with_rotation_lead_time`]: 1 day.
pub const DEFAULT_ROTATION_LEAD_TIME: Duration = Duration::from_secs(24 * 3600);
/// Default [`Config::with_rotation_check_interval`]: 60 seconds.
pub const DEFAULT_ROTATION_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// The configuration of a [`Transport`](crate::Transport).
///
/// `Config::new(&keypair)` gives the documented defaults; each `with_*` method changes one.
#[derive(Clone)]
pub struct Config {
    pub(crate) keypair: Keypair,
    pub(crate) handshake_timeout: Duration,
    pub(crate) max_pending_sessions: usize,
    pub(crate) max_streams_per_session: u32,
    pub(crate) idle_timeout: Duration,
    pub(crate) certificate_validity: Duration,
    pub(crate) rotation_lead_time: Duration,
    pub(crate) rotation_check_interval: Duration,
    pub(crate) clock_skew_allowance: Duration,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Config {
    /// A configuration with the defaults, for the host identity `keypair`.
    ///
    /// The keypair authenticates the Noise handshake and seeds the certificates (see
    /// [`certificate`](crate::certificate)).
    pub fn new(keypair: &Keypair) -> Self {
        Self {
            keypair: keypair.clone(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_pending_sessions: DEFAULT_MAX_PENDING_SESSIONS,
            max_streams_per_session: DEFAULT_MAX_STREAMS_PER_SESSION,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            certificate_validity: DEFAULT_CERTIFICATE_VALIDITY,
            rotation_lead_time: DEFAULT_ROTATION_LEAD_TIME,
            rotation_check_interval: DEFAULT_ROTATION_CHECK_INTERVAL,
            clock_skew_allowance: crate::certificate::CLOCK_SKEW_ALLOWANCE,
            clock: Arc::new(SystemClock),
        }
    }

    /// How long a session may take from its first QUIC packet to the end of the Noise handshake
    /// (listener), or from the dial to the end of the Noise handshake (dialer). Default
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`] (10 s).
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// How many inbound sessions may be handshaking at once, over all listeners of the
    /// transport; further QUIC connection attempts are refused. Default
    /// [`DEFAULT_MAX_PENDING_SESSIONS`] (64). At least 1.
    pub fn with_max_pending_sessions(mut self, max: usize) -> Self {
        self.max_pending_sessions = max.max(1);
        self
    }

    /// How many bidirectional streams the remote may have open at once in one session (the QUIC
    /// stream limit; the HTTP/3 CONNECT stream and the handshake stream are added on top).
    /// Default [`DEFAULT_MAX_STREAMS_PER_SESSION`] (256). At least 1.
    pub fn with_max_streams_per_session(mut self, max: u32) -> Self {
        self.max_streams_per_session = max.max(1);
        self
    }

    /// How long a session may be silent before it is dropped (QUIC idle timeout). Keep-alives
    /// are sent every third of it, so a live peer is never dropped. Default
    /// [`DEFAULT_IDLE_TIMEOUT`] (30 s).
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long each certificate is valid. Default [`DEFAULT_CERTIFICATE_VALIDITY`] (12 days);
    /// values above [`MAX_CERTIFICATE_VALIDITY`] (14 days, the browsers' limit) are lowered to it.
    pub fn with_certificate_validity(mut self, validity: Duration) -> Self {
        self.certificate_validity = validity.min(MAX_CERTIFICATE_VALIDITY);
        self
    }

    /// How long before the served certificate expires the listener switches to the next one.
    /// Covers dialers whose clock runs ahead. Default [`DEFAULT_ROTATION_LEAD_TIME`] (1 day).
    /// The rotation period is `validity - lead - 1 h` and must stay at least one hour, or
    /// listening fails with [`Error::InvalidConfig`](crate::Error::InvalidConfig).
    pub fn with_rotation_lead_time(mut self, lead: Duration) -> Self {
        self.rotation_lead_time = lead;
        self
    }

    /// How far into the past each certificate's `notBefore` is set, so dialers whose clock runs
    /// behind still accept it. Default [`crate::certificate::CLOCK_SKEW_ALLOWANCE`] (1 h). The
    /// rotation period is `validity - lead - skew`, at least 10 s.
    pub fn with_clock_skew_allowance(mut self, skew: Duration) -> Self {
        self.clock_skew_allowance = skew;
        self
    }

    /// How often a listener reads the clock to see whether the certificate window has moved.
    /// Default [`DEFAULT_ROTATION_CHECK_INTERVAL`] (60 s). Reading the clock instead of sleeping
    /// until the rotation instant survives suspend/resume and clock steps, and lets tests
    /// advance an injected clock.
    pub fn with_rotation_check_interval(mut self, interval: Duration) -> Self {
        self.rotation_check_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// The clock used for certificate windows and, when dialing, for checking the listener's
    /// certificate validity. Default: the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The host identity.
    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("peer_id", &self.keypair.public().to_peer_id())
            .field("handshake_timeout", &self.handshake_timeout)
            .field("max_pending_sessions", &self.max_pending_sessions)
            .field("max_streams_per_session", &self.max_streams_per_session)
            .field("idle_timeout", &self.idle_timeout)
            .field("certificate_validity", &self.certificate_validity)
            .field("rotation_lead_time", &self.rotation_lead_time)
            .field("rotation_check_interval", &self.rotation_check_interval)
            .field("clock_skew_allowance", &self.clock_skew_allowance)
            .finish_non_exhaustive()
    }
}
