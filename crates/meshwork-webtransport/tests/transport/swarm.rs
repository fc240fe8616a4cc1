//! Two swarms over the transport on loopback: ping, bad certificates, rotation.

use std::time::Duration;

use crate::common::*;
use libp2p::{
    identity::Keypair,
    multiaddr::Protocol,
    ping,
    swarm::{dial_opts::DialOpts, SwarmEvent},
    PeerId,
};
use meshwork_webtransport::{certificate::CertificateManager, Config};

#[tokio::test]
async fn native_dialer_pings_listener_on_port_0() {
    let key = Keypair::generate_ed25519();
    let mut listener = listen(key.clone(), Config::new(&key)).await;

    // The reported address has the real port and the current and next certificate hashes.
    assert_ne!(port(&listener.addr), 0);
    let hashes = certhashes(&listener.addr);
    assert_eq!(hashes.len(), 2);
    assert_ne!(hashes[0], hashes[1]);
    assert!(listener.addr.to_string().starts_with("/ip4/127.0.0.1/udp/"));

    let dialer_key = Keypair::generate_ed25519();
    let mut dialer = swarm(dialer_key.clone(), Config::new(&dialer_key));
    let addr = listener.addr.clone().with(Protocol::P2p(listener.peer_id));
    dial_and_ping(&mut dialer, addr, listener.peer_id).await;

    let dialer_id = dialer_key.public().to_peer_id();
    until_rx(
        &mut listener.events,
        "the inbound connection",
        |e| match e {
            SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == dialer_id => Some(()),
            _ => None,
        },
    )
    .await;
}

#[tokio::test]
async fn bad_certhashes_fail_and_the_listener_keeps_serving() {
    let key = Keypair::generate_ed25519();
    let listener = listen(key.clone(), Config::new(&key)).await;
    let good = certhashes(&listener.addr);
    let base = without_certhashes(&listener.addr);

    let dialer_key = Keypair::generate_ed25519();
    let mut dialer = swarm(dialer_key.clone(), Config::new(&dialer_key));

    // 1. A hash that is no certificate's: the TLS handshake fails.
    let wrong = base.clone().with(Protocol::Certhash(bogus_hash(1)));
    let error = dial_expecting_error(&mut dialer, wrong).await;
    assert!(error.contains("invalid peer certificate"), "{error}");

    // 2. The served certificate plus a hash the listener does not have: TLS passes, the Noise
    //    check that the dialed hashes are a subset of the listener's fails.
    let extra = base
        .clone()
        .with(Protocol::Certhash(good[0]))
        .with(Protocol::Certhash(bogus_hash(2)));
    let error = dial_expecting_error(&mut dialer, extra).await;
    assert!(error.contains("UnknownWebTransportCerthashes"), "{error}");

    // 3. The right hashes but another peer ID.
    let impostor = listener.addr.clone().with(Protocol::P2p(PeerId::random()));
    let error = dial_expecting_error(&mut dialer, impostor).await;
    assert!(error.contains("PeerIdMismatch"), "{error}");

    // 4. The listener still serves a good dial.
    let addr = listener.addr.clone().with(Protocol::P2p(listener.peer_id));
    dial_and_ping(&mut dialer, addr, listener.peer_id).await;
}

async fn dial_expecting_error(
    dialer: &mut libp2p::Swarm<ping::Behaviour>,
    addr: libp2p::Multiaddr,
) -> String {
    let opts = match addr.iter().last() {
        Some(Protocol::P2p(peer)) => DialOpts::peer_id(peer).addresses(vec![addr]).build(),
        _ => DialOpts::unknown_peer_id().address(addr).build(),
    };
    let id = opts.connection_id();
    dialer.dial(opts).expect("dial starts");
    until(dialer, "the dial to fail", |event| match event {
        SwarmEvent::OutgoingConnectionError {
            connection_id,
            error,
            ..
        } if connection_id == id => Some(format!("{error:?}")),
        SwarmEvent::ConnectionEstablished { connection_id, .. } if connection_id == id => {
            panic!("a bad dial succeeded")
        }
        _ => None,
    })
    .await
}

