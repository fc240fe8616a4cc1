//! Deriving a window's certificate from the host key, deterministically.
//!
//! The same host key and window give the same P-256 key, serial number, validity and (signed
//! with RFC 6979) the same DER, so a restarted node advertises the same certificate hashes.

use std::sync::Arc;

use hkdf::Hkdf;
use libp2p::identity::Keypair;
use p256::pkcs8::EncodePrivateKey as _;
use rcgen::{
    CertificateParams, DistinguishedName, ExtendedKeyUsagePurpose, KeyUsagePurpose, SerialNumber,
};
use rustls::{
    crypto::CryptoProvider,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    sign::CertifiedKey,
};
use sha2::{Digest as _, Sha256};

use super::{
    cert::Certificate,
    schedule::{to_system_time, Schedule},
    signer::P256Signer,
};
use crate::error::Error;

/// The HKDF domain under which the certificate seed is derived from the host key. Changing it
/// changes every certificate hash.
const SEED_DOMAIN: &[u8] = b"meshwork-webtransport certificate seed v1";
/// How many candidate scalars are tried before giving up (each fails with probability ~2^-32).
const MAX_KEY_ATTEMPTS: u8 = 16;

/// The secret every certificate is derived from.
pub(crate) struct Seed {
    secret: [u8; 32],
    /// Whether the seed comes from the host key (and so survives restarts).
    deterministic: bool,
}

impl Seed {
    /// Derives the seed from the host key (HKDF-SHA256 of its secret, see
    /// [`Keypair::derive_secret`]). libp2p cannot export RSA secrets; for an RSA host key the
    /// seed is random, so certificate hashes change on restart.
    pub(crate) fn from_keypair(keypair: &Keypair) -> Result<Self, Error> {
        if let Some(secret) = keypair.derive_secret(SEED_DOMAIN) {
            return Ok(Self {
                secret,
                deterministic: true,
            });
        }
        tracing::warn!(
            "host key cannot derive secrets (RSA?): WebTransport certificate hashes will change on restart"
        );
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret)
            .map_err(|e| Error::Certificate(format!("random seed: {e}")))?;
        Ok(Self {
            secret,
            deterministic: false,
        })
    }

    /// Whether certificates survive restarts.
    pub(crate) fn is_deterministic(&self) -> bool {
        self.deterministic
    }
}

/// A per-host number that shifts the schedule's windows, from the host's public key.
pub(crate) fn offset_seed(keypair: &Keypair) -> u64 {
    let digest = Sha256::digest(keypair.public().encode_protobuf());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes)
}

/// The certificate of `window`.
pub(crate) fn derive(
    seed: &Seed,
    schedule: &Schedule,
    window: u64,
    provider: &CryptoProvider,
) -> Result<Certificate, Error> {
    let hkdf = Hkdf::<Sha256>::new(Some(&window.to_be_bytes()), &seed.secret);
    let secret = derive_p256_key(&hkdf)?;

    let mut serial = [0u8; 16];
    hkdf.expand(b"serial", &mut serial)
        .map_err(|e| Error::Certificate(format!("serial: {e}")))?;
    // Positive and of fixed length: top bit clear, second bit set.
    serial[0] = (serial[0] & 0x7f) | 0x40;

    let not_before = schedule.not_before_secs(window);
    let not_after = schedule.not_after_secs(window);

    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.not_before = to_offset_date_time(not_before)?;
    params.not_after = to_offset_date_time(not_after)?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];

    let signer = P256Signer::new(&secret);
    let der = params
        .self_signed(&signer)
        .map_err(|e| Error::Certificate(e.to_string()))?
        .der()
        .to_vec();

    let pkcs8 = secret
        .to_pkcs8_der()
        .map_err(|e| Error::Certificate(format!("PKCS#8: {e}")))?;
    let key = provider
        .key_provider
        .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            pkcs8.as_bytes().to_vec(),
        )))
        .map_err(|e| Error::Certificate(format!("loading key into rustls: {e}")))?;
    let certified_key = CertifiedKey::new(vec![CertificateDer::from(der.clone())], key);

    Ok(Certificate {
        window,
        sha256: Sha256::digest(&der).into(),
        der,
        not_before: to_system_time(not_before),
        not_after: to_system_time(not_after),
        certified_key: Arc::new(certified_key),
    })
}

/// The first HKDF output that is a valid P-256 scalar.
fn derive_p256_key(hkdf: &Hkdf<Sha256>) -> Result<p256::SecretKey, Error> {
    for attempt in 0..MAX_KEY_ATTEMPTS {
        let mut candidate = [0u8; 32];
        hkdf.expand_multi_info(&[b"p256 key", &[attempt]], &mut candidate)
            .map_err(|e| Error::Certificate(format!("key: {e}")))?;
        if let Ok(secret) = p256::SecretKey::from_bytes(&candidate.into()) {
            return Ok(secret);
        }
    }
    Err(Error::Certificate("no valid P-256 scalar derived".into()))
}

fn to_offset_date_time(secs: u64) -> Result<time::OffsetDateTime, Error> {
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| Error::Certificate(format!("time {secs} s out of range")))
}
