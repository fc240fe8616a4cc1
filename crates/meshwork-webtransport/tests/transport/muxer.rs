//! The transport and muxer without a swarm: many concurrent streams, and closing.

use std::{future::poll_fn, pin::Pin};

use crate::common::*;
use futures::{AsyncReadExt as _, AsyncWriteExt as _, FutureExt as _};
use libp2p::{
    core::{
        muxing::StreamMuxerExt as _,
        transport::{DialOpts, ListenerId, PortUse, Transport as _, TransportEvent},
        Endpoint,
    },
    identity::Keypair,
};
use meshwork_webtransport::{Config, Connection, Error, Transport};
use tokio::sync::mpsc;

const STREAMS: usize = 16;
const BYTES_PER_STREAM: usize = 200 * 1024;

async fn next_event(
    transport: &mut Transport,
) -> TransportEvent<<Transport as libp2p::core::Transport>::ListenerUpgrade, Error> {
    poll_fn(|cx| Pin::new(&mut *transport).poll(cx)).await
}

/// Accepts sessions and echoes every inbound stream; reports each session's end.
fn spawn_echo_listener(mut transport: Transport, ended: mpsc::Sender<Error>) {
    tokio::spawn(async move {
        loop {
            if let TransportEvent::Incoming { upgrade, .. } = next_event(&mut transport).await {
                let ended = ended.clone();
                tokio::spawn(async move {
                    let Ok((_, mut connection)) = upgrade.await else {
                        return;
                    };
                    loop {
                        match poll_fn(|cx| connection.poll_inbound_unpin(cx)).await {
                            Ok(mut stream) => {
                                tokio::spawn(async move {
                                    let mut data = Vec::new();
                                    stream.read_to_end(&mut data).await.expect("read");
                                    stream.write_all(&data).await.expect("write");
                                    stream.close().await.expect("close");
                                });
                            }
                            Err(error) => {
                                let _ = ended.send(error).await;
                                return;
                            }
                        }
                    }
                });
            }
        }
    });
}

#[tokio::test]
async fn many_concurrent_streams_then_close_ends_the_session() {
    let key = Keypair::generate_ed25519();
    let mut listener = Transport::new(Config::new(&key));
    listener
        .listen_on(ListenerId::next(), LOOPBACK.parse().unwrap())
        .expect("listen");
    let addr = within("the listen address", async {
        loop {
            if let TransportEvent::NewAddress { listen_addr, .. } = next_event(&mut listener).await
            {
                return listen_addr;
            }
        }
    })
    .await;
    let (ended_tx, mut ended) = mpsc::channel(4);
    spawn_echo_listener(listener, ended_tx);

    let dialer_key = Keypair::generate_ed25519();
    let mut dialer = Transport::new(Config::new(&dialer_key));
    let dial = dialer
        .dial(
            addr,
            DialOpts {
                role: Endpoint::Dialer,
                port_use: PortUse::New,
            },
        )
        .expect("dial starts");
    let (peer, mut connection): (_, Connection) = within("the dial", dial).await.expect("dial");
    assert_eq!(peer, key.public().to_peer_id());

    // Open all streams first, then run them at the same time.
    let mut streams = Vec::new();
    for _ in 0..STREAMS {
        streams.push(
            within("a stream", poll_fn(|cx| connection.poll_outbound_unpin(cx)))
                .await
                .expect("outbound stream"),
        );
    }
    let exchanges = streams.into_iter().enumerate().map(|(i, mut stream)| {
        async move {
            let payload: Vec<u8> = (0..BYTES_PER_STREAM)
                .map(|n| (n * 31 + i * 7) as u8)
                .collect();
            let (mut reader, mut writer) = stream_halves(&mut stream);
            let write = async {
                writer.write_all(&payload).await.expect("write");
                writer.close().await.expect("close");
            };
            let read = async {
                let mut echoed = Vec::new();
                reader.read_to_end(&mut echoed).await.expect("read");
                echoed
            };
            let ((), echoed) = futures::join!(write, read);
            assert_eq!(echoed.len(), payload.len(), "stream {i}");
            assert!(echoed == payload, "stream {i} echoed other bytes");
        }
        .boxed()
    });
    within("all echoes", futures::future::join_all(exchanges)).await;

    // Closing the connection closes the session on the other side.
    within("close", poll_fn(|cx| connection.poll_close_unpin(cx)))
        .await
        .expect("close");
    let error = within("the listener to see the session end", ended.recv())
        .await
        .expect("ended");
    assert!(matches!(error, Error::Session(_)), "{error:?}");
}

/// Splits a stream into a reader and a writer usable concurrently.
fn stream_halves(
    stream: &mut meshwork_webtransport::Stream,
) -> (
    futures::io::ReadHalf<&mut meshwork_webtransport::Stream>,
    futures::io::WriteHalf<&mut meshwork_webtransport::Stream>,
) {
    futures::AsyncReadExt::split(stream)
}
