//! The DHT in the loop: `find_peer` (closest peers, then the peer's signed record), records with
//! a quorum, the checks on records others ask us to store, and our own peer record kept current.

use std::{collections::HashMap, num::NonZeroUsize};

use super::{server_wait::WaitingCall, EventLoop};
use crate::{command::Reply, dht, CoreError, ErrorCode};
use libp2p::{
    kad::{self, GetRecordOk, InboundRequest, QueryId, QueryResult, Quorum, Record},
    Multiaddr, PeerId,
};

/// DHT calls in flight at once.
const MAX_QUERIES: usize = 64;

/// Copies of a peer record compared before answering `find_peer`: copies left at nodes from
/// before the peer moved (or cached by Kademlia) are older; the newest (highest `seq`) wins.
const PEER_RECORD_COPIES: usize = 3;

/// A call waiting on a Kademlia query.
pub(super) enum DhtQuery {
    /// `find_peer`, first asking for the closest peers, then for the signed peer record.
    FindPeer {
        peer: PeerId,
        asked_record: bool,
        /// Requests of the closest-peers phase, once it is over.
        earlier_requests: u32,
        /// The newest valid record seen so far (seq, addresses), and how many copies were seen.
        newest: Option<(u64, Vec<Multiaddr>)>,
        copies: usize,
        reply: Reply<dht::FoundPeer>,
    },
    /// `put_record`.
    Put { reply: Reply<()> },
    /// `get_record`: copies seen per value, until one value has `quorum` copies.
    Get {
        quorum: usize,
        copies: Vec<(Vec<u8>, usize)>,
        reply: Reply<Vec<u8>>,
    },
    /// Our own peer record going out.
    OwnPeerRecord,
    /// A service record (or departure) of ours going into its service's set.
    ServicePut {
        signed: crate::services::SignedService,
        done: super::services::PutDone,
    },
    /// `find_service`.
    FindService(super::services::FindService),
    /// `provide`.
    Provide { reply: Reply<()> },
    /// `find_providers`.
    FindProviders(super::providers::FindProviders),
}

fn not_found(message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::NotFound, message)
}

pub(super) fn quorum_of(n: usize) -> Quorum {
    NonZeroUsize::new(n).map_or(Quorum::One, Quorum::N)
}

impl EventLoop {
    pub(super) fn dht_room(&self) -> Result<(), CoreError> {
        if self.dht_queries.len() >= MAX_QUERIES {
            return Err(CoreError::new(
                ErrorCode::LimitReached,
                format!("{MAX_QUERIES} DHT queries are already running"),
            ));
        }
        Ok(())
    }

    pub(super) fn find_peer(&mut self, peer: PeerId, reply: Reply<dht::FoundPeer>) {
        if let Err(e) = self.dht_room() {
            let _ = reply.send(Err(e));
            return;
        }
        if !self.dht_server_ready() {
            self.wait_for_dht_server(WaitingCall::FindPeer { peer, reply });
            return;
        }
        // Only the single closest peer is wanted: if the peer is a DHT server, that is itself,
        // and the query ends once it answers (far fewer requests than the 20 closest).
        let id = self
            .swarm
            .behaviour_mut()
            .kad
            .get_n_closest_peers(peer, NonZeroUsize::MIN);
        self.dht_queries.insert(
            id,
            DhtQuery::FindPeer {
                peer,
                asked_record: false,
                earlier_requests: 0,
                newest: None,
                copies: 0,
                reply,
            },
        );
    }

    pub(super) fn put_record(
        &mut self,
        key: Vec<u8>,
        value: Vec<u8>,
        quorum: usize,
        reply: Reply<()>,
    ) {
        if let Err(e) = self
            .dht_room()
            .and_then(|_| dht::validate_record(&key, &value, self.config.dht.max_value_bytes))
        {
            let _ = reply.send(Err(e));
            return;
        }
        if !self.dht_server_ready() {
            self.wait_for_dht_server(WaitingCall::PutRecord {
                key,
                value,
                quorum,
                reply,
            });
            return;
        }
        let record = Record::new(dht::record_key(&key), value);
        match self
            .swarm
            .behaviour_mut()
            .kad
            .put_record(record, quorum_of(quorum))
        {
            Ok(id) => {
                self.dht_queries.insert(id, DhtQuery::Put { reply });
            }
            Err(e) => {
                let _ = reply.send(Err(CoreError::new(
                    ErrorCode::LimitReached,
                    format!("cannot store the record: {e:?}"),
                )));
            }
        }
    }

    pub(super) fn get_record(&mut self, key: Vec<u8>, quorum: usize, reply: Reply<Vec<u8>>) {
        if let Err(e) = self
            .dht_room()
            .and_then(|_| dht::validate_record(&key, &[], usize::MAX))
        {
            let _ = reply.send(Err(e));
            return;
        }
        if !self.dht_server_ready() {
            self.wait_for_dht_server(WaitingCall::GetRecord { key, quorum, reply });
            return;
        }
        let id = self
            .swarm
            .behaviour_mut()
            .kad
            .get_record(dht::record_key(&key));
        self.dht_queries.insert(
            id,
            DhtQuery::Get {
                quorum: quorum.max(1),
                copies: Vec::new(),
                reply,
            },
        );
    }

