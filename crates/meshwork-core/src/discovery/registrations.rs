//! Which namespaces this node wants to be registered under, at which rendezvous points, and
//! when each registration is due for a refresh. Plain state with injected time; the event loop
//! sends the requests this says are due.

use std::collections::HashMap;

use libp2p::PeerId;
use web_time::{Duration, Instant};

use crate::{CoreError, ErrorCode};

/// Wait after a refused or failed registration before asking that point again.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);
/// The soonest a granted registration is refreshed, whatever its lifetime.
const MIN_REFRESH: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq)]
enum AtPoint {
    /// A request is out since then; a lost answer is retried after the request timeout.
    InFlight { since: Instant },
    /// Granted; refresh at half the granted lifetime.
    Registered { refresh_at: Instant },
    /// Refused or failed; try again then.
    Failed { retry_at: Instant },
}

#[derive(Debug)]
struct Wanted {
    ttl_secs: u64,
    points: HashMap<PeerId, AtPoint>,
}

/// The registrations this node keeps alive, at most `max_namespaces`.
#[derive(Debug)]
pub struct Registrations {
    wanted: HashMap<String, Wanted>,
    max_namespaces: usize,
    request_timeout: Duration,
}

impl Registrations {
    /// Keep at most `max_namespaces` registrations; a request with no answer after
    /// `request_timeout` is sent again.
    pub fn new(max_namespaces: usize, request_timeout: Duration) -> Self {
        Self {
            wanted: HashMap::new(),
            max_namespaces,
            request_timeout,
        }
    }

    /// Want to be registered under `namespace` with this lifetime. Asking again (with the same
    /// or another lifetime) makes every point due at once. Refused over the namespace limit.
    pub fn want(&mut self, namespace: &str, ttl_secs: u64) -> Result<(), CoreError> {
        if let Some(w) = self.wanted.get_mut(namespace) {
            w.ttl_secs = ttl_secs;
            w.points.clear();
            return Ok(());
        }
        if self.wanted.len() >= self.max_namespaces {
            return Err(CoreError::new(
                ErrorCode::LimitReached,
                format!(
                    "already registered under {} namespaces (rendezvous.maxNamespaces)",
                    self.wanted.len()
                ),
            ));
        }
        self.wanted.insert(
            namespace.to_owned(),
            Wanted {
                ttl_secs,
                points: HashMap::new(),
            },
        );
        Ok(())
    }

    /// Stop refreshing `namespace`. Returns the points it may be registered at (to tell them),
    /// or `None` if it was not wanted.
    pub fn unwant(&mut self, namespace: &str) -> Option<Vec<PeerId>> {
        self.wanted
            .remove(namespace)
            .map(|w| w.points.into_keys().collect())
    }

    /// Whether `namespace` is wanted.
    pub fn is_wanted(&self, namespace: &str) -> bool {
        self.wanted.contains_key(namespace)
    }

    /// The registrations to send now, as (namespace, point, ttl); each is marked in flight.
    pub fn due(&mut self, points: &[PeerId], now: Instant) -> Vec<(String, PeerId, u64)> {
        let mut due = Vec::new();
        for (namespace, wanted) in &mut self.wanted {
            for point in points {
                let is_due = match wanted.points.get(point) {
                    None => true,
                    Some(AtPoint::InFlight { since }) => {
                        now.saturating_duration_since(*since) >= self.request_timeout
                    }
                    Some(AtPoint::Registered { refresh_at }) => now >= *refresh_at,
                    Some(AtPoint::Failed { retry_at }) => now >= *retry_at,
                };
                if is_due {
                    wanted
                        .points
                        .insert(*point, AtPoint::InFlight { since: now });
                    due.push((namespace.clone(), *point, wanted.ttl_secs));
                }
            }
        }
        due
    }

    /// `point` granted `namespace` for `granted_secs`.
    pub fn on_registered(
        &mut self,
        point: PeerId,
        namespace: &str,
        granted_secs: u64,
        now: Instant,
    ) {
        if let Some(w) = self.wanted.get_mut(namespace) {
            let half = Duration::from_secs(granted_secs / 2).max(MIN_REFRESH);
            w.points.insert(
                point,
                AtPoint::Registered {
                    refresh_at: now + half,
                },
            );
        }
    }

    /// `point` refused `namespace`, or the request failed.
    pub fn on_failed(&mut self, point: PeerId, namespace: &str, now: Instant) {
        if let Some(w) = self.wanted.get_mut(namespace) {
            w.points.insert(
                point,
                AtPoint::Failed {
                    retry_at: now + RETRY_AFTER,
                },
            );
        }
    }

    /// A point went away: forget what it held (it is registered afresh when it comes back).
    pub fn forget_point(&mut self, point: &PeerId) {
        for w in self.wanted.values_mut() {
            w.points.remove(point);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Registrations, PeerId, Instant) {
        (
            Registrations::new(2, Duration::from_secs(10)),
            PeerId::random(),
            Instant::now(),
        )
    }

    #[test]
    fn a_new_namespace_is_due_at_every_point_once() {
        let (mut r, p, now) = setup();
        let q = PeerId::random();
        r.want("chat", 300).unwrap();
        let due = r.due(&[p, q], now);
        assert_eq!(due.len(), 2);
        assert!(due.iter().all(|(ns, _, ttl)| ns == "chat" && *ttl == 300));
        assert!(r.due(&[p, q], now).is_empty(), "in flight");
    }

    #[test]
    fn refreshed_at_half_the_granted_lifetime() {
        let (mut r, p, now) = setup();
        r.want("chat", 300).unwrap();
        r.due(&[p], now);
        r.on_registered(p, "chat", 120, now);
        assert!(r.due(&[p], now + Duration::from_secs(59)).is_empty());
        assert_eq!(r.due(&[p], now + Duration::from_secs(60)).len(), 1);
    }

    #[test]
    fn failures_wait_and_lost_answers_are_retried() {
        let (mut r, p, now) = setup();
        r.want("chat", 300).unwrap();
        r.due(&[p], now);
        r.on_failed(p, "chat", now);
        assert!(r
            .due(&[p], now + RETRY_AFTER - Duration::from_secs(1))
            .is_empty());
        assert_eq!(r.due(&[p], now + RETRY_AFTER).len(), 1);
        // No answer at all: sent again after the request timeout.
        assert_eq!(
            r.due(&[p], now + RETRY_AFTER + Duration::from_secs(10))
                .len(),
            1
        );
    }

    #[test]
    fn a_returning_point_is_registered_again() {
        let (mut r, p, now) = setup();
        r.want("chat", 300).unwrap();
        r.due(&[p], now);
        r.on_registered(p, "chat", 300, now);
        r.forget_point(&p);
        assert_eq!(r.due(&[p], now).len(), 1);
    }

    #[test]
    fn the_namespace_limit_holds_and_unwant_names_the_points() {
        let (mut r, p, now) = setup();
        r.want("a", 60).unwrap();
        r.want("b", 60).unwrap();
        let e = r.want("c", 60).unwrap_err();
        assert_eq!(e.code, ErrorCode::LimitReached);
        r.want("a", 60).unwrap();
        r.due(&[p], now);
        assert_eq!(r.unwant("a"), Some(vec![p]));
        assert_eq!(r.unwant("a"), None);
        r.want("c", 60).unwrap();
    }
}
