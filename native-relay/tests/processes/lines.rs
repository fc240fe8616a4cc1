//! A child process that prints JSON lines (`meshwork-peer`, `meshwork-relay --json`), read on a
//! thread, with a deadline-bound wait for the line a test expects; and the relay's command line
//! the tests share.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use serde_json::Value;

/// Read `child`'s stdout (which must be piped) as JSON lines; others are skipped.
pub fn json_lines(child: &mut Child) -> mpsc::Receiver<Value> {
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str::<Value>(&line) {
                if tx.send(value).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

/// Read lines until `pick` returns something, or fail after `deadline` with what was seen.
pub fn wait_for<T>(
    rx: &mpsc::Receiver<Value>,
    what: &str,
    deadline: Duration,
    mut pick: impl FnMut(&Value) -> Option<T>,
) -> T {
    let end = Instant::now() + deadline;
    let mut seen = Vec::new();
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(found) = pick(&line) {
                    return found;
                }
                seen.push(line);
            }
            Err(_) => panic!("no {what} within {deadline:?}; lines: {seen:?}"),
        }
    }
}

/// `meshwork-relay --json` on 127.0.0.1 with every port picked by the OS, data in `dir`, and
/// `extra` arguments; stdout piped (read it with [`json_lines`]), stderr dropped.
pub fn relay(dir: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_meshwork-relay"))
        .args(["--json", "--listen-ip", "127.0.0.1", "--data-dir"])
        .arg(dir)
        .args(["--tcp-port", "0", "--quic-port", "0", "--ws-port", "0"])
        .args(["--webrtc-port", "0", "--webtransport-port", "0"])
        .args(["--http-port", "0"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start meshwork-relay")
}

/// `meshwork-peer` listening on TCP 127.0.0.1 with mDNS off, and `extra` arguments; stdin and
/// stdout piped, stderr dropped.
pub fn peer(extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_meshwork-peer"))
        .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
        .args(["--config", r#"{"mdns":{"enabled":false}}"#])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start meshwork-peer")
}

/// A child process, killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
