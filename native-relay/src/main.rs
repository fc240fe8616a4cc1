//! `meshwork-relay`: see `meshwork-relay --help` and the README.

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use clap::Parser;
use meshwork_core::{event_loop::EventLoop, TransportKind};
use meshwork_relay::{
    bootstrap, cli::Cli, events_log, http, identity, native_swarm, peer_store_file, perf_server,
    settings::Settings, webrtc_cert,
};
use tracing_subscriber::EnvFilter;

/// How long start-up waits for every listener to report an address.
const LISTEN_DEADLINE: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,webrtc=warn,webrtc_ice=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("meshwork-relay: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let shutdown = Shutdown::install();
    let settings = Settings::resolve(&cli)?;
    let keypair = identity::load_or_create(&settings.identity_path()).map_err(|e| e.to_string())?;
    let cert = webrtc_cert::load_or_create(&settings.webrtc_cert_path())?;
    let peer_id = keypair.public().to_peer_id();
    let traffic = meshwork_core::Traffic::default();
    let swarm = native_swarm::build(
        keypair.clone(),
        &settings.node,
        Some(cert),
        &settings.webtransport,
        &traffic,
    )
    .await?;
    let (event_loop, node, events) = EventLoop::new(swarm, keypair, settings.node.clone());
    let store_path = settings.peer_store_path();
    let (event_loop, documents) = event_loop
        .with_traffic(traffic)
        .with_peer_store(peer_store_file::load(&store_path).as_deref());
    let store_task = tokio::spawn(peer_store_file::keep(store_path, documents));
    let loop_task = tokio::spawn(event_loop.run());
    tokio::spawn(events_log::run(events));
    if settings.perf.serve {
        perf_server::start(node.stream_control(), settings.perf.clone())?;
    }

    for address in settings.listen_addrs() {
        node.listen(address).await.map_err(|e| e.message)?;
    }
    wait_for_listeners(&node).await?;
    for topic in &settings.topics {
        node.subscribe(topic.clone()).await.map_err(|e| e.message)?;
    }

    let http_listener = http::bind(SocketAddr::new(settings.listen_ip, settings.http_port)).await?;
    let http_addr = http_listener.local_addr().map_err(|e| e.to_string())?;
    let url = format!("http://{}/", display_host(http_addr));
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let http_task = tokio::spawn(http::serve(
        http_listener,
        node.clone(),
        settings.web_dir.clone(),
        settings.npm_dir.clone(),
        async move {
            let _ = http_stopped.await;
        },
    ));

    let addresses =
        http::full_addresses(node.listen_addrs().await.map_err(|e| e.message)?, peer_id);
    if settings.json {
        let ready = serde_json::json!({ "event": "ready", "peerId": peer_id.to_string(), "http": url, "addresses": addresses });
        println!("{ready}");
    } else {
        println!("meshwork-relay {peer_id} is up.");
        for a in &addresses {
            println!("  {a}");
        }
        println!("Open the demo page: {url}");
    }

    let (joining, bootstrap, bootstrap_http) = (
        node.clone(),
        settings.bootstrap.clone(),
        settings.bootstrap_http.clone(),
    );
    tokio::spawn(async move {
        for failure in bootstrap::run(&joining, &bootstrap, &bootstrap_http).await {
            tracing::warn!(
                code = failure.code.as_str(),
                "bootstrap: {}",
                failure.message
            );
        }
    });

    shutdown.wait().await;
    tracing::info!("shutting down");
    let _ = stop_http.send(());
    let _ = node.shutdown().await;
    let _ = tokio::time::timeout(Duration::from_secs(5), http_task).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), loop_task).await;
    // The loop sent its last document before it ended; let the file take it.
    let _ = tokio::time::timeout(Duration::from_secs(5), store_task).await;
    Ok(())
}

/// Wait until TCP, QUIC, WebSocket, WebRTC-direct and WebTransport each report a listen address.
async fn wait_for_listeners(node: &meshwork_core::NodeHandle) -> Result<(), String> {
    let wanted = [
        TransportKind::Tcp,
        TransportKind::Quic,
        TransportKind::Websocket,
        TransportKind::WebrtcDirect,
        TransportKind::Webtransport,
    ];
    let deadline = tokio::time::Instant::now() + LISTEN_DEADLINE;
    loop {
        let have: Vec<TransportKind> = node
            .listen_addrs()
            .await
            .map_err(|e| e.message)?
            .iter()
            .map(TransportKind::of)
            .collect();
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|k| !have.contains(k))
            .map(|k| k.as_str())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "no listen address after {LISTEN_DEADLINE:?} for: {}",
                missing.join(", ")
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn display_host(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    }
}

/// SIGINT or SIGTERM. Created before the relay reports ready, so a signal sent right after
/// the ready line is never missed (tokio installs the handler when the stream is created).
struct Shutdown {
    #[cfg(unix)]
    streams: Vec<tokio::signal::unix::Signal>,
}

impl Shutdown {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let streams = [SignalKind::interrupt(), SignalKind::terminate()]
                .into_iter()
                .filter_map(|kind| {
                    signal(kind)
                        .map_err(|e| tracing::warn!("cannot watch signal {kind:?}: {e}"))
                        .ok()
                })
                .collect();
            Self { streams }
        }
        #[cfg(not(unix))]
        Self {}
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            let mut streams = self.streams;
            if !streams.is_empty() {
                let any =
                    futures::future::select_all(streams.iter_mut().map(|s| Box::pin(s.recv())));
                let _ = any.await;
                return;
            }
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
