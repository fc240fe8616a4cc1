//! The public [`Stream`] and the [`StreamCleanup`] that closes its data channel afterwards.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll},
};

use futures::{channel::oneshot, AsyncRead, AsyncWrite, FutureExt};
use libp2p_webrtc_utils::DropListener;
use send_wrapper::SendWrapper;

use super::{channel::ChannelIo, Mode};
use crate::FrameAligned;

/// One libp2p stream: a WebRTC data channel with the libp2p message framing (FIN, STOP_SENDING,
/// RESET_STREAM) of [`libp2p_webrtc_utils::Stream`], one frame per message ([`FrameAligned`]).
///
/// Dropping it without closing resets the stream. Its data channel is closed once the stream is
/// dropped and its last frame is sent, or when the connection closes.
pub struct Stream {
    framed: SendWrapper<FrameAligned<libp2p_webrtc_utils::Stream<ChannelIo>>>,
    /// Never sent on: dropping it tells the [`StreamCleanup`] that the stream is gone.
    _alive: oneshot::Sender<()>,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").finish_non_exhaustive()
    }
}

/// Wraps `channel` as a [`Stream`], plus the future that closes the channel when the stream is
/// done with it. `mode` sets the frame size the remote can take.
pub(crate) fn open(channel: ChannelIo, mode: Mode) -> (Stream, StreamCleanup) {
    let (framed, drop_listener) = libp2p_webrtc_utils::Stream::new(channel.clone());
    let (alive, stream_dropped) = oneshot::channel();
    let stream = Stream {
        framed: SendWrapper::new(FrameAligned::with_max_payload(
            framed,
            mode.max_frame_payload(),
        )),
        _alive: alive,
    };
    let cleanup = StreamCleanup {
        channel,
        drop_listener: Some(drop_listener),
        stream_dropped: Some(stream_dropped),
    };
    (stream, cleanup)
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.get_mut().framed).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.get_mut().framed).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().framed).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().framed).poll_close(cx)
    }
}

/// Completes once a [`Stream`] is dropped and its final frame (FIN, or RESET_STREAM for a stream
/// dropped without closing) is flushed, and then closes the data channel.
///
/// Waiting for both matters: a stream that closed its write half may still be reading.
pub(crate) struct StreamCleanup {
    channel: ChannelIo,
    /// Sends RESET_STREAM if the stream is dropped without being closed; `None` once done.
    drop_listener: Option<DropListener<ChannelIo>>,
    /// Resolves when the [`Stream`] is dropped; `None` once it has.
    stream_dropped: Option<oneshot::Receiver<()>>,
}

impl StreamCleanup {
    /// The stream's data channel.
    pub(crate) fn channel(&self) -> &ChannelIo {
        &self.channel
    }
}

impl Future for StreamCleanup {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if let Some(listener) = &mut this.drop_listener {
            if let Poll::Ready(result) = listener.poll_unpin(cx) {
                if let Err(error) = result {
                    tracing::debug!(channel = ?this.channel.id(), %error, "could not reset stream");
                }
                this.drop_listener = None;
            }
        }
        if let Some(dropped) = &mut this.stream_dropped {
            if dropped.poll_unpin(cx).is_ready() {
                this.stream_dropped = None;
            }
        }
        if this.drop_listener.is_none() && this.stream_dropped.is_none() {
            this.channel.shutdown();
            return Poll::Ready(());
        }
        Poll::Pending
    }
}
