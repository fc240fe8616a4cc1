//! The public [`Connection`]: a WebRTC peer connection as a libp2p [`StreamMuxer`].

use std::{
    pin::Pin,
    task::{Context, Poll, Waker},
};

use futures::{stream::FuturesUnordered, StreamExt};
use libp2p::core::muxing::{StreamMuxer, StreamMuxerEvent};
use send_wrapper::SendWrapper;

use super::{
    channel::ChannelIo,
    peer::PeerConnection,
    stream::{self, Stream, StreamCleanup},
};
use crate::{Error, Limits};

/// An authenticated WebRTC connection (WebRTC-direct, or browser to browser); each data channel
/// is one [`Stream`].
///
/// Inbound streams the remote opened at any time since the peer connection was created are
/// returned by `poll_inbound` in order (up to [`Limits::max_pending_inbound_streams`] wait).
/// `poll` fails once the browser reports the peer connection `failed` or `closed`, so the swarm
/// sees the connection end. Closing or dropping the connection closes the peer connection and
/// every data channel.
pub struct Connection {
    session: SendWrapper<Session>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

impl Connection {
    /// `noise_channel` is WebRTC-direct's channel 0; browser-to-browser connections have none.
    pub(crate) fn new(peer: PeerConnection, noise_channel: Option<ChannelIo>) -> Self {
        let limits: Limits = peer.limits();
        Self {
            session: SendWrapper::new(Session {
                peer,
                noise_channel,
                streams: FuturesUnordered::new(),
                cleanup_waker: None,
                slot_waker: None,
                max_open_streams: limits.max_open_streams,
                closed: false,
            }),
        }
    }
}

/// The connection's state, on the browser thread.
struct Session {
    peer: PeerConnection,
    /// Channel 0, kept open (and closed with the connection) after the Noise handshake.
    noise_channel: Option<ChannelIo>,
    /// One cleanup per stream handed out; its length is the number of open streams.
    streams: FuturesUnordered<StreamCleanup>,
    /// The task that drives the cleanups, woken when one is added: `FuturesUnordered::push`
    /// wakes nobody, and a cleanup must be polled once to notice its stream being dropped.
    cleanup_waker: Option<Waker>,
    /// The task waiting for a stream slot ([`Limits::max_open_streams`]).
    slot_waker: Option<Waker>,
    max_open_streams: usize,
    closed: bool,
}

impl Session {
    /// `Err` once the connection is closed or the peer connection has ended.
    fn check_alive(&self, cx: &mut Context<'_>) -> Result<(), Error> {
        if self.closed {
            return Err(Error::ConnectionClosed);
        }
        match self.peer.poll_ended(cx) {
            Poll::Ready(error) => Err(error),
            Poll::Pending => Ok(()),
        }
    }

    /// Runs the stream cleanups; each one that finishes frees a stream slot.
    fn drive_cleanups(&mut self, cx: &mut Context<'_>) {
        match &self.cleanup_waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => self.cleanup_waker = Some(cx.waker().clone()),
        }
        while let Poll::Ready(Some(())) = self.streams.poll_next_unpin(cx) {
            if let Some(waker) = self.slot_waker.take() {
                waker.wake();
            }
        }
    }

    /// Whether another stream may open now; if not, the task is woken when one may.
    fn has_stream_slot(&mut self, cx: &mut Context<'_>) -> bool {
        if self.streams.len() < self.max_open_streams {
            return true;
        }
        self.slot_waker = Some(cx.waker().clone());
        false
    }

    fn adopt(&mut self, channel: ChannelIo) -> Stream {
        tracing::trace!(channel = ?channel.id(), "new stream");
        let (stream, cleanup) = stream::open(channel, self.peer.mode());
        self.streams.push(cleanup);
        if let Some(waker) = &self.cleanup_waker {
            waker.wake_by_ref();
        }
        stream
    }

    /// Closes every data channel and the peer connection, and wakes every waiting stream.
    /// Idempotent.
    fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        for cleanup in self.streams.iter() {
            cleanup.channel().shutdown();
        }
        self.streams.clear();
        if let Some(channel) = self.noise_channel.take() {
            channel.shutdown();
        }
        self.peer.close();
        for waker in [self.cleanup_waker.take(), self.slot_waker.take()]
            .into_iter()
            .flatten()
        {
            waker.wake();
        }
    }
}

impl Session {
    /// Ready when the connection is alive and below its stream limit (closed streams are
    /// reaped first); both directions wait on this before taking a stream.
    fn poll_stream_slot(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.check_alive(cx)?;
        self.drive_cleanups(cx);
        if self.has_stream_slot(cx) {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}

impl StreamMuxer for Connection {
    type Substream = Stream;
    type Error = Error;

    fn poll_inbound(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        let session = &mut *self.get_mut().session;
        if session.poll_stream_slot(cx)?.is_pending() {
            return Poll::Pending;
        }
        match session.peer.poll_inbound_channel(cx) {
            Poll::Ready(Some(channel)) => Poll::Ready(Ok(session.adopt(channel))),
            Poll::Ready(None) => Poll::Ready(Err(Error::ConnectionClosed)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_outbound(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        let session = &mut *self.get_mut().session;
        if session.poll_stream_slot(cx)?.is_pending() {
            return Poll::Pending;
        }
        let channel = session.peer.create_stream_channel()?;
        Poll::Ready(Ok(session.adopt(channel)))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().session.close();
        Poll::Ready(Ok(()))
    }

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<StreamMuxerEvent, Self::Error>> {
        let session = &mut *self.get_mut().session;
        session.check_alive(cx)?;
        session.drive_cleanups(cx);
        Poll::Pending
    }
}
