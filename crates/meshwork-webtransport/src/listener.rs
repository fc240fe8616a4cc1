//! One listening UDP socket: accepts sessions, announces its addresses, re-announces them when
//! the certificates rotate.

use std::{
    collections::{BTreeSet, VecDeque},
    net::{IpAddr, SocketAddr, UdpSocket},
    pin::Pin,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use futures::{future::BoxFuture, FutureExt as _, Stream as FuturesStream};
use if_watch::{tokio::IfWatcher, IfEvent};
use libp2p::{
    core::transport::{ListenerId, TransportEvent},
    multihash::Multihash,
    PeerId,
};
use socket2::{Domain, Protocol, Socket, Type};
use wtransport::quinn;

use crate::{
    addr::{listen_addr, webtransport_addr},
    certificate::CertificateManager,
    config::Config,
    connection::Connection,
    error::Error,
    handshake,
};

/// The future the swarm drives for an inbound session: it resolves once the remote is
/// authenticated.
pub(crate) type Upgrade = BoxFuture<'static, Result<(PeerId, Connection), Error>>;

/// What all listeners of one transport share.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) certs: Arc<CertificateManager>,
    /// Sessions between their first packet and the end of the Noise handshake.
    pub(crate) pending: Arc<AtomicUsize>,
}

/// One listening socket.
///
/// Its event queue holds at most two events per announced address plus one closing event: it is
/// bounded by the number of local addresses.
pub(crate) struct Listener {
    id: ListenerId,
    endpoint: quinn::Endpoint,
    local: SocketAddr,
    accept: BoxFuture<'static, Option<quinn::Incoming>>,
    /// Present when listening on an unspecified address.
    if_watcher: Option<IfWatcher>,
    /// The IPs announced (with `local`'s port).
    announced: BTreeSet<IpAddr>,
    /// The certificate hashes in the announced addresses.
    hashes: Vec<Multihash<64>>,
    rotation_check: tokio::time::Interval,
    events: VecDeque<TransportEvent<Upgrade, Error>>,
    shared: Shared,
    closed: bool,
    /// The task that last polled this listener, woken by [`Self::close`].
    waker: Option<Waker>,
}

impl Listener {
    /// Binds `addr` and starts listening. Must run inside a tokio runtime.
    pub(crate) fn bind(id: ListenerId, addr: SocketAddr, shared: Shared) -> Result<Self, Error> {
        let server_config = crate::tls::server_config(&shared.config, shared.certs.clone())?;
        let endpoint = quinn::Endpoint::new(
            quinn::EndpointConfig::default(),
            Some(server_config),
            bind_socket(addr)?,
            Arc::new(quinn::TokioRuntime),
        )?;
        let local = endpoint.local_addr()?;
        let if_watcher = if local.ip().is_unspecified() {
            Some(IfWatcher::new()?)
        } else {
            None
        };
        let mut rotation_check = tokio::time::interval(shared.config.rotation_check_interval);
        rotation_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut listener = Self {
            id,
            accept: accept(&endpoint),
            endpoint,
            local,
            if_watcher,
            announced: BTreeSet::new(),
            hashes: shared.certs.advertised_hashes(),
            rotation_check,
            events: VecDeque::new(),
            shared,
            closed: false,
            waker: None,
        };
        if !local.ip().is_unspecified() {
            listener.announce(local.ip());
        }
        tracing::debug!(%local, "WebTransport listener bound");
        Ok(listener)
    }

    /// The id the swarm gave this listener.
    pub(crate) fn id(&self) -> ListenerId {
        self.id
    }

    /// Stops accepting new sessions (established ones carry on) and reports the closing.
    pub(crate) fn close(&mut self, reason: Result<(), Error>) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.accept = futures::future::pending().boxed();
        retire(self.endpoint.clone());
        self.events.push_back(TransportEvent::ListenerClosed {
            listener_id: self.id,
            reason,
        });
        // Inside a `SelectAll`, only a woken listener is polled again.
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    fn announce(&mut self, ip: IpAddr) {
        if self.announced.insert(ip) {
            self.events.push_back(TransportEvent::NewAddress {
                listener_id: self.id,
                listen_addr: self.addr_of(ip, &self.hashes),
            });
        }
    }

    fn withdraw(&mut self, ip: IpAddr) {
        if self.announced.remove(&ip) {
            self.events.push_back(TransportEvent::AddressExpired {
                listener_id: self.id,
                listen_addr: self.addr_of(ip, &self.hashes),
            });
        }
    }

    fn addr_of(&self, ip: IpAddr, hashes: &[Multihash<64>]) -> libp2p::Multiaddr {
        listen_addr(SocketAddr::new(ip, self.local.port()), hashes)
    }

    fn on_if_event(&mut self, event: IfEvent) {
        match event {
            IfEvent::Up(net) if self.wants(net.addr()) => self.announce(net.addr()),
            IfEvent::Down(net) => self.withdraw(net.addr()),
            IfEvent::Up(_) => {}
        }
    }

