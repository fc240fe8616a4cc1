//! Outbound gossip: `publish` checks its input, splits a large payload into chunks and queues
//! it (bounded, by priority); the queue drains into gossipsub at the pacer's rate. The caller's
//! reply is sent when the last chunk is handed to gossipsub, so a caller that awaits `publish`
//! goes at the pace the links take instead of overflowing gossipsub's per-peer queues.

use libp2p::gossipsub::{self, IdentTopic};
use web_time::{Duration, Instant};

use super::EventLoop;
use crate::{
    command::Reply,
    gossip::{
        chunking,
        outbound::{Priority, Queued, Refused},
        stats::GossipStats,
    },
    validate, CoreError, ErrorCode,
};

/// What the loop attaches to a queued publish.
#[derive(Debug)]
pub(crate) struct PublishTag {
    pub(super) reply: Reply<String>,
    /// The ID of the first gossip message sent (the publish's ID).
    first_id: Option<String>,
}

impl EventLoop {
    pub(super) fn enqueue_publish(
        &mut self,
        topic: String,
        data: Vec<u8>,
        priority: Priority,
        reply: Reply<String>,
    ) {
        let frames = match self.prepare_publish(&topic, &data) {
            Ok(frames) => frames,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let tag = PublishTag {
            reply,
            first_id: None,
        };
        match self
            .outbound
            .push(Queued::new(topic, frames, priority, tag))
        {
            Ok(shed) => {
                for victim in shed {
                    self.stats.topic(&victim.topic).shed += 1;
                    let _ = victim.tag.reply.send(Err(CoreError::new(
                        ErrorCode::Backpressure,
                        "shed for higher-priority publishes",
                    )));
                }
            }
            Err(Refused::TopicFull(item)) => {
                let _ = item.tag.reply.send(Err(CoreError::new(
                    ErrorCode::Backpressure,
                    format!(
                        "{} publishes already queued on {:?} (gossip.publishQueuePerTopic)",
                        self.config.gossip.publish_queue_per_topic, item.topic
                    ),
                )));
            }
            Err(Refused::BytesFull(item)) => {
                let _ = item.tag.reply.send(Err(CoreError::new(
                    ErrorCode::Backpressure,
                    format!(
                        "{} bytes already queued (gossip.publishQueueBytes)",
                        self.outbound.bytes()
                    ),
                )));
            }
        }
    }

    /// Check a publish and cut it into gossip messages.
    fn prepare_publish(&self, topic: &str, data: &[u8]) -> Result<Vec<Vec<u8>>, CoreError> {
        validate::topic(topic)?;
        let g = &self.config.gossip;
        validate::payload(data.len(), g.chunks.max_payload_bytes)?;
        if !self.topic_has_peers(&IdentTopic::new(topic).hash()) {
            return Err(CoreError::new(
                ErrorCode::NoPeers,
                format!("no connected peer subscribes to {topic:?}"),
            ));
        }
        chunking::encode(data, g.max_message_bytes, g.chunks.max_payload_bytes)
            .map_err(|e| CoreError::new(ErrorCode::PayloadTooLarge, e.to_string()))
    }

    /// Hand queued messages to gossipsub while the pacer allows; returns how long to wait
    /// before the next message may go, if any are left.
    pub(super) fn drain_outbound(&mut self) -> Option<Duration> {
        loop {
            let item = self.outbound.front_mut()?;
            let Some(size) = item.frames.front().map(Vec::len) else {
                self.finish_publish(Ok(()));
                continue;
            };
            if let Err(wait) = self.pacer.take(size, Instant::now()) {
                return Some(wait);
            }
            let frame = item.frames.pop_front().unwrap_or_default();
            item.started = true;
            let topic = IdentTopic::new(item.topic.as_str());
            match self.swarm.behaviour_mut().gossipsub.publish(topic, frame) {
                Ok(id) => {
                    // (Field by field: `item` still borrows the queue.)
                    self.swarm.behaviour_mut().gossip_wake.request();
                    item.tag.first_id.get_or_insert_with(|| id.to_string());
                    if item.frames.is_empty() {
                        self.finish_publish(Ok(()));
                    }
                }
                Err(e) => {
                    if matches!(e, gossipsub::PublishError::AllQueuesFull(_)) {
                        self.pacer.on_loss();
                    }
                    self.finish_publish(Err(publish_error(e)));
                }
            }
        }
    }

    /// Remove the front publish and answer its caller.
    fn finish_publish(&mut self, result: Result<(), CoreError>) {
        let Some(item) = self.outbound.pop_front() else {
            return;
        };
        let stats = self.stats.topic(&item.topic);
        let reply = match result {
            Ok(()) => {
                stats.published += 1;
                Ok(item.tag.first_id.unwrap_or_default())
            }
            Err(e) => {
                if e.code == ErrorCode::Backpressure {
                    stats.shed += 1;
                }
                Err(e)
            }
        };
        let _ = item.tag.reply.send(reply);
    }

    pub(super) fn gossip_stats(&self) -> GossipStats {
        let now = Instant::now();
        GossipStats {
            topics: self.stats.snapshot(),
            queued_messages: self.outbound.len(),
            queued_bytes: self.outbound.bytes(),
            publish_rate_bytes_per_sec: self.pacer.rate(),
            pending_validations: self.validations.len(),
            reassembly_bytes: self.reassembler.pending_bytes(),
            flood_tracked_peers: self.flood.tracked_peers(),
            banned_peers: self.reputation.bans(now).count(),
        }
    }
}

fn publish_error(e: gossipsub::PublishError) -> CoreError {
    match e {
        gossipsub::PublishError::NoPeersSubscribedToTopic => CoreError::new(
            ErrorCode::NoPeers,
            "no connected peer subscribes to the topic",
        ),
        gossipsub::PublishError::MessageTooLarge => {
            CoreError::new(ErrorCode::PayloadTooLarge, "message too large once encoded")
        }
        gossipsub::PublishError::AllQueuesFull(n) => CoreError::new(
            ErrorCode::Backpressure,
            format!("the send queues of all {n} peers are full"),
        ),
        other => CoreError::new(ErrorCode::PublishFailed, other.to_string()),
    }
}
