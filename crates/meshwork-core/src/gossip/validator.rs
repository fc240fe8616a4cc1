//! The application's say on inbound messages: a [`MessageValidator`] per topic answers
//! [`Acceptance::Accept`], `Reject` or `Ignore`, possibly asynchronously, before a message is
//! delivered or forwarded.

use std::future::Future;

use futures::{future::BoxFuture, FutureExt};
use libp2p::PeerId;
use serde::{Deserialize, Serialize};

/// A validator's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Acceptance {
    /// Deliver and forward.
    Accept,
    /// Drop; the author's reputation falls (and, if the author sent it to us directly, its
    /// gossipsub score).
    Reject,
    /// Drop without blame.
    Ignore,
}

/// An inbound message as a validator sees it (a large payload arrives here reassembled).
#[derive(Debug, Clone)]
pub struct InboundMessage {
    /// The topic.
    pub topic: String,
    /// The signed author.
    pub author: Option<PeerId>,
    /// The peer that forwarded it to us.
    pub propagation_source: PeerId,
    /// The payload.
    pub data: Vec<u8>,
}

/// Decides about inbound messages on one topic. A validator that has not answered within
/// `gossip.validationTimeoutMs` counts as `Ignore`.
pub trait MessageValidator: Send + Sync + 'static {
    /// The verdict for `message`.
    fn validate(&self, message: &InboundMessage) -> BoxFuture<'static, Acceptance>;
}

impl<F, Fut> MessageValidator for F
where
    F: Fn(&InboundMessage) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Acceptance> + Send + 'static,
{
    fn validate(&self, message: &InboundMessage) -> BoxFuture<'static, Acceptance> {
        self(message).boxed()
    }
}
