//! Browser-to-browser connections: signaling over a stream of the relayed connection, then a
//! direct `RTCPeerConnection` whose data channels are the libp2p streams.
//!
//! Dialer ([`dial`]), per the [spec](https://github.com/libp2p/specs/blob/master/webrtc/webrtc.md)
//! and as js-libp2p does it:
//! 1. open `/webrtc-signaling/0.0.1` to the remote on the relayed connection;
//! 2. create the peer connection and an `init` data channel (so the offer has an SCTP section);
//! 3. offer, answer and ICE candidates ([`exchange::offer`]) until `connected`;
//! 4. close the `init` channel and wait until it is closed (so its id is not reused while the
//!    remote still sees it), then close the signaling stream.
//!
//! The listener ([`accept`]) answers. No Noise runs on the direct connection: the relayed
//! connection is authenticated, so the fingerprints in the SDP are, and the remote is the peer
//! the signaling stream came from.
//!
//! Each side is bounded by [`crate::Limits::handshake_timeout_ms`]; on failure, timeout or drop
//! the peer connection is closed and the relayed connection is untouched.

use std::future::poll_fn;

use futures::AsyncWriteExt as _;
use libp2p::{PeerId, StreamProtocol};

use super::{
    connection::Connection,
    handshake::within_handshake_timeout,
    peer::{PeerConnection, INIT_CHANNEL_LABEL},
    Mode,
};
use crate::{
    signaling::{exchange, SIGNALING_PROTOCOL},
    Config, Error,
};

/// The protocol name, as libp2p-stream wants it.
pub(crate) const PROTOCOL: StreamProtocol = StreamProtocol::new(SIGNALING_PROTOCOL);

/// Opens a signaling stream to `peer` through `control` and dials it directly.
pub(crate) async fn dial(
    peer: PeerId,
    mut control: libp2p_stream::Control,
    config: Config,
) -> Result<(PeerId, Connection), Error> {
    let limits = config.limits().normalized();
    within_handshake_timeout(limits, async move {
        let stream =
            control
                .open_stream(peer, PROTOCOL)
                .await
                .map_err(|e| Error::SignalingUnavailable {
                    peer: Box::new(peer),
                    reason: e.to_string(),
                })?;
        let mut pc = PeerConnection::new(&config, Mode::BrowserToBrowser).await?;
        let mut init = pc.create_labelled_channel(INIT_CHANNEL_LABEL)?;
        let signaling = exchange::offer(&mut pc, exchange::framed(stream)).await?;
        // The init channel has done its job (an SCTP section in the offer).
        poll_fn(|cx| init.poll_writable(cx))
            .await
            .map_err(|_| Error::ConnectionClosed)?;
        let _ = init.close().await;
        close_signaling(signaling).await;
        tracing::debug!(%peer, "browser-to-browser connection up (dialer)");
        Ok((peer, Connection::new(pc, None)))
    })
    .await
}

/// Answers the signaling stream `peer` opened and returns the direct connection.
pub(crate) async fn accept(
    peer: PeerId,
    stream: libp2p::Stream,
    config: Config,
) -> Result<(PeerId, Connection), Error> {
    let limits = config.limits().normalized();
    within_handshake_timeout(limits, async move {
        let mut pc = PeerConnection::new(&config, Mode::BrowserToBrowser).await?;
        let signaling = exchange::answer(&mut pc, exchange::framed(stream)).await?;
        close_signaling(signaling).await;
        tracing::debug!(%peer, "browser-to-browser connection up (listener)");
        Ok((peer, Connection::new(pc, None)))
    })
    .await
}

/// Closes our side of the signaling stream; the remote may already have closed it.
async fn close_signaling(signaling: exchange::SignalStream<libp2p::Stream>) {
    let mut stream = signaling.into_inner();
    if let Err(error) = stream.close().await {
        tracing::debug!(%error, "closing the signaling stream");
    }
}
