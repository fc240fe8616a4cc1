//! The one error type of the transport and its connections.

use std::time::Duration;

use libp2p::PeerId;

use crate::sdp::SdpError;

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
    #[error("WebRTC-direct handshake did not finish within {0:?}")]
    HandshakeTimeout(Duration),
    /// The browser reported the peer connection as failed (ICE or DTLS failure, or consent
    /// freshness lost).
    #[error("the WebRTC peer connection failed")]
    PeerConnectionFailed,
    /// The connection was closed: locally, by the browser, or by the remote (its SCTP
    /// association closed).
    #[error("the WebRTC connection is closed")]
    ConnectionClosed,
}

/// What libp2p's `StreamMuxerBox` and `Transport::boxed` require of the error type.
const _: () = {
    const fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<Error>();
};
