//! The DHT value under a service key: the signed records of that service's providers, at most
//! one per provider.
//!
//! Layout: the magic `MWS1`, then each signed record as a 2-byte big-endian length and its
//! bytes. Storing nodes [`merge`] what they are sent into what they hold, so each provider's
//! freshest record survives whoever put last.

use std::collections::HashMap;

use libp2p::PeerId;

use super::record::{self, SignedService};

/// The first bytes of every set.
pub const MAGIC: &[u8] = b"MWS1";
/// Most records in one set (the freshest are kept).
pub const MAX_RECORDS: usize = 16;

/// Why a set was refused whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// Not a service record set at all.
    #[error("not a service record set")]
    NotASet,
    /// A length runs past the end.
    #[error("truncated")]
    Truncated,
    /// More than [`MAX_RECORDS`] entries.
    #[error("more than {MAX_RECORDS} records")]
    TooMany,
    /// An entry is forged, malformed, out of bounds or for another service.
    #[error("bad record: {0}")]
    BadRecord(String),
}

/// Encode records as a set (the caller bounds them, see [`merge`]).
pub fn encode(records: &[SignedService]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    for r in records {
        // Signed records are at most `record::MAX_SIGNED_BYTES` (4 KiB), so the length fits.
        let len = u16::try_from(r.signed.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&r.signed[..usize::from(len)]);
    }
    out
}

/// Decode a set for `service` at `now_ms`. Expired records are dropped quietly (they may have
/// expired on the way); a forged, malformed or foreign record refuses the whole set.
pub fn decode(bytes: &[u8], service: &str, now_ms: u64) -> Result<Vec<SignedService>, SetError> {
    let mut rest = bytes.strip_prefix(MAGIC).ok_or(SetError::NotASet)?;
    let mut records = Vec::new();
    while !rest.is_empty() {
        if records.len() >= MAX_RECORDS {
            return Err(SetError::TooMany);
        }
        let (len, tail) = rest.split_first_chunk::<2>().ok_or(SetError::Truncated)?;
        let len = usize::from(u16::from_be_bytes(*len));
        let entry = tail.get(..len).ok_or(SetError::Truncated)?;
        rest = &tail[len..];
        match record::verify_signature(entry, now_ms) {
            Ok(r) if r.record.is_expired(now_ms) => {}
            Ok(r) if r.record.service == service => records.push(r),
            Ok(r) => {
                return Err(SetError::BadRecord(format!(
                    "a record of {:?} under {service:?}",
                    r.record.service
                )))
            }
            Err(e) => return Err(SetError::BadRecord(e.message)),
        }
    }
    Ok(records)
}

/// Merge record lists: each provider's freshest record (on a tie, the one met first), unexpired
/// at `now_ms`, freshest first, at most [`MAX_RECORDS`] and at most `max_bytes` encoded.
pub fn merge(
    lists: impl IntoIterator<Item = SignedService>,
    now_ms: u64,
    max_bytes: usize,
) -> Vec<SignedService> {
    let mut best: HashMap<PeerId, SignedService> = HashMap::new();
    for r in lists {
        if r.record.is_expired(now_ms) {
            continue;
        }
        match best.get(&r.record.provider) {
            Some(kept) if kept.record.issued_at_ms >= r.record.issued_at_ms => {}
            _ => {
                best.insert(r.record.provider, r);
            }
        }
    }
    let mut merged: Vec<SignedService> = best.into_values().collect();
    merged.sort_by(|a, b| {
        b.record
            .issued_at_ms
            .cmp(&a.record.issued_at_ms)
            .then_with(|| a.record.provider.cmp(&b.record.provider))
    });
    merged.truncate(MAX_RECORDS);
    let mut size = MAGIC.len();
    let mut fitting = Vec::with_capacity(merged.len());
    for r in merged {
        let grown = size + 2 + r.signed.len();
        if grown <= max_bytes {
            size = grown;
            fitting.push(r);
        }
    }
    fitting
}

/// The live record to hand a finder: the freshest one that is not a departure.
pub fn freshest_live(records: &[SignedService], now_ms: u64) -> Option<&SignedService> {
    records
        .iter()
        .filter(|r| !r.record.departed && !r.record.is_expired(now_ms))
        .max_by_key(|r| r.record.issued_at_ms)
}

#[cfg(test)]
mod tests {
    use libp2p::identity::Keypair;

    use super::*;
    use crate::services::record::{sign, tests::record, tests::NOW};

    fn signed(keypair: &Keypair, service: &str, at: u64) -> SignedService {
        sign(keypair, record(keypair, service, at)).unwrap()
    }

    #[test]
    fn sets_round_trip_and_merge_keeps_each_providers_freshest() {
        let (a, b) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let stored = encode(&[signed(&a, "s", NOW), signed(&b, "s", NOW + 5)]);
        let mut departure = record(&a, "s", NOW + 10);
        departure.departed = true;
        let incoming = encode(&[sign(&a, departure).unwrap()]);
        let all = decode(&stored, "s", NOW)
            .unwrap()
            .into_iter()
            .chain(decode(&incoming, "s", NOW).unwrap());
        let merged = merge(all, NOW, 14 * 1024);
        assert_eq!(merged.len(), 2);
        assert!(merged[0].record.departed, "a's departure is freshest");
        // A replay of a's older record does not bring it back.
        let replay = merge(
            merged.clone().into_iter().chain([signed(&a, "s", NOW)]),
            NOW,
            14 * 1024,
        );
        assert_eq!(replay, merged);
        let live = freshest_live(&merged, NOW).unwrap();
        assert_eq!(live.record.provider, b.public().to_peer_id());
    }

    #[test]
    fn merge_bounds_count_bytes_and_expiry() {
        let records: Vec<SignedService> = (0..MAX_RECORDS as u64 + 4)
            .map(|i| signed(&Keypair::generate_ed25519(), "s", NOW + i))
            .collect();
        let merged = merge(records.clone(), NOW, usize::MAX);
        assert_eq!(merged.len(), MAX_RECORDS);
        assert_eq!(merged[0].record.issued_at_ms, NOW + MAX_RECORDS as u64 + 3);
        let one = MAGIC.len() + 2 + records[0].signed.len();
        assert_eq!(merge(records.clone(), NOW, one + 10).len(), 1);
        assert!(merge(records, NOW + 700_000, usize::MAX).is_empty());
    }

    #[test]
    fn bad_sets_are_refused_whole_and_expired_entries_dropped() {
        let a = Keypair::generate_ed25519();
        assert_eq!(decode(b"junk", "s", NOW), Err(SetError::NotASet));
        let mut truncated = encode(&[signed(&a, "s", NOW)]);
        truncated.pop();
        assert_eq!(decode(&truncated, "s", NOW), Err(SetError::Truncated));
        let foreign = encode(&[signed(&a, "other", NOW)]);
        assert!(matches!(
            decode(&foreign, "s", NOW),
            Err(SetError::BadRecord(_))
        ));
        let mut tampered = encode(&[signed(&a, "s", NOW)]);
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(
            decode(&tampered, "s", NOW),
            Err(SetError::BadRecord(_))
        ));
        let old = encode(&[signed(&a, "s", NOW)]);
        assert_eq!(decode(&old, "s", NOW + 600_000), Ok(vec![]));
        let many: Vec<SignedService> = (0..=MAX_RECORDS)
            .map(|_| signed(&Keypair::generate_ed25519(), "s", NOW))
            .collect();
        assert_eq!(decode(&encode(&many), "s", NOW), Err(SetError::TooMany));
    }
}
