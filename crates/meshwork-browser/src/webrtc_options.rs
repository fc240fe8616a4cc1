//! `createNode({ webrtc })`: browser-to-browser connections and the page's WebRTC limits.

use meshwork_core::{direct_upgrade::DirectUpgrade, CoreError, ErrorCode};
use meshwork_webrtc_browser::{IceServer, IceTransportPolicy, Limits};
use serde::Deserialize;

/// Most ICE servers accepted.
pub const MAX_ICE_SERVERS: usize = 16;
/// Chrome's own cap on peer connections per page; our lifetime budget may not exceed it.
pub const BROWSER_PEER_CONNECTION_CAP: usize = 500;
/// Longest handshake timeout accepted, in milliseconds.
pub const MAX_HANDSHAKE_TIMEOUT_MS: u32 = 120_000;

/// The `webrtc` options (camelCase in JS; unknown keys are refused).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct WebrtcOptions {
    /// Accept and dial direct browser-to-browser connections (`/webrtc`) through relays.
    /// Default true.
    pub browser_to_browser: bool,
    /// Close the relayed connection to a peer once the direct one is up. Default true.
    pub close_relayed_connection: bool,
    /// STUN/TURN servers for browser-to-browser connections. Default none: only host candidates,
    /// which is enough on one network; real deployments across NATs add their own.
    pub ice_servers: Vec<IceServer>,
    /// `"all"` (default) or `"relay"` (TURN only).
    pub ice_transport_policy: IceTransportPolicy,
    /// Time a WebRTC connection (either kind) may take to come up, in ms. Default 10,000.
    pub handshake_timeout_ms: u32,
    /// `RTCPeerConnection`s open at once in this page. Default 64.
    pub max_live_peer_connections: usize,
    /// `RTCPeerConnection`s this page may create in its lifetime. Default 450 (Chrome: 500).
    pub max_total_peer_connections: usize,
}

impl Default for WebrtcOptions {
    fn default() -> Self {
        Self {
            browser_to_browser: true,
            close_relayed_connection: true,
            ice_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
            handshake_timeout_ms: Limits::DEFAULT_HANDSHAKE_TIMEOUT_MS,
            max_live_peer_connections: Limits::DEFAULT_MAX_LIVE_PEER_CONNECTIONS,
            max_total_peer_connections: Limits::DEFAULT_MAX_TOTAL_PEER_CONNECTIONS,
        }
    }
}

impl WebrtcOptions {
    /// Checks every field; the first problem is an `INVALID_OPTIONS` error naming it.
    pub fn validate(&self) -> Result<(), CoreError> {
        let invalid = |m: String| CoreError::new(ErrorCode::InvalidOptions, format!("webrtc.{m}"));
        if self.ice_servers.len() > MAX_ICE_SERVERS {
            return Err(invalid(format!(
                "iceServers has {} entries; the maximum is {MAX_ICE_SERVERS}",
                self.ice_servers.len()
            )));
        }
        for server in &self.ice_servers {
            server
                .validate()
                .map_err(|m| invalid(format!("iceServers: {m}")))?;
        }
        if self.handshake_timeout_ms == 0 || self.handshake_timeout_ms > MAX_HANDSHAKE_TIMEOUT_MS {
            return Err(invalid(format!(
                "handshakeTimeoutMs must be between 1 and {MAX_HANDSHAKE_TIMEOUT_MS}"
            )));
        }
        if self.max_live_peer_connections == 0 {
            return Err(invalid("maxLivePeerConnections must be at least 1".into()));
        }
        if self.max_total_peer_connections == 0
            || self.max_total_peer_connections > BROWSER_PEER_CONNECTION_CAP
        {
            return Err(invalid(format!(
                "maxTotalPeerConnections must be between 1 and {BROWSER_PEER_CONNECTION_CAP}"
            )));
        }
        Ok(())
    }

    /// The transport limits these options set (the rest stay at their defaults).
    pub fn limits(&self) -> Limits {
        Limits {
            handshake_timeout_ms: self.handshake_timeout_ms,
            max_live_peer_connections: self.max_live_peer_connections,
            max_total_peer_connections: self.max_total_peer_connections,
            ..Limits::default()
        }
    }

    /// What the core needs to know: whether to upgrade, and whether to close relayed
    /// connections afterwards.
    pub fn direct_upgrade(&self) -> Option<DirectUpgrade> {
        self.browser_to_browser.then_some(DirectUpgrade {
            close_relayed: self.close_relayed_connection,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<WebrtcOptions, String> {
        let options: WebrtcOptions = serde_json::from_str(json).map_err(|e| e.to_string())?;
        options.validate().map_err(|e| e.message)?;
        Ok(options)
    }

    #[test]
    fn defaults() {
        let o = parse("{}").expect("valid");
        assert!(o.browser_to_browser && o.close_relayed_connection);
        assert!(o.ice_servers.is_empty());
        assert_eq!(o.limits(), Limits::default());
        assert_eq!(
            o.direct_upgrade(),
            Some(DirectUpgrade {
                close_relayed: true
            })
        );
    }

    #[test]
    fn settings_are_taken() {
        let o = parse(
            r#"{"browserToBrowser":true,"closeRelayedConnection":false,"iceServers":[{"urls":["stun:stun.example.org"]}],
                "iceTransportPolicy":"relay","handshakeTimeoutMs":5000,"maxLivePeerConnections":3,"maxTotalPeerConnections":20}"#,
        )
        .expect("valid");
        assert_eq!(o.ice_transport_policy, IceTransportPolicy::Relay);
        assert_eq!(o.limits().max_live_peer_connections, 3);
        assert_eq!(o.limits().max_total_peer_connections, 20);
        assert_eq!(o.limits().handshake_timeout_ms, 5000);
        assert_eq!(
            o.direct_upgrade(),
            Some(DirectUpgrade {
                close_relayed: false
            })
        );
        assert_eq!(
            parse(r#"{"browserToBrowser":false}"#)
                .expect("valid")
                .direct_upgrade(),
            None
        );
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            r#"{"iceServers":[{"urls":["http://x"]}]}"#,
            r#"{"iceServers":[{"urls":[]}]}"#,
            r#"{"iceServers":[{"urls":["stun:x"],"password":"p"}]}"#,
            r#"{"iceTransportPolicy":"none"}"#,
            r#"{"handshakeTimeoutMs":0}"#,
            r#"{"handshakeTimeoutMs":999999}"#,
            r#"{"maxLivePeerConnections":0}"#,
            r#"{"maxTotalPeerConnections":501}"#,
            r#"{"stunServers":[]}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
