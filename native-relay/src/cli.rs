//! Command-line flags of `meshwork-relay`. Every flag can also be set in the TOML config file
//! (same name, without the dashes' prefix); flags win.

use std::{net::IpAddr, path::PathBuf};

use clap::Parser;

/// meshwork-relay: lets browsers join a libp2p network. Accepts WebTransport, WebRTC-direct and
/// WebSocket from pages and TCP and QUIC from native peers; runs circuit relay v2, gossipsub
/// (bridging every topic its peers use), Kademlia (server), identify, ping and AutoNAT; serves
/// its addresses and the demo page over HTTP. WebTransport limits and certificate schedule are
/// set in the config file's [webtransport] table, perf limits in [perf].
#[derive(Debug, Parser)]
#[command(name = "meshwork-relay", version)]
pub struct Cli {
    /// TOML config file. Keys are the flag names (`tcp-port = 4001`); core node settings go
    /// under `[node]` (camelCase, see README). Flags override the file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory holding the identity key (identity.key, mode 0600) and the WebRTC certificate,
    /// created on first start. [default: .meshwork-relay]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// IP address all listeners bind; 0.0.0.0 or :: means every interface. [default: 0.0.0.0]
    #[arg(long, value_name = "IP")]
    pub listen_ip: Option<IpAddr>,
    /// TCP port for native peers; 0 picks a free one. [default: 4001]
    #[arg(long, value_name = "PORT")]
    pub tcp_port: Option<u16>,
    /// UDP port for QUIC v1 (native peers); 0 picks a free one. [default: 4001]
    #[arg(long, value_name = "PORT")]
    pub quic_port: Option<u16>,
    /// TCP port for WebSocket (browsers); 0 picks a free one. [default: 4002]
    #[arg(long, value_name = "PORT")]
    pub ws_port: Option<u16>,
    /// UDP port for WebRTC-direct (browsers); 0 picks a free one. [default: 4003]
    #[arg(long, value_name = "PORT")]
    pub webrtc_port: Option<u16>,
    /// UDP port for WebTransport (browsers; HTTP/3 on its own port); 0 picks a free one.
    /// [default: 4004]
    #[arg(long, value_name = "PORT")]
    pub webtransport_port: Option<u16>,
    /// TCP port of the HTTP server (GET /api/addresses, the demo page, /npm/); 0 picks a free
    /// one. It binds --listen-ip. [default: 8080]
    #[arg(long, value_name = "PORT")]
    pub http_port: Option<u16>,
    /// Directory served at / (the demo page). [default: web]
    #[arg(long, value_name = "DIR")]
    pub web_dir: Option<PathBuf>,
    /// Directory served at /npm/ (the built npm package the demo page imports). [default: npm]
    #[arg(long, value_name = "DIR")]
    pub npm_dir: Option<PathBuf>,
    /// Topic to subscribe to at start; repeat for more. Topics that connected peers subscribe
    /// to are followed (and bridged) anyway.
    #[arg(long = "topic", value_name = "TOPIC")]
    pub topics: Vec<String>,
    /// A peer to dial at start and keep connected (another relay: relays form the DHT
    /// backbone); a multiaddr ending in /p2p/<id>. Repeat for more.
    #[arg(long = "bootstrap", value_name = "MULTIADDR")]
    pub bootstrap: Vec<String>,
    /// Another relay's HTTP base URL (http://host:port); its current addresses are fetched
    /// from /api/addresses, dialled and kept. Repeat for more.
    #[arg(long = "bootstrap-http", value_name = "URL")]
    pub bootstrap_http: Vec<String>,
    /// Serve the libp2p perf protocol (/perf/1.0.0) so peers can measure stream throughput to
    /// this relay. Off by default: it lets any peer make the relay send and receive bulk data
    /// (bounded by the config file's [perf] table).
    #[arg(long)]
    pub perf: bool,
    /// Once listening, print one JSON line to stdout: {"event":"ready","peerId","http","addresses"}.
    #[arg(long)]
    pub json: bool,
}
