//! DHT calls made before this node knows any DHT server: right after connecting, identify has
//! not yet told Kademlia of one, and a query with an empty routing table asks nobody (a lookup
//! answers "not found", a put misses its quorum, a registration or provider announcement
//! reaches nobody). Such calls wait, bounded in number and time, and go on at the first
//! routing-table update.

use libp2p::PeerId;
use web_time::{Duration, Instant};

use super::EventLoop;
use crate::{
    command::Reply,
    dht,
    services::{record::ServiceView, Registration},
    CoreError, ErrorCode,
};

/// How long a call made before any DHT server is known waits for one.
pub(super) const SERVER_WAIT: Duration = Duration::from_secs(10);
/// Calls waiting for a DHT server, at most.
const MAX_WAITING: usize = 64;

/// A call waiting for a DHT server, and until when.
pub(super) struct Waiting {
    call: WaitingCall,
    until: Instant,
}

/// The DHT calls that wait; each is the command's arguments and its reply, already validated.
pub(super) enum WaitingCall {
    RegisterService {
        service: String,
        registration: Registration,
        reply: Reply<ServiceView>,
    },
    FindService {
        service: String,
        reply: Reply<ServiceView>,
    },
    FindPeer {
        peer: PeerId,
        reply: Reply<dht::FoundPeer>,
    },
    GetRecord {
        key: Vec<u8>,
        quorum: usize,
        reply: Reply<Vec<u8>>,
    },
    PutRecord {
        key: Vec<u8>,
        value: Vec<u8>,
        quorum: usize,
        reply: Reply<()>,
    },
    Provide {
        key: Vec<u8>,
        reply: Reply<()>,
    },
    FindProviders {
        key: Vec<u8>,
        limit: usize,
        reply: Reply<Vec<dht::Provider>>,
    },
}

impl WaitingCall {
    /// Answer the call with `error`.
    fn fail(self, error: CoreError) {
        match self {
            Self::RegisterService { reply, .. } | Self::FindService { reply, .. } => {
                let _ = reply.send(Err(error));
            }
            Self::FindPeer { reply, .. } => {
                let _ = reply.send(Err(error));
            }
            Self::GetRecord { reply, .. } => {
                let _ = reply.send(Err(error));
            }
            Self::PutRecord { reply, .. } | Self::Provide { reply, .. } => {
                let _ = reply.send(Err(error));
            }
            Self::FindProviders { reply, .. } => {
                let _ = reply.send(Err(error));
            }
        }
    }
}

impl EventLoop {
    /// Kademlia's routing table holds at least one server.
    pub(super) fn knows_dht_server(&mut self) -> bool {
        self.swarm.behaviour_mut().kad.kbuckets().next().is_some()
    }

    /// Whether a DHT server is known. Calls still waiting go on first, so that a later call
    /// never overtakes an earlier one in the moment between the routing table's update and the
    /// loop handling it.
    pub(super) fn dht_server_ready(&mut self) -> bool {
        if !self.knows_dht_server() {
            return false;
        }
        if !self.server_waits.is_empty() {
            self.retry_server_waits(Instant::now());
        }
        true
    }

    /// Take back the waiting calls `withdrawn` picks (a `stopProviding` or `unregisterService`
    /// made while its `provide` or `registerService` still waits), failing each with
    /// `DISCOVERY_FAILED` (it never reached a DHT server). Returns how many there were.
    pub(super) fn withdraw_waiting(
        &mut self,
        withdrawn: impl Fn(&WaitingCall) -> bool,
        by: &str,
    ) -> usize {
        let mut count = 0;
        for w in std::mem::take(&mut self.server_waits) {
            if withdrawn(&w.call) {
                count += 1;
                w.call.fail(CoreError::new(
                    ErrorCode::DiscoveryFailed,
                    format!("withdrawn by {by} before any DHT server was known"),
                ));
            } else {
                self.server_waits.push(w);
            }
        }
        count
    }

    /// Park `call` until a DHT server is known (at most [`SERVER_WAIT`]; at most
    /// [`MAX_WAITING`] calls, beyond which it is `LIMIT_REACHED`).
    pub(super) fn wait_for_dht_server(&mut self, call: WaitingCall) {
        if self.server_waits.len() >= MAX_WAITING {
            call.fail(CoreError::new(
                ErrorCode::LimitReached,
                format!("{MAX_WAITING} DHT calls already wait for a DHT server"),
            ));
            return;
        }
        self.server_waits.push(Waiting {
            call,
            until: Instant::now() + SERVER_WAIT,
        });
    }

    /// Calls that waited for a DHT server: go on once one is known, fail with
    /// `DISCOVERY_FAILED` at their deadline. Run on routing-table updates and every tick.
    pub(super) fn retry_server_waits(&mut self, now: Instant) {
        if self.server_waits.is_empty() {
            return;
        }
        let known = self.knows_dht_server();
        for w in std::mem::take(&mut self.server_waits) {
            if known {
                self.resume(w.call);
            } else if now >= w.until {
                w.call.fail(CoreError::new(
                    ErrorCode::DiscoveryFailed,
                    format!("no DHT server known within {SERVER_WAIT:?} of the call"),
                ));
            } else {
                self.server_waits.push(w);
            }
        }
    }

    fn resume(&mut self, call: WaitingCall) {
        match call {
            WaitingCall::RegisterService {
                service,
                registration,
                reply,
            } => self.register_service(service, registration, reply),
            WaitingCall::FindService { service, reply } => self.find_service(service, reply),
            WaitingCall::FindPeer { peer, reply } => self.find_peer(peer, reply),
            WaitingCall::GetRecord { key, quorum, reply } => self.get_record(key, quorum, reply),
            WaitingCall::PutRecord {
                key,
                value,
                quorum,
                reply,
            } => self.put_record(key, value, quorum, reply),
            WaitingCall::Provide { key, reply } => self.provide(key, reply),
            WaitingCall::FindProviders { key, limit, reply } => {
                self.find_providers(key, limit, reply)
            }
        }
    }
}
