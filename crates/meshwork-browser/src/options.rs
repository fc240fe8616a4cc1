//! The options a page passes to `createNode`, validated.

use libp2p::Multiaddr;
use meshwork_core::{validate, CoreError, ErrorCode, KadMode, NodeConfig, TransportKind};
use serde::Deserialize;
use tracing_subscriber::filter::Targets;

use crate::webrtc_options::WebrtcOptions;

/// Transports a page can dial, in the default order of preference: WebTransport has the fewest
/// round trips and no SDP munging, WebRTC-direct needs no certificate authority either,
/// WebSocket works everywhere.
pub const BROWSER_TRANSPORTS: [TransportKind; 3] = [
    TransportKind::Webtransport,
    TransportKind::WebrtcDirect,
    TransportKind::Websocket,
];

/// Most bootstrap addresses accepted.
pub const MAX_BOOTSTRAP: usize = 64;

/// Most relay addresses accepted.
pub const MAX_RELAYS: usize = 32;

/// Longest `logLevel` string accepted.
pub const MAX_LOG_LEVEL_CHARS: usize = 1024;

/// Options as they arrive from JS (camelCase keys; unknown keys are refused).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RawOptions {
    /// Multiaddrs to dial at start (each should end in `/p2p/<id>`).
    pub bootstrap: Vec<String>,
    /// A relay's HTTP base URL; its current multiaddrs are fetched from `/api/addresses`.
    pub relay_http: Option<String>,
    /// More relays' multiaddrs (each ending in `/p2p/<id>`): kept, and reserved on by relay
    /// selection like the `relayHttp` one.
    pub relays: Vec<String>,
    /// Transports to use, in order of preference. Default
    /// `["webtransport", "webrtc-direct", "websocket"]`.
    pub transports: Option<Vec<String>>,
    /// Make relay reservations (on the best `node.connections.relayReservations` of the relays
    /// from `relayHttp` and `relays`), so other peers can reach this page. Default true.
    pub reserve_on_relay: Option<bool>,
    /// Core node settings (see `NodeConfig`).
    pub node: Option<NodeConfig>,
    /// Browser-to-browser WebRTC and the page's WebRTC limits (see `WebrtcOptions`).
    pub webrtc: Option<WebrtcOptions>,
    /// Log to the browser console: a level (`"info"`) or per-target levels
    /// (`"warn,libp2p_gossipsub=debug"`). Default: no logging.
    pub log_level: Option<String>,
}

/// Validated options.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// Parsed bootstrap multiaddrs.
    pub bootstrap: Vec<Multiaddr>,
    /// The relay's addresses endpoint, if any.
    pub relay_addresses_url: Option<String>,
    /// Parsed relay multiaddrs (each names its peer).
    pub relays: Vec<Multiaddr>,
    /// Transports in order of preference.
    pub transports: Vec<TransportKind>,
    /// Reserve on relays from `relayHttp`.
    pub reserve_on_relay: bool,
    /// Core settings.
    pub node: NodeConfig,
    /// WebRTC settings.
    pub webrtc: WebrtcOptions,
    /// Console log filter, if logging was asked for.
    pub log_filter: Option<Targets>,
}

