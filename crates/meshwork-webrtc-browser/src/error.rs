//! The one error type of the transport and its connections.

use std::time::Duration;

use libp2p::PeerId;

use crate::{sdp::SdpError, signaling::SignalError};

/// Why a dial or an established connection failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A browser API call failed (threw or rejected its promise).
    #[error("browser call `{call}` failed: {message}")]
    Js {
        /// The API that failed, e.g. `RTCPeerConnection.setRemoteDescription`.
        call: &'static str,
        /// The JavaScript error, rendered as text.
        message: String,
    },
    /// The browser's SDP offer could not be used for WebRTC-direct.
    #[error("unusable local SDP offer: {0}")]
    Sdp(#[from] SdpError),
    /// The Noise handshake on data channel 0 failed.
    #[error("Noise handshake failed: {0}")]
    Authentication(#[source] libp2p_webrtc_utils::noise::Error),
    /// The remote authenticated as a different peer than the one in the dialed address.
    ///
    /// (Boxed to keep `Error`, and every `Result` carrying it, small.)
    #[error("dialed peer {expected} but the remote authenticated as {actual}")]
    PeerIdMismatch {
        /// The peer in the dialed address's `/p2p` component.
        expected: Box<PeerId>,
        /// The peer the Noise handshake authenticated.
        actual: Box<PeerId>,
    },
    /// The dial did not finish within [`crate::Limits::handshake_timeout_ms`].
    #[error("WebRTC handshake did not finish within {0:?}")]
    HandshakeTimeout(Duration),
    /// The browser reported the peer connection as failed (ICE or DTLS failure, or consent
    /// freshness lost).
    #[error("the WebRTC peer connection failed")]
    PeerConnectionFailed,
    /// The connection was closed: locally, by the browser, or by the remote (its SCTP
    /// association closed).
    #[error("the WebRTC connection is closed")]
    ConnectionClosed,
    /// Reading or writing the signaling stream failed (browser-to-browser).
    #[error("signaling stream failed: {0}")]
    SignalingStream(#[source] std::io::Error),
    /// The signaling stream could not be opened to the remote (browser-to-browser).
    #[error("cannot open a signaling stream to {peer}: {reason}")]
    SignalingUnavailable {
        /// The remote peer.
        peer: Box<PeerId>,
        /// Why (no relayed connection, protocol not supported, …).
        reason: String,
    },
    /// The remote ended the signaling stream before sending what the protocol requires.
    #[error("the remote closed the signaling stream mid-handshake")]
    SignalingClosed,
    /// The remote sent a malformed signaling message.
    #[error("bad signaling message: {0}")]
    Signal(#[from] SignalError),
    /// The remote sent a well-formed signaling message out of order.
    #[error("expected {expected} on the signaling stream, got {got}")]
    UnexpectedSignal {
        /// What the protocol required at this point.
        expected: &'static str,
        /// What arrived.
        got: &'static str,
    },
    /// `listen_on("/webrtc")` could not start (already listening, or the signaling protocol is
    /// taken).
    #[error("cannot listen for browser-to-browser connections: {0}")]
    Listen(String),
    /// Opening another `RTCPeerConnection` would exceed [`crate::Limits::max_live_peer_connections`]
    /// or [`crate::Limits::max_total_peer_connections`] (browsers cap peer connections per page).
    #[error("peer connection limit reached: {0}")]
    PeerConnectionLimit(String),
}

/// What libp2p's `StreamMuxerBox` and `Transport::boxed` require of the error type.
const _: () = {
    const fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<Error>();
};
