//! `/meshwork/relay-status/1.0.0`: a relay tells how full it is. The asker opens a stream and
//! reads one JSON object (`{ reservations, maxReservations, circuits, maxCircuits }`, at most
//! [`MAX_STATUS_BYTES`]) until the relay closes it. Relay selection uses it to skip full relays
//! and to prefer roomier ones.

use futures::{future::Either, AsyncReadExt, AsyncWriteExt};
use libp2p::{PeerId, StreamProtocol};
use serde::{Deserialize, Serialize};
use web_time::Duration;

/// The protocol.
pub const RELAY_STATUS_PROTOCOL: StreamProtocol =
    StreamProtocol::new("/meshwork/relay-status/1.0.0");

/// Largest answer read, in bytes.
pub const MAX_STATUS_BYTES: usize = 1024;

/// How long an ask may take.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// How full a relay is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayStatus {
    /// Reservations held now.
    pub reservations: u32,
    /// Most reservations it holds.
    pub max_reservations: u32,
    /// Circuits relayed now.
    pub circuits: u32,
    /// Most circuits it relays at once.
    pub max_circuits: u32,
}

impl RelayStatus {
    /// Reservations it can still take.
    pub fn free_reservations(&self) -> u32 {
        self.max_reservations.saturating_sub(self.reservations)
    }
}

/// Ask `peer` (connected, or reachable) how full it is.
pub async fn ask(mut control: libp2p_stream::Control, peer: PeerId) -> Result<RelayStatus, String> {
    let exchange = async move {
        let mut stream = control
            .open_stream(peer, RELAY_STATUS_PROTOCOL)
            .await
            .map_err(|e| format!("cannot open a stream: {e}"))?;
        let mut bytes = Vec::new();
        (&mut stream)
            .take(MAX_STATUS_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| format!("reading the status: {e}"))?;
        if bytes.len() > MAX_STATUS_BYTES {
            return Err(format!("status longer than {MAX_STATUS_BYTES} bytes"));
        }
        serde_json::from_slice::<RelayStatus>(&bytes).map_err(|e| format!("bad status: {e}"))
    };
    let timeout = futures_timer::Delay::new(ASK_TIMEOUT);
    futures::pin_mut!(exchange);
    match futures::future::select(exchange, timeout).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err("no status in time".into()),
    }
}

/// Answer one ask with `status` and close the stream.
pub async fn answer(mut stream: libp2p::Stream, status: RelayStatus) {
    let bytes = serde_json::to_vec(&status).unwrap_or_default();
    let write = async {
        stream.write_all(&bytes).await?;
        stream.close().await
    };
    let timeout = futures_timer::Delay::new(ASK_TIMEOUT);
    futures::pin_mut!(write);
    if let Either::Left((Err(e), _)) = futures::future::select(write, timeout).await {
        tracing::debug!("relay status not sent: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_camel_case_json_and_free_slots_never_underflow() {
        let s = RelayStatus {
            reservations: 5,
            max_reservations: 4,
            circuits: 0,
            max_circuits: 1,
        };
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("maxReservations"), "{json}");
        assert_eq!(s.free_reservations(), 0);
        assert_eq!(serde_json::from_str::<RelayStatus>(&json).unwrap(), s);
    }
}