impl RawOptions {
    /// Check everything; the first problem becomes an `INVALID_OPTIONS` or
    /// `INVALID_MULTIADDR` error naming the field.
    pub fn validate(self) -> Result<BrowserOptions, CoreError> {
        let invalid = |m: String| CoreError::new(ErrorCode::InvalidOptions, m);
        if self.bootstrap.len() > MAX_BOOTSTRAP {
            return Err(invalid(format!(
                "bootstrap has {} entries; the maximum is {MAX_BOOTSTRAP}",
                self.bootstrap.len()
            )));
        }
        let bootstrap = self
            .bootstrap
            .iter()
            .map(|a| validate::multiaddr(a))
            .collect::<Result<Vec<_>, _>>()?;
        if self.relays.len() > MAX_RELAYS {
            return Err(invalid(format!(
                "relays has {} entries; the maximum is {MAX_RELAYS}",
                self.relays.len()
            )));
        }
        let relays = self
            .relays
            .iter()
            .map(|a| {
                let address = validate::multiaddr(a)?;
                if meshwork_core::addresses::peer_id_of(&address).is_none() {
                    return Err(CoreError::new(
                        ErrorCode::InvalidMultiaddr,
                        format!("relay address {a:?} does not end in /p2p/<peer id>"),
                    ));
                }
                Ok(address)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let transports = match self.transports {
            None => BROWSER_TRANSPORTS.to_vec(),
            Some(names) => {
                let mut out = Vec::new();
                for name in &names {
                    let kind = TransportKind::from_name(name)
                        .filter(|k| BROWSER_TRANSPORTS.contains(k))
                        .ok_or_else(|| {
                            invalid(format!(
                                "transports: {name:?} is not a browser transport (use \"webtransport\", \"webrtc-direct\" or \"websocket\")"
                            ))
                        })?;
                    if !out.contains(&kind) {
                        out.push(kind);
                    }
                }
                if out.is_empty() {
                    return Err(invalid("transports is empty".into()));
                }
                out
            }
        };
        let log_filter = self.log_level.as_deref().map(log_filter).transpose()?;
        let relay_addresses_url = self
            .relay_http
            .as_deref()
            .map(meshwork_core::discovery::relay_http::addresses_url)
            .transpose()?;
        let mut node = self.node.unwrap_or_default();
        node.validate().map_err(|m| invalid(format!("node: {m}")))?;
        let webrtc = self.webrtc.unwrap_or_default();
        webrtc.validate()?;
        node.direct_upgrade = webrtc.direct_upgrade();
        // A page is reachable only through relays; as a Kademlia server it would draw DHT
        // queries over circuits. `Auto` would switch to server once the page has external
        // (`/webrtc`) addresses, so a page asks only, unless told otherwise.
        if node.kad_mode == KadMode::Auto {
            node.kad_mode = KadMode::Client;
        }
        Ok(BrowserOptions {
            bootstrap,
            relay_addresses_url,
            relays,
            transports,
            reserve_on_relay: self.reserve_on_relay.unwrap_or(true),
            node,
            webrtc,
            log_filter,
        })
    }
}

/// Parse `logLevel`: `"debug"`, or `"warn,libp2p_gossipsub=debug,meshwork_core=trace"`.
pub fn log_filter(text: &str) -> Result<Targets, CoreError> {
    let invalid = |m: String| CoreError::new(ErrorCode::InvalidOptions, m);
    if text.len() > MAX_LOG_LEVEL_CHARS {
        return Err(invalid(format!(
            "logLevel has {} characters; the maximum is {MAX_LOG_LEVEL_CHARS}",
            text.len()
        )));
    }
    if text.trim().is_empty() {
        return Err(invalid("logLevel is empty".into()));
    }
    text.parse::<Targets>().map_err(|e| {
        invalid(format!(
            "logLevel {text:?}: {e} (use a level such as \"info\", or \"warn,libp2p_gossipsub=debug\")"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> RawOptions {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn defaults_prefer_webtransport_then_webrtc_then_websocket() {
        let o = RawOptions::default().validate().unwrap();
        assert_eq!(o.transports, BROWSER_TRANSPORTS.to_vec());
        assert!(o.reserve_on_relay);
        assert_eq!(o.node.kad_mode, KadMode::Client);
        let server = raw(r#"{"node":{"kadMode":"server"}}"#).validate().unwrap();
        assert_eq!(server.node.kad_mode, KadMode::Server);
    }

    #[test]
    fn transports_are_checked_and_ordered() {
        let o = raw(r#"{"transports":["websocket","webrtc-direct","websocket"]}"#)
            .validate()
            .unwrap();
        assert_eq!(
            o.transports,
            vec![TransportKind::Websocket, TransportKind::WebrtcDirect]
        );
        let e = raw(r#"{"transports":["tcp"]}"#).validate().unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidOptions);
        assert!(raw(r#"{"transports":[]}"#).validate().is_err());
    }

    #[test]
    fn bad_bootstrap_is_an_invalid_multiaddr() {
        let e = raw(r#"{"bootstrap":["/ip4/1.2.3.4/tcp/x"]}"#)
            .validate()
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidMultiaddr);
    }

    #[test]
    fn log_levels() {
        assert!(RawOptions::default()
            .validate()
            .unwrap()
            .log_filter
            .is_none());
        let o = raw(r#"{"logLevel":"warn,libp2p_gossipsub=debug"}"#)
            .validate()
            .unwrap();
        let f = o.log_filter.unwrap();
        assert!(f.would_enable("libp2p_gossipsub::handler", &tracing::Level::DEBUG));
        assert!(!f.would_enable("libp2p_kad", &tracing::Level::INFO));
        for bad in ["", "   ", "x=loud", "a=b=c"] {
            let e = log_filter(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidOptions, "{bad}");
        }
        assert!(log_filter(&"a".repeat(MAX_LOG_LEVEL_CHARS + 1)).is_err());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(serde_json::from_str::<RawOptions>(r#"{"bootstarp":[]}"#).is_err());
    }
}
