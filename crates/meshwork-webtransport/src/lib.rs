//! A native (tokio) libp2p transport for [libp2p WebTransport]: browsers dial it, and it can
//! dial other listeners.
//!
//! # Protocol
//!
//! - HTTP/3 WebTransport on its own UDP port (`wtransport` on quinn). Only
//!   `/.well-known/libp2p-webtransport?type=noise` is served; any other request gets 404 and
//!   the listener carries on.
//! - The client opens the session's first bidirectional stream and runs the Noise XX initiator
//!   on it directly (no multistream-select, empty prologue); the listener is the responder and
//!   sends its certificate hashes in the Noise extensions, which the initiator checks contain
//!   the hashes it dialed. That stream is then dropped.
//! - Every later bidirectional stream is one libp2p stream (the swarm runs multistream-select on
//!   it). No yamux, no unidirectional streams (refused), no datagrams (ignored).
//!
//! # Addresses
//!
//! Listen on `/ip4|ip6/<ip>/udp/<port>/quic-v1/webtransport` (port 0 picks one; an unspecified
//! IP is expanded to the interfaces' addresses and follows them). Each reported address ends in
//! `/certhash/<current>/certhash/<next>`; see [`certificate`] for how the certificates are
//! derived and rotated. Dial `/ip4|ip6/…/udp/…/quic-v1/webtransport/certhash/…[/p2p/…]`: the
//! TLS certificate must hash to one of the address's SHA-256 certhashes and the remote must be
//! the `/p2p` peer if one is given.
//!
//! # Usage
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use libp2p::core::{muxing::StreamMuxerBox, Transport as _};
//! use meshwork_webtransport::{Config, Transport};
//!
//! let key = libp2p::identity::Keypair::generate_ed25519();
//! let transport = Transport::new(Config::new(&key))
//!     .map(|(peer, connection), _| (peer, StreamMuxerBox::new(connection)))
//!     .boxed();
//! # let _ = transport; Ok(()) }
//! ```
//!
//! Every TLS configuration is built with rustls' ring provider passed explicitly, so the
//! process-wide default provider does not matter.
//!
//! # Limits
//!
//! See [`Config`]: handshake timeout, pending sessions, streams per session, idle timeout,
//! certificate validity and rotation. Queues: each listener's event queue is bounded by the
//! number of its addresses; quinn holds at most `max_pending_sessions` unanswered connection
//! attempts; wtransport's per-session queues are fixed and small (one bidirectional stream,
//! four unidirectional, one datagram).
//!
//! [libp2p WebTransport]: https://github.com/libp2p/specs/tree/master/webtransport

#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod addr;
pub mod certificate;
mod clock;
mod config;
mod connection;
mod error;
mod handshake;
mod listener;
mod stream;
mod tls;
mod transport;

pub use clock::{Clock, SystemClock};
pub use config::{
    Config, DEFAULT_CERTIFICATE_VALIDITY, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_PENDING_SESSIONS, DEFAULT_MAX_STREAMS_PER_SESSION, DEFAULT_ROTATION_CHECK_INTERVAL,
    DEFAULT_ROTATION_LEAD_TIME, MAX_CERTIFICATE_VALIDITY,
};
pub use connection::Connection;
pub use error::Error;
pub use stream::Stream;
pub use transport::Transport;
