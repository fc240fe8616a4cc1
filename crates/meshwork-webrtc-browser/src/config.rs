//! The transport's configuration: the local identity and the limits on every queue and buffer.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p_webrtc_utils::MAX_MSG_LEN;
use serde::{Deserialize, Serialize};

/// Bounds on everything the transport queues or buffers, and its one timeout.
///
/// Every field has a documented default ([`Limits::default`]); values below a field's stated
/// minimum are raised to it when the transport uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Inbound data channels (streams opened by the remote) that wait for the muxer to be polled
    /// for them. Channels beyond this are closed and logged.
    ///
    /// Unit: channels. Default: 64. Minimum: 1.
    pub max_pending_inbound_streams: usize,
    /// Streams (inbound and outbound) open at the same time on one connection. At the limit,
    /// `poll_outbound` and `poll_inbound` wait until a stream is dropped.
    ///
    /// Unit: streams. Default: 256. Minimum: 1.
    pub max_open_streams: usize,
    /// Bytes received on one data channel and not yet read. A remote that sends more is cut off:
    /// the stream's reads fail once the bytes already buffered are read.
    ///
    /// Unit: bytes. Default: 262 144 (256 KiB). Minimum: 16 384 (one full WebRTC message).
    pub stream_receive_buffer_bytes: usize,
    /// Bytes handed to the browser for one data channel and not yet sent (its `bufferedAmount`)
    /// above which writes wait.
    ///
    /// Unit: bytes. Default: 131 072 (128 KiB). Minimum: 16 384 (one full WebRTC message).
    pub stream_send_buffer_bytes: usize,
    /// Time a dial may take, from creating the peer connection to the end of the Noise handshake.
    ///
    /// Unit: milliseconds. Default: 10 000. Minimum: 1.
    pub handshake_timeout_ms: u32,
    /// `RTCPeerConnection`s of this page open at the same time, over both transports of this
    /// crate. Dials and inbound browser-to-browser connections beyond it fail with
    /// [`crate::Error::PeerConnectionLimit`].
    ///
    /// Unit: peer connections. Default: 64. Minimum: 1.
    pub max_live_peer_connections: usize,
    /// `RTCPeerConnection`s this page may create over its lifetime. Chrome refuses more than 500
    /// per page, and then WebRTC is gone until reload; stopping short of it keeps the failure
    /// ours and clear.
    ///
    /// Unit: peer connections. Default: 450. Minimum: 1.
    pub max_total_peer_connections: usize,
}

impl Limits {
    /// Default of [`Limits::max_pending_inbound_streams`].
    pub const DEFAULT_MAX_PENDING_INBOUND_STREAMS: usize = 64;
    /// Default of [`Limits::max_open_streams`].
    pub const DEFAULT_MAX_OPEN_STREAMS: usize = 256;
    /// Default of [`Limits::stream_receive_buffer_bytes`].
    pub const DEFAULT_STREAM_RECEIVE_BUFFER_BYTES: usize = 256 * 1024;
    /// Default of [`Limits::stream_send_buffer_bytes`].
    pub const DEFAULT_STREAM_SEND_BUFFER_BYTES: usize = 128 * 1024;
    /// Default of [`Limits::handshake_timeout_ms`].
    pub const DEFAULT_HANDSHAKE_TIMEOUT_MS: u32 = 10_000;
    /// Default of [`Limits::max_live_peer_connections`].
    pub const DEFAULT_MAX_LIVE_PEER_CONNECTIONS: usize = 64;
    /// Default of [`Limits::max_total_peer_connections`].
    pub const DEFAULT_MAX_TOTAL_PEER_CONNECTIONS: usize = 450;

    /// The same limits with every field raised to its documented minimum.
    pub(crate) fn normalized(self) -> Self {
        Self {
            max_pending_inbound_streams: self.max_pending_inbound_streams.max(1),
            max_open_streams: self.max_open_streams.max(1),
            stream_receive_buffer_bytes: self.stream_receive_buffer_bytes.max(MAX_MSG_LEN),
            stream_send_buffer_bytes: self.stream_send_buffer_bytes.max(MAX_MSG_LEN),
            handshake_timeout_ms: self.handshake_timeout_ms.max(1),
            max_live_peer_connections: self.max_live_peer_connections.max(1),
            max_total_peer_connections: self.max_total_peer_connections.max(1),
        }
    }