    /// Put our signed peer record again if our addresses changed (Kademlia republishes it on
    /// `dht.peerRecordIntervalSecs` by itself).
    pub(super) fn refresh_own_peer_record(&mut self) {
        let mut addresses: Vec<Multiaddr> = self.swarm.external_addresses().cloned().collect();
        addresses.sort();
        if addresses.is_empty()
            || self.own_peer_record.as_ref() == Some(&addresses)
            || self
                .dht_queries
                .values()
                .any(|q| matches!(q, DhtQuery::OwnPeerRecord))
            || self.swarm.behaviour_mut().kad.kbuckets().next().is_none()
        {
            return;
        }
        let Some(keypair) = &self.keypair else {
            return;
        };
        let value = match dht::peer_record::sign(keypair, addresses.clone()) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!("{}", e.message);
                return;
            }
        };
        let key = dht::peer_record::key(self.swarm.local_peer_id());
        match self
            .swarm
            .behaviour_mut()
            .kad
            .put_record(Record::new(key, value), Quorum::One)
        {
            Ok(id) => {
                self.dht_queries.insert(id, DhtQuery::OwnPeerRecord);
                self.own_peer_record = Some(addresses);
            }
            Err(e) => tracing::debug!("cannot store our peer record: {e:?}"),
        }
    }

    /// A record or provider someone asks us to store (Kademlia leaves storing to us).
    pub(super) fn on_kad_inbound(&mut self, request: InboundRequest) {
        match request {
            InboundRequest::PutRecord {
                source,
                record: Some(record),
                ..
            } if crate::services::is_service_key(record.key.as_ref()) => {
                self.store_service_set(source, record)
            }
            InboundRequest::PutRecord {
                source,
                record: Some(record),
                ..
            } => match dht::accept_inbound(&record, self.config.dht.max_value_bytes) {
                Ok(()) => {
                    use kad::store::RecordStore;
                    if let Err(e) = self.swarm.behaviour_mut().kad.store_mut().put(record) {
                        tracing::debug!(?source, "record not stored: {e:?}");
                    }
                }
                Err(why) => tracing::debug!(?source, "record refused: {why}"),
            },
            InboundRequest::AddProvider {
                record: Some(provider),
            } => {
                use kad::store::RecordStore;
                let provider_id = provider.provider;
                if let Err(e) = self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .store_mut()
                    .add_provider(provider)
                {
                    tracing::debug!(%provider_id, "provider not stored: {e:?}");
                }
            }
            _ => {}
        }
    }

    pub(super) fn on_kad_progress(
        &mut self,
        id: QueryId,
        result: QueryResult,
        last: bool,
        requests: u32,
    ) {
        let Some(query) = self.dht_queries.remove(&id) else {
            return;
        };
        match (query, result) {
            (
                DhtQuery::FindPeer {
                    peer,
                    asked_record,
                    earlier_requests,
                    newest,
                    copies,
                    reply,
                },
                result,
            ) => {
                let lookup = Lookup {
                    id,
                    peer,
                    asked_record,
                    earlier_requests,
                    step_requests: requests,
                    newest,
                    copies,
                    last,
                };
                self.on_find_peer_progress(lookup, reply, result)
            }
            (DhtQuery::Put { reply }, QueryResult::PutRecord(result)) => {
                let _ = reply.send(result.map(|_| ()).map_err(|e| {
                    CoreError::new(
                        ErrorCode::DiscoveryFailed,
                        format!("putting the record failed: {e}"),
                    )
                }));
            }
            (DhtQuery::OwnPeerRecord, QueryResult::PutRecord(Err(e))) => {
                tracing::debug!("our peer record: {e}");
                // Try again on the next tick.
                self.own_peer_record = None;
            }
            (DhtQuery::OwnPeerRecord, QueryResult::PutRecord(Ok(_))) => {}
            (
                DhtQuery::Get {
                    quorum,
                    mut copies,
                    reply,
                },
                QueryResult::GetRecord(result),
            ) => {
                if let Ok(GetRecordOk::FoundRecord(found)) = result {
                    let value = found.record.value;
                    match copies.iter_mut().find(|(v, _)| *v == value) {
                        Some((_, n)) => *n += 1,
                        None => copies.push((value, 1)),
                    }
                }
                if let Some((value, _)) = copies.iter().find(|(_, n)| *n >= quorum) {
                    let _ = reply.send(Ok(value.clone()));
                    if let Some(mut q) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                        q.finish();
                    }
                } else if last {
                    let most = copies.iter().map(|(_, n)| *n).max().unwrap_or(0);
                    let _ = reply.send(Err(not_found(format!(
                        "no record with {quorum} matching copies (found {most})"
                    ))));
                } else {
                    self.dht_queries.insert(
                        id,
                        DhtQuery::Get {
                            quorum,
                            copies,
                            reply,
                        },
                    );
                }
            }
            (DhtQuery::ServicePut { signed, done }, QueryResult::PutRecord(result)) => {
                self.on_service_put(signed, done, result)
            }
            (DhtQuery::FindService(lookup), QueryResult::GetRecord(result)) => {
                self.on_find_service_progress(id, lookup, result, last)
            }
            (DhtQuery::Provide { reply }, QueryResult::StartProviding(result)) => {
                let _ = reply.send(result.map(|_| ()).map_err(|e| {
                    CoreError::new(
                        ErrorCode::DiscoveryFailed,
                        format!("announcing the provider record failed: {e}"),
                    )
                }));
            }
            (DhtQuery::FindProviders(lookup), QueryResult::GetProviders(result)) => {
                self.on_find_providers_progress(id, lookup, result, last)
            }
            (query, _) if !last => {
                self.dht_queries.insert(id, query);
            }
            _ => {}
        }
    }

    fn on_find_peer_progress(
        &mut self,
        lookup: Lookup,
        reply: Reply<dht::FoundPeer>,
        result: QueryResult,
    ) {
        let Lookup {
            id,
            peer,
            asked_record,
            earlier_requests,
            step_requests,
            mut newest,
            mut copies,
            last,
        } = lookup;
        // A query's stats are cumulative; the record phase adds to the closest-peers phase.
        let requests = earlier_requests + step_requests;
        let mut found: Option<Vec<Multiaddr>> = None;
        match result {
            QueryResult::GetClosestPeers(Ok(ok)) => {
                found = dht::closest::target_addresses(
                    &mut self.swarm.behaviour_mut().kad,
                    &ok.peers,
                    peer,
                );
            }
            QueryResult::GetRecord(Ok(GetRecordOk::FoundRecord(record))) => {
                match dht::peer_record::verify(&record.record.key, &record.record.value) {
                    Ok(v) if !v.addresses.is_empty() => {
                        copies += 1;
                        if newest.as_ref().is_none_or(|(seq, _)| v.seq > *seq) {
                            newest = Some((v.seq, v.addresses));
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(%peer, from = ?record.peer, "bad peer record: {}", e.message);
                    }
                }
                if copies >= PEER_RECORD_COPIES || last {
                    found = newest.take().map(|(_, addresses)| addresses);
                }
            }
            _ => {
                if asked_record && last {
                    found = newest.take().map(|(_, addresses)| addresses);
                }
            }
        }
        if let Some(addresses) = found {
            let addresses = self.first_hand_first(peer, addresses);
            let _ = reply.send(Ok(dht::FoundPeer {
                addresses,
                requests,
                from_record: asked_record,
            }));
            if let Some(mut q) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                q.finish();
            }
            return;
        }
        if !last {
            self.dht_queries.insert(
                id,
                DhtQuery::FindPeer {
                    peer,
                    asked_record,
                    earlier_requests,
                    newest,
                    copies,
                    reply,
                },
            );
            return;
        }
        if asked_record {
            let _ = reply.send(Err(not_found(format!("{peer} was not found in the DHT"))));
            return;
        }
        // Not a DHT server itself: look for its signed peer record (a page's circuit addresses).
        let id = self
            .swarm
            .behaviour_mut()
            .kad
            .get_record(dht::peer_record::key(&peer));
        self.dht_queries.insert(
            id,
            DhtQuery::FindPeer {
                peer,
                asked_record: true,
                earlier_requests: requests,
                newest: None,
                copies: 0,
                reply,
            },
        );
    }
}

