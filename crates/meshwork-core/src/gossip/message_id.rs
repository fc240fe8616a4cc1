//! Gossip message IDs from content.

use libp2p::gossipsub::{Message, MessageId};
use sha2::{Digest, Sha256};

/// Bytes of the SHA-256 kept in an ID (160 bits: collisions are out of reach, IDs stay short in
/// IHAVE/IWANT/IDONTWANT lists).
const ID_BYTES: usize = 20;

/// The ID of a message: SHA-256 over everything the author signed (author, sequence number,
/// topic, payload), truncated to 20 bytes.
///
/// A re-broadcast of the same signed message is a duplicate and is dropped; the same payload
/// published twice is two messages (each publish has its own sequence number), so an
/// application can send "ok" twice. A forwarder cannot change any signed field without changing
/// the ID.
pub fn content_message_id(message: &Message) -> MessageId {
    let mut hash = Sha256::new();
    match &message.source {
        Some(source) => {
            let bytes = source.to_bytes();
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        }
        None => hash.update(0u64.to_be_bytes()),
    }
    hash.update(message.sequence_number.unwrap_or(0).to_be_bytes());
    let topic = message.topic.as_str().as_bytes();
    hash.update((topic.len() as u64).to_be_bytes());
    hash.update(topic);
    hash.update(&message.data);
    let digest = hash.finalize();
    MessageId::new(digest.get(..ID_BYTES).unwrap_or(&digest))
}

#[cfg(test)]
mod tests {
    use libp2p::{gossipsub::TopicHash, PeerId};

    use super::*;

    fn message(seq: u64, data: &[u8]) -> Message {
        Message {
            source: Some(PeerId::random()),
            data: data.to_vec(),
            sequence_number: Some(seq),
            topic: TopicHash::from_raw("t"),
        }
    }

    #[test]
    fn every_signed_field_changes_the_id() {
        let m = message(1, b"x");
        let id = content_message_id(&m);
        assert_eq!(id, content_message_id(&m.clone()));
        assert_eq!(id.0.len(), ID_BYTES);
        let mut other = m.clone();
        other.sequence_number = Some(2);
        assert_ne!(id, content_message_id(&other));
        let mut other = m.clone();
        other.data = b"y".to_vec();
        assert_ne!(id, content_message_id(&other));
        let mut other = m.clone();
        other.topic = TopicHash::from_raw("u");
        assert_ne!(id, content_message_id(&other));
        let mut other = m;
        other.source = Some(PeerId::random());
        assert_ne!(id, content_message_id(&other));
    }
}
