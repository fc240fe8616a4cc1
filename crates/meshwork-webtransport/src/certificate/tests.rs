//! Unit tests of derivation and rotation.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use libp2p::identity::Keypair;
use rustls::{
    client::danger::ServerCertVerifier as _,
    pki_types::{CertificateDer, ServerName, UnixTime},
};
use x509_parser::prelude::{FromDer as _, X509Certificate};

use super::*;
use crate::{
    clock::Clock,
    config::{Config, MAX_CERTIFICATE_VALIDITY},
};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// A clock the test moves by hand.
struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    fn new(at: SystemTime) -> Arc<Self> {
        Arc::new(Self(Mutex::new(at)))
    }
    fn set(&self, at: SystemTime) {
        *self.0.lock().unwrap() = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

fn fixed_key(byte: u8) -> Keypair {
    Keypair::ed25519_from_bytes([byte; 32]).expect("32 bytes")
}

fn manager_at(key: &Keypair, at: SystemTime) -> CertificateManager {
    CertificateManager::new(&Config::new(key).with_clock(ManualClock::new(at))).expect("manager")
}

fn some_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

#[test]
fn same_key_and_window_give_the_same_certificate() {
    let key = fixed_key(7);
    let a = manager_at(&key, some_time());
    let b = manager_at(&key, some_time() + Duration::from_secs(5));
    assert_eq!(a.current().window(), b.current().window());
    assert_eq!(a.current().der(), b.current().der());
    assert_eq!(a.current().hash(), b.current().hash());
    assert_eq!(a.next().hash(), b.next().hash());
    let again = a
        .certificate_for_window(a.current().window())
        .expect("derive");
    assert_eq!(again.der(), a.current().der());
}

#[test]
fn other_window_or_other_key_gives_another_certificate() {
    let key = fixed_key(7);
    let m = manager_at(&key, some_time());
    let w = m.current().window();
    let hashes: Vec<_> = (w..w + 4)
        .map(|w| m.certificate_for_window(w).expect("derive").hash())
        .collect();
    for (i, a) in hashes.iter().enumerate() {
        for b in &hashes[i + 1..] {
            assert_ne!(a, b);
        }
    }
    let other = manager_at(&fixed_key(8), some_time());
    assert_ne!(
        other.certificate_for_window(w).expect("derive").hash(),
        m.certificate_for_window(w).expect("derive").hash()
    );
}

#[test]
fn a_pinned_hash_does_not_drift() {
    // If this fails, derivation or encoding changed: restarted nodes will advertise new hashes.
    let m = manager_at(&fixed_key(1), some_time());
    let cert = m.certificate_for_window(2000).expect("derive");
    assert_eq!(cert.certhash_string(), PINNED_CERTHASH);
}

const PINNED_CERTHASH: &str = "uEiDnz0YIuogZWgk7ye3Wq5wD0-EYf2WbQVyT-TAouRr0xg";

#[test]
fn certificates_are_p256_self_signed_and_valid_at_most_14_days() {
    let m = manager_at(&fixed_key(3), some_time());
    for cert in [m.previous(), m.current(), m.next()] {
        let (_, x509) = X509Certificate::from_der(cert.der()).expect("parses");
        let validity = x509.validity();
        let length = validity.not_after.timestamp() - validity.not_before.timestamp();
        assert!(length > 0 && length as u64 <= MAX_CERTIFICATE_VALIDITY.as_secs());
        assert_eq!(length as u64, 12 * DAY.as_secs());
        assert_eq!(
            validity.not_before.timestamp() as u64,
            cert.not_before()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
        );
        x509.verify_signature(None)
            .expect("self-signature verifies");
    }
}

#[test]
fn a_hash_pinning_client_accepts_the_served_certificate() {
    // wtransport's verifier applies the browsers' rules: hash, P-256, ≤ 14 days, in validity.
    let m = manager_at(&fixed_key(4), some_time());
    let cert = m.current();
    let verifier =
        wtransport::tls::client::ServerHashVerification::new([wtransport::tls::Sha256Digest::new(
            cert.sha256(),
        )]);
    let now = UnixTime::since_unix_epoch(some_time().duration_since(UNIX_EPOCH).unwrap());
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let der = CertificateDer::from(cert.der().to_vec());
    verifier
        .verify_server_cert(&der, &[], &name, &[], now)
        .expect("accepted");
    // The next certificate is not valid yet at that time, and another hash is refused.
    let next = CertificateDer::from(m.next().der().to_vec());
    assert!(verifier
        .verify_server_cert(&next, &[], &name, &[], now)
        .is_err());
}

#[test]
fn rotation_follows_the_injected_clock() {
    let key = fixed_key(5);
    let clock = ManualClock::new(some_time());
    let m = CertificateManager::new(&Config::new(&key).with_clock(clock.clone())).expect("manager");
    let first = m.current();
    let second = m.next();
    assert_eq!(m.advertised_hashes(), vec![first.hash(), second.hash()]);
    assert_eq!(m.handshake_hashes().len(), 3);
    assert!(!m.refresh().expect("refresh"));

    // One second before the rotation is due: nothing changes.
    let due = m.next_rotation();
    clock.set(due - Duration::from_secs(1));
    assert!(!m.refresh().expect("refresh"));
    assert_eq!(m.current().hash(), first.hash());
    // The served certificate still has the lead time (1 day) left at rotation.
    assert_eq!(first.not_after().duration_since(due).unwrap(), DAY);

    // At the rotation: next becomes current, a new next appears, the old one is "previous".
    clock.set(due);
    assert!(m.refresh().expect("refresh"));
    assert_eq!(m.current().hash(), second.hash());
    assert_eq!(m.previous().hash(), first.hash());
    let advertised = m.advertised_hashes();
    assert_eq!(advertised.len(), 2);
    assert_eq!(advertised[0], second.hash());
    assert_ne!(advertised[1], second.hash());
    assert_ne!(advertised[1], first.hash());
    let handshake = m.handshake_hashes();
    assert!(handshake.contains(&first.hash()) && handshake.contains(&second.hash()));
    // The new current certificate is valid now (the skew allowance before it is served).
    assert!(m.current().not_before() <= due);
    assert!(m.current().not_after() > due);
}

#[test]
fn settings_out_of_range_are_refused() {
    let key = fixed_key(6);
    let too_long_lead = Config::new(&key).with_rotation_lead_time(12 * DAY);
    assert!(CertificateManager::new(&too_long_lead).is_err());
    // Validity above 14 days is lowered to 14 days by the builder.
    let clamped = Config::new(&key).with_certificate_validity(30 * DAY);
    let m = CertificateManager::new(&clamped).expect("clamped to 14 days");
    assert_eq!(m.schedule().validity(), MAX_CERTIFICATE_VALIDITY);
}
