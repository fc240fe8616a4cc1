//! Peers discovered by rendezvous namespace, with the points' cookies, so that each discover
//! asks a point only for what is new since the last one while callers still get the whole,
//! current set. Bounded: `max_namespaces` namespaces (least recently used forgotten first),
//! `max_peers` peers per namespace (soonest to expire dropped first).

use std::collections::HashMap;

use libp2p::{rendezvous::Cookie, Multiaddr, PeerId};
use serde::Serialize;
use web_time::{Duration, Instant};

/// A peer registered under a namespace, as `discover` returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredPeer {
    /// The peer.
    pub peer_id: String,
    /// Its signed addresses, each ending in `/p2p/<peer>`.
    pub addresses: Vec<String>,
    /// The namespace it registered under.
    pub namespace: String,
    /// Seconds until its registration expires.
    pub expires_in_secs: u64,
}

#[derive(Debug)]
struct Entry {
    addresses: Vec<Multiaddr>,
    expires_at: Instant,
}

#[derive(Debug, Default)]
struct Namespace {
    peers: HashMap<PeerId, Entry>,
    cookies: HashMap<PeerId, Cookie>,
    last_used: u64,
}

/// Discovered registrations per namespace.
#[derive(Debug)]
pub struct Found {
    namespaces: HashMap<String, Namespace>,
    max_namespaces: usize,
    max_peers: usize,
    clock: u64,
}

impl Found {
    /// Remember at most `max_namespaces` namespaces of at most `max_peers` peers each.
    pub fn new(max_namespaces: usize, max_peers: usize) -> Self {
        Self {
            namespaces: HashMap::new(),
            max_namespaces,
            max_peers,
            clock: 0,
        }
    }

    /// The cookie `point` gave for `namespace` last time, if any.
    pub fn cookie(&self, namespace: &str, point: &PeerId) -> Option<Cookie> {
        self.namespaces.get(namespace)?.cookies.get(point).cloned()
    }

    /// Forget `point`'s cookie for `namespace` (the point no longer knows it).
    pub fn drop_cookie(&mut self, namespace: &str, point: &PeerId) {
        if let Some(ns) = self.namespaces.get_mut(namespace) {
            ns.cookies.remove(point);
        }
    }

    /// Take in a point's answer. Returns the peers that are new, or whose addresses changed.
    pub fn merge(
        &mut self,
        namespace: &str,
        point: PeerId,
        cookie: Cookie,
        registrations: Vec<(PeerId, Vec<Multiaddr>, u64)>,
        now: Instant,
    ) -> Vec<(PeerId, Vec<Multiaddr>)> {
        self.clock += 1;
        if !self.namespaces.contains_key(namespace) && self.namespaces.len() >= self.max_namespaces
        {
            self.evict_least_recently_used();
        }
        let max_peers = self.max_peers;
        let ns = self.namespaces.entry(namespace.to_owned()).or_default();
        ns.last_used = self.clock;
        ns.cookies.insert(point, cookie);
        ns.peers.retain(|_, e| e.expires_at > now);
        let mut fresh = Vec::new();
        for (peer, addresses, ttl_secs) in registrations {
            let expires_at = now + Duration::from_secs(ttl_secs);
            match ns.peers.get_mut(&peer) {
                Some(e) => {
                    e.expires_at = e.expires_at.max(expires_at);
                    if e.addresses != addresses {
                        e.addresses = addresses.clone();
                        fresh.push((peer, addresses));
                    }
                }
                None => {
                    if ns.peers.len() >= max_peers {
                        // The entry expiring soonest makes room, if it expires before this one.
                        let soonest = ns
                            .peers
                            .iter()
                            .min_by_key(|(_, e)| e.expires_at)
                            .map(|(p, e)| (*p, e.expires_at));
                        match soonest {
                            Some((p, at)) if at < expires_at => {
                                ns.peers.remove(&p);
                            }
                            _ => continue,
                        }
                    }
                    ns.peers.insert(
                        peer,
                        Entry {
                            addresses: addresses.clone(),
                            expires_at,
                        },
                    );
                    fresh.push((peer, addresses));
                }
            }
        }
        fresh
    }

