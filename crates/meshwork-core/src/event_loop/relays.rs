//! Relay selection in the loop. A node keeps every relay it was given connected, but reserves
//! on the best `connections.relayReservations` of them (`connmgr::relay_choice`): it asks each
//! kept relay how full it is (`relay_status`), measures its round trip (ping), reserves on the
//! best with room, keeps the others as spares, moves when one goes away or refuses, and swaps
//! a reserved relay for a much faster spare at most once per [`MOVE_GAP`] (the old reservation
//! is dropped only once the new one is accepted).
//!
//! On a relay (`relayServer` on) the loop also answers those asks, counting the reservations
//! and circuits it holds from the relay server's events.

use std::collections::{HashMap, HashSet};

use futures::{future::BoxFuture, stream::FuturesUnordered, FutureExt};
use libp2p::{multiaddr::Protocol, relay, PeerId};
use web_time::{Duration, Instant};

use super::EventLoop;
use crate::{
    addresses,
    connmgr::relay_choice::{self, Candidate},
    relay_status::{self, RelayStatus},
    CoreError, ErrorCode, Event,
};

/// Reserved relays are swapped for a faster spare at most this often.
pub const MOVE_GAP: Duration = Duration::from_secs(30);
/// A relay that refused a reservation is left alone this long.
const REFUSED_HOLD: Duration = Duration::from_secs(60);
/// How long a connected relay's status is waited for before it is chosen without one.
const STATUS_WAIT: Duration = Duration::from_secs(2);
/// A move whose new reservation is not accepted in this time is given up.
const MOVE_DEADLINE: Duration = Duration::from_secs(30);
/// Status answers being written at once (a relay); more asks are dropped.
const MAX_ANSWERS: usize = 64;

/// One relay status ask in flight.
type Probe = BoxFuture<'static, (PeerId, Result<RelayStatus, String>)>;

/// The client side: what the loop knows about its kept relays.
#[derive(Default)]
pub(super) struct RelaySelection {
    /// What each connected kept relay said (or `None`: it could not say).
    status: HashMap<PeerId, Option<RelayStatus>>,
    /// When each connected kept relay connected (its status is waited for a while).
    connected_at: HashMap<PeerId, Instant>,
    /// Relays that refused a reservation, left alone until then.
    refused: HashMap<PeerId, Instant>,
    /// A move in progress: the new relay, the old one, and when it started.
    moving: Option<(PeerId, PeerId, Instant)>,
    last_move: Option<Instant>,
    /// Asks in flight (one per connected kept relay at most).
    pub(super) probes: FuturesUnordered<Probe>,
}

/// The relay side: what it holds, to answer asks.
#[derive(Default)]
pub(super) struct RelayServing {
    /// Peers holding a reservation here (bounded by `relayServer.maxReservations`).
    reservations: HashSet<PeerId>,
    circuits: u32,
    /// Answers being written, at most [`MAX_ANSWERS`].
    pub(super) answers: FuturesUnordered<BoxFuture<'static, ()>>,
}

impl EventLoop {
    fn is_kept_relay(&self, peer: &PeerId) -> bool {
        self.kept.get(peer).is_some_and(|k| k.roles.relay)
    }

    /// A kept relay connected (or was kept while connected): ask how full it is, then choose.
    pub(super) fn on_relay_connected(&mut self, relay: PeerId) {
        if !self.is_kept_relay(&relay) {
            return;
        }
        if let std::collections::hash_map::Entry::Vacant(entry) =
            self.relay_selection.connected_at.entry(relay)
        {
            entry.insert(Instant::now());
            let control = self.swarm.behaviour().streams.new_control();
            let ask = relay_status::ask(control, relay).map(move |r| (relay, r));
            self.relay_selection.probes.push(ask.boxed());
        }
        self.choose_relays(Instant::now());
    }

    /// A peer's last connection closed (a relay's, or a relay's no longer kept).
    pub(super) fn on_relay_gone(&mut self, relay: PeerId) {
        let selection = &mut self.relay_selection;
        selection.status.remove(&relay);
        if selection.connected_at.remove(&relay).is_none() {
            return;
        }
        if selection
            .moving
            .is_some_and(|(new, old, _)| new == relay || old == relay)
        {
            selection.moving = None;
        }
        self.choose_relays(Instant::now());
    }

    /// A status ask ended.
    pub(super) fn on_relay_status(&mut self, relay: PeerId, result: Result<RelayStatus, String>) {
        if !self.relay_selection.connected_at.contains_key(&relay) {
            return; // gone meanwhile
        }
        let status = match result {
            Ok(status) => Some(status),
            Err(e) => {
                tracing::debug!(%relay, "no relay status: {e}");
                None
            }
        };
        self.relay_selection.status.insert(relay, status);
        self.choose_relays(Instant::now());
    }

    /// A circuit listener ended: if its relay is still connected, it refused us.
    pub(super) fn on_reservation_closed(&mut self, relay: PeerId) {
        if self.peers.contains_key(&relay) {
            self.relay_selection
                .refused
                .insert(relay, Instant::now() + REFUSED_HOLD);
        }
        if self
            .relay_selection
            .moving
            .is_some_and(|(new, _, _)| new == relay)
        {
            self.relay_selection.moving = None;
        }
        self.choose_relays(Instant::now());
    }

