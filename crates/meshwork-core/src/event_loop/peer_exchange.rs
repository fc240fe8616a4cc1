//! Peer exchange over gossip in the loop: our signed peer record announced on the
//! peer-exchange topic every `peerExchange.intervalSecs` (and soon after our addresses
//! change), and the records others announce checked, deduplicated and reported as
//! `PeerDiscovered` (source `gossip`).

use libp2p::{
    gossipsub::IdentTopic,
    swarm::dial_opts::{DialOpts, PeerCondition},
    Multiaddr, PeerId,
};
use web_time::{Duration, Instant};

use super::{system_topics::Verdict, EventLoop};
use crate::{
    addresses::all_with_peer_id,
    clock::now_ms,
    dht::peer_record,
    discovery::exchange::{KnownPeers, Offer, MAX_CLOCK_SKEW_SECS, MIN_ANNOUNCE_GAP, TOPIC},
    DiscoverySource, Event,
};

/// Peer exchange state: who announced what, and our last announcement.
pub(super) struct ExchangeState {
    known: KnownPeers,
    /// When we last announced, and with which addresses.
    last_sent: Option<(Instant, Vec<Multiaddr>)>,
}

impl ExchangeState {
    pub(super) fn new(max_known: usize) -> Self {
        Self {
            known: KnownPeers::new(max_known),
            last_sent: None,
        }
    }
}

impl EventLoop {
    /// Once a tick: announce our signed peer record if it is due and someone listens.
    pub(super) fn peer_exchange_tick(&mut self, now: Instant) {
        let config = &self.config.peer_exchange;
        if !config.enabled {
            return;
        }
        let interval = Duration::from_secs(config.interval_secs);
        let mut addresses: Vec<Multiaddr> = self.swarm.external_addresses().cloned().collect();
        addresses.sort();
        addresses.truncate(crate::discovery::exchange::MAX_ADDRESSES);
        let due = match &self.exchange.last_sent {
            None => true,
            Some((at, sent)) => {
                let since = now.duration_since(*at);
                since >= interval || (*sent != addresses && since >= MIN_ANNOUNCE_GAP)
            }
        };
        let topic = IdentTopic::new(TOPIC);
        if !due || addresses.is_empty() || !self.topic_has_peers(&topic.hash()) {
            return;
        }
        let Some(keypair) = &self.keypair else {
            return;
        };
        let signed = match peer_record::sign(keypair, addresses.clone()) {
            Ok(signed) => signed,
            Err(e) => {
                tracing::warn!("{}", e.message);
                return;
            }
        };
        match self.swarm.behaviour_mut().gossipsub.publish(topic, signed) {
            Ok(_) => {
                self.exchange.last_sent = Some((now, addresses));
                self.wake_gossip();
            }
            Err(e) => tracing::debug!("peer record not announced: {e}"),
        }
    }

    /// A message on the peer-exchange topic: a peer record its author signed, taken if newer
    /// than what we heard from that peer and not too soon after it (and then dialled, with
    /// `peerExchange.dial`). New peers and moves are reported.
    pub(super) fn take_peer_record(&mut self, author: Option<PeerId>, data: &[u8]) -> Verdict {
        let now_secs = now_ms() / 1000;
        let record = match peer_record::open(data) {
            Err(e) => return Verdict::Refused(e.message),
            Ok(r) if author != Some(r.peer) => {
                return Verdict::Refused("announced by someone other than its peer".into())
            }
            Ok(r) if r.seq > now_secs + MAX_CLOCK_SKEW_SECS => {
                return Verdict::Refused("signed in the future".into())
            }
            Ok(r) => r,
        };
        let offer = if record.peer == *self.swarm.local_peer_id() {
            Offer::Stale
        } else {
            let now = Instant::now();
            self.exchange
                .known
                .offer(record.peer, record.seq, &record.addresses, now)
        };
        match offer {
            Offer::Stale | Offer::TooSoon => Verdict::Stale,
            Offer::Refreshed => Verdict::Taken(None),
            Offer::New | Offer::Moved => {
                let peer = record.peer;
                let addresses: Vec<Multiaddr> = self
                    .exchange
                    .known
                    .addresses(&peer)
                    .unwrap_or_default()
                    .to_vec();
                self.dial_announced(peer, &addresses);
                Verdict::Taken(Some(Box::new(Event::PeerDiscovered {
                    peer_id: peer,
                    addresses: all_with_peer_id(addresses, peer),
                    source: DiscoverySource::Gossip,
                    namespace: None,
                })))
            }
        }
    }

    /// With `peerExchange.dial`, connect to an announced peer while below the target.
    fn dial_announced(&mut self, peer: PeerId, addresses: &[Multiaddr]) {
        if !self.config.peer_exchange.dial
            || addresses.is_empty()
            || self.peers.contains_key(&peer)
            || self.peers.len() >= self.config.connections.target
        {
            return;
        }
        let opts = DialOpts::peer_id(peer)
            .addresses(addresses.to_vec())
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        if let Err(e) = self.swarm_dial(opts) {
            tracing::debug!(%peer, "cannot dial an announced peer: {e}");
        }
    }
}
