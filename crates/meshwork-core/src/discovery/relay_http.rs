//! A relay's HTTP addresses endpoint (`GET <base>/api/addresses`): the URL from a base, and the
//! body checked. The edges fetch it (the page with `fetch`, natively over a plain HTTP/1.1
//! client) to bootstrap from a relay's *current* addresses, WebRTC certhashes included.

use crate::{addresses, CoreError, ErrorCode};
use libp2p::Multiaddr;
use serde::Deserialize;

/// Most addresses taken from one relay response.
pub const MAX_RELAY_ADDRESSES: usize = 64;

/// `http(s)://host[:port][/base]` → `…/api/addresses`.
pub fn addresses_url(base: &str) -> Result<String, CoreError> {
    let trimmed = base.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| {
            CoreError::new(
                ErrorCode::InvalidOptions,
                format!("relay URL {base:?} must start with http:// or https://"),
            )
        })?;
    if rest.is_empty()
        || rest.starts_with('/')
        || rest.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(CoreError::new(
            ErrorCode::InvalidOptions,
            format!("relay URL {base:?} has no valid host"),
        ));
    }
    Ok(format!("{trimmed}/api/addresses"))
}

/// `{"peerId": "...", "addresses": ["...", …]}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressesBody {
    /// The relay's peer ID.
    pub peer_id: String,
    /// Its full multiaddrs.
    pub addresses: Vec<String>,
}

impl AddressesBody {
    /// Parse and check: every address must parse and end in the announced peer ID; unparsable
    /// ones are skipped (a relay may list transports this version does not know), but a body
    /// with none usable is an error.
    pub fn into_multiaddrs(self) -> Result<Vec<Multiaddr>, CoreError> {
        let peer: libp2p::PeerId = self.peer_id.parse().map_err(|_| {
            CoreError::new(
                ErrorCode::FetchFailed,
                format!("relay sent an invalid peerId {:?}", self.peer_id),
            )
        })?;
        let out: Vec<Multiaddr> = self
            .addresses
            .iter()
            .take(MAX_RELAY_ADDRESSES)
            .filter_map(|a| a.parse::<Multiaddr>().ok())
            .map(|a| addresses::with_peer_id(a, peer))
            .filter(|a| addresses::peer_id_of(a) == Some(peer))
            .collect();
        if out.is_empty() {
            return Err(CoreError::new(
                ErrorCode::FetchFailed,
                "relay listed no usable address",
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_http_urls() {
        assert_eq!(
            addresses_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080/api/addresses"
        );
        assert_eq!(
            addresses_url("https://relay.example/mw").unwrap(),
            "https://relay.example/mw/api/addresses"
        );
        for bad in [
            "ftp://x",
            "127.0.0.1:8080",
            "http://",
            "http:///x",
            "http://a b",
        ] {
            assert_eq!(
                addresses_url(bad).unwrap_err().code,
                ErrorCode::InvalidOptions,
                "{bad}"
            );
        }
    }

    #[test]
    fn keeps_matching_addresses_only() {
        let peer = libp2p::PeerId::random();
        let other = libp2p::PeerId::random();
        let body = AddressesBody {
            peer_id: peer.to_string(),
            addresses: vec![
                format!("/ip4/127.0.0.1/tcp/1/ws/p2p/{peer}"),
                format!("/ip4/127.0.0.1/tcp/2/ws/p2p/{other}"),
                "garbage".into(),
                "/ip4/127.0.0.1/tcp/3/ws".into(),
            ],
        };
        let got = body.into_multiaddrs().unwrap();
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|a| addresses::peer_id_of(a) == Some(peer)));
    }

    #[test]
    fn bad_peer_id_or_nothing_usable_is_fetch_failed() {
        let body = AddressesBody {
            peer_id: "nope".into(),
            addresses: vec![],
        };
        assert_eq!(
            body.into_multiaddrs().unwrap_err().code,
            ErrorCode::FetchFailed
        );
        let body = AddressesBody {
            peer_id: libp2p::PeerId::random().to_string(),
            addresses: vec!["x".into()],
        };
        assert_eq!(
            body.into_multiaddrs().unwrap_err().code,
            ErrorCode::FetchFailed
        );
    }
}
