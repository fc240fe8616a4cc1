//! Wakes every connection so gossipsub sends what it has queued.
//!
//! libp2p-gossipsub 0.50 queues each peer's outgoing messages in one queue that its connection
//! handlers pull from. A handler with no outbound stream yet only asks for one when it is
//! polled, and a message entering the queue does not wake it: only a handler that already has a
//! stream is woken. So the first message on a quiet connection waits until something else wakes
//! that connection. Found on a fresh browser-to-browser link whose relayed twin had carried
//! everything until then: a `SUBSCRIBE` waited for the next ping, about 14 s.
//!
//! A notification to a connection's handler wakes the whole connection, every protocol's handler
//! included. [`GossipWake::request`] makes the behaviour notify each connection once, after the
//! node's own subscribes, unsubscribes and publishes. Rounds are at least [`MIN_ROUND_GAP`]
//! apart; one asked for sooner starts when the gap ends.
//!
//! Not on a timer: a handler that has sent once keeps its stream and is woken by the queue from
//! then on, and what gossipsub queues by itself (grafts, forwards, gossip) is about topics the
//! node announced first, through a woken subscribe (or at connection time, when the handler is
//! polled anyway). A wake every tick cost every connection a poll a second: the 200-node DHT
//! simulation (thousands of connections in one process) ran about twice as long (520 s against
//! 240 s in CI).

use std::{
    collections::{HashMap, VecDeque},
    convert::Infallible,
    task::{Context, Poll, Waker},
};

use futures::FutureExt as _;
use libp2p::{
    core::{transport::PortUse, upgrade::DeniedUpgrade, Endpoint},
    swarm::{
        handler::ConnectionEvent, ConnectionClosed, ConnectionDenied, ConnectionHandler,
        ConnectionHandlerEvent, ConnectionId, FromSwarm, NetworkBehaviour, NotifyHandler,
        SubstreamProtocol, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
    },
    Multiaddr, PeerId,
};
use web_time::{Duration, Instant};

/// The shortest time between two rounds of notifications (a busy publisher asks all the time).
pub const MIN_ROUND_GAP: Duration = Duration::from_millis(100);

/// Notifies every established connection on request. Its map holds the established connections
/// (bounded by the connection limits); a round's queue holds at most one entry per connection.
#[derive(Default)]
pub struct GossipWake {
    connections: HashMap<ConnectionId, PeerId>,
    requested: bool,
    round: VecDeque<(ConnectionId, PeerId)>,
    last_round: Option<Instant>,
    /// Ends the gap when a round was asked for too soon after the last.
    gap: Option<futures_timer::Delay>,
    waker: Option<Waker>,
}

impl std::fmt::Debug for GossipWake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GossipWake")
            .field("connections", &self.connections.len())
            .field("requested", &self.requested)
            .field("round", &self.round.len())
            .finish_non_exhaustive()
    }
}

impl GossipWake {
    /// Ask for a round: every connection is woken once, soon.
    pub fn request(&mut self) {
        self.requested = true;
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// Start a round if one was asked for and the last one is long enough ago. Otherwise, if one
    /// was asked for, how long until it may start.
    fn maybe_start_round(&mut self, now: Instant) -> Option<Duration> {
        if !self.requested || !self.round.is_empty() {
            return None;
        }
        let since = self.last_round.map(|at| now.duration_since(at));
        if let Some(since) = since.filter(|s| *s < MIN_ROUND_GAP) {
            return Some(MIN_ROUND_GAP - since);
        }
        self.requested = false;
        self.last_round = Some(now);
        self.round = self.connections.iter().map(|(c, p)| (*c, *p)).collect();
        None
    }
}

impl NetworkBehaviour for GossipWake {
    type ConnectionHandler = WakeHandler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        connection: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.connections.insert(connection, peer);
        Ok(WakeHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.connections.insert(connection, peer);
        Ok(WakeHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        if let FromSwarm::ConnectionClosed(ConnectionClosed { connection_id, .. }) = event {
            self.connections.remove(&connection_id);
            self.round.retain(|(c, _)| *c != connection_id);
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        // A round asked for within the gap starts when the gap's timer fires (a new timer if it
        // fired a hair early).
        while let Some(wait) = self.maybe_start_round(Instant::now()) {
            let gap = self
                .gap
                .get_or_insert_with(|| futures_timer::Delay::new(wait));
            if gap.poll_unpin(cx).is_pending() {
                break;
            }
            self.gap = None;
        }
        if let Some((connection, peer)) = self.round.pop_front() {
            return Poll::Ready(ToSwarm::NotifyHandler {
                peer_id: peer,
                handler: NotifyHandler::One(connection),
                event: Wake,
            });
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The notification: it carries nothing; arriving is its whole job.
#[derive(Debug, Clone, Copy)]
pub struct Wake;

/// A handler with no protocol: it only receives [`Wake`]s, whose delivery polls the connection.
#[derive(Debug)]
pub struct WakeHandler;

impl ConnectionHandler for WakeHandler {
    type FromBehaviour = Wake;
    type ToBehaviour = Infallible;
    type InboundProtocol = DeniedUpgrade;
    type OutboundProtocol = DeniedUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol, Self::InboundOpenInfo> {
        SubstreamProtocol::new(DeniedUpgrade, ())
    }

    fn connection_keep_alive(&self) -> bool {
        false
    }

    fn poll(
        &mut self,
        _: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Self::OutboundProtocol, (), Self::ToBehaviour>> {
        Poll::Pending
    }

    fn on_behaviour_event(&mut self, _: Wake) {}

    fn on_connection_event(
        &mut self,
        _: ConnectionEvent<Self::InboundProtocol, Self::OutboundProtocol>,
    ) {
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_covers_every_connection_once_and_rounds_are_spaced() {
        let mut wake = GossipWake::default();
        let peer = PeerId::random();
        for i in 0..3 {
            wake.connections
                .insert(ConnectionId::new_unchecked(i), peer);
        }
        let start = Instant::now();
        wake.request();
        wake.request();
        wake.maybe_start_round(start);
        assert_eq!(wake.round.len(), 3);
        wake.round.clear();
        // Asked again at once: waits for the gap.
        wake.request();
        wake.maybe_start_round(start + MIN_ROUND_GAP / 2);
        assert!(wake.round.is_empty());
        wake.maybe_start_round(start + MIN_ROUND_GAP);
        assert_eq!(wake.round.len(), 3);
        // Nothing asked: no round.
        wake.round.clear();
        wake.maybe_start_round(start + MIN_ROUND_GAP * 3);
        assert!(wake.round.is_empty());
    }
}
