//! Splitting large gossip payloads into chunks, and reassembling them with an integrity check.
//!
//! Gossipsub caps every message at `gossip.maxMessageBytes`. A payload larger than that is sent
//! as a *chunk set*: several gossip messages, each carrying one slice of the payload behind a
//! small header. The receiver collects the slices per author, and when the set is complete checks
//! the whole payload against its SHA-256 before handing it on.
//!
//! # When a payload is chunked
//!
//! Plain messages stay plain, so that gossipsub peers that know nothing of meshwork still
//! interoperate: a payload of at most `max_message_bytes` that does **not** start with
//! [`CHUNK_MAGIC`] is sent as it is. Anything else is sent as a chunk set: a payload that is too
//! big, and a payload of any size that starts with the magic (a small one becomes a one-chunk
//! set), so that every payload round-trips unchanged.
//!
//! # Wire format
//!
//! Each chunk is one gossip message; integers are big-endian:
//!
//! ```text
//! offset  size  field
//!      0     8  magic      CHUNK_MAGIC = 00 'm' 'w' 'c' 'h' 'k' 01 00
//!      8    32  set_id     SHA-256 of the whole payload
//!     40     4  index      u32, 0-based, index < count
//!     44     4  count      u32, number of chunks in the set, at least 1
//!     48     8  total_len  u64, length of the whole payload in bytes
//!     56     …  data       this chunk's slice of the payload
//! ```
//!
//! With `chunk_data_bytes = max_message_bytes - HEADER_BYTES` (the sender's limit), every chunk
//! but the last carries exactly `chunk_data_bytes` bytes of data, the last carries the rest (at
//! least 1 byte), and `count == ceil(total_len / chunk_data_bytes)`. The empty payload, which is
//! only ever seen if a peer chunks it deliberately, is one chunk with no data (`count == 1`).
//!
//! # Chunk size
//!
//! The receiver does not assume the sender's `max_message_bytes` equals its own. It derives the
//! chunk size of a set from the first chunk it receives (the data length of a chunk that is not
//! the last; for the last chunk, `(total_len - data.len()) / (count - 1)`, which must divide
//! exactly) and requires every later chunk of the set to agree. A peer with a *smaller* limit is
//! therefore understood; chunks larger than the receiver's own `max_message_bytes` are refused
//! (gossipsub would refuse them anyway).
//!
//! # Bounds
//!
//! [`Reassembler`] holds at most [`ChunkConfig::max_pending_sets`] incomplete sets (at most
//! [`ChunkConfig::max_pending_sets_per_author`] per author) and at most
//! [`ChunkConfig::max_pending_bytes`] of payload: a set's whole `total_len` is accounted (and
//! allocated) when its first chunk arrives, so a set that could not fit is refused up front with
//! [`ChunkError::Busy`]. Bookkeeping adds one bit per chunk, at most an eighth of `total_len`,
//! since every chunk carries at least one byte. Incomplete sets are dropped
//! [`ChunkConfig::set_timeout_ms`] after their first chunk.

use std::collections::HashMap;
use std::time::Duration;

use libp2p::PeerId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;
use web_time::Instant;

/// The first 8 bytes of every chunk: `00 'm' 'w' 'c' 'h' 'k' 01 00` ("meshwork chunk", format
/// version 1). A leading zero byte is never a valid protobuf field tag and is rare in text, so a
/// plain payload starting with it is unlikely; one that does is chunked anyway, see the module
/// documentation.
pub const CHUNK_MAGIC: [u8; 8] = *b"\0mwchk\x01\0";

/// Size of the chunk header in bytes: magic (8) + set_id (32) + index (4) + count (4) +
/// total_len (8).
pub const HEADER_BYTES: usize = 8 + 32 + 4 + 4 + 8;

/// Why a payload could not be chunked, or a chunk could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChunkError {
    /// The payload (or the `total_len` a chunk announces) exceeds the allowed maximum.
    #[error("payload of {len} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// The payload length, in bytes.
        len: u64,
        /// The maximum allowed, in bytes.
        max: u64,
    },
    /// `max_message_bytes` cannot carry a chunk header plus one byte of data.
    #[error(
        "max message size of {max_message_bytes} bytes is too small: chunks need at least {} bytes",
        HEADER_BYTES + 1
    )]
    MessageLimitTooSmall {
        /// The limit that was given, in bytes.
        max_message_bytes: usize,
    },
    /// A chunk is structurally invalid (truncated header, `count == 0`, `index >= count`, …).
    #[error("malformed chunk: {0}")]
    Malformed(String),
    /// A chunk disagrees with its own header, with the other chunks of its set, or with this
    /// node's limits.
    #[error("inconsistent chunk: {0}")]
    Inconsistent(String),
    /// A new chunk set was refused because a reassembly limit is reached; the field names the
    /// configuration key (e.g. `"maxPendingSets"`).
    #[error("chunk reassembly is busy: {limit} reached")]
    Busy {
        /// The configuration key of the limit that was reached.
        limit: &'static str,
    },
    /// The reassembled payload's SHA-256 does not match the set id; the set was dropped.
    #[error("reassembled payload does not match its SHA-256 set id")]
    IntegrityFailed,
}

