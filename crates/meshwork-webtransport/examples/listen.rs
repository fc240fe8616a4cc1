//! Listens for WebTransport on loopback and prints each address and each session's outcome.
//!
//! `cargo run -p meshwork-webtransport --example listen [PORT]`

use std::{future::poll_fn, pin::Pin};

use libp2p::{
    core::transport::{ListenerId, Transport as _, TransportEvent},
    identity::Keypair,
    multiaddr::Protocol,
};
use meshwork_webtransport::{Config, Transport};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args().nth(1).map_or(Ok(0), |p| p.parse())?;
    let key = Keypair::generate_ed25519();
    let peer_id = key.public().to_peer_id();
    let mut transport = Transport::new(Config::new(&key));
    transport.listen_on(
        ListenerId::next(),
        format!("/ip4/127.0.0.1/udp/{port}/quic-v1/webtransport").parse()?,
    )?;
    loop {
        match poll_fn(|cx| Pin::new(&mut transport).poll(cx)).await {
            TransportEvent::NewAddress { listen_addr, .. } => {
                println!("address {}", listen_addr.with(Protocol::P2p(peer_id)));
            }
            TransportEvent::Incoming {
                upgrade,
                send_back_addr,
                ..
            } => {
                tokio::spawn(async move {
                    match upgrade.await {
                        Ok((peer, _connection)) => println!("session {send_back_addr} {peer}"),
                        Err(error) => println!("failed {send_back_addr} {error}"),
                    }
                });
            }
            other => println!("event {other:?}"),
        }
    }
}
