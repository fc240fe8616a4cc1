//! Connection manager settings.

use serde::{Deserialize, Serialize};

/// How many peers the node keeps connected, and how it reconnects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionsConfig {
    /// Peers the node wants connected. Below it, bootstrap peers not connected are dialled
    /// again (with backoff); pruning stops here. Default 16.
    pub target: usize,
    /// More connected peers than this and the least useful unprotected ones are closed, down to
    /// `target`. Default 48. (`limits.maxEstablished` is the hard limit that refuses.)
    pub max: usize,
    /// A connection younger than this is never pruned, in seconds: a lookup or a handshake
    /// that just opened it gets to finish. Default 30.
    pub grace_secs: u64,
    /// First reconnection delay, in milliseconds; it doubles on each failure, and a random
    /// jitter takes up to half of it off. Default 1,000.
    pub reconnect_base_ms: u64,
    /// Longest reconnection delay, in seconds. Default 60.
    pub reconnect_max_secs: u64,
    /// Most kept peers (bootstrap peers, relays, `addPeer`); more are refused with
    /// `LIMIT_REACHED`. Default 64.
    pub max_kept_peers: usize,
    /// Kept relays this node reserves on at once (1 to 8): the best by round-trip time among
    /// those with room (see `connmgr::relay_choice`); the others stay connected as spares and
    /// take over when a reserved one goes away. Default 2.
    pub relay_reservations: usize,
}

impl Default for ConnectionsConfig {
    fn default() -> Self {
        Self {
            target: 16,
            max: 48,
            grace_secs: 30,
            reconnect_base_ms: 1_000,
            reconnect_max_secs: 60,
            max_kept_peers: 64,
            relay_reservations: 2,
        }
    }
}

impl ConnectionsConfig {
    /// A configuration that never prunes below `max_established` connections (a relay's).
    pub fn serving(max_established: usize) -> Self {
        Self {
            target: max_established,
            max: max_established,
            ..Self::default()
        }
    }

    /// Check the values; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.target == 0 || self.target > self.max {
            return Err("connections needs 1 <= target <= max".into());
        }
        if self.reconnect_base_ms < 10 || self.reconnect_base_ms > 60_000 {
            return Err("connections.reconnectBaseMs must be between 10 and 60000".into());
        }
        if self.reconnect_max_secs == 0 || self.reconnect_max_secs > 86_400 {
            return Err("connections.reconnectMaxSecs must be between 1 and 86400".into());
        }
        if self.grace_secs > 3_600 {
            return Err("connections.graceSecs must be at most 3600".into());
        }
        if self.max_kept_peers == 0 || self.max_kept_peers > 4_096 {
            return Err("connections.maxKeptPeers must be between 1 and 4096".into());
        }
        if !(1..=8).contains(&self.relay_reservations) {
            return Err("connections.relayReservations must be between 1 and 8".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_target_is_checked() {
        assert_eq!(ConnectionsConfig::default().validate(), Ok(()));
        assert_eq!(ConnectionsConfig::serving(20_000).validate(), Ok(()));
        let bad = ConnectionsConfig {
            target: 50,
            max: 10,
            ..ConnectionsConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("target"));
    }
}
