//! Inbound gossip: every message gossipsub surfaces passes these checks before it is delivered
//! or forwarded (gossipsub runs with `validate_messages`, so it forwards only what we accept).
//!
//! 1. Banned authors are dropped.
//! 2. Chunk framing is parsed; malformed chunks are rejected.
//! 3. Flood control, per author (the signed source, not the forwarding peer: in a relay-centred
//!    network that is nearly always the relay) and in total.
//! 4. Plain messages go to the topic's validator (if any), with a deadline; chunks are accepted
//!    (forwarded) at once and reassembled on topics the application subscribed to; a complete,
//!    intact payload then goes to the validator.
//!
//! Blame: a rejection lowers the author's reputation. gossipsub is told `Reject` (which lowers
//! the sender's score) only when the author sent the message itself; a peer that merely
//! forwarded it (the relay) gets `Ignore`, because it cannot judge the application's rules.

use futures::{future::Either, FutureExt};
use futures_timer::Delay;
use libp2p::{
    gossipsub::{self, MessageAcceptance, MessageId, TopicHash},
    PeerId,
};
use web_time::{Duration, Instant};

use super::EventLoop;
use crate::{
    gossip::{
        chunking::{self, ChunkError, Parsed},
        flood::Verdict,
        reputation::Outcome,
        validator::{Acceptance, InboundMessage, MessageValidator},
    },
    validate, CoreError, ErrorCode, Event,
};

/// A message waiting for (or done with) validation.
pub(super) struct Pending {
    topic: TopicHash,
    author: Option<PeerId>,
    propagation_source: PeerId,
    /// The gossipsub message to report on; `None` for a reassembled payload (its chunks were
    /// already accepted).
    gossip_id: Option<MessageId>,
    data: Vec<u8>,
}

/// A finished validation: the message, the verdict, and whether it timed out.
pub(super) struct Validated {
    pending: Pending,
    acceptance: Acceptance,
    timed_out: bool,
}

impl EventLoop {
    pub(super) async fn on_gossip_message(
        &mut self,
        propagation_source: PeerId,
        message_id: MessageId,
        message: gossipsub::Message,
    ) {
        let now = Instant::now();
        let author = message.source;
        let topic = message.topic;
        let direct = author == Some(propagation_source);
        if author.is_some_and(|a| self.reputation.is_banned(&a, now)) {
            self.report(&message_id, &propagation_source, Acceptance::Reject, direct);
            self.stats.topic(topic.as_str()).rejected += 1;
            return;
        }
        let (chunk, counts_as_message) = match chunking::parse(&message.data) {
            Ok(Parsed::Plain) => (None, true),
            Ok(Parsed::Chunk(header, _)) => (Some(header), header.index == 0),
            Err(e) => {
                tracing::debug!(%propagation_source, "malformed chunk: {e}");
                self.report(&message_id, &propagation_source, Acceptance::Reject, direct);
                self.blame(author, Outcome::Rejected, now).await;
                self.stats.topic(topic.as_str()).rejected += 1;
                return;
            }
        };
        match self
            .flood
            .check(author.as_ref(), message.data.len(), counts_as_message)
        {
            Verdict::Allowed => {}
            Verdict::PeerLimited => {
                self.report(&message_id, &propagation_source, Acceptance::Reject, direct);
                self.blame(author, Outcome::RateLimited, now).await;
                self.stats.topic(topic.as_str()).rate_limited += 1;
                return;
            }
            Verdict::GlobalLimited => {
                self.report(&message_id, &propagation_source, Acceptance::Ignore, direct);
                self.stats.topic(topic.as_str()).rate_limited += 1;
                return;
            }
        }
        if self.is_system_topic(&topic) {
            let chunked = chunk.is_some();
            self.on_system_message(
                topic,
                author,
                propagation_source,
                message_id,
                &message.data,
                chunked,
            )
            .await;
            return;
        }
        let Some(header) = chunk else {
            let pending = Pending {
                topic,
                author,
                propagation_source,
                gossip_id: Some(message_id),
                data: message.data,
            };
            self.validate(pending).await;
            return;
        };
        // A chunk: forward it now; only a node that wants the topic reassembles it.
        self.report(&message_id, &propagation_source, Acceptance::Accept, direct);
        if !self.own_topics.contains(&topic) {
            return;
        }
        let data = message
            .data
            .get(chunking::HEADER_BYTES..)
            .unwrap_or_default();
        let key = author.unwrap_or(propagation_source);
        let max = self.config.gossip.max_message_bytes;
        match self.reassembler.insert(key, header, data, max, now) {
            Ok(None) => {}
            Ok(Some(payload)) => {
                let pending = Pending {
                    topic,
                    author,
                    propagation_source,
                    gossip_id: None,
                    data: payload,
                };
                self.validate(pending).await;
            }
            Err(ChunkError::Busy { .. } | ChunkError::TooLarge { .. }) => {
                tracing::debug!(%key, "no room to reassemble a chunk set; dropped");
                self.stats.topic(topic.as_str()).shed += 1;
            }
            Err(e) => {
                tracing::debug!(%key, "chunk set discarded: {e}");
                self.blame(author, Outcome::Rejected, now).await;
                self.stats.topic(topic.as_str()).rejected += 1;
            }
        }
    }

