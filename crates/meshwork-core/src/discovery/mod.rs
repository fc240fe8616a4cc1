//! Peer discovery beyond the bootstrap list: rendezvous namespaces (register, refresh,
//! discover with cookies), mDNS on the local segment (native only) and peer exchange over
//! gossip (signed peer records on a system topic). The state here is plain
//! code with injected time; `event_loop::rendezvous` wires it to the swarm.

pub mod config;
pub mod exchange;
pub mod found;
pub mod mdns;
pub mod registrations;
pub mod relay_http;

use serde::Serialize;

use crate::{CoreError, ErrorCode};

/// Longest rendezvous namespace, in bytes (the rendezvous spec's limit).
pub const MAX_NAMESPACE_BYTES: usize = libp2p::rendezvous::MAX_NAMESPACE;

/// Most rendezvous points a node registers at and asks at once.
pub const MAX_POINTS: usize = 8;

/// How a peer was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscoverySource {
    /// Registered under a namespace at a rendezvous point.
    Rendezvous,
    /// Announced on the local network segment.
    Mdns,
    /// Announced its signed peer record on the peer-exchange gossip topic.
    Gossip,
}

impl DiscoverySource {
    /// The stable string, as events carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            DiscoverySource::Rendezvous => "rendezvous",
            DiscoverySource::Mdns => "mdns",
            DiscoverySource::Gossip => "gossip",
        }
    }
}

/// Check a rendezvous namespace: 1..=255 bytes of UTF-8 with no control characters.
pub fn validate_namespace(namespace: &str) -> Result<(), CoreError> {
    let invalid = |m: String| Err(CoreError::new(ErrorCode::InvalidNamespace, m));
    if namespace.is_empty() {
        return invalid("namespace is empty".into());
    }
    if namespace.len() > MAX_NAMESPACE_BYTES {
        return invalid(format!(
            "namespace is {} bytes; the maximum is {MAX_NAMESPACE_BYTES}",
            namespace.len()
        ));
    }
    if namespace.chars().any(char::is_control) {
        return invalid("namespace contains control characters".into());
    }
    Ok(())
}

/// Check a registration lifetime a caller asks for.
pub fn validate_ttl(ttl_secs: u64) -> Result<(), CoreError> {
    if !(config::MIN_TTL_SECS..=config::MAX_TTL_SECS).contains(&ttl_secs) {
        return Err(CoreError::new(
            ErrorCode::InvalidOptions,
            format!(
                "ttlSecs must be between {} and {}",
                config::MIN_TTL_SECS,
                config::MAX_TTL_SECS
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_checked() {
        assert!(validate_namespace("meshwork/chat").is_ok());
        for bad in [String::new(), "a".repeat(256), "a\nb".into()] {
            assert_eq!(
                validate_namespace(&bad).unwrap_err().code,
                ErrorCode::InvalidNamespace
            );
        }
        assert!(validate_namespace(&"é".repeat(127)).is_ok());
    }

    #[test]
    fn ttls_are_checked() {
        assert!(validate_ttl(300).is_ok());
        assert!(validate_ttl(9).is_err());
        assert!(validate_ttl(72 * 3600 + 1).is_err());
    }
}