    /// A relay accepted our reservation: a move to it is complete.
    pub(super) fn on_reservation_accepted(&mut self, relay: PeerId) {
        if let Some((new, old, _)) = self.relay_selection.moving {
            if new == relay {
                self.relay_selection.moving = None;
                tracing::debug!(%old, %new, "moved a reservation to a faster relay");
                self.release_reservation(old);
            }
        }
    }

    /// Bring the reservations to the best `connections.relayReservations` kept relays.
    pub(super) fn choose_relays(&mut self, now: Instant) {
        let selection = &mut self.relay_selection;
        selection.refused.retain(|_, until| now < *until);
        if let Some((new, _, started)) = selection.moving {
            if now.duration_since(started) < MOVE_DEADLINE {
                return; // the old reservation stays until the new one is accepted
            }
            selection.moving = None;
            self.release_reservation(new);
        }
        let candidates: Vec<Candidate> = self
            .relay_selection
            .connected_at
            .iter()
            .filter(|(peer, _)| self.peers.contains_key(peer) && self.is_kept_relay(peer))
            .map(|(peer, since)| {
                let status = self.relay_selection.status.get(peer);
                Candidate {
                    peer: *peer,
                    rtt: self.peers.get(peer).and_then(|s| s.rtt),
                    free: status.copied().flatten().map(|s| s.free_reservations()),
                    reserved: self.manager.reservations.contains_key(peer),
                    refused: self.relay_selection.refused.contains_key(peer),
                    pending: status.is_none() && now.duration_since(*since) < STATUS_WAIT,
                }
            })
            .collect();
        let may_move = self
            .relay_selection
            .last_move
            .is_none_or(|t| now.duration_since(t) >= MOVE_GAP);
        let wanted = self.config.connections.relay_reservations;
        let plan = relay_choice::plan(&candidates, wanted, may_move);
        for relay in &plan.reserve {
            self.reserve_on(*relay);
        }
        if plan.moving {
            if let (Some(new), Some(old)) = (plan.reserve.first(), plan.release.first()) {
                self.relay_selection.moving = Some((*new, *old, now));
                self.relay_selection.last_move = Some(now);
            }
            return;
        }
        for relay in plan.release {
            self.release_reservation(relay);
        }
    }

    /// Listen on a circuit through `relay` (a reservation).
    fn reserve_on(&mut self, relay: PeerId) {
        if self.manager.reservations.contains_key(&relay) {
            return;
        }
        let Some(address) = self
            .peers
            .get(&relay)
            .and_then(|s| s.connections.first())
            .map(|c| c.address.clone())
        else {
            return;
        };
        let circuit = addresses::with_peer_id(address, relay).with(Protocol::P2pCircuit);
        match self.swarm.listen_on(circuit.clone()) {
            Ok(listener) => {
                tracing::debug!(%relay, %circuit, "reserving on a kept relay");
                self.manager.reservations.insert(relay, listener);
            }
            Err(e) => {
                let error = CoreError::new(
                    ErrorCode::StartFailed,
                    format!(
                        "cannot reserve on {relay}: {}",
                        crate::error::describe_chain(&e)
                    ),
                );
                self.queued.push_back(Event::Error { error });
            }
        }
    }

    pub(super) fn release_reservation(&mut self, relay: PeerId) {
        if let Some(listener) = self.manager.reservations.remove(&relay) {
            tracing::debug!(%relay, "releasing a relay reservation");
            self.swarm.remove_listener(listener);
        }
    }

    /// What `listPeers` shows of a kept relay.
    pub(super) fn relay_info(&self, peer: &PeerId) -> Option<crate::event::RelayInfo> {
        if !self.is_kept_relay(peer) {
            return None;
        }
        Some(crate::event::RelayInfo {
            reserved: self.manager.reservations.contains_key(peer),
            status: self.relay_selection.status.get(peer).copied().flatten(),
        })
    }

    /// The relay server's events, counted for status answers.
    pub(super) fn on_relay_server_event(&mut self, event: relay::Event) {
        let serving = &mut self.relay_serving;
        match event {
            relay::Event::ReservationReqAccepted { src_peer_id, .. } => {
                serving.reservations.insert(src_peer_id);
            }
            relay::Event::ReservationClosed { src_peer_id }
            | relay::Event::ReservationTimedOut { src_peer_id } => {
                serving.reservations.remove(&src_peer_id);
            }
            relay::Event::CircuitReqAccepted { .. } => serving.circuits += 1,
            relay::Event::CircuitClosed { .. } => {
                serving.circuits = serving.circuits.saturating_sub(1)
            }
            _ => {}
        }
    }

    /// Someone asks how full this relay is.
    pub(super) fn answer_relay_status(&mut self, (peer, stream): (PeerId, libp2p::Stream)) {
        let Some(server) = &self.config.relay_server else {
            return;
        };
        if self.relay_serving.answers.len() >= MAX_ANSWERS {
            tracing::debug!(%peer, "relay status ask dropped: too many at once");
            return;
        }
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let status = RelayStatus {
            reservations: clamp(self.relay_serving.reservations.len()),
            max_reservations: clamp(server.max_reservations),
            circuits: self.relay_serving.circuits,
            max_circuits: clamp(server.max_circuits),
        };
        self.relay_serving
            .answers
            .push(relay_status::answer(stream, status).boxed());
    }
}
