//! The libp2p [`Transport`](libp2p::core::Transport) implementation.

use std::{
    pin::Pin,
    sync::{atomic::AtomicUsize, Arc},
    task::{Context, Poll, Waker},
};

use futures::{future::BoxFuture, stream::SelectAll, FutureExt as _, StreamExt as _};
use libp2p::{
    core::{
        transport::{DialOpts, ListenerId, TransportError, TransportEvent},
        Endpoint,
    },
    Multiaddr, PeerId,
};

use crate::{
    addr::{parse_dial_addr, parse_listen_addr, DialAddrError},
    certificate::CertificateManager,
    config::Config,
    connection::Connection,
    error::Error,
    handshake,
    listener::{Listener, Shared, Upgrade},
};

/// A libp2p WebTransport transport for tokio: listens for browsers (and native dialers), and
/// dials listeners that advertise `/certhash`es.
///
/// Listen on `/ip4|ip6/<ip>/udp/<port>/quic-v1/webtransport`; the reported addresses carry the
/// current and next certificate hashes. Dial `…/quic-v1/webtransport/certhash/<hash>…[/p2p/<id>]`.
///
/// Each dial uses a fresh UDP socket (the `PortUse` option is ignored) and only the dialer role
/// is supported (no hole punching). Dial addresses must have an IP; `/dns*` is not resolved here.
pub struct Transport {
    config: Config,
    /// Created on the first `listen_on`; shared by all listeners.
    certs: Option<Arc<CertificateManager>>,
    pending: Arc<AtomicUsize>,
    listeners: SelectAll<Listener>,
    waker: Option<Waker>,
}

impl Transport {
    /// A transport with `config`. Nothing is bound until `listen_on`.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            certs: None,
            pending: Arc::new(AtomicUsize::new(0)),
            listeners: SelectAll::new(),
            waker: None,
        }
    }

    /// The certificate manager of the listeners, once one has been started.
    pub fn certificates(&self) -> Option<Arc<CertificateManager>> {
        self.certs.clone()
    }

    fn certificate_manager(&mut self) -> Result<Arc<CertificateManager>, Error> {
        if let Some(certs) = &self.certs {
            certs.refresh()?;
            return Ok(certs.clone());
        }
        let certs = Arc::new(CertificateManager::new(&self.config)?);
        self.certs = Some(certs.clone());
        Ok(certs)
    }

    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("config", &self.config)
            .field("listeners", &self.listeners.len())
            .finish_non_exhaustive()
    }
}

impl libp2p::core::Transport for Transport {
    type Output = (PeerId, Connection);
    type Error = Error;
    type ListenerUpgrade = Upgrade;
    type Dial = BoxFuture<'static, Result<Self::Output, Self::Error>>;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        let socket_addr =
            parse_listen_addr(&addr).ok_or(TransportError::MultiaddrNotSupported(addr))?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(TransportError::Other(Error::NoRuntime));
        }
        let certs = self.certificate_manager().map_err(TransportError::Other)?;
        let shared = Shared {
            config: self.config.clone(),
            certs,
            pending: self.pending.clone(),
        };
        let listener = Listener::bind(id, socket_addr, shared).map_err(TransportError::Other)?;
        self.listeners.push(listener);
        self.wake();
        Ok(())
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        let Some(listener) = self.listeners.iter_mut().find(|l| l.id() == id) else {
            return false;
        };
        listener.close(Ok(()));
        self.wake();
        true
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<Self::Error>> {
        let target = match parse_dial_addr(&addr) {
            Ok(target) => target,
            Err(DialAddrError::NotWebTransport) => {
                return Err(TransportError::MultiaddrNotSupported(addr))
            }
            Err(DialAddrError::NoCertHashes) => {
                return Err(TransportError::Other(Error::NoCertHashes))
            }
        };
        if opts.role == Endpoint::Listener {
            return Err(TransportError::Other(Error::ListenerRoleUnsupported));
        }
        Ok(handshake::outbound(target, self.config.clone()).boxed())
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        match self.listeners.poll_next_unpin(cx) {
            Poll::Ready(Some(event)) => Poll::Ready(event),
            Poll::Ready(None) | Poll::Pending => {
                self.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
