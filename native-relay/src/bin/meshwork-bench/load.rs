//! Relay scale: N native meshwork clients in this process, each its own identity, swarm and
//! connection, dial one relay (WebSocket, QUIC or WebTransport, whatever the address says),
//! subscribe to a topic, and must each receive one message published by one of them.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures::{stream, StreamExt};
use libp2p::{Multiaddr, PeerId};
use meshwork_core::{Event, NodeHandle};
use serde_json::{json, Value};

use crate::nodes::{self, rss_kib};

const TOPIC: &str = "load";
const CHECK: &[u8] = b"load check";
/// Most dial error texts kept for the report.
const MAX_ERRORS_KEPT: usize = 5;

/// `meshwork-bench load` settings.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// The relay's address for this transport, ending in `/p2p/<relay id>`.
    #[arg(long)]
    pub relay: Multiaddr,
    /// Clients to connect.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=50_000))]
    pub clients: u32,
    /// Dials in flight at once.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,
    /// The relay's process ID, for its resident memory (optional).
    #[arg(long)]
    pub relay_pid: Option<u32>,
    /// Deadline for each phase (connecting all, delivering the check message), seconds; dials
    /// not finished by then count as failures.
    #[arg(long, default_value_t = 300)]
    pub phase_secs: u64,
    /// Seconds the connections are held (idle but for pings and heartbeats) before counting
    /// how many are still up.
    #[arg(long, default_value_t = 10)]
    pub hold_secs: u64,
}

/// What the clients' event tasks count.
#[derive(Default)]
struct Counters {
    disconnected: AtomicUsize,
    received: AtomicUsize,
}

async fn watch(mut events: meshwork_core::EventReceiver, relay: PeerId, counters: Arc<Counters>) {
    while let Some(event) = events.next().await {
        match event {
            Event::PeerDisconnected { peer_id, .. } if peer_id == relay => {
                counters.disconnected.fetch_add(1, Ordering::Relaxed);
            }
            Event::Message { topic, data, .. } if topic == TOPIC && data == CHECK => {
                counters.received.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

fn relay_peer(address: &Multiaddr) -> Result<PeerId, String> {
    match address.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(id)) => Ok(id),
        _ => Err(format!("{address} does not end in /p2p/<relay id>")),
    }
}

/// Run the benchmark; returns its figures as JSON.
pub async fn run(args: LoadArgs) -> Result<Value, String> {
    let relay = relay_peer(&args.relay)?;
    let phase = Duration::from_secs(args.phase_secs);
    let n = args.clients as usize;
    let relay_rss_before = args.relay_pid.and_then(rss_kib);
    let own_rss_before = rss_kib(std::process::id());
    let counters = Arc::new(Counters::default());
    let config = nodes::bench_config();

    let mut clients: Vec<NodeHandle> = Vec::with_capacity(n);
    for _ in 0..n {
        let (node, _) = nodes::start(&config, None).await?;
        tokio::spawn(watch(node.events, relay, counters.clone()));
        clients.push(node.handle);
    }

    let start = Instant::now();
    let mut last_connected = start;
    let mut connected: Vec<&NodeHandle> = Vec::with_capacity(n);
    let mut errors: Vec<String> = Vec::new();
    let mut failures = 0usize;
    let mut dials = stream::iter(clients.iter().map(|c| {
        let address = args.relay.clone();
        async move { (c, tokio::time::timeout(phase, c.dial(address)).await) }
    }))
    .buffer_unordered(args.concurrency as usize);
    // The phase deadline bounds the whole connect phase, not each dial: a relay that cannot keep
    // up would otherwise stretch it to (clients / concurrency) × the deadline.
    let connect_deadline = tokio::time::Instant::now() + phase;
    let mut finished = 0usize;
    while let Ok(Some((client, outcome))) =
        tokio::time::timeout_at(connect_deadline, dials.next()).await
    {
        finished += 1;
        match outcome {
            Ok(Ok(_)) => {
                connected.push(client);
                last_connected = Instant::now();
            }
            Ok(Err(e)) => {
                failures += 1;
                if errors.len() < MAX_ERRORS_KEPT {
                    errors.push(e.to_string());
                }
            }
            Err(_) => {
                failures += 1;
                if errors.len() < MAX_ERRORS_KEPT {
                    errors.push(format!("no connection within {phase:?}"));
                }
            }
        }
    }
    drop(dials);
    let unfinished = n - finished;
    if unfinished > 0 && errors.len() < MAX_ERRORS_KEPT {
        errors.push(format!("{unfinished} dials not finished within {phase:?}"));
    }
    failures += unfinished;
    let connect_all_ms = last_connected.duration_since(start).as_secs_f64() * 1000.0;

    stream::iter(connected.iter().map(|c| c.subscribe(TOPIC)))
        .buffer_unordered(args.concurrency as usize)
        .for_each(|_| async {})
        .await;
    tokio::time::sleep(Duration::from_secs(args.hold_secs)).await;
    let relay_rss_after = args.relay_pid.and_then(rss_kib);
    let own_rss_after = rss_kib(std::process::id());
    let held = connected
        .len()
        .saturating_sub(counters.disconnected.load(Ordering::Relaxed));

    // One client publishes; every other connected client must get it through the relay.
    let delivery_start = Instant::now();
    let mut receivers = 0;
    if let Some(publisher) = connected.first() {
        receivers = connected.len() - 1;
        nodes::publish_when_ready(publisher, TOPIC, CHECK, phase).await?;
        while counters.received.load(Ordering::Relaxed) < receivers
            && delivery_start.elapsed() < phase
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let received = counters.received.load(Ordering::Relaxed);
    let delivery_ms = delivery_start.elapsed().as_secs_f64() * 1000.0;

    stream::iter(clients.iter().map(|c| c.shutdown()))
        .buffer_unordered(args.concurrency as usize)
        .for_each(|_| async {})
        .await;
    let per_client = |before: Option<u64>, after: Option<u64>| match (before, after) {
        (Some(b), Some(a)) if held > 0 => Some(a.saturating_sub(b) as f64 / held as f64),
        _ => None,
    };
    Ok(json!({
        "bench": "load",
        "relay": args.relay.to_string(),
        "clients": n,
        "connected": connected.len(),
        "dialFailures": failures,
        "dialErrors": errors,
        "connectAllMs": connect_all_ms,
        "heldAfterSecs": args.hold_secs,
        "held": held,
        "checkReceivers": receivers,
        "checkReceived": received,
        "checkDeliveryMs": delivery_ms,
        "relayRssKiBBefore": relay_rss_before,
        "relayRssKiBAfter": relay_rss_after,
        "relayRssKiBPerClient": per_client(relay_rss_before, relay_rss_after),
        "generatorRssKiBPerClient": per_client(own_rss_before, own_rss_after),
    }))
}
