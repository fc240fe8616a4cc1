//! The crate's error type.

use libp2p::PeerId;

/// Everything that can go wrong in this transport.
///
/// Errors caused by a remote peer only ever fail that peer's session or dial; the listener keeps
/// serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A socket operation failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// A [`Config`](crate::Config) value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),

    /// The transport was used outside a tokio runtime.
    #[error("no tokio runtime: the WebTransport transport must run on tokio")]
    NoRuntime,

    /// Deriving or encoding a certificate failed.
    #[error("certificate: {0}")]
    Certificate(String),

    /// Building the TLS or QUIC configuration failed.
    #[error("TLS configuration: {0}")]
    Tls(String),

    /// The QUIC connection or the WebTransport session failed.
    #[error("WebTransport session: {0}")]
    Session(#[from] wtransport::error::ConnectionError),

    /// Dialing (QUIC, TLS, HTTP/3 CONNECT) failed.
    #[error("WebTransport connect: {0}")]
    Connecting(#[from] wtransport::error::ConnectingError),

    /// Opening a bidirectional stream failed.
    #[error("opening a stream: {0}")]
    StreamOpening(#[from] wtransport::error::StreamOpeningError),

    /// The client asked for another path than `/.well-known/libp2p-webtransport?type=noise`; it
    /// was answered with 404.
    #[error("WebTransport request for {0:?} answered with 404")]
    NotFound(String),

    /// The Noise handshake on the first stream failed.
    #[error("Noise handshake: {0}")]
    Noise(#[from] libp2p::noise::Error),

    /// The session was not authenticated within the handshake timeout.
    #[error("handshake timed out")]
    HandshakeTimeout,

    /// The remote authenticated as another peer than the one in the dialed address.
    #[error("remote is {actual}, expected {expected}")]
    PeerIdMismatch {
        /// The peer ID in the dialed `/p2p` component.
        expected: Box<PeerId>,
        /// The peer ID the remote proved in the Noise handshake.
        actual: Box<PeerId>,
    },

    /// The dialed address has no `/certhash`; only self-signed listeners (which always advertise
    /// their hashes) can be dialed.
    #[error("the address has no /certhash")]
    NoCertHashes,

    /// Dialing in the listener role (hole punching) is not supported.
    #[error("dialing as listener (hole punching) is not supported")]
    ListenerRoleUnsupported,

    /// The QUIC endpoint stopped unexpectedly.
    #[error("the QUIC endpoint closed")]
    EndpointClosed,
}
