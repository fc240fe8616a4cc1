//! A raw WebTransport client (no libp2p) against a listening swarm: garbage in the handshake,
//! wrong paths, stalled handshakes, too many pending sessions. After each, a good dial works.

use std::time::Duration;

use crate::common::*;
use libp2p::{identity::Keypair, multiaddr::Protocol};
use meshwork_webtransport::Config;
use wtransport::{
    error::{ConnectingError, ConnectionError},
    tls::Sha256Digest,
    ClientConfig, Endpoint,
};

fn raw_client(listener: &Listening) -> Endpoint<wtransport::endpoint::endpoint_side::Client> {
    let hashes = certhashes(&listener.addr)
        .iter()
        .map(|h| Sha256Digest::new(digest(h)))
        .collect::<Vec<_>>();
    let config = ClientConfig::builder()
        .with_bind_default()
        .with_server_certificate_hashes(hashes)
        .build();
    Endpoint::client(config).expect("client endpoint")
}

fn url(listener: &Listening, path: &str) -> String {
    format!("https://127.0.0.1:{}{path}", port(&listener.addr))
}

/// The session was closed by the listener with code 1 and `reason`.
fn assert_closed_by_handshake_failure(closed: &ConnectionError, reason: &str) {
    match closed {
        ConnectionError::ApplicationClosed(close) => {
            assert_eq!(close.code(), 1u32.into(), "{closed:?}");
            assert_eq!(close.reason(), reason.as_bytes(), "{closed:?}");
        }
        other => panic!("expected an application close, got {other:?}"),
    }
}

const LIBP2P_PATH: &str = "/.well-known/libp2p-webtransport?type=noise";

async fn good_dial_works(listener: &Listening) {
    let key = Keypair::generate_ed25519();
    let mut dialer = swarm(key.clone(), Config::new(&key));
    let addr = listener.addr.clone().with(Protocol::P2p(listener.peer_id));
    dial_and_ping(&mut dialer, addr, listener.peer_id).await;
}

#[tokio::test]
async fn garbage_on_the_handshake_stream_closes_only_that_session() {
    let key = Keypair::generate_ed25519();
    let listener = listen(key.clone(), Config::new(&key)).await;

    let client = raw_client(&listener);
    let session = client
        .connect(url(&listener, LIBP2P_PATH))
        .await
        .expect("the CONNECT is accepted");
    let (mut send, _recv) = session.open_bi().await.expect("open").await.expect("open");
    // A 4-byte Noise frame: far too short for the initiator's ephemeral key.
    send.write_all(&[0x00, 0x04, 0xde, 0xad, 0xbe, 0xef])
        .await
        .expect("write");
    let closed = within("the listener to close the session", session.closed()).await;
    assert_closed_by_handshake_failure(&closed, "handshake failed");

    good_dial_works(&listener).await;
}

#[tokio::test]
async fn other_paths_get_404_and_the_listener_keeps_serving() {
    let key = Keypair::generate_ed25519();
    let listener = listen(key.clone(), Config::new(&key)).await;
    let client = raw_client(&listener);

    for path in [
        "/",
        "/.well-known/libp2p-webtransport",
        "/.well-known/libp2p-webtransport?type=tls",
        "/other?type=noise",
    ] {
        match within("the answer", client.connect(url(&listener, path))).await {
            Err(ConnectingError::SessionRejected) => {}
            other => panic!("{path}: expected a rejection, got {other:?}"),
        }
    }

    good_dial_works(&listener).await;
}

#[tokio::test]
async fn a_silent_client_is_dropped_at_the_handshake_timeout() {
    let key = Keypair::generate_ed25519();
    let config = Config::new(&key).with_handshake_timeout(Duration::from_millis(500));
    let listener = listen(key, config).await;

    let client = raw_client(&listener);
    let session = client
        .connect(url(&listener, LIBP2P_PATH))
        .await
        .expect("the CONNECT is accepted");
    let started = tokio::time::Instant::now();
    let closed = within("the listener to drop the session", session.closed()).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert_closed_by_handshake_failure(&closed, "handshake timeout");

    good_dial_works(&listener).await;
}

#[tokio::test]
async fn sessions_beyond_the_pending_limit_are_refused() {
    let key = Keypair::generate_ed25519();
    let config = Config::new(&key)
        .with_max_pending_sessions(1)
        .with_handshake_timeout(Duration::from_secs(30));
    let listener = listen(key, config).await;
    let client = raw_client(&listener);

    // The first session stays in the handshake, holding the only pending slot.
    let first = client
        .connect(url(&listener, LIBP2P_PATH))
        .await
        .expect("first CONNECT accepted");
    // A second one is refused at the QUIC level.
    let second = within(
        "the second attempt",
        client.connect(url(&listener, LIBP2P_PATH)),
    )
    .await;
    let refused = format!(
        "{:?}",
        second.expect_err("a second pending session was accepted")
    );
    assert!(refused.contains("CONNECTION_REFUSED"), "{refused}");

    // Once the first goes away, the slot is free again.
    first.close(0u32.into(), b"bye");
    within("the slot to free up", async {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Ok(session) = client.connect(url(&listener, LIBP2P_PATH)).await {
                session.close(0u32.into(), b"bye");
                return;
            }
        }
    })
    .await;
    // Let the listener notice that probe session's end before the real dial.
    tokio::time::sleep(Duration::from_millis(300)).await;
    good_dial_works(&listener).await;
}
