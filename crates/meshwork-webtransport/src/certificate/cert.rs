//! One derived certificate and what the transport needs from it.

use std::{fmt, sync::Arc, time::SystemTime};

use libp2p::{multiaddr::Protocol, multihash::Multihash};
use rustls::sign::CertifiedKey;

/// The multihash code of SHA2-256.
pub(crate) const SHA2_256: u64 = 0x12;

/// A self-signed ECDSA P-256 certificate for one window of the [`Schedule`](super::Schedule).
#[derive(Clone)]
pub struct Certificate {
    pub(crate) window: u64,
    pub(crate) der: Vec<u8>,
    pub(crate) sha256: [u8; 32],
    pub(crate) not_before: SystemTime,
    pub(crate) not_after: SystemTime,
    pub(crate) certified_key: Arc<CertifiedKey>,
}

impl Certificate {
    /// The window this certificate belongs to.
    pub fn window(&self) -> u64 {
        self.window
    }

    /// The certificate, DER-encoded.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The SHA-256 of the DER: the value browsers compare with `serverCertificateHashes`.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// The SHA-256 as a multihash, as it appears in `/certhash` and in the Noise extensions.
    pub fn hash(&self) -> Multihash<64> {
        certhash(&self.sha256)
    }

    /// The multibase (base64url) string of [`Self::hash`], as written after `/certhash/`.
    pub fn certhash_string(&self) -> String {
        let component = Protocol::Certhash(self.hash()).to_string();
        component
            .strip_prefix("/certhash/")
            .unwrap_or(&component)
            .to_owned()
    }

    /// The certificate's `notBefore`.
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// The certificate's `notAfter`.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("window", &self.window)
            .field("certhash", &self.certhash_string())
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// Wraps a SHA-256 digest as a multihash.
pub(crate) fn certhash(sha256: &[u8; 32]) -> Multihash<64> {
    // A 32-byte digest always fits a 64-byte multihash.
    Multihash::wrap(SHA2_256, sha256).unwrap_or_default()
}
