//! [`FrameAligned`]: one libp2p WebRTC frame per data-channel message.
//!
//! [`libp2p_webrtc_utils::Stream`] frames writes into protobuf messages of at most
//! [`MAX_MSG_LEN`] bytes, but its internal write buffer may hold the tail of one frame and a
//! whole next frame when it hands bytes to the data channel. A data channel that sends each write
//! as one message (webrtc-rs's `PollDataChannel`, the native listener) then sends a message
//! larger than the 16 KiB the spec allows, which SCTP refuses ("outbound packet larger than
//! maximum message size") and the stream dies; this happens on bulk transfers whose write sizes
//! are not multiples of the frame payload (rust-libp2p issue #6557, open upstream).
//!
//! Flushing after every frame keeps the buffer to one frame: each message on the wire is exactly
//! one frame, as the spec intends and as other implementations send.

use std::{
    io,
    pin::Pin,
    task::{ready, Context, Poll},
};

use futures::{AsyncRead, AsyncWrite};
use libp2p_webrtc_utils::MAX_MSG_LEN;

/// Bytes a frame adds to its payload: the length prefix (2) and the protobuf fields (5), as in
/// `libp2p_webrtc_utils`.
const FRAME_OVERHEAD: usize = 2 + 5;

/// The most payload one frame carries within the spec's 16 KiB message limit.
pub const MAX_FRAME_PAYLOAD: usize = MAX_MSG_LEN - FRAME_OVERHEAD;

/// The payload limit for frames a browser sends to a rust-libp2p (webrtc-rs) listener: it reads
/// each inbound message into an 8 KiB buffer and fails the stream ("Short buffer (size: 8192)")
/// on anything larger, so frames to it stay within 8 KiB.
pub const MAX_FRAME_PAYLOAD_TO_WEBRTC_RS: usize = 8 * 1024 - FRAME_OVERHEAD;

/// Wraps a framed WebRTC stream so that every frame is flushed (sent as its own message) before
/// the next is written. Reads pass through.
#[derive(Debug)]
pub struct FrameAligned<S> {
    inner: S,
    /// A frame was written and not yet flushed.
    unflushed: bool,
    /// The most payload per frame.
    max_payload: usize,
}

impl<S> FrameAligned<S> {
    /// Wrap `inner`, with frames of up to [`MAX_FRAME_PAYLOAD`].
    pub fn new(inner: S) -> Self {
        Self::with_max_payload(inner, MAX_FRAME_PAYLOAD)
    }

    /// Wrap `inner`, with frames of up to `max_payload` bytes (clamped to 1..=[`MAX_FRAME_PAYLOAD`]).
    pub fn with_max_payload(inner: S, max_payload: usize) -> Self {
        Self {
            inner,
            unflushed: false,
            max_payload: max_payload.clamp(1, MAX_FRAME_PAYLOAD),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FrameAligned<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FrameAligned<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.unflushed {
            ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
            this.unflushed = false;
        }
        let len = buf.len().min(this.max_payload);
        let written =
            ready!(Pin::new(&mut this.inner).poll_write(cx, buf.get(..len).unwrap_or(buf)))?;
        this.unflushed = written > 0;
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
        this.unflushed = false;
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.unflushed {
            ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
            this.unflushed = false;
        }
        Pin::new(&mut this.inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::{cell::RefCell, rc::Rc};

    use futures::{executor::block_on, AsyncWriteExt};

    use super::*;

    /// A channel stand-in for `libp2p_webrtc_utils::Stream`: every write is one message whose
    /// size is recorded; reads never complete.
    #[derive(Clone, Default)]
    struct Channel(Rc<RefCell<Vec<usize>>>);

    impl AsyncRead for Channel {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Pending
        }
    }

    impl AsyncWrite for Channel {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.borrow_mut().push(buf.len());
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Write 64 KiB four times (sizes that leave a short frame behind), close, and return the
    /// message sizes the channel saw.
    fn messages(aligned: bool) -> Vec<usize> {
        messages_with(aligned, MAX_FRAME_PAYLOAD)
    }

    fn messages_with(aligned: bool, max_payload: usize) -> Vec<usize> {
        let channel = Channel::default();
        let (framed, _drop_listener) = libp2p_webrtc_utils::Stream::new(channel.clone());
        block_on(async {
            let data = vec![7u8; 64 * 1024];
            if aligned {
                let mut stream = FrameAligned::with_max_payload(framed, max_payload);
                for _ in 0..4 {
                    stream.write_all(&data).await.unwrap();
                }
                stream.close().await.unwrap();
            } else {
                let mut stream = framed;
                for _ in 0..4 {
                    stream.write_all(&data).await.unwrap();
                }
                stream.close().await.unwrap();
            }
        });
        let sizes = channel.0.borrow().clone();
        sizes
    }

    #[test]
    fn unaligned_writes_overflow_the_message_limit() {
        // The upstream behaviour this module exists for (if it is fixed, this test says so).
        assert!(messages(false).iter().any(|&n| n > MAX_MSG_LEN));
    }

    #[test]
    fn aligned_every_message_is_one_frame_within_the_limit() {
        let sizes = messages(true);
        assert!(sizes.iter().all(|&n| n <= MAX_MSG_LEN), "{sizes:?}");
        // 4 × 64 KiB in frames of at most MAX_FRAME_PAYLOAD, plus the FIN frame.
        assert!(
            sizes.len() > 4 * (64 * 1024usize).div_ceil(MAX_FRAME_PAYLOAD),
            "{sizes:?}"
        );
    }

    #[test]
    fn frames_to_webrtc_rs_fit_its_8_kib_read_buffer() {
        let sizes = messages_with(true, MAX_FRAME_PAYLOAD_TO_WEBRTC_RS);
        assert!(sizes.iter().all(|&n| n <= 8 * 1024), "{sizes:?}");
    }
}
