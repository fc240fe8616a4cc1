//! One `RTCDataChannel` as a byte pipe ([`AsyncRead`] + [`AsyncWrite`]).
//!
//! Every event handler is attached in [`ChannelIo::new`], so a channel wrapped as soon as the
//! browser hands it over (in `ondatachannel`) loses no message: messages wait in a bounded
//! [`RecvBuffer`] until read. The libp2p framing on top is [`libp2p_webrtc_utils::Stream`]'s.

use std::{
    cell::{Cell, RefCell},
    io,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
};

use futures::{task::AtomicWaker, AsyncRead, AsyncWrite};
use libp2p_webrtc_utils::MAX_MSG_LEN;
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{Event, MessageEvent, RtcDataChannel, RtcDataChannelState, RtcDataChannelType};

use super::{js, Mode};
use crate::{
    fin_ack::{self, Inbound},
    recv_buffer::RecvBuffer,
    Limits,
};

/// Why a channel stopped accepting data; reads fail with it once buffered bytes are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The remote sent more than [`Limits::stream_receive_buffer_bytes`] ahead of the reader.
    Overflow,
    /// The remote sent a text message; the protocol uses binary messages only.
    TextMessage,
    /// The browser fired `error` on the channel.
    ChannelError,
    /// The receive buffer was borrowed re-entrantly (never expected; reported, not panicked).
    Reentrancy,
}

impl Fault {
    fn to_io_error(self) -> io::Error {
        match self {
            Self::Overflow => io::Error::new(
                io::ErrorKind::InvalidData,
                "remote overran the data channel's receive buffer",
            ),
            Self::TextMessage => io::Error::new(
                io::ErrorKind::InvalidData,
                "remote sent a text message on a libp2p data channel",
            ),
            Self::ChannelError => io::Error::new(
                io::ErrorKind::ConnectionReset,
                "the data channel reported an error",
            ),
            Self::Reentrancy => io::Error::other("data channel state borrowed re-entrantly"),
        }
    }
}

/// State shared between the event handlers and the reader/writer.
struct Shared {
    received: RefCell<RecvBuffer>,
    fault: Cell<Option<Fault>>,
    /// Set by `close` events and by [`ChannelIo::shutdown`]: `RTCPeerConnection.close()` closes
    /// channels without firing events, so the flag is the reliable signal.
    closed: Cell<bool>,
    /// The reading task: woken on message, close and error.
    read_waker: AtomicWaker,
    /// The writing (or flushing, or closing) task: woken on open, `bufferedamountlow`, close and
    /// error.
    write_waker: AtomicWaker,
}

impl Shared {
    fn wake_all(&self) {
        self.read_waker.wake();
        self.write_waker.wake();
    }

    fn fail(&self, fault: Fault) {
        if self.fault.get().is_none() {
            self.fault.set(Some(fault));
        }
        self.wake_all();
    }

    /// Buffers one inbound message for the reader; `FIN_ACK` handling happens here, below the
    /// framing (see [`crate::fin_ack`]).
    fn on_message(&self, event: &MessageEvent, channel: &RtcDataChannel, mode: Mode) {
        if self.fault.get().is_some() {
            return;
        }
        let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() else {
            tracing::warn!("non-binary message on a data channel; failing the stream");
            self.fail(Fault::TextMessage);
            return;
        };
        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
        match fin_ack::classify(&bytes) {
            Inbound::FinAck => return,
            Inbound::Fin if mode.replies_fin_ack() => {
                if let Err(error) = channel.send_with_u8_array(&fin_ack::fin_ack_frame()) {
                    tracing::debug!(error = %js::describe(&error), "could not send FIN_ACK");
                }
            }
            Inbound::Fin | Inbound::Other => {}
        }
        let pushed = match self.received.try_borrow_mut() {
            Ok(mut received) => received.push(bytes).map_err(|overflow| {
                tracing::warn!(
                    buffered = overflow.buffered,
                    incoming = overflow.incoming,
                    "remote overran a data channel's receive buffer; failing the stream"
                );
                Fault::Overflow
            }),
            Err(_) => Err(Fault::Reentrancy),
        };
        match pushed {
            Ok(()) => self.read_waker.wake(),
            Err(fault) => self.fail(fault),
        }
    }
}

