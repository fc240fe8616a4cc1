//! DHT lookup benchmark (run by `bench/run.sh`, section `dht`): `--nodes N` Kademlia servers in
//! one process on the memory transport, each joining three random earlier ones; after the
//! tables settle, `--lookups L` peer lookups between random pairs, one at a time (so the
//! figures are latency, not CPU queueing), then L lookups of pages (client nodes known only by
//! their signed peer records). Prints one JSON line: latency and Kademlia requests per lookup,
//! p50 / p99 / max, and the process's peak RSS; progress goes to stderr.
//!
//! - `--pruned`: the servers run the default connection manager (target 16, max 48:
//!   connections opened for lookups are pruned) instead of keeping every connection, as a
//!   relay does.
//! - `--grace-secs S` (`connections.graceSecs`, default 30) and `--idle-secs S`
//!   (`limits.idleConnectionTimeoutSecs`, default 60): how long a connection a lookup opened
//!   outlives it. At 1,000 nodes in one process the defaults hold every node's bootstrap
//!   connections at once (tens of KiB of buffers each, on both sides).
//! - `--join-ms M`: a pause after each node joins (default 0), so joins arrive at a pace rather
//!   than all within a second.

use std::time::{Duration, Instant};

use libp2p::identity::Keypair;
use meshwork_tests::{
    bench_stats::{arg, flag, report_joined, rss_mib, summary},
    memory_swarm, run_node,
    sim::{grow, server_config, Lcg, SimNode},
};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let nodes_wanted = arg("--nodes", 1000).max(4);
    let lookups = arg("--lookups", 500).max(1);
    let pages = arg("--pages", 20).max(1);
    let mut rng = Lcg(11);
    let started = Instant::now();
    let pruned = flag("--pruned");
    let mut config = server_config();
    if pruned {
        config.connections = meshwork_core::ConnectionsConfig::default();
    }
    config.connections.grace_secs =
        arg("--grace-secs", config.connections.grace_secs as usize) as u64;
    config.limits.idle_connection_timeout_secs = arg(
        "--idle-secs",
        config.limits.idle_connection_timeout_secs as usize,
    ) as u64;
    config.validate().expect("valid settings");
    let join_pause = Duration::from_millis(arg("--join-ms", 0) as u64);
    let mut nodes: Vec<SimNode> = Vec::with_capacity(nodes_wanted);
    while nodes.len() < nodes_wanted {
        grow(&mut nodes, 1, &mut rng, &config).await;
        tokio::time::sleep(join_pause).await;
        report_joined("dht_lookup", nodes.len(), started);
    }
    let built_secs = started.elapsed().as_secs_f64();
    // Kademlia's automatic bootstrap fills the tables.
    tokio::time::sleep(Duration::from_secs(5)).await;

    let (mut latency, mut requests, mut failed) = (Vec::new(), Vec::new(), 0usize);
    for _ in 0..lookups {
        let from = rng.below(nodes.len());
        let mut to = rng.below(nodes.len());
        if to == from {
            to = (to + 1) % nodes.len();
        }
        let t = Instant::now();
        match nodes[from].handle.find_peer(nodes[to].peer_id()).await {
            Ok(found) => {
                latency.push(t.elapsed().as_secs_f64() * 1000.0);
                requests.push(f64::from(found.requests));
            }
            Err(_) => failed += 1,
        }
    }

    // Pages: client nodes reachable only through their records, one per random server.
    let mut page_ids = Vec::new();
    let mut page_handles = Vec::new();
    for _ in 0..pages {
        let keypair = Keypair::generate_ed25519();
        let config = meshwork_core::NodeConfig {
            kad_mode: meshwork_core::KadMode::Client,
            advertise_listen_addrs: true,
            ..meshwork_core::NodeConfig::default()
        };
        let swarm = memory_swarm(keypair.clone(), &config);
        let page = run_node(swarm, keypair, config, meshwork_tests::memory_address()).await;
        let host = &nodes[rng.below(nodes.len())];
        page.handle
            .dial(host.full_address())
            .await
            .expect("page joins");
        page_ids.push(page.peer_id());
        page_handles.push(page);
    }
    // Each puts its record on the next tick once it knows a server.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (mut page_latency, mut page_requests, mut page_failed) = (Vec::new(), Vec::new(), 0usize);
    for i in 0..lookups {
        let target = page_ids[i % page_ids.len()];
        let from = &nodes[rng.below(nodes.len())];
        let t = Instant::now();
        match from.handle.find_peer(target).await {
            Ok(found) if found.from_record => {
                page_latency.push(t.elapsed().as_secs_f64() * 1000.0);
                page_requests.push(f64::from(found.requests));
            }
            _ => page_failed += 1,
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "nodes": nodes.len(),
            "buildSecs": built_secs,
            "lookups": lookups,
            "failed": failed,
            "latencyMs": summary(latency),
            "requests": summary(requests),
            "pages": pages,
            "pageFailed": page_failed,
            "pageLatencyMs": summary(page_latency),
            "pageRequests": summary(page_requests),
            "pruned": pruned,
            "graceSecs": config.connections.grace_secs,
            "idleSecs": config.limits.idle_connection_timeout_secs,
            "joinMs": join_pause.as_millis() as u64,
            "peakRssMiB": rss_mib("VmHWM:"),
        })
    );
    drop(page_handles);
    std::process::exit(0);
}
