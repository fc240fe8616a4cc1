//! The DHT beyond peer routing: signed peer records (how a node that is reachable only through
//! a relay, a page, is found by peer ID), application records with a quorum, and the checks a
//! node applies before it stores what others put. `event_loop::dht` wires these to Kademlia.

pub mod closest;
pub mod config;
pub mod peer_record;

use libp2p::kad::{Record, RecordKey};

use crate::{CoreError, ErrorCode};

pub use config::DhtConfig;

/// The largest `dht.maxValueBytes` accepted (a Kademlia message is at most 16 KiB).
pub const MAX_VALUE_BYTES_LIMIT: usize = 14 * 1024;

/// Longest application record key, in bytes.
pub const MAX_KEY_BYTES: usize = 256;

/// Check an application record's key and value before putting it.
pub fn validate_record(key: &[u8], value: &[u8], max_value_bytes: usize) -> Result<(), CoreError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(CoreError::new(
            ErrorCode::InvalidOptions,
            format!("a record key must be 1 to {MAX_KEY_BYTES} bytes"),
        ));
    }
    for (prefix, what) in [
        (peer_record::KEY_PREFIX, "signed peer records"),
        (
            crate::services::KEY_PREFIX,
            "service records (registerService)",
        ),
    ] {
        if key.starts_with(prefix) {
            return Err(CoreError::new(
                ErrorCode::InvalidOptions,
                format!(
                    "keys under {:?} are reserved for {what}",
                    String::from_utf8_lossy(prefix)
                ),
            ));
        }
    }
    crate::validate::payload(value.len(), max_value_bytes)
}

/// Whether a record another peer asks us to store may be stored as sent: size bounds always,
/// and under the peer-record prefix a valid signature by the peer the key names. Service record
/// sets are not stored as sent but merged (`services::set::merge`), so they are refused here.
pub fn accept_inbound(record: &Record, max_value_bytes: usize) -> Result<(), String> {
    let key = record.key.as_ref();
    if crate::services::is_service_key(key) {
        return Err("service record sets are merged, not stored as sent".into());
    }
    if key.is_empty() || key.len() > MAX_KEY_BYTES + peer_record::KEY_PREFIX.len() {
        return Err(format!("key of {} bytes", key.len()));
    }
    if record.value.len() > max_value_bytes {
        return Err(format!("value of {} bytes", record.value.len()));
    }
    if peer_record::is_peer_record_key(key) {
        peer_record::verify(&record.key, &record.value).map_err(|e| e.message)?;
    }
    Ok(())
}

/// What `find_peer` found.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundPeer {
    /// The peer's addresses, each ending in `/p2p/<peer>`.
    pub addresses: Vec<libp2p::Multiaddr>,
    /// Kademlia requests the lookup sent (both phases).
    pub requests: u32,
    /// Whether the addresses came from the peer's signed record (a page), not from the peer
    /// itself answering as a DHT server.
    pub from_record: bool,
}

/// A provider of a key, as `find_providers` returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    /// The provider.
    pub peer_id: libp2p::PeerId,
    /// Where to reach it, each ending in `/p2p/<peer>` (empty if nobody could say).
    pub addresses: Vec<libp2p::Multiaddr>,
}

/// A provider as callers see it (strings, camelCase when serialized).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderView {
    /// The provider's peer ID.
    pub peer_id: String,
    /// Its addresses.
    pub addresses: Vec<String>,
}

impl Provider {
    /// The view callers get.
    pub fn view(&self) -> ProviderView {
        ProviderView {
            peer_id: self.peer_id.to_string(),
            addresses: self.addresses.iter().map(ToString::to_string).collect(),
        }
    }
}

/// The DHT key of an application record.
pub fn record_key(key: &[u8]) -> RecordKey {
    RecordKey::new(&key)
}

#[cfg(test)]
mod tests {
    use libp2p::identity::Keypair;

    use super::*;

    #[test]
    fn inbound_records_are_bounded_and_peer_records_must_be_signed_by_their_peer() {
        let keypair = Keypair::generate_ed25519();
        let peer = keypair.public().to_peer_id();
        let address: libp2p::Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        let signed = peer_record::sign(&keypair, vec![address]).unwrap();
        let own = Record::new(peer_record::key(&peer), signed.clone());
        assert_eq!(accept_inbound(&own, 8192), Ok(()));

        // Someone else's record under our key, or garbage under it: refused.
        let other = libp2p::PeerId::random();
        assert!(accept_inbound(&Record::new(peer_record::key(&other), signed), 8192).is_err());
        assert!(accept_inbound(
            &Record::new(peer_record::key(&peer), b"junk".to_vec()),
            8192
        )
        .is_err());

        // Plain records: bounded in key and value.
        assert_eq!(
            accept_inbound(&Record::new(record_key(b"app/x"), vec![0; 8192]), 8192),
            Ok(())
        );
        assert!(accept_inbound(&Record::new(record_key(b"app/x"), vec![0; 8193]), 8192).is_err());
        assert!(accept_inbound(&Record::new(record_key(&[b'k'; 400]), vec![1]), 8192).is_err());
    }

    #[test]
    fn application_records_are_checked_before_they_go_out() {
        assert!(validate_record(b"app/x", b"v", 10).is_ok());
        assert!(validate_record(b"", b"v", 10).is_err());
        assert!(validate_record(&[b'k'; 257], b"v", 10).is_err());
        assert!(validate_record(b"/meshwork/peer/x", b"v", 10).is_err());
        assert!(validate_record(b"/meshwork/service/x", b"v", 10).is_err());
        let e = validate_record(b"app/x", &[0; 11], 10).unwrap_err();
        assert_eq!(e.code, ErrorCode::PayloadTooLarge);
    }
}
