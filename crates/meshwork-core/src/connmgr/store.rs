//! The persisted peer store: the kept peers (bootstrap peers, relays, `addPeer` peers) with their
//! addresses and roles, so a node gets them back after a restart or a page reload. This module
//! turns them into a JSON document and back; the edges keep the document (a file natively,
//! IndexedDB in a page).
//!
//! Reading is strict about the document and forgiving about entries: a document that is not
//! ours (not JSON, another format, another version, too large, no `peers` list) is discarded
//! whole with a reason; an entry that does not parse, has a bad peer ID or no usable address, or
//! was last connected more than [`MAX_AGE_MS`] ago (or never) is skipped and counted. Unknown
//! fields are ignored, so a later writer of the same version can add some.

use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};

use super::{kept::MAX_ADDRESSES, Roles};

/// The document's `format` field.
pub const FORMAT: &str = "meshwork-peer-store";
/// The document's `version` field this build reads and writes.
pub const VERSION: u32 = 1;
/// The largest document read: 256 KiB (64 peers with 8 addresses each take about 40 KiB).
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Entries last connected longer ago than this (30 days) are not restored: a relay or bootstrap
/// peer the application no longer names would otherwise come back for good.
pub const MAX_AGE_MS: u64 = 30 * 24 * 3600 * 1000;

/// The stored document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    format: String,
    version: u32,
    peers: Vec<Entry>,
}

/// One stored peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    peer_id: String,
    addresses: Vec<String>,
    roles: Roles,
    /// When it was last connected (ms since the Unix epoch), if ever: the most recent come
    /// back first when not all fit.
    #[serde(default)]
    last_connected_ms: Option<u64>,
}

/// A peer to keep, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPeer {
    /// The peer.
    pub peer: PeerId,
    /// Where to dial it, best first (at most [`MAX_ADDRESSES`]).
    pub addresses: Vec<Multiaddr>,
    /// Why it is kept.
    pub roles: Roles,
    /// When it was last connected (ms since the Unix epoch).
    pub last_connected_ms: Option<u64>,
}

/// What reading a document gave.
#[derive(Debug, Default, PartialEq)]
pub struct Loaded {
    /// The peers to keep, most recently connected first, at most the `max` asked for.
    pub peers: Vec<StoredPeer>,
    /// Entries left out: unparsable, bad peer ID, no usable address, this node itself, too old,
    /// or beyond `max`.
    pub skipped: usize,
}

/// Encode `peers` (sorted by peer ID, so equal sets give equal documents).
pub fn encode(peers: &[StoredPeer]) -> String {
    let mut entries: Vec<Entry> = peers
        .iter()
        .map(|p| Entry {
            peer_id: p.peer.to_string(),
            addresses: p.addresses.iter().map(|a| a.to_string()).collect(),
            roles: p.roles,
            last_connected_ms: p.last_connected_ms,
        })
        .collect();
    entries.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
    let document = Document {
        format: FORMAT.to_owned(),
        version: VERSION,
        peers: entries,
    };
    // A struct of strings and numbers always serializes.
    serde_json::to_string(&document).unwrap_or_default()
}

/// Read a stored document at `now_ms` (ms since the Unix epoch), keeping at most `max` peers.
/// `Err` says why the whole document was discarded.
pub fn decode(bytes: &[u8], own: &PeerId, max: usize, now_ms: u64) -> Result<Loaded, String> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "{} bytes, more than the {MAX_DOCUMENT_BYTES} a peer store may have",
            bytes.len()
        ));
    }
    // The format first, so another application's data is named as such rather than as a
    // parse error of ours.
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(other) => return Err(format!("foreign data (format {other:?})")),
        None => return Err("foreign data (no \"format\" field)".to_owned()),
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(VERSION) => {}
        other => return Err(format!("version {other:?}; this build reads {VERSION}")),
    }
    let Some(entries) = value.get("peers").and_then(|p| p.as_array()) else {
        return Err("malformed: no \"peers\" list".to_owned());
    };
    let mut loaded = Loaded::default();
    for entry in entries {
        let peer = serde_json::from_value::<Entry>(entry.clone())
            .ok()
            .filter(|e| {
                e.last_connected_ms
                    .is_some_and(|at| now_ms.saturating_sub(at) <= MAX_AGE_MS)
            })
            .and_then(|e| entry_peer(&e, own));
        match peer {
            Some(peer) => loaded.peers.push(peer),
            None => loaded.skipped += 1,
        }
    }
    loaded
        .peers
        .sort_by_key(|p| std::cmp::Reverse(p.last_connected_ms));
    let mut seen = std::collections::HashSet::new();
    let before = loaded.peers.len();
    loaded.peers.retain(|p| seen.insert(p.peer));
    loaded.skipped += before - loaded.peers.len();
    if loaded.peers.len() > max {
        loaded.skipped += loaded.peers.len() - max;
        loaded.peers.truncate(max);
    }
    Ok(loaded)
}

