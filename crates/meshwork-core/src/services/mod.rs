//! The service registry: signed service records (a service ID, its type, the provider's peer ID
//! and addresses, metadata, a lifetime) that any node can check without trusting whoever handed
//! them over.
//!
//! - A record is a libp2p signed envelope ([`record`]) made by the provider itself; a record
//!   whose signer is not the provider it names, that has expired, or that breaks a bound is
//!   refused wherever it arrives.
//! - In the DHT, the key `/meshwork/service/<service ID>` holds a *set* of such records, one per
//!   provider ([`set`]): storing nodes merge what they are sent into what they hold, keeping each
//!   provider's freshest record, so providers of one service do not overwrite each other.
//! - Over gossip, on the system topic [`TOPIC`], providers announce their records and their
//!   departures; every node keeps what it hears in a bounded [`cache::ServiceCache`].
//! - A departure is a record of its own (`departed: true`), fresher than the provider's last
//!   one, so it supersedes it in every set and cache it reaches.
//!
//! `event_loop::services` wires this to Kademlia and gossipsub.

pub mod cache;
pub mod config;
pub mod record;
pub mod set;

use std::collections::BTreeMap;

use libp2p::kad::RecordKey;
use serde::{Deserialize, Serialize};

use crate::{CoreError, ErrorCode};

pub use config::ServicesConfig;
pub use record::{ServiceRecord, SignedService};

/// The gossip topic service announcements and departures travel on.
pub const TOPIC: &str = "/meshwork/services/1";

/// The DHT key prefix of service record sets.
pub const KEY_PREFIX: &[u8] = b"/meshwork/service/";

/// Longest service ID, in bytes.
pub const MAX_SERVICE_ID_BYTES: usize = 128;
/// Longest service type, in bytes.
pub const MAX_TYPE_BYTES: usize = 64;
/// Most metadata entries in one record.
pub const MAX_METADATA_ENTRIES: usize = 16;
/// Longest metadata key, in bytes.
pub const MAX_METADATA_KEY_BYTES: usize = 64;
/// Most metadata bytes in one record (keys and values together).
pub const MAX_METADATA_BYTES: usize = 2048;
/// Most addresses in one record (the provider's first ones).
pub const MAX_ADDRESSES: usize = 8;
/// Shortest and longest record lifetime, in seconds.
pub const MIN_TTL_SECS: u64 = 30;
/// See [`MIN_TTL_SECS`].
pub const MAX_TTL_SECS: u64 = 86_400;
/// The lifetime a registration gets when it asks for none, in seconds.
pub const DEFAULT_TTL_SECS: u64 = 600;

/// The DHT key of a service's record set.
pub fn key(service: &str) -> RecordKey {
    let mut key = KEY_PREFIX.to_vec();
    key.extend_from_slice(service.as_bytes());
    RecordKey::new(&key)
}

/// Whether a DHT key is under the service prefix.
pub fn is_service_key(key: &[u8]) -> bool {
    key.starts_with(KEY_PREFIX)
}

/// The service ID a key names, if it is a service key.
pub fn service_of_key(key: &RecordKey) -> Option<&str> {
    key.as_ref()
        .strip_prefix(KEY_PREFIX)
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
}

/// What a provider asks for when it registers a service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Registration {
    /// What kind of service it is (free text, 1 to 64 bytes), e.g. `"chat"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Free-form string pairs the finder gets back (at most 16 entries, 2 KiB in all).
    pub metadata: BTreeMap<String, String>,
    /// How long the record lives without a refresh, in seconds (30 to 86,400; default 600).
    /// The provider refreshes it at half its lifetime while registered.
    pub ttl_secs: Option<u64>,
}

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::InvalidOptions, message)
}

/// Check a service ID: 1 to 128 bytes of UTF-8 with no control characters.
pub fn validate_service_id(service: &str) -> Result<(), CoreError> {
    if service.is_empty() || service.len() > MAX_SERVICE_ID_BYTES {
        return Err(invalid(format!(
            "a service ID must be 1 to {MAX_SERVICE_ID_BYTES} bytes"
        )));
    }
    if service.chars().any(char::is_control) {
        return Err(invalid("a service ID may not contain control characters"));
    }
    Ok(())
}

