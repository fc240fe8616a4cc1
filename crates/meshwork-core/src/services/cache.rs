//! Service records this node heard (gossip announcements, DHT answers), each provider's freshest
//! per service, bounded: when full, the record that expires first makes room.

use std::collections::HashMap;

use libp2p::PeerId;

use super::record::SignedService;

/// What [`ServiceCache::insert`] did with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// It is fresher than what the cache held for its provider (or new): kept.
    Fresher,
    /// The cache already held this record or a fresher one: nothing changed.
    Stale,
}

/// The cache. Default bound: `services.maxCachedRecords` (256).
#[derive(Debug)]
pub struct ServiceCache {
    records: HashMap<(String, PeerId), SignedService>,
    max: usize,
}

impl ServiceCache {
    /// An empty cache of at most `max` records (at least 1).
    pub fn new(max: usize) -> Self {
        Self {
            records: HashMap::new(),
            max: max.max(1),
        }
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Keep `record` if it is fresher than the provider's record of that service, making room
    /// (and dropping what expired at `now_ms`) if needed.
    pub fn insert(&mut self, record: SignedService, now_ms: u64) -> Inserted {
        let key = (record.record.service.clone(), record.record.provider);
        if let Some(held) = self.records.get(&key) {
            if held.record.issued_at_ms >= record.record.issued_at_ms {
                return Inserted::Stale;
            }
        } else if self.records.len() >= self.max {
            self.expire(now_ms);
            if self.records.len() >= self.max {
                let soonest = self
                    .records
                    .iter()
                    .min_by_key(|(_, r)| r.record.expires_at_ms())
                    .map(|(k, _)| k.clone());
                if let Some(k) = soonest {
                    self.records.remove(&k);
                }
            }
        }
        self.records.insert(key, record);
        Inserted::Fresher
    }

    /// Every unexpired record of `service`.
    pub fn of_service(&self, service: &str, now_ms: u64) -> Vec<SignedService> {
        self.records
            .iter()
            .filter(|((s, _), r)| s == service && !r.record.is_expired(now_ms))
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Drop expired records.
    pub fn expire(&mut self, now_ms: u64) {
        self.records.retain(|_, r| !r.record.is_expired(now_ms));
    }
}

#[cfg(test)]
mod tests {
    use libp2p::identity::Keypair;

    use super::*;
    use crate::services::record::{sign, tests::record, tests::NOW};

    #[test]
    fn keeps_the_freshest_per_provider_and_stays_bounded() {
        let a = Keypair::generate_ed25519();
        let mut cache = ServiceCache::new(2);
        let first = sign(&a, record(&a, "s", NOW)).unwrap();
        let second = sign(&a, record(&a, "s", NOW + 1)).unwrap();
        assert_eq!(cache.insert(first.clone(), NOW), Inserted::Fresher);
        assert_eq!(cache.insert(first.clone(), NOW), Inserted::Stale);
        assert_eq!(cache.insert(second.clone(), NOW), Inserted::Fresher);
        assert_eq!(cache.insert(first, NOW), Inserted::Stale, "older");
        assert_eq!(cache.of_service("s", NOW), vec![second]);

        let mut short = record(&a, "t", NOW);
        short.ttl_secs = 30;
        cache.insert(sign(&a, short).unwrap(), NOW);
        let b = Keypair::generate_ed25519();
        cache.insert(sign(&b, record(&b, "u", NOW)).unwrap(), NOW);
        assert_eq!(cache.len(), 2);
        assert!(
            cache.of_service("t", NOW).is_empty(),
            "the soonest to expire made room"
        );
        cache.expire(NOW + 600_001);
        assert!(cache.is_empty());
    }
}
