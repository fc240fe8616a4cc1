//! meshwork's own gossip topics (under `validate::RESERVED_TOPIC_PREFIX`, closed to
//! applications): joined at start, their messages checked here rather than by an application
//! validator: the services topic (`services::TOPIC`) and the peer-exchange topic
//! (`discovery::exchange::TOPIC`).

use libp2p::{
    gossipsub::{IdentTopic, MessageId, TopicHash},
    PeerId,
};

use super::EventLoop;
use crate::{
    discovery::exchange,
    gossip::{reputation::Outcome, validator::Acceptance},
    services, validate, Event,
};

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
        let verdict = match topic.as_str() {
            _ if chunked => None,
            services::TOPIC => Some(self.take_service_record(author, data)),
            exchange::TOPIC => Some(self.take_peer_record(author, data)),
            _ => None,
        };
        if let Some(verdict) = verdict {
            self.apply_verdict(&topic, author, propagation_source, message_id, verdict)
                .await;
            return;
        }
        let direct = author == Some(propagation_source);
        tracing::debug!(%topic, %propagation_source, "unexpected message on a system topic");
        self.report(&message_id, &propagation_source, Acceptance::Reject, direct);
        self.stats.topic(topic.as_str()).rejected += 1;
    }

    /// Tell gossipsub what became of a system message (forward only what was taken), count it,
    /// blame the author of a refused one, and report what it brought.
    async fn apply_verdict(
        &mut self,
        topic: &TopicHash,
        author: Option<PeerId>,
        propagation_source: PeerId,
        message_id: MessageId,
        verdict: Verdict,
    ) {
        let direct = author == Some(propagation_source);
        match verdict {
            Verdict::Refused(why) => {
                tracing::debug!(%topic, %propagation_source, "system message refused: {why}");
                self.report(&message_id, &propagation_source, Acceptance::Reject, direct);
                self.blame(author, Outcome::Rejected, web_time::Instant::now())
                    .await;
                self.stats.topic(topic.as_str()).rejected += 1;
            }
            Verdict::Stale => {
                self.report(&message_id, &propagation_source, Acceptance::Ignore, direct)
            }
            Verdict::Taken(event) => {
                self.report(&message_id, &propagation_source, Acceptance::Accept, direct);
                self.stats.topic(topic.as_str()).delivered += 1;
                if let Some(event) = event {
                    self.emit(*event).await;
                }
            }
        }
    }
}

/// What a system topic's handler made of a message.
pub(super) enum Verdict {
    /// Forged, malformed or out of bounds: not forwarded, and its author is blamed.
    Refused(String),
    /// Nothing new (already heard, or too soon): not forwarded.
    Stale,
    /// New: forwarded, and the event (if any) reported.
    Taken(Option<Box<Event>>),
}
