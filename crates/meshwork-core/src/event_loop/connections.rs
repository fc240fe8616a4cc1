//! The connection manager applied to the swarm: kept peers (bootstrap, relays, `addPeer`) and
//! their redials, relay reservations, pruning above `connections.max`, connection state events
//! and the per-peer figures of `listPeers`.

use crate::clock::epoch_ms;
use std::collections::HashMap;

use libp2p::{
    core::transport::ListenerId,
    swarm::{
        dial_opts::{DialOpts, PeerCondition},
        ConnectionId,
    },
    Multiaddr, PeerId,
};
use web_time::{Duration, Instant, SystemTime};

use super::EventLoop;
use crate::{
    command::Reply,
    connmgr::{
        kept::{KeptPeer, Roles},
        prune::{self, Candidate},
        state::Transition,
    },
    direct_upgrade, CoreError, ErrorCode, Event, PeerInfo,
};

/// Callers waiting on one kept peer's first dial.
const MAX_WAITERS_PER_PEER: usize = 8;

/// Connection-manager state the loop keeps beside the policy objects.
#[derive(Default)]
pub(super) struct ManagerState {
    /// Redials of kept peers in flight, by connection (at most one per kept peer), with the
    /// addresses each tries.
    pub dials: HashMap<ConnectionId, (PeerId, Vec<Multiaddr>)>,
    /// `keep` callers waiting for the first dial, at most [`MAX_WAITERS_PER_PEER`] per kept peer.
    pub waiters: HashMap<PeerId, Vec<Reply<PeerId>>>,
    /// Our circuit listeners, one per relay we reserve on.
    pub reservations: HashMap<PeerId, ListenerId>,
    /// When kept peers that are not connected were last connected.
    pub last_seen: HashMap<PeerId, SystemTime>,
}