    /// Whether an interface address is one this socket can be reached on and a browser can dial.
    fn wants(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(_) => self.local.is_ipv4(),
            // Link-local IPv6 addresses need a scope id, which multiaddrs cannot carry.
            IpAddr::V6(v6) => self.local.is_ipv6() && (v6.segments()[0] & 0xffc0) != 0xfe80,
        }
    }

    /// Rotates the certificates if due and replaces the announced addresses if they changed.
    fn check_rotation(&mut self) {
        if let Err(error) = self.shared.certs.refresh() {
            self.events.push_back(TransportEvent::ListenerError {
                listener_id: self.id,
                error,
            });
            return;
        }
        let hashes = self.shared.certs.advertised_hashes();
        if hashes == self.hashes {
            return;
        }
        for ip in self.announced.clone() {
            self.events.push_back(TransportEvent::AddressExpired {
                listener_id: self.id,
                listen_addr: self.addr_of(ip, &self.hashes),
            });
            self.events.push_back(TransportEvent::NewAddress {
                listener_id: self.id,
                listen_addr: self.addr_of(ip, &hashes),
            });
        }
        self.hashes = hashes;
    }

    fn on_incoming(&mut self, incoming: quinn::Incoming) {
        let remote = incoming.remote_address();
        let Some(guard) = PendingGuard::try_new(
            &self.shared.pending,
            self.shared.config.max_pending_sessions,
        ) else {
            tracing::debug!(%remote, "too many pending WebTransport sessions: refusing");
            incoming.refuse();
            return;
        };
        let keypair = self.shared.config.keypair.clone();
        let certs = self.shared.certs.clone();
        let timeout = self.shared.config.handshake_timeout;
        let upgrade = async move {
            let _guard = guard;
            handshake::inbound(incoming, keypair, certs, timeout).await
        }
        .boxed();
        self.events.push_back(TransportEvent::Incoming {
            listener_id: self.id,
            upgrade,
            local_addr: webtransport_addr(self.local),
            send_back_addr: webtransport_addr(remote),
        });
    }
}

impl FuturesStream for Listener {
    type Item = TransportEvent<Upgrade, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.events.pop_front() {
                return Poll::Ready(Some(event));
            }
            if this.closed {
                return Poll::Ready(None);
            }
            if let Some(watcher) = this.if_watcher.as_mut() {
                match watcher.poll_if_event(cx) {
                    Poll::Ready(Ok(event)) => {
                        this.on_if_event(event);
                        continue;
                    }
                    Poll::Ready(Err(error)) => {
                        // Keep the addresses announced so far; stop watching.
                        this.if_watcher = None;
                        this.events.push_back(TransportEvent::ListenerError {
                            listener_id: this.id,
                            error: error.into(),
                        });
                        continue;
                    }
                    Poll::Pending => {}
                }
            }
            if this.rotation_check.poll_tick(cx).is_ready() {
                this.check_rotation();
                continue;
            }
            match this.accept.poll_unpin(cx) {
                Poll::Ready(Some(incoming)) => {
                    this.accept = accept(&this.endpoint);
                    this.on_incoming(incoming);
                    continue;
                }
                Poll::Ready(None) => {
                    this.close(Err(Error::EndpointClosed));
                    continue;
                }
                Poll::Pending => {}
            }
            this.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if !self.closed {
            retire(self.endpoint.clone());
        }
    }
}

/// How often a retired endpoint checks whether its last session has ended: 1 second.
const RETIRE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// After its listener is gone, an endpoint refuses new connections (CONNECTION_REFUSED, so
/// dialers fail at once instead of timing out) until its established sessions have ended, then
/// releases the socket.
fn retire(endpoint: quinn::Endpoint) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        // Without a runtime, just stop answering new connections.
        endpoint.set_server_config(None);
        return;
    };
    runtime.spawn(async move {
        while endpoint.open_connections() > 0 {
            tokio::select! {
                incoming = endpoint.accept() => match incoming {
                    Some(incoming) => incoming.refuse(),
                    None => break,
                },
                () = tokio::time::sleep(RETIRE_CHECK_INTERVAL) => {}
            }
        }
        endpoint.set_server_config(None);
    });
}

/// Counts one pending session until dropped.
struct PendingGuard(Arc<AtomicUsize>);

impl PendingGuard {
    /// Counts a new pending session, unless `max` are pending already.
    fn try_new(pending: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(pending.clone()))
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn accept(endpoint: &quinn::Endpoint) -> BoxFuture<'static, Option<quinn::Incoming>> {
    let endpoint = endpoint.clone();
    async move { endpoint.accept().await }.boxed()
}

/// A non-blocking UDP socket on `addr`; IPv6 sockets are IPv6-only, so that IPv4 and IPv6
/// listeners can share a port as they do for libp2p's other transports.
fn bind_socket(addr: SocketAddr) -> Result<UdpSocket, Error> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}
