//! A raw WebTransport server (no libp2p: no Noise, no multistream-select) speaking the perf
//! protocol's framing on every bidirectional stream, for the benchmark's baseline: a page
//! measures it and the relay's `/perf/1.0.0` in the same run, and the ratio shows what the
//! libp2p layers cost.
//!
//! Per stream: read a big-endian u64 (bytes to send back), drain the upload to its end, send
//! that many bytes, finish. Sends at most 1 GiB per stream. Listens on 127.0.0.1 (port 0 or
//! the first argument) with a fresh 14-day ECDSA certificate and prints one JSON line:
//! `{"event":"ready","port":P,"certhash":"<hex SHA-256 of the certificate>"}`.
//! Runs until killed.

use std::net::{Ipv4Addr, SocketAddr};

use wtransport::{Endpoint, Identity, ServerConfig};

const MAX_BYTES: u64 = 1 << 30;
const CHUNK: usize = 64 * 1024;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(0);
    let identity = Identity::self_signed(["localhost", "127.0.0.1"])?;
    let hash = identity.certificate_chain().as_slice()[0].hash();
    let config = ServerConfig::builder()
        .with_bind_address(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .with_identity(identity)
        .build();
    let endpoint = Endpoint::server(config)?;
    let port = endpoint.local_addr()?.port();
    println!(
        "{{\"event\":\"ready\",\"port\":{port},\"certhash\":\"{}\"}}",
        hash.as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    loop {
        let incoming = endpoint.accept().await;
        tokio::spawn(async move {
            let Ok(request) = incoming.await else { return };
            let Ok(session) = request.accept().await else {
                return;
            };
            while let Ok((send, recv)) = session.accept_bi().await {
                tokio::spawn(serve_stream(send, recv));
            }
        });
    }
}

async fn serve_stream(mut send: wtransport::SendStream, mut recv: wtransport::RecvStream) {
    let mut header = [0u8; 8];
    if recv.read_exact(&mut header).await.is_err() {
        return;
    }
    let download = u64::from_be_bytes(header).min(MAX_BYTES);
    let mut buffer = vec![0u8; CHUNK];
    while let Ok(Some(_)) = recv.read(&mut buffer).await {}
    let zeros = vec![0u8; CHUNK];
    let mut remaining = download;
    while remaining > 0 {
        let n = remaining.min(CHUNK as u64) as usize;
        if send.write_all(&zeros[..n]).await.is_err() {
            return;
        }
        remaining -= n as u64;
    }
    let _ = send.finish().await;
}