/// The decoded header of one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkHeader {
    /// SHA-256 of the whole payload; identifies the set (together with the author).
    pub set_id: [u8; 32],
    /// Position of this chunk in the set, `0..count`.
    pub index: u32,
    /// Number of chunks in the set, at least 1.
    pub count: u32,
    /// Length of the whole payload, in bytes.
    pub total_len: u64,
}

/// What [`parse`] found in a gossip message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// Not a chunk: the message is the payload itself.
    Plain,
    /// A chunk: its header and its data (a slice of the message).
    Chunk(ChunkHeader, &'a [u8]),
}

/// Reassembly limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ChunkConfig {
    /// Largest payload that is chunked or reassembled, in bytes. Default 16 MiB.
    pub max_payload_bytes: usize,
    /// Most incomplete chunk sets held at once, all authors together. Default 16.
    pub max_pending_sets: usize,
    /// Most incomplete chunk sets held at once for one author. Default 4.
    pub max_pending_sets_per_author: usize,
    /// Most bytes held for incomplete sets (the sum of their `total_len`, accounted when a set's
    /// first chunk arrives). Default 64 MiB.
    pub max_pending_bytes: usize,
    /// An incomplete set is dropped this many milliseconds after its first chunk. Default 30,000.
    pub set_timeout_ms: u64,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        Self {
            max_payload_bytes: 16 * 1024 * 1024,
            max_pending_sets: 16,
            max_pending_sets_per_author: 4,
            max_pending_bytes: 64 * 1024 * 1024,
            set_timeout_ms: 30_000,
        }
    }
}

/// Upper bound for [`ChunkConfig::max_payload_bytes`] and [`ChunkConfig::max_pending_bytes`]
/// (1 GiB): more cannot be held in a browser page anyway.
const MAX_BYTES_LIMIT: usize = 1 << 30;

/// Upper bound for [`ChunkConfig::set_timeout_ms`] (one hour).
const MAX_TIMEOUT_MS: u64 = 3_600_000;

impl ChunkConfig {
    /// Check the values for ones that cannot work; returns a message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_payload_bytes == 0 || self.max_payload_bytes > MAX_BYTES_LIMIT {
            return Err(format!(
                "maxPayloadBytes must be between 1 and {MAX_BYTES_LIMIT}"
            ));
        }
        if self.max_pending_sets == 0 {
            return Err("maxPendingSets must be at least 1".into());
        }
        if self.max_pending_sets_per_author == 0
            || self.max_pending_sets_per_author > self.max_pending_sets
        {
            return Err("maxPendingSetsPerAuthor must be between 1 and maxPendingSets".into());
        }
        if self.max_pending_bytes < self.max_payload_bytes
            || self.max_pending_bytes > MAX_BYTES_LIMIT
        {
            return Err(format!(
                "maxPendingBytes must be between maxPayloadBytes and {MAX_BYTES_LIMIT}"
            ));
        }
        if self.set_timeout_ms == 0 || self.set_timeout_ms > MAX_TIMEOUT_MS {
            return Err(format!(
                "setTimeoutMs must be between 1 and {MAX_TIMEOUT_MS}"
            ));
        }
        Ok(())
    }

    /// The set timeout as a [`Duration`].
    pub fn set_timeout(&self) -> Duration {
        Duration::from_millis(self.set_timeout_ms)
    }
}

