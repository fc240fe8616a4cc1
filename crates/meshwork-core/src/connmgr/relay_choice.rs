//! Which kept relays to reserve on: plain logic over what the loop measured.
//!
//! - A relay that says it is full (no free reservation), refused us lately, or whose status is
//!   still awaited is not taken.
//! - Below the wanted count, the best candidates are taken at once: a known round-trip time
//!   before an unknown one, shorter first, then more free reservations.
//! - At the wanted count, one reserved relay is swapped for a candidate only when moves are
//!   allowed (the loop spaces them out) and the candidate is clearly faster: under half the
//!   slowest reserved relay's round trip and at least [`MOVE_MIN_GAIN`] shorter. Small
//!   differences never cause a move, so measurements that jitter do not make reservations flap.

use std::cmp::Ordering;

use libp2p::PeerId;
use web_time::Duration;

/// Least round-trip time a move must gain.
pub const MOVE_MIN_GAIN: Duration = Duration::from_millis(20);

/// A kept relay that is connected, as the loop sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The relay.
    pub peer: PeerId,
    /// Last measured round-trip time, if pinged yet.
    pub rtt: Option<Duration>,
    /// Reservations it says it can still take (`None`: not asked yet, or it does not say).
    pub free: Option<u32>,
    /// We hold (or asked for) a reservation on it.
    pub reserved: bool,
    /// It refused a reservation lately.
    pub refused: bool,
    /// It just connected and its status is still awaited: not chosen yet.
    pub pending: bool,
}

impl Candidate {
    fn eligible(&self) -> bool {
        !self.refused && !self.pending && self.free != Some(0)
    }
}

/// What to change.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Reserve on these.
    pub reserve: Vec<PeerId>,
    /// Drop the reservation on these (a move drops the old one only once the new one is
    /// accepted; see the loop).
    pub release: Vec<PeerId>,
    /// Whether this plan is a move (one reserve replacing one release).
    pub moving: bool,
}

/// Best first.
fn rank(a: &Candidate, b: &Candidate) -> Ordering {
    let by_rtt = match (a.rtt, b.rtt) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    by_rtt
        .then_with(|| b.free.unwrap_or(0).cmp(&a.free.unwrap_or(0)))
        .then_with(|| a.peer.cmp(&b.peer))
}

/// The changes that bring the reservations to `wanted` of the best `candidates`.
pub fn plan(candidates: &[Candidate], wanted: usize, may_move: bool) -> Plan {
    let mut reserved: Vec<&Candidate> = candidates.iter().filter(|c| c.reserved).collect();
    reserved.sort_by(|a, b| rank(a, b));
    let mut spare: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| !c.reserved && c.eligible())
        .collect();
    spare.sort_by(|a, b| rank(a, b));
    let mut plan = Plan::default();
    if reserved.len() > wanted {
        plan.release = reserved[wanted..].iter().map(|c| c.peer).collect();
        return plan;
    }
    if reserved.len() < wanted {
        plan.reserve = spare
            .iter()
            .take(wanted - reserved.len())
            .map(|c| c.peer)
            .collect();
        return plan;
    }
    let (Some(slowest), Some(best)) = (reserved.last(), spare.first()) else {
        return plan;
    };
    if let (true, Some(old), Some(new)) = (may_move, slowest.rtt, best.rtt) {
        if new * 2 < old && old.saturating_sub(new) >= MOVE_MIN_GAIN {
            plan.reserve.push(best.peer);
            plan.release.push(slowest.peer);
            plan.moving = true;
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(rtt_ms: Option<u64>, free: Option<u32>, reserved: bool) -> Candidate {
        Candidate {
            peer: PeerId::random(),
            rtt: rtt_ms.map(Duration::from_millis),
            free,
            reserved,
            refused: false,
            pending: false,
        }
    }

    #[test]
    fn below_the_wanted_count_the_fastest_with_room_are_taken() {
        let fast = relay(Some(10), Some(5), false);
        let full = relay(Some(1), Some(0), false);
        let slow = relay(Some(80), None, false);
        let unmeasured = relay(None, Some(100), false);
        let all = [unmeasured.clone(), slow.clone(), full, fast.clone()];
        let p = plan(&all, 2, false);
        assert_eq!(p.reserve, vec![fast.peer, slow.peer]);
        assert!(p.release.is_empty() && !p.moving);
        // Only unmeasured ones: the roomiest first.
        let roomy = relay(None, Some(50), false);
        let p = plan(&[relay(None, Some(1), false), roomy.clone()], 1, false);
        assert_eq!(p.reserve, vec![roomy.peer]);
    }

    #[test]
    fn refused_relays_are_skipped_and_extra_reservations_released() {
        let mut refusing = relay(Some(1), Some(9), false);
        refusing.refused = true;
        let mut pending = relay(Some(1), Some(9), false);
        pending.pending = true;
        let other = relay(Some(50), None, false);
        assert_eq!(
            plan(&[refusing, pending, other.clone()], 1, false).reserve,
            vec![other.peer]
        );
        let (a, b, c) = (
            relay(Some(5), None, true),
            relay(Some(9), None, true),
            relay(Some(30), None, true),
        );
        let p = plan(&[c.clone(), a, b.clone()], 1, false);
        assert_eq!(p.release, vec![b.peer, c.peer]);
    }

    #[test]
    fn a_move_needs_permission_and_a_clear_gain() {
        let held = relay(Some(100), None, true);
        let much_faster = relay(Some(10), None, false);
        let all = [held.clone(), much_faster.clone()];
        assert_eq!(plan(&all, 1, false), Plan::default(), "not allowed now");
        let p = plan(&all, 1, true);
        assert_eq!(
            (p.reserve, p.release, p.moving),
            (vec![much_faster.peer], vec![held.peer], true)
        );
        // Faster, but not by half: stay.
        let bit_faster = relay(Some(60), None, false);
        assert_eq!(plan(&[held.clone(), bit_faster], 1, true), Plan::default());
        // Half, but a tiny gain in absolute terms: stay.
        let held_fast = relay(Some(4), None, true);
        let faster = relay(Some(1), None, false);
        assert_eq!(plan(&[held_fast, faster], 1, true), Plan::default());
        // Unmeasured candidates never cause a move.
        assert_eq!(
            plan(&[held, relay(None, Some(9), false)], 1, true),
            Plan::default()
        );
    }
}
