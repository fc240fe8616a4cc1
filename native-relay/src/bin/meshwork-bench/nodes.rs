//! Native meshwork nodes for the benchmarks: many per process, each a real swarm on real
//! sockets (`native_swarm::build`) driven by the core event loop.

use std::time::Duration;

use futures::StreamExt;
use libp2p::{identity::Keypair, Multiaddr, PeerId};
use meshwork_core::{
    event_loop::EventLoop, gossip::flood::FloodConfig, Event, EventReceiver, NodeConfig, NodeHandle,
};
use meshwork_relay::{native_swarm, settings::WebTransportSettings};

/// How long a node may take to report its listen address.
const LISTEN_DEADLINE: Duration = Duration::from_secs(20);

/// A running node: its handle, its events and its peer ID.
pub struct BenchNode {
    /// Commands into the node.
    pub handle: NodeHandle,
    /// Everything the node reports; drain it, or the node stalls once the queue is full.
    pub events: EventReceiver,
    /// The node's identity.
    pub peer_id: PeerId,
}

impl BenchNode {
    /// Keep only the handle; the events are drained (and dropped) in the background.
    pub fn into_handle(self) -> NodeHandle {
        let events = self.events;
        tokio::spawn(events.for_each(|_| async {}));
        self.handle
    }
}

/// Settings for bench nodes: the default node, with flood control lifted (benchmarks send faster
/// than an untrusted crowd may) and connections kept while the bench runs.
pub fn bench_config() -> NodeConfig {
    let mut c = NodeConfig::default();
    c.gossip.flood = FloodConfig {
        per_peer_messages_per_sec: 1_000_000,
        per_peer_burst: 1_000_000,
        global_messages_per_sec: 1_000_000,
        global_burst: 1_000_000,
        per_peer_bytes_per_sec: 1 << 34,
        per_peer_bytes_burst: 1 << 34,
        ..FloodConfig::default()
    };
    c.limits.idle_connection_timeout_secs = 3600;
    c
}

/// Start a node with `config`; if `listen` is given, wait until it listens there and return
/// the full address (with `/p2p`).
pub async fn start(
    config: &NodeConfig,
    listen: Option<Multiaddr>,
) -> Result<(BenchNode, Option<Multiaddr>), String> {
    let keypair = Keypair::generate_ed25519();
    let traffic = meshwork_core::Traffic::default();
    let swarm = native_swarm::build(
        keypair.clone(),
        config,
        None,
        &WebTransportSettings::default(),
        &traffic,
    )
    .await?;
    let peer_id = *swarm.local_peer_id();
    let (event_loop, handle, mut events) = EventLoop::new(swarm, keypair, config.clone());
    tokio::spawn(event_loop.with_traffic(traffic).run());
    let mut address = None;
    if let Some(listen) = listen {
        handle.listen(listen).await.map_err(|e| e.to_string())?;
        let found = tokio::time::timeout(LISTEN_DEADLINE, async {
            while let Some(event) = events.next().await {
                if let Event::ListenAddr { address } = event {
                    return Some(address);
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or("no listen address in time")?;
        address = Some(
            found
                .with_p2p(peer_id)
                .map_err(|a| format!("{a}: has /p2p"))?,
        );
    }
    Ok((
        BenchNode {
            handle,
            events,
            peer_id,
        },
        address,
    ))
}

/// Retry `publish` until a subscriber is known (subscriptions travel asynchronously).
pub async fn publish_when_ready(
    handle: &NodeHandle,
    topic: &str,
    data: &[u8],
    deadline: Duration,
) -> Result<(), String> {
    tokio::time::timeout(deadline, async {
        loop {
            match handle.publish(topic, data.to_vec()).await {
                Ok(_) => return Ok(()),
                Err(e) if e.code == meshwork_core::ErrorCode::NoPeers => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(e) => return Err(format!("publish: {e}")),
            }
        }
    })
    .await
    .map_err(|_| format!("no subscriber of {topic} within {deadline:?}"))?
}

/// Resident set size of process `pid`, in KiB (Linux `/proc`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The `q` quantile (0..=1) of `values` (nearest rank); `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(50.0));
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&v, 1.0), Some(100.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
