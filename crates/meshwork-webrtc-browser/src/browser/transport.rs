//! The public [`Transport`]: dials WebRTC-direct addresses; cannot listen.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use futures::{
    future::{self, BoxFuture},
    FutureExt,
};
use libp2p::{
    core::transport::{DialOpts, ListenerId, TransportError, TransportEvent},
    Multiaddr, PeerId,
};
use send_wrapper::SendWrapper;

use super::{connection::Connection, handshake};
use crate::{dial_target::DialTarget, Config, Error};

/// A libp2p transport that dials
/// `/ip4|ip6/<ip>/udp/<port>/webrtc-direct/certhash/<multibase>[/p2p/<peer>]` from a browser.
///
/// Listening is not possible in a browser: `listen_on` reports every address as unsupported, as
/// does `dial` for other addresses and for the listener role of a hole punch.
#[derive(Debug)]
pub struct Transport {
    config: Config,
}

impl Transport {
    /// A transport authenticating with `config`'s keypair and bounded by its limits.
    pub fn new(config: Config) -> Self {
        Self { config }
    }
}

impl libp2p::core::Transport for Transport {
    type Output = (PeerId, Connection);
    type Error = Error;
    type ListenerUpgrade = future::Pending<Result<Self::Output, Self::Error>>;
    type Dial = BoxFuture<'static, Result<Self::Output, Self::Error>>;

    fn listen_on(
        &mut self,
        _id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        Err(TransportError::MultiaddrNotSupported(addr))
    }

    fn remove_listener(&mut self, _id: ListenerId) -> bool {
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
        let Some(target) = DialTarget::parse(&addr) else {
            return Err(TransportError::MultiaddrNotSupported(addr));
        };
        let attempt = handshake::dial(target, self.config.clone());
        // The JS objects inside never leave the browser's one thread.
        Ok(SendWrapper::new(attempt).boxed())
    }

    fn poll(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        Poll::Pending
    }
}
