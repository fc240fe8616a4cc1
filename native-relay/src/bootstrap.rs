//! Joining other nodes at start, natively: `bootstrap` multiaddrs and other relays' HTTP base
//! URLs (`bootstrap-http`, whose current multiaddrs are fetched), each peer dialled once and
//! kept (redialled with backoff, `meshwork_core::connmgr::bootstrap`). This is how relays form
//! the DHT backbone: each names one or more others.

use libp2p::Multiaddr;
use meshwork_core::{addresses, connmgr::bootstrap, CoreError, NodeHandle, TransportKind};

use crate::relay_http_client;

/// Transports a native node dials, best first.
pub const NATIVE_DIAL_ORDER: [TransportKind; 3] = [
    TransportKind::Quic,
    TransportKind::Tcp,
    TransportKind::Websocket,
];

/// Dial and keep every peer named; returns what failed (fetches and peers not reached).
pub async fn run(node: &NodeHandle, multiaddrs: &[Multiaddr], http: &[String]) -> Vec<CoreError> {
    let mut failures = Vec::new();
    let mut all: Vec<Multiaddr> = multiaddrs.to_vec();
    for base in http {
        match relay_http_client::relay_addresses(base).await {
            Ok(fetched) => all.extend(addresses::dial_plan(&fetched, &NATIVE_DIAL_ORDER)),
            Err(e) => failures.push(e),
        }
    }
    if all.is_empty() {
        return failures;
    }
    let targets = bootstrap::targets(all, &[]);
    let outcome = bootstrap::run(node, &targets).await;
    failures.extend(outcome.failures);
    failures
}
