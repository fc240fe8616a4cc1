//! Helpers shared by the integration tests: swarms on this transport, a manual clock, waiting.

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use futures::StreamExt as _;
use libp2p::{
    core::{muxing::StreamMuxerBox, Transport as _},
    identity::Keypair,
    multiaddr::Protocol,
    multihash::Multihash,
    ping,
    swarm::SwarmEvent,
    Multiaddr, PeerId, Swarm, SwarmBuilder,
};
use meshwork_webtransport::{Clock, Config, Transport};
use tokio::{sync::mpsc, task::JoinHandle};

/// Every wait in the tests gives up after this long.
pub const WAIT: Duration = Duration::from_secs(15);

pub const LOOPBACK: &str = "/ip4/127.0.0.1/udp/0/quic-v1/webtransport";

/// A clock the test moves by hand.
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(SystemTime::now())))
    }
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

pub type Event = SwarmEvent<ping::Event>;

/// A swarm with ping (every 200 ms) over this transport only.
pub fn swarm(key: Keypair, config: Config) -> Swarm<ping::Behaviour> {
    SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_other_transport(|_| {
            Transport::new(config).map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)))
        })
        .expect("transport")
        .with_behaviour(|_| {
            ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_millis(200)))
        })
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

/// Drives `swarm` until `f` picks an event, or panics after [`WAIT`].
pub async fn until<T>(
    swarm: &mut Swarm<ping::Behaviour>,
    what: &str,
    mut f: impl FnMut(Event) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            if let Some(found) = f(swarm.select_next_some().await) {
                return found;
            }
        }
    })
    .await
}

/// Waits on an event channel until `f` picks an event, or panics after [`WAIT`].
pub async fn until_rx<T>(
    events: &mut mpsc::Receiver<Event>,
    what: &str,
    mut f: impl FnMut(Event) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            let event = events.recv().await.expect("swarm task alive");
            if let Some(found) = f(event) {
                return found;
            }
        }
    })
    .await
}

pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// A listening swarm running in its own task, its events forwarded to the test.
pub struct Listening {
    pub peer_id: PeerId,
    pub addr: Multiaddr,
    pub events: mpsc::Receiver<Event>,
    task: JoinHandle<()>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a swarm listening on loopback with `config` and waits for its first address.
pub async fn listen(key: Keypair, config: Config) -> Listening {
    let peer_id = key.public().to_peer_id();
    let mut swarm = swarm(key, config);
    swarm.listen_on(LOOPBACK.parse().unwrap()).expect("listen");
    let addr = until(&mut swarm, "a listen address", |event| match event {
        SwarmEvent::NewListenAddr { address, .. } => Some(address),
        _ => None,
    })
    .await;
    let (tx, events) = mpsc::channel(4096);
    let task = tokio::spawn(async move {
        loop {
            let event = swarm.select_next_some().await;
            // The test may stop listening to events; the swarm keeps running.
            let _ = tx.try_send(event);
        }
    });
    Listening {
        peer_id,
        addr,
        events,
        task,
    }
}

/// The `/certhash` values of an address, in order.
pub fn certhashes(addr: &Multiaddr) -> Vec<Multihash<64>> {
    addr.iter()
        .filter_map(|p| match p {
            Protocol::Certhash(h) => Some(h),
            _ => None,
        })
        .collect()
}

/// The address without its `/certhash` components.
pub fn without_certhashes(addr: &Multiaddr) -> Multiaddr {
    addr.iter()
        .filter(|p| !matches!(p, Protocol::Certhash(_)))
        .collect()
}

/// The UDP port of an address.
pub fn port(addr: &Multiaddr) -> u16 {
    addr.iter()
        .find_map(|p| match p {
            Protocol::Udp(port) => Some(port),
            _ => None,
        })
        .expect("udp port")
}

/// The SHA-256 digest of a certhash.
pub fn digest(hash: &Multihash<64>) -> [u8; 32] {
    hash.digest().try_into().expect("sha2-256")
}

/// A SHA-256 multihash that is no certificate's.
pub fn bogus_hash(byte: u8) -> Multihash<64> {
    Multihash::wrap(0x12, &[byte; 32]).unwrap()
}

/// Dials `addr` from `swarm` and waits until it is connected to `peer` and a ping succeeded.
pub async fn dial_and_ping(swarm: &mut Swarm<ping::Behaviour>, addr: Multiaddr, peer: PeerId) {
    swarm.dial(addr.clone()).expect("dial starts");
    until(swarm, "a successful ping", |event| match event {
        SwarmEvent::Behaviour(ping::Event {
            peer: p,
            result: Ok(_),
            ..
        }) if p == peer => Some(()),
        SwarmEvent::OutgoingConnectionError { error, .. } => {
            panic!("dial of {addr} failed: {error:?}")
        }
        _ => None,
    })
    .await
}