impl EventLoop {
    /// `reported` (what other peers say about `peer`, possibly from before it moved) behind what
    /// `peer` itself told us over a live connection, each ending in `/p2p/<peer>`, without
    /// repeats.
    fn first_hand_first(&self, peer: PeerId, reported: Vec<Multiaddr>) -> Vec<Multiaddr> {
        let own = self
            .peers
            .get(&peer)
            .map(|s| s.listen_addrs.clone())
            .unwrap_or_default();
        let all = own.into_iter().chain(reported).collect();
        let mut merged: Vec<Multiaddr> = Vec::new();
        for address in crate::addresses::all_with_peer_id(all, peer) {
            if !merged.contains(&address) {
                merged.push(address);
            }
        }
        merged
    }
}

/// Where a `find_peer` lookup stands after a query step.
struct Lookup {
    id: QueryId,
    peer: PeerId,
    asked_record: bool,
    /// Requests of the finished closest-peers phase (0 during it).
    earlier_requests: u32,
    /// Requests of the running query so far (its stats are cumulative).
    step_requests: u32,
    /// The newest peer record seen, and copies seen (record phase).
    newest: Option<(u64, Vec<Multiaddr>)>,
    copies: usize,
    last: bool,
}

/// Pending DHT calls by query (at most 64).
pub(super) type DhtQueries = HashMap<QueryId, DhtQuery>;
