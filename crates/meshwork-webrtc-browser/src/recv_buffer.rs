//! The bounded byte buffer between a data channel's `onmessage` events and the reader.

use std::collections::VecDeque;

/// A message did not fit: accepting it would exceed the buffer's capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow {
    /// Bytes already buffered.
    pub(crate) buffered: usize,
    /// Size of the rejected message.
    pub(crate) incoming: usize,
}

/// Received messages, read back as one byte stream, holding at most `capacity` bytes.
///
/// Messages are kept as they arrived (no copying into one contiguous buffer); a message is
/// accepted whole or not at all.
#[derive(Debug)]
pub(crate) struct RecvBuffer {
    messages: VecDeque<Vec<u8>>,
    /// Bytes of the front message already read.
    consumed: usize,
    /// Unread bytes over all messages.
    len: usize,
    capacity: usize,
}

impl RecvBuffer {
    /// An empty buffer for at most `capacity` unread bytes.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            messages: VecDeque::new(),
            consumed: 0,
            len: 0,
            capacity,
        }
    }

    /// Appends one received message. Empty messages are ignored.
    pub(crate) fn push(&mut self, message: Vec<u8>) -> Result<(), Overflow> {
        if message.is_empty() {
            return Ok(());
        }
        if message.len() > self.capacity.saturating_sub(self.len) {
            return Err(Overflow {
                buffered: self.len,
                incoming: message.len(),
            });
        }
        self.len += message.len();
        self.messages.push_back(message);
        Ok(())
    }

    /// Copies up to `out.len()` unread bytes into `out`, oldest first; returns how many.
    pub(crate) fn read(&mut self, out: &mut [u8]) -> usize {
        let mut written = 0;
        while written < out.len() {
            let Some(front) = self.messages.front() else {
                break;
            };
            let unread = front.get(self.consumed..).unwrap_or_default();
            let n = unread.len().min(out.len() - written);
            out[written..written + n].copy_from_slice(&unread[..n]);
            written += n;
            self.consumed += n;
            if self.consumed >= front.len() {
                self.messages.pop_front();
                self.consumed = 0;
            }
        }
        self.len -= written;
        written
    }

    /// Unread bytes.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is left to read.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_across_message_boundaries() {
        let mut buffer = RecvBuffer::new(100);
        buffer.push(b"hello ".to_vec()).expect("room");
        buffer.push(Vec::new()).expect("empty is fine");
        buffer.push(b"world".to_vec()).expect("room");
        assert_eq!(buffer.len(), 11);

        let mut out = [0u8; 4];
        assert_eq!(buffer.read(&mut out), 4);
        assert_eq!(&out, b"hell");
        let mut out = [0u8; 5];
        assert_eq!(buffer.read(&mut out), 5);
        assert_eq!(&out, b"o wor");
        let mut out = [0u8; 10];
        assert_eq!(buffer.read(&mut out), 2);
        assert_eq!(&out[..2], b"ld");
        assert!(buffer.is_empty());
        assert_eq!(buffer.read(&mut out), 0);
    }

    #[test]
    fn empty_output_reads_nothing() {
        let mut buffer = RecvBuffer::new(10);
        buffer.push(vec![1, 2, 3]).expect("room");
        assert_eq!(buffer.read(&mut []), 0);
        assert_eq!(buffer.len(), 3);
    }

    #[test]
    fn refuses_what_exceeds_capacity_and_frees_room_on_read() {
        let mut buffer = RecvBuffer::new(10);
        buffer.push(vec![0; 6]).expect("room");
        assert_eq!(
            buffer.push(vec![0; 5]),
            Err(Overflow {
                buffered: 6,
                incoming: 5
            })
        );
        buffer.push(vec![0; 4]).expect("exactly full");
        assert_eq!(buffer.len(), 10);

        let mut out = [0u8; 5];
        assert_eq!(buffer.read(&mut out), 5);
        buffer.push(vec![0; 5]).expect("room again");
        assert_eq!(buffer.len(), 10);
    }

    #[test]
    fn a_message_larger_than_capacity_is_refused() {
        let mut buffer = RecvBuffer::new(3);
        assert!(buffer.push(vec![0; 4]).is_err());
        assert!(buffer.is_empty());
    }
}
