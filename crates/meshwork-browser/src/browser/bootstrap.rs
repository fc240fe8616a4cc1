//! Start-up connections: bootstrap multiaddrs and the relay's fetched addresses, tried in the
//! configured transport order, one peer at a time per address list, all peers concurrently.

use libp2p::{multiaddr::Protocol, Multiaddr, PeerId};
use meshwork_core::{addresses, CoreError, ErrorCode, NodeHandle};

use super::fetch;
use crate::options::BrowserOptions;

/// One peer to reach and the addresses to try, best first.
struct Target {
    peer: Option<PeerId>,
    addresses: Vec<Multiaddr>,
    is_relay: bool,
}

fn group(plan: Vec<Multiaddr>, relays: &[PeerId]) -> Vec<Target> {
    let mut targets: Vec<Target> = Vec::new();
    for address in plan {
        let peer = addresses::peer_id_of(&address);
        match targets
            .iter_mut()
            .find(|t| peer.is_some() && t.peer == peer)
        {
            Some(t) => t.addresses.push(address),
            None => targets.push(Target {
                peer,
                is_relay: peer.is_some_and(|p| relays.contains(&p)),
                addresses: vec![address],
            }),
        }
    }
    targets
}

/// Try one target's addresses in order; the first that connects wins. On failure, the last
/// error.
async fn reach(
    node: &NodeHandle,
    target: &Target,
    report: &dyn Fn(CoreError),
) -> Result<Multiaddr, CoreError> {
    let mut last = CoreError::new(ErrorCode::DialFailed, "no address to try");
    for address in &target.addresses {
        match node.dial(address.clone()).await {
            Ok(_) => return Ok(address.clone()),
            Err(e) => {
                report(e.clone());
                last = e;
            }
        }
    }
    Err(last)
}

/// Connect to everything `options` names. Resolves with the number of peers reached; fails if
/// the relay's addresses cannot be fetched or if no peer could be reached at all.
pub async fn run(
    node: &NodeHandle,
    options: &BrowserOptions,
    report: &dyn Fn(CoreError),
) -> Result<usize, CoreError> {
    let mut all = options.bootstrap.clone();
    let mut relays = Vec::new();
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
    let targets = group(plan, &relays);
    let reached = futures::future::join_all(targets.iter().map(|t| reach(node, t, report))).await;
    let mut connected = 0;
    let mut failures = Vec::new();
    for (target, address) in targets.iter().zip(reached) {
        let address = match address {
            Ok(a) => a,
            Err(e) => {
                failures.push(e.message);
                continue;
            }
        };
        connected += 1;
        if target.is_relay && options.reserve_on_relay {
            if let Err(e) = node.listen(address.with(Protocol::P2pCircuit)).await {
                report(e);
            }
        }
    }
    if connected == 0 {
        return Err(CoreError::new(
            ErrorCode::DialFailed,
            format!(
                "could not reach any bootstrap peer or relay: {}",
                failures.join("; ")
            ),
        ));
    }
    Ok(connected)
}
