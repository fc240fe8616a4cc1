//! The caller's side of the event loop: a cheap, cloneable handle that sends [`Command`]s and
//! awaits their replies.

use futures::{
    channel::{mpsc, oneshot},
    SinkExt,
};
use libp2p::{Multiaddr, PeerId};

use std::sync::Arc;

use crate::{
    addresses,
    command::{Reply, ValidatorHandle},
    connmgr::Roles,
    error::describe_chain,
    gossip::{outbound::Priority, stats::GossipStats, validator::MessageValidator},
    perf::{self, PerfReport, PerfRequest, PERF_PROTOCOL},
    Command, CoreError, DiscoveredPeer, ErrorCode, Event, PeerInfo,
};

/// Receives the loop's events.
pub type EventReceiver = mpsc::Receiver<Event>;
/// The loop's end of the event channel.
pub type EventSender = mpsc::Sender<Event>;
/// The loop's end of the command channel.
pub type CommandReceiver = mpsc::Receiver<Command>;

/// Make the two bounded channels between callers and a loop. `streams` opens protocol streams
/// on the loop's swarm without going through the loop.
pub fn channel(
    command_capacity: usize,
    event_capacity: usize,
    local_peer_id: PeerId,
    streams: libp2p_stream::Control,
) -> (NodeHandle, CommandReceiver, EventSender, EventReceiver) {
    let (ctx, crx) = mpsc::channel(command_capacity);
    let (etx, erx) = mpsc::channel(event_capacity);
    (
        NodeHandle {
            commands: ctx,
            local_peer_id,
            streams,
        },
        crx,
        etx,
        erx,
    )
}

/// Talks to a running [`crate::event_loop::EventLoop`]. Every method fails with
/// [`crate::ErrorCode::NodeStopped`] once the loop has ended.
#[derive(Clone)]
pub struct NodeHandle {
    commands: mpsc::Sender<Command>,
    local_peer_id: PeerId,
    streams: libp2p_stream::Control,
}

