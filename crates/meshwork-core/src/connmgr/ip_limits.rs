//! A limit on inbound connections per remote IP address (`limits.maxConnectionsPerIp`), so one
//! host cannot take every slot. Relayed connections are not counted (their address is the
//! relay's); loopback can be exempted (a reverse proxy on the same host, local tests).

use std::{
    collections::HashMap,
    convert::Infallible,
    net::IpAddr,
    task::{Context, Poll},
};

use libp2p::{
    core::{transport::PortUse, Endpoint},
    multiaddr::Protocol,
    swarm::{
        dummy, ConnectionClosed, ConnectionDenied, ConnectionId, FromSwarm, ListenFailure,
        NetworkBehaviour, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
    },
    Multiaddr, PeerId,
};

/// Refusal: this address already has `limit` inbound connections.
#[derive(Debug, thiserror::Error)]
#[error("{ip} already has {limit} inbound connections (limits.maxConnectionsPerIp)")]
pub struct TooManyFromIp {
    ip: IpAddr,
    limit: u32,
}

/// Counts inbound connections (pending and established) per IP address and refuses beyond the
/// limit. Its maps hold at most the pending plus established inbound connections.
#[derive(Debug)]
pub struct IpLimits {
    max_per_ip: u32,
    exempt_loopback: bool,
    by_connection: HashMap<ConnectionId, IpAddr>,
    counts: HashMap<IpAddr, u32>,
}

/// The IP a direct connection comes from; `None` for relayed or non-IP addresses.
fn source_ip(address: &Multiaddr) -> Option<IpAddr> {
    if address.iter().any(|p| p == Protocol::P2pCircuit) {
        return None;
    }
    match address.iter().next()? {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    }
}

impl IpLimits {
    /// At most `max_per_ip` inbound connections per address (0: no limit).
    pub fn new(max_per_ip: u32, exempt_loopback: bool) -> Self {
        Self {
            max_per_ip,
            exempt_loopback,
            by_connection: HashMap::new(),
            counts: HashMap::new(),
        }
    }

    fn release(&mut self, id: ConnectionId) {
        let Some(ip) = self.by_connection.remove(&id) else {
            return;
        };
        if let Some(n) = self.counts.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.counts.remove(&ip);
            }
        }
    }
}

impl NetworkBehaviour for IpLimits {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        id: ConnectionId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        if self.max_per_ip == 0 {
            return Ok(());
        }
        let Some(ip) = source_ip(remote) else {
            return Ok(());
        };
        if self.exempt_loopback && ip.is_loopback() {
            return Ok(());
        }
        let count = self.counts.entry(ip).or_default();
        if *count >= self.max_per_ip {
            return Err(ConnectionDenied::new(TooManyFromIp {
                ip,
                limit: self.max_per_ip,
            }));
        }
        *count += 1;
        self.by_connection.insert(id, ip);
        Ok(())
    }

    fn handle_established_inbound_connection(
        &mut self,
        _id: ConnectionId,
        _peer: PeerId,
        _local: &Multiaddr,
        _remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _id: ConnectionId,
        _peer: PeerId,
        _addr: &Multiaddr,
        _role: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionClosed(ConnectionClosed { connection_id, .. })
            | FromSwarm::ListenFailure(ListenFailure { connection_id, .. }) => {
                self.release(connection_id)
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _peer: PeerId,
        _id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(ip: &str) -> Multiaddr {
        format!("/ip4/{ip}/tcp/4000").parse().unwrap()
    }

    #[test]
    fn refuses_beyond_the_limit_and_frees_on_failure() {
        let mut limits = IpLimits::new(2, true);
        let local = remote("10.0.0.1");
        let (a, b, c) = (
            ConnectionId::new_unchecked(1),
            ConnectionId::new_unchecked(2),
            ConnectionId::new_unchecked(3),
        );
        assert!(limits
            .handle_pending_inbound_connection(a, &local, &remote("10.0.0.9"))
            .is_ok());
        assert!(limits
            .handle_pending_inbound_connection(b, &local, &remote("10.0.0.9"))
            .is_ok());
        assert!(limits
            .handle_pending_inbound_connection(c, &local, &remote("10.0.0.9"))
            .is_err());
        assert!(limits
            .handle_pending_inbound_connection(c, &local, &remote("10.0.0.8"))
            .is_ok());
        limits.release(a);
        assert!(limits
            .handle_pending_inbound_connection(
                ConnectionId::new_unchecked(4),
                &local,
                &remote("10.0.0.9")
            )
            .is_ok());
    }

    #[test]
    fn loopback_and_relayed_are_exempt() {
        let mut limits = IpLimits::new(1, true);
        let local = remote("127.0.0.1");
        for i in 0..5 {
            assert!(limits
                .handle_pending_inbound_connection(
                    ConnectionId::new_unchecked(i),
                    &local,
                    &remote("127.0.0.1")
                )
                .is_ok());
        }
        let relayed: Multiaddr = "/ip4/10.0.0.9/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit"
            .parse()
            .unwrap();
        assert_eq!(source_ip(&relayed), None);
        assert!(limits.counts.is_empty());
    }
}
