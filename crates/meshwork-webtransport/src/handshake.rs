//! Turning a QUIC connection into an authenticated session: HTTP/3 CONNECT, then Noise XX on the
//! first bidirectional stream, without multistream-select and with an empty prologue.

use std::{
    collections::HashSet,
    future::Future,
    net::{Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use libp2p::{
    core::upgrade::{InboundConnectionUpgrade as _, OutboundConnectionUpgrade as _},
    identity::Keypair,
    multihash::Multihash,
    noise, PeerId,
};
use tokio::time::Instant;
use wtransport::{endpoint::IncomingSessionFuture, quinn, Endpoint, VarInt};

use crate::{
    addr::{is_libp2p_path, DialTarget},
    certificate::CertificateManager,
    config::Config,
    connection::Connection,
    error::Error,
    stream::Stream,
};

/// The protocol name handed to the Noise upgrade (not sent: no multistream-select here).
const NOISE_PROTOCOL: &str = "/noise";
/// The application error code sent when the libp2p handshake fails.
pub(crate) const CLOSE_HANDSHAKE_FAILED: u32 = 1;

/// The listener side: answer the CONNECT (404 unless it asks for the libp2p endpoint), then run
/// the Noise responder on the client's first bidirectional stream, sending our certificate
/// hashes in the Noise extensions.
///
/// Everything must be done within `timeout`; a session that is not authenticated by then is
/// closed with [`CLOSE_HANDSHAKE_FAILED`].
pub(crate) async fn inbound(
    incoming: quinn::Incoming,
    keypair: Keypair,
    certs: Arc<CertificateManager>,
    timeout: Duration,
) -> Result<(PeerId, Connection), Error> {
    let deadline = deadline_after(timeout);
    let request = within(
        deadline,
        IncomingSessionFuture::with_quic_incoming(incoming),
    )
    .await??;
    let path = request.path().to_owned();
    if !is_libp2p_path(&path) {
        tracing::debug!(%path, remote = %request.remote_address(), "answering 404");
        // Wait (within the deadline) until the client has the answer, then drop the connection.
        let _ = within(deadline, request.not_found()).await;
        return Err(Error::NotFound(path));
    }
    let session = within(deadline, request.accept()).await??;
    let result = within(
        deadline,
        respond(&session, &keypair, certs.handshake_hashes()),
    )
    .await;
    match result.and_then(|r| r) {
        Ok((peer_id, handshake_stream)) => {
            tokio::spawn(linger(handshake_stream));
            Ok((peer_id, Connection::new(session, None)))
        }
        Err(error) => Err(fail(&session, error)),
    }
}

/// How long the listener keeps the Noise stream after the handshake, waiting for the client to
/// close its side.
const HANDSHAKE_STREAM_LINGER: Duration = Duration::from_secs(10);

/// Ends the listener's side of the Noise stream gracefully: FIN ours, then read until the
/// client's FIN (bounded by [`HANDSHAKE_STREAM_LINGER`]) before dropping it.
///
/// Dropping it at once sends STOP_SENDING; a browser that closes its side afterwards (js-libp2p
/// does) then sees its close fail, and Chromium fails the whole session ("Received
/// STOP_SENDING"): about one js-libp2p dial in five.
async fn linger(mut stream: noise::Output<Stream>) {
    use futures::{AsyncReadExt, AsyncWriteExt};
    let drain = async {
        stream.close().await?;
        let mut buf = [0u8; 64];
        while stream.read(&mut buf).await? > 0 {}
        Ok::<_, std::io::Error>(())
    };
    if let Ok(Err(error)) = tokio::time::timeout(HANDSHAKE_STREAM_LINGER, drain).await {
        tracing::trace!(%error, "Noise stream ended uncleanly after the handshake");
    }
}

/// The dialer side: connect with the certificate pinned to the address's hashes, open the first
/// bidirectional stream, run the Noise initiator (which checks the address's hashes are a
/// subset of those the listener sends), and check the peer ID if the address has one.
///
/// Everything must be done within the configured handshake timeout.
pub(crate) async fn outbound(
    target: DialTarget,
    config: Config,
) -> Result<(PeerId, Connection), Error> {
    let deadline = deadline_after(config.handshake_timeout);
    let bind = match target.socket_addr {
        SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
    };
    let endpoint = Endpoint::client(crate::tls::client_config(&config, &target.sha256, bind)?)?;
    let session = within(deadline, endpoint.connect(target.url())).await??;
    let result = within(
        deadline,
        initiate(&session, &config.keypair, target.certhashes),
    )
    .await;
    let result = result
        .and_then(|r| r)
        .and_then(|(peer_id, stream)| match target.peer_id {
            Some(expected) if expected != peer_id => Err(Error::PeerIdMismatch {
                expected: Box::new(expected),
                actual: Box::new(peer_id),
            }),
            _ => Ok((peer_id, stream)),
        });
    match result {
        Ok((peer_id, handshake_stream)) => {
            tokio::spawn(linger(handshake_stream));
            Ok((peer_id, Connection::new(session, Some(endpoint))))
        }
        Err(error) => Err(fail(&session, error)),
    }
}

/// Closes a session whose libp2p handshake failed, telling the remote why.
fn fail(session: &wtransport::Connection, error: Error) -> Error {
    let reason: &[u8] = match error {
        Error::HandshakeTimeout => b"handshake timeout",
        _ => b"handshake failed",
    };
    session.close(VarInt::from_u32(CLOSE_HANDSHAKE_FAILED), reason);
    error
}

/// `timeout` from now (a year at most, so that no setting can overflow the clock).
fn deadline_after(timeout: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    Instant::now() + timeout.min(YEAR)
}

/// `future`, or [`Error::HandshakeTimeout`] at `deadline`.
async fn within<T>(deadline: Instant, future: impl Future<Output = T>) -> Result<T, Error> {
    tokio::time::timeout_at(deadline, future)
        .await
        .map_err(|_| Error::HandshakeTimeout)
}

async fn respond(
    session: &wtransport::Connection,
    keypair: &Keypair,
    certhashes: HashSet<Multihash<64>>,
) -> Result<(PeerId, noise::Output<Stream>), Error> {
    let (send, recv) = session.accept_bi().await?;
    let noise = noise::Config::new(keypair)?.with_webtransport_certhashes(certhashes);
    Ok(noise
        .upgrade_inbound(Stream::new(send, recv), NOISE_PROTOCOL)
        .await?)
}

async fn initiate(
    session: &wtransport::Connection,
    keypair: &Keypair,
    certhashes: HashSet<Multihash<64>>,
) -> Result<(PeerId, noise::Output<Stream>), Error> {
    let (send, recv) = session.open_bi().await?.await?;
    let noise = noise::Config::new(keypair)?.with_webtransport_certhashes(certhashes);
    Ok(noise
        .upgrade_outbound(Stream::new(send, recv), NOISE_PROTOCOL)
        .await?)
}