impl std::fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHandle")
            .field("local_peer_id", &self.local_peer_id)
            .finish_non_exhaustive()
    }
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

    /// Dial an address; resolves with the remote peer ID once connected. A remote that is not
    /// the address's `/p2p/<id>` fails with `DIAL_FAILED`, as every dial failure does here
    /// (`add_peer` tells it apart as `PEER_ID_MISMATCH`).
    pub async fn dial(&self, address: Multiaddr) -> Result<PeerId, CoreError> {
        self.call(|reply| Command::Dial {
            address,
            fresh: false,
            reply,
        })
        .await
        .map_err(|e| match e.code {
            ErrorCode::PeerIdMismatch => CoreError::new(ErrorCode::DialFailed, e.message),
            _ => e,
        })
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

    /// Publish at normal priority; see [`Self::publish_with`].
    pub async fn publish(
        &self,
        topic: impl Into<String>,
        data: Vec<u8>,
    ) -> Result<String, CoreError> {
        self.publish_with(topic, data, Priority::Normal).await
    }

    /// Publish a payload of up to `gossip.chunks.maxPayloadBytes` (chunked above
    /// `gossip.maxMessageBytes`). Resolves with the message ID once handed to gossipsub, at the
    /// pace the links take; rejects with `BACKPRESSURE` at once if the topic's queue is full, or
    /// later if the publish is shed for higher-priority ones.
    pub async fn publish_with(
        &self,
        topic: impl Into<String>,
        data: Vec<u8>,
        priority: Priority,
    ) -> Result<String, CoreError> {
        let topic = topic.into();
        self.call(|reply| Command::Publish {
            topic,
            data,
            priority,
            reply,
        })
        .await
    }

    /// Install the validator of `topic` (replacing any), or remove it with `None`.
    pub async fn set_validator(
        &self,
        topic: impl Into<String>,
        validator: Option<Arc<dyn MessageValidator>>,
    ) -> Result<(), CoreError> {
        let topic = topic.into();
        let validator = validator.map(ValidatorHandle);
        self.call(|reply| Command::SetValidator {
            topic,
            validator,
            reply,
        })
        .await
    }

    /// Gossip counters per topic and queue state.
    pub async fn stats(&self) -> Result<GossipStats, CoreError> {
        self.call(|reply| Command::Stats { reply }).await
    }

    /// The connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, CoreError> {
        self.call(|reply| Command::Peers {
            include_kept: false,
            reply,
        })
        .await
    }

    /// The connected peers, then the kept peers (bootstrap, relays, added) that are not.
    pub async fn list_peers(&self) -> Result<Vec<PeerInfo>, CoreError> {
        self.call(|reply| Command::Peers {
            include_kept: true,
            reply,
        })
        .await
    }

    /// Keep `peer` connected for `roles`, dialled at `addresses` (best first, tried one at a
    /// time). Resolves once connected, or with the first dial's error; a kept peer lost later
    /// is redialled with backoff and jitter (relays and added peers always, bootstrap peers
    /// while the node has fewer than `connections.target` peers).
    pub async fn keep(
        &self,
        peer: PeerId,
        addresses: Vec<Multiaddr>,
        roles: Roles,
    ) -> Result<PeerId, CoreError> {
        self.call(|reply| Command::Keep {
            peer,
            addresses,
            roles,
            reply,
        })
        .await
    }

    /// Connect to `address` and keep the peer connected (see [`Self::keep`]). The remote's
    /// identity must be `expected` (and the address's own `/p2p/<id>`, if it has one), or the
    /// call fails with `PEER_ID_MISMATCH` and nothing is kept. A peer that cannot be reached
    /// fails with `DIAL_FAILED` and is not kept either.
    pub async fn add_peer(
        &self,
        address: Multiaddr,
        expected: Option<PeerId>,
    ) -> Result<PeerId, CoreError> {
        let named = addresses::peer_id_of(&address);
        if let (Some(named), Some(expected)) = (named, expected) {
            if named != expected {
                return Err(CoreError::new(
                    ErrorCode::PeerIdMismatch,
                    format!("the address names {named}, but {expected} was expected"),
                ));
            }
        }
        if expected.or(named) == Some(self.local_peer_id) {
            return Err(CoreError::new(
                ErrorCode::InvalidPeerId,
                "that is this node's own peer ID",
            ));
        }
        let manual = Roles {
            manual: true,
            ..Roles::default()
        };
        // A dial of its own first, even if the peer is connected: it proves that this address
        // reaches this identity before the address is kept.
        let address = match expected {
            Some(peer) => addresses::with_peer_id(address, peer),
            None => address,
        };
        let peer = self
            .call(|reply| Command::Dial {
                address: address.clone(),
                fresh: true,
                reply,
            })
            .await?;
        let address = addresses::with_peer_id(address, peer);
        self.keep(peer, vec![address], manual).await
    }

    /// Stop keeping `peer` and close its connections; `true` if it was kept or connected.
    pub async fn remove_peer(&self, peer: PeerId) -> Result<bool, CoreError> {
        self.call(|reply| Command::RemovePeer { peer, reply }).await
    }

    /// This node's listen addresses.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, CoreError> {
        self.call(|reply| Command::ListenAddrs { reply }).await
    }

    /// Register under a rendezvous namespace at every connected rendezvous point (refreshed until
    /// [`Self::unregister`]). Resolves with the lifetime granted, in seconds, once a point
    /// accepts; fails with `DISCOVERY_FAILED` if none is connected, this node has no reachable
    /// address yet, or every point refuses.
    pub async fn register(
        &self,
        namespace: impl Into<String>,
        ttl_secs: Option<u64>,
    ) -> Result<u64, CoreError> {
        let namespace = namespace.into();
        self.call(|reply| Command::Register {
            namespace,
            ttl_secs,
            reply,
        })
        .await
    }

    /// Unregister from a namespace; `true` if it was registered.
    pub async fn unregister(&self, namespace: impl Into<String>) -> Result<bool, CoreError> {
        let namespace = namespace.into();
        self.call(|reply| Command::Unregister { namespace, reply })
            .await
    }

    /// The peers registered under a namespace at the connected rendezvous points.
    pub async fn discover(
        &self,
        namespace: impl Into<String>,
    ) -> Result<Vec<DiscoveredPeer>, CoreError> {
        let namespace = namespace.into();
        self.call(|reply| Command::Discover { namespace, reply })
            .await
    }

    /// Find a peer's addresses through the DHT (a page is found by its signed peer record, which
    /// holds its circuit addresses). Fails with `NOT_FOUND`. Like the other lookups, puts,
    /// provides and [`Self::register_service`], a call made before any DHT server is known
    /// (right after connecting) waits up to 10 s for one, then fails with `DISCOVERY_FAILED`
    /// (a put or provide that fails so is not kept: call it again). `stop_providing` and
    /// `unregister_service` do not wait; they withdraw a waiting `provide` or registration of
    /// the same key or service.
    pub async fn find_peer(&self, peer: PeerId) -> Result<crate::dht::FoundPeer, CoreError> {
        self.call(|reply| Command::FindPeer { peer, reply }).await
    }

    /// Store a record at `quorum` or more of the closest DHT servers (waits for a first DHT
    /// server as [`Self::find_peer`] does).
    pub async fn put_record(
        &self,
        key: Vec<u8>,
        value: Vec<u8>,
        quorum: usize,
    ) -> Result<(), CoreError> {
        self.call(|reply| Command::PutRecord {
            key,
            value,
            quorum,
            reply,
        })
        .await
    }

    /// Fetch a record: the first value seen in `quorum` matching copies. Fails with
    /// `NOT_FOUND` (waits for a first DHT server as [`Self::find_peer`] does).
    pub async fn get_record(&self, key: Vec<u8>, quorum: usize) -> Result<Vec<u8>, CoreError> {
        self.call(|reply| Command::GetRecord { key, quorum, reply })
            .await
    }

    /// Announce in the DHT that this node provides `key` (an application key, as for records);
    /// Kademlia republishes the provider record while the node runs. `DISCOVERY_FAILED` if no
    /// DHT server took it (waits for a first DHT server as [`Self::find_peer`] does).
    pub async fn provide(&self, key: Vec<u8>) -> Result<(), CoreError> {
        self.call(|reply| Command::Provide { key, reply }).await
    }

    /// Stop announcing `key`; `true` if this node provided it. Records already stored at
    /// others expire on their own.
    pub async fn stop_providing(&self, key: Vec<u8>) -> Result<bool, CoreError> {
        self.call(|reply| Command::StopProviding { key, reply })
            .await
    }

    /// Up to `limit` (1 to 20) providers of `key` other than this node, each with addresses:
    /// the ones this node knows, else the provider is looked up with [`Self::find_peer`]
    /// (left empty if that fails). An empty list if there is none. Waits for a first DHT
    /// server as [`Self::find_peer`] does.
    pub async fn find_providers(
        &self,
        key: Vec<u8>,
        limit: usize,
    ) -> Result<Vec<crate::dht::Provider>, CoreError> {
        let mut providers = self
            .call(|reply| Command::FindProviders { key, limit, reply })
            .await?;
        let lookups = providers
            .iter()
            .map(|p| (p.addresses.is_empty(), p.peer_id))
            .map(|(unknown, peer)| async move {
                if unknown {
                    self.find_peer(peer).await.ok().map(|f| f.addresses)
                } else {
                    None
                }
            });
        let found = futures::future::join_all(lookups).await;
        for (provider, addresses) in providers.iter_mut().zip(found) {
            if let Some(addresses) = addresses {
                provider.addresses = addresses;
            }
        }
        Ok(providers)
    }

    /// Register (or update) a service this node provides: a record signed by this node, with
    /// its current addresses, goes into the service's DHT set (at `services.quorum` servers) and
    /// out on the services gossip topic, and is refreshed at half its lifetime (and when the
    /// addresses change) until [`Self::unregister_service`]. Bad input is `INVALID_OPTIONS` or
    /// (oversized metadata) `PAYLOAD_TOO_LARGE`; over `services.maxRegistered` is
    /// `LIMIT_REACHED`; a record the DHT would not store is `DISCOVERY_FAILED`. Called right
    /// after connecting, it waits up to 10 s for the first DHT server to be known.
    pub async fn register_service(
        &self,
        service: impl Into<String>,
        registration: crate::Registration,
    ) -> Result<crate::ServiceView, CoreError> {
        let service = service.into();
        self.call(|reply| Command::RegisterService {
            service,
            registration,
            reply,
        })
        .await
    }

    /// Stop providing a service: a signed departure supersedes our record in the DHT and is
    /// announced over gossip. `true` if it was registered; `DISCOVERY_FAILED` if the departure
    /// could not be stored (the registration is gone here all the same).
    pub async fn unregister_service(&self, service: impl Into<String>) -> Result<bool, CoreError> {
        let service = service.into();
        self.call(|reply| Command::UnregisterService { service, reply })
            .await
    }

    /// The freshest live record of a service, from its DHT set and what gossip brought;
    /// `NOT_FOUND` if there is none (or every provider departed). Called right after
    /// connecting, it waits up to 10 s for the first DHT server to be known
    /// (`DISCOVERY_FAILED` if none is).
    pub async fn find_service(
        &self,
        service: impl Into<String>,
    ) -> Result<crate::ServiceView, CoreError> {
        let service = service.into();
        self.call(|reply| Command::FindService { service, reply })
            .await
    }

    /// A control for opening and accepting plain protocol streams (an edge uses it to serve
    /// [`PERF_PROTOCOL`]).
    pub fn stream_control(&self) -> libp2p_stream::Control {
        self.streams.clone()
    }

    /// Measure stream throughput to `peer` with the perf protocol (connecting if needed). The
    /// peer must serve [`PERF_PROTOCOL`].
    pub async fn perf(&self, peer: PeerId, request: PerfRequest) -> Result<PerfReport, CoreError> {
        if self.is_stopped() {
            return Err(CoreError::stopped());
        }
        let failed = |what: &str, e: &dyn std::error::Error| {
            CoreError::new(
                ErrorCode::StreamFailed,
                format!("perf with {peer}: {what}: {}", describe_chain(e)),
            )
        };
        let stream = self
            .streams
            .clone()
            .open_stream(peer, PERF_PROTOCOL)
            .await
            .map_err(|e| failed("cannot open a stream", &e))?;
        perf::run_client(stream, request)
            .await
            .map_err(|e| failed("stream failed", &e))
    }

    /// Stop the node; resolves once every connection is dropped.
    pub async fn shutdown(&self) -> Result<(), CoreError> {
        self.call(|reply| Command::Shutdown { reply }).await
    }
}
