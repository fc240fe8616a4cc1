//! Input checks shared by every entry point (JS facade, relay, native peer).

use libp2p::Multiaddr;

use crate::{CoreError, ErrorCode};

/// Longest topic name accepted, in bytes.
pub const MAX_TOPIC_BYTES: usize = 256;

/// Longest multiaddr string accepted, in bytes.
pub const MAX_MULTIADDR_BYTES: usize = 1024;

/// Topics meshwork itself uses (service announcements, peer exchange); applications may not
/// subscribe or publish under this prefix.
pub const RESERVED_TOPIC_PREFIX: &str = "/meshwork/";

/// Check a topic name: 1..=256 bytes of UTF-8 with no control characters, not under
/// [`RESERVED_TOPIC_PREFIX`].
pub fn topic(name: &str) -> Result<(), CoreError> {
    if name.is_empty() {
        return Err(CoreError::new(ErrorCode::InvalidTopic, "topic is empty"));
    }
    if name.len() > MAX_TOPIC_BYTES {
        return Err(CoreError::new(
            ErrorCode::InvalidTopic,
            format!(
                "topic is {} bytes; the maximum is {MAX_TOPIC_BYTES}",
                name.len()
            ),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(CoreError::new(
            ErrorCode::InvalidTopic,
            "topic contains control characters",
        ));
    }
    if name.starts_with(RESERVED_TOPIC_PREFIX) {
        return Err(CoreError::new(
            ErrorCode::InvalidTopic,
            format!(
                "topics under {RESERVED_TOPIC_PREFIX:?} are reserved for meshwork's own protocols"
            ),
        ));
    }
    Ok(())
}

/// Check a payload against the configured maximum.
pub fn payload(len: usize, max: usize) -> Result<(), CoreError> {
    if len > max {
        return Err(CoreError::new(
            ErrorCode::PayloadTooLarge,
            format!("payload is {len} bytes; the maximum is {max}"),
        ));
    }
    Ok(())
}

/// Parse a multiaddr string, with a clear error.
pub fn multiaddr(text: &str) -> Result<Multiaddr, CoreError> {
    if text.len() > MAX_MULTIADDR_BYTES {
        return Err(CoreError::new(
            ErrorCode::InvalidMultiaddr,
            format!(
                "multiaddr is {} bytes; the maximum is {MAX_MULTIADDR_BYTES}",
                text.len()
            ),
        ));
    }
    if text.trim().is_empty() {
        return Err(CoreError::new(
            ErrorCode::InvalidMultiaddr,
            "multiaddr is empty",
        ));
    }
    text.trim().parse::<Multiaddr>().map_err(|e| {
        CoreError::new(
            ErrorCode::InvalidMultiaddr,
            format!("cannot parse multiaddr {text:?}: {e}"),
        )
    })
}

/// Longest peer ID string accepted, in bytes (base58 of a 38-byte identity multihash is ~52).
pub const MAX_PEER_ID_BYTES: usize = 128;

/// Parse a peer ID string, with a clear error.
pub fn peer_id(text: &str) -> Result<libp2p::PeerId, CoreError> {
    if text.len() > MAX_PEER_ID_BYTES {
        return Err(CoreError::new(
            ErrorCode::InvalidPeerId,
            format!(
                "peer ID is {} bytes; the maximum is {MAX_PEER_ID_BYTES}",
                text.len()
            ),
        ));
    }
    text.parse().map_err(|e| {
        CoreError::new(
            ErrorCode::InvalidPeerId,
            format!("{text:?} is not a peer ID: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics() {
        assert!(topic("chat").is_ok());
        assert_eq!(topic("").unwrap_err().code, ErrorCode::InvalidTopic);
        assert_eq!(topic("a\nb").unwrap_err().code, ErrorCode::InvalidTopic);
        assert_eq!(
            topic(&"x".repeat(257)).unwrap_err().code,
            ErrorCode::InvalidTopic
        );
        assert!(topic(&"x".repeat(256)).is_ok());
        assert_eq!(
            topic("/meshwork/services/1").unwrap_err().code,
            ErrorCode::InvalidTopic
        );
        assert!(topic("/meshworkish").is_ok());
    }

    #[test]
    fn payloads() {
        assert!(payload(10, 10).is_ok());
        assert_eq!(
            payload(11, 10).unwrap_err().code,
            ErrorCode::PayloadTooLarge
        );
    }

    #[test]
    fn multiaddrs() {
        assert!(multiaddr("/ip4/127.0.0.1/tcp/1").is_ok());
        for bad in [
            "",
            "hello",
            "/ip4/300.0.0.1/tcp/1",
            "/ip4/1.2.3.4/tcp/notaport",
        ] {
            assert_eq!(
                multiaddr(bad).unwrap_err().code,
                ErrorCode::InvalidMultiaddr,
                "{bad}"
            );
        }
        assert_eq!(
            multiaddr(&"/ip4".repeat(300)).unwrap_err().code,
            ErrorCode::InvalidMultiaddr
        );
    }

    #[test]
    fn peer_ids() {
        let id = libp2p::PeerId::random();
        assert_eq!(peer_id(&id.to_string()).unwrap(), id);
        for bad in ["", "12D3KooW", "not a peer"] {
            assert_eq!(
                peer_id(bad).unwrap_err().code,
                ErrorCode::InvalidPeerId,
                "{bad}"
            );
        }
        assert_eq!(
            peer_id(&"1".repeat(200)).unwrap_err().code,
            ErrorCode::InvalidPeerId
        );
    }
}
