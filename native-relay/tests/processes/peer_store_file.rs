//! The peer store natively, through the real processes on 127.0.0.1: `meshwork-peer
//! --peer-store FILE` gets a peer added by hand back after a restart (no `addpeer` the second
//! time); a corrupt file is discarded with a report and the peer runs; `meshwork-relay` starts
//! over a corrupt `<data-dir>/peers.json` and writes a good one.

use crate::lines;

use lines::Proc;

use std::{
    io::Write,
    path::Path,
    sync::mpsc,
    time::{Duration, Instant},
};

use serde_json::Value;

/// Catches hangs only.
const DEADLINE: Duration = Duration::from_secs(30);

/// Start `meshwork-peer` listening on TCP 127.0.0.1, with `extra` arguments. mDNS is off: only
/// the store may bring a peer back.
fn peer(extra: &[&str]) -> (Proc, mpsc::Receiver<Value>) {
    let mut child = lines::peer(extra);
    let rx = lines::json_lines(&mut child);
    (Proc(child), rx)
}

fn wait_for<T>(rx: &mpsc::Receiver<Value>, what: &str, pick: impl FnMut(&Value) -> Option<T>) -> T {
    lines::wait_for(rx, what, DEADLINE, pick)
}

fn event<'a>(name: &'a str) -> impl FnMut(&Value) -> Option<Value> + 'a {
    move |l| (l["event"] == name).then(|| l.clone())
}

/// Wait until `path` holds `wanted` (a peer ID, the format field).
fn wait_for_file_naming(path: &Path, wanted: &str) -> String {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Ok(content) = std::fs::read_to_string(path) {
            if content.contains(wanted) {
                return content;
            }
        }
        assert!(
            Instant::now() < end,
            "{} never held {wanted}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn meshwork_peer_gets_its_added_peer_back_after_a_restart_and_survives_a_corrupt_file() {
    let dir = std::env::temp_dir().join(format!("mw-peer-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("peers.json");
    let store_arg = store.to_str().expect("utf-8 path");

    let (_b, b_lines) = peer(&[]);
    let ready = wait_for(&b_lines, "B ready", event("ready"));
    let b_id = ready["peerId"].as_str().expect("peer id").to_owned();
    let b_address = format!(
        "{}/p2p/{b_id}",
        ready["addresses"][0].as_str().expect("B listens")
    );

    // First run: add B by hand; it is written to the file.
    let (mut a, a_lines) = peer(&["--peer-store", store_arg]);
    let loaded = wait_for(&a_lines, "peerstore:loaded", event("peerstore:loaded"));
    assert_eq!(
        (loaded["restored"].as_u64(), loaded["discarded"].is_null()),
        (Some(0), true)
    );
    let command = serde_json::json!({ "cmd": "addpeer", "address": b_address });
    writeln!(a.0.stdin.as_mut().expect("stdin"), "{command}").expect("write");
    wait_for(&a_lines, "peerAdded", event("peerAdded"));
    wait_for_file_naming(&store, &b_id);
    drop(a);

    // Second run: B comes back with no addpeer.
    let (_a, a_lines) = peer(&["--peer-store", store_arg]);
    let loaded = wait_for(&a_lines, "peerstore:loaded", event("peerstore:loaded"));
    assert_eq!(loaded["restored"].as_u64(), Some(1), "{loaded}");
    wait_for(&a_lines, "B connected", |l| {
        (l["event"] == "peer:state" && l["peerId"] == b_id.as_str() && l["state"] == "connected")
            .then_some(())
    });
    drop(_a);

    // A corrupt file: discarded with the reason, the peer starts and writes a good one.
    std::fs::write(
        &store,
        b"{\"format\": \"meshwork-peer-store\", \"version\": 1, \"pe",
    )
    .expect("write");
    let (_a, a_lines) = peer(&["--peer-store", store_arg]);
    let loaded = wait_for(&a_lines, "peerstore:loaded", event("peerstore:loaded"));
    assert_eq!(loaded["restored"].as_u64(), Some(0));
    assert!(
        loaded["discarded"]
            .as_str()
            .is_some_and(|d| d.contains("not JSON")),
        "{loaded}"
    );
    // It runs on, and its next document replaces the corrupt one.
    wait_for_file_naming(&store, "\"format\":\"meshwork-peer-store\"");
    drop(_a);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_relay_starts_over_a_corrupt_peer_store_and_writes_a_good_one() {
    let dir = std::env::temp_dir().join(format!("mw-relay-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("peers.json");
    std::fs::write(&store, b"\x00\x01 definitely not a peer store").expect("write");
    let mut child = lines::relay(&dir, &[]);
    let lines = lines::json_lines(&mut child);
    let _relay = Proc(child);
    wait_for(&lines, "ready", event("ready"));
    let end = Instant::now() + DEADLINE;
    loop {
        let text = std::fs::read_to_string(&store).unwrap_or_default();
        if text.starts_with("{\"format\":\"meshwork-peer-store\"") {
            break;
        }
        assert!(Instant::now() < end, "peers.json never rewritten: {text:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(_relay);
    std::fs::remove_dir_all(&dir).ok();
}
