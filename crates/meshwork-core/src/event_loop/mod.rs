//! The event loop: the one owner of the `Swarm`. It runs on any executor (wasm-bindgen-futures
//! in a page, tokio natively): it only awaits futures, channels and `futures-timer` timers.
//!
//! Gossip handling lives in two submodules: `gossip_in` (checks, validation, reassembly,
//! reputation) and `gossip_out` (the publish queue and its paced drain).

mod connections;
mod dht;
mod dialing;
mod gossip_in;
mod gossip_out;
mod peer_exchange;
mod peer_store;
mod providers;
mod relays;
mod rendezvous;
mod server_wait;
mod services;
mod system_topics;

pub use peer_store::PeerStoreReceiver;

use std::collections::{HashMap, HashSet, VecDeque};

use futures::{future::BoxFuture, stream::FuturesUnordered, FutureExt, SinkExt, StreamExt};
use futures_timer::Delay;
use libp2p::{
    core::ConnectedPoint,
    gossipsub::{self, IdentTopic, TopicHash},
    identify, kad, ping, relay,
    swarm::{ConnectionId, SwarmEvent},
    Multiaddr, PeerId, Swarm,
};
use web_time::Duration;

use crate::{
    behaviour::{Behaviour, BehaviourEvent, KAD_PROTOCOL},
    channel,
    command::Reply,
    connmgr::{backoff::Jitter, kept::KeptPeers, state::StateBook, Traffic},
    discovery::{found::Found, registrations::Registrations},
    error::describe_chain,
    gossip::{
        chunking::Reassembler, flood::FloodControl, outbound::OutboundQueue, pacer::Pacer,
        reputation::Reputation, scoring, stats::StatsBook, validator::MessageValidator,
    },
    validate, Command, CoreError, ErrorCode, Event, EventReceiver, EventSender, NodeConfig,
    NodeHandle, TransportKind,
};

/// How often the loop does its housekeeping (rate-limit state, bans, chunk expiry, pacing).
const TICK: Duration = Duration::from_secs(1);
/// How long shutdown waits for the edge to take the peer store's last document.
const STORE_FLUSH_DEADLINE: Duration = Duration::from_secs(2);

/// One open connection, as the loop remembers it.
struct Connection {
    id: ConnectionId,
    address: Multiaddr,
    transport: TransportKind,
}

/// What the loop knows about a connected peer.
struct PeerState {
    connections: Vec<Connection>,
    rtt: Option<Duration>,
    agent: Option<String>,
    /// The addresses it says it listens on (identify), first-hand and so fresher than what
    /// other peers report. At most [`MAX_REPORTED_LISTEN_ADDRS`].
    listen_addrs: Vec<Multiaddr>,
    /// When its first connection opened.
    since: web_time::Instant,
    since_wall: web_time::SystemTime,
    /// When its byte counters last moved (checked once a tick).
    last_active: web_time::Instant,
    /// `(sent, received)` at that check.
    traffic: Option<(u64, u64)>,
}

impl PeerState {
    fn new() -> Self {
        let now = web_time::Instant::now();
        Self {
            connections: Vec::new(),
            rtt: None,
            agent: None,
            listen_addrs: Vec::new(),
            since: now,
            since_wall: web_time::SystemTime::now(),
            last_active: now,
            traffic: None,
        }
    }
}

/// How many of a peer's identify-reported listen addresses are kept (a peer may report any
/// number).
const MAX_REPORTED_LISTEN_ADDRS: usize = 16;

