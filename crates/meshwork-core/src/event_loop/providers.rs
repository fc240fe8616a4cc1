//! Kademlia provider records in the loop: `provide` (announce that this node provides a key,
//! republished by Kademlia while the node runs), `stop_providing`, and `find_providers` (the
//! providers of a key, with the addresses this node already knows for each; the handle looks
//! the rest up with `find_peer`).

use std::collections::HashSet;

use libp2p::{
    kad::{self, store::RecordStore, GetProvidersOk, QueryId},
    Multiaddr, PeerId,
};

use super::{dht::DhtQuery, server_wait::WaitingCall, EventLoop};
use crate::{command::Reply, dht, CoreError, ErrorCode};

/// Most providers one `find_providers` returns.
pub const MAX_PROVIDERS: usize = 20;

/// A `find_providers` lookup in progress.
pub(super) struct FindProviders {
    limit: usize,
    found: Vec<PeerId>,
    reply: Reply<Vec<dht::Provider>>,
}

impl EventLoop {
    pub(super) fn provide(&mut self, key: Vec<u8>, reply: Reply<()>) {
        if let Err(e) = self
            .dht_room()
            .and_then(|_| dht::validate_record(&key, &[], usize::MAX))
        {
            let _ = reply.send(Err(e));
            return;
        }
        if !self.dht_server_ready() {
            self.wait_for_dht_server(WaitingCall::Provide { key, reply });
            return;
        }
        match self
            .swarm
            .behaviour_mut()
            .kad
            .start_providing(dht::record_key(&key))
        {
            Ok(id) => {
                self.dht_queries.insert(id, DhtQuery::Provide { reply });
            }
            Err(e) => {
                let _ = reply.send(Err(CoreError::new(
                    ErrorCode::LimitReached,
                    format!("cannot provide the key: {e:?}"),
                )));
            }
        }
    }

    pub(super) fn stop_providing(&mut self, key: Vec<u8>, reply: Reply<bool>) {
        if let Err(e) = dht::validate_record(&key, &[], usize::MAX) {
            let _ = reply.send(Err(e));
            return;
        }
        // A provide of this key still waiting for a DHT server must not go out after this.
        let waiting = self.withdraw_waiting(
            |call| matches!(call, WaitingCall::Provide { key: k, .. } if *k == key),
            "stopProviding",
        );
        let key = dht::record_key(&key);
        let kad = &mut self.swarm.behaviour_mut().kad;
        let was = kad.store_mut().provided().any(|p| p.key == key);
        kad.stop_providing(&key);
        let _ = reply.send(Ok(was || waiting > 0));
    }

    pub(super) fn find_providers(
        &mut self,
        key: Vec<u8>,
        limit: usize,
        reply: Reply<Vec<dht::Provider>>,
    ) {
        let checked = self
            .dht_room()
            .and_then(|_| dht::validate_record(&key, &[], usize::MAX))
            .and_then(|_| {
                if (1..=MAX_PROVIDERS).contains(&limit) {
                    Ok(())
                } else {
                    Err(CoreError::new(
                        ErrorCode::InvalidOptions,
                        format!("limit must be between 1 and {MAX_PROVIDERS}"),
                    ))
                }
            });
        if let Err(e) = checked {
            let _ = reply.send(Err(e));
            return;
        }
        if !self.dht_server_ready() {
            self.wait_for_dht_server(WaitingCall::FindProviders { key, limit, reply });
            return;
        }
        let id = self
            .swarm
            .behaviour_mut()
            .kad
            .get_providers(dht::record_key(&key));
        let lookup = FindProviders {
            limit,
            found: Vec::new(),
            reply,
        };
        self.dht_queries.insert(id, DhtQuery::FindProviders(lookup));
    }

    pub(super) fn on_find_providers_progress(
        &mut self,
        id: QueryId,
        mut lookup: FindProviders,
        result: Result<GetProvidersOk, kad::GetProvidersError>,
        last: bool,
    ) {
        let local = *self.swarm.local_peer_id();
        if let Ok(GetProvidersOk::FoundProviders { providers, .. }) = result {
            for peer in providers {
                if peer != local && !lookup.found.contains(&peer) {
                    lookup.found.push(peer);
                }
            }
        }
        let enough = lookup.found.len() >= lookup.limit;
        if !enough && !last {
            self.dht_queries.insert(id, DhtQuery::FindProviders(lookup));
            return;
        }
        if let Some(mut q) = self.swarm.behaviour_mut().kad.query_mut(&id) {
            q.finish();
        }
        lookup.found.truncate(lookup.limit);
        let providers = lookup
            .found
            .iter()
            .map(|peer| dht::Provider {
                peer_id: *peer,
                addresses: self.known_addresses(peer),
            })
            .collect();
        let _ = lookup.reply.send(Ok(providers));
    }

    /// What this node knows of `peer`'s addresses: what it said itself (identify), then its
    /// routing-table entry, each ending in `/p2p/<peer>`.
    fn known_addresses(&mut self, peer: &PeerId) -> Vec<Multiaddr> {
        let mut all: Vec<Multiaddr> = self
            .peers
            .get(peer)
            .map(|s| s.listen_addrs.clone())
            .unwrap_or_default();
        for bucket in self.swarm.behaviour_mut().kad.kbuckets() {
            for entry in bucket.iter() {
                if entry.node.key.preimage() == peer {
                    all.extend(entry.node.value.iter().cloned());
                }
            }
        }
        let mut seen = HashSet::new();
        crate::addresses::all_with_peer_id(all, *peer)
            .into_iter()
            .filter(|a| seen.insert(a.clone()))
            .collect()
    }
}