#[tokio::test]
async fn a_session_survives_rotation_and_the_new_address_is_dialable() {
    let clock = ManualClock::new();
    let key = Keypair::generate_ed25519();
    let config = Config::new(&key)
        .with_clock(clock.clone())
        .with_rotation_check_interval(Duration::from_millis(50));
    // Deterministic: a manager built beside the transport holds the same certificates.
    let twin = CertificateManager::new(&config).expect("manager");
    let mut listener = listen(key.clone(), config).await;
    let first = listener.addr.clone();
    assert_eq!(certhashes(&first), twin.advertised_hashes());

    // The dialer shares the clock: it checks certificate validity at the simulated time.
    let dialer_key = Keypair::generate_ed25519();
    let mut dialer = swarm(
        dialer_key.clone(),
        Config::new(&dialer_key).with_clock(clock.clone()),
    );
    let peer = listener.peer_id;
    dial_and_ping(&mut dialer, first.clone().with(Protocol::P2p(peer)), peer).await;
    let old_connection = until(&mut dialer, "a ping on the first connection", |e| match e {
        SwarmEvent::Behaviour(ping::Event {
            connection,
            result: Ok(_),
            ..
        }) => Some(connection),
        _ => None,
    })
    .await;

    // Move the clock to the next window: the listener replaces its address.
    clock.advance(twin.schedule().period());
    let expired = until_rx(
        &mut listener.events,
        "the old address to expire",
        |e| match e {
            SwarmEvent::ExpiredListenAddr { address, .. } => Some(address),
            _ => None,
        },
    )
    .await;
    assert_eq!(expired, first);
    let second = until_rx(&mut listener.events, "the new address", |e| match e {
        SwarmEvent::NewListenAddr { address, .. } => Some(address),
        _ => None,
    })
    .await;
    let (old, new) = (certhashes(&first), certhashes(&second));
    assert_eq!(new.len(), 2);
    assert_eq!(new[0], old[1], "the next certificate became current");
    assert!(!old.contains(&new[1]));
    assert_eq!(without_certhashes(&first), without_certhashes(&second));

    // The session from before the rotation carries on.
    for _ in 0..3 {
        until(&mut dialer, "a ping on the old session", |e| match e {
            SwarmEvent::Behaviour(ping::Event {
                connection,
                result: Ok(_),
                ..
            }) if connection == old_connection => Some(()),
            SwarmEvent::ConnectionClosed { connection_id, .. }
                if connection_id == old_connection =>
            {
                panic!("the old session closed at rotation")
            }
            _ => None,
        })
        .await;
    }

    // A new dial with the new hashes succeeds (a second connection to the same peer).
    let opts = DialOpts::peer_id(peer)
        .addresses(vec![second.clone()])
        .condition(libp2p::swarm::dial_opts::PeerCondition::Always)
        .build();
    let id = opts.connection_id();
    dialer.dial(opts).expect("dial starts");
    let established = until(&mut dialer, "the second connection", |e| match e {
        SwarmEvent::ConnectionEstablished {
            connection_id,
            num_established,
            ..
        } if connection_id == id => Some(num_established.get()),
        SwarmEvent::OutgoingConnectionError { error, .. } => {
            panic!("dial with the new hashes failed: {error:?}")
        }
        _ => None,
    })
    .await;
    assert_eq!(established, 2);

    // An address from before the rotation still works too (its next hash is now current).
    let opts = DialOpts::peer_id(peer)
        .addresses(vec![first])
        .condition(libp2p::swarm::dial_opts::PeerCondition::Always)
        .build();
    let id = opts.connection_id();
    dialer.dial(opts).expect("dial starts");
    until(
        &mut dialer,
        "a connection with the old address",
        |e| match e {
            SwarmEvent::ConnectionEstablished { connection_id, .. } if connection_id == id => {
                Some(())
            }
            SwarmEvent::OutgoingConnectionError { error, .. } => {
                panic!("dial with the pre-rotation address failed: {error:?}")
            }
            _ => None,
        },
    )
    .await;
}
