//! An authenticated WebTransport session as a libp2p stream muxer.

use std::{
    fmt,
    pin::Pin,
    task::{ready, Context, Poll},
};

use futures::{future::BoxFuture, FutureExt as _};
use libp2p::core::muxing::{StreamMuxer, StreamMuxerEvent};
use wtransport::{endpoint::endpoint_side, Endpoint, RecvStream, SendStream, VarInt};

use crate::{error::Error, stream::Stream};

/// The application error code sent when the session is closed normally.
const CLOSE_NORMAL: u32 = 0;

type BiStreamFuture = BoxFuture<'static, Result<(SendStream, RecvStream), Error>>;
type UniStreamFuture = BoxFuture<'static, Result<RecvStream, Error>>;

/// One WebTransport session after the Noise handshake.
///
/// Every bidirectional stream the remote opens is an inbound libp2p stream, every one we open an
/// outbound one. Unidirectional streams are refused as they arrive (`poll`); datagrams are
/// ignored. Closing or dropping the connection closes the session (and its QUIC connection).
pub struct Connection {
    session: wtransport::Connection,
    /// The client endpoint of a dialed session, kept alive as long as the session.
    _client: Option<Endpoint<endpoint_side::Client>>,
    inbound: Option<BiStreamFuture>,
    outbound: Option<BiStreamFuture>,
    unidirectional: Option<UniStreamFuture>,
    closed: bool,
}

impl Connection {
    pub(crate) fn new(
        session: wtransport::Connection,
        client: Option<Endpoint<endpoint_side::Client>>,
    ) -> Self {
        Self {
            session,
            _client: client,
            inbound: None,
            outbound: None,
            unidirectional: None,
            closed: false,
        }
    }

    fn close_session(&mut self) {
        if !self.closed {
            self.closed = true;
            self.session.close(VarInt::from_u32(CLOSE_NORMAL), b"");
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("remote", &self.session.remote_address())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl StreamMuxer for Connection {
    type Substream = Stream;
    type Error = Error;

    fn poll_inbound(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        let this = self.get_mut();
        let future = this.inbound.get_or_insert_with(|| {
            let session = this.session.clone();
            async move { Ok(session.accept_bi().await?) }.boxed()
        });
        let result = ready!(future.poll_unpin(cx));
        this.inbound = None;
        let (send, recv) = result?;
        Poll::Ready(Ok(Stream::new(send, recv)))
    }

    fn poll_outbound(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        let this = self.get_mut();
        let future = this.outbound.get_or_insert_with(|| {
            let session = this.session.clone();
            async move { Ok(session.open_bi().await?.await?) }.boxed()
        });
        let result = ready!(future.poll_unpin(cx));
        this.outbound = None;
        let (send, recv) = result?;
        Poll::Ready(Ok(Stream::new(send, recv)))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().close_session();
        Poll::Ready(Ok(()))
    }

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<StreamMuxerEvent, Self::Error>> {
        // libp2p over WebTransport uses no unidirectional streams: refuse each one.
        let this = self.get_mut();
        loop {
            let future = this.unidirectional.get_or_insert_with(|| {
                let session = this.session.clone();
                async move { Ok(session.accept_uni().await?) }.boxed()
            });
            let result = ready!(future.poll_unpin(cx));
            this.unidirectional = None;
            let stream = result?;
            tracing::debug!(id = ?stream.id(), "refusing a unidirectional stream");
            stream.stop(VarInt::from_u32(CLOSE_NORMAL));
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.close_session();
    }
}
