//! Rendezvous in the loop: keeps the wanted registrations alive at every connected rendezvous
//! point, answers `register`/`discover` calls once the points reply, and turns what is found
//! into `PeerDiscovered` events. The policy lives in `discovery::{registrations, found}`.

use std::collections::HashSet;

use libp2p::{
    rendezvous::{self, client::Event as RzEvent, Namespace},
    Multiaddr, PeerId,
};
use web_time::{Duration, Instant};

use super::EventLoop;
use crate::addresses::all_with_peer_id;
use crate::{
    command::Reply,
    discovery::{self, DiscoverySource, MAX_POINTS},
    CoreError, DiscoveredPeer, ErrorCode, Event,
};

/// Calls waiting on rendezvous points, of each kind.
const MAX_PENDING_CALLS: usize = 64;

/// A `register` call waiting for the first point to grant it. Until a point is connected and
/// this node has a reachable address to register, nothing is asked (`asked` is false).
pub(super) struct PendingRegister {
    namespace: String,
    asked: bool,
    waiting: HashSet<PeerId>,
    refusals: Vec<String>,
    deadline: Instant,
    reply: Reply<u64>,
}

/// A `discover` call waiting for every point asked (for the first point, if none is connected
/// yet).
pub(super) struct PendingDiscover {
    namespace: String,
    asked: bool,
    waiting: HashSet<PeerId>,
    answered: usize,
    failures: Vec<String>,
    deadline: Instant,
    reply: Reply<Vec<DiscoveredPeer>>,
}

fn failed(message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::DiscoveryFailed, message)
}

fn namespace_of(text: &str) -> Result<Namespace, CoreError> {
    discovery::validate_namespace(text)?;
    Namespace::new(text.to_owned())
        .map_err(|e| CoreError::new(ErrorCode::InvalidNamespace, e.to_string()))
}

