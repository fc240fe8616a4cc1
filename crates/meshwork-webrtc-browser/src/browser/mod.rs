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
//! | `handshake.rs` | the dial: SDP offer/answer, Noise on channel 0, timeout |
//! | `connection.rs` | the public [`Connection`], a `StreamMuxer` |
//! | `transport.rs` | the public [`Transport`] |

mod channel;
mod connection;
mod handshake;
mod js;
mod peer;
mod stream;
mod transport;

pub use connection::Connection;
pub use stream::Stream;
pub use transport::Transport;

/// What libp2p's `SwarmBuilder::with_other_transport` and `StreamMuxerBox` require.
const _: () = {
    const fn assert_send<T: Send + 'static>() {}
    const fn assert_unpin<T: Unpin>() {}
    assert_send::<Transport>();
    assert_unpin::<Transport>();
    assert_send::<Connection>();
    assert_unpin::<Connection>();
    assert_send::<Stream>();
    assert_unpin::<Stream>();
};
