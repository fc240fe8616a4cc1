//! Gossipsub peer-scoring parameters for a relay-centred network.
//!
//! - IP colocation (P6) is off: from a relay's point of view many pages share one IP (a NAT, a
//!   campus, or 127.0.0.1 in tests), and from a page's point of view every peer dialled through
//!   the relay has the relay's IP. Penalising either would graylist honest peers.
//! - Mesh delivery rates (P3, P3b) are off: they punish mesh peers on quiet topics, and most
//!   meshwork topics (chat, presence) are quiet.
//! - Invalid messages (P4) count, per topic: messages our validation rejects lower the score of
//!   the peer that sent them to us, with a quadratic penalty; the thresholds are gossipsub's
//!   defaults (gossip −10, publish −50, graylist −80).
//! - The application reputation (see [`super::reputation`]) is added with weight 0.1.
//!
//! The weights are chosen so that the reputation bans (and disconnects) a bad peer before
//! gossipsub graylists it: after 20 rate-limited messages the reputation is at the ban threshold
//! (−100) while the score is about −10 (reputation) − 20 (P4: 0.05 × 20²). A graylisted peer
//! would stay connected and keep sending, only to be ignored; a banned one is gone.

use libp2p::gossipsub::{PeerScoreParams, PeerScoreThresholds, TopicScoreParams};

/// Node-wide score parameters (topic parameters are set per topic on subscribe).
pub fn peer_score_params() -> PeerScoreParams {
    PeerScoreParams {
        ip_colocation_factor_weight: 0.0,
        app_specific_weight: 0.1,
        ..PeerScoreParams::default()
    }
}

/// Score thresholds: gossipsub's defaults.
pub fn peer_score_thresholds() -> PeerScoreThresholds {
    PeerScoreThresholds::default()
}

/// Parameters for each subscribed topic.
pub fn topic_score_params() -> TopicScoreParams {
    TopicScoreParams {
        topic_weight: 1.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -0.05,
        invalid_message_deliveries_decay: 0.3,
        ..TopicScoreParams::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_pass_gossipsub_validation() {
        peer_score_params().validate().unwrap();
        peer_score_thresholds().validate().unwrap();
        topic_score_params().validate().unwrap();
    }
}
