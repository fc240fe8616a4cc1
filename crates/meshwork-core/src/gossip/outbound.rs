//! The outbound publish queue: bounded per topic and in bytes, three priorities. When it is
//! full, a publish of higher priority pushes out the newest queued one of the lowest lower
//! priority (it is shed); otherwise the new publish is refused (`BACKPRESSURE`).

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// Publish priority: high goes first and is shed last.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Shed first.
    Low,
    /// The default.
    #[default]
    Normal,
    /// Sent first, shed last.
    High,
}

/// One publish waiting to be handed to gossipsub: its frames (one, or the chunks of a large
/// payload) and whatever the caller attached (`T`, the reply channel).
#[derive(Debug)]
pub struct Queued<T> {
    /// The topic.
    pub topic: String,
    /// Gossip messages still to send, in order.
    pub frames: VecDeque<Vec<u8>>,
    /// The priority.
    pub priority: Priority,
    /// Set once the first frame is sent; a partly sent publish is never shed.
    pub started: bool,
    /// The caller's attachment.
    pub tag: T,
    bytes: usize,
}

impl<T> Queued<T> {
    /// A publish of `frames` on `topic`.
    pub fn new(topic: String, frames: Vec<Vec<u8>>, priority: Priority, tag: T) -> Self {
        let bytes = frames.iter().map(Vec::len).sum();
        Self {
            topic,
            frames: frames.into(),
            priority,
            started: false,
            tag,
            bytes,
        }
    }
}

/// Why a publish was not queued.
#[derive(Debug)]
pub enum Refused<T> {
    /// The topic's queue is full of publishes of the same or higher priority.
    TopicFull(Queued<T>),
    /// The byte budget is spent on publishes of the same or higher priority.
    BytesFull(Queued<T>),
}

/// The queue. Bounds: `max_per_topic` publishes per topic, `max_bytes` in all.
#[derive(Debug)]
pub struct OutboundQueue<T> {
    /// Index = priority (low, normal, high).
    lanes: [VecDeque<Queued<T>>; 3],
    per_topic: HashMap<String, usize>,
    bytes: usize,
    max_per_topic: usize,
    max_bytes: usize,
}

fn lane(p: Priority) -> usize {
    match p {
        Priority::Low => 0,
        Priority::Normal => 1,
        Priority::High => 2,
    }
}

impl<T> OutboundQueue<T> {
    /// An empty queue.
    pub fn new(max_per_topic: usize, max_bytes: usize) -> Self {
        Self {
            lanes: Default::default(),
            per_topic: HashMap::new(),
            bytes: 0,
            max_per_topic,
            max_bytes,
        }
    }

