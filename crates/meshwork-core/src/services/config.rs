//! Service registry settings.

use serde::{Deserialize, Serialize};

/// Most services one node may register at once, at most.
pub const MAX_REGISTERED_LIMIT: usize = 256;

/// How this node takes part in the service registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ServicesConfig {
    /// Join the services gossip topic: hear announcements and departures (`service:announced`,
    /// `service:departed`) and send our own. Default true. Off, registrations go to the DHT
    /// only.
    pub gossip: bool,
    /// Service records heard and kept, at most. Default 256.
    pub max_cached_records: usize,
    /// Services this node may register at once. Default 16 (at most 256).
    pub max_registered: usize,
    /// DHT servers that must store a registration (or a departure) for it to succeed. Default 1.
    pub quorum: usize,
}

impl Default for ServicesConfig {
    fn default() -> Self {
        Self {
            gossip: true,
            max_cached_records: 256,
            max_registered: 16,
            quorum: 1,
        }
    }
}

impl ServicesConfig {
    /// Check the values; returns a message naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_cached_records == 0 || self.max_cached_records > 65_536 {
            return Err("services.maxCachedRecords must be between 1 and 65536".into());
        }
        if self.max_registered == 0 || self.max_registered > MAX_REGISTERED_LIMIT {
            return Err(format!(
                "services.maxRegistered must be between 1 and {MAX_REGISTERED_LIMIT}"
            ));
        }
        if self.quorum == 0 || self.quorum > 20 {
            return Err("services.quorum must be between 1 and 20".into());
        }
        Ok(())
    }
}
