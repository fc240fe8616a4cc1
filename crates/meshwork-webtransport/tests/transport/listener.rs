//! Listener lifecycle: interface expansion of an unspecified address, removal.

use crate::common::*;
use futures::StreamExt as _;
use libp2p::{identity::Keypair, multiaddr::Protocol, ping, swarm::SwarmEvent, Multiaddr, Swarm};
use meshwork_webtransport::Config;

fn new_swarm() -> Swarm<ping::Behaviour> {
    let key = Keypair::generate_ed25519();
    swarm(key.clone(), Config::new(&key))
}

#[tokio::test]
async fn an_unspecified_address_is_expanded_to_interface_addresses() {
    let mut listener = new_swarm();
    listener
        .listen_on("/ip4/0.0.0.0/udp/0/quic-v1/webtransport".parse().unwrap())
        .expect("listen");
    let loopback = until(&mut listener, "the loopback address", |e| match e {
        SwarmEvent::NewListenAddr { address, .. } => {
            assert!(
                !address.to_string().starts_with("/ip4/0.0.0.0"),
                "reported the unspecified address {address}"
            );
            assert_eq!(certhashes(&address).len(), 2);
            address
                .to_string()
                .starts_with("/ip4/127.0.0.1/udp/")
                .then_some(address)
        }
        _ => None,
    })
    .await;
    assert_ne!(port(&loopback), 0);

    // That address is dialable.
    let peer = *listener.local_peer_id();
    let mut dialer = new_swarm();
    dialer
        .dial(loopback.with(Protocol::P2p(peer)))
        .expect("dial starts");
    drive_both(&mut listener, &mut dialer, "a ping", |side, e| {
        match (side, e) {
            (Side::Dialer, SwarmEvent::Behaviour(ping::Event { result: Ok(_), .. })) => Some(()),
            (_, SwarmEvent::OutgoingConnectionError { error, .. }) => panic!("{error:?}"),
            _ => None,
        }
    })
    .await;
}

#[tokio::test]
async fn removing_the_listener_refuses_new_sessions_and_keeps_established_ones() {
    let mut listener = new_swarm();
    let id = listener
        .listen_on(LOOPBACK.parse().unwrap())
        .expect("listen");
    let addr: Multiaddr = until(&mut listener, "an address", |e| match e {
        SwarmEvent::NewListenAddr { address, .. } => Some(address),
        _ => None,
    })
    .await;
    let peer = *listener.local_peer_id();

    let mut dialer = new_swarm();
    dialer
        .dial(addr.clone().with(Protocol::P2p(peer)))
        .expect("dial starts");
    let connection = drive_both(&mut listener, &mut dialer, "a ping", |side, e| {
        match (side, e) {
            (
                Side::Dialer,
                SwarmEvent::Behaviour(ping::Event {
                    connection,
                    result: Ok(_),
                    ..
                }),
            ) => Some(connection),
            _ => None,
        }
    })
    .await;

    assert!(listener.remove_listener(id));
    drive_both(
        &mut listener,
        &mut dialer,
        "the listener to close",
        |side, e| match (side, e) {
            (Side::Listener, SwarmEvent::ListenerClosed { listener_id, .. }) => {
                (listener_id == id).then_some(())
            }
            _ => None,
        },
    )
    .await;
    assert_eq!(listener.listeners().count(), 0);

    // The established session carries on.
    for _ in 0..3 {
        drive_both(
            &mut listener,
            &mut dialer,
            "a ping after removal",
            |side, e| match (side, e) {
                (
                    Side::Dialer,
                    SwarmEvent::Behaviour(ping::Event {
                        connection: c,
                        result: Ok(_),
                        ..
                    }),
                ) if c == connection => Some(()),
                (_, SwarmEvent::ConnectionClosed { .. }) => {
                    panic!("the session closed with the listener")
                }
                _ => None,
            },
        )
        .await;
    }

    // New sessions are refused.
    let mut late = new_swarm();
    late.dial(addr.with(Protocol::P2p(peer)))
        .expect("dial starts");
    let error = until(&mut late, "the late dial to fail", |e| match e {
        SwarmEvent::OutgoingConnectionError { error, .. } => Some(format!("{error:?}")),
        SwarmEvent::ConnectionEstablished { .. } => panic!("a removed listener accepted"),
        _ => None,
    })
    .await;
    assert!(error.contains("CONNECTION_REFUSED"), "{error}");
}

#[derive(Clone, Copy, Debug)]
enum Side {
    Listener,
    Dialer,
}

/// Drives both swarms until `f` picks an event of either.
async fn drive_both<T>(
    listener: &mut Swarm<ping::Behaviour>,
    dialer: &mut Swarm<ping::Behaviour>,
    what: &str,
    mut f: impl FnMut(Side, Event) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            let found = tokio::select! {
                e = listener.select_next_some() => f(Side::Listener, e),
                e = dialer.select_next_some() => f(Side::Dialer, e),
            };
            if let Some(found) = found {
                return found;
            }
        }
    })
    .await
}