    /// The unexpired peers under `namespace`, soonest to expire last.
    pub fn list(&mut self, namespace: &str, now: Instant) -> Vec<DiscoveredPeer> {
        self.clock += 1;
        let Some(ns) = self.namespaces.get_mut(namespace) else {
            return Vec::new();
        };
        ns.last_used = self.clock;
        ns.peers.retain(|_, e| e.expires_at > now);
        let mut list: Vec<(&PeerId, &Entry)> = ns.peers.iter().collect();
        list.sort_by_key(|(_, e)| std::cmp::Reverse(e.expires_at));
        list.into_iter()
            .map(|(peer, e)| DiscoveredPeer {
                peer_id: peer.to_string(),
                addresses: e
                    .addresses
                    .iter()
                    .map(|a| crate::addresses::with_peer_id(a.clone(), *peer).to_string())
                    .collect(),
                namespace: namespace.to_owned(),
                expires_in_secs: e.expires_at.saturating_duration_since(now).as_secs(),
            })
            .collect()
    }

    fn evict_least_recently_used(&mut self) {
        if let Some(oldest) = self
            .namespaces
            .iter()
            .min_by_key(|(_, ns)| ns.last_used)
            .map(|(name, _)| name.clone())
        {
            self.namespaces.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p::rendezvous::Namespace as Ns;

    fn cookie() -> Cookie {
        Cookie::for_namespace(Ns::from_static("chat"))
    }

    fn addr(n: u16) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{n}").parse().unwrap()
    }

    #[test]
    fn merges_deltas_into_the_whole_set_and_reports_what_is_new() {
        let mut f = Found::new(4, 10);
        let (point, a, b) = (PeerId::random(), PeerId::random(), PeerId::random());
        let now = Instant::now();
        let fresh = f.merge("chat", point, cookie(), vec![(a, vec![addr(1)], 60)], now);
        assert_eq!(fresh.len(), 1);
        let fresh = f.merge("chat", point, cookie(), vec![(b, vec![addr(2)], 60)], now);
        assert_eq!(fresh, vec![(b, vec![addr(2)])]);
        let again = f.merge("chat", point, cookie(), vec![(a, vec![addr(1)], 60)], now);
        assert!(again.is_empty(), "same addresses are not news");
        let list = f.list("chat", now);
        assert_eq!(list.len(), 2);
        assert!(list[0].addresses[0].ends_with(&format!("/p2p/{}", list[0].peer_id)));
        assert!(f.cookie("chat", &point).is_some());
    }

    #[test]
    fn expired_registrations_leave_the_list() {
        let mut f = Found::new(4, 10);
        let now = Instant::now();
        f.merge(
            "chat",
            PeerId::random(),
            cookie(),
            vec![(PeerId::random(), vec![addr(1)], 5)],
            now,
        );
        assert_eq!(f.list("chat", now).len(), 1);
        assert!(f.list("chat", now + Duration::from_secs(5)).is_empty());
    }

    #[test]
    fn bounded_in_namespaces_and_peers() {
        let mut f = Found::new(2, 2);
        let now = Instant::now();
        let point = PeerId::random();
        for ns in ["a", "b", "c"] {
            f.merge(
                ns,
                point,
                cookie(),
                vec![(PeerId::random(), vec![addr(1)], 60)],
                now,
            );
        }
        assert!(
            f.list("a", now).is_empty(),
            "least recently used namespace forgotten"
        );
        assert!(f.cookie("a", &point).is_none());
        let many = (0..5)
            .map(|i| (PeerId::random(), vec![addr(i)], 60 + u64::from(i)))
            .collect();
        f.merge("c", point, cookie(), many, now);
        let list = f.list("c", now);
        assert_eq!(list.len(), 2);
        assert!(
            list.iter().all(|p| p.expires_in_secs >= 63),
            "longest-lived kept"
        );
    }
}