/// The JS callbacks of one channel. Dropped only after they are detached (see `Drop for Core`).
struct Handlers {
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_buffered_amount_low: Closure<dyn FnMut(Event)>,
    _on_close: Closure<dyn FnMut(Event)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Handlers {
    fn attach(channel: &RtcDataChannel, shared: &Rc<Shared>, mode: Mode) -> Self {
        let on_open = Closure::<dyn FnMut(Event)>::new({
            let shared = shared.clone();
            move |_: Event| shared.write_waker.wake()
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let shared = shared.clone();
            let channel = channel.clone();
            move |event: MessageEvent| shared.on_message(&event, &channel, mode)
        });
        let on_buffered_amount_low = Closure::<dyn FnMut(Event)>::new({
            let shared = shared.clone();
            move |_: Event| shared.write_waker.wake()
        });
        let on_close = Closure::<dyn FnMut(Event)>::new({
            let shared = shared.clone();
            move |_: Event| {
                shared.closed.set(true);
                shared.wake_all();
            }
        });
        let on_error = Closure::<dyn FnMut(Event)>::new({
            let shared = shared.clone();
            move |_: Event| {
                tracing::debug!("data channel error event");
                shared.fail(Fault::ChannelError);
            }
        });

        channel.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        channel.set_onbufferedamountlow(Some(on_buffered_amount_low.as_ref().unchecked_ref()));
        channel.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        channel.set_onerror(Some(on_error.as_ref().unchecked_ref()));

        Self {
            _on_open: on_open,
            _on_message: on_message,
            _on_buffered_amount_low: on_buffered_amount_low,
            _on_close: on_close,
            _on_error: on_error,
        }
    }

    fn detach(channel: &RtcDataChannel) {
        channel.set_onopen(None);
        channel.set_onmessage(None);
        channel.set_onbufferedamountlow(None);
        channel.set_onclose(None);
        channel.set_onerror(None);
    }
}

/// Owner of the JS channel and its handlers; shared by every [`ChannelIo`] clone.
struct Core {
    channel: RtcDataChannel,
    shared: Rc<Shared>,
    /// `bufferedAmount` at or above which writes wait ([`Limits::stream_send_buffer_bytes`]).
    send_high_water: u32,
    _handlers: Handlers,
}

impl Drop for Core {
    fn drop(&mut self) {
        // Detach before the closures are freed: a JS call into a freed closure throws.
        Handlers::detach(&self.channel);
        // Nobody can use the channel any more; an open one would leak until the connection ends.
        if !matches!(self.channel.ready_state(), RtcDataChannelState::Closed) {
            self.channel.close();
        }
    }
}

/// A data channel as [`AsyncRead`] + [`AsyncWrite`]; cheap to clone (clones share the channel).
///
/// Each write sends one message of at most [`MAX_MSG_LEN`] bytes (the `a=max-message-size` of
/// the WebRTC-direct answer). Writes wait while the browser holds
/// [`Limits::stream_send_buffer_bytes`] unsent; flushing waits until it holds none.
#[derive(Clone)]
pub(crate) struct ChannelIo {
    core: Rc<Core>,
}

impl ChannelIo {
    /// Wraps `channel`, switching it to `ArrayBuffer` messages and attaching every handler now.
    pub(crate) fn new(channel: RtcDataChannel, limits: &Limits, mode: Mode) -> Self {
        channel.set_binary_type(RtcDataChannelType::Arraybuffer);
        let shared = Rc::new(Shared {
            received: RefCell::new(RecvBuffer::new(limits.stream_receive_buffer_bytes)),
            fault: Cell::new(None),
            closed: Cell::new(false),
            read_waker: AtomicWaker::new(),
            write_waker: AtomicWaker::new(),
        });
        let handlers = Handlers::attach(&channel, &shared, mode);
        let send_high_water = u32::try_from(limits.stream_send_buffer_bytes).unwrap_or(u32::MAX);
        Self {
            core: Rc::new(Core {
                channel,
                shared,
                send_high_water,
                _handlers: handlers,
            }),
        }
    }

