//! [`Reassembler`]: collects chunk sets per author within bounded memory and checks each
//! complete payload against its SHA-256.

use std::collections::HashMap;

use libp2p::PeerId;
use web_time::Instant;

use super::{sha256, to_u64, ChunkConfig, ChunkError, ChunkHeader, HEADER_BYTES};

/// One incomplete chunk set.
struct PendingSet {
    count: u32,
    total_len: u64,
    /// Data bytes of every chunk but the last.
    chunk_data_bytes: u64,
    /// One bit per chunk index: received yet?
    received: Vec<u64>,
    received_count: u32,
    /// The payload being filled in; `total_len` bytes, allocated when the set starts.
    buffer: Vec<u8>,
    /// When the first chunk arrived.
    started: Instant,
}

impl PendingSet {
    fn has(&self, index: u32) -> bool {
        let word = usize::try_from(index / 64).unwrap_or(usize::MAX);
        self.received
            .get(word)
            .is_some_and(|w| w & (1u64 << (index % 64)) != 0)
    }

    fn mark(&mut self, index: u32) {
        let word = usize::try_from(index / 64).unwrap_or(usize::MAX);
        if let Some(w) = self.received.get_mut(word) {
            *w |= 1u64 << (index % 64);
        }
    }
}

type SetKey = (PeerId, [u8; 32]);

/// Collects chunks per (author, set id) and returns each payload once it is complete and its
/// SHA-256 matches. Bounded by a [`ChunkConfig`]; single-threaded (the event loop owns it).
pub struct Reassembler {
    config: ChunkConfig,
    sets: HashMap<SetKey, PendingSet>,
    per_author: HashMap<PeerId, usize>,
    pending_bytes: u64,
}

impl std::fmt::Debug for Reassembler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reassembler")
            .field("config", &self.config)
            .field("pending_sets", &self.sets.len())
            .field("pending_bytes", &self.pending_bytes)
            .finish()
    }
}

