//! `FIN_ACK`, the flag js-libp2p adds to the data-channel framing.
//!
//! js-libp2p (and the current spec) answer a `FIN` with `FIN_ACK` (flag 3) and wait up to 10 s
//! for it before closing a channel, working around Chromium closing channels before their last
//! message is delivered. `libp2p-webrtc-utils` knows only `FIN`, `STOP_SENDING` and `RESET`
//! and fails the read on any other flag. So, below its framing, on the raw channel messages:
//!
//! - an inbound flag-only `FIN_ACK` frame is dropped (nothing above needs it);
//! - an inbound flag-only `FIN` frame is answered with a `FIN_ACK`, on connections whose remote
//!   understands it (browser-to-browser; never to a rust-libp2p listener, whose reads it would
//!   fail).
//!
//! Every sender we meet puts exactly one frame in each data-channel message and sends flags in
//! frames of their own, so looking at whole messages is enough; anything else passes untouched.

/// The `FIN` flag value.
const FLAG_FIN: i32 = 0;
/// The `FIN_ACK` flag value.
const FLAG_FIN_ACK: i32 = 3;

/// A flag-only frame: varint length (3 bytes or less) plus at most 12 bytes of protobuf.
const MAX_FLAG_FRAME: usize = 16;

/// The frame layout (`message Message { Flag flag = 1; bytes message = 2; }`).
#[derive(Clone, PartialEq, prost::Message)]
struct Frame {
    #[prost(int32, optional, tag = "1")]
    flag: Option<i32>,
    #[prost(bytes = "vec", optional, tag = "2")]
    message: Option<Vec<u8>>,
}

/// What one inbound data-channel message is, as far as `FIN_ACK` is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inbound {
    /// A flag-only `FIN_ACK`: drop it.
    FinAck,
    /// A flag-only `FIN`: deliver it, and answer with [`fin_ack_frame`] where the remote wants it.
    Fin,
    /// Anything else: deliver as is.
    Other,
}

/// Classifies one inbound message. Only small messages are decoded.
pub(crate) fn classify(message: &[u8]) -> Inbound {
    if message.len() > MAX_FLAG_FRAME {
        return Inbound::Other;
    }
    let mut rest = message;
    let Ok(true) = prost_codec::consume_message_prefix(&mut rest) else {
        return Inbound::Other;
    };
    let Ok(frame) = <Frame as prost::Message>::decode(rest) else {
        return Inbound::Other;
    };
    match (frame.flag, frame.message) {
        (Some(FLAG_FIN_ACK), None) => Inbound::FinAck,
        (Some(FLAG_FIN), None) => Inbound::Fin,
        _ => Inbound::Other,
    }
}

/// A length-prefixed flag-only `FIN_ACK` frame.
pub(crate) fn fin_ack_frame() -> Vec<u8> {
    let frame = Frame {
        flag: Some(FLAG_FIN_ACK),
        message: None,
    };
    let body = prost::Message::encode_to_vec(&frame);
    let mut out = Vec::with_capacity(body.len() + 1);
    let mut prefix = unsigned_varint::encode::usize_buffer();
    out.extend_from_slice(unsigned_varint::encode::usize(body.len(), &mut prefix));
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(flag: Option<i32>, message: Option<&[u8]>) -> Vec<u8> {
        let body = prost::Message::encode_to_vec(&Frame {
            flag,
            message: message.map(<[u8]>::to_vec),
        });
        let mut out = vec![u8::try_from(body.len()).expect("small frame")];
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn fin_ack_is_recognised_and_encoded_like_js_libp2p() {
        // js-libp2p: lengthPrefixed(Message.encode({ flag: FIN_ACK })) = [2, 0x08, 3].
        assert_eq!(fin_ack_frame(), vec![2, 0x08, 3]);
        assert_eq!(classify(&fin_ack_frame()), Inbound::FinAck);
    }

    #[test]
    fn fin_is_recognised() {
        assert_eq!(classify(&frame(Some(FLAG_FIN), None)), Inbound::Fin);
        assert_eq!(classify(&[2, 0x08, 0]), Inbound::Fin);
    }

    #[test]
    fn data_and_other_flags_pass_through() {
        assert_eq!(classify(&frame(None, Some(b"hello"))), Inbound::Other);
        assert_eq!(classify(&frame(Some(1), None)), Inbound::Other); // STOP_SENDING
        assert_eq!(classify(&frame(Some(2), None)), Inbound::Other); // RESET
                                                                     // A FIN riding on data is left to the framing above.
        assert_eq!(classify(&frame(Some(FLAG_FIN), Some(b"x"))), Inbound::Other);
        assert_eq!(classify(&[0u8; 64]), Inbound::Other);
    }

    #[test]
    fn garbage_is_not_a_flag() {
        assert_eq!(classify(&[]), Inbound::Other);
        assert_eq!(classify(&[0xff, 0xff, 0xff]), Inbound::Other);
        assert_eq!(classify(&[5, 0x08]), Inbound::Other);
        assert_eq!(classify(&[2, 0xff, 0xff]), Inbound::Other);
    }

    #[test]
    fn upstream_framing_fails_on_fin_ack() {
        // Why this module exists: libp2p-webrtc-utils' reader fails on flag 3. If this test
        // starts failing, upstream learned FIN_ACK and the filter may go.
        use futures::AsyncReadExt as _;
        let channel = InboundOnly::new(fin_ack_frame());
        let (mut stream, _drop_listener) = libp2p_webrtc_utils::Stream::new(channel);
        let mut buf = [0u8; 16];
        let read = futures::executor::block_on(stream.read(&mut buf));
        assert_eq!(
            read.expect_err("FIN_ACK fails the read").kind(),
            std::io::ErrorKind::InvalidData
        );
    }

    /// A data channel stand-in that delivers fixed bytes and swallows writes.
    #[derive(Clone)]
    struct InboundOnly(std::sync::Arc<std::sync::Mutex<std::io::Cursor<Vec<u8>>>>);

    impl InboundOnly {
        fn new(bytes: Vec<u8>) -> Self {
            Self(std::sync::Arc::new(std::sync::Mutex::new(
                std::io::Cursor::new(bytes),
            )))
        }
    }

    impl futures::AsyncRead for InboundOnly {
        fn poll_read(
            self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &mut [u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let mut cursor = self.0.lock().expect("not poisoned");
            std::task::Poll::Ready(std::io::Read::read(&mut *cursor, buf))
        }
    }

    impl futures::AsyncWrite for InboundOnly {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::task::Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_close(
            self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }
}
