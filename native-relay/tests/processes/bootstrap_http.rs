//! Bootstrapping from a relay's HTTP addresses endpoint, natively, through the real processes on
//! 127.0.0.1: `meshwork-peer --bootstrap-http <relay>` fetches the relay's current addresses and
//! connects; a second relay started with `--bootstrap-http` joins the first, so a service
//! registered at one is found at the other (relays form the DHT backbone); unreachable and
//! `https` URLs are reported as `FETCH_FAILED` and the peer runs.

use crate::lines;

use lines::Proc;

use std::{sync::mpsc, time::Duration};

use serde_json::Value;

/// Catches hangs only.
const DEADLINE: Duration = Duration::from_secs(30);

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mw-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A relay with `extra` arguments; its process, its lines, and its ready line.
fn relay(name: &str, extra: &[&str]) -> (Proc, mpsc::Receiver<Value>, Value) {
    let mut child = lines::relay(&temp_dir(name), extra);
    let rx = lines::json_lines(&mut child);
    let proc = Proc(child);
    let ready = lines::wait_for(&rx, "ready", DEADLINE, |l| {
        (l["event"] == "ready").then(|| l.clone())
    });
    (proc, rx, ready)
}

fn peer(extra: &[&str]) -> (Proc, mpsc::Receiver<Value>) {
    let mut child = lines::peer(extra);
    let rx = lines::json_lines(&mut child);
    (Proc(child), rx)
}

fn connected_to(rx: &mpsc::Receiver<Value>, peer_id: &str) {
    lines::wait_for(rx, "peer:connect", DEADLINE, |l| {
        (l["event"] == "peer:connect" && l["peerId"] == peer_id).then_some(())
    });
}

#[test]
fn a_peer_bootstraps_from_a_relays_http_endpoint_and_bad_urls_are_reported() {
    let (_relay, _relay_lines, ready) = relay("bootstrap-http", &[]);
    let http = ready["http"].as_str().expect("http").trim_end_matches('/');
    let relay_id = ready["peerId"].as_str().expect("peerId");
    let (_peer, rx) = peer(&[
        "--bootstrap-http",
        http,
        "--bootstrap-http",
        "http://127.0.0.1:1",
        "--bootstrap-http",
        "https://127.0.0.1:1",
    ]);
    // The fetches run one after the other and the dial after them; lines come in any order.
    let (mut failures, mut connected) = (Vec::new(), false);
    lines::wait_for(
        &rx,
        "two fetch failures and the connection",
        DEADLINE,
        |l| {
            if l["event"] == "error" && l["code"] == "FETCH_FAILED" {
                failures.push(l["message"].as_str().unwrap_or_default().to_owned());
            }
            connected |= l["event"] == "peer:connect" && l["peerId"] == relay_id;
            (failures.len() == 2 && connected).then_some(())
        },
    );
    assert!(
        failures
            .iter()
            .any(|m| m.contains("https is not supported")),
        "{failures:?}"
    );
}

fn tcp_address(ready: &Value) -> String {
    ready["addresses"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .find(|x| x.contains("/tcp/") && !x.contains("/ws"))
        })
        .expect("a TCP address")
        .to_owned()
}

/// Send one command line and wait for its answer (same `ref`).
fn command(peer: &mut Proc, rx: &mpsc::Receiver<Value>, line: String, reference: u64) -> Value {
    use std::io::Write;
    let stdin = peer.0.stdin.as_mut().expect("stdin");
    writeln!(stdin, "{line}").expect("write a command");
    lines::wait_for(rx, "an answer", DEADLINE, |l| {
        (l["ref"] == reference).then(|| l.clone())
    })
}

#[test]
fn a_relay_joins_another_relay_named_by_bootstrap_http() {
    let (_first, _first_lines, first) = relay("backbone-1", &[]);
    let http = first["http"].as_str().expect("http").to_owned();
    let (_second, _second_lines, second) = relay("backbone-2", &["--bootstrap-http", &http]);
    // A service registered by a peer of the first relay is found by a peer of the second:
    // only through the relays' own connection.
    let (mut provider, provider_rx) = peer(&["--bootstrap", &tcp_address(&first)]);
    connected_to(&provider_rx, first["peerId"].as_str().expect("peerId"));
    let registered = command(
        &mut provider,
        &provider_rx,
        r#"{"cmd":"registerservice","serviceId":"backbone","type":"test","ref":1}"#.into(),
        1,
    );
    assert_eq!(registered["event"], "serviceRegistered", "{registered}");
    let (mut finder, finder_rx) = peer(&["--bootstrap", &tcp_address(&second)]);
    connected_to(&finder_rx, second["peerId"].as_str().expect("peerId"));
    let mut answer = Value::Null;
    for attempt in 0..20u64 {
        let line = format!(
            r#"{{"cmd":"findservice","serviceId":"backbone","ref":{}}}"#,
            10 + attempt
        );
        answer = command(&mut finder, &finder_rx, line, 10 + attempt);
        if answer["event"] == "serviceFound" {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(answer["event"], "serviceFound", "{answer}");
    assert_eq!(
        answer["record"]["provider"],
        registered["record"]["provider"]
    );
}
