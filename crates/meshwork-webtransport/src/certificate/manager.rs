//! The live certificates of a host: previous, current and next, rotated as the clock moves.

use std::{
    collections::HashSet,
    sync::{Arc, PoisonError, RwLock},
    time::SystemTime,
};

use libp2p::multihash::Multihash;
use rustls::crypto::CryptoProvider;

use super::{
    cert::Certificate,
    derive::{derive, offset_seed, Seed},
    schedule::Schedule,
};
use crate::{clock::Clock, config::Config, error::Error};

/// The certificates of the window before, of the current one and of the next.
#[derive(Debug, Clone)]
struct Live {
    previous: Arc<Certificate>,
    current: Arc<Certificate>,
    next: Arc<Certificate>,
}

/// Derives, holds and rotates a host's WebTransport certificates.
///
/// - Served in TLS: the current window's certificate.
/// - Advertised in listen addresses: current and next ([`Self::advertised_hashes`]).
/// - Sent in the Noise handshake: previous, current and next ([`Self::handshake_hashes`]), so
///   that a dialer holding an address from before the last rotation (current and next of then)
///   still passes the subset check.
///
/// Two managers built from the same key and settings hold the same certificates: the relay can
/// build one to show the hashes its transport serves.
pub struct CertificateManager {
    seed: Seed,
    schedule: Schedule,
    clock: Arc<dyn Clock>,
    provider: Arc<CryptoProvider>,
    live: RwLock<Live>,
}

impl CertificateManager {
    /// Derives the certificates current at `config`'s clock's time.
    pub fn new(config: &Config) -> Result<Self, Error> {
        let schedule = Schedule::new(
            config.certificate_validity,
            config.rotation_lead_time,
            config.clock_skew_allowance,
            offset_seed(&config.keypair),
        )?;
        let seed = Seed::from_keypair(&config.keypair)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let window = schedule.window_at(config.clock.now());
        let live = derive_live(&seed, &schedule, &provider, window, None)?;
        Ok(Self {
            seed,
            schedule,
            clock: config.clock.clone(),
            provider,
            live: RwLock::new(live),
        })
    }

    /// The timetable the certificates follow.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Whether the certificates are derived from the host key (true for every key type but
    /// RSA), and so keep their hashes across restarts.
    pub fn is_deterministic(&self) -> bool {
        self.seed.is_deterministic()
    }

    /// The certificate served now.
    pub fn current(&self) -> Arc<Certificate> {
        self.read().current
    }

    /// The certificate that will be served after the next rotation.
    pub fn next(&self) -> Arc<Certificate> {
        self.read().next
    }

    /// The certificate served before the last rotation.
    pub fn previous(&self) -> Arc<Certificate> {
        self.read().previous
    }

    /// The hashes to put in listen addresses: current, then next.
    pub fn advertised_hashes(&self) -> Vec<Multihash<64>> {
        let live = self.read();
        vec![live.current.hash(), live.next.hash()]
    }

    /// The hashes to send in the Noise handshake: previous, current and next.
    pub fn handshake_hashes(&self) -> HashSet<Multihash<64>> {
        let live = self.read();
        [&live.previous, &live.current, &live.next]
            .into_iter()
            .map(|c| c.hash())
            .collect()
    }

    /// When the next rotation is due.
    pub fn next_rotation(&self) -> SystemTime {
        self.schedule.window_start(self.read().current.window + 1)
    }

    /// Reads the clock and rotates if the window has moved. Returns whether it rotated.
    ///
    /// Sessions already established are not affected: only new TLS handshakes see the new
    /// certificate.
    pub fn refresh(&self) -> Result<bool, Error> {
        let window = self.schedule.window_at(self.clock.now());
        let old = self.read();
        if old.current.window == window {
            return Ok(false);
        }
        let live = derive_live(
            &self.seed,
            &self.schedule,
            &self.provider,
            window,
            Some(&old),
        )?;
        tracing::info!(
            from = old.current.window,
            to = window,
            serving = %live.current.certhash_string(),
            "rotated WebTransport certificates"
        );
        *self.live.write().unwrap_or_else(PoisonError::into_inner) = live;
        Ok(true)
    }

    /// The certificate of any window (the same every time for the same key and window).
    pub fn certificate_for_window(&self, window: u64) -> Result<Certificate, Error> {
        derive(&self.seed, &self.schedule, window, &self.provider)
    }

    fn read(&self) -> Live {
        self.live
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl std::fmt::Debug for CertificateManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateManager")
            .field("schedule", &self.schedule)
            .field("live", &self.read())
            .finish_non_exhaustive()
    }
}

/// The certificates around `window`, reusing those of `old` where the windows match.
fn derive_live(
    seed: &Seed,
    schedule: &Schedule,
    provider: &CryptoProvider,
    window: u64,
    old: Option<&Live>,
) -> Result<Live, Error> {
    let get = |w: u64| -> Result<Arc<Certificate>, Error> {
        if let Some(found) = old.and_then(|old| {
            [&old.previous, &old.current, &old.next]
                .into_iter()
                .find(|c| c.window == w)
        }) {
            return Ok(found.clone());
        }
        Ok(Arc::new(derive(seed, schedule, w, provider)?))
    };
    Ok(Live {
        previous: get(window.saturating_sub(1))?,
        current: get(window)?,
        next: get(window.saturating_add(1))?,
    })
}
