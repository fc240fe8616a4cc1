//! The relay's settings: defaults, overlaid by the TOML config file, overlaid by flags.

use std::{
    net::{IpAddr, Ipv4Addr},
    path::{Path, PathBuf},
};

use libp2p::{multiaddr::Protocol, Multiaddr};
use meshwork_core::{
    ConnectionsConfig, KadMode, MeshConfig, NodeConfig, RelayServerConfig, RendezvousServerConfig,
};
use serde::Deserialize;

use crate::cli::Cli;

/// Default TCP port for native peers.
pub const DEFAULT_TCP_PORT: u16 = 4001;
/// Default UDP port for QUIC v1.
pub const DEFAULT_QUIC_PORT: u16 = 4001;
/// Default TCP port for WebSocket.
pub const DEFAULT_WS_PORT: u16 = 4002;
/// Default UDP port for WebRTC-direct.
pub const DEFAULT_WEBRTC_PORT: u16 = 4003;
/// Default UDP port for WebTransport (HTTP/3, its own port, not shared with QUIC).
pub const DEFAULT_WEBTRANSPORT_PORT: u16 = 4004;
/// Default TCP port for HTTP (addresses endpoint and demo page).
pub const DEFAULT_HTTP_PORT: u16 = 8080;
/// Most `bootstrap` and `bootstrap-http` entries, together.
pub const MAX_BOOTSTRAP: usize = 64;

/// The config file: every key optional, same names as the flags; `[node]` holds core settings
/// (see `meshwork_core::NodeConfig`, camelCase keys).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    data_dir: Option<PathBuf>,
    listen_ip: Option<IpAddr>,
    tcp_port: Option<u16>,
    quic_port: Option<u16>,
    ws_port: Option<u16>,
    webrtc_port: Option<u16>,
    webtransport_port: Option<u16>,
    http_port: Option<u16>,
    web_dir: Option<PathBuf>,
    npm_dir: Option<PathBuf>,
    topics: Option<Vec<String>>,
    bootstrap: Option<Vec<String>>,
    bootstrap_http: Option<Vec<String>>,
    node: Option<toml::Table>,
    webtransport: Option<WebTransportSettings>,
    perf: Option<PerfSettings>,
}

/// `[perf]` in the config file: whether and within what limits the relay serves the libp2p perf
/// protocol (`--perf` turns serving on too).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct PerfSettings {
    /// Serve `/perf/1.0.0`. Default false.
    pub serve: bool,
    /// Largest upload or download of one run, bytes. Default 1 GiB.
    pub max_bytes: u64,
    /// Runs served at once; more are refused (stream dropped). Default 2.
    pub max_sessions: usize,
    /// Deadline of one run, seconds. Default 60.
    pub timeout_secs: u64,
}

impl Default for PerfSettings {
    fn default() -> Self {
        Self {
            serve: false,
            max_bytes: meshwork_core::perf::DEFAULT_MAX_PERF_BYTES,
            max_sessions: 2,
            timeout_secs: 60,
        }
    }
}

impl PerfSettings {
    /// Check ranges, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_sessions == 0 || self.timeout_secs == 0 {
            return Err("[perf] max-sessions and timeout-secs must be at least 1".into());
        }
        Ok(())
    }
}

/// `[webtransport]` in the config file: the WebTransport listener's limits and certificate
/// schedule. Defaults are `meshwork_webtransport`'s.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct WebTransportSettings {
    /// Certificate validity, seconds (at most 14 days; browsers refuse longer). Default 12 days.
    pub cert_validity_secs: u64,
    /// How long before expiry the next certificate takes over, seconds. Default 1 day.
    pub rotation_lead_secs: u64,
    /// How often the listener checks whether to rotate, seconds. Default 60.
    pub rotation_check_secs: u64,
    /// How far each certificate is back-dated for dialers with slow clocks, seconds. Default
    /// 3,600. The rotation period is validity − lead − this, at least 10 s.
    pub clock_skew_secs: u64,
    /// Noise handshake deadline per session, seconds. Default 10.
    pub handshake_timeout_secs: u64,
    /// Sessions handshaking at once. Default 64.
    pub max_pending_sessions: usize,
    /// Streams per session. Default 256.
    pub max_streams_per_session: u32,
    /// Idle session timeout, seconds. Default 30.
    pub idle_timeout_secs: u64,
}