impl Reassembler {
    /// An empty reassembler. `config` should have passed [`ChunkConfig::validate`]; with limits of
    /// zero every multi-chunk set is refused as [`ChunkError::Busy`].
    pub fn new(config: ChunkConfig) -> Self {
        Self {
            config,
            sets: HashMap::new(),
            per_author: HashMap::new(),
            pending_bytes: 0,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ChunkConfig {
        &self.config
    }

    /// Number of incomplete sets held.
    pub fn pending_sets(&self) -> usize {
        self.sets.len()
    }

    /// Bytes accounted for incomplete sets (the sum of their `total_len`).
    pub fn pending_bytes(&self) -> u64 {
        self.pending_bytes
    }

    /// Add one chunk, as returned by [`parse`], from `author` (the gossipsub message's signed
    /// source). `max_message_bytes` is this node's gossip message limit; a set whose chunks would
    /// not fit in it is refused. `now` is the current time (injected, for tests).
    ///
    /// Returns `Ok(Some(payload))` when this chunk completes its set and the payload's SHA-256
    /// equals the set id (the set is released), `Ok(None)` when the set is still incomplete or
    /// the chunk is a duplicate of one already held. A one-chunk set is checked and returned at
    /// once, without holding anything.
    ///
    /// Errors: [`ChunkError::TooLarge`] (total length above `maxPayloadBytes`),
    /// [`ChunkError::MessageLimitTooSmall`], [`ChunkError::Malformed`] (a header [`parse`] would
    /// refuse), [`ChunkError::Inconsistent`] (data length wrong for its index, chunk size or
    /// count disagreeing with the set's first chunk; the set is kept and the chunk dropped),
    /// [`ChunkError::Busy`] (a new set over `maxPendingSets`, `maxPendingSetsPerAuthor` or
    /// `maxPendingBytes`, after dropping timed-out sets), [`ChunkError::IntegrityFailed`] (the
    /// complete payload does not hash to the set id; the set is dropped).
    ///
    /// A set met here after its timeout is dropped and this chunk starts it afresh.
    pub fn insert(
        &mut self,
        author: PeerId,
        header: ChunkHeader,
        data: &[u8],
        max_message_bytes: usize,
        now: Instant,
    ) -> Result<Option<Vec<u8>>, ChunkError> {
        let chunk_data_bytes = self.check_chunk(&header, data, max_message_bytes)?;

        if header.count == 1 {
            return if sha256(data) == header.set_id {
                Ok(Some(data.to_vec()))
            } else {
                Err(ChunkError::IntegrityFailed)
            };
        }

        let key = (author, header.set_id);
        let timeout = self.config.set_timeout();
        let stale = self
            .sets
            .get(&key)
            .is_some_and(|s| now.saturating_duration_since(s.started) > timeout);
        if stale {
            self.release(&key);
        }

        if !self.sets.contains_key(&key) {
            self.admit(author, now)?;
            let set = self.start_set(&header, chunk_data_bytes, now)?;
            self.sets.insert(key, set);
            *self.per_author.entry(author).or_insert(0) += 1;
            self.pending_bytes = self.pending_bytes.saturating_add(header.total_len);
        }

        let Some(set) = self.sets.get_mut(&key) else {
            return Ok(None);
        };
        if set.count != header.count || set.total_len != header.total_len {
            return Err(ChunkError::Inconsistent(format!(
                "count {} / total length {} differ from the set's {} / {}",
                header.count, header.total_len, set.count, set.total_len
            )));
        }
        if set.chunk_data_bytes != chunk_data_bytes {
            return Err(ChunkError::Inconsistent(format!(
                "chunk size {chunk_data_bytes} differs from the set's {}",
                set.chunk_data_bytes
            )));
        }
        if set.has(header.index) {
            return Ok(None);
        }
        let offset = u64::from(header.index)
            .checked_mul(chunk_data_bytes)
            .and_then(|o| usize::try_from(o).ok());
        let slot = offset
            .and_then(|start| Some(start..start.checked_add(data.len())?))
            .and_then(|range| set.buffer.get_mut(range));
        let Some(slot) = slot else {
            return Err(ChunkError::Inconsistent(format!(
                "chunk {} does not fit in the payload",
                header.index
            )));
        };
        slot.copy_from_slice(data);
        set.mark(header.index);
        set.received_count = set.received_count.saturating_add(1);
        if set.received_count < set.count {
            return Ok(None);
        }

        let Some(set) = self.release(&key) else {
            return Ok(None);
        };
        if sha256(&set.buffer) == header.set_id {
            Ok(Some(set.buffer))
        } else {
            Err(ChunkError::IntegrityFailed)
        }
    }

    /// Drop every incomplete set whose first chunk arrived more than `setTimeoutMs` before `now`;
    /// returns how many were dropped.
    pub fn expire(&mut self, now: Instant) -> usize {
        let timeout = self.config.set_timeout();
        let Self {
            sets,
            per_author,
            pending_bytes,
            ..
        } = self;
        let before = sets.len();
        sets.retain(|(author, _), set| {
            if now.saturating_duration_since(set.started) <= timeout {
                return true;
            }
            *pending_bytes = pending_bytes.saturating_sub(set.total_len);
            decrement(per_author, author);
            false
        });
        before - sets.len()
    }

    /// Check one chunk on its own and against this node's limits; returns the set's chunk size
    /// (data bytes of every chunk but the last) that it implies.
    fn check_chunk(
        &self,
        header: &ChunkHeader,
        data: &[u8],
        max_message_bytes: usize,
    ) -> Result<u64, ChunkError> {
        let ChunkHeader {
            index,
            count,
            total_len,
            ..
        } = *header;
        if count == 0 || index >= count || u64::from(count) > total_len.max(1) {
            return Err(ChunkError::Malformed(format!(
                "index {index}, count {count}, total length {total_len} cannot be a chunk"
            )));
        }
        let max_payload = to_u64(self.config.max_payload_bytes);
        if total_len > max_payload {
            return Err(ChunkError::TooLarge {
                len: total_len,
                max: max_payload,
            });
        }
        if max_message_bytes <= HEADER_BYTES {
            return Err(ChunkError::MessageLimitTooSmall { max_message_bytes });
        }
        let own_chunk_bytes = to_u64(max_message_bytes - HEADER_BYTES);
        let len = to_u64(data.len());

        if count == 1 {
            if len != total_len {
                return Err(ChunkError::Inconsistent(format!(
                    "single chunk carries {len} bytes of a {total_len}-byte payload"
                )));
            }
            if len > own_chunk_bytes {
                return Err(ChunkError::Inconsistent(format!(
                    "chunk data of {len} bytes exceeds this node's {own_chunk_bytes}"
                )));
            }
            return Ok(len);
        }

        let others = u64::from(count - 1);
        let chunk_data_bytes = if index + 1 < count {
            len
        } else {
            // The last chunk: the others share the rest equally.
            let rest = total_len.saturating_sub(len);
            if len == 0 || len > total_len || rest % others != 0 {
                return Err(ChunkError::Inconsistent(format!(
                    "last chunk of {len} bytes does not complete {others} equal chunks \
                     to {total_len} bytes"
                )));
            }
            rest / others
        };
        if chunk_data_bytes == 0 {
            return Err(ChunkError::Inconsistent("chunk carries no data".into()));
        }
        if chunk_data_bytes > own_chunk_bytes {
            return Err(ChunkError::Inconsistent(format!(
                "chunk size {chunk_data_bytes} exceeds this node's {own_chunk_bytes}"
            )));
        }
        // The last chunk must hold 1..=chunk_data_bytes: others * size < total <= count * size.
        let before_last = others.checked_mul(chunk_data_bytes);
        let all = u64::from(count).checked_mul(chunk_data_bytes);
        match (before_last, all) {
            (Some(b), Some(a)) if b < total_len && total_len <= a => Ok(chunk_data_bytes),
            _ => Err(ChunkError::Inconsistent(format!(
                "{count} chunks of {chunk_data_bytes} bytes do not make {total_len} bytes"
            ))),
        }
    }

    /// Refuse a new set from `author` when a limit would be exceeded, after dropping timed-out
    /// sets once. Accounts nothing.
    fn admit(&mut self, author: PeerId, now: Instant) -> Result<(), ChunkError> {
        if self.limit_reached(author).is_some() {
            self.expire(now);
        }
        match self.limit_reached(author) {
            Some(limit) => Err(ChunkError::Busy { limit }),
            None => Ok(()),
        }
    }

    /// Which limit one more set from `author` would exceed (`maxPendingBytes` is checked by
    /// [`Reassembler::start_set`], which knows the size).
    fn limit_reached(&self, author: PeerId) -> Option<&'static str> {
        if self.sets.len() >= self.config.max_pending_sets {
            return Some("maxPendingSets");
        }
        let mine = self.per_author.get(&author).copied().unwrap_or(0);
        if mine >= self.config.max_pending_sets_per_author {
            return Some("maxPendingSetsPerAuthor");
        }
        None
    }

    /// A new empty set for `header`, if its bytes fit in `maxPendingBytes`.
    fn start_set(
        &mut self,
        header: &ChunkHeader,
        chunk_data_bytes: u64,
        now: Instant,
    ) -> Result<PendingSet, ChunkError> {
        let max_bytes = to_u64(self.config.max_pending_bytes);
        let fits = |held: u64| {
            held.checked_add(header.total_len)
                .is_some_and(|sum| sum <= max_bytes)
        };
        if !fits(self.pending_bytes) {
            self.expire(now);
            if !fits(self.pending_bytes) {
                return Err(ChunkError::Busy {
                    limit: "maxPendingBytes",
                });
            }
        }
        let len = usize::try_from(header.total_len).map_err(|_| ChunkError::TooLarge {
            len: header.total_len,
            max: to_u64(usize::MAX),
        })?;
        let words = usize::try_from(header.count.div_ceil(64)).unwrap_or(usize::MAX);
        Ok(PendingSet {
            count: header.count,
            total_len: header.total_len,
            chunk_data_bytes,
            received: vec![0; words],
            received_count: 0,
            buffer: vec![0; len],
            started: now,
        })
    }

    /// Remove a set and its accounting.
    fn release(&mut self, key: &SetKey) -> Option<PendingSet> {
        let set = self.sets.remove(key)?;
        self.pending_bytes = self.pending_bytes.saturating_sub(set.total_len);
        decrement(&mut self.per_author, &key.0);
        Some(set)
    }
}

/// Count one set fewer for `author`, forgetting the author at zero.
fn decrement(per_author: &mut HashMap<PeerId, usize>, author: &PeerId) {
    if let Some(n) = per_author.get_mut(author) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            per_author.remove(author);
        }
    }
}