impl EventLoop {
    fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.rendezvous.timeout_secs)
    }

    fn points(&self) -> Vec<PeerId> {
        self.rendezvous_points.iter().copied().collect()
    }

    pub(super) fn register(&mut self, namespace: String, ttl_secs: Option<u64>, reply: Reply<u64>) {
        let ttl = ttl_secs.unwrap_or(self.config.rendezvous.default_ttl_secs);
        let checked = namespace_of(&namespace).and_then(|_| discovery::validate_ttl(ttl));
        let refusal = match checked {
            Err(e) => Some(e),
            Ok(()) if self.pending_registers.len() >= MAX_PENDING_CALLS => Some(CoreError::new(
                ErrorCode::LimitReached,
                format!("{MAX_PENDING_CALLS} register calls are already waiting"),
            )),
            Ok(()) => self.registrations.want(&namespace, ttl).err(),
        };
        if let Some(e) = refusal {
            let _ = reply.send(Err(e));
            return;
        }
        self.pending_registers.push(PendingRegister {
            namespace,
            asked: false,
            waiting: HashSet::new(),
            refusals: Vec::new(),
            deadline: Instant::now() + self.timeout(),
            reply,
        });
        self.send_due_registrations();
    }

    pub(super) fn unregister(&mut self, namespace: &str) -> Result<bool, CoreError> {
        namespace_of(namespace)?;
        let Some(points) = self.registrations.unwant(namespace) else {
            return Ok(false);
        };
        for point in points {
            if self.rendezvous_points.contains(&point) {
                if let Ok(ns) = Namespace::new(namespace.to_owned()) {
                    self.swarm.behaviour_mut().rendezvous.unregister(ns, point);
                }
            }
        }
        Ok(true)
    }

    pub(super) fn discover(&mut self, namespace: String, reply: Reply<Vec<DiscoveredPeer>>) {
        let ns = match namespace_of(&namespace) {
            Ok(ns) => ns,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        if self.pending_discovers.len() >= MAX_PENDING_CALLS {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::LimitReached,
                format!("{MAX_PENDING_CALLS} discover calls are already waiting"),
            )));
            return;
        }
        let points = self.points();
        for point in &points {
            self.ask(&ns, *point);
        }
        self.pending_discovers.push(PendingDiscover {
            namespace,
            asked: !points.is_empty(),
            waiting: points.into_iter().collect(),
            answered: 0,
            failures: Vec::new(),
            deadline: Instant::now() + self.timeout(),
            reply,
        });
    }

    /// Ask `point` for what is new under `ns` since our last cookie.
    fn ask(&mut self, ns: &Namespace, point: PeerId) {
        let cookie = self.found.cookie(&ns.to_string(), &point);
        let limit = self.config.rendezvous.max_peers_per_namespace as u64;
        self.swarm.behaviour_mut().rendezvous.discover(
            Some(ns.clone()),
            cookie,
            Some(limit),
            point,
        );
    }

    /// Send the registrations that are due (new, refreshing, retrying), once there is a point
    /// and an address to register; `register` calls then wait on the points asked.
    pub(super) fn send_due_registrations(&mut self) {
        let points = self.points();
        if points.is_empty() || self.swarm.external_addresses().next().is_none() {
            return;
        }
        let now = Instant::now();
        for (namespace, point, ttl) in self.registrations.due(&points, now) {
            let Ok(ns) = Namespace::new(namespace.clone()) else {
                continue;
            };
            match self
                .swarm
                .behaviour_mut()
                .rendezvous
                .register(ns, point, Some(ttl))
            {
                Ok(()) => {
                    for call in &mut self.pending_registers {
                        if call.namespace == namespace {
                            call.asked = true;
                            call.waiting.insert(point);
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(%point, namespace, "cannot register: {e}");
                    self.registrations.on_failed(point, &namespace, now);
                }
            }
        }
    }

    /// A connected peer announced the rendezvous protocol: use it as a point.
    pub(super) fn on_rendezvous_point(
        &mut self,
        peer: PeerId,
        protocols: &[libp2p::StreamProtocol],
    ) {
        if !protocols.contains(&rendezvous::PROTOCOL_NAME)
            || self.rendezvous_points.contains(&peer)
            || self.rendezvous_points.len() >= MAX_POINTS
        {
            return;
        }
        self.rendezvous_points.insert(peer);
        self.send_due_registrations();
        // Discover calls made before any point was connected.
        let mut first_asks = Vec::new();
        for call in &mut self.pending_discovers {
            if !call.asked {
                call.asked = true;
                call.waiting.insert(peer);
                first_asks.push(call.namespace.clone());
            }
        }
        for namespace in first_asks {
            if let Ok(ns) = Namespace::new(namespace) {
                self.ask(&ns, peer);
            }
        }
    }

    /// A point disconnected: what it held is registered afresh if it comes back, and calls
    /// stop waiting for it.
    pub(super) fn on_rendezvous_point_gone(&mut self, peer: &PeerId) {
        if !self.rendezvous_points.remove(peer) {
            return;
        }
        self.registrations.forget_point(peer);
        for call in &mut self.pending_registers {
            if call.waiting.remove(peer) {
                call.refusals.push(format!("{peer} disconnected"));
            }
        }
        for call in &mut self.pending_discovers {
            if call.waiting.remove(peer) {
                call.failures.push(format!("{peer} disconnected"));
            }
        }
        self.settle_registers();
        self.settle_discovers();
    }

    /// Once a tick: refresh what is due and end calls past their deadline.
    pub(super) fn rendezvous_tick(&mut self, now: Instant) {
        self.send_due_registrations();
        let no_point = self.rendezvous_points.is_empty();
        let no_address = self.swarm.external_addresses().next().is_none();
        for call in &mut self.pending_registers {
            if call.deadline <= now {
                call.refusals.push(if call.asked {
                    "no answer in time".into()
                } else if no_point {
                    "no rendezvous point is connected (connect to a meshwork-relay first)".into()
                } else if no_address {
                    "this node has no reachable address to register (no relay reservation)".into()
                } else {
                    "not sent in time".into()
                });
                call.asked = true;
                call.waiting.clear();
            }
        }
        for call in &mut self.pending_discovers {
            if call.deadline <= now {
                call.failures.push(if call.asked {
                    "no answer in time".into()
                } else {
                    "no rendezvous point is connected (connect to a meshwork-relay first)".into()
                });
                call.asked = true;
                call.waiting.clear();
            }
        }
        self.settle_registers();
        self.settle_discovers();
    }

    pub(super) async fn on_rendezvous_event(&mut self, event: RzEvent) {
        let now = Instant::now();
        match event {
            RzEvent::Registered {
                rendezvous_node,
                ttl,
                namespace,
            } => {
                let namespace = namespace.to_string();
                self.registrations
                    .on_registered(rendezvous_node, &namespace, ttl, now);
                let (granted, still_waiting): (Vec<_>, Vec<_>) =
                    std::mem::take(&mut self.pending_registers)
                        .into_iter()
                        .partition(|c| {
                            c.namespace == namespace && c.waiting.contains(&rendezvous_node)
                        });
                self.pending_registers = still_waiting;
                for call in granted {
                    let _ = call.reply.send(Ok(ttl));
                }
            }
            RzEvent::RegisterFailed {
                rendezvous_node,
                namespace,
                error,
            } => {
                let namespace = namespace.to_string();
                tracing::debug!(%rendezvous_node, namespace, ?error, "registration refused");
                self.registrations
                    .on_failed(rendezvous_node, &namespace, now);
                for call in &mut self.pending_registers {
                    if call.namespace == namespace && call.waiting.remove(&rendezvous_node) {
                        call.refusals.push(format!("{rendezvous_node}: {error:?}"));
                    }
                }
                self.settle_registers();
            }
            RzEvent::Discovered {
                rendezvous_node,
                registrations,
                cookie,
            } => {
                let Some(namespace) = cookie.namespace().map(|n| n.to_string()) else {
                    return;
                };
                let local = *self.swarm.local_peer_id();
                let entries = registrations
                    .into_iter()
                    .filter(|r| r.record.peer_id() != local)
                    .map(|r| (r.record.peer_id(), r.record.addresses().to_vec(), r.ttl))
                    .collect();
                let fresh = self
                    .found
                    .merge(&namespace, rendezvous_node, cookie, entries, now);
                for call in &mut self.pending_discovers {
                    if call.namespace == namespace && call.waiting.remove(&rendezvous_node) {
                        call.answered += 1;
                    }
                }
                self.settle_discovers();
                for (peer, addresses) in fresh {
                    self.emit(Event::PeerDiscovered {
                        peer_id: peer,
                        addresses: all_with_peer_id(addresses, peer),
                        source: DiscoverySource::Rendezvous,
                        namespace: Some(namespace.clone()),
                    })
                    .await;
                }
            }
            RzEvent::DiscoverFailed {
                rendezvous_node,
                namespace,
                error,
            } => {
                let Some(ns) = namespace else { return };
                if error == rendezvous::ErrorCode::InvalidCookie
                    && self
                        .found
                        .cookie(&ns.to_string(), &rendezvous_node)
                        .is_some()
                {
                    // The point forgot our cookie (it restarted): ask for everything.
                    self.found.drop_cookie(&ns.to_string(), &rendezvous_node);
                    self.ask(&ns, rendezvous_node);
                    return;
                }
                let namespace = ns.to_string();
                for call in &mut self.pending_discovers {
                    if call.namespace == namespace && call.waiting.remove(&rendezvous_node) {
                        call.failures.push(format!("{rendezvous_node}: {error:?}"));
                    }
                }
                self.settle_discovers();
            }
            RzEvent::Expired { peer } => {
                tracing::trace!(%peer, "a discovered registration expired");
            }
        }
    }

    /// Answer register calls no point is still working on: every point refused.
    fn settle_registers(&mut self) {
        let (done, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending_registers)
            .into_iter()
            .partition(|c| c.asked && c.waiting.is_empty());
        self.pending_registers = waiting;
        for call in done {
            // A call that no point granted leaves nothing behind to refresh.
            self.registrations.unwant(&call.namespace);
            let why = call.refusals.join("; ");
            let _ = call.reply.send(Err(failed(format!(
                "registering under {:?} failed: {why}",
                call.namespace
            ))));
        }
    }

    /// Answer discover calls every asked point has answered (or failed, or run out of time).
    fn settle_discovers(&mut self) {
        let (done, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending_discovers)
            .into_iter()
            .partition(|c| c.asked && c.waiting.is_empty());
        self.pending_discovers = waiting;
        let now = Instant::now();
        for call in done {
            let result = if call.answered > 0 {
                Ok(self.found.list(&call.namespace, now))
            } else {
                Err(failed(format!(
                    "discovering {:?} failed: {}",
                    call.namespace,
                    call.failures.join("; ")
                )))
            };
            let _ = call.reply.send(result);
        }
    }

    /// mDNS found peers on the local segment: remember their addresses, dial the new ones.
    pub(super) async fn on_mdns_found(&mut self, found: Vec<(PeerId, Multiaddr)>) {
        let mut by_peer: Vec<(PeerId, Vec<Multiaddr>)> = Vec::new();
        for (peer, address) in found {
            match by_peer.iter_mut().find(|(p, _)| *p == peer) {
                Some((_, list)) => list.push(address),
                None => by_peer.push((peer, vec![address])),
            }
        }
        for (peer, addresses) in by_peer {
            if self.config.mdns.dial && !self.peers.contains_key(&peer) {
                // Both sides find each other at once and dial. From their listening ports (port
                // reuse) the two dials can meet as one TCP simultaneous open, where both sides
                // act as initiator and the handshake fails; a fresh port keeps them two
                // connections.
                let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                    .addresses(addresses.clone())
                    .condition(libp2p::swarm::dial_opts::PeerCondition::DisconnectedAndNotDialing)
                    .allocate_new_port()
                    .build();
                if let Err(e) = self.swarm_dial(opts) {
                    tracing::debug!(%peer, "cannot dial a peer found by mDNS: {e}");
                }
            }
            self.emit(Event::PeerDiscovered {
                peer_id: peer,
                addresses: all_with_peer_id(addresses, peer),
                source: DiscoverySource::Mdns,
                namespace: None,
            })
            .await;
        }
    }
}