impl Default for WebTransportSettings {
    fn default() -> Self {
        use meshwork_webtransport as wt;
        Self {
            cert_validity_secs: wt::DEFAULT_CERTIFICATE_VALIDITY.as_secs(),
            rotation_lead_secs: wt::DEFAULT_ROTATION_LEAD_TIME.as_secs(),
            rotation_check_secs: wt::DEFAULT_ROTATION_CHECK_INTERVAL.as_secs(),
            clock_skew_secs: wt::certificate::CLOCK_SKEW_ALLOWANCE.as_secs(),
            handshake_timeout_secs: wt::DEFAULT_HANDSHAKE_TIMEOUT.as_secs(),
            max_pending_sessions: wt::DEFAULT_MAX_PENDING_SESSIONS,
            max_streams_per_session: wt::DEFAULT_MAX_STREAMS_PER_SESSION,
            idle_timeout_secs: wt::DEFAULT_IDLE_TIMEOUT.as_secs(),
        }
    }
}

impl WebTransportSettings {
    /// Check ranges, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        let max = meshwork_webtransport::MAX_CERTIFICATE_VALIDITY.as_secs();
        if self.cert_validity_secs == 0 || self.cert_validity_secs > max {
            return Err(format!(
                "[webtransport] cert-validity-secs must be between 1 and {max}"
            ));
        }
        if self.rotation_check_secs == 0
            || self.handshake_timeout_secs == 0
            || self.idle_timeout_secs == 0
        {
            return Err("[webtransport] rotation-check-secs, handshake-timeout-secs and idle-timeout-secs must be at least 1".into());
        }
        if self.max_pending_sessions == 0 || self.max_streams_per_session == 0 {
            return Err("[webtransport] max-pending-sessions and max-streams-per-session must be at least 1".into());
        }
        Ok(())
    }

    /// The transport configuration for `keypair`.
    pub fn to_config(&self, keypair: &libp2p::identity::Keypair) -> meshwork_webtransport::Config {
        use std::time::Duration;
        meshwork_webtransport::Config::new(keypair)
            .with_certificate_validity(Duration::from_secs(self.cert_validity_secs))
            .with_rotation_lead_time(Duration::from_secs(self.rotation_lead_secs))
            .with_rotation_check_interval(Duration::from_secs(self.rotation_check_secs))
            .with_clock_skew_allowance(Duration::from_secs(self.clock_skew_secs))
            .with_handshake_timeout(Duration::from_secs(self.handshake_timeout_secs))
            .with_max_pending_sessions(self.max_pending_sessions)
            .with_max_streams_per_session(self.max_streams_per_session)
            .with_idle_timeout(Duration::from_secs(self.idle_timeout_secs))
    }
}

/// Everything the relay runs with, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Holds `identity.key` and `webrtc-cert.pem`.
    pub data_dir: PathBuf,
    /// The IP every listener binds.
    pub listen_ip: IpAddr,
    /// TCP port (0: any).
    pub tcp_port: u16,
    /// QUIC port (0: any).
    pub quic_port: u16,
    /// WebSocket port (0: any).
    pub ws_port: u16,
    /// WebRTC-direct port (0: any).
    pub webrtc_port: u16,
    /// WebTransport port (0: any).
    pub webtransport_port: u16,
    /// HTTP port (0: any).
    pub http_port: u16,
    /// Served at `/`.
    pub web_dir: PathBuf,
    /// Served at `/npm/`.
    pub npm_dir: PathBuf,
    /// Topics subscribed at start.
    pub topics: Vec<String>,
    /// Peers (other relays) dialled at start and kept.
    pub bootstrap: Vec<Multiaddr>,
    /// Other relays' HTTP base URLs whose addresses are fetched and dialled at start.
    pub bootstrap_http: Vec<String>,
    /// Print a JSON ready line.
    pub json: bool,
    /// Core node settings.
    pub node: NodeConfig,
    /// WebTransport listener settings.
    pub webtransport: WebTransportSettings,
    /// Perf protocol serving.
    pub perf: PerfSettings,
}

/// The core settings a relay starts from (before `[node]` in the file).
pub fn relay_node_defaults() -> NodeConfig {
    let mut node = NodeConfig {
        relay_server: Some(RelayServerConfig::default()),
        autonat: true,
        dcutr: true,
        kad_mode: KadMode::Server,
        advertise_listen_addrs: true,
        ..NodeConfig::default()
    };
    // A rendezvous point for pages and native peers, and mDNS on the local segment.
    node.rendezvous.server = Some(RendezvousServerConfig::default());
    node.mdns.enabled = true;
    node.gossip.follow_peer_topics = true;
    node.gossip.max_topics = 1024;
    node.limits.max_established = 4096;
    node.limits.max_pending_incoming = 512;
    // Pages reach each other only through the relay: it forwards every message to every
    // subscriber, not to gossipsub's usual 6–12.
    node.gossip.mesh = MeshConfig::everyone(node.limits.max_established as usize);
    // A relay serves whoever connects, up to its limit: it never prunes.
    node.connections = ConnectionsConfig::serving(node.limits.max_established as usize);
    node
}