/// Lossless on every target Rust supports (usize is at most 64 bits); saturates otherwise.
fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// SHA-256 of `bytes`.
fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Split `payload` into the gossip messages to publish.
///
/// Returns the payload itself as the only message when it may stay plain (at most
/// `max_message_bytes` and not starting with [`CHUNK_MAGIC`]), otherwise the chunks of its set in
/// index order, each at most `max_message_bytes` long.
///
/// Errors: [`ChunkError::TooLarge`] when `payload` exceeds `max_payload_bytes` (or would need more
/// than `u32::MAX` chunks); [`ChunkError::MessageLimitTooSmall`] when `max_message_bytes` is not
/// above [`HEADER_BYTES`] (checked for every payload, so a misconfiguration shows at once).
pub fn encode(
    payload: &[u8],
    max_message_bytes: usize,
    max_payload_bytes: usize,
) -> Result<Vec<Vec<u8>>, ChunkError> {
    if payload.len() > max_payload_bytes {
        return Err(ChunkError::TooLarge {
            len: to_u64(payload.len()),
            max: to_u64(max_payload_bytes),
        });
    }
    if max_message_bytes <= HEADER_BYTES {
        return Err(ChunkError::MessageLimitTooSmall { max_message_bytes });
    }
    if payload.len() <= max_message_bytes && !payload.starts_with(&CHUNK_MAGIC) {
        return Ok(vec![payload.to_vec()]);
    }
    let chunk_data_bytes = max_message_bytes - HEADER_BYTES;
    let count = payload.len().div_ceil(chunk_data_bytes).max(1);
    let too_many = || ChunkError::TooLarge {
        len: to_u64(payload.len()),
        max: to_u64(max_payload_bytes),
    };
    let count_u32 = u32::try_from(count).map_err(|_| too_many())?;
    let set_id = sha256(payload);
    let total_len = to_u64(payload.len());
    let mut slices: Vec<&[u8]> = payload.chunks(chunk_data_bytes).collect();
    if slices.is_empty() {
        // Only the empty payload: one chunk without data.
        slices.push(&[]);
    }
    let mut out = Vec::with_capacity(count);
    for (index, data) in (0..count_u32).zip(slices) {
        let header = ChunkHeader {
            set_id,
            index,
            count: count_u32,
            total_len,
        };
        let mut message = Vec::with_capacity(HEADER_BYTES + data.len());
        write_header(&mut message, &header);
        message.extend_from_slice(data);
        out.push(message);
    }
    Ok(out)
}

/// Append the wire form of `header` to `out`.
fn write_header(out: &mut Vec<u8>, header: &ChunkHeader) {
    out.extend_from_slice(&CHUNK_MAGIC);
    out.extend_from_slice(&header.set_id);
    out.extend_from_slice(&header.index.to_be_bytes());
    out.extend_from_slice(&header.count.to_be_bytes());
    out.extend_from_slice(&header.total_len.to_be_bytes());
}

/// Read `N` bytes at `offset`, if they are there.
fn read_array<const N: usize>(bytes: &[u8], offset: usize) -> Option<[u8; N]> {
    let end = offset.checked_add(N)?;
    bytes.get(offset..end)?.try_into().ok()
}

