//! Start-up connections: bootstrap multiaddrs, relay multiaddrs and the relay's fetched
//! addresses, in the
//! configured transport order, handed to the core's bootstrap (`connmgr::bootstrap`): every
//! peer dialled once, concurrently, and kept (redialled with backoff; relays reserved on again
//! after a loss).

use meshwork_core::{
    addresses,
    connmgr::bootstrap::{self, BootstrapTarget},
    CoreError, ErrorCode, NodeHandle,
};

use super::fetch;
use crate::options::BrowserOptions;

/// Connect to everything `options` names. Resolves with the number of peers reached; fails if
/// the relay's addresses cannot be fetched or if no peer could be reached at all. Each peer not
/// reached is passed to `report`.
pub async fn run(
    node: &NodeHandle,
    options: &BrowserOptions,
    report: &dyn Fn(CoreError),
) -> Result<usize, CoreError> {
    let mut all = options.bootstrap.clone();
    all.extend(options.relays.iter().cloned());
    let mut relays: Vec<_> = options
        .relays
        .iter()
        .filter_map(addresses::peer_id_of)
        .collect();
    if let Some(url) = &options.relay_addresses_url {
        let fetched = fetch::relay_addresses(url).await?;
        relays.extend(fetched.iter().filter_map(addresses::peer_id_of));
        all.extend(fetched);
    }
    if all.is_empty() {
        return Ok(0);
    }
    let plan = addresses::dial_plan(&all, &options.transports);
    if plan.is_empty() {
        return Err(CoreError::new(
            ErrorCode::DialFailed,
            "no bootstrap or relay address uses a transport in `transports`",
        ));
    }
    let mut targets: Vec<BootstrapTarget> = bootstrap::targets(plan, &relays);
    if !options.reserve_on_relay {
        for target in &mut targets {
            target.relay = false;
        }
    }
    let outcome = bootstrap::run(node, &targets).await;
    for failure in &outcome.failures {
        report(failure.clone());
    }
    outcome.require_one()?;
    Ok(outcome.reached.len())
}
