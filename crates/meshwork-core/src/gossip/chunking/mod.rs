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

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

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

mod reassembler;

pub use reassembler::Reassembler;

#[cfg(test)]
mod tests;
