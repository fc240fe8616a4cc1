//! Gossip reach: N native nodes on loopback TCP in one process, each dialling a few random
//! others; one node publishes, and the figure is the time until every other node has the
//! message (p50 / p99 over all messages).

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::StreamExt;
use meshwork_core::Event;
use rand::seq::SliceRandom;
use serde_json::{json, Value};

use crate::nodes::{self, quantile, BenchNode};

const TOPIC: &str = "reach";
/// How long the network may take to carry a warm-up to every node (subscriptions and meshes).
const WARM_DEADLINE: Duration = Duration::from_secs(60);
/// How long after the last publish stragglers are waited for.
const DRAIN: Duration = Duration::from_secs(10);

/// `meshwork-bench reach` settings.
#[derive(Debug, Clone, clap::Args)]
pub struct ReachArgs {
    /// Nodes in the network.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub nodes: u32,
    /// Messages published (one at a time, `interval-ms` apart).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub messages: u32,
    /// Random earlier nodes each node dials.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub degree: u32,
    /// Pause between publishes, milliseconds. All nodes share this process's cores, so a fast
    /// pace measures the simulation's CPU as much as the network (see BENCHMARKS.md).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub interval_ms: u64,
}

/// Arrival times, shared by the nodes' event tasks.
struct Arrivals {
    /// `messages[m][node]`: when node `node` got message `m`.
    messages: Vec<Vec<Option<Instant>>>,
    /// Nodes that got any warm-up.
    warmed: Vec<bool>,
}

fn record(arrivals: &Mutex<Arrivals>, node: usize, data: &[u8]) {
    let Ok(mut a) = arrivals.lock() else { return };
    if data.starts_with(b"warm") {
        a.warmed[node] = true;
    } else if let Some(m) = std::str::from_utf8(data)
        .ok()
        .and_then(|t| t.strip_prefix("reach "))
        .and_then(|n| n.parse::<usize>().ok())
    {
        if let Some(slot) = a.messages.get_mut(m).and_then(|row| row.get_mut(node)) {
            slot.get_or_insert(Instant::now());
        }
    }
}

/// Run the benchmark; returns its figures as JSON.
pub async fn run(args: ReachArgs) -> Result<Value, String> {
    let n = args.nodes as usize;
    let config = nodes::bench_config();
    let listen: libp2p::Multiaddr = "/ip4/127.0.0.1/tcp/0".parse().map_err(|e| format!("{e}"))?;
    let mut started: Vec<(BenchNode, libp2p::Multiaddr)> = Vec::with_capacity(n);
    for _ in 0..n {
        let (node, address) = nodes::start(&config, Some(listen.clone())).await?;
        started.push((node, address.ok_or("no address")?));
    }
    let setup = Instant::now();
    for i in 1..n {
        let targets: Vec<usize> = {
            let mut earlier: Vec<usize> = (0..i).collect();
            earlier.shuffle(&mut rand::rng());
            earlier.truncate(args.degree as usize);
            earlier
        };
        for t in targets {
            let address = started[t].1.clone();
            started[i]
                .0
                .handle
                .dial(address)
                .await
                .map_err(|e| format!("node {i} → node {t}: {e}"))?;
        }
    }
    let arrivals = Arc::new(Mutex::new(Arrivals {
        messages: vec![vec![None; n]; args.messages as usize],
        warmed: vec![false; n],
    }));
    let mut handles = Vec::with_capacity(n);
    for (i, (node, _)) in started.into_iter().enumerate() {
        node.handle
            .subscribe(TOPIC)
            .await
            .map_err(|e| e.to_string())?;
        let arrivals = arrivals.clone();
        let mut events = node.events;
        tokio::spawn(async move {
            while let Some(event) = events.next().await {
                if let Event::Message { data, .. } = event {
                    record(&arrivals, i, &data);
                }
            }
        });
        handles.push(node.handle);
    }
    let publisher = &handles[0];
    // Warm up until every other node has a message: subscriptions have spread and meshes formed.
    nodes::publish_when_ready(publisher, TOPIC, b"warm", WARM_DEADLINE).await?;
    let warm_start = Instant::now();
    let mut k = 0u64;
    loop {
        let warmed = arrivals
            .lock()
            .map(|a| a.warmed.iter().skip(1).filter(|w| **w).count())
            .unwrap_or(0);
        if warmed == n - 1 {
            break;
        }
        if warm_start.elapsed() > WARM_DEADLINE {
            return Err(format!(
                "only {warmed} of {} nodes got a warm-up within {WARM_DEADLINE:?}",
                n - 1
            ));
        }
        k += 1;
        let _ = publisher
            .publish(TOPIC, format!("warm {k}").into_bytes())
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let network_ready_ms = setup.elapsed().as_secs_f64() * 1000.0;
    // Two more heartbeats for meshes to settle after the last grafts.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut sent = Vec::with_capacity(args.messages as usize);
    for m in 0..args.messages {
        sent.push(Instant::now());
        publisher
            .publish(TOPIC, format!("reach {m}").into_bytes())
            .await
            .map_err(|e| format!("publish {m}: {e}"))?;
        tokio::time::sleep(Duration::from_millis(args.interval_ms)).await;
    }
    let all_in = |a: &Arrivals| {
        a.messages
            .iter()
            .all(|row| row.iter().skip(1).all(Option::is_some))
    };
    let drain_start = Instant::now();
    while drain_start.elapsed() < DRAIN && !arrivals.lock().map(|a| all_in(&a)).unwrap_or(true) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (reach_ms, incomplete, missing_deliveries) = {
        let a = arrivals.lock().map_err(|_| "arrivals lock poisoned")?;
        let mut reach_ms = Vec::new();
        let mut incomplete = 0;
        let mut missing_deliveries = 0;
        for (row, at) in a.messages.iter().zip(&sent) {
            let missing = row.iter().skip(1).filter(|x| x.is_none()).count();
            missing_deliveries += missing;
            if missing > 0 {
                incomplete += 1;
                continue;
            }
            let last = row.iter().skip(1).flatten().max().copied().unwrap_or(*at);
            reach_ms.push(last.saturating_duration_since(*at).as_secs_f64() * 1000.0);
        }
        (reach_ms, incomplete, missing_deliveries)
    };
    for h in &handles {
        let _ = h.shutdown().await;
    }
    Ok(json!({
        "bench": "reach",
        "nodes": n,
        "degree": args.degree,
        "messages": args.messages,
        "intervalMs": args.interval_ms,
        "networkReadyMs": network_ready_ms,
        "reachedAll": reach_ms.len(),
        "incomplete": incomplete,
        "missingDeliveries": missing_deliveries,
        "p50Ms": quantile(&reach_ms, 0.5),
        "p99Ms": quantile(&reach_ms, 0.99),
        "maxMs": quantile(&reach_ms, 1.0),
    }))
}
