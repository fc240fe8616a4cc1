//! TLS and QUIC settings for both sides, with ring passed explicitly as the crypto provider.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, UNIX_EPOCH},
};

use rustls::{
    crypto::CryptoProvider,
    pki_types::UnixTime,
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
    time_provider::TimeProvider,
};
use wtransport::{
    quinn::{
        self,
        crypto::rustls::{QuicClientConfig, QuicServerConfig},
        IdleTimeout, VarInt,
    },
    tls::{client::ServerHashVerification, Sha256Digest, WEBTRANSPORT_ALPN},
};

use crate::{certificate::CertificateManager, clock::Clock, config::Config, error::Error};

/// Bidirectional streams of a session that are not libp2p streams: the HTTP/3 CONNECT stream
/// and the Noise handshake stream.
const EXTRA_BIDI_STREAMS: u32 = 2;
/// Unidirectional streams the remote may have open: HTTP/3 control and QPACK encoder/decoder,
/// plus a few WebTransport ones, which are refused as they arrive.
const MAX_UNI_STREAMS: u32 = 8;
/// Receive buffer for datagrams, which are not used (HTTP/3 datagram support is still
/// negotiated, as browsers expect): 64 KiB, older ones dropped first.
const DATAGRAM_RECEIVE_BUFFER: usize = 64 * 1024;

/// The crypto provider every TLS configuration of this crate uses.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The QUIC server configuration of a listener: TLS 1.3, ALPN `h3`, the manager's current
/// certificate for each new handshake.
pub(crate) fn server_config(
    config: &Config,
    certs: Arc<CertificateManager>,
) -> Result<quinn::ServerConfig, Error> {
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(CurrentCertificate(certs)));
    tls.alpn_protocols = vec![WEBTRANSPORT_ALPN.to_vec()];
    let crypto = QuicServerConfig::try_from(tls).map_err(|e| Error::Tls(e.to_string()))?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    server.transport_config(Arc::new(transport_config(config)?));
    server.max_incoming(config.max_pending_sessions);
    Ok(server)
}

/// The WebTransport client configuration of one dial: accept only a certificate whose SHA-256 is
/// one of `sha256`, checking its validity against the configured clock.
pub(crate) fn client_config(
    config: &Config,
    sha256: &[[u8; 32]],
    bind: SocketAddr,
) -> Result<wtransport::ClientConfig, Error> {
    let verifier = ServerHashVerification::new(sha256.iter().copied().map(Sha256Digest::new));
    let mut tls = rustls::ClientConfig::builder_with_details(
        provider(),
        Arc::new(ClockTime(config.clock.clone())),
    )
    .with_protocol_versions(&[&rustls::version::TLS13])
    .map_err(|e| Error::Tls(e.to_string()))?
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(verifier))
    .with_no_client_auth();
    tls.alpn_protocols = vec![WEBTRANSPORT_ALPN.to_vec()];
    let crypto = QuicClientConfig::try_from(tls).map_err(|e| Error::Tls(e.to_string()))?;
    let mut client = quinn::ClientConfig::new(Arc::new(crypto));
    client.transport_config(Arc::new(transport_config(config)?));
    Ok(wtransport::ClientConfig::builder()
        .with_bind_address(bind)
        .build_with_quic_config(client))
}

/// Stream limits, idle timeout and keep-alive shared by both sides.
fn transport_config(config: &Config) -> Result<quinn::TransportConfig, Error> {
    let mut transport = quinn::TransportConfig::default();
    let idle = IdleTimeout::try_from(config.idle_timeout)
        .map_err(|_| Error::InvalidConfig("idle timeout too large".into()))?;
    transport
        .max_idle_timeout(Some(idle))
        .keep_alive_interval(Some(
            (config.idle_timeout / 3).max(Duration::from_millis(100)),
        ))
        .max_concurrent_bidi_streams(VarInt::from_u32(
            config
                .max_streams_per_session
                .saturating_add(EXTRA_BIDI_STREAMS),
        ))
        .max_concurrent_uni_streams(VarInt::from_u32(MAX_UNI_STREAMS))
        .datagram_receive_buffer_size(Some(DATAGRAM_RECEIVE_BUFFER));
    Ok(transport)
}

/// Serves whatever certificate the manager holds as current at the time of the handshake.
#[derive(Debug)]
struct CurrentCertificate(Arc<CertificateManager>);

impl ResolvesServerCert for CurrentCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.current().certified_key.clone())
    }
}

/// The configured [`Clock`] as rustls' notion of "now" (for certificate validity).
#[derive(Clone)]
struct ClockTime(Arc<dyn Clock>);

impl std::fmt::Debug for ClockTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClockTime")
    }
}

impl TimeProvider for ClockTime {
    fn current_time(&self) -> Option<UnixTime> {
        let since_epoch = self.0.now().duration_since(UNIX_EPOCH).ok()?;
        Some(UnixTime::since_unix_epoch(since_epoch))
    }
}
