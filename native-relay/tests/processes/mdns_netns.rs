//! mDNS between two `meshwork-peer` processes with no configuration: each runs in its own network
//! namespace, the two joined by a veth pair (a LAN segment of two hosts). Each must find the
//! other by mDNS and connect to it. The namespaces are made and removed here; nothing else on the
//! machine sees the traffic. Needs root and iproute2 (`scripts/setup.sh` installs it; CI runs as
//! root).

use crate::lines;

use std::{
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use serde_json::Value;

/// Generous: the first mDNS query goes out at start, a lost one is repeated.
const DEADLINE: Duration = Duration::from_secs(60);

fn ip(args: &[&str]) {
    let status = Command::new("ip")
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run `ip` (iproute2 is needed): {e}"));
    assert!(status.success(), "`ip {}` failed: {status}", args.join(" "));
}

/// Two namespaces joined by a veth pair, removed on drop (with the peers started in them).
struct Segment {
    namespaces: [String; 2],
    children: Vec<Child>,
}

impl Segment {
    fn new() -> Self {
        let tag = std::process::id() % 100_000;
        let namespaces = [format!("mw-mdns-{tag}-a"), format!("mw-mdns-{tag}-b")];
        let veths = [format!("mwa{tag}"), format!("mwb{tag}")];
        let segment = Self {
            namespaces: namespaces.clone(),
            children: Vec::new(),
        };
        for ns in &namespaces {
            ip(&["netns", "add", ns]);
        }
        ip(&[
            "link", "add", &veths[0], "type", "veth", "peer", "name", &veths[1],
        ]);
        for (i, (ns, veth)) in namespaces.iter().zip(&veths).enumerate() {
            ip(&["link", "set", veth, "netns", ns]);
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("10.213.0.{}/24", i + 1),
                "dev",
                veth,
            ]);
            ip(&["-n", ns, "link", "set", veth, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
            // Multicast (224.0.0.251) leaves through the veth.
            ip(&["-n", ns, "route", "add", "224.0.0.0/4", "dev", veth]);
        }
        segment
    }

    /// Start `meshwork-peer` in namespace `i` with no configuration beyond a listen address;
    /// its stdout lines come through the returned receiver.
    fn start_peer(&mut self, i: usize) -> mpsc::Receiver<Value> {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.namespaces[i]])
            .arg(env!("CARGO_BIN_EXE_meshwork-peer"))
            .args(["--listen", "/ip4/0.0.0.0/tcp/0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start meshwork-peer");
        let rx = lines::json_lines(&mut child);
        self.children.push(child);
        rx
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// [`lines::wait_for`] with this test's deadline.
fn wait_for<T>(rx: &mpsc::Receiver<Value>, what: &str, pick: impl FnMut(&Value) -> Option<T>) -> T {
    lines::wait_for(rx, what, DEADLINE, pick)
}

#[test]
fn two_processes_on_one_segment_find_each_other_by_mdns_and_connect() {
    let mut segment = Segment::new();
    let a = segment.start_peer(0);
    let b = segment.start_peer(1);
    // The peer ID, and the lines printed before `ready` (mDNS may find the other peer first).
    let id = |rx: &mpsc::Receiver<Value>| {
        let mut early = Vec::new();
        let id = wait_for(rx, "ready line", |l| {
            if l["event"] == "ready" {
                return Some(l["peerId"].as_str().unwrap_or_default().to_owned());
            }
            early.push(l.clone());
            None
        });
        (id, early)
    };
    let ((id_a, early_a), (id_b, early_b)) = (id(&a), id(&b));

    // Each must see the other through mDNS and be connected to it, in either order (the other
    // side's dial may land first).
    for (rx, early, other, other_ip) in [
        (&a, early_a, &id_b, "10.213.0.2"),
        (&b, early_b, &id_a, "10.213.0.1"),
    ] {
        let (mut discovered, mut connected) = (None, false);
        let mut note = |l: &Value| {
            if l["peerId"] == other.as_str() {
                match l["event"].as_str() {
                    Some("peer:discovery") => {
                        discovered = Some((l["source"].clone(), l["addresses"].to_string()))
                    }
                    Some("peer:connect") => connected = true,
                    _ => {}
                }
            }
            discovered.is_some() && connected
        };
        let done_early = early.iter().any(&mut note);
        if !done_early {
            wait_for(
                rx,
                "mDNS discovery of and a connection to the other peer",
                |l| note(l).then_some(()),
            );
        }
        let (source, addresses) = discovered.expect("seen");
        assert_eq!(source, "mdns");
        assert!(
            addresses.contains(other_ip),
            "the other's segment address in {addresses}"
        );
    }
}
