//! Unit tests of `flood`.

use super::*;

fn small() -> FloodConfig {
    FloodConfig {
        per_peer_messages_per_sec: 1,
        per_peer_burst: 2,
        global_messages_per_sec: 1,
        global_burst: 5,
        per_peer_bytes_per_sec: 1024,
        per_peer_bytes_burst: 64 * 1024,
        max_tracked_peers: 4096,
    }
}

#[test]
fn burst_then_limited_per_author() {
    let fc = FloodControl::new(&FloodConfig::default()).unwrap();
    let a = PeerId::random();
    for i in 0..20 {
        assert_eq!(
            fc.check(Some(&a), 100, true),
            Verdict::Allowed,
            "message {i}"
        );
    }
    assert_eq!(fc.check(Some(&a), 100, true), Verdict::PeerLimited);
    // Another author is unaffected.
    assert_eq!(
        fc.check(Some(&PeerId::random()), 100, true),
        Verdict::Allowed
    );
}

#[test]
fn anonymous_messages_share_one_bucket() {
    let fc = FloodControl::new(&small()).unwrap();
    assert_eq!(fc.check(None, 10, true), Verdict::Allowed);
    assert_eq!(fc.check(None, 10, true), Verdict::Allowed);
    assert_eq!(fc.check(None, 10, true), Verdict::PeerLimited);
    assert_eq!(
        fc.check(Some(&PeerId::random()), 10, true),
        Verdict::Allowed
    );
}

#[test]
fn global_limit_hit_by_many_authors() {
    let fc = FloodControl::new(&small()).unwrap();
    for _ in 0..5 {
        assert_eq!(
            fc.check(Some(&PeerId::random()), 10, true),
            Verdict::Allowed
        );
    }
    assert_eq!(
        fc.check(Some(&PeerId::random()), 10, true),
        Verdict::GlobalLimited
    );
}

#[test]
fn a_flooder_does_not_consume_the_global_budget() {
    let fc = FloodControl::new(&small()).unwrap();
    let flooder = PeerId::random();
    let verdicts: Vec<_> = (0..50)
        .map(|_| fc.check(Some(&flooder), 10, true))
        .collect();
    assert_eq!(
        verdicts.iter().filter(|v| **v == Verdict::Allowed).count(),
        2
    );
    assert!(verdicts[2..].iter().all(|v| *v == Verdict::PeerLimited));
    // 2 of the 5 global messages used: 3 more authors get through.
    for _ in 0..3 {
        assert_eq!(
            fc.check(Some(&PeerId::random()), 10, true),
            Verdict::Allowed
        );
    }
    assert_eq!(
        fc.check(Some(&PeerId::random()), 10, true),
        Verdict::GlobalLimited
    );
}

#[test]
fn continuation_chunks_count_bytes_only() {
    let config = FloodConfig {
        per_peer_burst: 1,
        global_burst: 1,
        per_peer_bytes_burst: 4 * 1024,
        ..small()
    };
    let fc = FloodControl::new(&config).unwrap();
    let a = PeerId::random();
    assert_eq!(fc.check(Some(&a), 1024, true), Verdict::Allowed); // 1 KiB, message budget gone
    assert_eq!(fc.check(Some(&a), 1024, false), Verdict::Allowed); // 2 KiB
    assert_eq!(fc.check(Some(&a), 1024, false), Verdict::Allowed); // 3 KiB
    assert_eq!(fc.check(Some(&a), 1024, true), Verdict::PeerLimited); // message budget
    assert_eq!(fc.check(Some(&a), 1024, false), Verdict::Allowed); // 4 KiB
    assert_eq!(fc.check(Some(&a), 1, false), Verdict::PeerLimited); // byte budget
                                                                    // The global budget (1) is used up, but a continuation chunk does not count against it.
    let b = PeerId::random();
    assert_eq!(fc.check(Some(&b), 10, true), Verdict::GlobalLimited);
    assert_eq!(fc.check(Some(&b), 10, false), Verdict::Allowed);
}

#[test]
fn bytes_round_up_to_kib_and_oversize_is_refused() {
    let config = FloodConfig {
        per_peer_bytes_burst: 3 * 1024,
        ..small()
    };
    let fc = FloodControl::new(&config).unwrap();
    let a = PeerId::random();
    assert_eq!(fc.check(Some(&a), 1025, false), Verdict::Allowed); // 2 KiB
    assert_eq!(fc.check(Some(&a), 0, false), Verdict::Allowed); // at least 1 KiB
    assert_eq!(fc.check(Some(&a), 1, false), Verdict::PeerLimited);
    // Larger than the whole burst: never allowed, even for a fresh author.
    assert_eq!(
        fc.check(Some(&PeerId::random()), 3 * 1024 + 1, true),
        Verdict::PeerLimited
    );
    assert_eq!(
        fc.check(Some(&PeerId::random()), usize::MAX, true),
        Verdict::PeerLimited
    );
}

