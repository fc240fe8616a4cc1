//! The public [`BrowserToBrowserTransport`]: dials and accepts `/webrtc` (browser-to-browser).

use std::{
    collections::VecDeque,
    pin::Pin,
    task::{Context, Poll},
};

use futures::{future::BoxFuture, FutureExt, StreamExt};
use libp2p::{
    core::transport::{DialOpts, ListenerId, TransportError, TransportEvent},
    multiaddr::Protocol,
    Multiaddr, PeerId,
};
use send_wrapper::SendWrapper;

use super::{browser_to_browser, connection::Connection};
use crate::{Config, Error};

/// A libp2p transport for direct WebRTC connections between browsers (`/webrtc` addresses).
///
/// It does not dial the relay itself: it needs a relayed connection to the remote to be open
/// already (the node dials `<relay>/p2p-circuit/p2p/<remote>` first), and runs
/// `/webrtc-signaling/0.0.1` over it through a [`libp2p_stream::Control`] of the swarm's
/// `libp2p_stream::Behaviour`.
///
/// - **Dial** `<relay address>/p2p-circuit/webrtc/p2p/<remote>` (or `/webrtc/p2p/<remote>`):
///   signals as the offerer and returns the direct connection.
/// - **Listen** on exactly `/webrtc`: accepts signaling streams from any connected peer and
///   answers them; each becomes an inbound connection from `/webrtc/p2p/<remote>`. One listener
///   at a time; it does not report addresses (a page's `/webrtc` addresses are its circuit
///   addresses plus `/webrtc`, which the node advertises).
pub struct BrowserToBrowserTransport {
    config: Config,
    control: libp2p_stream::Control,
    is_connected: IsConnected,
    listener: Option<Listener>,
    /// Events waiting for `poll` (listener closed).
    pending_events:
        VecDeque<TransportEvent<BoxFuture<'static, Result<(PeerId, Connection), Error>>, Error>>,
}

/// Whether the node has a connection to a peer (to signal over).
pub type IsConnected = std::sync::Arc<dyn Fn(&PeerId) -> bool + Send + Sync>;

struct Listener {
    id: ListenerId,
    incoming: libp2p_stream::IncomingStreams,
}

impl std::fmt::Debug for BrowserToBrowserTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserToBrowserTransport")
            .field("listening", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}

impl BrowserToBrowserTransport {
    /// A transport using `config` (limits, ICE servers) and `control` for signaling streams.
    ///
    /// `is_connected` says whether the node is connected to a peer: a dial is refused at once
    /// without a connection to signal over. (Otherwise `libp2p-stream` would dial the peer to
    /// open the stream, with every address the node knows for it, `/webrtc` ones included: a
    /// storm of relay circuits.)
    pub fn new(config: Config, control: libp2p_stream::Control, is_connected: IsConnected) -> Self {
        Self {
            config,
            control,
            is_connected,
            listener: None,
            pending_events: VecDeque::new(),
        }
    }
}

/// The remote of a browser-to-browser address: `…/webrtc/p2p/<remote>` with `/webrtc` (not
/// `/webrtc-direct`) right before the final `/p2p`.
pub fn browser_to_browser_target(addr: &Multiaddr) -> Option<PeerId> {
    let mut protocols: Vec<Protocol<'_>> = addr.iter().collect();
    let Some(Protocol::P2p(peer)) = protocols.pop() else {
        return None;
    };
    matches!(protocols.pop(), Some(Protocol::WebRTC)).then_some(peer)
}

fn is_listen_address(addr: &Multiaddr) -> bool {
    let mut protocols = addr.iter();
    matches!(
        (protocols.next(), protocols.next()),
        (Some(Protocol::WebRTC), None)
    )
}

impl libp2p::core::Transport for BrowserToBrowserTransport {
    type Output = (PeerId, Connection);
    type Error = Error;
    type ListenerUpgrade = BoxFuture<'static, Result<Self::Output, Self::Error>>;
    type Dial = BoxFuture<'static, Result<Self::Output, Self::Error>>;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        if !is_listen_address(&addr) {
            return Err(TransportError::MultiaddrNotSupported(addr));
        }
        if self.listener.is_some() {
            return Err(TransportError::Other(Error::Listen(
                "already listening on /webrtc".to_owned(),
            )));
        }
        let incoming = self
            .control
            .accept(browser_to_browser::PROTOCOL)
            .map_err(|e| TransportError::Other(Error::Listen(e.to_string())))?;
        self.listener = Some(Listener { id, incoming });
        Ok(())
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        if self.listener.as_ref().is_some_and(|l| l.id == id) {
            self.listener = None;
            self.pending_events
                .push_back(TransportEvent::ListenerClosed {
                    listener_id: id,
                    reason: Ok(()),
                });
            return true;
        }
        false
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<Self::Error>> {
        if opts.role.is_listener() {
            return Err(TransportError::MultiaddrNotSupported(addr));
        }
        let Some(peer) = browser_to_browser_target(&addr) else {
            return Err(TransportError::MultiaddrNotSupported(addr));
        };
        if !(self.is_connected)(&peer) {
            return Err(TransportError::Other(Error::SignalingUnavailable {
                peer: Box::new(peer),
                reason: "not connected to it; the relayed connection comes first".to_owned(),
            }));
        }
        let attempt = browser_to_browser::dial(peer, self.control.clone(), self.config.clone());
        // The JS objects inside never leave the browser's one thread.
        Ok(SendWrapper::new(attempt).boxed())
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        if let Some(event) = self.pending_events.pop_front() {
            return Poll::Ready(event);
        }
        let config = self.config.clone();
        let Some(listener) = self.listener.as_mut() else {
            return Poll::Pending;
        };
        match listener.incoming.poll_next_unpin(cx) {
            Poll::Ready(Some((peer, stream))) => {
                let upgrade =
                    SendWrapper::new(browser_to_browser::accept(peer, stream, config)).boxed();
                let send_back_addr = Multiaddr::empty()
                    .with(Protocol::WebRTC)
                    .with(Protocol::P2p(peer));
                Poll::Ready(TransportEvent::Incoming {
                    listener_id: listener.id,
                    upgrade,
                    local_addr: Multiaddr::empty().with(Protocol::WebRTC),
                    send_back_addr,
                })
            }
            Poll::Ready(None) => {
                let id = listener.id;
                self.listener = None;
                Poll::Ready(TransportEvent::ListenerClosed {
                    listener_id: id,
                    reason: Ok(()),
                })
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