    /// [`Limits::handshake_timeout_ms`] as a [`Duration`].
    pub(crate) fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(u64::from(self.handshake_timeout_ms))
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pending_inbound_streams: Self::DEFAULT_MAX_PENDING_INBOUND_STREAMS,
            max_open_streams: Self::DEFAULT_MAX_OPEN_STREAMS,
            stream_receive_buffer_bytes: Self::DEFAULT_STREAM_RECEIVE_BUFFER_BYTES,
            stream_send_buffer_bytes: Self::DEFAULT_STREAM_SEND_BUFFER_BYTES,
            handshake_timeout_ms: Self::DEFAULT_HANDSHAKE_TIMEOUT_MS,
            max_live_peer_connections: Self::DEFAULT_MAX_LIVE_PEER_CONNECTIONS,
            max_total_peer_connections: Self::DEFAULT_MAX_TOTAL_PEER_CONNECTIONS,
        }
    }
}

/// One ICE server (`RTCIceServer`), for browser-to-browser connections across NATs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IceServer {
    /// `stun:`, `stuns:`, `turn:` or `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

impl IceServer {
    /// Checks the URL schemes, so that a typo fails when the node starts rather than silently
    /// at the first dial.
    pub fn validate(&self) -> Result<(), String> {
        if self.urls.is_empty() {
            return Err("an ICE server needs at least one URL".to_owned());
        }
        for url in &self.urls {
            let scheme = url.split(':').next().unwrap_or_default();
            if !matches!(scheme, "stun" | "stuns" | "turn" | "turns")
                || url.len() <= scheme.len() + 1
            {
                return Err(format!(
                    "ICE server URL {url:?} must start with stun:, stuns:, turn: or turns:"
                ));
            }
        }
        Ok(())
    }
}

/// Which ICE candidates a browser-to-browser connection may use (`iceTransportPolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IceTransportPolicy {
    /// Every candidate (host, server-reflexive, relayed).
    #[default]
    All,
    /// TURN-relayed candidates only.
    Relay,
}

/// Configuration of the transports: the local identity, [`Limits`], and the ICE servers for
/// browser-to-browser connections (none by default: nothing outside is contacted unless an
/// application configures it).
#[derive(Debug, Clone)]
pub struct Config {
    keypair: Keypair,
    limits: Limits,
    ice_servers: Vec<IceServer>,
    ice_transport_policy: IceTransportPolicy,
}

impl Config {
    /// A configuration that authenticates as `keypair`, with [`Limits::default`].
    pub fn new(keypair: &Keypair) -> Self {
        Self {
            keypair: keypair.clone(),
            limits: Limits::default(),
            ice_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
        }
    }

    /// Sets the ICE servers of browser-to-browser connections (WebRTC-direct needs none).
    pub fn with_ice_servers(mut self, servers: Vec<IceServer>) -> Self {
        self.ice_servers = servers;
        self
    }

    /// Sets the ICE transport policy of browser-to-browser connections.
    pub fn with_ice_transport_policy(mut self, policy: IceTransportPolicy) -> Self {
        self.ice_transport_policy = policy;
        self
    }

    /// The ICE servers of browser-to-browser connections.
    pub fn ice_servers(&self) -> &[IceServer] {
        &self.ice_servers
    }

    /// The ICE transport policy of browser-to-browser connections.
    pub fn ice_transport_policy(&self) -> IceTransportPolicy {
        self.ice_transport_policy
    }

    /// Replaces all limits at once.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets [`Limits::max_pending_inbound_streams`].
    pub fn with_max_pending_inbound_streams(mut self, channels: usize) -> Self {
        self.limits.max_pending_inbound_streams = channels;
        self
    }

    /// Sets [`Limits::max_open_streams`].
    pub fn with_max_open_streams(mut self, streams: usize) -> Self {
        self.limits.max_open_streams = streams;
        self
    }

