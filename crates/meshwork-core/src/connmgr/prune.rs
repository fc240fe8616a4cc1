//! Which peers to disconnect when the node has more than `connections.max`.

use std::cmp::Ordering;

use libp2p::PeerId;
use web_time::Duration;

/// What pruning knows of one connected peer.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The peer.
    pub peer: PeerId,
    /// A kept peer (bootstrap, relay, added by hand) or one we hold a reservation on: never
    /// pruned.
    pub protected: bool,
    /// Since its first connection opened.
    pub connected_for: Duration,
    /// Since bytes last moved on its connections.
    pub idle_for: Duration,
    /// Last ping round trip, if measured.
    pub rtt: Option<Duration>,
    /// Application reputation (negative after misbehaviour).
    pub reputation: f64,
}

/// Least useful first: negative reputation, then the longest idle (whole seconds), then the
/// slowest (unmeasured counts as slowest), then the lowest reputation.
fn least_useful_first(a: &Candidate, b: &Candidate) -> Ordering {
    let bad = |c: &Candidate| c.reputation < 0.0;
    let rtt = |c: &Candidate| c.rtt.unwrap_or(Duration::MAX);
    bad(b)
        .cmp(&bad(a))
        .then(b.idle_for.as_secs().cmp(&a.idle_for.as_secs()))
        .then(rtt(b).cmp(&rtt(a)))
        .then(a.reputation.total_cmp(&b.reputation))
}

/// The peers to disconnect: none while `candidates.len() <= max`; otherwise enough of the
/// least useful unprotected peers past their `grace` to come down to `target` (fewer if not
/// enough may go).
pub fn victims(
    mut candidates: Vec<Candidate>,
    target: usize,
    max: usize,
    grace: Duration,
) -> Vec<PeerId> {
    let connected = candidates.len();
    if connected <= max {
        return Vec::new();
    }
    candidates.retain(|c| !c.protected && c.connected_for >= grace);
    candidates.sort_by(least_useful_first);
    candidates
        .into_iter()
        .take(connected - target)
        .map(|c| c.peer)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(idle: u64, rtt_ms: Option<u64>, reputation: f64) -> Candidate {
        Candidate {
            peer: PeerId::random(),
            protected: false,
            connected_for: Duration::from_secs(120),
            idle_for: Duration::from_secs(idle),
            rtt: rtt_ms.map(Duration::from_millis),
            reputation,
        }
    }

    #[test]
    fn nothing_at_or_below_max() {
        let all: Vec<Candidate> = (0..5).map(|_| candidate(100, None, 0.0)).collect();
        assert!(victims(all, 2, 5, Duration::ZERO).is_empty());
    }

    #[test]
    fn down_to_target_sparing_protected_and_young() {
        let mut all: Vec<Candidate> = (0..10).map(|_| candidate(100, Some(5), 0.0)).collect();
        all[0].protected = true;
        all[1].protected = true;
        all[2].connected_for = Duration::from_secs(5);
        let spared = [all[0].peer, all[1].peer, all[2].peer];
        let out = victims(all, 4, 8, Duration::from_secs(30));
        assert_eq!(out.len(), 6);
        assert!(spared.iter().all(|p| !out.contains(p)));
    }

    #[test]
    fn fewer_when_too_many_are_protected() {
        let mut all: Vec<Candidate> = (0..6).map(|_| candidate(1, None, 0.0)).collect();
        for c in all.iter_mut().take(5) {
            c.protected = true;
        }
        assert_eq!(victims(all, 1, 4, Duration::ZERO).len(), 1);
    }

    #[test]
    fn bad_then_idle_then_slow_go_first() {
        let busy_fast = candidate(0, Some(5), 1.0);
        let busy_slow = candidate(0, Some(500), 1.0);
        let idle = candidate(300, Some(5), 1.0);
        let bad = candidate(0, Some(1), -5.0);
        let order = [bad.peer, idle.peer, busy_slow.peer, busy_fast.peer];
        let all = vec![busy_fast, busy_slow, idle, bad];
        assert_eq!(victims(all, 0, 3, Duration::ZERO), order);
    }
}
