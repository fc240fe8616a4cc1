//! Per-topic gossip counters, readable from JS (`node.stats()`) and the relay
//! (`GET /api/stats`).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// Counters for one topic since the node started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicStats {
    /// Messages this node published (a chunked payload counts once).
    pub published: u64,
    /// Messages delivered to the application (after validation; a chunked payload once).
    pub delivered: u64,
    /// Messages rejected: by the validator, malformed, forged or incomplete chunk sets, from
    /// banned authors.
    pub rejected: u64,
    /// Messages the validator ignored.
    pub ignored: u64,
    /// Messages dropped by flood control.
    pub rate_limited: u64,
    /// Messages shed under load: outbound publishes pushed out by higher-priority ones or
    /// refused by full gossipsub queues, inbound messages with no room to validate or reassemble.
    pub shed: u64,
    /// Validations that timed out (counted as ignored too).
    pub validation_timeouts: u64,
}

/// A snapshot of the node's gossip state.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GossipStats {
    /// Counters per topic.
    pub topics: BTreeMap<String, TopicStats>,
    /// Messages waiting in the outbound queue.
    pub queued_messages: usize,
    /// Bytes waiting in the outbound queue.
    pub queued_bytes: usize,
    /// The pacer's current rate, bytes per second.
    pub publish_rate_bytes_per_sec: f64,
    /// Messages awaiting the application's validator.
    pub pending_validations: usize,
    /// Bytes held for incomplete chunk sets.
    pub reassembly_bytes: u64,
    /// Authors tracked by flood control.
    pub flood_tracked_peers: usize,
    /// Peers banned now.
    pub banned_peers: usize,
}

/// The key under which topics beyond the bound are counted together.
pub const OTHER_TOPICS: &str = "(other)";

/// Per-topic counters, at most `max_topics` entries plus [`OTHER_TOPICS`].
#[derive(Debug)]
pub struct StatsBook {
    topics: HashMap<String, TopicStats>,
    max_topics: usize,
}

impl StatsBook {
    /// An empty book holding at most `max_topics` named topics.
    pub fn new(max_topics: usize) -> Self {
        Self {
            topics: HashMap::new(),
            max_topics,
        }
    }

    /// The counters of `topic`, created if there is room, else the shared [`OTHER_TOPICS`] ones.
    pub fn topic(&mut self, topic: &str) -> &mut TopicStats {
        let key = if self.topics.contains_key(topic) || self.topics.len() < self.max_topics {
            topic
        } else {
            OTHER_TOPICS
        };
        self.topics.entry(key.to_owned()).or_default()
    }

    /// Forget a topic's counters (when the node no longer carries it).
    pub fn forget(&mut self, topic: &str) {
        self.topics.remove(topic);
    }

    /// The counters, sorted by topic.
    pub fn snapshot(&self) -> BTreeMap<String, TopicStats> {
        self.topics.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_beyond_the_bound_share_one_entry() {
        let mut book = StatsBook::new(2);
        book.topic("a").published += 1;
        book.topic("b").published += 1;
        book.topic("c").published += 1;
        book.topic("d").published += 1;
        book.topic("a").published += 1;
        let s = book.snapshot();
        assert_eq!(s.len(), 3);
        assert_eq!(s["a"].published, 2);
        assert_eq!(s[OTHER_TOPICS].published, 2);
        book.forget("a");
        assert!(!book.snapshot().contains_key("a"));
    }
}