/// The entry as a peer to keep, if it is one: a valid peer ID other than ours, with a role and
/// at least one address that parses (bad addresses are dropped).
fn entry_peer(entry: &Entry, own: &PeerId) -> Option<StoredPeer> {
    let peer: PeerId = entry.peer_id.parse().ok()?;
    if peer == *own || entry.roles == Roles::default() {
        return None;
    }
    let addresses: Vec<Multiaddr> = entry
        .addresses
        .iter()
        .filter_map(|a| a.parse().ok())
        .take(MAX_ADDRESSES)
        .collect();
    if addresses.is_empty() {
        return None;
    }
    Some(StoredPeer {
        peer,
        addresses,
        roles: entry.roles,
        last_connected_ms: entry.last_connected_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 100 * 24 * 3600 * 1000;

    fn peer(seen: Option<u64>) -> StoredPeer {
        let id = PeerId::random();
        StoredPeer {
            peer: id,
            addresses: vec![format!("/ip4/127.0.0.1/tcp/4001/p2p/{id}").parse().unwrap()],
            roles: Roles {
                manual: true,
                ..Roles::default()
            },
            last_connected_ms: seen,
        }
    }

    #[test]
    fn round_trips_most_recent_first_and_bounded() {
        let own = PeerId::random();
        let (old, new, mid) = (
            peer(Some(NOW - 9)),
            peer(Some(NOW - 1)),
            peer(Some(NOW - 5)),
        );
        let text = encode(&[old.clone(), new.clone(), mid.clone()]);
        let loaded = decode(text.as_bytes(), &own, 10, NOW).unwrap();
        assert_eq!(loaded.peers, vec![new.clone(), mid.clone(), old]);
        assert_eq!(loaded.skipped, 0);
        let two = decode(text.as_bytes(), &own, 2, NOW).unwrap();
        assert_eq!(two.peers, vec![new, mid]);
        assert_eq!(two.skipped, 1);
    }

    #[test]
    fn peers_never_connected_or_not_for_a_month_are_left_out() {
        let own = PeerId::random();
        let recent = peer(Some(NOW - MAX_AGE_MS));
        let text = encode(&[recent.clone(), peer(Some(NOW - MAX_AGE_MS - 1)), peer(None)]);
        let loaded = decode(text.as_bytes(), &own, 10, NOW).unwrap();
        assert_eq!(loaded.peers, vec![recent]);
        assert_eq!(loaded.skipped, 2);
    }

    #[test]
    fn equal_sets_encode_equally() {
        let (a, b) = (peer(Some(1)), peer(Some(2)));
        assert_eq!(encode(&[a.clone(), b.clone()]), encode(&[b, a]));
    }

    #[test]
    fn foreign_corrupt_and_oversized_documents_are_discarded() {
        let own = PeerId::random();
        for (bytes, says) in [
            (b"\x00\xffgarbage".to_vec(), "not JSON"),
            (
                br#"{"format":"other-app","version":1,"peers":[]}"#.to_vec(),
                "foreign",
            ),
            (br#"[1,2,3]"#.to_vec(), "foreign"),
            (
                br#"{"format":"meshwork-peer-store","version":9,"peers":[]}"#.to_vec(),
                "version",
            ),
            (
                br#"{"format":"meshwork-peer-store","version":1,"peers":7}"#.to_vec(),
                "malformed",
            ),
            (
                br#"{"format":"meshwork-peer-store","version":1}"#.to_vec(),
                "malformed",
            ),
            (vec![b' '; MAX_DOCUMENT_BYTES + 1], "more than"),
        ] {
            let e = decode(&bytes, &own, 10, NOW).unwrap_err();
            assert!(e.contains(says), "{e} should say {says}");
        }
    }

    #[test]
    fn bad_entries_are_skipped_not_fatal() {
        let own = PeerId::random();
        let good = peer(Some(NOW));
        let mut own_entry = peer(Some(NOW));
        own_entry.peer = own;
        let text = encode(&[good.clone(), own_entry]);
        let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let peers = doc["peers"].as_array_mut().unwrap();
        let id = PeerId::random().to_string();
        let roles = serde_json::json!({"bootstrap": true, "relay": false, "manual": false});
        peers.push(serde_json::json!({"peerId": "not-a-peer", "addresses": ["/ip4/1.2.3.4/tcp/1"], "roles": roles, "lastConnectedMs": NOW}));
        peers.push(serde_json::json!({"peerId": id, "addresses": ["nonsense"], "roles": roles, "lastConnectedMs": NOW}));
        peers.push(serde_json::json!({"peerId": id, "addresses": ["/ip4/1.2.3.4/tcp/1"], "roles": {"bootstrap": false, "relay": false, "manual": false}, "lastConnectedMs": NOW}));
        peers.push(serde_json::json!({"peerId": id, "addresses": "/ip4/1.2.3.4/tcp/1", "roles": roles, "lastConnectedMs": NOW}));
        peers.push(serde_json::json!(42));
        // A field a later writer added is ignored, not fatal.
        let extra = PeerId::random();
        peers.push(serde_json::json!({"peerId": extra.to_string(), "addresses": ["/ip4/1.2.3.4/tcp/1"], "roles": {"bootstrap": true, "relay": false, "manual": false, "future": true}, "lastConnectedMs": NOW - 1, "note": "x"}));
        let loaded = decode(doc.to_string().as_bytes(), &own, 10, NOW).unwrap();
        assert_eq!(loaded.peers.len(), 2, "{loaded:?}");
        assert_eq!(loaded.peers[0], good);
        assert_eq!(loaded.peers[1].peer, extra);
        assert_eq!(loaded.skipped, 6);
    }
}
