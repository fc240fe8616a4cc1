//! Errors as values. Each error carries a stable [`ErrorCode`], which the browser facade puts on
//! the JS `Error` object it throws, and which the relay logs.

use thiserror::Error;

/// Stable, machine-readable error codes. The string form (see [`ErrorCode::as_str`]) is part of
/// the public API: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A multiaddr could not be parsed, or names no transport this node can dial.
    InvalidMultiaddr,
    /// A topic name is empty, too long or has control characters.
    InvalidTopic,
    /// A payload is not bytes.
    InvalidPayload,
    /// A payload is larger than the configured maximum.
    PayloadTooLarge,
    /// Options or configuration are malformed.
    InvalidOptions,
    /// The node has stopped; no more calls are accepted.
    NodeStopped,
    /// A dial failed (unreachable, wrong peer, handshake failure, denied by a limit).
    DialFailed,
    /// A publish found no subscribed peer to send to.
    NoPeers,
    /// Gossipsub refused the publish (duplicate, too large after encoding, queues full).
    PublishFailed,
    /// Too many subscriptions, dials or pending requests.
    LimitReached,
    /// Fetching the relay's addresses over HTTP failed.
    FetchFailed,
    /// Starting the node or a listener failed.
    StartFailed,
    /// A panic inside the node (a bug); reported as an event.
    Panic,
    /// A peer ID could not be parsed.
    InvalidPeerId,
    /// A protocol stream could not be opened or failed midway (peer unreachable, protocol not
    /// supported by the peer, reset).
    StreamFailed,
    /// The outbound publish queue for the topic is full (or this publish was shed for
    /// higher-priority ones): slow down or retry later.
    Backpressure,
    /// A rendezvous namespace is empty, too long or has control characters.
    InvalidNamespace,
    /// Registering or discovering failed: no rendezvous point connected, no reachable address
    /// to register, every point refused, or no answer in time.
    DiscoveryFailed,
    /// The peer reached is not the one expected (`addPeer`'s `expectedPeerId`, or the
    /// address's `/p2p/<id>`).
    PeerIdMismatch,
    /// A DHT lookup ended without the peer or record asked for (or without enough matching
    /// copies of a record).
    NotFound,
}

impl ErrorCode {
    /// The stable string, e.g. `"INVALID_MULTIADDR"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidMultiaddr => "INVALID_MULTIADDR",
            ErrorCode::InvalidTopic => "INVALID_TOPIC",
            ErrorCode::InvalidPayload => "INVALID_PAYLOAD",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::InvalidOptions => "INVALID_OPTIONS",
            ErrorCode::NodeStopped => "NODE_STOPPED",
            ErrorCode::DialFailed => "DIAL_FAILED",
            ErrorCode::NoPeers => "NO_PEERS",
            ErrorCode::PublishFailed => "PUBLISH_FAILED",
            ErrorCode::LimitReached => "LIMIT_REACHED",
            ErrorCode::FetchFailed => "FETCH_FAILED",
            ErrorCode::StartFailed => "START_FAILED",
            ErrorCode::PeerIdMismatch => "PEER_ID_MISMATCH",
            ErrorCode::Panic => "PANIC",
            ErrorCode::InvalidPeerId => "INVALID_PEER_ID",
            ErrorCode::StreamFailed => "STREAM_FAILED",
            ErrorCode::Backpressure => "BACKPRESSURE",
            ErrorCode::InvalidNamespace => "INVALID_NAMESPACE",
            ErrorCode::DiscoveryFailed => "DISCOVERY_FAILED",
            ErrorCode::NotFound => "NOT_FOUND",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from the core node: a code and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{code}: {message}")]
pub struct CoreError {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

impl CoreError {
    /// A new error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The error every call gets once the node has stopped.
    pub fn stopped() -> Self {
        Self::new(ErrorCode::NodeStopped, "the node has stopped")
    }
}

/// An error and its sources as one line (`outer: inner: root`), skipping empty messages, which
/// some transport errors have.
pub fn describe_chain(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    if parts.is_empty() {
        format!("{error:?}")
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_leads_with_the_code() {
        let e = CoreError::new(ErrorCode::PayloadTooLarge, "70000 > 65536");
        assert_eq!(e.to_string(), "PAYLOAD_TOO_LARGE: 70000 > 65536");
    }
}