/// Owns the swarm; turns commands into swarm calls and swarm events into [`Event`]s.
pub struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: crate::CommandReceiver,
    events: EventSender,
    config: NodeConfig,
    /// Dials a caller waits on, by connection. Bounded by `limits.max_pending_outgoing`.
    pending_dials: HashMap<ConnectionId, dialing::PendingDial>,
    /// Connected peers. Bounded by the connection limits.
    peers: HashMap<PeerId, PeerState>,
    /// Topics the application subscribed to.
    own_topics: HashSet<TopicHash>,
    /// Topics subscribed only because peers are (relay bridging). Own and followed together are
    /// bounded by `gossip.max_topics`.
    followed_topics: HashSet<TopicHash>,
    /// Inbound rate limits per author and in total.
    flood: FloodControl,
    /// Reputation per peer, and bans.
    reputation: Reputation,
    /// Peers blocked for a ban, unblocked when it ends. Bounded by `reputation.maxBans`.
    blocked: HashSet<PeerId>,
    /// Incomplete chunk sets, bounded by `gossip.chunks`.
    reassembler: Reassembler,
    /// The application's validators, one per topic (at most `gossip.max_topics`).
    validators: HashMap<TopicHash, std::sync::Arc<dyn MessageValidator>>,
    /// Validations in progress, at most `gossip.max_pending_validations`.
    validations: FuturesUnordered<BoxFuture<'static, gossip_in::Validated>>,
    /// Publishes waiting for the pacer, bounded by `gossip.publish_queue_*`.
    outbound: OutboundQueue<gossip_out::PublishTag>,
    pacer: Pacer,
    /// Counters per topic, at most `gossip.max_topics` (+1 for the rest).
    stats: StatsBook,
    /// Peers upgraded to a direct connection whose relayed connections close at the given time.
    /// At most one entry per connected peer.
    relayed_to_close: Vec<(PeerId, web_time::Instant)>,
    /// Where the peer store's documents go, once `with_peer_store` was called.
    store: Option<peer_store::StoreOut>,
    /// The connected peers as seen from outside the loop.
    connected: crate::ConnectedPeers,
    /// Connected rendezvous points (at most `discovery::MAX_POINTS`).
    rendezvous_points: HashSet<PeerId>,
    /// Namespaces kept registered, at most `rendezvous.max_namespaces`.
    registrations: Registrations,
    /// Peers found by namespace, bounded by `rendezvous.max_discovered_namespaces` and
    /// `max_peers_per_namespace`.
    found: Found,
    /// `register` calls waiting for a point (at most 64).
    pending_registers: Vec<rendezvous::PendingRegister>,
    /// `discover` calls waiting for the points (at most 64).
    pending_discovers: Vec<rendezvous::PendingDiscover>,
    /// DHT calls waiting on Kademlia queries (at most 64).
    dht_queries: dht::DhtQueries,
    /// The addresses our signed peer record last went out with.
    own_peer_record: Option<Vec<Multiaddr>>,
    /// Signs our peer record: the swarm's identity (`None` if the edge passed another one).
    keypair: Option<libp2p::identity::Keypair>,
    /// Peers the node wants connected, at most `connections.max_kept_peers`.
    kept: KeptPeers,
    /// Redials, waiters and reservations of the kept peers.
    manager: connections::ManagerState,
    /// Connection state per peer (connecting, connected, disconnecting).
    states: StateBook,
    /// Bytes per peer, counted by the transports the edge wrapped.
    traffic: Traffic,
    /// Events made where the loop cannot await; sent after each step (a few per step).
    queued: VecDeque<Event>,
    /// Listeners opened by `listen`, removed (closed cleanly) when the node stops.
    listeners: Vec<libp2p::core::transport::ListenerId>,
    /// Services this node registered and refreshes, at most `services.max_registered`.
    own_services: std::collections::BTreeMap<String, services::OwnService>,
    /// Service records heard, at most `services.max_cached_records`.
    service_cache: crate::services::cache::ServiceCache,
    /// DHT calls made before any DHT server was known (`server_wait`).
    server_waits: Vec<server_wait::Waiting>,
    /// Relay selection: the kept relays' status, refusals, a move in progress.
    relay_selection: relays::RelaySelection,
    /// On a relay: reservations and circuits held, status answers being written.
    relay_serving: relays::RelayServing,
    /// On a relay: relay status asks (never ends elsewhere).
    status_requests:
        futures::stream::Fuse<futures::stream::BoxStream<'static, (PeerId, libp2p::Stream)>>,
    /// Peer records heard over gossip (at most `peer_exchange.max_known_peers`), and our last
    /// announcement.
    exchange: peer_exchange::ExchangeState,
}

