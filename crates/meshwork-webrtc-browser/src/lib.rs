//! A libp2p [WebRTC-direct] dialer for the browser, built on `web-sys`.
//!
//! The browser dials a native listener at
//! `/ip4|ip6/<ip>/udp/<port>/webrtc-direct/certhash/<multibase>[/p2p/<peer>]`.
//! The connection is authenticated with Noise on the negotiated data channel 0, and every
//! later data channel is one libp2p stream, framed as [`libp2p_webrtc_utils::Stream`] does.
//!
//! # No stall on early streams
//!
//! A native listener opens data channels as soon as its side of the handshake is done, which can
//! be before the browser has finished its side. This crate installs the peer connection's
//! `ondatachannel` handler when the `RTCPeerConnection` is created, before the offer is made, and
//! attaches every inbound channel's `onmessage` handler in that same callback. Inbound channels
//! then wait in a bounded queue ([`Limits::max_pending_inbound_streams`]) until the muxer is
//! polled for them, and their bytes wait in a bounded buffer
//! ([`Limits::stream_receive_buffer_bytes`]); nothing the remote sends early is lost.
//!
//! # Usage (wasm32)
//!
//! ```text
//! use libp2p::{core::{muxing::StreamMuxerBox, Transport as _}, SwarmBuilder};
//! use meshwork_webrtc_browser::{Config, Transport};
//!
//! let swarm = SwarmBuilder::with_existing_identity(keypair)
//!     .with_wasm_bindgen()
//!     .with_other_transport(|key| {
//!         Transport::new(Config::new(key)).map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)))
//!     })?;
//! ```
//!
//! # Platform
//!
//! `Transport`, `Connection` and `Stream` exist only on `wasm32` (they drive the browser's
//! `RTCPeerConnection`). On other targets the crate contains the target-independent parts only
//! ([`Config`], [`Limits`], [`Error`], [`SdpError`], and [`FrameAligned`], which the native
//! relay uses on its side of WebRTC-direct too) so that the workspace builds and the pure
//! logic is unit-tested natively. This file is the only place that tests the target.
//!
//! [WebRTC-direct]: https://github.com/libp2p/specs/blob/master/webrtc/webrtc-direct.md

#![deny(missing_docs)]

// Target-independent modules. On non-wasm targets most of their items are used only by the
// tests, so dead-code warnings are silenced there.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod config;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod dial_target;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod error;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod fin_ack;
mod frame_aligned;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod inbound_queue;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod recv_buffer;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod sdp;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub mod signaling;

// The browser glue: web-sys, wasm-bindgen closures, JS promises.
#[cfg(target_arch = "wasm32")]
mod browser;

#[cfg(target_arch = "wasm32")]
pub use browser::{
    browser_to_browser_target, peer_connection_counts, BrowserToBrowserTransport, Connection,
    IsConnected, Stream, Transport,
};
pub use config::{Config, IceServer, IceTransportPolicy, Limits};
pub use error::Error;
pub use frame_aligned::{FrameAligned, MAX_FRAME_PAYLOAD, MAX_FRAME_PAYLOAD_TO_WEBRTC_RS};
pub use sdp::SdpError;