    /// The SCTP stream id, for logs.
    pub(crate) fn id(&self) -> Option<u16> {
        self.core.channel.id()
    }

    /// Closes the channel now and wakes its reader and writer: reads return what is buffered and
    /// then end, writes fail. Idempotent.
    pub(crate) fn shutdown(&self) {
        let core = &self.core;
        if !matches!(core.channel.ready_state(), RtcDataChannelState::Closed) {
            core.channel.close();
        }
        core.shared.closed.set(true);
        core.shared.wake_all();
    }

    /// Whether the channel is closed (or closing was asked for).
    pub(crate) fn is_closed(&self) -> bool {
        self.core.shared.closed.get()
            || matches!(self.core.channel.ready_state(), RtcDataChannelState::Closed)
    }

    /// `Ready(Ok)` once the channel is open; an error once it is closing, closed or faulted.
    pub(crate) fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let shared = &self.core.shared;
        if let Some(fault) = shared.fault.get() {
            return Poll::Ready(Err(fault.to_io_error()));
        }
        if shared.closed.get() {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        match self.core.channel.ready_state() {
            RtcDataChannelState::Open => Poll::Ready(Ok(())),
            RtcDataChannelState::Connecting => {
                shared.write_waker.register(cx.waker());
                Poll::Pending
            }
            _ => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }
}

impl AsyncRead for ChannelIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let shared = &self.core.shared;
        let read = match shared.received.try_borrow_mut() {
            Ok(mut received) => received.read(buf),
            Err(_) => return Poll::Ready(Err(Fault::Reentrancy.to_io_error())),
        };
        if read > 0 || buf.is_empty() {
            return Poll::Ready(Ok(read));
        }
        if let Some(fault) = shared.fault.get() {
            return Poll::Ready(Err(fault.to_io_error()));
        }
        if self.is_closed() {
            return Poll::Ready(Ok(0));
        }
        shared.read_waker.register(cx.waker());
        Poll::Pending
    }
}

impl AsyncWrite for ChannelIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Err(error) = futures::ready!(self.poll_writable(cx)) {
            return Poll::Ready(Err(error));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let core = &self.core;
        if core.channel.buffered_amount() >= core.send_high_water {
            // Resume at half the high-water mark rather than at empty, so the pipe stays full.
            core.channel
                .set_buffered_amount_low_threshold(core.send_high_water / 2);
            core.shared.write_waker.register(cx.waker());
            return Poll::Pending;
        }
        let len = buf.len().min(MAX_MSG_LEN);
        let chunk = buf.get(..len).unwrap_or(buf);
        match core.channel.send_with_u8_array(chunk) {
            Ok(()) => Poll::Ready(Ok(chunk.len())),
            Err(error) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                js::describe(&error),
            ))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let core = &self.core;
        if let Some(fault) = core.shared.fault.get() {
            return Poll::Ready(Err(fault.to_io_error()));
        }
        if core.channel.buffered_amount() == 0 {
            return Poll::Ready(Ok(()));
        }
        if self.is_closed() {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        core.channel.set_buffered_amount_low_threshold(0);
        core.shared.write_waker.register(cx.waker());
        Poll::Pending
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let core = &self.core;
        if self.is_closed() {
            return Poll::Ready(Ok(()));
        }
        if !matches!(core.channel.ready_state(), RtcDataChannelState::Closing) {
            // The browser sends what is queued, then resets the stream and fires `close`.
            core.channel.close();
        }
        core.shared.write_waker.register(cx.waker());
        Poll::Pending
    }
}