impl EventLoop {
    /// Wrap a swarm built by the edge. Returns the loop (to be spawned), a handle for callers and
    /// the receiver of its events. `keypair` is the swarm's identity: it signs our DHT peer
    /// record (another identity's keypair is logged as an error and no record is published).
    ///
    /// `config` must be the one the swarm's behaviour was built from, already validated (as
    /// [`Behaviour::new`] does); should a value still be refused here, the loop falls back to the
    /// default for that part and logs it.
    pub fn new(
        swarm: Swarm<Behaviour>,
        keypair: libp2p::identity::Keypair,
        config: NodeConfig,
    ) -> (Self, NodeHandle, EventReceiver) {
        let keypair = if keypair.public().to_peer_id() == *swarm.local_peer_id() {
            Some(keypair)
        } else {
            tracing::error!("EventLoop::new: the keypair is not the swarm's identity; no peer record is published");
            None
        };
        let status_requests = relay_status_requests(&swarm, &config);
        let (handle, commands, events, event_rx) = channel(
            config.limits.command_queue,
            config.limits.event_queue,
            *swarm.local_peer_id(),
            swarm.behaviour().streams.new_control(),
        );
        let g = &config.gossip;
        let flood = FloodControl::new(&g.flood).unwrap_or_else(|e| {
            tracing::error!("gossip.flood: {e}; using the defaults");
            FloodControl::with_defaults()
        });
        let rz = &config.rendezvous;
        let registrations =
            Registrations::new(rz.max_namespaces, Duration::from_secs(rz.timeout_secs));
        let found = Found::new(rz.max_discovered_namespaces, rz.max_peers_per_namespace);
        let c = &config.connections;
        let kept = KeptPeers::new(
            c.max_kept_peers,
            Duration::from_millis(c.reconnect_base_ms),
            Duration::from_secs(c.reconnect_max_secs),
            Jitter::from_entropy(),
        );
        let event_loop = Self {
            kept,
            manager: connections::ManagerState::default(),
            states: StateBook::default(),
            traffic: Traffic::default(),
            queued: VecDeque::new(),
            listeners: Vec::new(),
            own_services: std::collections::BTreeMap::new(),
            server_waits: Vec::new(),
            service_cache: crate::services::cache::ServiceCache::new(
                config.services.max_cached_records,
            ),
            exchange: peer_exchange::ExchangeState::new(config.peer_exchange.max_known_peers),
            relay_selection: relays::RelaySelection::default(),
            relay_serving: relays::RelayServing::default(),
            status_requests,
            dht_queries: HashMap::new(),
            own_peer_record: None,
            keypair,
            rendezvous_points: HashSet::new(),
            registrations,
            found,
            pending_registers: Vec::new(),
            pending_discovers: Vec::new(),
            flood,
            reputation: Reputation::new(g.reputation.clone()),
            blocked: HashSet::new(),
            reassembler: Reassembler::new(g.chunks.clone()),
            validators: HashMap::new(),
            validations: FuturesUnordered::new(),
            outbound: OutboundQueue::new(g.publish_queue_per_topic, g.publish_queue_bytes),
            pacer: Pacer::new(g.pacer.clone(), web_time::Instant::now()),
            stats: StatsBook::new(g.max_topics),
            swarm,
            commands,
            events,
            config,
            pending_dials: HashMap::new(),
            peers: HashMap::new(),
            own_topics: HashSet::new(),
            followed_topics: HashSet::new(),
            relayed_to_close: Vec::new(),
            store: None,
            connected: crate::ConnectedPeers::default(),
        };
        (event_loop, handle, event_rx)
    }

    /// Keep `connected` up to date (instead of a private set): for transports that must know
    /// whether a peer is connected. Call before `run`.
    pub fn with_connected_peers(mut self, connected: crate::ConnectedPeers) -> Self {
        self.connected = connected;
        self
    }

    /// Read byte counts from `traffic`: the one the edge's transports wrap their connections
    /// with ([`Traffic::wrap`]). Call before `run`.
    pub fn with_traffic(mut self, traffic: Traffic) -> Self {
        self.traffic = traffic;
        self
    }

