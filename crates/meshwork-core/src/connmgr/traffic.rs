//! Bytes moved per peer. The edges wrap every connection's muxer with [`Traffic::wrap`]; the
//! event loop reads the totals (for `listPeers`, and to tell idle peers from busy ones).
//!
//! What is counted is stream payload: what protocols read and write, without the transport's
//! own framing (Noise, yamux, QUIC, SCTP).

use std::{
    collections::HashMap,
    io,
    pin::Pin,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    task::{Context, Poll},
};

use futures::{AsyncRead, AsyncWrite};
use libp2p::{
    core::muxing::{StreamMuxer, StreamMuxerBox, StreamMuxerEvent},
    PeerId,
};

/// Bytes sent and received on one peer's connections.
#[derive(Debug, Default)]
pub struct Counters {
    sent: AtomicU64,
    received: AtomicU64,
}

impl Counters {
    /// `(sent, received)` so far.
    pub fn totals(&self) -> (u64, u64) {
        (
            self.sent.load(Ordering::Relaxed),
            self.received.load(Ordering::Relaxed),
        )
    }
}

/// The counters of every peer with a live connection, shared by the transports and the loop.
/// An entry lives while a connection holds it, plus until the next [`Traffic::sweep`]; the
/// number of entries is bounded by the connection limits.
#[derive(Debug, Clone, Default)]
pub struct Traffic(Arc<Mutex<HashMap<PeerId, Arc<Counters>>>>);

impl Traffic {
    fn counters(&self, peer: PeerId) -> Arc<Counters> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(peer).or_default().clone()
    }

    /// Count the streams of a new connection to `peer`.
    pub fn wrap(&self, peer: PeerId, muxer: StreamMuxerBox) -> StreamMuxerBox {
        StreamMuxerBox::new(Counted {
            inner: muxer,
            counters: self.counters(peer),
        })
    }

    /// `(sent, received)` for `peer`, if it has counters.
    pub fn totals(&self, peer: &PeerId) -> Option<(u64, u64)> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(peer).map(|c| c.totals())
    }

    /// Drop the counters no connection holds any more.
    pub fn sweep(&self) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, c| Arc::strong_count(c) > 1);
    }
}

/// A muxer whose streams count their bytes.
struct Counted {
    inner: StreamMuxerBox,
    counters: Arc<Counters>,
}

impl Counted {
    fn stream(&self, inner: libp2p::core::muxing::SubstreamBox) -> CountedStream {
        CountedStream {
            inner,
            counters: self.counters.clone(),
        }
    }
}

impl StreamMuxer for Counted {
    type Substream = CountedStream;
    type Error = io::Error;

    fn poll_inbound(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        Pin::new(&mut self.inner)
            .poll_inbound(cx)
            .map_ok(|s| self.stream(s))
    }

    fn poll_outbound(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        Pin::new(&mut self.inner)
            .poll_outbound(cx)
            .map_ok(|s| self.stream(s))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<StreamMuxerEvent, io::Error>> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

/// A stream that adds what it reads and writes to its peer's counters.
struct CountedStream {
    inner: libp2p::core::muxing::SubstreamBox,
    counters: Arc<Counters>,
}

fn add(counter: &AtomicU64, result: &Poll<io::Result<usize>>) {
    if let Poll::Ready(Ok(n)) = result {
        counter.fetch_add(*n as u64, Ordering::Relaxed);
    }
}

impl AsyncRead for CountedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        add(&self.counters.received, &result);
        result
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [io::IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_read_vectored(cx, bufs);
        add(&self.counters.received, &result);
        result
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        add(&self.counters.sent, &result);
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        add(&self.counters.sent, &result);
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_keeps_held_counters_only() {
        let traffic = Traffic::default();
        let held = PeerId::random();
        let dropped = PeerId::random();
        let keep = traffic.counters(held);
        keep.sent.fetch_add(5, Ordering::Relaxed);
        drop(traffic.counters(dropped));
        traffic.sweep();
        assert_eq!(traffic.totals(&held), Some((5, 0)));
        assert_eq!(traffic.totals(&dropped), None);
    }
}
