//! The browser-to-browser signaling protocol, `/webrtc-signaling/0.0.1`
//! ([libp2p WebRTC spec](https://github.com/libp2p/specs/blob/master/webrtc/webrtc.md)).
//!
//! Two nodes connected through a relay exchange an SDP offer, an SDP answer and ICE candidates
//! as varint-length-prefixed protobuf messages on one stream of the relayed connection. The
//! relayed connection is authenticated (Noise, end to end), so the DTLS fingerprints inside the
//! SDP are too: the direct connection needs no second handshake (js-libp2p skips it as well).
//!
//! This module holds the wire format and its validation; [`exchange`] runs the protocol over
//! any stream and any peer connection (the browser's, or a fake one in tests).

pub(crate) mod exchange;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

/// The protocol name of the signaling stream.
pub const SIGNALING_PROTOCOL: &str = "/webrtc-signaling/0.0.1";

/// Largest signaling message accepted or sent, in bytes. An SDP offer of a data-channel-only
/// connection is about 1 KiB with candidates stripped; 32 KiB leaves room for many candidates
/// without letting a remote make us buffer much.
pub const MAX_SIGNAL_BYTES: usize = 32 * 1024;

/// ICE candidates accepted from one remote before the connection is up; more are ignored.
/// A host has a handful (one per interface and protocol); 64 also covers STUN and TURN ones.
pub const MAX_REMOTE_CANDIDATES: usize = 64;

/// One signaling message as it is on the wire (`message Message { Type type = 1; string data = 2; }`).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct WireMessage {
    /// [`WireType`] as an integer.
    #[prost(int32, optional, tag = "1")]
    pub(crate) r#type: Option<i32>,
    /// The SDP text, or the candidate as JSON (`RTCIceCandidate.toJSON()`).
    #[prost(string, optional, tag = "2")]
    pub(crate) data: Option<String>,
}

/// The message types of the wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub(crate) enum WireType {
    SdpOffer = 0,
    SdpAnswer = 1,
    IceCandidate = 2,
}

/// An ICE candidate as `RTCIceCandidateInit` (what `RTCIceCandidate.toJSON()` produces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CandidateInit {
    /// The `candidate:` attribute line.
    pub candidate: String,
    /// The media stream id the candidate belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    /// The index of the media description the candidate belongs to.
    #[serde(
        default,
        rename = "sdpMLineIndex",
        skip_serializing_if = "Option::is_none"
    )]
    pub sdp_m_line_index: Option<u16>,
    /// The ICE username fragment the candidate belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_fragment: Option<String>,
}

/// A decoded, validated signaling message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// The dialer's SDP offer.
    Offer(String),
    /// The listener's SDP answer.
    Answer(String),
    /// An ICE candidate; `None` marks the end of the sender's candidates.
    Candidate(Option<CandidateInit>),
}

/// Why a signaling message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    /// The message has no type or one this protocol does not define.
    #[error("signaling message of unknown type {0:?}")]
    UnknownType(Option<i32>),
    /// An SDP message without SDP text, or with text that is not an SDP.
    #[error("signaling message carries no usable SDP")]
    BadSdp,
    /// A candidate message whose data is not an `RTCIceCandidateInit` in JSON.
    #[error("signaling message carries a malformed ICE candidate: {0}")]
    BadCandidate(String),
}

impl Signal {
    /// Validates a wire message.
    pub(crate) fn from_wire(message: WireMessage) -> Result<Self, SignalError> {
        let data = message.data.unwrap_or_default();
        match message.r#type {
            Some(t) if t == WireType::SdpOffer as i32 => Ok(Self::Offer(checked_sdp(data)?)),
            Some(t) if t == WireType::SdpAnswer as i32 => Ok(Self::Answer(checked_sdp(data)?)),
            Some(t) if t == WireType::IceCandidate as i32 => parse_candidate(&data),
            other => Err(SignalError::UnknownType(other)),
        }
    }

    /// The wire form.
    pub(crate) fn to_wire(&self) -> WireMessage {
        let (kind, data) = match self {
            Self::Offer(sdp) => (WireType::SdpOffer, sdp.clone()),
            Self::Answer(sdp) => (WireType::SdpAnswer, sdp.clone()),
            // serde_json cannot fail on a struct of strings and integers.
            Self::Candidate(candidate) => (
                WireType::IceCandidate,
                serde_json::to_string(candidate).unwrap_or_else(|_| "null".to_owned()),
            ),
        };
        WireMessage {
            r#type: Some(kind as i32),
            data: Some(data),
        }
    }
}

/// An SDP must at least start with its version line.
fn checked_sdp(data: String) -> Result<String, SignalError> {
    if data.starts_with("v=0") {
        Ok(data)
    } else {
        Err(SignalError::BadSdp)
    }
}

/// `null` and `""` (end of a generation) both end the remote's candidates.
fn parse_candidate(data: &str) -> Result<Signal, SignalError> {
    let value: serde_json::Value =
        serde_json::from_str(data).map_err(|e| SignalError::BadCandidate(e.to_string()))?;
    match value {
        serde_json::Value::Null => Ok(Signal::Candidate(None)),
        serde_json::Value::String(s) if s.is_empty() => Ok(Signal::Candidate(None)),
        value => {
            let candidate: CandidateInit = serde_json::from_value(value)
                .map_err(|e| SignalError::BadCandidate(e.to_string()))?;
            if candidate.candidate.is_empty() {
                Ok(Signal::Candidate(None))
            } else {
                Ok(Signal::Candidate(Some(candidate)))
            }
        }
    }
}
