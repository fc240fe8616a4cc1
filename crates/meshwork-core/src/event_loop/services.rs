//! The service registry in the loop: registering (a signed record into the DHT set of the
//! service, then announced over gossip), refreshing at half the lifetime or when our addresses
//! change, departing, finding (DHT sets, merged with what gossip brought), and merging the sets
//! others ask us to store.

use libp2p::{
    gossipsub::IdentTopic,
    kad::{self, store::RecordStore, GetRecordOk, PutRecordError, QueryId, Record},
    Multiaddr, PeerId,
};
use web_time::{Duration, Instant};

use super::{dht::DhtQuery, server_wait::WaitingCall, system_topics::Verdict, EventLoop};
use crate::{
    clock::now_ms,
    command::Reply,
    services::{
        self,
        cache::Inserted,
        record::{self, ServiceRecord, ServiceView, SignedService},
        set, Registration,
    },
    CoreError, ErrorCode, Event,
};

/// DHT copies of a service's set read before `find_service` answers.
const SET_COPIES: usize = 3;
/// A failed refresh is tried again after this long.
const REFRESH_RETRY: Duration = Duration::from_secs(30);
/// Address changes re-sign a registration at most this often.
const MIN_RESIGN_GAP: Duration = Duration::from_secs(5);

/// A service this node registered and keeps refreshed.
pub(super) struct OwnService {
    registration: Registration,
    /// The record last put (its addresses, its issue time).
    signed: SignedService,
    /// When it was last signed.
    signed_at: Instant,
    /// When to put it again.
    next_refresh: Instant,
    /// A refresh put is in flight.
    refreshing: bool,
}

/// What to do once a service set's put ends.
pub(super) enum PutDone {
    /// `register_service`: keep it and answer.
    Register {
        registration: Registration,
        reply: Reply<ServiceView>,
    },
    /// `unregister_service`: answer.
    Unregister { reply: Reply<bool> },
    /// A refresh of a kept registration.
    Refresh,
}

fn discovery_failed(message: String) -> CoreError {
    CoreError::new(ErrorCode::DiscoveryFailed, message)
}

