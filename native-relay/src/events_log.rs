//! Drains the core node's events (the loop waits when nobody does) and logs them.

use futures::StreamExt;
use meshwork_core::{Event, EventReceiver};

/// Log every event until the node stops.
pub async fn run(mut events: EventReceiver) {
    while let Some(event) = events.next().await {
        match event {
            Event::ListenAddr { address } => tracing::info!(%address, "listening"),
            Event::ListenAddrExpired { address } => {
                tracing::info!(%address, "listen address expired")
            }
            Event::PeerConnected {
                peer_id,
                transport,
                address,
            } => {
                tracing::info!(%peer_id, %transport, %address, "peer connected")
            }
            Event::PeerUpgraded {
                peer_id,
                transport,
                address,
            } => {
                tracing::info!(%peer_id, %transport, %address, "peer connection upgraded")
            }
            Event::PeerDisconnected {
                peer_id,
                transport,
                cause,
            } => {
                tracing::info!(%peer_id, %transport, cause = cause.as_deref().unwrap_or("closed"), "peer disconnected")
            }
            Event::Message {
                topic,
                source,
                data,
                ..
            } => {
                tracing::debug!(%topic, source = ?source, bytes = data.len(), "message")
            }
            Event::Subscription {
                peer_id,
                topic,
                subscribed,
            } => {
                tracing::debug!(%peer_id, %topic, subscribed, "subscription")
            }
            Event::RelayReservation {
                relay_peer_id,
                renewal,
            } => {
                tracing::info!(%relay_peer_id, renewal, "relay reservation")
            }
            Event::PeerBanned { peer_id, secs } => {
                tracing::warn!(%peer_id, secs, "peer banned (reputation)")
            }
            Event::PeerDiscovered {
                peer_id,
                source,
                namespace,
                ..
            } => {
                tracing::info!(%peer_id, source = source.as_str(), namespace = namespace.as_deref().unwrap_or(""), "peer discovered")
            }
            Event::PeerState {
                peer_id,
                state,
                reason,
            } => {
                tracing::debug!(%peer_id, state = state.as_str(), reason = reason.as_deref().unwrap_or(""), "peer state")
            }
            Event::ServiceAnnounced { record } => {
                tracing::debug!(service = %record.service, provider = %record.provider, "service announced")
            }
            Event::ServiceDeparted { service, provider } => {
                tracing::debug!(%service, %provider, "service departed")
            }
            Event::PeerStoreLoaded {
                restored,
                skipped,
                discarded,
            } => match discarded {
                Some(why) => tracing::warn!("peer store discarded: {why}"),
                None => tracing::info!(restored, skipped, "peer store loaded"),
            },
            Event::Error { error } => tracing::warn!(code = %error.code, "{}", error.message),
        }
    }
}