#[test]
fn new_authors_share_an_overflow_bucket_when_full() {
    let config = FloodConfig {
        per_peer_burst: 1,
        max_tracked_peers: 2,
        ..FloodConfig::default()
    };
    let fc = FloodControl::new(&config).unwrap();
    let (a, b, c, d) = (
        PeerId::random(),
        PeerId::random(),
        PeerId::random(),
        PeerId::random(),
    );
    assert_eq!(fc.check(Some(&a), 10, true), Verdict::Allowed);
    assert_eq!(fc.check(Some(&b), 10, true), Verdict::Allowed);
    assert_eq!(fc.tracked_peers(), 2);
    // Full, and nothing is idle yet: c and d share the overflow bucket (burst 1).
    assert_eq!(fc.check(Some(&c), 10, true), Verdict::Allowed);
    assert_eq!(fc.check(Some(&d), 10, true), Verdict::PeerLimited);
    // a keeps its own (used up) bucket.
    assert_eq!(fc.check(Some(&a), 10, true), Verdict::PeerLimited);
    // a, b and the overflow bucket; never more than maxTrackedPeers + 2.
    assert_eq!(fc.tracked_peers(), 3);
    for _ in 0..100 {
        fc.check(Some(&PeerId::random()), 10, true);
    }
    assert_eq!(fc.tracked_peers(), 3);
}

#[test]
fn housekeeping_drops_idle_buckets() {
    // Bursts of 1 at 10/s: a bucket is fresh again 100 ms after its last use.
    let config = FloodConfig {
        per_peer_messages_per_sec: 10,
        per_peer_burst: 1,
        per_peer_bytes_per_sec: 10 * 1024,
        per_peer_bytes_burst: 1024,
        max_tracked_peers: 2,
        ..FloodConfig::default()
    };
    let fc = FloodControl::new(&config).unwrap();
    let (a, b) = (PeerId::random(), PeerId::random());
    assert_eq!(fc.check(Some(&a), 10, true), Verdict::Allowed);
    assert_eq!(fc.check(Some(&b), 10, true), Verdict::Allowed);
    assert_eq!(fc.check(Some(&a), 10, true), Verdict::PeerLimited);
    std::thread::sleep(std::time::Duration::from_millis(600));
    fc.housekeeping();
    assert_eq!(fc.tracked_peers(), 0);
    let c = PeerId::random();
    assert_eq!(fc.check(Some(&c), 10, true), Verdict::Allowed);
    assert_eq!(fc.check(Some(&a), 10, true), Verdict::Allowed);
    assert_eq!(fc.tracked_peers(), 2);
}

#[test]
fn is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<FloodControl>();
}

#[test]
fn defaults_are_valid() {
    assert_eq!(FloodConfig::default().validate(), Ok(()));
    assert!(FloodControl::new(&FloodConfig::default()).is_ok());
}

#[test]
fn invalid_values_name_the_key() {
    let cases: [(FloodConfig, &str); 6] = [
        (
            FloodConfig {
                per_peer_burst: 0,
                ..FloodConfig::default()
            },
            "perPeerBurst",
        ),
        (
            FloodConfig {
                global_messages_per_sec: 0,
                ..FloodConfig::default()
            },
            "globalMessagesPerSec",
        ),
        (
            FloodConfig {
                per_peer_bytes_per_sec: 1023,
                ..FloodConfig::default()
            },
            "perPeerBytesPerSec",
        ),
        (
            FloodConfig {
                per_peer_bytes_burst: u64::MAX,
                ..FloodConfig::default()
            },
            "perPeerBytesBurst",
        ),
        (
            FloodConfig {
                max_tracked_peers: 0,
                ..FloodConfig::default()
            },
            "maxTrackedPeers",
        ),
        (
            FloodConfig {
                max_tracked_peers: usize::MAX,
                ..FloodConfig::default()
            },
            "maxTrackedPeers",
        ),
    ];
    for (config, key) in cases {
        let err = config.validate().unwrap_err();
        assert!(err.contains(key), "{err:?} should name {key}");
        assert_eq!(FloodControl::new(&config).unwrap_err(), err);
    }
}

#[test]
fn serde_is_camel_case_strict_and_partial() {
    let c: FloodConfig = serde_json::from_str(r#"{"perPeerBurst":5}"#).unwrap();
    assert_eq!(c.per_peer_burst, 5);
    assert_eq!(c.global_burst, 2000);
    let r: Result<FloodConfig, _> = serde_json::from_str(r#"{"perPeerBrust":5}"#);
    assert!(r.is_err());
    let json = serde_json::to_value(FloodConfig::default()).unwrap();
    assert_eq!(json["perPeerBytesBurst"], 16 * 1024 * 1024);
}