/// Classify one received gossip message: [`Parsed::Plain`] unless it starts with
/// [`CHUNK_MAGIC`], otherwise its chunk header and data.
///
/// Checks what one chunk can show on its own: a complete header, `count >= 1`,
/// `index < count`, `count` not above `max(total_len, 1)` (every chunk of a non-empty payload
/// carries at least one byte), and data neither longer than `total_len` nor empty unless the
/// payload is. Anything else is a [`ChunkError::Malformed`]. Never panics, whatever the input.
pub fn parse(message: &[u8]) -> Result<Parsed<'_>, ChunkError> {
    if !message.starts_with(&CHUNK_MAGIC) {
        return Ok(Parsed::Plain);
    }
    let truncated = || {
        ChunkError::Malformed(format!(
            "truncated header: {} bytes, need {HEADER_BYTES}",
            message.len()
        ))
    };
    let set_id: [u8; 32] = read_array(message, 8).ok_or_else(truncated)?;
    let index = u32::from_be_bytes(read_array(message, 40).ok_or_else(truncated)?);
    let count = u32::from_be_bytes(read_array(message, 44).ok_or_else(truncated)?);
    let total_len = u64::from_be_bytes(read_array(message, 48).ok_or_else(truncated)?);
    let data = message.get(HEADER_BYTES..).ok_or_else(truncated)?;
    if count == 0 {
        return Err(ChunkError::Malformed("count is 0".into()));
    }
    if index >= count {
        return Err(ChunkError::Malformed(format!(
            "index {index} is not below count {count}"
        )));
    }
    if u64::from(count) > total_len.max(1) {
        return Err(ChunkError::Malformed(format!(
            "count {count} is more than total length {total_len} allows"
        )));
    }
    if to_u64(data.len()) > total_len {
        return Err(ChunkError::Malformed(format!(
            "data of {} bytes is longer than the total length {total_len}",
            data.len()
        )));
    }
    if data.is_empty() && total_len > 0 {
        return Err(ChunkError::Malformed("chunk carries no data".into()));
    }
    Ok(Parsed::Chunk(
        ChunkHeader {
            set_id,
            index,
            count,
            total_len,
        },
        data,
    ))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 64 * 1024;

    fn cfg() -> ChunkConfig {
        ChunkConfig::default()
    }

    /// Deterministic pseudo-random bytes (xorshift64).
    fn bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    /// Fisher–Yates with xorshift64.
    fn shuffle<T>(items: &mut [T], seed: u64) {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for i in (1..items.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let j = (x % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }

    /// Encode, then parse and reassemble every message in the given order; returns the payload.
    fn deliver(r: &mut Reassembler, author: PeerId, messages: &[Vec<u8>], now: Instant) -> Vec<u8> {
        let mut done = None;
        for m in messages {
            match parse(m).unwrap() {
                Parsed::Plain => {
                    assert_eq!(messages.len(), 1);
                    return m.clone();
                }
                Parsed::Chunk(h, d) => {
                    if let Some(p) = r.insert(author, h, d, MAX, now).unwrap() {
                        assert!(done.is_none(), "completed twice");
                        done = Some(p);
                    }
                }
            }
        }
        done.expect("set did not complete")
    }

    fn round_trip(payload: &[u8]) -> Vec<Vec<u8>> {
        let messages = encode(payload, MAX, cfg().max_payload_bytes).unwrap();
        for m in &messages {
            assert!(m.len() <= MAX);
        }
        let mut r = Reassembler::new(cfg());
        let out = deliver(&mut r, PeerId::random(), &messages, Instant::now());
        assert_eq!(out, payload);
        assert_eq!(r.pending_sets(), 0);
        assert_eq!(r.pending_bytes(), 0);
        messages
    }

    #[test]
    fn header_size_and_magic() {
        assert_eq!(HEADER_BYTES, 56);
        assert_eq!(CHUNK_MAGIC.len(), 8);
        assert_eq!(CHUNK_MAGIC[0], 0);
    }

    #[test]
    fn empty_payload_is_plain() {
        let m = round_trip(&[]);
        assert_eq!(m, vec![Vec::<u8>::new()]);
    }

    #[test]
    fn small_payload_is_plain() {
        let m = round_trip(b"hello");
        assert_eq!(m, vec![b"hello".to_vec()]);
        assert_eq!(parse(b"hello"), Ok(Parsed::Plain));
    }

    #[test]
    fn small_payload_with_magic_is_one_chunk() {
        let mut p = CHUNK_MAGIC.to_vec();
        p.extend_from_slice(b"looks like a chunk");
        let m = round_trip(&p);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].len(), HEADER_BYTES + p.len());
        // Exactly the magic, and the magic plus a full message, too.
        round_trip(&CHUNK_MAGIC);
        let mut big = CHUNK_MAGIC.to_vec();
        big.resize(MAX, 7);
        assert_eq!(round_trip(&big).len(), 2);
    }

    #[test]
    fn crafted_empty_chunk_set_round_trips() {
        let header = ChunkHeader {
            set_id: sha256(&[]),
            index: 0,
            count: 1,
            total_len: 0,
        };
        let mut m = Vec::new();
        write_header(&mut m, &header);
        let Ok(Parsed::Chunk(h, d)) = parse(&m) else {
            panic!("not a chunk")
        };
        let mut r = Reassembler::new(cfg());
        let out = r.insert(PeerId::random(), h, d, MAX, Instant::now());
        assert_eq!(out, Ok(Some(Vec::new())));
    }

    #[test]
    fn exactly_max_is_plain_and_max_plus_one_is_two_chunks() {
        let p = bytes(MAX, 1);
        assert_eq!(round_trip(&p).len(), 1);
        let p = bytes(MAX + 1, 2);
        let m = round_trip(&p);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].len(), MAX);
        assert_eq!(m[1].len(), HEADER_BYTES + (MAX + 1) - (MAX - HEADER_BYTES));
    }

    #[test]
    fn chunk_count_matches_the_formula() {
        let cd = MAX - HEADER_BYTES;
        for len in [cd * 3 - 1, cd * 3, cd * 3 + 1] {
            let m = encode(&bytes(len, 3), MAX, usize::MAX).unwrap();
            assert_eq!(m.len(), len.div_ceil(cd));
            for (i, c) in m.iter().enumerate() {
                let Ok(Parsed::Chunk(h, d)) = parse(c) else {
                    panic!("not a chunk")
                };
                assert_eq!(h.index as usize, i);
                assert_eq!(h.count as usize, m.len());
                assert_eq!(h.total_len as usize, len);
                if i + 1 < m.len() {
                    assert_eq!(d.len(), cd);
                }
            }
        }
    }

    #[test]
    fn ten_mib_shuffled_with_duplicates() {
        let payload = bytes(10 * 1024 * 1024, 42);
        let messages = encode(&payload, MAX, cfg().max_payload_bytes).unwrap();
        assert!(messages.len() > 100);
        let mut order: Vec<Vec<u8>> = messages.clone();
        order.extend(messages.iter().step_by(3).cloned());
        shuffle(&mut order, 7);
        // Keep one of the chunks for last so duplicates cannot come after completion.
        let last = messages[5].clone();
        order.retain(|m| *m != last);
        order.push(last);

        let mut r = Reassembler::new(cfg());
        let author = PeerId::random();
        let now = Instant::now();
        let mut out = None;
        for m in &order {
            let Ok(Parsed::Chunk(h, d)) = parse(m) else {
                panic!("not a chunk")
            };
            let got = r.insert(author, h, d, MAX, now).unwrap();
            if got.is_none() {
                assert_eq!(r.pending_bytes(), payload.len() as u64);
            }
            out = got.or(out);
        }
        assert_eq!(out.as_deref(), Some(&payload[..]));
        assert_eq!(r.pending_sets(), 0);
        assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn smaller_sender_limit_is_understood() {
        let payload = bytes(100_000, 5);
        let messages = encode(&payload, 1_000, usize::MAX).unwrap();
        let mut r = Reassembler::new(cfg());
        assert_eq!(
            deliver(&mut r, PeerId::random(), &messages, Instant::now()),
            payload
        );
        // The last chunk first: the chunk size is derived from it.
        let mut reversed = messages.clone();
        reversed.reverse();
        assert_eq!(
            deliver(&mut r, PeerId::random(), &reversed, Instant::now()),
            payload
        );
    }

    #[test]
    fn larger_sender_limit_is_refused() {
        let payload = bytes(3 * MAX, 6);
        let messages = encode(&payload, 2 * MAX, usize::MAX).unwrap();
        let Ok(Parsed::Chunk(h, d)) = parse(&messages[0]) else {
            panic!("not a chunk")
        };
        let mut r = Reassembler::new(cfg());
        let e = r.insert(PeerId::random(), h, d, MAX, Instant::now());
        assert!(matches!(e, Err(ChunkError::Inconsistent(_))), "{e:?}");
        assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn forged_chunk_fails_integrity_and_drops_the_set() {
        let payload = bytes(3 * MAX, 8);
        let mut messages = encode(&payload, MAX, cfg().max_payload_bytes).unwrap();
        let last = messages.len() - 1;
        messages[1][HEADER_BYTES + 10] ^= 0xff;
        let mut r = Reassembler::new(cfg());
        let author = PeerId::random();
        let now = Instant::now();
        for (i, m) in messages.iter().enumerate() {
            let Ok(Parsed::Chunk(h, d)) = parse(m) else {
                panic!("not a chunk")
            };
            let got = r.insert(author, h, d, MAX, now);
            if i == last {
                assert_eq!(got, Err(ChunkError::IntegrityFailed));
            } else {
                assert_eq!(got, Ok(None));
            }
        }
        assert_eq!(r.pending_sets(), 0);
        assert_eq!(r.pending_bytes(), 0);

        // A forged single chunk, too.
        let mut p = CHUNK_MAGIC.to_vec();
        p.push(1);
        let mut m = encode(&p, MAX, MAX).unwrap();
        if let Some(b) = m[0].last_mut() {
            *b ^= 1;
        }
        let Ok(Parsed::Chunk(h, d)) = parse(&m[0]) else {
            panic!("not a chunk")
        };
        assert_eq!(
            r.insert(author, h, d, MAX, now),
            Err(ChunkError::IntegrityFailed)
        );
    }

    #[test]
    fn missing_chunk_expires_after_timeout() {
        let payload = bytes(4 * MAX, 9);
        let messages = encode(&payload, MAX, cfg().max_payload_bytes).unwrap();
        let mut r = Reassembler::new(cfg());
        let author = PeerId::random();
        let t0 = Instant::now();
        for m in &messages[1..] {
            let Ok(Parsed::Chunk(h, d)) = parse(m) else {
                panic!("not a chunk")
            };
            assert_eq!(r.insert(author, h, d, MAX, t0), Ok(None));
        }
        assert_eq!(r.pending_sets(), 1);
        assert_eq!(r.pending_bytes(), payload.len() as u64);
        let timeout = cfg().set_timeout();
        assert_eq!(r.expire(t0 + timeout), 0);
        assert_eq!(r.pending_sets(), 1);
        assert_eq!(r.expire(t0 + timeout + Duration::from_millis(1)), 1);
        assert_eq!(r.pending_sets(), 0);
        assert_eq!(r.pending_bytes(), 0);

        // The missing chunk arriving late starts a new set, which then also times out.
        let Ok(Parsed::Chunk(h, d)) = parse(&messages[0]) else {
            panic!("not a chunk")
        };
        let late = t0 + 2 * timeout;
        assert_eq!(r.insert(author, h, d, MAX, late), Ok(None));
        assert_eq!(r.pending_sets(), 1);
        assert_eq!(r.expire(late + 2 * timeout), 1);
        assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn stale_set_is_restarted_by_insert() {
        let payload = bytes(2 * MAX, 10);
        let messages = encode(&payload, MAX, cfg().max_payload_bytes).unwrap();
        assert_eq!(messages.len(), 3);
        let mut r = Reassembler::new(cfg());
        let author = PeerId::random();
        let t0 = Instant::now();
        let chunk = |i: usize| match parse(&messages[i]) {
            Ok(Parsed::Chunk(h, d)) => (h, d),
            _ => panic!("not a chunk"),
        };
        let (h, d) = chunk(0);
        assert_eq!(r.insert(author, h, d, MAX, t0), Ok(None));
        let t1 = t0 + cfg().set_timeout() * 2;
        let (h, d) = chunk(1);
        assert_eq!(r.insert(author, h, d, MAX, t1), Ok(None));
        let (h, d) = chunk(2);
        assert_eq!(r.insert(author, h, d, MAX, t1), Ok(None));
        assert_eq!(r.pending_bytes(), payload.len() as u64);
        let (h, d) = chunk(0);
        assert_eq!(r.insert(author, h, d, MAX, t1), Ok(Some(payload.clone())));
        assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn inconsistent_headers_are_refused() {
        let payload = bytes(3 * MAX, 11);
        let messages = encode(&payload, MAX, cfg().max_payload_bytes).unwrap();
        let Ok(Parsed::Chunk(h0, d0)) = parse(&messages[0]) else {
            panic!("not a chunk")
        };
        let Ok(Parsed::Chunk(h1, d1)) = parse(&messages[1]) else {
            panic!("not a chunk")
        };
        let mut r = Reassembler::new(cfg());
        let a = PeerId::random();
        let now = Instant::now();
        assert_eq!(r.insert(a, h0, d0, MAX, now), Ok(None));

        let inconsistent = |e: Result<Option<Vec<u8>>, ChunkError>| {
            assert!(matches!(e, Err(ChunkError::Inconsistent(_))), "{e:?}");
        };
        // Different total length for the same set.
        let mut h = h1;
        h.total_len += 1;
        inconsistent(r.insert(a, h, d1, MAX, now));
        // Different count for the same set.
        let mut h = h1;
        h.count += 1;
        inconsistent(r.insert(a, h, d1, MAX, now));
        // Data too short for a middle chunk (implies another chunk size).
        inconsistent(r.insert(a, h1, &d1[1..], MAX, now));
        // Count that does not match total length and chunk size.
        let mut h = h1;
        h.count = 2;
        inconsistent(Reassembler::new(cfg()).insert(a, h, d1, MAX, now));
        // A last chunk that does not divide the rest equally.
        let mut h = h1;
        h.index = h.count - 1;
        inconsistent(Reassembler::new(cfg()).insert(a, h, &d1[..7], MAX, now));
        // A single chunk whose data is not the whole payload.
        let h = ChunkHeader {
            set_id: [0; 32],
            index: 0,
            count: 1,
            total_len: 10,
        };
        inconsistent(r.insert(a, h, b"abc", MAX, now));
        // Structural errors a caller could build by hand.
        let mut h = h1;
        h.index = h.count;
        assert!(matches!(
            r.insert(a, h, d1, MAX, now),
            Err(ChunkError::Malformed(_))
        ));
        // Over the payload limit.
        let mut h = h1;
        h.total_len = cfg().max_payload_bytes as u64 + 1;
        assert!(matches!(
            r.insert(a, h, d1, MAX, now),
            Err(ChunkError::TooLarge { .. })
        ));
        // This node's message limit too small.
        assert_eq!(
            r.insert(a, h1, d1, HEADER_BYTES, now),
            Err(ChunkError::MessageLimitTooSmall {
                max_message_bytes: HEADER_BYTES
            })
        );

        // The set itself is untouched and still completes.
        assert_eq!(r.pending_sets(), 1);
        let mut out = None;
        for m in &messages[1..] {
            let Ok(Parsed::Chunk(h, d)) = parse(m) else {
                panic!("not a chunk")
            };
            out = r.insert(a, h, d, MAX, now).unwrap().or(out);
        }
        assert_eq!(out, Some(payload));
        assert_eq!(r.pending_bytes(), 0);
    }

    /// The first chunk of a new set of `len` bytes, under `seed`.
    fn first_chunk(len: usize, seed: u64) -> (ChunkHeader, Vec<u8>) {
        let messages = encode(&bytes(len, seed), MAX, usize::MAX).unwrap();
        match parse(&messages[0]) {
            Ok(Parsed::Chunk(h, d)) => (h, d.to_vec()),
            _ => panic!("not a chunk"),
        }
    }

    #[test]
    fn busy_when_limits_are_hit() {
        let now = Instant::now();
        let config = ChunkConfig {
            max_payload_bytes: 1024 * 1024,
            max_pending_sets: 3,
            max_pending_sets_per_author: 2,
            max_pending_bytes: 4 * 1024 * 1024,
            set_timeout_ms: 1_000,
        };
        assert_eq!(config.validate(), Ok(()));

        // Per author.
        let mut r = Reassembler::new(config.clone());
        let a = PeerId::random();
        let b = PeerId::random();
        for seed in 1..=2 {
            let (h, d) = first_chunk(2 * MAX, seed);
            assert_eq!(r.insert(a, h, &d, MAX, now), Ok(None));
        }
        let (h, d) = first_chunk(2 * MAX, 3);
        assert_eq!(
            r.insert(a, h, &d, MAX, now),
            Err(ChunkError::Busy {
                limit: "maxPendingSetsPerAuthor"
            })
        );
        // All authors.
        assert_eq!(r.insert(b, h, &d, MAX, now), Ok(None));
        let (h, d) = first_chunk(2 * MAX, 4);
        assert_eq!(
            r.insert(PeerId::random(), h, &d, MAX, now),
            Err(ChunkError::Busy {
                limit: "maxPendingSets"
            })
        );
        // A one-chunk set holds nothing and is never busy.
        let mut p = CHUNK_MAGIC.to_vec();
        p.push(9);
        let m = encode(&p, MAX, MAX).unwrap();
        let Ok(Parsed::Chunk(h1, d1)) = parse(&m[0]) else {
            panic!("not a chunk")
        };
        assert_eq!(r.insert(a, h1, d1, MAX, now), Ok(Some(p)));
        // Chunks of sets already held are still accepted.
        assert_eq!(r.pending_sets(), 3);
        let held = 3 * (2 * MAX) as u64;
        assert_eq!(r.pending_bytes(), held);
        // Timed-out sets make room for a new one.
        let later = now + Duration::from_millis(1_001);
        assert_eq!(r.insert(PeerId::random(), h, &d, MAX, later), Ok(None));
        assert_eq!(r.pending_sets(), 1);
        assert_eq!(r.pending_bytes(), (2 * MAX) as u64);
        assert_eq!(r.expire(later + Duration::from_secs(2)), 1);
        assert_eq!(r.pending_bytes(), 0);

        // Bytes.
        let mut r = Reassembler::new(config);
        let mut held = 0u64;
        for seed in 10..13 {
            let (h, d) = first_chunk(1024 * 1024, seed);
            assert_eq!(r.insert(PeerId::random(), h, &d, MAX, now), Ok(None));
            held += 1024 * 1024;
        }
        assert_eq!(r.pending_bytes(), held);
        let mut r2 = Reassembler::new(ChunkConfig {
            max_pending_sets: 10,
            ..r.config().clone()
        });
        for seed in 20..24 {
            let (h, d) = first_chunk(1024 * 1024, seed);
            assert_eq!(r2.insert(PeerId::random(), h, &d, MAX, now), Ok(None));
        }
        let (h, d) = first_chunk(MAX * 2, 30);
        assert_eq!(
            r2.insert(PeerId::random(), h, &d, MAX, now),
            Err(ChunkError::Busy {
                limit: "maxPendingBytes"
            })
        );
        assert_eq!(r2.pending_bytes(), 4 * 1024 * 1024);
        assert_eq!(r2.expire(now + Duration::from_secs(5)), 4);
        assert_eq!(r2.pending_bytes(), 0);
        assert_eq!(r2.pending_sets(), 0);
    }

    #[test]
    fn encode_errors() {
        assert_eq!(
            encode(&[0; 11], MAX, 10),
            Err(ChunkError::TooLarge { len: 11, max: 10 })
        );
        assert_eq!(
            encode(b"x", HEADER_BYTES, 10),
            Err(ChunkError::MessageLimitTooSmall {
                max_message_bytes: HEADER_BYTES
            })
        );
        // The smallest usable limit: one data byte per chunk.
        let p = bytes(100, 12);
        let m = encode(&p, HEADER_BYTES + 1, 100).unwrap();
        assert_eq!(m.len(), 100);
        let mut r = Reassembler::new(cfg());
        assert_eq!(deliver(&mut r, PeerId::random(), &m, Instant::now()), p);
    }

    #[test]
    fn parse_never_panics_on_prefixes_and_garbage() {
        let payload = bytes(2 * MAX, 13);
        let messages = encode(&payload, MAX, usize::MAX).unwrap();
        for m in &messages {
            for n in 0..=m.len() {
                let prefix = &m[..n];
                let got = parse(prefix);
                if n < CHUNK_MAGIC.len() {
                    assert_eq!(got, Ok(Parsed::Plain));
                } else if n < HEADER_BYTES {
                    assert!(matches!(got, Err(ChunkError::Malformed(_))), "{n}: {got:?}");
                } else if n == HEADER_BYTES {
                    // No data for a non-empty payload.
                    assert!(got.is_err());
                } else {
                    assert!(matches!(got, Ok(Parsed::Chunk(..))));
                }
            }
        }
        // Garbage after the magic.
        for seed in 0..200u64 {
            let mut m = CHUNK_MAGIC.to_vec();
            m.extend(bytes((seed as usize * 7) % 120, seed));
            if let Ok(Parsed::Chunk(h, d)) = parse(&m) {
                let mut r = Reassembler::new(cfg());
                let _ = r.insert(PeerId::random(), h, d, MAX, Instant::now());
            }
        }
        // Header fields at their extremes.
        let header = |index, count, total_len| {
            let mut m = Vec::new();
            write_header(
                &mut m,
                &ChunkHeader {
                    set_id: [0; 32],
                    index,
                    count,
                    total_len,
                },
            );
            m.push(1);
            m
        };
        let malformed = |m: Vec<u8>| {
            assert!(matches!(parse(&m), Err(ChunkError::Malformed(_))));
        };
        malformed(header(0, 0, 1));
        malformed(header(1, 1, 1));
        malformed(header(0, 5, 3));
        malformed(header(0, 1, 0));
        let m = header(u32::MAX - 1, u32::MAX, u64::MAX);
        let Ok(Parsed::Chunk(h, d)) = parse(&m) else {
            panic!("should parse")
        };
        let mut r = Reassembler::new(cfg());
        assert!(matches!(
            r.insert(PeerId::random(), h, d, MAX, Instant::now()),
            Err(ChunkError::TooLarge { .. })
        ));
        let mut r = Reassembler::new(ChunkConfig {
            max_payload_bytes: usize::MAX,
            max_pending_bytes: usize::MAX,
            ..cfg()
        });
        let got = r.insert(PeerId::random(), h, d, MAX, Instant::now());
        assert!(got.is_err(), "{got:?}");
        assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn config_defaults_validate_and_serde() {
        let c = ChunkConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.max_payload_bytes, 16 * 1024 * 1024);
        assert_eq!(c.max_pending_sets, 16);
        assert_eq!(c.max_pending_sets_per_author, 4);
        assert_eq!(c.max_pending_bytes, 64 * 1024 * 1024);
        assert_eq!(c.set_timeout_ms, 30_000);

        let bad = |c: ChunkConfig, key: &str| {
            let e = c.validate().unwrap_err();
            assert!(e.contains(key), "{e}");
        };
        bad(
            ChunkConfig {
                max_payload_bytes: 0,
                ..cfg()
            },
            "maxPayloadBytes",
        );
        bad(
            ChunkConfig {
                max_pending_sets: 0,
                ..cfg()
            },
            "maxPendingSets",
        );
        bad(
            ChunkConfig {
                max_pending_sets_per_author: 17,
                ..cfg()
            },
            "maxPendingSetsPerAuthor",
        );
        bad(
            ChunkConfig {
                max_pending_bytes: 1024,
                ..cfg()
            },
            "maxPendingBytes",
        );
        bad(
            ChunkConfig {
                set_timeout_ms: 0,
                ..cfg()
            },
            "setTimeoutMs",
        );

        let c: ChunkConfig = serde_json::from_str(r#"{"maxPendingSets":8}"#).unwrap();
        assert_eq!(c.max_pending_sets, 8);
        assert_eq!(c.set_timeout_ms, 30_000);
        assert!(serde_json::from_str::<ChunkConfig>(r#"{"maxPendingSet":8}"#).is_err());
        let json = serde_json::to_string(&ChunkConfig::default()).unwrap();
        assert!(json.contains("maxPendingSetsPerAuthor"));
    }

    #[test]
    fn errors_display() {
        for e in [
            ChunkError::TooLarge { len: 2, max: 1 },
            ChunkError::MessageLimitTooSmall {
                max_message_bytes: 3,
            },
            ChunkError::Malformed("x".into()),
            ChunkError::Inconsistent("y".into()),
            ChunkError::Busy {
                limit: "maxPendingSets",
            },
            ChunkError::IntegrityFailed,
        ] {
            assert!(!e.to_string().is_empty());
        }
        assert!(ChunkError::MessageLimitTooSmall {
            max_message_bytes: 3
        }
        .to_string()
        .contains("57"));
    }
}