    /// Hand `pending` to its topic's validator, or accept it if there is none.
    async fn validate(&mut self, mut pending: Pending) {
        let Some(validator) = self.validators.get(&pending.topic).cloned() else {
            self.conclude(pending, Acceptance::Accept).await;
            return;
        };
        if self.validations.len() >= self.config.gossip.max_pending_validations {
            self.stats.topic(pending.topic.as_str()).shed += 1;
            self.conclude(pending, Acceptance::Ignore).await;
            return;
        }
        // The payload (up to 16 MiB) is lent to the validator, not copied.
        let message = InboundMessage {
            topic: pending.topic.as_str().to_owned(),
            author: pending.author,
            propagation_source: pending.propagation_source,
            data: std::mem::take(&mut pending.data),
        };
        let verdict = validator.validate(&message);
        pending.data = message.data;
        let deadline = Delay::new(Duration::from_millis(
            self.config.gossip.validation_timeout_ms,
        ));
        self.validations.push(
            async move {
                match futures::future::select(verdict, deadline).await {
                    Either::Left((acceptance, _)) => Validated {
                        pending,
                        acceptance,
                        timed_out: false,
                    },
                    Either::Right(_) => Validated {
                        pending,
                        acceptance: Acceptance::Ignore,
                        timed_out: true,
                    },
                }
            }
            .boxed(),
        );
    }

    pub(super) async fn on_validated(&mut self, done: Validated) {
        if done.timed_out {
            self.stats
                .topic(done.pending.topic.as_str())
                .validation_timeouts += 1;
        }
        self.conclude(done.pending, done.acceptance).await;
    }

    /// Act on a verdict: report it to gossipsub, count it, move the author's reputation, and
    /// deliver accepted messages.
    async fn conclude(&mut self, pending: Pending, acceptance: Acceptance) {
        let now = Instant::now();
        let direct = pending.author == Some(pending.propagation_source);
        if let Some(id) = &pending.gossip_id {
            self.report(id, &pending.propagation_source, acceptance, direct);
        }
        let stats = self.stats.topic(pending.topic.as_str());
        match acceptance {
            Acceptance::Accept => stats.delivered += 1,
            Acceptance::Reject => stats.rejected += 1,
            Acceptance::Ignore => stats.ignored += 1,
        }
        match acceptance {
            Acceptance::Accept => {
                self.blame(pending.author, Outcome::Valid, now).await;
                let id = pending
                    .gossip_id
                    .map(|id| id.to_string())
                    .unwrap_or_default();
                self.emit(Event::Message {
                    topic: pending.topic.into_string(),
                    source: pending.author,
                    propagation_source: pending.propagation_source,
                    id,
                    data: pending.data,
                })
                .await;
            }
            Acceptance::Reject => self.blame(pending.author, Outcome::Rejected, now).await,
            Acceptance::Ignore => {}
        }
    }

    /// Tell gossipsub what to do with a message (see the module doc for who is blamed).
    pub(super) fn report(
        &mut self,
        id: &MessageId,
        source: &PeerId,
        acceptance: Acceptance,
        direct: bool,
    ) {
        let acceptance = match acceptance {
            Acceptance::Accept => MessageAcceptance::Accept,
            Acceptance::Reject if direct => MessageAcceptance::Reject,
            Acceptance::Reject | Acceptance::Ignore => MessageAcceptance::Ignore,
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(id, source, acceptance);
    }

    /// Move `author`'s reputation; ban (block and disconnect) it if it crossed the threshold.
    pub(super) async fn blame(&mut self, author: Option<PeerId>, outcome: Outcome, now: Instant) {
        let Some(author) = author else { return };
        if author == *self.swarm.local_peer_id() {
            return;
        }
        let ban = self.reputation.record(author, outcome, now);
        let score = self.reputation.score(&author, now);
        self.swarm
            .behaviour_mut()
            .gossipsub
            .set_application_score(&author, score);
        if let Some(ban) = ban {
            let secs = ban.until.saturating_duration_since(now).as_secs();
            tracing::info!(peer = %author, secs, "peer banned: reputation below threshold");
            self.blocked.insert(author);
            let transition = self.states.on_closing(author, "banned");
            self.queue_transitions(transition);
            self.swarm.behaviour_mut().blocked.block_peer(author);
            self.emit(Event::PeerBanned {
                peer_id: author,
                secs,
            })
            .await;
        }
    }

    /// Install or remove a topic's validator.
    pub(super) fn set_validator(
        &mut self,
        topic: &str,
        validator: Option<std::sync::Arc<dyn MessageValidator>>,
    ) -> Result<(), CoreError> {
        validate::topic(topic)?;
        let hash = gossipsub::IdentTopic::new(topic).hash();
        match validator {
            None => {
                self.validators.remove(&hash);
            }
            Some(v) => {
                if !self.validators.contains_key(&hash)
                    && self.validators.len() >= self.config.gossip.max_topics
                {
                    return Err(CoreError::new(
                        ErrorCode::LimitReached,
                        format!(
                            "already {} validators (gossip.maxTopics)",
                            self.validators.len()
                        ),
                    ));
                }
                self.validators.insert(hash, v);
            }
        }
        Ok(())
    }
}
