//! DHT settings.

use serde::{Deserialize, Serialize};

/// Kademlia record settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct DhtConfig {
    /// How long a stored record lives at the nodes holding it, in seconds. Default 3,600.
    pub record_ttl_secs: u64,
    /// Records this node stores for others (and its own). Default 1,024.
    pub max_records: usize,
    /// Largest record value, in bytes. Default 8,192 (a Kademlia message is at most 16 KiB).
    pub max_value_bytes: usize,
    /// How often this node puts its signed peer record again, in seconds (also whenever its
    /// addresses change). Default 600.
    pub peer_record_interval_secs: u64,
    /// How long one query may run, in seconds. Default 30.
    pub query_timeout_secs: u64,
}

impl Default for DhtConfig {
    fn default() -> Self {
        Self {
            record_ttl_secs: 3600,
            max_records: 1024,
            max_value_bytes: 8192,
            peer_record_interval_secs: 600,
            query_timeout_secs: 30,
        }
    }
}

impl DhtConfig {
    /// Check the values; returns a message naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.record_ttl_secs < 60 || self.peer_record_interval_secs < 10 {
            return Err(
                "dht.recordTtlSecs must be at least 60 and dht.peerRecordIntervalSecs at least 10"
                    .into(),
            );
        }
        if self.peer_record_interval_secs >= self.record_ttl_secs {
            return Err("dht.peerRecordIntervalSecs must be below dht.recordTtlSecs".into());
        }
        if self.max_records == 0
            || self.max_value_bytes == 0
            || self.max_value_bytes > super::MAX_VALUE_BYTES_LIMIT
        {
            return Err(
                "dht.maxRecords must be at least 1 and dht.maxValueBytes between 1 and 14336"
                    .into(),
            );
        }
        if self.query_timeout_secs == 0 || self.query_timeout_secs > 300 {
            return Err("dht.queryTimeoutSecs must be between 1 and 300".into());
        }
        Ok(())
    }
}
