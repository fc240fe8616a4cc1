//! meshwork's own gossip topics (under `validate::RESERVED_TOPIC_PREFIX`, closed to
//! applications): joined at start, their messages checked here rather than by an application
//! validator. Today that is the services topic (`services::TOPIC`).

use libp2p::{
    gossipsub::{IdentTopic, MessageId, TopicHash},
    PeerId,
};

use super::EventLoop;
use crate::{gossip::validator::Acceptance, services, validate};

impl EventLoop {
    /// Subscribe to the system topics this node's configuration takes part in.
    pub(super) fn join_system_topics(&mut self) {
        if !self.config.services.gossip {
            return;
        }
        let topic = IdentTopic::new(services::TOPIC);
        match self.swarm.behaviour_mut().gossipsub.subscribe(&topic) {
            Ok(_) => {
                self.score_topic(&topic);
                self.wake_gossip();
            }
            Err(e) => tracing::warn!("cannot join {}: {e}", services::TOPIC),
        }
    }

    /// Whether `topic` is one of meshwork's own.
    pub(super) fn is_system_topic(&self, topic: &TopicHash) -> bool {
        topic.as_str().starts_with(validate::RESERVED_TOPIC_PREFIX)
    }

    /// A message on a system topic. They are single frames: a chunk is refused.
    pub(super) async fn on_system_message(
        &mut self,
        topic: TopicHash,
        author: Option<PeerId>,
        propagation_source: PeerId,
        message_id: MessageId,
        data: &[u8],
        chunked: bool,
    ) {
        if topic.as_str() == services::TOPIC && !chunked {
            self.on_service_message(author, propagation_source, message_id, data)
                .await;
            return;
        }
        let direct = author == Some(propagation_source);
        tracing::debug!(%topic, %propagation_source, "unexpected message on a system topic");
        self.report(&message_id, &propagation_source, Acceptance::Reject, direct);
        self.stats.topic(topic.as_str()).rejected += 1;
    }
}
