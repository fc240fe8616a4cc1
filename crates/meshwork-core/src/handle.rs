//! The caller's side of the event loop: a cheap, cloneable handle that sends [`Command`]s and
//! awaits their replies.

use futures::{
    channel::{mpsc, oneshot},
    SinkExt,
};
use libp2p::{Multiaddr, PeerId};

use crate::{command::Reply, Command, CoreError, Event, PeerInfo};

/// Receives the loop's events.
pub type EventReceiver = mpsc::Receiver<Event>;
/// The loop's end of the event channel.
pub type EventSender = mpsc::Sender<Event>;
/// The loop's end of the command channel.
pub type CommandReceiver = mpsc::Receiver<Command>;

/// Make the two bounded channels between callers and a loop.
pub fn channel(
    command_capacity: usize,
    event_capacity: usize,
    local_peer_id: PeerId,
) -> (NodeHandle, CommandReceiver, EventSender, EventReceiver) {
    let (ctx, crx) = mpsc::channel(command_capacity);
    let (etx, erx) = mpsc::channel(event_capacity);
    (
        NodeHandle {
            commands: ctx,
            local_peer_id,
        },
        crx,
        etx,
        erx,
    )
}

/// Talks to a running [`crate::event_loop::EventLoop`]. Every method fails with
/// [`crate::ErrorCode::NodeStopped`] once the loop has ended.
#[derive(Debug, Clone)]
pub struct NodeHandle {
    commands: mpsc::Sender<Command>,
    local_peer_id: PeerId,
}

impl NodeHandle {
    /// This node's peer ID.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// Whether the loop is gone.
    pub fn is_stopped(&self) -> bool {
        self.commands.is_closed()
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, CoreError> {
        let (tx, rx) = oneshot::channel();
        // Waits for room in the bounded queue: callers feel backpressure, memory stays bounded.
        self.commands
            .clone()
            .send(make(tx))
            .await
            .map_err(|_| CoreError::stopped())?;
        rx.await.map_err(|_| CoreError::stopped())?
    }

    /// Dial an address; resolves with the remote peer ID once connected.
    pub async fn dial(&self, address: Multiaddr) -> Result<PeerId, CoreError> {
        self.call(|reply| Command::Dial { address, reply }).await
    }

    /// Listen on an address; a relay's `/p2p-circuit` address makes a reservation.
    pub async fn listen(&self, address: Multiaddr) -> Result<(), CoreError> {
        self.call(|reply| Command::Listen { address, reply }).await
    }

    /// Subscribe; `true` if newly subscribed.
    pub async fn subscribe(&self, topic: impl Into<String>) -> Result<bool, CoreError> {
        let topic = topic.into();
        self.call(|reply| Command::Subscribe { topic, reply }).await
    }

    /// Unsubscribe; `true` if it was subscribed.
    pub async fn unsubscribe(&self, topic: impl Into<String>) -> Result<bool, CoreError> {
        let topic = topic.into();
        self.call(|reply| Command::Unsubscribe { topic, reply })
            .await
    }

    /// Publish; resolves with the message ID once handed to gossipsub.
    pub async fn publish(
        &self,
        topic: impl Into<String>,
        data: Vec<u8>,
    ) -> Result<String, CoreError> {
        let topic = topic.into();
        self.call(|reply| Command::Publish { topic, data, reply })
            .await
    }

    /// The connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, CoreError> {
        self.call(|reply| Command::Peers { reply }).await
    }

    /// This node's listen addresses.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, CoreError> {
        self.call(|reply| Command::ListenAddrs { reply }).await
    }

    /// Stop the node; resolves once every connection is dropped.
    pub async fn shutdown(&self) -> Result<(), CoreError> {
        self.call(|reply| Command::Shutdown { reply }).await
    }
}
