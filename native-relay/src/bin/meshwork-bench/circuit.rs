//! Relay data path: `/perf/1.0.0` throughput between two native peers through a running
//! meshwork-relay (a circuit relay v2 connection: TCP to the relay, Noise and yamux end to end
//! inside the circuit), next to the same peers over a direct TCP connection and to raw loopback
//! TCP (no libp2p at all), all in the same run.

use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::{multiaddr::Protocol, Multiaddr};
use meshwork_core::{perf::PerfRequest, Event};
use meshwork_relay::{perf_server, settings::PerfSettings};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use crate::nodes::{self, quantile};

const RESERVATION_DEADLINE: Duration = Duration::from_secs(20);
const RUN_DEADLINE: Duration = Duration::from_secs(120);
const RAW_BLOCK: usize = 64 * 1024;

/// `meshwork-bench circuit` settings.
#[derive(Debug, Clone, clap::Args)]
pub struct CircuitArgs {
    /// The relay's TCP address, ending in `/p2p/<relay id>`. Its circuit limits must allow
    /// `mib` MiB each way (`[node.relayServer] maxCircuitBytes`).
    #[arg(long)]
    pub relay: Multiaddr,
    /// MiB sent each way per run.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub mib: u64,
    /// Runs of each kind (the median is reported, with min and max).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub runs: u32,
}

/// MB/s (10^6 bytes per second) of `bytes` in `ms`.
fn mb_per_s(bytes: u64, ms: f64) -> f64 {
    bytes as f64 / 1e6 / (ms / 1000.0).max(1e-9)
}

fn summary(samples: &[f64]) -> Value {
    json!({
        "median": quantile(samples, 0.5),
        "min": quantile(samples, 0.0),
        "max": quantile(samples, 1.0),
    })
}

/// Run the benchmark; returns its figures as JSON.
pub async fn run(args: CircuitArgs) -> Result<Value, String> {
    let bytes = args.mib << 20;
    let config = nodes::bench_config();
    let tcp: Multiaddr = "/ip4/127.0.0.1/tcp/0".parse().map_err(|e| format!("{e}"))?;
    // The server: reachable through a reservation on the relay and directly over TCP.
    let (mut server, server_tcp) = nodes::start(&config, Some(tcp)).await?;
    let server_tcp = server_tcp.ok_or("no server address")?;
    perf_server::start(
        server.handle.stream_control(),
        PerfSettings {
            serve: true,
            max_bytes: bytes,
            max_sessions: 2,
            timeout_secs: RUN_DEADLINE.as_secs(),
        },
    )?;
    server
        .handle
        .dial(args.relay.clone())
        .await
        .map_err(|e| format!("server → relay: {e}"))?;
    let circuit_listen = args.relay.clone().with(Protocol::P2pCircuit);
    server
        .handle
        .listen(circuit_listen.clone())
        .await
        .map_err(|e| format!("reservation: {e}"))?;
    tokio::time::timeout(RESERVATION_DEADLINE, async {
        while let Some(event) = server.events.next().await {
            if matches!(event, Event::RelayReservation { .. }) {
                return;
            }
        }
    })
    .await
    .map_err(|_| "no reservation on the relay in time")?;
    let server_peer = server.peer_id;
    let server = server.into_handle();

    let (relayed_client, _) = nodes::start(&config, None).await?;
    let relayed_client = relayed_client.into_handle();
    relayed_client
        .dial(args.relay.clone())
        .await
        .map_err(|e| format!("client → relay: {e}"))?;
    relayed_client
        .dial(circuit_listen.with(Protocol::P2p(server_peer)))
        .await
        .map_err(|e| format!("client → server through the relay: {e}"))?;
    let (direct_client, _) = nodes::start(&config, None).await?;
    let direct_client = direct_client.into_handle();
    direct_client
        .dial(server_tcp)
        .await
        .map_err(|e| format!("client → server over TCP: {e}"))?;

    let mut figures = serde_json::Map::new();
    for (name, client) in [("circuit", &relayed_client), ("directTcp", &direct_client)] {
        let (mut up, mut down) = (Vec::new(), Vec::new());
        for _ in 0..args.runs {
            let request = PerfRequest::new(bytes, bytes, bytes).map_err(|e| e.to_string())?;
            let report = tokio::time::timeout(RUN_DEADLINE, client.perf(server_peer, request))
                .await
                .map_err(|_| format!("{name}: perf run over {RUN_DEADLINE:?}"))?
                .map_err(|e| format!("{name}: {e}"))?;
            up.push(mb_per_s(report.upload_bytes, report.upload_ms));
            down.push(mb_per_s(report.download_bytes, report.download_ms));
        }
        figures.insert(
            name.into(),
            json!({ "uploadMBps": summary(&up), "downloadMBps": summary(&down) }),
        );
    }
    let mut raw = Vec::new();
    for _ in 0..args.runs {
        raw.push(raw_tcp(bytes).await?);
    }
    figures.insert("rawTcp".into(), json!({ "MBps": summary(&raw) }));
    for h in [&server, &relayed_client, &direct_client] {
        let _ = h.shutdown().await;
    }
    Ok(json!({ "bench": "circuit", "mib": args.mib, "runs": args.runs, "figures": figures }))
}

/// Raw loopback TCP: MB/s of `bytes` written by one socket and read to the end by another.
async fn raw_tcp(bytes: u64) -> Result<f64, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("raw TCP bind: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let reader = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; RAW_BLOCK];
        let mut total = 0u64;
        loop {
            let n = socket.read(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Ok::<_, String>((total, Instant::now()));
            }
            total += n as u64;
        }
    });
    let mut socket = TcpStream::connect(address)
        .await
        .map_err(|e| format!("raw TCP connect: {e}"))?;
    socket.set_nodelay(true).map_err(|e| e.to_string())?;
    let block = vec![0x5au8; RAW_BLOCK];
    let start = Instant::now();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(RAW_BLOCK as u64) as usize;
        socket
            .write_all(&block[..n])
            .await
            .map_err(|e| e.to_string())?;
        left -= n as u64;
    }
    socket.shutdown().await.map_err(|e| e.to_string())?;
    let (total, end) = tokio::time::timeout(RUN_DEADLINE, reader)
        .await
        .map_err(|_| "raw TCP run too slow")?
        .map_err(|e| e.to_string())??;
    if total != bytes {
        return Err(format!("raw TCP: read {total} of {bytes} bytes"));
    }
    Ok(mb_per_s(
        bytes,
        end.duration_since(start).as_secs_f64() * 1000.0,
    ))
}
