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

    /// The same limits with every field raised to its documented minimum.
    pub(crate) fn normalized(self) -> Self {
        Self {
            max_pending_inbound_streams: self.max_pending_inbound_streams.max(1),
            max_open_streams: self.max_open_streams.max(1),
            stream_receive_buffer_bytes: self.stream_receive_buffer_bytes.max(MAX_MSG_LEN),
            stream_send_buffer_bytes: self.stream_send_buffer_bytes.max(MAX_MSG_LEN),
            handshake_timeout_ms: self.handshake_timeout_ms.max(1),
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
        }
    }
}

/// Configuration of the WebRTC-direct transport: the local identity plus its [`Limits`].
#[derive(Debug, Clone)]
pub struct Config {
    keypair: Keypair,
    limits: Limits,
}

impl Config {
    /// A configuration that authenticates as `keypair`, with [`Limits::default`].
    pub fn new(keypair: &Keypair) -> Self {
        Self {
            keypair: keypair.clone(),
            limits: Limits::default(),
        }
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
        }
        .normalized();
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
