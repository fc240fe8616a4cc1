//! The relay's side of WebRTC-direct sends one frame per data-channel message: every substream
//! of a `libp2p_webrtc` connection is wrapped in [`FrameAligned`] (see there for the upstream
//! bug, rust-libp2p #6557, that otherwise kills bulk transfers to pages).

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use libp2p::core::muxing::{StreamMuxer, StreamMuxerEvent};
use meshwork_webrtc_browser::FrameAligned;

/// A [`StreamMuxer`] whose substreams are [`FrameAligned`].
pub struct FrameAlignedMuxer<M>(pub M);

impl<M> StreamMuxer for FrameAlignedMuxer<M>
where
    M: StreamMuxer + Unpin,
    M::Substream: Unpin,
{
    type Substream = FrameAligned<M::Substream>;
    type Error = M::Error;

    fn poll_inbound(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        Pin::new(&mut self.get_mut().0)
            .poll_inbound(cx)
            .map_ok(FrameAligned::new)
    }

    fn poll_outbound(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        Pin::new(&mut self.get_mut().0)
            .poll_outbound(cx)
            .map_ok(FrameAligned::new)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.get_mut().0).poll_close(cx)
    }

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<StreamMuxerEvent, Self::Error>> {
        Pin::new(&mut self.get_mut().0).poll(cx)
    }
}
