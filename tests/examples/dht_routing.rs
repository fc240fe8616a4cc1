//! DHT routing benchmark at scale (run by `bench/run.sh`, section `dht`): `--nodes N`
//! (default 1,000) Kademlia-only nodes (`meshwork_tests::kad_sim`: meshwork's Kademlia and
//! identify on the memory transport with Noise and yamux; no gossipsub, ping or connection
//! manager) in one process, each joining three random earlier ones. Once the process is idle
//! (every node's own bootstrap lookups are over), `--lookups L` (default 500) peer lookups
//! between random pairs, one at a time, each run twice: first (mostly over new connections: the
//! bootstraps' have idled out, though earlier lookups' may still be open), then again at once
//! (its connections open). Prints one JSON line: latency (both runs), hops and Kademlia requests
//! per lookup (p50 / p99 / max, and how many lookups took each hop count), what the joins and
//! bootstraps cost (connections, requests answered) and the process's peak RSS; progress goes
//! to stderr.
//!
//! Hops come from rust-libp2p's own trace of each query's answers (`hop_trace.rs`): the answers
//! in the shortest chain from the peers the query started with (its 20 closest in the querier's
//! table) to the target, 0 when the target was one of them. Where this departs from a meshwork
//! node, and why (it is what makes 1,000 nodes fit on two cores):
//!
//! - `--idle-secs S` (default 10; meshwork's `limits.idleConnectionTimeoutSecs` is 60): a
//!   connection without streams closes after S seconds. Bootstrap lookups touch hundreds of
//!   peers per node; kept for 60 s, those connections would need tens of GB here.
//! - Kademlia's periodic bootstrap (every 5 minutes in meshwork) is off unless
//!   `--periodic-bootstrap`: at 1,000 nodes it alone would keep both cores busy (about 350,000
//!   requests per round), and the lookups would time CPU queueing. Each node still bootstraps
//!   when it joins, as in meshwork.
//! - `--join-ms M` (default 20): a pause after each join.
//! - `--settle-secs S`: the least time to wait after the last join (default 10); then until the
//!   process uses under 10 % of a core for 2 s (at most 20 minutes; `settled` in the output
//!   says whether it got there). Idle is how the end of the bootstraps shows; Kademlia does not
//!   report it.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use libp2p::PeerId;
use meshwork_core::{KadMode, NodeConfig};
use meshwork_tests::{
    bench_stats::{arg, flag, report_joined, rss_mib, summary, wait_until_quiet},
    hop_trace::HopTrace,
    kad_sim::{totals, KadNode, LookupOutcome, SimOptions},
    sim::Lcg,
};

/// One lookup and how long it took.
async fn timed_lookup(from: &KadNode, target: PeerId) -> (LookupOutcome, Duration) {
    let started = Instant::now();
    let outcome = from.find_peer(target).await.expect("one lookup at a time");
    (outcome, started.elapsed())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let nodes_wanted = arg("--nodes", 1000).max(4);
    let lookups = arg("--lookups", 500).max(1);
    let join_pause = Duration::from_millis(arg("--join-ms", 20) as u64);
    let settle = Duration::from_secs(arg("--settle-secs", 10) as u64);
    let options = SimOptions {
        idle: Duration::from_secs(arg("--idle-secs", 10).max(1) as u64),
        periodic_bootstrap: flag("--periodic-bootstrap"),
    };
    let trace = HopTrace::global().expect("the only tracing subscriber of this process");

    let config = NodeConfig {
        kad_mode: KadMode::Server,
        ..NodeConfig::default()
    };
    let mut rng = Lcg(11);
    let started = Instant::now();
    let mut nodes: Vec<KadNode> = Vec::with_capacity(nodes_wanted);
    while nodes.len() < nodes_wanted {
        let node = KadNode::start(nodes.len(), &config, &options, Some(trace.clone()))
            .await
            .unwrap_or_else(|e| panic!("node {}: {e}", nodes.len()));
        node.join(&nodes, &mut rng).await.expect("node runs");
        nodes.push(node);
        tokio::time::sleep(join_pause).await;
        report_joined("dht_routing", nodes.len(), started);
    }
    let built_secs = started.elapsed().as_secs_f64();
    let mut last_report = Duration::ZERO;
    let (settled, quiet) =
        wait_until_quiet(settle, Duration::from_secs(1200), 0.1, |waited, share| {
            if waited - last_report >= Duration::from_secs(10) {
                last_report = waited;
                let t = totals();
                eprintln!(
                    "dht_routing: settling {:.0} s, {:.0} % CPU, {:.0} MiB; connections {} open \
                 ({} opened), {} requests answered, {} bootstrap query steps",
                    waited.as_secs_f64(),
                    share * 100.0,
                    rss_mib("VmRSS:"),
                    (t.opened - t.closed) / 2,
                    t.opened / 2,
                    t.requests_answered,
                    t.own_query_steps
                );
            }
        })
        .await;
    // What the joins and bootstraps cost, before the timed lookups add theirs.
    let cost = totals();
    eprintln!(
        "dht_routing: settled after {:.0} s, {:.0} MiB resident; timing {lookups} lookups",
        started.elapsed().as_secs_f64(),
        rss_mib("VmRSS:")
    );

    // Each lookup twice: first over mostly new connections, then at once again over the same,
    // still open.
    let (mut latency, mut warm_latency) = (Vec::new(), Vec::new());
    let (mut requests, mut hops) = (Vec::new(), Vec::new());
    let mut hop_counts: BTreeMap<u32, usize> = BTreeMap::new();
    let (mut failed, mut untraced) = (0usize, 0usize);
    for _ in 0..lookups {
        let from = rng.below(nodes.len());
        let mut to = rng.below(nodes.len());
        if to == from {
            to = (to + 1) % nodes.len();
        }
        let target = nodes[to].peer_id;
        let (outcome, cold) = timed_lookup(&nodes[from], target).await;
        let (again, warm) = timed_lookup(&nodes[from], target).await;
        if !outcome.found || !again.found {
            failed += 1;
            continue;
        }
        latency.push(cold.as_secs_f64() * 1000.0);
        warm_latency.push(warm.as_secs_f64() * 1000.0);
        requests.push(f64::from(outcome.requests));
        match outcome.hops {
            Some(h) => {
                hops.push(f64::from(h));
                *hop_counts.entry(h).or_default() += 1;
            }
            None => untraced += 1,
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "nodes": nodes.len(),
            "buildSecs": built_secs,
            "settleSecs": settled.as_secs_f64(),
            "settled": quiet,
            "joinMs": join_pause.as_millis() as u64,
            "idleSecs": options.idle.as_secs(),
            "periodicBootstrap": options.periodic_bootstrap,
            "lookups": lookups,
            "failed": failed,
            "untraced": untraced,
            "latencyMs": summary(latency),
            "requests": summary(requests),
            "hops": summary(hops),
            "hopCounts": hop_counts,
            "warmLatencyMs": summary(warm_latency),
            // Joins and bootstraps only; counted at both ends, both being in this process.
            "connectionsOpened": cost.opened / 2,
            "peakConnectionsOpen": cost.peak_open / 2,
            "requestsAnswered": cost.requests_answered,
            "peakRssMiB": rss_mib("VmHWM:"),
        })
    );
    std::process::exit(0);
}
