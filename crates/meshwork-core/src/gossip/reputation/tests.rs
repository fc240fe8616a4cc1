//! Unit tests of `reputation`.

use super::*;

const MINUTE: Duration = Duration::from_secs(60);

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn valid_messages_raise_the_score_up_to_max() {
    let mut r = Reputation::new(ReputationConfig::default());
    let (p, t0) = (PeerId::random(), Instant::now());
    assert_eq!(r.score(&p, t0), 0.0);
    for _ in 0..3 {
        assert_eq!(r.record(p, Outcome::Valid, t0), None);
    }
    assert!(close(r.score(&p, t0), 3.0));
    for _ in 0..200 {
        r.record(p, Outcome::Valid, t0);
    }
    assert!(close(r.score(&p, t0), 100.0));
    r.record(p, Outcome::Ignored, t0);
    r.record(p, Outcome::RateLimited, t0);
    assert!(close(r.score(&p, t0), 95.0));
}

#[test]
fn rejections_lower_the_score_and_ban_at_the_threshold() {
    let mut r = Reputation::new(ReputationConfig::default());
    let (p, t0) = (PeerId::random(), Instant::now());
    for _ in 0..9 {
        assert_eq!(r.record(p, Outcome::Rejected, t0), None);
    }
    assert!(close(r.score(&p, t0), -90.0));
    assert!(!r.is_banned(&p, t0));
    let until = t0 + Duration::from_secs(600);
    assert_eq!(
        r.record(p, Outcome::Rejected, t0),
        Some(Ban { peer: p, until })
    );
    assert!(r.is_banned(&p, t0));
    assert_eq!(r.bans(t0).collect::<Vec<_>>(), vec![(p, until)]);
    // Already banned: no second ban.
    assert_eq!(r.record(p, Outcome::Rejected, t0), None);
    for _ in 0..200 {
        r.record(p, Outcome::Rejected, t0);
    }
    assert!(close(r.score(&p, t0), -1000.0));
}

#[test]
fn a_ban_expires() {
    let mut r = Reputation::new(ReputationConfig::default());
    let (p, t0) = (PeerId::random(), Instant::now());
    let ban = (0..10).find_map(|_| r.record(p, Outcome::Rejected, t0));
    assert!(ban.is_some());
    let end = t0 + Duration::from_secs(600);
    assert!(r.is_banned(&p, end - Duration::from_secs(1)));
    assert!(!r.is_banned(&p, end));
    assert_eq!(r.bans(end).count(), 0);
    assert_eq!(r.ban_count(), 1);
    r.expire(end);
    assert_eq!(r.ban_count(), 0);
    // The score has decayed to -100 * 0.9^10 = -34.87: seven more rejections ban again.
    assert!(close(r.score(&p, end), -100.0 * 0.9f64.powi(10)));
    let n = (1..=20).find(|_| r.record(p, Outcome::Rejected, end).is_some());
    assert_eq!(n, Some(7));
}

#[test]
fn scores_decay_toward_zero() {
    let mut r = Reputation::new(ReputationConfig::default());
    let (good, bad, t0) = (PeerId::random(), PeerId::random(), Instant::now());
    for _ in 0..100 {
        r.record(good, Outcome::Valid, t0);
    }
    for _ in 0..5 {
        r.record(bad, Outcome::Rejected, t0);
    }
    assert!(close(r.score(&good, t0 + MINUTE), 90.0));
    assert!(close(r.score(&good, t0 + 2 * MINUTE), 81.0));
    assert!(close(
        r.score(&good, t0 + MINUTE / 2),
        100.0 * 0.9f64.sqrt()
    ));
    assert!(close(r.score(&bad, t0 + MINUTE), -45.0));
    // A record materialises the decay first.
    r.record(good, Outcome::Valid, t0 + MINUTE);
    assert!(close(r.score(&good, t0 + MINUTE), 91.0));
    // A clock that goes backwards does not grow the score.
    assert!(close(r.score(&good, t0), 91.0));
}

#[test]
fn expire_forgets_idle_peers_near_zero() {
    let mut r = Reputation::new(ReputationConfig::default());
    let (p, q, t0) = (PeerId::random(), PeerId::random(), Instant::now());
    r.record(p, Outcome::Valid, t0);
    for _ in 0..100 {
        r.record(q, Outcome::Rejected, t0);
    }
    r.expire(t0 + MINUTE);
    assert_eq!(r.tracked_peers(), 2);
    // 1 * 0.9^60 is far below FORGET_BELOW; -1000 * 0.9^60 = -1.8 is not.
    r.expire(t0 + 60 * MINUTE);
    assert_eq!(r.tracked_peers(), 1);
    assert_eq!(r.score(&p, t0 + 60 * MINUTE), 0.0);
    assert!(r.score(&q, t0 + 60 * MINUTE) < -1.0);
    // Near 0 but seen recently: kept.
    let fresh = PeerId::random();
    r.record(fresh, Outcome::RateLimited, t0 + 60 * MINUTE);
    for _ in 0..5 {
        r.record(fresh, Outcome::Valid, t0 + 60 * MINUTE);
    }
    let ignored = PeerId::random();
    r.record(ignored, Outcome::Ignored, t0 + 60 * MINUTE);
    r.expire(t0 + 60 * MINUTE);
    assert_eq!(r.score(&fresh, t0 + 60 * MINUTE), 0.0);
    // q and fresh; a new score of exactly 0 is not stored.
    assert_eq!(r.tracked_peers(), 2);
}

