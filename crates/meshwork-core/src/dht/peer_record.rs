//! Signed peer records in the DHT: under `/meshwork/peer/<peer id bytes>`, a libp2p signed
//! envelope (the standard `libp2p-peer-record` domain) of the peer's addresses. A page is not in
//! anyone's routing table (it cannot be dialled directly), so this is how another node learns
//! its circuit addresses from its peer ID alone. Only the peer itself can sign one; storing
//! nodes check that before they store it.

use libp2p::{
    core::{PeerRecord, SignedEnvelope},
    identity::Keypair,
    kad::RecordKey,
    Multiaddr, PeerId,
};

use crate::{CoreError, ErrorCode};

/// The key prefix of peer records.
pub const KEY_PREFIX: &[u8] = b"/meshwork/peer/";

/// The DHT key of `peer`'s record.
pub fn key(peer: &PeerId) -> RecordKey {
    let mut key = KEY_PREFIX.to_vec();
    key.extend_from_slice(&peer.to_bytes());
    RecordKey::new(&key)
}

/// Whether a key is under the peer-record prefix.
pub fn is_peer_record_key(key: &[u8]) -> bool {
    key.starts_with(KEY_PREFIX)
}

/// Our own record: `addresses`, signed.
pub fn sign(keypair: &Keypair, addresses: Vec<Multiaddr>) -> Result<Vec<u8>, CoreError> {
    PeerRecord::new_interop(keypair, addresses)
        .map(|r| r.into_signed_envelope().into_protobuf_encoding())
        .map_err(|e| {
            CoreError::new(
                ErrorCode::StartFailed,
                format!("cannot sign a peer record: {e}"),
            )
        })
}

/// A verified peer record.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The peer it is signed by (and stored under).
    pub peer: PeerId,
    /// Its sequence number (the signing time in seconds): higher is newer.
    pub seq: u64,
    /// The addresses it lists.
    pub addresses: Vec<Multiaddr>,
}

fn invalid(m: String) -> CoreError {
    CoreError::new(ErrorCode::InvalidOptions, format!("peer record: {m}"))
}

/// Check a record found (or to be stored) under `key`: a valid envelope, signed by the peer the
/// key names.
pub fn verify(key: &RecordKey, value: &[u8]) -> Result<Verified, CoreError> {
    let named = key
        .as_ref()
        .strip_prefix(KEY_PREFIX)
        .and_then(|bytes| PeerId::from_bytes(bytes).ok())
        .ok_or_else(|| invalid("the key names no peer".into()))?;
    let verified = open(value)?;
    if verified.peer != named {
        return Err(invalid(format!(
            "signed by {} but stored under {named}",
            verified.peer
        )));
    }
    Ok(verified)
}

/// Check a signed peer record on its own: a valid envelope of the standard peer-record domain;
/// its peer is the one who signed it.
pub fn open(value: &[u8]) -> Result<Verified, CoreError> {
    let envelope =
        SignedEnvelope::from_protobuf_encoding(value).map_err(|e| invalid(e.to_string()))?;
    let record =
        PeerRecord::from_signed_envelope_interop(envelope).map_err(|e| invalid(e.to_string()))?;
    Ok(Verified {
        peer: record.peer_id(),
        seq: record.seq(),
        addresses: record.addresses().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> Multiaddr {
        "/ip4/127.0.0.1/tcp/1".parse().unwrap()
    }

    #[test]
    fn a_signed_record_verifies_under_its_own_key_only() {
        let keypair = Keypair::generate_ed25519();
        let peer = keypair.public().to_peer_id();
        let value = sign(&keypair, vec![addr()]).unwrap();
        let verified = verify(&key(&peer), &value).unwrap();
        assert_eq!((verified.peer, verified.addresses), (peer, vec![addr()]));
        let other = PeerId::random();
        let e = verify(&key(&other), &value).unwrap_err();
        assert!(e.message.contains("signed by"), "{}", e.message);
    }

    #[test]
    fn tampered_and_malformed_records_are_refused() {
        let keypair = Keypair::generate_ed25519();
        let peer = keypair.public().to_peer_id();
        let mut value = sign(&keypair, vec![addr()]).unwrap();
        let last = value.len() - 1;
        value[last] ^= 0x01;
        assert!(verify(&key(&peer), &value).is_err(), "bad signature");
        assert!(verify(&key(&peer), b"not an envelope").is_err());
        assert!(verify(&RecordKey::new(&b"/meshwork/peer/xyz"), &value).is_err());
    }
}
