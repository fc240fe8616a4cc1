//! Unit tests of `chunking`.

use libp2p::PeerId;
use web_time::Instant;

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
