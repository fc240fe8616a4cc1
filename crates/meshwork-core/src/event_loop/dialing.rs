//! Dials a caller waits on, including browser-to-browser ones, which take two steps: the
//! relayed connection first, then the direct `/webrtc` connection signalled over it.

use libp2p::{
    multiaddr::Protocol,
    swarm::{
        dial_opts::{DialOpts, PeerCondition},
        ConnectionId,
    },
    Multiaddr, PeerId,
};

use super::EventLoop;
use crate::{
    addresses, command::Reply, direct_upgrade, error::describe_chain, CoreError, ErrorCode, Event,
    TransportKind,
};

/// How long after an upgrade the relayed connection is closed.
const RELAYED_CLOSE_GRACE: web_time::Duration = web_time::Duration::from_secs(1);

/// A dial a caller waits on.
pub(super) enum PendingDial {
    /// Resolves when this connection is up.
    Plain(Reply<PeerId>),
    /// A relayed connection; once up, `direct` (its `/webrtc` upgrade) is dialled.
    ThenUpgrade {
        direct: Multiaddr,
        reply: Reply<PeerId>,
    },
}

impl PendingDial {
    /// The caller waiting on this dial.
    fn into_reply(self) -> Reply<PeerId> {
        match self {
            Self::Plain(reply) | Self::ThenUpgrade { reply, .. } => reply,
        }
    }
}

impl EventLoop {
    /// Starts a dial of `address`: a multiaddr, a browser-to-browser address, or a bare
    /// `/p2p/<peer>` (reached through our relay reservations).
    /// With `fresh`, a peer already connected is dialled again at `address` (a new connection
    /// proving the address reaches it).
    pub(super) fn dial(&mut self, address: Multiaddr, fresh: bool, reply: Reply<PeerId>) {
        if let Some(peer) = direct_upgrade::bare_peer(&address) {
            return self.dial_peer(peer, reply);
        }
        if let Some((peer, relayed)) = direct_upgrade::split(&address) {
            return self.dial_browser(peer, relayed, address, reply);
        }
        let expected = addresses::peer_id_of(&address);
        if let Some(peer) = expected {
            if !fresh && self.peers.contains_key(&peer) {
                let _ = reply.send(Ok(peer));
                return;
            }
        }
        let condition = if fresh {
            PeerCondition::Always
        } else {
            PeerCondition::default()
        };
        let opts = match expected {
            Some(peer) => DialOpts::peer_id(peer)
                .addresses(vec![address.clone()])
                .condition(condition)
                .build(),
            None => DialOpts::unknown_peer_id().address(address.clone()).build(),
        };
        self.start_dial(opts, &address, PendingDial::Plain(reply));
    }