    /// Run until a `Shutdown` command arrives or every handle is dropped.
    pub async fn run(mut self) {
        let mut tick = Delay::new(TICK).fuse();
        let mut drain_wake = futures::future::Fuse::terminated();
        self.join_system_topics();
        // Stored peers first: they are due at once.
        self.dial_due_kept(web_time::Instant::now());
        loop {
            futures::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event).await,
                command = self.commands.next() => match command {
                    Some(Command::Shutdown { reply }) => {
                        self.flush_before_finish().await;
                        self.finish(Some(reply));
                        return;
                    }
                    Some(command) => self.on_command(command),
                    None => {
                        self.flush_before_finish().await;
                        self.finish(None);
                        return;
                    }
                },
                done = self.validations.select_next_some() => self.on_validated(done).await,
                (relay, status) = self.relay_selection.probes.select_next_some() => {
                    self.on_relay_status(relay, status)
                }
                ask = self.status_requests.select_next_some() => self.answer_relay_status(ask),
                () = self.relay_serving.answers.select_next_some() => {}
                _ = tick => {
                    self.on_tick().await;
                    tick = Delay::new(TICK).fuse();
                }
                _ = drain_wake => {}
            }
            while let Some(event) = self.queued.pop_front() {
                self.emit(event).await;
            }
            if let Some(wait) = self.drain_outbound() {
                drain_wake = Delay::new(wait).fuse();
            }
        }
    }

    /// Once a [`TICK`]: forget idle rate-limit state, end bans, expire chunk sets, adapt the pace.
    async fn on_tick(&mut self) {
        let now = web_time::Instant::now();
        self.save_peer_store();
        self.flood.housekeeping();
        self.reputation.expire(now);
        let expired = self.reassembler.expire(now);
        if expired > 0 {
            tracing::debug!(expired, "incomplete chunk sets expired");
        }
        let ended: Vec<PeerId> = self
            .blocked
            .iter()
            .filter(|p| !self.reputation.is_banned(p, now))
            .copied()
            .collect();
        for peer in ended {
            self.blocked.remove(&peer);
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
        }
        self.pacer.tick();
        self.close_upgraded_relayed(now);
        self.rendezvous_tick(now);
        self.refresh_own_peer_record();
        self.retry_server_waits(now);
        self.services_tick(now);
        self.peer_exchange_tick(now);
        self.connections_tick(now);
    }

    /// The last peer store document, given at most [`STORE_FLUSH_DEADLINE`] to be taken.
    async fn flush_before_finish(&mut self) {
        let flush = self.flush_peer_store().fuse();
        let deadline = Delay::new(STORE_FLUSH_DEADLINE).fuse();
        futures::pin_mut!(flush, deadline);
        futures::select! {
            _ = flush => {}
            _ = deadline => tracing::warn!("the peer store's last document was not taken in time"),
        }
    }

    /// Fail everything still waiting, then let go of the swarm (closing all connections).
    fn finish(mut self, reply: Option<Reply<()>>) {
        self.fail_pending_dials();
        for (_, waiters) in self.manager.waiters.drain() {
            for waiter in waiters {
                let _ = waiter.send(Err(CoreError::stopped()));
            }
        }
        for queued in self.outbound.drain() {
            let _ = queued.tag.reply.send(Err(CoreError::stopped()));
        }
        self.commands.close();
        // Closed explicitly: some transports (the memory transport) free an address only then.
        for listener in std::mem::take(&mut self.listeners) {
            self.swarm.remove_listener(listener);
        }
        drop(self.swarm);
        if let Some(reply) = reply {
            let _ = reply.send(Ok(()));
        }
    }

    /// `swarm.dial`, reporting `connecting` for a known peer: the swarm reports `Dialing` only
    /// for the dials its behaviours start.
    fn swarm_dial(
        &mut self,
        opts: libp2p::swarm::dial_opts::DialOpts,
    ) -> Result<(), libp2p::swarm::DialError> {
        let peer = opts.get_peer_id();
        self.swarm.dial(opts)?;
        if let Some(peer) = peer {
            let transition = self.states.on_dialing(peer);
            self.queue_transitions(transition);
        }
        Ok(())
    }

    async fn emit(&mut self, event: Event) {
        // Awaiting room is the backpressure: a slow consumer slows the node, memory stays
        // bounded. A dropped receiver means nobody listens, which is fine.
        let _ = self.events.send(event).await;
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Dial {
                address,
                fresh,
                reply,
            } => self.dial(address, fresh, reply),
            Command::Listen { address, reply } => {
                let result = self
                    .swarm
                    .listen_on(address.clone())
                    .map(|id| self.listeners.push(id))
                    .map_err(|e| {
                        CoreError::new(
                            ErrorCode::StartFailed,
                            format!("cannot listen on {address}: {}", describe_chain(&e)),
                        )
                    });
                let _ = reply.send(result);
            }
            Command::Subscribe { topic, reply } => {
                let _ = reply.send(self.subscribe(&topic));
            }
            Command::Unsubscribe { topic, reply } => {
                let _ = reply.send(self.unsubscribe(&topic));
            }
            Command::Publish {
                topic,
                data,
                priority,
                reply,
            } => self.enqueue_publish(topic, data, priority, reply),
            Command::SetValidator {
                topic,
                validator,
                reply,
            } => {
                let _ = reply.send(self.set_validator(&topic, validator.map(|v| v.0)));
            }
            Command::Stats { reply } => {
                let _ = reply.send(Ok(self.gossip_stats()));
            }
            Command::Peers {
                include_kept,
                reply,
            } => {
                let _ = reply.send(Ok(self.peer_list(include_kept)));
            }
            Command::Keep {
                peer,
                addresses,
                roles,
                reply,
            } => self.keep(peer, addresses, roles, reply),
            Command::RemovePeer { peer, reply } => {
                let _ = reply.send(Ok(self.remove_peer(peer)));
            }
            Command::ListenAddrs { reply } => {
                // Listeners, plus external addresses such as `<circuit>/webrtc`.
                let mut addresses: Vec<Multiaddr> = self.swarm.listeners().cloned().collect();
                for external in self.swarm.external_addresses() {
                    if !addresses.contains(external) {
                        addresses.push(external.clone());
                    }
                }
                let _ = reply.send(Ok(addresses));
            }
            Command::Register {
                namespace,
                ttl_secs,
                reply,
            } => self.register(namespace, ttl_secs, reply),
            Command::Unregister { namespace, reply } => {
                let _ = reply.send(self.unregister(&namespace));
            }
            Command::Discover { namespace, reply } => self.discover(namespace, reply),
            Command::FindPeer { peer, reply } => self.find_peer(peer, reply),
            Command::PutRecord {
                key,
                value,
                quorum,
                reply,
            } => self.put_record(key, value, quorum, reply),
            Command::GetRecord { key, quorum, reply } => self.get_record(key, quorum, reply),
            Command::RegisterService {
                service,
                registration,
                reply,
            } => self.register_service(service, registration, reply),
            Command::UnregisterService { service, reply } => {
                self.unregister_service(service, reply)
            }
            Command::FindService { service, reply } => self.find_service(service, reply),
            Command::Provide { key, reply } => self.provide(key, reply),
            Command::StopProviding { key, reply } => self.stop_providing(key, reply),
            Command::FindProviders { key, limit, reply } => self.find_providers(key, limit, reply),
            Command::Shutdown { reply } => {
                // Handled in `run`; unreachable here but answered rather than dropped.
                let _ = reply.send(Ok(()));
            }
        }
    }

    fn topic_count(&self) -> usize {
        self.own_topics.len() + self.followed_topics.len()
    }

    fn subscribe(&mut self, topic: &str) -> Result<bool, CoreError> {
        validate::topic(topic)?;
        let t = IdentTopic::new(topic);
        let hash = t.hash();
        if self.own_topics.contains(&hash) {
            return Ok(false);
        }
        if self.followed_topics.remove(&hash) {
            self.own_topics.insert(hash);
            return Ok(true);
        }
        if self.topic_count() >= self.config.gossip.max_topics {
            return Err(CoreError::new(
                ErrorCode::LimitReached,
                format!(
                    "already subscribed to {} topics (gossip.maxTopics)",
                    self.topic_count()
                ),
            ));
        }
        self.swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&t)
            .map_err(|e| {
                CoreError::new(ErrorCode::LimitReached, format!("cannot subscribe: {e}"))
            })?;
        self.score_topic(&t);
        self.own_topics.insert(hash);
        self.wake_gossip();
        Ok(true)
    }

    fn unsubscribe(&mut self, topic: &str) -> Result<bool, CoreError> {
        validate::topic(topic)?;
        let t = IdentTopic::new(topic);
        let hash = t.hash();
        if !self.own_topics.remove(&hash) {
            return Ok(false);
        }
        if self.config.gossip.follow_peer_topics && self.topic_has_peers(&hash) {
            // Still bridging for the peers that want it.
            self.followed_topics.insert(hash);
        } else {
            self.swarm.behaviour_mut().gossipsub.unsubscribe(&t);
            self.forget_topic(&t);
            self.wake_gossip();
        }
        Ok(true)
    }

    fn topic_has_peers(&self, hash: &TopicHash) -> bool {
        self.swarm
            .behaviour()
            .gossipsub
            .all_peers()
            .any(|(_, topics)| topics.contains(&hash))
    }

    /// Follow a topic a peer subscribed to, if this node bridges and has room.
    fn follow(&mut self, hash: TopicHash) {
        if !self.config.gossip.follow_peer_topics
            || self.is_system_topic(&hash)
            || self.own_topics.contains(&hash)
            || self.followed_topics.contains(&hash)
            || self.topic_count() >= self.config.gossip.max_topics
        {
            return;
        }
        let topic = IdentTopic::new(hash.as_str());
        if self
            .swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&topic)
            .is_ok()
        {
            self.score_topic(&topic);
            self.followed_topics.insert(hash);
            self.wake_gossip();
        }
    }

    /// Drop followed topics no peer wants any more.
    fn unfollow_abandoned(&mut self) {
        let abandoned: Vec<TopicHash> = self
            .followed_topics
            .iter()
            .filter(|h| !self.topic_has_peers(h))
            .cloned()
            .collect();
        for hash in abandoned {
            self.followed_topics.remove(&hash);
            let topic = IdentTopic::new(hash.as_str());
            self.swarm.behaviour_mut().gossipsub.unsubscribe(&topic);
            self.forget_topic(&topic);
            self.wake_gossip();
        }
    }

    /// Have every connection polled soon, so gossipsub sends what it just queued even on a
    /// connection it has not opened a stream on yet (`gossip::wake`).
    fn wake_gossip(&mut self) {
        self.swarm.behaviour_mut().gossip_wake.request();
    }

    /// Score parameters for a topic this node now carries.
    fn score_topic(&mut self, topic: &IdentTopic) {
        if self.config.gossip.peer_scoring {
            let gossipsub = &mut self.swarm.behaviour_mut().gossipsub;
            if let Err(e) = gossipsub.set_topic_params(topic.clone(), scoring::topic_score_params())
            {
                tracing::warn!(%topic, "cannot set topic score parameters: {e}");
            }
        }
    }

    /// Drop what the node kept for a topic it no longer carries.
    fn forget_topic(&mut self, topic: &IdentTopic) {
        self.validators.remove(&topic.hash());
        self.stats.forget(topic.hash().as_str());
    }

    async fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => {
                self.on_connected(peer_id, connection_id, &endpoint).await;
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                cause,
                ..
            } => {
                self.on_closed(peer_id, connection_id, cause.map(|c| c.to_string()))
                    .await;
            }
            SwarmEvent::Dialing {
                peer_id: Some(peer),
                ..
            } => {
                let transition = self.states.on_dialing(peer);
                self.queue_transitions(transition);
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => {
                let code = match error {
                    libp2p::swarm::DialError::WrongPeerId { .. } => ErrorCode::PeerIdMismatch,
                    _ => ErrorCode::DialFailed,
                };
                let message = match peer_id {
                    Some(peer) => format!("dial to {peer} failed: {}", describe_chain(&error)),
                    None => format!("dial failed: {}", describe_chain(&error)),
                };
                let error = CoreError::new(code, message);
                self.on_kept_connection_error(connection_id, &error);
                if let Some(peer) = peer_id {
                    let transition = self.states.on_dial_failed(peer, &error.message);
                    self.queue_transitions(transition);
                }
                if !self.on_dial_failed(connection_id, &error) {
                    tracing::debug!("{}", error.message);
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                if self.config.advertise_listen_addrs
                    && !address
                        .iter()
                        .any(|p| p == libp2p::multiaddr::Protocol::P2pCircuit)
                {
                    self.swarm.add_external_address(address.clone());
                }
                self.on_circuit_listen_addr(&address, true);
                self.emit(Event::ListenAddr { address }).await;
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.swarm.remove_external_address(&address);
                self.on_circuit_listen_addr(&address, false);
                self.emit(Event::ListenAddrExpired { address }).await;
            }
            SwarmEvent::ListenerError { error, .. } => {
                let error = CoreError::new(
                    ErrorCode::StartFailed,
                    format!("listener error: {}", describe_chain(&error)),
                );
                self.emit(Event::Error { error }).await;
            }
            SwarmEvent::ListenerClosed {
                listener_id,
                reason,
                addresses,
            } => {
                self.on_listener_closed(listener_id);
                self.listeners.retain(|l| *l != listener_id);
                // The swarm reports a closed listener's addresses only here (no
                // `ExpiredListenAddr`): a released relay's circuit addresses, and the external
                // addresses made from them, must go too, or records keep advertising them.
                for address in &addresses {
                    self.swarm.remove_external_address(address);
                    self.on_circuit_listen_addr(address, false);
                    self.queued.push_back(Event::ListenAddrExpired {
                        address: address.clone(),
                    });
                }
                if let Err(e) = reason {
                    let error = CoreError::new(
                        ErrorCode::StartFailed,
                        format!("listener on {addresses:?} closed: {e}"),
                    );
                    self.emit(Event::Error { error }).await;
                }
            }
            // A relay reservation confirms a circuit address: registrations can go out.
            SwarmEvent::ExternalAddrConfirmed { .. } => self.send_due_registrations(),
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event).await,
            _ => {}
        }
    }

    async fn on_connected(&mut self, peer: PeerId, id: ConnectionId, endpoint: &ConnectedPoint) {
        let address = endpoint.get_remote_address().clone();
        let transport = TransportKind::of_endpoint(endpoint);
        let state = self.peers.entry(peer).or_insert_with(PeerState::new);
        state.connections.push(Connection {
            id,
            address: address.clone(),
            transport,
        });
        let first = state.connections.len() == 1;
        if first {
            self.connected.insert(peer);
        }
        let transition = self.states.on_connected(peer, endpoint.is_dialer());
        self.queue_transitions(transition);
        self.manager.dials.remove(&id);
        if first {
            self.on_manager_connected(peer);
        }
        // After the bookkeeping: a browser-to-browser dial's second step needs the peer
        // connected.
        self.on_dial_connected(id, peer);
        if first {
            self.emit(Event::PeerConnected {
                peer_id: peer,
                transport,
                address,
            })
            .await;
        } else if transport == TransportKind::Webrtc {
            self.on_upgraded(peer, address).await;
        }
    }

    async fn on_closed(&mut self, peer: PeerId, id: ConnectionId, cause: Option<String>) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        let Some(position) = state.connections.iter().position(|c| c.id == id) else {
            return;
        };
        let closed = state.connections.remove(position);
        if state.connections.is_empty() {
            self.peers.remove(&peer);
            self.connected.remove(&peer);
            self.on_rendezvous_point_gone(&peer);
            self.unfollow_abandoned();
            self.on_manager_disconnected(peer);
            let transitions = self.states.on_disconnected(peer, cause.clone());
            self.emit(Event::PeerDisconnected {
                peer_id: peer,
                transport: closed.transport,
                cause,
            })
            .await;
            self.queue_transitions(transitions);
        }
    }

    async fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Gossipsub(event) => self.on_gossip_event(event).await,
            BehaviourEvent::Ping(ping::Event {
                peer,
                result: Ok(rtt),
                ..
            }) => {
                if let Some(state) = self.peers.get_mut(&peer) {
                    state.rtt = Some(rtt);
                }
            }
            BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result: Err(failure),
            }) => self.on_ping_failed(peer, connection, failure),
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                if let Some(state) = self.peers.get_mut(&peer_id) {
                    state.agent = Some(info.agent_version.clone());
                    state.listen_addrs = info
                        .listen_addrs
                        .iter()
                        .take(MAX_REPORTED_LISTEN_ADDRS)
                        .cloned()
                        .collect();
                }
                self.on_rendezvous_point(peer_id, &info.protocols);
                if info.protocols.contains(&KAD_PROTOCOL) {
                    for address in info.listen_addrs {
                        self.swarm
                            .behaviour_mut()
                            .kad
                            .add_address(&peer_id, address);
                    }
                }
            }
            BehaviourEvent::RelayServer(event) => self.on_relay_server_event(event),
            BehaviourEvent::RelayClient(relay::client::Event::ReservationReqAccepted {
                relay_peer_id,
                renewal,
                ..
            }) => {
                self.on_reservation_accepted(relay_peer_id);
                self.emit(Event::RelayReservation {
                    relay_peer_id,
                    renewal,
                })
                .await;
            }
            BehaviourEvent::Rendezvous(event) => self.on_rendezvous_event(event).await,
            BehaviourEvent::Mdns(event) => {
                self.on_mdns_found(crate::discovery::mdns::found(event))
                    .await;
            }
            BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
                id,
                result,
                step,
                stats,
            }) => self.on_kad_progress(id, result, step.last, stats.num_requests()),
            BehaviourEvent::Kad(kad::Event::InboundRequest { request }) => {
                self.on_kad_inbound(request)
            }
            BehaviourEvent::Kad(kad::Event::RoutingUpdated { peer, .. }) => {
                tracing::trace!(%peer, "kademlia routing table updated");
                self.retry_server_waits(web_time::Instant::now());
            }
            _ => {}
        }
    }

    async fn on_gossip_event(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => {
                self.on_gossip_message(propagation_source, message_id, message)
                    .await;
            }
            gossipsub::Event::SlowPeer {
                peer_id,
                failed_messages,
            } => {
                tracing::debug!(%peer_id, ?failed_messages, "gossipsub dropped messages to a slow peer");
                self.pacer.on_loss();
            }
            // meshwork's own topics are its business, not the application's.
            gossipsub::Event::Subscribed { topic, .. }
            | gossipsub::Event::Unsubscribed { topic, .. }
                if self.is_system_topic(&topic) => {}
            gossipsub::Event::Subscribed { peer_id, topic } => {
                self.follow(topic.clone());
                self.emit(Event::Subscription {
                    peer_id,
                    topic: topic.into_string(),
                    subscribed: true,
                })
                .await;
            }
            gossipsub::Event::Unsubscribed { peer_id, topic } => {
                self.unfollow_abandoned();
                self.emit(Event::Subscription {
                    peer_id,
                    topic: topic.into_string(),
                    subscribed: false,
                })
                .await;
            }
            _ => {}
        }
    }
}

/// On a relay, the stream of relay status asks; elsewhere a stream that never yields.
fn relay_status_requests(
    swarm: &Swarm<Behaviour>,
    config: &NodeConfig,
) -> futures::stream::Fuse<futures::stream::BoxStream<'static, (PeerId, libp2p::Stream)>> {
    let never = || futures::stream::pending().boxed().fuse();
    if config.relay_server.is_none() {
        return never();
    }
    match swarm
        .behaviour()
        .streams
        .new_control()
        .accept(crate::relay_status::RELAY_STATUS_PROTOCOL)
    {
        Ok(incoming) => incoming.boxed().fuse(),
        Err(e) => {
            tracing::error!("cannot serve relay status: {e}");
            never()
        }
    }
}
