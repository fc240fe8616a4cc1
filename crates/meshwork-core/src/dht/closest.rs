//! Where the closest-peers phase of `find_peer` found its target.
//!
//! rust-libp2p's closest-peers result gives a peer's addresses only when another peer named it
//! in an answer. A target the querier already had in its own routing table is asked directly and
//! comes back with no addresses, though the querier knows them: without this, such a lookup
//! looked like a miss and went on to the record phase (or failed for a peer with no record).

use libp2p::{
    kad::{self, store::MemoryStore},
    Multiaddr, PeerId,
};

/// The addresses of `target` if it is among `peers` (the closest-peers result: peers that
/// answered): those the answers gave, else those in `kad`'s routing table. `None` when the
/// target did not answer or no address of it is known.
pub fn target_addresses(
    kad: &mut kad::Behaviour<MemoryStore>,
    peers: &[kad::PeerInfo],
    target: PeerId,
) -> Option<Vec<Multiaddr>> {
    let answered = peers.iter().find(|p| p.peer_id == target)?;
    let addresses = if answered.addrs.is_empty() {
        routing_table_addresses(kad, target)
    } else {
        answered.addrs.clone()
    };
    (!addresses.is_empty()).then_some(addresses)
}

/// `peer`'s addresses in `kad`'s routing table (empty when it is not there).
fn routing_table_addresses(kad: &mut kad::Behaviour<MemoryStore>, peer: PeerId) -> Vec<Multiaddr> {
    let Some(bucket) = kad.kbucket(peer) else {
        return Vec::new(); // `peer` is this node.
    };
    let addresses = bucket
        .iter()
        .find(|entry| *entry.node.key.preimage() == peer)
        .map(|entry| entry.node.value.iter().cloned().collect())
        .unwrap_or_default();
    addresses
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kad_with(known: &[(PeerId, Multiaddr)]) -> kad::Behaviour<MemoryStore> {
        let local = PeerId::random();
        let mut kad = kad::Behaviour::new(local, MemoryStore::new(local));
        kad.set_mode(Some(kad::Mode::Server));
        for (peer, address) in known {
            kad.add_address(peer, address.clone());
        }
        kad
    }

    fn answered(peer: PeerId, addrs: Vec<Multiaddr>) -> kad::PeerInfo {
        kad::PeerInfo {
            peer_id: peer,
            addrs,
        }
    }

    #[test]
    fn a_target_from_the_routing_table_gets_its_table_addresses() {
        let target = PeerId::random();
        let address: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        let mut kad = kad_with(&[(target, address.clone())]);
        let peers = [answered(PeerId::random(), vec![]), answered(target, vec![])];
        // Kademlia keeps table addresses with the peer's ID on.
        let expected = address.with_p2p(target).unwrap();
        assert_eq!(
            target_addresses(&mut kad, &peers, target),
            Some(vec![expected])
        );
    }

    #[test]
    fn addresses_from_answers_come_first_and_unknown_targets_are_misses() {
        let target = PeerId::random();
        let in_table: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        let named: Multiaddr = "/ip4/127.0.0.1/tcp/4002".parse().unwrap();
        let mut kad = kad_with(&[(target, in_table)]);
        let peers = [answered(target, vec![named.clone()])];
        assert_eq!(
            target_addresses(&mut kad, &peers, target),
            Some(vec![named])
        );
        // Not among the peers that answered: a miss, whatever the table says.
        assert_eq!(target_addresses(&mut kad, &[], target), None);
        // Answered, but no address anywhere.
        let stranger = PeerId::random();
        assert_eq!(
            target_addresses(&mut kad, &[answered(stranger, vec![])], stranger),
            None
        );
    }
}