impl Registration {
    /// The lifetime asked for, or the default.
    pub fn ttl(&self) -> u64 {
        self.ttl_secs.unwrap_or(DEFAULT_TTL_SECS)
    }

    /// Check every field; oversized metadata is `PAYLOAD_TOO_LARGE`, anything else malformed
    /// `INVALID_OPTIONS`.
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.kind.is_empty() || self.kind.len() > MAX_TYPE_BYTES {
            return Err(invalid(format!(
                "a service type must be 1 to {MAX_TYPE_BYTES} bytes"
            )));
        }
        if self.kind.chars().any(char::is_control) {
            return Err(invalid("a service type may not contain control characters"));
        }
        let ttl = self.ttl();
        if !(MIN_TTL_SECS..=MAX_TTL_SECS).contains(&ttl) {
            return Err(invalid(format!(
                "ttlSecs must be between {MIN_TTL_SECS} and {MAX_TTL_SECS}"
            )));
        }
        validate_metadata(&self.metadata)
    }
}

/// Check a record's metadata against the bounds.
pub fn validate_metadata(metadata: &BTreeMap<String, String>) -> Result<(), CoreError> {
    if metadata.len() > MAX_METADATA_ENTRIES {
        return Err(CoreError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "metadata has {} entries; the maximum is {MAX_METADATA_ENTRIES}",
                metadata.len()
            ),
        ));
    }
    if let Some(key) = metadata
        .keys()
        .find(|k| k.is_empty() || k.len() > MAX_METADATA_KEY_BYTES)
    {
        return Err(invalid(format!(
            "metadata key {key:?}: keys must be 1 to {MAX_METADATA_KEY_BYTES} bytes"
        )));
    }
    let bytes: usize = metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > MAX_METADATA_BYTES {
        return Err(CoreError::new(
            ErrorCode::PayloadTooLarge,
            format!("metadata is {bytes} bytes; the maximum is {MAX_METADATA_BYTES}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> Registration {
        Registration {
            kind: "chat".into(),
            ..Registration::default()
        }
    }

    #[test]
    fn service_ids_are_checked() {
        assert!(validate_service_id("rooms/lobby").is_ok());
        for bad in [String::new(), "x".repeat(129), "a\u{7}b".into()] {
            assert_eq!(
                validate_service_id(&bad).unwrap_err().code,
                ErrorCode::InvalidOptions
            );
        }
    }

    #[test]
    fn registrations_are_bounded() {
        assert!(registration().validate().is_ok());
        let no_type = Registration::default();
        assert_eq!(
            no_type.validate().unwrap_err().code,
            ErrorCode::InvalidOptions
        );
        for ttl in [MIN_TTL_SECS - 1, MAX_TTL_SECS + 1] {
            let r = Registration {
                ttl_secs: Some(ttl),
                ..registration()
            };
            assert_eq!(r.validate().unwrap_err().code, ErrorCode::InvalidOptions);
        }
        let mut big = registration();
        big.metadata
            .insert("k".into(), "v".repeat(MAX_METADATA_BYTES));
        assert_eq!(big.validate().unwrap_err().code, ErrorCode::PayloadTooLarge);
        let mut many = registration();
        for i in 0..=MAX_METADATA_ENTRIES {
            many.metadata.insert(format!("k{i}"), "v".into());
        }
        assert_eq!(
            many.validate().unwrap_err().code,
            ErrorCode::PayloadTooLarge
        );
        let mut empty_key = registration();
        empty_key.metadata.insert(String::new(), "v".into());
        assert_eq!(
            empty_key.validate().unwrap_err().code,
            ErrorCode::InvalidOptions
        );
    }

    #[test]
    fn keys_name_their_service() {
        let k = key("rooms/lobby");
        assert!(is_service_key(k.as_ref()));
        assert_eq!(service_of_key(&k), Some("rooms/lobby"));
        assert_eq!(service_of_key(&RecordKey::new(&b"app/x")), None);
    }
}