impl EventLoop {
    pub(super) fn register_service(
        &mut self,
        service: String,
        registration: Registration,
        reply: Reply<ServiceView>,
    ) {
        let valid = services::validate_service_id(&service).and_then(|_| registration.validate());
        if valid.is_ok() && !self.dht_server_ready() {
            self.wait_for_dht_server(WaitingCall::RegisterService {
                service,
                registration,
                reply,
            });
            return;
        }
        let checked = valid
            .and_then(|_| self.service_room(&service))
            .and_then(|_| self.sign_service(&service, &registration, false))
            .and_then(|signed| self.put_service(signed));
        match checked {
            Ok((id, signed)) => {
                let done = PutDone::Register {
                    registration,
                    reply,
                };
                self.dht_queries
                    .insert(id, DhtQuery::ServicePut { signed, done });
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }

    pub(super) fn unregister_service(&mut self, service: String, reply: Reply<bool>) {
        if let Err(e) = services::validate_service_id(&service) {
            let _ = reply.send(Err(e));
            return;
        }
        // A registration (or update) of this service still waiting for a DHT server must not
        // go out after this.
        let waiting = self.withdraw_waiting(
            |call| matches!(call, WaitingCall::RegisterService { service: s, .. } if *s == service),
            "unregisterService",
        );
        let Some(registration) = self
            .own_services
            .get(&service)
            .map(|o| o.registration.clone())
        else {
            let _ = reply.send(Ok(waiting > 0));
            return;
        };
        // Signed before the registration is dropped: the departure is issued after the record
        // it replaces (`sign_service` looks that record up).
        let signed = self.sign_service(&service, &registration, true);
        self.own_services.remove(&service);
        let departure = self.dht_room().and(signed).and_then(|signed| {
            self.announce_service(&signed);
            self.put_service(signed)
        });
        match departure {
            Ok((id, signed)) => {
                let done = PutDone::Unregister { reply };
                self.dht_queries
                    .insert(id, DhtQuery::ServicePut { signed, done });
            }
            Err(e) => {
                let _ = reply.send(Err(discovery_failed(format!(
                    "unregistered here, but the departure could not be stored ({}); the old record stays findable until it expires",
                    e.message
                ))));
            }
        }
    }

    pub(super) fn find_service(&mut self, service: String, reply: Reply<ServiceView>) {
        if let Err(e) = services::validate_service_id(&service).and_then(|_| self.dht_room()) {
            let _ = reply.send(Err(e));
            return;
        }
        if !self.dht_server_ready() {
            // A lookup with an empty routing table asks nobody and finds nothing.
            self.wait_for_dht_server(WaitingCall::FindService { service, reply });
            return;
        }
        let id = self
            .swarm
            .behaviour_mut()
            .kad
            .get_record(services::key(&service));
        let lookup = FindService {
            service,
            found: Vec::new(),
            copies: 0,
            reply,
        };
        self.dht_queries.insert(id, DhtQuery::FindService(lookup));
    }

    /// Room for one more registration of `service` (a new one, or an update of ours).
    fn service_room(&self, service: &str) -> Result<(), CoreError> {
        self.dht_room()?;
        let max = self.config.services.max_registered;
        if !self.own_services.contains_key(service) && self.own_services.len() >= max {
            return Err(CoreError::new(
                ErrorCode::LimitReached,
                format!("{max} services are already registered (services.maxRegistered)"),
            ));
        }
        Ok(())
    }

    /// Our record of `service` (or its departure), signed, issued after any earlier one.
    fn sign_service(
        &self,
        service: &str,
        registration: &Registration,
        departed: bool,
    ) -> Result<SignedService, CoreError> {
        let keypair = self.keypair.as_ref().ok_or_else(|| {
            CoreError::new(
                ErrorCode::StartFailed,
                "this node has no identity to sign service records with",
            )
        })?;
        let earlier = self
            .own_services
            .get(service)
            .map_or(0, |o| o.signed.record.issued_at_ms);
        let record = ServiceRecord {
            service: service.to_owned(),
            kind: registration.kind.clone(),
            provider: *self.swarm.local_peer_id(),
            addresses: if departed {
                Vec::new()
            } else {
                self.service_addresses()
            },
            metadata: if departed {
                Default::default()
            } else {
                registration.metadata.clone()
            },
            issued_at_ms: now_ms().max(earlier + 1),
            ttl_secs: registration.ttl(),
            departed,
        };
        record::sign(keypair, record)
    }

    /// The addresses a record lists: our external addresses (relay circuits for a page).
    fn service_addresses(&self) -> Vec<Multiaddr> {
        let mut addresses: Vec<Multiaddr> = self.swarm.external_addresses().cloned().collect();
        addresses.sort();
        addresses.truncate(services::MAX_ADDRESSES);
        addresses
    }

    /// Put `signed` into the DHT set of its service (merged with the copy we hold).
    fn put_service(
        &mut self,
        signed: SignedService,
    ) -> Result<(QueryId, SignedService), CoreError> {
        let service = signed.record.service.clone();
        let now = now_ms();
        let held = self.held_service_set(&service, now);
        let merged = set::merge(
            held.into_iter().chain([signed.clone()]),
            now,
            self.config.dht.max_value_bytes,
        );
        if !merged.contains(&signed) {
            return Err(CoreError::new(
                ErrorCode::PayloadTooLarge,
                "the record does not fit in dht.maxValueBytes",
            ));
        }
        let record = set_record(&service, &merged, now, self.dht_record_ttl());
        let quorum = super::dht::quorum_of(self.config.services.quorum);
        let id = self
            .swarm
            .behaviour_mut()
            .kad
            .put_record(record, quorum)
            .map_err(|e| discovery_failed(format!("cannot store the record: {e:?}")))?;
        Ok((id, signed))
    }

    fn dht_record_ttl(&self) -> Duration {
        Duration::from_secs(self.config.dht.record_ttl_secs)
    }

    /// The records of `service` in our own DHT store (a server holds others' too).
    fn held_service_set(&mut self, service: &str, now: u64) -> Vec<SignedService> {
        let store = self.swarm.behaviour_mut().kad.store_mut();
        store
            .get(&services::key(service))
            .and_then(|r| set::decode(&r.value, service, now).ok())
            .unwrap_or_default()
    }

    /// A service set another node asks us to store: merged into ours, never stored as sent.
    pub(super) fn store_service_set(&mut self, source: PeerId, record: Record) {
        let max_bytes = self.config.dht.max_value_bytes;
        let Some(service) = services::service_of_key(&record.key)
            .filter(|s| services::validate_service_id(s).is_ok())
            .map(str::to_owned)
        else {
            tracing::debug!(%source, "service set refused: bad key");
            return;
        };
        if record.value.len() > max_bytes {
            tracing::debug!(%source, "service set refused: {} bytes", record.value.len());
            return;
        }
        let now = now_ms();
        let incoming = match set::decode(&record.value, &service, now) {
            Ok(records) => records,
            Err(e) => {
                tracing::debug!(%source, %service, "service set refused: {e}");
                return;
            }
        };
        let held = self.held_service_set(&service, now);
        let merged = set::merge(held.into_iter().chain(incoming), now, max_bytes);
        let store = self.swarm.behaviour_mut().kad.store_mut();
        if merged.is_empty() {
            store.remove(&record.key);
            return;
        }
        let mut stored = set_record(&service, &merged, now, self.dht_record_ttl());
        stored.publisher = record.publisher;
        let store = self.swarm.behaviour_mut().kad.store_mut();
        if let Err(e) = store.put(stored) {
            tracing::debug!(%source, %service, "service set not stored: {e:?}");
        }
    }

    pub(super) fn on_service_put(
        &mut self,
        signed: SignedService,
        done: PutDone,
        result: Result<kad::PutRecordOk, PutRecordError>,
    ) {
        let service = signed.record.service.clone();
        match (done, result) {
            (
                PutDone::Register {
                    registration,
                    reply,
                },
                Ok(_),
            ) => {
                let view = signed.record.view();
                self.announce_service(&signed);
                let now = Instant::now();
                let next_refresh = now + refresh_gap(&registration);
                self.own_services.insert(
                    service,
                    OwnService {
                        registration,
                        signed,
                        signed_at: now,
                        next_refresh,
                        refreshing: false,
                    },
                );
                let _ = reply.send(Ok(view));
            }
            (PutDone::Register { reply, .. }, Err(e)) => {
                let _ = reply.send(Err(discovery_failed(format!(
                    "the service record could not be stored in the DHT: {e}"
                ))));
            }
            (PutDone::Unregister { reply }, Ok(_)) => {
                let _ = reply.send(Ok(true));
            }
            (PutDone::Unregister { reply }, Err(e)) => {
                let _ = reply.send(Err(discovery_failed(format!(
                    "unregistered here, but the departure could not be stored ({e}); the old record stays findable until it expires"
                ))));
            }
            (PutDone::Refresh, result) => {
                let Some(own) = self.own_services.get_mut(&service) else {
                    return; // unregistered meanwhile
                };
                own.refreshing = false;
                let now = Instant::now();
                match result {
                    Ok(_) => {
                        own.next_refresh = now + refresh_gap(&own.registration);
                    }
                    Err(e) => {
                        tracing::debug!(%service, "service refresh failed: {e}");
                        own.next_refresh = now + REFRESH_RETRY;
                    }
                }
            }
        }
    }

    pub(super) fn on_find_service_progress(
        &mut self,
        id: QueryId,
        lookup: FindService,
        result: Result<GetRecordOk, kad::GetRecordError>,
        last: bool,
    ) {
        let FindService {
            service,
            mut found,
            mut copies,
            reply,
        } = lookup;
        let now = now_ms();
        if let Ok(GetRecordOk::FoundRecord(peer_record)) = result {
            match set::decode(&peer_record.record.value, &service, now) {
                Ok(records) => {
                    copies += 1;
                    found.extend(records);
                }
                Err(e) => {
                    tracing::debug!(%service, from = ?peer_record.peer, "bad service set: {e}")
                }
            }
        }
        if copies < SET_COPIES && !last {
            let lookup = FindService {
                service,
                found,
                copies,
                reply,
            };
            self.dht_queries.insert(id, DhtQuery::FindService(lookup));
            return;
        }
        if let Some(mut q) = self.swarm.behaviour_mut().kad.query_mut(&id) {
            q.finish();
        }
        let heard = self.service_cache.of_service(&service, now);
        let own = self.own_services.get(&service).map(|o| o.signed.clone());
        let merged = set::merge(found.into_iter().chain(heard).chain(own), now, usize::MAX);
        for r in &merged {
            self.service_cache.insert(r.clone(), now);
        }
        let answer = match set::freshest_live(&merged, now) {
            Some(r) => Ok(r.record.view()),
            None if merged.is_empty() => Err(CoreError::new(
                ErrorCode::NotFound,
                format!("no record of service {service:?} was found"),
            )),
            None => Err(CoreError::new(
                ErrorCode::NotFound,
                format!("every provider of service {service:?} has departed"),
            )),
        };
        let _ = reply.send(answer);
    }

    /// Announce `signed` on the services topic (if this node gossips services).
    fn announce_service(&mut self, signed: &SignedService) {
        if !self.config.services.gossip {
            return;
        }
        let topic = IdentTopic::new(services::TOPIC);
        let gossipsub = &mut self.swarm.behaviour_mut().gossipsub;
        match gossipsub.publish(topic, signed.signed.clone()) {
            Ok(_) => self.wake_gossip(),
            Err(e) => {
                tracing::debug!(service = %signed.record.service, "service announcement not sent: {e}")
            }
        }
    }

    /// Once a tick: drop expired cached records; refresh registrations that are due or whose
    /// addresses changed.
    pub(super) fn services_tick(&mut self, now: Instant) {
        self.service_cache.expire(now_ms());
        if self.own_services.is_empty() {
            return;
        }
        let addresses = self.service_addresses();
        let due: Vec<String> = self
            .own_services
            .iter()
            .filter(|(_, o)| !o.refreshing)
            .filter(|(_, o)| {
                now >= o.next_refresh
                    || (o.signed.record.addresses != addresses
                        && now.duration_since(o.signed_at) >= MIN_RESIGN_GAP)
            })
            .map(|(s, _)| s.clone())
            .collect();
        for service in due {
            self.refresh_service(&service, now);
        }
    }

    fn refresh_service(&mut self, service: &str, now: Instant) {
        let Some(registration) = self
            .own_services
            .get(service)
            .map(|o| o.registration.clone())
        else {
            return;
        };
        let put = self
            .dht_room()
            .and_then(|_| self.sign_service(service, &registration, false))
            .and_then(|signed| self.put_service(signed));
        let Some(own) = self.own_services.get_mut(service) else {
            return;
        };
        match put {
            Ok((id, signed)) => {
                own.signed = signed.clone();
                own.signed_at = now;
                own.refreshing = true;
                self.announce_service(&signed);
                let done = PutDone::Refresh;
                self.dht_queries
                    .insert(id, DhtQuery::ServicePut { signed, done });
            }
            Err(e) => {
                tracing::debug!(%service, "service refresh not started: {}", e.message);
                own.next_refresh = now + REFRESH_RETRY;
            }
        }
    }

    /// A message on the services topic: a record its provider announced, checked and kept if
    /// fresher than what we heard. New records and departures are reported.
    pub(super) fn take_service_record(&mut self, author: Option<PeerId>, data: &[u8]) -> Verdict {
        let now = now_ms();
        let signed = match record::verify(data, now) {
            Err(e) => return Verdict::Refused(e.message),
            Ok(r) if author != Some(r.record.provider) => {
                return Verdict::Refused("announced by someone other than its provider".into())
            }
            Ok(r) => r,
        };
        if self.service_cache.insert(signed.clone(), now) == Inserted::Stale {
            return Verdict::Stale;
        }
        let record = signed.record;
        Verdict::Taken(Some(Box::new(if record.departed {
            Event::ServiceDeparted {
                service: record.service,
                provider: record.provider,
            }
        } else {
            Event::ServiceAnnounced { record }
        })))
    }
}

/// A `find_service` lookup in progress.
pub(super) struct FindService {
    service: String,
    /// Valid records from the sets read so far.
    found: Vec<SignedService>,
    /// Sets read so far.
    copies: usize,
    reply: Reply<ServiceView>,
}

/// When a registration is put again: at half its lifetime.
fn refresh_gap(registration: &Registration) -> Duration {
    Duration::from_secs(registration.ttl() / 2)
}

/// The DHT record holding `records`, living as long as its longest-lived record (at most the
/// DHT's record lifetime).
fn set_record(service: &str, records: &[SignedService], now_ms: u64, max_ttl: Duration) -> Record {
    let longest = records
        .iter()
        .map(|r| r.record.expires_at_ms().saturating_sub(now_ms))
        .max()
        .unwrap_or(0);
    let mut record = Record::new(services::key(service), set::encode(records));
    record.expires = Some(Instant::now() + Duration::from_millis(longest).min(max_ttl));
    record
}