impl Settings {
    /// Resolve flags over the file over the defaults.
    pub fn resolve(cli: &Cli) -> Result<Self, String> {
        let file = match &cli.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let node = merge_node(file.node)?;
        node.validate().map_err(|e| format!("config [node]: {e}"))?;
        let webtransport = file.webtransport.unwrap_or_default();
        webtransport.validate()?;
        let mut perf = file.perf.unwrap_or_default();
        perf.serve |= cli.perf;
        perf.validate()?;
        let mut topics = file.topics.unwrap_or_default();
        topics.extend(cli.topics.iter().cloned());
        for t in &topics {
            meshwork_core::validate::topic(t).map_err(|e| format!("topic {t:?}: {}", e.message))?;
        }
        let mut bootstrap_text = file.bootstrap.unwrap_or_default();
        bootstrap_text.extend(cli.bootstrap.iter().cloned());
        let bootstrap = bootstrap_text
            .iter()
            .map(|a| {
                meshwork_core::validate::multiaddr(a)
                    .map_err(|e| format!("bootstrap {a:?}: {}", e.message))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut bootstrap_http = file.bootstrap_http.unwrap_or_default();
        bootstrap_http.extend(cli.bootstrap_http.iter().cloned());
        for base in &bootstrap_http {
            meshwork_core::discovery::relay_http::addresses_url(base)
                .map_err(|e| format!("bootstrap-http: {}", e.message))?;
        }
        if bootstrap.len() + bootstrap_http.len() > MAX_BOOTSTRAP {
            return Err(format!(
                "at most {MAX_BOOTSTRAP} bootstrap and bootstrap-http entries in all"
            ));
        }
        Ok(Self {
            data_dir: pick(
                &cli.data_dir,
                file.data_dir,
                PathBuf::from(".meshwork-relay"),
            ),
            listen_ip: pick(
                &cli.listen_ip,
                file.listen_ip,
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            ),
            tcp_port: pick(&cli.tcp_port, file.tcp_port, DEFAULT_TCP_PORT),
            quic_port: pick(&cli.quic_port, file.quic_port, DEFAULT_QUIC_PORT),
            ws_port: pick(&cli.ws_port, file.ws_port, DEFAULT_WS_PORT),
            webrtc_port: pick(&cli.webrtc_port, file.webrtc_port, DEFAULT_WEBRTC_PORT),
            webtransport_port: pick(
                &cli.webtransport_port,
                file.webtransport_port,
                DEFAULT_WEBTRANSPORT_PORT,
            ),
            http_port: pick(&cli.http_port, file.http_port, DEFAULT_HTTP_PORT),
            web_dir: pick(&cli.web_dir, file.web_dir, PathBuf::from("web")),
            npm_dir: pick(&cli.npm_dir, file.npm_dir, PathBuf::from("npm")),
            topics,
            bootstrap,
            bootstrap_http,
            json: cli.json,
            node,
            webtransport,
            perf,
        })
    }

    /// The multiaddrs to listen on, one per transport.
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        let ip = match self.listen_ip {
            IpAddr::V4(v4) => Protocol::Ip4(v4),
            IpAddr::V6(v6) => Protocol::Ip6(v6),
        };
        let base = Multiaddr::empty().with(ip);
        vec![
            base.clone().with(Protocol::Tcp(self.tcp_port)),
            base.clone()
                .with(Protocol::Udp(self.quic_port))
                .with(Protocol::QuicV1),
            base.clone()
                .with(Protocol::Tcp(self.ws_port))
                .with(Protocol::Ws("/".into())),
            base.clone()
                .with(Protocol::Udp(self.webrtc_port))
                .with(Protocol::WebRTCDirect),
            base.with(Protocol::Udp(self.webtransport_port))
                .with(Protocol::QuicV1)
                .with(Protocol::WebTransport),
        ]
    }

    /// Where the identity key lives.
    pub fn identity_path(&self) -> PathBuf {
        self.data_dir.join("identity.key")
    }

    /// Where the peer store lives.
    pub fn peer_store_path(&self) -> PathBuf {
        self.data_dir.join("peers.json")
    }

    /// Where the WebRTC certificate lives.
    pub fn webrtc_cert_path(&self) -> PathBuf {
        self.data_dir.join("webrtc-cert.pem")
    }
}

fn pick<T: Clone>(flag: &Option<T>, file: Option<T>, default: T) -> T {
    flag.clone().or(file).unwrap_or(default)
}

fn read_file(path: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display()))
}

