//! The dial: from a parsed address to an authenticated [`Connection`].
//!
//! Steps ([WebRTC-direct spec](https://github.com/libp2p/specs/blob/master/webrtc/webrtc-direct.md)):
//! 1. create the peer connection (handlers attached, see [`PeerConnection::new`]);
//! 2. create the negotiated data channel 0 for Noise, before the offer, so the offer carries an
//!    SCTP section;
//! 3. create the offer, read the local certificate fingerprint from it, replace its ICE
//!    credentials with a random `libp2p+webrtc+v1/` ufrag, set it as the local description;
//! 4. synthesize the listener's answer from its address, certhash and the same ufrag, set it as
//!    the remote description (ICE and DTLS start);
//! 5. run Noise on channel 0 as the *responder* (the listener initiates), with the two
//!    fingerprints as prologue; stop early if the peer connection fails.
//!
//! The whole dial is bounded by [`Limits::handshake_timeout_ms`].

use std::{future::Future, pin::pin};

use futures::future::{self, Either};
use gloo_timers::future::TimeoutFuture;
use libp2p::PeerId;
use libp2p_webrtc_utils::noise;

use super::{connection::Connection, peer::PeerConnection, stream, Mode};
use crate::{dial_target::DialTarget, sdp, Config, Error, Limits};

/// The id of the pre-negotiated data channel that carries the Noise handshake.
const NOISE_CHANNEL_ID: u16 = 0;

/// Dials `target`, failing with [`Error::HandshakeTimeout`] after the configured time.
///
/// On any failure (and on timeout, or when the returned future is dropped) the peer connection
/// is closed.
pub(crate) async fn dial(
    target: DialTarget,
    config: Config,
) -> Result<(PeerId, Connection), Error> {
    let limits = config.limits().normalized();
    let socket = target.socket;
    let result = within_handshake_timeout(limits, establish(target, config)).await;
    if let Err(Error::HandshakeTimeout(_)) = &result {
        tracing::debug!(address = %socket, "WebRTC-direct dial timed out");
    }
    result
}

/// Runs `attempt` within [`Limits::handshake_timeout_ms`], failing with
/// [`Error::HandshakeTimeout`]; the attempt (and the peer connection it owns) is dropped then.
/// Both WebRTC-direct and browser-to-browser connections are bounded by it.
pub(crate) async fn within_handshake_timeout<T>(
    limits: Limits,
    attempt: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let deadline = TimeoutFuture::new(limits.handshake_timeout_ms);
    match future::select(pin!(attempt), deadline).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => Err(Error::HandshakeTimeout(limits.handshake_timeout())),
    }
}

async fn establish(target: DialTarget, config: Config) -> Result<(PeerId, Connection), Error> {
    let mut peer = PeerConnection::new(&config, Mode::Direct).await?;
    let noise_channel = peer.create_negotiated_channel(NOISE_CHANNEL_ID)?;

    let ufrag = libp2p_webrtc_utils::sdp::random_ufrag();
    let offer = peer.create_offer().await?;
    let local_fingerprint = sdp::local_fingerprint(&offer)?;
    peer.set_local_offer(&sdp::munge_offer(&offer, &ufrag)?)
        .await?;
    let answer = libp2p_webrtc_utils::sdp::answer(target.socket, target.fingerprint, &ufrag);
    peer.set_remote_answer(&answer).await?;

    let peer_id = {
        // The cleanup half is not needed: the channel stays open until the connection closes.
        let (noise_stream, _cleanup) = stream::open(noise_channel.clone(), Mode::Direct);
        let authenticate = pin!(noise::outbound(
            config.keypair().clone(),
            noise_stream,
            target.fingerprint,
            local_fingerprint,
        ));
        let peer_ended = pin!(future::poll_fn(|cx| peer.poll_ended(cx)));
        match future::select(authenticate, peer_ended).await {
            Either::Left((authenticated, _)) => authenticated.map_err(Error::Authentication)?,
            Either::Right((ended, _)) => return Err(ended),
        }
    };

    if let Some(expected) = target.peer_id {
        if expected != peer_id {
            return Err(Error::PeerIdMismatch {
                expected: Box::new(expected),
                actual: Box::new(peer_id),
            });
        }
    }
    tracing::debug!(peer = %peer_id, address = %target.socket, "WebRTC-direct connection authenticated");
    Ok((peer_id, Connection::new(peer, Some(noise_channel))))
}