impl EventLoop {
    /// Keep `peer` connected for `roles`: dial it now (unless connected) and reply once that
    /// first dial ends; later losses are redialled with backoff.
    pub(super) fn keep(
        &mut self,
        peer: PeerId,
        addresses: Vec<Multiaddr>,
        roles: Roles,
        reply: Reply<PeerId>,
    ) {
        if peer == *self.swarm.local_peer_id() {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::InvalidPeerId,
                "that is this node's own peer ID",
            )));
            return;
        }
        let connected = self.peers.contains_key(&peer);
        let now = Instant::now();
        if let Err(full) = self.kept.keep(peer, &addresses, roles, connected, now) {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::LimitReached,
                format!("already {} kept peers (connections.maxKeptPeers)", full.0),
            )));
            return;
        }
        if connected {
            self.on_relay_connected(peer);
            let _ = reply.send(Ok(peer));
            return;
        }
        let waiters = self.manager.waiters.entry(peer).or_default();
        if waiters.len() >= MAX_WAITERS_PER_PEER {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::LimitReached,
                format!("{MAX_WAITERS_PER_PEER} calls already wait for {peer}"),
            )));
            return;
        }
        waiters.push(reply);
        let dialling = self.kept.get(&peer).is_some_and(|k| k.dialing);
        if !dialling {
            let addresses = self
                .kept
                .get(&peer)
                .map(|k| k.addresses.clone())
                .unwrap_or_default();
            self.dial_kept(peer, addresses);
        }
    }

    /// Stop keeping `peer` and close its connections. `true` if it was kept or connected.
    pub(super) fn remove_peer(&mut self, peer: PeerId) -> bool {
        let was_kept = self.kept.forget(&peer).is_some();
        for reply in self.manager.waiters.remove(&peer).unwrap_or_default() {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::DialFailed,
                format!("{peer} was removed"),
            )));
        }
        self.manager.last_seen.remove(&peer);
        if let Some(listener) = self.manager.reservations.remove(&peer) {
            self.swarm.remove_listener(listener);
        }
        let connected = self.peers.contains_key(&peer);
        if connected {
            self.close_peer(peer, "removed");
        }
        was_kept || connected
    }

    /// Heartbeat: a connection whose ping fails (no pong within the timeout, or its stream
    /// broke) is closed. libp2p leaves that to the application, and without it a connection to
    /// a process that died can look alive for good: a WebRTC-direct connection to a relay that
    /// restarted on the same port still passes ICE consent checks (the new process answers
    /// them) while nothing else gets through. Peers that do not speak ping are left alone.
    pub(super) fn on_ping_failed(
        &mut self,
        peer: PeerId,
        connection: ConnectionId,
        failure: libp2p::ping::Failure,
    ) {
        if matches!(failure, libp2p::ping::Failure::Unsupported) {
            return;
        }
        tracing::debug!(%peer, ?connection, "ping failed, closing the connection: {failure}");
        let last = self
            .peers
            .get(&peer)
            .is_some_and(|s| s.connections.iter().all(|c| c.id == connection));
        if last {
            let transition = self
                .states
                .on_closing(peer, &format!("ping failed: {failure}"));
            self.queue_transitions(transition);
        }
        self.swarm.close_connection(connection);
    }

    /// Close every connection to `peer`, reporting `disconnecting` with `reason`.
    pub(super) fn close_peer(&mut self, peer: PeerId, reason: &str) {
        let transition = self.states.on_closing(peer, reason);
        self.queue_transitions(transition);
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    pub(super) fn queue_transitions(&mut self, transitions: impl IntoIterator<Item = Transition>) {
        for t in transitions {
            self.queued.push_back(Event::PeerState {
                peer_id: t.peer,
                state: t.state,
                reason: t.reason,
            });
        }
    }

    /// Dial a kept peer: its addresses one at a time, best first. A browser's `/webrtc` address
    /// goes through the two-step browser dial.
    fn dial_kept(&mut self, peer: PeerId, addresses: Vec<Multiaddr>) {
        let browser = addresses
            .iter()
            .find_map(|a| direct_upgrade::split(a).map(|(_, relayed)| (a.clone(), relayed)));
        if let Some((direct, relayed)) = browser {
            let (reply, _) = futures::channel::oneshot::channel();
            let opts = DialOpts::peer_id(peer)
                .addresses(vec![relayed.clone()])
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            let id = opts.connection_id();
            let pending = super::dialing::PendingDial::ThenUpgrade { direct, reply };
            if self.start_dial(opts, &relayed, pending) {
                self.manager.dials.insert(id, (peer, addresses));
                return;
            }
        }
        let opts = DialOpts::peer_id(peer)
            .addresses(addresses.clone())
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .override_dial_concurrency_factor(std::num::NonZeroU8::MIN)
            .build();
        let id = opts.connection_id();
        match self.swarm_dial(opts) {
            Ok(()) => {
                self.manager.dials.insert(id, (peer, addresses));
            }
            Err(e) => {
                let error = CoreError::new(
                    ErrorCode::DialFailed,
                    format!("cannot dial {peer}: {}", crate::error::describe_chain(&e)),
                );
                self.on_kept_dial_failed(peer, error);
            }
        }
    }

    /// A redial of a kept peer failed (`id` tells whether it was one of ours).
    /// If addresses were added while it ran (a bootstrap naming the relay a stored entry was
    /// already dialling at old addresses), the peer is dialled again at once with all of them.
    pub(super) fn on_kept_connection_error(&mut self, id: ConnectionId, error: &CoreError) {
        let Some((peer, tried)) = self.manager.dials.remove(&id) else {
            return;
        };
        let untried = self
            .kept
            .get(&peer)
            .filter(|k| k.addresses.iter().any(|a| !tried.contains(a)))
            .map(|k| k.addresses.clone());
        // Even after a wrong identity: a stale address may now belong to another node.
        match untried {
            Some(addresses) => {
                tracing::debug!(%peer, "kept peer got new addresses while dialling; trying them");
                self.dial_kept(peer, addresses);
            }
            _ => self.on_kept_dial_failed(peer, error.clone()),
        }
    }

    fn on_kept_dial_failed(&mut self, peer: PeerId, error: CoreError) {
        let fresh = self.manager.waiters.contains_key(&peer);
        for reply in self.manager.waiters.remove(&peer).unwrap_or_default() {
            let _ = reply.send(Err(error.clone()));
        }
        let only_manual = self.kept.get(&peer).is_some_and(|k| {
            k.roles
                == Roles {
                    manual: true,
                    ..Roles::default()
                }
        });
        // A wrong identity will not fix itself; a peer added by hand that cannot be reached at
        // all was refused to its caller and is not kept.
        if error.code == ErrorCode::PeerIdMismatch || (fresh && only_manual) {
            self.kept.forget(&peer);
            return;
        }
        if let Some(delay) = self
            .kept
            .on_dial_failed(&peer, &error.message, Instant::now())
        {
            tracing::debug!(%peer, ?delay, "kept peer unreachable; redialling later");
        }
    }

    /// The first connection to `peer` is up.
    pub(super) fn on_manager_connected(&mut self, peer: PeerId) {
        self.manager.last_seen.remove(&peer);
        self.kept.on_connected(&peer);
        for reply in self.manager.waiters.remove(&peer).unwrap_or_default() {
            let _ = reply.send(Ok(peer));
        }
        self.on_relay_connected(peer);
    }

    /// The last connection to `peer` closed.
    pub(super) fn on_manager_disconnected(&mut self, peer: PeerId) {
        // Closed explicitly: the relay client keeps a dead relay's circuit listener (and its
        // listen addresses) otherwise.
        self.release_reservation(peer);
        if self.kept.is_kept(&peer) {
            self.manager.last_seen.insert(peer, SystemTime::now());
            self.kept.on_disconnected(&peer, Instant::now());
        }
        self.on_relay_gone(peer);
    }

    /// A circuit listener ended (the relay went away, or the reservation was refused).
    pub(super) fn on_listener_closed(&mut self, listener: ListenerId) {
        let relay = self
            .manager
            .reservations
            .iter()
            .find(|(_, l)| **l == listener)
            .map(|(relay, _)| *relay);
        if let Some(relay) = relay {
            self.manager.reservations.remove(&relay);
            self.on_reservation_closed(relay);
        }
    }

    /// Once a tick: note which peers moved bytes, redial kept peers that are due, prune above
    /// `connections.max`.
    pub(super) fn connections_tick(&mut self, now: Instant) {
        self.traffic.sweep();
        for (peer, state) in self.peers.iter_mut() {
            let totals = self.traffic.totals(peer);
            if totals.is_some() && totals != state.traffic {
                state.traffic = totals;
                state.last_active = now;
            }
        }
        self.dial_due_kept(now);
        self.choose_relays(now);
        self.prune(now);
    }

    /// Dial the kept peers whose redial is due.
    pub(super) fn dial_due_kept(&mut self, now: Instant) {
        let target = self.config.connections.target;
        for (peer, addresses) in self.kept.take_due(now, self.peers.len(), target) {
            tracing::debug!(%peer, "dialling a kept peer");
            self.dial_kept(peer, addresses);
        }
    }

    fn prune(&mut self, now: Instant) {
        let c = &self.config.connections;
        if self.peers.len() <= c.max {
            return;
        }
        let candidates: Vec<Candidate> = self
            .peers
            .iter()
            .map(|(peer, state)| Candidate {
                peer: *peer,
                protected: self.kept.is_kept(peer) || self.manager.reservations.contains_key(peer),
                connected_for: now.saturating_duration_since(state.since),
                idle_for: now.saturating_duration_since(state.last_active),
                rtt: state.rtt,
                reputation: self.reputation.score(peer, now),
            })
            .collect();
        let victims = prune::victims(
            candidates,
            c.target,
            c.max,
            Duration::from_secs(c.grace_secs),
        );
        if !victims.is_empty() {
            tracing::debug!(
                count = victims.len(),
                "pruning connections above connections.max"
            );
        }
        for peer in victims {
            self.close_peer(peer, "pruned");
        }
    }

    /// Connected peers, and with `include_kept` the kept peers that are not.
    pub(super) fn peer_list(&self, include_kept: bool) -> Vec<PeerInfo> {
        let now = Instant::now();
        let mut list: Vec<PeerInfo> = self
            .peers
            .iter()
            .filter_map(|(peer, state)| {
                let first = state.connections.first()?;
                let kept = self.kept.get(peer);
                let totals = self.traffic.totals(peer);
                Some(PeerInfo {
                    peer_id: peer.to_string(),
                    state: self.states.get(peer),
                    transport: Some(first.transport),
                    address: Some(first.address.to_string()),
                    addresses: state
                        .connections
                        .iter()
                        .map(|c| c.address.to_string())
                        .collect(),
                    connections: state.connections.len(),
                    connected_since_ms: epoch_ms(state.since_wall),
                    bytes_sent: totals.map(|t| t.0),
                    bytes_received: totals.map(|t| t.1),
                    // From the connection's own wall-clock start, so never before it.
                    last_seen_ms: epoch_ms(
                        state.since_wall + state.last_active.saturating_duration_since(state.since),
                    ),
                    rtt_ms: state.rtt.map(|d| d.as_secs_f64() * 1000.0),
                    agent: state.agent.clone(),
                    gossip_score: self.swarm.behaviour().gossipsub.peer_score(peer),
                    reputation: self.reputation.score(peer, now),
                    kept: kept.map(|k| k.roles),
                    last_error: None,
                    relay: self.relay_info(peer),
                })
            })
            .collect();
        if include_kept {
            list.extend(
                self.kept
                    .iter()
                    .filter(|(peer, _)| !self.peers.contains_key(peer))
                    .map(|(peer, kept)| self.kept_info(peer, kept, now)),
            );
        }
        list
    }

    fn kept_info(&self, peer: &PeerId, kept: &KeptPeer, now: Instant) -> PeerInfo {
        PeerInfo {
            peer_id: peer.to_string(),
            state: self.states.get(peer),
            transport: None,
            address: None,
            addresses: kept.addresses.iter().map(|a| a.to_string()).collect(),
            connections: 0,
            connected_since_ms: None,
            bytes_sent: None,
            bytes_received: None,
            last_seen_ms: self.manager.last_seen.get(peer).and_then(|t| epoch_ms(*t)),
            rtt_ms: None,
            agent: None,
            gossip_score: None,
            reputation: self.reputation.score(peer, now),
            kept: Some(kept.roles),
            last_error: kept.last_error.clone(),
            relay: self.relay_info(peer),
        }
    }
}