/// Overlay the file's `[node]` table on the relay defaults, key by key, at any depth.
fn merge_node(overrides: Option<toml::Table>) -> Result<NodeConfig, String> {
    let defaults = toml::Table::try_from(relay_node_defaults())
        .map_err(|e| format!("internal: cannot encode defaults: {e}"))?;
    let sets_connections = overrides
        .as_ref()
        .is_some_and(|o| o.contains_key("connections"));
    let merged = match overrides {
        Some(o) => deep_merge(defaults, o),
        None => defaults,
    };
    let mut node: NodeConfig = merged
        .try_into()
        .map_err(|e| format!("config [node]: {e}"))?;
    if !sets_connections {
        // Follow a raised (or lowered) connection limit: a relay never prunes below it.
        node.connections = ConnectionsConfig::serving(node.limits.max_established as usize);
    }
    Ok(node)
}

fn deep_merge(mut base: toml::Table, over: toml::Table) -> toml::Table {
    for (key, value) in over {
        let merged = match (base.remove(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => {
                toml::Value::Table(deep_merge(b, o))
            }
            (_, v) => v,
        };
        base.insert(key, merged);
    }
    base
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn settings(args: &[&str], file: Option<&str>) -> Result<Settings, String> {
        let dir = tempfile::tempdir().unwrap();
        let mut argv = vec!["meshwork-relay".to_string()];
        if let Some(text) = file {
            let path = dir.path().join("relay.toml");
            std::fs::write(&path, text).unwrap();
            argv.push("--config".into());
            argv.push(path.display().to_string());
        }
        argv.extend(args.iter().map(|s| s.to_string()));
        Settings::resolve(&Cli::parse_from(argv))
    }

    #[test]
    fn defaults() {
        let s = settings(&[], None).unwrap();
        assert_eq!(
            (
                s.tcp_port,
                s.ws_port,
                s.webrtc_port,
                s.webtransport_port,
                s.http_port
            ),
            (4001, 4002, 4003, 4004, 8080)
        );
        assert!(s.node.relay_server.is_some());
        assert!(s.node.gossip.follow_peer_topics);
    }

    #[test]
    fn flags_override_file_which_overrides_defaults() {
        let file = "tcp-port = 5000\nws-port = 5001\n[node.gossip]\nmaxMessageBytes = 1000\n";
        let s = settings(&["--tcp-port", "6000"], Some(file)).unwrap();
        assert_eq!(s.tcp_port, 6000);
        assert_eq!(s.ws_port, 5001);
        assert_eq!(s.node.gossip.max_message_bytes, 1000);
        // Relay defaults under the file's partial table survive the merge.
        assert!(s.node.gossip.follow_peer_topics);
        assert!(s.node.relay_server.is_some());
    }

    #[test]
    fn bad_files_get_clear_errors() {
        assert!(settings(&[], Some("tcp-prot = 1"))
            .unwrap_err()
            .contains("tcp-prot"));
        assert!(settings(&[], Some("tcp-port = 99999")).is_err());
        let e = settings(&[], Some("[node.gossip]\nmaxMessageBytes = 0")).unwrap_err();
        assert!(e.contains("maxMessageBytes"), "{e}");
        assert!(settings(&["--topic", ""], None)
            .unwrap_err()
            .contains("topic"));
        let e = settings(&[], Some("[webtransport]\ncert-validity-secs = 1300000")).unwrap_err();
        assert!(e.contains("cert-validity-secs"), "{e}");
    }

    #[test]
    fn perf_is_off_unless_asked_for() {
        assert!(!settings(&[], None).unwrap().perf.serve);
        assert!(settings(&["--perf"], None).unwrap().perf.serve);
        let s = settings(&[], Some("[perf]\nserve = true\nmax-sessions = 5\n")).unwrap();
        assert_eq!((s.perf.serve, s.perf.max_sessions), (true, 5));
        let e = settings(&[], Some("[perf]\nmax-sessions = 0\n")).unwrap_err();
        assert!(e.contains("max-sessions"), "{e}");
    }

    #[test]
    fn webtransport_table_overrides_its_defaults() {
        let s = settings(&[], Some("[webtransport]\nrotation-check-secs = 1\n")).unwrap();
        assert_eq!(s.webtransport.rotation_check_secs, 1);
        assert_eq!(
            s.webtransport.max_pending_sessions,
            meshwork_webtransport::DEFAULT_MAX_PENDING_SESSIONS
        );
    }
}
