//! The browser side: everything that touches `RTCPeerConnection` and `RTCDataChannel`.
//!
//! Compiled on `wasm32` only (see the crate root). JS objects are not `Send`; the public types
//! wrap them in [`send_wrapper::SendWrapper`], which is sound because wasm32 in the browser runs
//! this code on one thread.
//!
//! | file | job |
//! | --- | --- |
//! | `js.rs` | bindings web-sys lacks (`RTCSctpTransport`, a catching `createDataChannel`); JS errors as [`crate::Error`] |
//! | `channel.rs` | one `RTCDataChannel` as `AsyncRead + AsyncWrite`, handlers attached at creation |
//! | `stream.rs` | the public [`Stream`] and the cleanup that closes its channel afterwards |
//! | `peer.rs` | the `RTCPeerConnection`, its `ondatachannel` queue and its state |
//! | `handshake.rs` | the WebRTC-direct dial: SDP offer/answer, Noise on channel 0, timeout |
//! | `connection.rs` | the public [`Connection`], a `StreamMuxer` |
//! | `transport.rs` | the public [`Transport`] (WebRTC-direct) |
//! | `budget.rs` | the page's budget of peer connections |
//! | `signaled.rs` | the peer connection as a [`crate::signaling`] peer |
//! | `browser_to_browser.rs` | the browser-to-browser dial and accept, with timeout |
//! | `b2b_transport.rs` | the public [`BrowserToBrowserTransport`] (`/webrtc`) |

mod b2b_transport;
mod browser_to_browser;
mod budget;
mod channel;
mod connection;
mod handshake;
mod js;
mod peer;
mod signaled;
mod stream;
mod transport;

pub use b2b_transport::{browser_to_browser_target, BrowserToBrowserTransport, IsConnected};
pub use budget::peer_connection_counts;
pub use connection::Connection;
pub use stream::Stream;
pub use transport::Transport;

/// Which kind of connection a peer connection carries: it decides the frame size and whether
/// `FIN` is answered with `FIN_ACK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// WebRTC-direct to a rust-libp2p (webrtc-rs) listener: frames within its 8 KiB read
    /// buffer, and no `FIN_ACK` (it would fail its reads).
    Direct,
    /// Browser to browser (meshwork or js-libp2p): full 16 KiB frames and `FIN_ACK`.
    BrowserToBrowser,
}

impl Mode {
    /// Largest payload per frame the remote can take.
    pub(crate) fn max_frame_payload(self) -> usize {
        match self {
            Self::Direct => crate::MAX_FRAME_PAYLOAD_TO_WEBRTC_RS,
            Self::BrowserToBrowser => crate::MAX_FRAME_PAYLOAD,
        }
    }

    /// Whether a `FIN` is answered with `FIN_ACK`.
    pub(crate) fn replies_fin_ack(self) -> bool {
        self == Self::BrowserToBrowser
    }
}

/// What libp2p's `SwarmBuilder::with_other_transport` and `StreamMuxerBox` require.
const _: () = {
    const fn assert_send<T: Send + 'static>() {}
    const fn assert_unpin<T: Unpin>() {}
    assert_send::<Transport>();
    assert_unpin::<Transport>();
    assert_send::<BrowserToBrowserTransport>();
    assert_unpin::<BrowserToBrowserTransport>();
    assert_send::<Connection>();
    assert_unpin::<Connection>();
    assert_send::<Stream>();
    assert_unpin::<Stream>();
};
