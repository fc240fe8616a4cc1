//! Runs `/webrtc-signaling/0.0.1` over a stream, for either side, against any
//! [`SignalingPeer`] (the browser's `RTCPeerConnection`, or a fake in tests).
//!
//! The dialer ([`offer`]) sends its offer, reads the answer, then both sides trade ICE
//! candidates until their peer connection reports `connected`. The listener ([`answer`]) mirrors
//! it. Neither bounds its own duration: the caller races it against the handshake timeout.

use std::{
    future::poll_fn,
    pin::pin,
    task::{Context, Poll},
};

use asynchronous_codec::Framed;
use futures::{
    future::{self, Either},
    AsyncRead, AsyncWrite, SinkExt, StreamExt,
};

use super::{CandidateInit, Signal, WireMessage, MAX_REMOTE_CANDIDATES, MAX_SIGNAL_BYTES};
use crate::Error;

/// Which description an SDP is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SdpKind {
    Offer,
    Answer,
}

/// What a peer connection reports while candidates are traded.
#[derive(Debug)]
pub(crate) enum PeerEvent {
    /// A local ICE candidate to send; `None` when gathering has finished.
    LocalCandidate(Option<CandidateInit>),
    /// The peer connection is `connected`: signaling is done.
    Connected,
    /// The peer connection failed or closed.
    Ended(Error),
}

/// The peer connection operations signaling needs.
#[allow(async_fn_in_trait)] // Single-threaded use only; no `Send` bound wanted.
pub(crate) trait SignalingPeer {
    /// `createOffer()`, as SDP text.
    async fn create_offer(&mut self) -> Result<String, Error>;
    /// `createAnswer()`, as SDP text.
    async fn create_answer(&mut self) -> Result<String, Error>;
    /// `setLocalDescription()`.
    async fn set_local_description(&mut self, kind: SdpKind, sdp: &str) -> Result<(), Error>;
    /// `setRemoteDescription()`.
    async fn set_remote_description(&mut self, kind: SdpKind, sdp: &str) -> Result<(), Error>;
    /// `addIceCandidate()`.
    async fn add_ice_candidate(&mut self, candidate: &CandidateInit) -> Result<(), Error>;
    /// The next local candidate or state change.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<PeerEvent>;
}

/// The signaling stream with its message framing.
pub(crate) type SignalStream<S> = Framed<S, prost_codec::Codec<WireMessage>>;

/// Frames `stream` for signaling.
pub(crate) fn framed<S: AsyncRead + AsyncWrite + Unpin>(stream: S) -> SignalStream<S> {
    Framed::new(stream, prost_codec::Codec::new(MAX_SIGNAL_BYTES))
}

/// The dialer's side. Returns the stream once the peer connection is connected, for the
/// caller to close when its own clean-up (the `init` channel) is done.
pub(crate) async fn offer<P, S>(
    peer: &mut P,
    mut stream: SignalStream<S>,
) -> Result<SignalStream<S>, Error>
where
    P: SignalingPeer,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let offer = peer.create_offer().await?;
    send(&mut stream, Signal::Offer(offer.clone())).await?;
    peer.set_local_description(SdpKind::Offer, &offer).await?;
    let answer = match receive(&mut stream).await? {
        Signal::Answer(sdp) => sdp,
        other => return Err(unexpected("an SDP answer", &other)),
    };
    peer.set_remote_description(SdpKind::Answer, &answer)
        .await?;
    trade_candidates(peer, &mut stream).await?;
    Ok(stream)
}

/// The listener's side; returns the stream once connected, like [`offer`].
pub(crate) async fn answer<P, S>(
    peer: &mut P,
    mut stream: SignalStream<S>,
) -> Result<SignalStream<S>, Error>
where
    P: SignalingPeer,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let offer = match receive(&mut stream).await? {
        Signal::Offer(sdp) => sdp,
        other => return Err(unexpected("an SDP offer", &other)),
    };
    peer.set_remote_description(SdpKind::Offer, &offer).await?;
    let answer = peer.create_answer().await?;
    send(&mut stream, Signal::Answer(answer.clone())).await?;
    peer.set_local_description(SdpKind::Answer, &answer).await?;
    trade_candidates(peer, &mut stream).await?;
    Ok(stream)
}

/// What happened first: the peer connection moved, or the remote sent something.
enum Step {
    Peer(PeerEvent),
    Remote(Option<Result<WireMessage, prost_codec::Error>>),
}

/// Sends local candidates and applies remote ones until the peer connection is connected.
///
/// A remote that ends the stream early is not an error by itself: the candidates already traded
/// may suffice, so the wait for `connected` goes on (bounded by the caller's timeout).
async fn trade_candidates<P, S>(peer: &mut P, stream: &mut SignalStream<S>) -> Result<(), Error>
where
    P: SignalingPeer,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut remote_open = true;
    let mut applied = 0usize;
    loop {
        let step = {
            let local = pin!(poll_fn(|cx| peer.poll_event(cx)));
            let remote = if remote_open {
                Either::Left(stream.next())
            } else {
                Either::Right(future::pending())
            };
            match future::select(local, pin!(remote)).await {
                Either::Left((event, _)) => Step::Peer(event),
                Either::Right((message, _)) => Step::Remote(message),
            }
        };
        match step {
            Step::Peer(PeerEvent::Connected) => return Ok(()),
            Step::Peer(PeerEvent::Ended(error)) => return Err(error),
            Step::Peer(PeerEvent::LocalCandidate(Some(candidate))) if remote_open => {
                // A remote that stopped reading does not fail the attempt; ICE may still succeed.
                if let Err(error) = send(stream, Signal::Candidate(Some(candidate))).await {
                    tracing::debug!(%error, "could not send an ICE candidate");
                }
            }
            Step::Peer(PeerEvent::LocalCandidate(_)) => {}
            Step::Remote(None) => {
                tracing::debug!("remote closed the signaling stream before the connection was up");
                remote_open = false;
            }
            Step::Remote(Some(Err(error))) => return Err(Error::SignalingStream(error.into())),
            Step::Remote(Some(Ok(message))) => match Signal::from_wire(message)? {
                Signal::Candidate(Some(candidate)) if applied < MAX_REMOTE_CANDIDATES => {
                    applied += 1;
                    // One unusable candidate (another address family, say) is not fatal.
                    if let Err(error) = peer.add_ice_candidate(&candidate).await {
                        tracing::debug!(%error, "remote ICE candidate refused");
                    }
                }
                Signal::Candidate(Some(_)) => {
                    tracing::debug!(
                        limit = MAX_REMOTE_CANDIDATES,
                        "ignoring ICE candidates beyond the limit"
                    );
                }
                Signal::Candidate(None) => {}
                other => return Err(unexpected("an ICE candidate", &other)),
            },
        }
    }
}

async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut SignalStream<S>,
    signal: Signal,
) -> Result<(), Error> {
    stream
        .send(signal.to_wire())
        .await
        .map_err(|e| Error::SignalingStream(e.into()))
}

async fn receive<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut SignalStream<S>,
) -> Result<Signal, Error> {
    match stream.next().await {
        Some(Ok(message)) => Ok(Signal::from_wire(message)?),
        Some(Err(error)) => Err(Error::SignalingStream(error.into())),
        None => Err(Error::SignalingClosed),
    }
}

fn unexpected(expected: &'static str, got: &Signal) -> Error {
    let got = match got {
        Signal::Offer(_) => "an SDP offer",
        Signal::Answer(_) => "an SDP answer",
        Signal::Candidate(_) => "an ICE candidate",
    };
    Error::UnexpectedSignal { expected, got }
}
