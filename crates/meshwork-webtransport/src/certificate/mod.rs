//! Deterministic, rotating WebTransport certificates.
//!
//! Browsers accept a self-signed certificate for WebTransport when the page passes its SHA-256
//! in `serverCertificateHashes`, provided it is ECDSA P-256 and valid for at most 14 days. A
//! libp2p listener therefore puts the hashes in its addresses (`/certhash/…`) and has to rotate
//! its certificate before it expires.
//!
//! # Derivation
//!
//! Nothing is persisted. For window `k` of the [`Schedule`]:
//! 1. `seed = HKDF-SHA256(host secret key, info = "meshwork-webtransport certificate seed v1")`
//!    ([`libp2p::identity::Keypair::derive_secret`]);
//! 2. `HKDF-SHA256(salt = k as 8 big-endian bytes, ikm = seed)` expands to the P-256 secret key
//!    (info `"p256 key" || attempt`, the first output that is a valid scalar) and to a 16-byte
//!    serial number (info `"serial"`);
//! 3. the certificate has an empty subject and issuer, that serial, `notBefore`/`notAfter` from
//!    the schedule, key usage digitalSignature and extended key usage serverAuth;
//! 4. it is self-signed with ECDSA-SHA256 using the RFC 6979 deterministic nonce (the `p256`
//!    crate, plugged into rcgen as a custom signing key).
//!
//! So the DER, and the hash, depend only on the host key, the settings (validity and lead time)
//! and the window: a restart keeps the same hashes. They change if the settings change, or if
//! rcgen changes how it encodes the same fields (a unit test pins one hash to notice that).
//!
//! libp2p does not expose the secret of an RSA host key; with one, the seed is random per
//! process and hashes change on restart (see [`CertificateManager::is_deterministic`]).
//!
//! # Rotation
//!
//! The [`CertificateManager`] keeps the certificates of the previous, current and next windows.
//! TLS serves the current one; listen addresses advertise current and next; the Noise handshake
//! sends all three. When the clock enters a new window ([`CertificateManager::refresh`], called
//! by each listener every [`Config::with_rotation_check_interval`](crate::Config::with_rotation_check_interval)),
//! new handshakes get the new certificate while established sessions carry on, and the
//! listeners replace their addresses (`AddressExpired` then `NewAddress`).

mod cert;
mod derive;
mod manager;
mod schedule;
mod signer;

#[cfg(test)]
pub(crate) use cert::certhash;
pub use cert::Certificate;
pub(crate) use cert::SHA2_256;
pub use manager::CertificateManager;
pub use schedule::{Schedule, CLOCK_SKEW_ALLOWANCE};

#[cfg(test)]
mod tests;
