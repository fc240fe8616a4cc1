//! meshwork's own gossip topics (under `validate::RESERVED_TOPIC_PREFIX`, closed to
//! applications): joined at start, their messages checked here rather than by an application
//! validator: the services topic (`services::TOPIC`) and the peer-exchange topic
//! (`discovery::exchange::TOPIC`).

use libp2p::{
    gossipsub::{IdentTopic, MessageId, TopicHash},
    PeerId,
};

use super::EventLoop;
use crate::{discovery::exchange, gossip::validator::Acceptance, services, validate};

impl EventLoop {
    /// Subscribe to the system topics this node's configuration takes part in.
    pub(super) fn join_system_topics(&mut self) {
        let joined = [
            (services::TOPIC, self.config.services.gossip),
            (exchange::TOPIC, self.config.peer_exchange.enabled),
        ];
        for (name, wanted) in joined {
            if !wanted {
                continue;
            }
            let topic = IdentTopic::new(name);
            match self.swarm.behaviour_mut().gossipsub.subscribe(&topic) {
                Ok(_) => {
                    self.score_topic(&topic);
                    self.wake_gossip();
                }
                Err(e) => tracing::warn!("cannot join {name}: {e}"),
            }
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
        if !chunked && topic.as_str() == services::TOPIC {
            self.on_service_message(author, propagation_source, message_id, data)
                .await;
            return;
        }
        if !chunked && topic.as_str() == exchange::TOPIC {
            self.on_exchange_message(author, propagation_source, message_id, data)
                .await;
            return;
        }
        let direct = author == Some(propagation_source);
        tracing::debug!(%topic, %propagation_source, "unexpected message on a system topic");
        self.report(&message_id, &propagation_source, Acceptance::Reject, direct);
        self.stats.topic(topic.as_str()).rejected += 1;
    }
}