    /// Dial by peer ID: already connected, or through the first relay we hold a reservation on
    /// (directly over `/webrtc` when this node upgrades).
    fn dial_peer(&mut self, peer: PeerId, reply: Reply<PeerId>) {
        if self.peers.contains_key(&peer) {
            let _ = reply.send(Ok(peer));
            return;
        }
        let upgrade = self.config.direct_upgrade.is_some();
        let Some(address) = self
            .swarm
            .listeners()
            .find_map(|listen| direct_upgrade::via_relay(listen, peer, upgrade))
        else {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::DialFailed,
                format!("no known address for {peer} and no relay reservation to reach it through"),
            )));
            return;
        };
        tracing::debug!(%peer, %address, "dialling by peer ID");
        self.dial(address, false, reply);
    }

    /// Browser to browser: relayed first (unless already connected), then direct.
    fn dial_browser(
        &mut self,
        peer: PeerId,
        relayed: Multiaddr,
        direct: Multiaddr,
        reply: Reply<PeerId>,
    ) {
        if self.has_connection(&peer, TransportKind::Webrtc) {
            let _ = reply.send(Ok(peer));
            return;
        }
        if self.peers.contains_key(&peer) {
            return self.dial_direct(peer, direct, reply);
        }
        let opts = DialOpts::peer_id(peer)
            .addresses(vec![relayed.clone()])
            .build();
        self.start_dial(opts, &relayed, PendingDial::ThenUpgrade { direct, reply });
    }

    /// The `/webrtc` dial over an existing connection to `peer`.
    fn dial_direct(&mut self, peer: PeerId, direct: Multiaddr, reply: Reply<PeerId>) {
        let opts = DialOpts::peer_id(peer)
            .addresses(vec![direct.clone()])
            // We are connected (relayed) by design; this is a second connection.
            .condition(PeerCondition::Always)
            .build();
        self.start_dial(opts, &direct, PendingDial::Plain(reply));
    }

    /// Start a dial its caller waits on; `false` if it could not start (the caller has the
    /// error).
    pub(super) fn start_dial(
        &mut self,
        opts: DialOpts,
        address: &Multiaddr,
        pending: PendingDial,
    ) -> bool {
        if self.pending_dials.len() >= self.config.limits.max_pending_outgoing as usize {
            let _ = pending.into_reply().send(Err(CoreError::new(
                ErrorCode::LimitReached,
                format!("{} dials already pending", self.pending_dials.len()),
            )));
            return false;
        }
        let id = opts.connection_id();
        match self.swarm_dial(opts) {
            Ok(()) => {
                self.pending_dials.insert(id, pending);
                true
            }
            Err(e) => {
                let _ = pending.into_reply().send(Err(CoreError::new(
                    ErrorCode::DialFailed,
                    format!("cannot dial {address}: {}", describe_chain(&e)),
                )));
                false
            }
        }
    }

    /// A dial's connection is up: answer its caller, or take its second step.
    pub(super) fn on_dial_connected(&mut self, id: ConnectionId, peer: PeerId) {
        match self.pending_dials.remove(&id) {
            Some(PendingDial::Plain(reply)) => {
                let _ = reply.send(Ok(peer));
            }
            Some(PendingDial::ThenUpgrade { direct, reply }) => {
                self.dial_direct(peer, direct, reply)
            }
            None => {}
        }
    }

    /// A dial failed; `false` if nobody was waiting on it.
    pub(super) fn on_dial_failed(&mut self, id: ConnectionId, error: &CoreError) -> bool {
        match self.pending_dials.remove(&id) {
            Some(pending) => {
                let _ = pending.into_reply().send(Err(error.clone()));
                true
            }
            None => false,
        }
    }

    /// Fails every waiting dial (the node stops).
    pub(super) fn fail_pending_dials(&mut self) {
        for (_, pending) in self.pending_dials.drain() {
            let _ = pending.into_reply().send(Err(CoreError::stopped()));
        }
    }

    pub(super) fn has_connection(&self, peer: &PeerId, transport: TransportKind) -> bool {
        self.peers
            .get(peer)
            .is_some_and(|s| s.connections.iter().any(|c| c.transport == transport))
    }

    /// A direct `/webrtc` connection to `peer` is up next to others: schedule closing the
    /// relayed ones (if configured) and tell the application.
    ///
    /// The close waits [`RELAYED_CLOSE_GRACE`]: the other side finishes its half of the upgrade a
    /// moment after us, and closing at once would make it see the peer disconnect and reconnect.
    pub(super) async fn on_upgraded(&mut self, peer: PeerId, address: Multiaddr) {
        let close_relayed = self.config.direct_upgrade.is_some_and(|u| u.close_relayed);
        if close_relayed && !self.relayed_to_close.iter().any(|(p, _)| *p == peer) {
            self.relayed_to_close
                .push((peer, web_time::Instant::now() + RELAYED_CLOSE_GRACE));
        }
        self.emit(Event::PeerUpgraded {
            peer_id: peer,
            transport: TransportKind::Webrtc,
            address,
        })
        .await;
    }

    /// Closes the relayed connections whose grace after an upgrade is over, if the direct
    /// connection is still there. Called once a tick.
    pub(super) fn close_upgraded_relayed(&mut self, now: web_time::Instant) {
        let due: Vec<PeerId> = self
            .relayed_to_close
            .iter()
            .filter(|(_, at)| *at <= now)
            .map(|(peer, _)| *peer)
            .collect();
        self.relayed_to_close.retain(|(_, at)| *at > now);
        for peer in due {
            let Some(state) = self.peers.get(&peer) else {
                continue;
            };
            if !state
                .connections
                .iter()
                .any(|c| c.transport == TransportKind::Webrtc)
            {
                continue;
            }
            let relayed: Vec<ConnectionId> = state
                .connections
                .iter()
                .filter(|c| c.transport == TransportKind::Circuit)
                .map(|c| c.id)
                .collect();
            for id in relayed {
                tracing::debug!(%peer, ?id, "closing the relayed connection after the upgrade");
                self.swarm.close_connection(id);
            }
        }
    }

    /// Our circuit listen addresses double as `/webrtc` addresses when this node upgrades: add
    /// or remove the external address others (identify) learn.
    pub(super) fn on_circuit_listen_addr(&mut self, address: &Multiaddr, added: bool) {
        if self.config.direct_upgrade.is_none()
            || !address.iter().any(|p| p == Protocol::P2pCircuit)
        {
            return;
        }
        if let Some(webrtc) = direct_upgrade::webrtc_address(address) {
            if added {
                self.swarm.add_external_address(webrtc);
            } else {
                self.swarm.remove_external_address(&webrtc);
            }
        }
    }
}
