//! A bounded queue with one waiting consumer: inbound data channels wait here between the
//! browser's `ondatachannel` event and the muxer's `poll_inbound`.

use std::{
    collections::VecDeque,
    task::{Context, Poll, Waker},
};

/// Why [`InboundQueue::push`] gave an item back.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rejected<T> {
    /// The queue holds its capacity already.
    Full(T),
    /// The queue was closed; nothing is accepted any more.
    Closed(T),
}

/// A FIFO of at most `capacity` items whose consumer is woken on every push.
#[derive(Debug)]
pub(crate) struct InboundQueue<T> {
    items: VecDeque<T>,
    capacity: usize,
    waker: Option<Waker>,
    closed: bool,
}

impl<T> InboundQueue<T> {
    /// An empty queue holding at most `capacity` items (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            items: VecDeque::new(),
            capacity: capacity.max(1),
            waker: None,
            closed: false,
        }
    }

    /// Appends `item`, or gives it back when the queue is full or closed.
    pub(crate) fn push(&mut self, item: T) -> Result<(), Rejected<T>> {
        if self.closed {
            return Err(Rejected::Closed(item));
        }
        if self.items.len() >= self.capacity {
            return Err(Rejected::Full(item));
        }
        self.items.push_back(item);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
        Ok(())
    }

    /// The oldest item; `Ready(None)` once closed; otherwise `Pending`, and the task is woken by
    /// the next push or by [`InboundQueue::close`].
    pub(crate) fn poll_pop(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if let Some(item) = self.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if self.closed {
            return Poll::Ready(None);
        }
        match &mut self.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Closes the queue and returns what it still held, so the caller can dispose of it.
    pub(crate) fn close(&mut self) -> Vec<T> {
        self.closed = true;
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
        self.items.drain(..).collect()
    }

    /// Items waiting.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            atomic::{AtomicUsize, Ordering},
            Arc,
        },
        task::Wake,
    };

    use super::*;

    #[derive(Default)]
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_context() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(counter.clone());
        (counter, waker)
    }

    #[test]
    fn fifo_up_to_capacity() {
        let mut queue = InboundQueue::new(2);
        assert_eq!(queue.push(1), Ok(()));
        assert_eq!(queue.push(2), Ok(()));
        assert_eq!(queue.push(3), Err(Rejected::Full(3)));
        assert_eq!(queue.len(), 2);

        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(queue.poll_pop(&mut cx), Poll::Ready(Some(1)));
        assert_eq!(queue.push(4), Ok(()));
        assert_eq!(queue.poll_pop(&mut cx), Poll::Ready(Some(2)));
        assert_eq!(queue.poll_pop(&mut cx), Poll::Ready(Some(4)));
        assert_eq!(queue.poll_pop(&mut cx), Poll::Pending);
    }

    #[test]
    fn zero_capacity_means_one() {
        let mut queue = InboundQueue::new(0);
        assert_eq!(queue.push('a'), Ok(()));
        assert_eq!(queue.push('b'), Err(Rejected::Full('b')));
    }

    #[test]
    fn push_wakes_the_waiting_consumer() {
        let (counter, waker) = counting_context();
        let mut cx = Context::from_waker(&waker);
        let mut queue = InboundQueue::new(4);

        assert_eq!(queue.poll_pop(&mut cx), Poll::Pending);
        assert_eq!(queue.poll_pop(&mut cx), Poll::Pending);
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);

        queue.push("x").expect("room");
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        queue.push("y").expect("room");
        assert_eq!(
            counter.0.load(Ordering::SeqCst),
            1,
            "woken once per registration"
        );
    }

    #[test]
    fn close_returns_leftovers_wakes_and_refuses() {
        let (counter, waker) = counting_context();
        let mut queue = InboundQueue::new(4);
        queue.push(7).expect("room");
        queue.push(8).expect("room");

        let mut cx = Context::from_waker(&waker);
        assert_eq!(queue.poll_pop(&mut cx), Poll::Ready(Some(7)));
        assert_eq!(queue.poll_pop(&mut cx), Poll::Ready(Some(8)));
        assert_eq!(queue.poll_pop(&mut cx), Poll::Pending);
        queue.push(9).expect("room");
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);

        assert_eq!(queue.close(), vec![9]);
        assert_eq!(queue.push(10), Err(Rejected::Closed(10)));
        assert_eq!(queue.poll_pop(&mut cx), Poll::Ready(None));
    }
}