    /// Sets [`Limits::stream_receive_buffer_bytes`].
    pub fn with_stream_receive_buffer_bytes(mut self, bytes: usize) -> Self {
        self.limits.stream_receive_buffer_bytes = bytes;
        self
    }

    /// Sets [`Limits::stream_send_buffer_bytes`].
    pub fn with_stream_send_buffer_bytes(mut self, bytes: usize) -> Self {
        self.limits.stream_send_buffer_bytes = bytes;
        self
    }

    /// Sets [`Limits::handshake_timeout_ms`], saturating at `u32::MAX` milliseconds.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.limits.handshake_timeout_ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        self
    }

    /// The identity the transport authenticates as.
    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }

    /// The limits as set (before minimums are applied).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented_values() {
        let limits = Limits::default();
        assert_eq!(limits.max_pending_inbound_streams, 64);
        assert_eq!(limits.max_open_streams, 256);
        assert_eq!(limits.stream_receive_buffer_bytes, 256 * 1024);
        assert_eq!(limits.stream_send_buffer_bytes, 128 * 1024);
        assert_eq!(limits.handshake_timeout(), Duration::from_secs(10));
        assert_eq!(limits.max_live_peer_connections, 64);
        assert_eq!(limits.max_total_peer_connections, 450);
        assert_eq!(limits.normalized(), limits);
    }

    #[test]
    fn normalized_raises_to_minimums() {
        let limits = Limits {
            max_pending_inbound_streams: 0,
            max_open_streams: 0,
            stream_receive_buffer_bytes: 10,
            stream_send_buffer_bytes: 0,
            handshake_timeout_ms: 0,
            max_live_peer_connections: 0,
            max_total_peer_connections: 0,
        }
        .normalized();
        assert_eq!(limits.max_live_peer_connections, 1);
        assert_eq!(limits.max_total_peer_connections, 1);
        assert_eq!(limits.max_pending_inbound_streams, 1);
        assert_eq!(limits.max_open_streams, 1);
        assert_eq!(limits.stream_receive_buffer_bytes, MAX_MSG_LEN);
        assert_eq!(limits.stream_send_buffer_bytes, MAX_MSG_LEN);
        assert_eq!(limits.handshake_timeout_ms, 1);
    }

    #[test]
    fn builder_sets_fields() {
        let keypair = Keypair::generate_ed25519();
        let config = Config::new(&keypair)
            .with_max_pending_inbound_streams(3)
            .with_max_open_streams(4)
            .with_stream_receive_buffer_bytes(50_000)
            .with_stream_send_buffer_bytes(60_000)
            .with_handshake_timeout(Duration::from_secs(u64::MAX));
        assert_eq!(config.limits().max_pending_inbound_streams, 3);
        assert_eq!(config.limits().max_open_streams, 4);
        assert_eq!(config.limits().stream_receive_buffer_bytes, 50_000);
        assert_eq!(config.limits().stream_send_buffer_bytes, 60_000);
        assert_eq!(config.limits().handshake_timeout_ms, u32::MAX);
        assert_eq!(config.keypair().public(), keypair.public());
    }

    #[test]
    fn ice_server_urls_are_checked() {
        let server = |urls: &[&str]| IceServer {
            urls: urls.iter().map(|u| (*u).to_owned()).collect(),
            username: None,
            credential: None,
        };
        assert!(server(&["stun:stun.example.org:3478"]).validate().is_ok());
        assert!(server(&["turns:turn.example.org", "stun:x"])
            .validate()
            .is_ok());
        assert!(server(&[]).validate().is_err());
        assert!(server(&["http://example.org"]).validate().is_err());
        assert!(server(&["stun:"]).validate().is_err());
    }

    #[test]
    fn limits_deserialize_with_defaults_for_missing_fields() {
        let limits: Limits = serde::Deserialize::deserialize(serde::de::value::MapDeserializer::<
            _,
            serde::de::value::Error,
        >::new(
            [("max_open_streams", 8usize)].into_iter(),
        ))
        .expect("valid limits");
        assert_eq!(
            limits,
            Limits {
                max_open_streams: 8,
                ..Limits::default()
            }
        );
    }
}