#[test]
fn tracked_peers_are_bounded_and_negative_scores_stay() {
    let config = ReputationConfig {
        max_tracked: 2,
        ..ReputationConfig::default()
    };
    let mut r = Reputation::new(config);
    let t0 = Instant::now();
    let (a, b, c, d) = (
        PeerId::random(),
        PeerId::random(),
        PeerId::random(),
        PeerId::random(),
    );
    r.record(a, Outcome::Rejected, t0);
    r.record(b, Outcome::Rejected, t0);
    r.record(b, Outcome::Rejected, t0);
    assert_eq!(r.tracked_peers(), 2);
    // A new positive peer does not push out a negative one.
    r.record(c, Outcome::Valid, t0 + Duration::from_secs(1));
    assert_eq!(r.tracked_peers(), 2);
    assert_eq!(r.score(&c, t0), 0.0);
    assert!(close(r.score(&a, t0), -10.0));
    // A new worse-or-equal negative peer replaces the least negative (a has decayed a bit).
    r.record(d, Outcome::Rejected, t0 + Duration::from_secs(1));
    assert_eq!(r.tracked_peers(), 2);
    assert_eq!(r.score(&a, t0), 0.0);
    assert!(close(r.score(&d, t0 + Duration::from_secs(1)), -10.0));
    assert!(close(r.score(&b, t0), -20.0));
}

#[test]
fn positive_peers_are_evicted_closest_to_zero_then_oldest() {
    let config = ReputationConfig {
        max_tracked: 3,
        ..ReputationConfig::default()
    };
    let mut r = Reputation::new(config);
    let t0 = Instant::now();
    let s = Duration::from_secs(1);
    let [a, b, c, d, e] = [(); 5].map(|_| PeerId::random());
    r.record(a, Outcome::Valid, t0);
    r.record(a, Outcome::Valid, t0);
    r.record(b, Outcome::Valid, t0);
    r.record(c, Outcome::Valid, t0 + s);
    // b and c are closest to 0; b was seen longest ago.
    r.record(d, Outcome::Valid, t0 + 2 * s);
    assert_eq!(r.tracked_peers(), 3);
    assert_eq!(r.score(&b, t0 + 2 * s), 0.0);
    assert!(r.score(&c, t0 + 2 * s) > 0.0);
    // A negative newcomer displaces a positive peer.
    r.record(e, Outcome::RateLimited, t0 + 3 * s);
    assert_eq!(r.tracked_peers(), 3);
    assert!(r.score(&e, t0 + 3 * s) < 0.0);
    assert!(r.score(&a, t0 + 3 * s) > 1.9);
}

#[test]
fn bans_are_bounded_by_evicting_the_soonest_to_end() {
    let config = ReputationConfig {
        max_bans: 2,
        ban_threshold: -10.0,
        ..ReputationConfig::default()
    };
    let mut r = Reputation::new(config);
    let t0 = Instant::now();
    let s = Duration::from_secs(1);
    let [a, b, c] = [(); 3].map(|_| PeerId::random());
    assert!(r.record(a, Outcome::Rejected, t0).is_some());
    assert!(r.record(b, Outcome::Rejected, t0 + s).is_some());
    assert!(r.record(c, Outcome::Rejected, t0 + 2 * s).is_some());
    assert_eq!(r.ban_count(), 2);
    assert!(!r.is_banned(&a, t0 + 2 * s));
    assert!(r.is_banned(&b, t0 + 2 * s));
    assert!(r.is_banned(&c, t0 + 2 * s));
}

#[test]
fn defaults_are_valid() {
    assert_eq!(ReputationConfig::default().validate(), Ok(()));
}

#[test]
fn invalid_values_name_the_key() {
    let d = ReputationConfig::default;
    let cases = [
        (
            ReputationConfig {
                valid_delta: f64::NAN,
                ..d()
            },
            "validDelta",
        ),
        (
            ReputationConfig {
                rejected_delta: 1.0,
                ..d()
            },
            "rejectedDelta",
        ),
        (ReputationConfig { min: 1.0, ..d() }, "min"),
        (
            ReputationConfig {
                ban_threshold: -2000.0,
                ..d()
            },
            "banThreshold",
        ),
        (ReputationConfig { ban_secs: 0, ..d() }, "banSecs"),
        (
            ReputationConfig {
                decay_per_minute: 1.5,
                ..d()
            },
            "decayPerMinute",
        ),
        (
            ReputationConfig {
                max_tracked: 0,
                ..d()
            },
            "maxTracked",
        ),
        (ReputationConfig { max_bans: 0, ..d() }, "maxBans"),
    ];
    for (config, key) in cases {
        let err = config.validate().unwrap_err();
        assert!(err.contains(key), "{err:?} should name {key}");
    }
}

#[test]
fn invalid_config_does_not_panic() {
    let config = ReputationConfig {
        max: f64::NAN,
        min: 10.0,
        decay_per_minute: f64::NAN,
        max_tracked: 0,
        max_bans: 0,
        ban_secs: u64::MAX,
        ..ReputationConfig::default()
    };
    let mut r = Reputation::new(config);
    let (p, t0) = (PeerId::random(), Instant::now());
    for _ in 0..20 {
        r.record(p, Outcome::Rejected, t0);
    }
    r.expire(t0 + MINUTE);
    assert_eq!(r.tracked_peers(), 0);
}

#[test]
fn serde_is_camel_case_strict_and_partial() {
    let c: ReputationConfig = serde_json::from_str(r#"{"banSecs":60}"#).unwrap();
    assert_eq!(c.ban_secs, 60);
    assert_eq!(c.max_bans, 1024);
    let r: Result<ReputationConfig, _> = serde_json::from_str(r#"{"banSeconds":60}"#);
    assert!(r.is_err());
}
