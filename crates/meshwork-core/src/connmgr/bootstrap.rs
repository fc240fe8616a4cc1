//! Start-up connections, the same for a page and a native node: every bootstrap peer (and
//! relay) is dialled once, concurrently, each peer's addresses one at a time in the order
//! given; reached peers with a known ID stay kept (redialled with backoff, reserved on again if
//! relays), and so do unreached ones (redialled in the background while the node is below
//! `connections.target`).

use libp2p::{Multiaddr, PeerId};

use super::Roles;
use crate::{addresses, CoreError, ErrorCode, NodeHandle};

/// One peer to reach: its addresses (best first), and whether to reserve on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapTarget {
    /// The peer, when the addresses name it (`/p2p/<id>`).
    pub peer: Option<PeerId>,
    /// Where to dial it, best first.
    pub addresses: Vec<Multiaddr>,
    /// A relay to keep a reservation on.
    pub relay: bool,
}

/// Group `plan` (dial order) by peer: addresses of one peer stay together, in order. Addresses
/// without a peer ID are one target each. `relays` are marked for a reservation.
pub fn targets(plan: Vec<Multiaddr>, relays: &[PeerId]) -> Vec<BootstrapTarget> {
    let mut targets: Vec<BootstrapTarget> = Vec::new();
    for address in plan {
        let peer = addresses::peer_id_of(&address);
        match targets
            .iter_mut()
            .find(|t| peer.is_some() && t.peer == peer)
        {
            Some(t) => t.addresses.push(address),
            None => targets.push(BootstrapTarget {
                peer,
                relay: peer.is_some_and(|p| relays.contains(&p)),
                addresses: vec![address],
            }),
        }
    }
    targets
}

/// What a bootstrap round reached.
#[derive(Debug, Default)]
pub struct BootstrapOutcome {
    /// Peers connected.
    pub reached: Vec<PeerId>,
    /// One error per target not reached.
    pub failures: Vec<CoreError>,
}

impl BootstrapOutcome {
    /// An error when targets were given and none was reached.
    pub fn require_one(&self) -> Result<(), CoreError> {
        if self.reached.is_empty() && !self.failures.is_empty() {
            let messages: Vec<&str> = self.failures.iter().map(|e| e.message.as_str()).collect();
            return Err(CoreError::new(
                ErrorCode::DialFailed,
                format!(
                    "could not reach any bootstrap peer or relay: {}",
                    messages.join("; ")
                ),
            ));
        }
        Ok(())
    }
}

async fn reach(node: &NodeHandle, target: &BootstrapTarget) -> Result<PeerId, CoreError> {
    let roles = Roles {
        bootstrap: true,
        relay: target.relay,
        manual: false,
    };
    if let Some(peer) = target.peer {
        return node.keep(peer, target.addresses.clone(), roles).await;
    }
    // No peer ID to keep it by: dialled once, kept under the ID it turns out to have.
    let mut last = CoreError::new(ErrorCode::DialFailed, "no address to try");
    for address in &target.addresses {
        match node.dial(address.clone()).await {
            Ok(peer) => {
                let address = addresses::with_peer_id(address.clone(), peer);
                return node.keep(peer, vec![address], roles).await;
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Dial every target once, concurrently, and keep them (see the module docs).
pub async fn run(node: &NodeHandle, targets: &[BootstrapTarget]) -> BootstrapOutcome {
    let results = futures::future::join_all(targets.iter().map(|t| reach(node, t))).await;
    let mut outcome = BootstrapOutcome::default();
    for result in results {
        match result {
            Ok(peer) => outcome.reached.push(peer),
            Err(e) => outcome.failures.push(e),
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_peer_and_marks_relays() {
        let relay = PeerId::random();
        let other = PeerId::random();
        let a = |s: &str| -> Multiaddr { s.parse().unwrap() };
        let plan = vec![
            a(&format!("/ip4/127.0.0.1/udp/1/quic-v1/p2p/{relay}")),
            a(&format!("/ip4/127.0.0.1/tcp/2/p2p/{other}")),
            a(&format!("/ip4/127.0.0.1/tcp/3/ws/p2p/{relay}")),
            a("/ip4/127.0.0.1/tcp/4"),
        ];
        let t = targets(plan, &[relay]);
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].addresses.len(), 2);
        assert!(t[0].relay && !t[1].relay);
        assert_eq!(t[2].peer, None);
    }
}
