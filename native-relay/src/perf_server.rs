//! Serves the libp2p perf protocol (`/perf/1.0.0`) when the operator turns it on: a bounded
//! number of runs at once, each with a deadline. The protocol itself is `meshwork_core::perf`.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use meshwork_core::perf::{self, PERF_PROTOCOL};
use tokio::sync::Semaphore;

use crate::settings::PerfSettings;

/// Start accepting perf streams in a background task. Fails only if something else already
/// accepts the protocol.
pub fn start(
    mut control: meshwork_core::libp2p_stream::Control,
    settings: PerfSettings,
) -> Result<(), String> {
    let mut incoming = control
        .accept(PERF_PROTOCOL)
        .map_err(|e| format!("cannot serve {PERF_PROTOCOL}: {e}"))?;
    let slots = Arc::new(Semaphore::new(settings.max_sessions));
    let deadline = Duration::from_secs(settings.timeout_secs);
    tokio::spawn(async move {
        while let Some((peer, stream)) = incoming.next().await {
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                tracing::info!(%peer, "perf refused: {} runs already in progress", settings.max_sessions);
                continue; // Dropping the stream resets it: the client sees the refusal.
            };
            let max_bytes = settings.max_bytes;
            tokio::spawn(async move {
                let _slot = slot;
                match tokio::time::timeout(deadline, perf::serve(stream, max_bytes)).await {
                    Ok(Ok((received, sent))) => {
                        tracing::debug!(%peer, received, sent, "perf run served")
                    }
                    Ok(Err(e)) => tracing::info!(%peer, "perf run failed: {e}"),
                    Err(_) => tracing::info!(%peer, "perf run cut off after {deadline:?}"),
                }
            });
        }
    });
    Ok(())
}
