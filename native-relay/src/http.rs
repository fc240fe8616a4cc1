//! The relay's HTTP server: its current addresses as JSON (pages need the WebRTC certhash) and
//! the demo page with the npm package it imports.
//!
//! - `GET /api/addresses` → `{"peerId": "...", "addresses": ["/ip4/…/p2p/<peerId>", …]}`
//!   (CORS open, so pages on any origin can bootstrap from it)
//! - `GET /api/stats` → gossip counters per topic and queue state (`meshwork_core::gossip::stats`)
//! - `GET /healthz` → `ok`
//! - `/npm/…` → the npm package directory; everything else → the web directory.

use std::{net::SocketAddr, path::PathBuf};

use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Json, Router};
use libp2p::Multiaddr;
use meshwork_core::{addresses::with_peer_id, NodeHandle};
use serde::Serialize;
use tower_http::{cors::CorsLayer, services::ServeDir};

/// The path of the addresses endpoint.
pub const ADDRESSES_PATH: &str = "/api/addresses";

/// The path of the gossip stats endpoint.
pub const STATS_PATH: &str = "/api/stats";

/// The JSON body of [`ADDRESSES_PATH`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressesBody {
    /// The relay's peer ID.
    pub peer_id: String,
    /// Every current listen address, each ending in `/p2p/<peerId>`.
    pub addresses: Vec<String>,
}

/// Full, dialable addresses from listen addresses: `/p2p/<id>` appended, unspecified IPs dropped.
pub fn full_addresses(listen: Vec<Multiaddr>, peer: libp2p::PeerId) -> Vec<String> {
    listen
        .into_iter()
        .filter(|a| {
            !a.iter().any(|p| match p {
                libp2p::multiaddr::Protocol::Ip4(ip) => ip.is_unspecified(),
                libp2p::multiaddr::Protocol::Ip6(ip) => ip.is_unspecified(),
                _ => false,
            })
        })
        .map(|a| with_peer_id(a, peer).to_string())
        .collect()
}

async fn addresses(State(node): State<NodeHandle>) -> impl IntoResponse {
    match node.listen_addrs().await {
        Ok(listen) => Ok(Json(AddressesBody {
            peer_id: node.local_peer_id().to_string(),
            addresses: full_addresses(listen, node.local_peer_id()),
        })),
        Err(e) => Err((StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
    }
}

async fn stats(State(node): State<NodeHandle>) -> impl IntoResponse {
    node.stats()
        .await
        .map(Json)
        .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e.to_string()))
}

/// Bind the HTTP listener (a taken port is an error here, before anything is served).
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen for HTTP on {addr}: {e}"))
}

/// Serve until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    node: NodeHandle,
    web_dir: PathBuf,
    npm_dir: PathBuf,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let api = Router::new()
        .route(ADDRESSES_PATH, get(addresses))
        .route(STATS_PATH, get(stats))
        .layer(CorsLayer::permissive())
        .with_state(node);
    let app = api
        .route("/healthz", get(|| async { "ok" }))
        .nest_service("/npm", ServeDir::new(npm_dir))
        .fallback_service(ServeDir::new(web_dir));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_are_dropped_and_peer_ids_added() {
        let peer = libp2p::PeerId::random();
        let out = full_addresses(
            vec![
                "/ip4/0.0.0.0/tcp/1".parse().unwrap(),
                "/ip4/127.0.0.1/tcp/1".parse().unwrap(),
            ],
            peer,
        );
        assert_eq!(out, vec![format!("/ip4/127.0.0.1/tcp/1/p2p/{peer}")]);
    }
}