    /// Publishes waiting.
    pub fn len(&self) -> usize {
        self.lanes.iter().map(VecDeque::len).sum()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.lanes.iter().all(VecDeque::is_empty)
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Queue `item`. Returns the publishes shed to make room (possibly none), or the refusal.
    pub fn push(&mut self, item: Queued<T>) -> Result<Vec<Queued<T>>, Refused<T>> {
        let mut shed = Vec::new();
        while self.per_topic.get(&item.topic).copied().unwrap_or(0) >= self.max_per_topic {
            match self.take_sheddable(item.priority, Some(&item.topic)) {
                Some(victim) => shed.push(victim),
                None => {
                    self.restore(shed);
                    return Err(Refused::TopicFull(item));
                }
            }
        }
        while self.bytes + item.bytes > self.max_bytes {
            match self.take_sheddable(item.priority, None) {
                Some(victim) => shed.push(victim),
                None => {
                    self.restore(shed);
                    return Err(Refused::BytesFull(item));
                }
            }
        }
        self.insert(item);
        Ok(shed)
    }

    /// Put back what a failed push took out (front of their lanes' tails, order kept).
    fn restore(&mut self, shed: Vec<Queued<T>>) {
        for item in shed.into_iter().rev() {
            self.insert(item);
        }
    }

    fn insert(&mut self, item: Queued<T>) {
        self.bytes += item.bytes;
        *self.per_topic.entry(item.topic.clone()).or_default() += 1;
        self.lanes[lane(item.priority)].push_back(item);
    }

    /// The newest unstarted publish of the lowest priority below `than` (on `topic`, if given).
    fn take_sheddable(&mut self, than: Priority, topic: Option<&str>) -> Option<Queued<T>> {
        for l in 0..lane(than) {
            let position = self.lanes[l]
                .iter()
                .rposition(|q| !q.started && topic.is_none_or(|t| q.topic == t));
            if let Some(position) = position {
                let item = self.lanes[l].remove(position)?;
                self.forget(&item);
                return Some(item);
            }
        }
        None
    }

    fn forget(&mut self, item: &Queued<T>) {
        self.bytes -= item.bytes;
        if let Some(n) = self.per_topic.get_mut(&item.topic) {
            *n -= 1;
            if *n == 0 {
                self.per_topic.remove(&item.topic);
            }
        }
    }

    /// The publish to work on next: highest priority, oldest first.
    pub fn front_mut(&mut self) -> Option<&mut Queued<T>> {
        self.lanes.iter_mut().rev().find_map(|l| l.front_mut())
    }

    /// Remove the publish [`Self::front_mut`] returns.
    pub fn pop_front(&mut self) -> Option<Queued<T>> {
        let item = self.lanes.iter_mut().rev().find_map(|l| l.pop_front())?;
        self.forget(&item);
        Some(item)
    }

    /// Everything, for shutdown.
    pub fn drain(&mut self) -> Vec<Queued<T>> {
        self.per_topic.clear();
        self.bytes = 0;
        self.lanes.iter_mut().flat_map(|l| l.drain(..)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(topic: &str, bytes: usize, priority: Priority, tag: u32) -> Queued<u32> {
        Queued::new(topic.into(), vec![vec![0; bytes]], priority, tag)
    }

    #[test]
    fn high_first_then_oldest() {
        let mut queue = OutboundQueue::new(10, 1000);
        queue.push(q("t", 1, Priority::Low, 1)).unwrap();
        queue.push(q("t", 1, Priority::Normal, 2)).unwrap();
        queue.push(q("t", 1, Priority::High, 3)).unwrap();
        queue.push(q("t", 1, Priority::Normal, 4)).unwrap();
        let order: Vec<u32> = std::iter::from_fn(|| queue.pop_front().map(|i| i.tag)).collect();
        assert_eq!(order, vec![3, 2, 4, 1]);
        assert_eq!((queue.len(), queue.bytes()), (0, 0));
    }

    #[test]
    fn full_topic_sheds_lower_priority_or_refuses() {
        let mut queue = OutboundQueue::new(2, 1000);
        queue.push(q("t", 1, Priority::Low, 1)).unwrap();
        queue.push(q("t", 1, Priority::Normal, 2)).unwrap();
        // Same priority as the lowest queued normal: refused.
        assert!(matches!(
            queue.push(q("t", 1, Priority::Low, 3)),
            Err(Refused::TopicFull(_))
        ));
        // Higher: the newest low-priority one goes.
        let shed = queue.push(q("t", 1, Priority::High, 4)).unwrap();
        assert_eq!(shed.iter().map(|i| i.tag).collect::<Vec<_>>(), vec![1]);
        // Another topic is not affected by this topic's bound.
        queue.push(q("u", 1, Priority::Low, 5)).unwrap();
        assert_eq!(queue.len(), 3);
    }

    #[test]
    fn byte_budget_sheds_across_topics_and_never_a_started_publish() {
        let mut queue = OutboundQueue::new(10, 100);
        queue.push(q("a", 60, Priority::Low, 1)).unwrap();
        queue.front_mut().unwrap().started = true;
        assert!(matches!(
            queue.push(q("b", 60, Priority::High, 2)),
            Err(Refused::BytesFull(_))
        ));
        assert_eq!((queue.len(), queue.bytes()), (1, 60));
        queue.push(q("b", 30, Priority::Low, 3)).unwrap();
        let shed = queue.push(q("c", 20, Priority::Normal, 4)).unwrap();
        assert_eq!(shed.iter().map(|i| i.tag).collect::<Vec<_>>(), vec![3]);
        assert_eq!(queue.bytes(), 80);
    }
}
