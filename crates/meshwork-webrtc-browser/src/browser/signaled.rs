//! The browser's peer connection as a [`SignalingPeer`], for browser-to-browser signaling.

use std::task::{Context, Poll};

use js_sys::Reflect;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RtcIceCandidateInit, RtcSdpType, RtcSessionDescriptionInit};

use super::{js::js_error, peer::PeerConnection};
use crate::{
    signaling::{
        exchange::{PeerEvent, SdpKind, SignalingPeer},
        CandidateInit,
    },
    Error,
};

impl SignalingPeer for PeerConnection {
    async fn create_offer(&mut self) -> Result<String, Error> {
        PeerConnection::create_offer(self).await
    }

    async fn create_answer(&mut self) -> Result<String, Error> {
        let answer = JsFuture::from(self.raw().create_answer())
            .await
            .map_err(js_error("RTCPeerConnection.createAnswer"))?;
        sdp_text(&answer)
    }

    async fn set_local_description(&mut self, kind: SdpKind, sdp: &str) -> Result<(), Error> {
        let description = RtcSessionDescriptionInit::new(sdp_type(kind));
        description.set_sdp(sdp);
        JsFuture::from(self.raw().set_local_description(&description))
            .await
            .map_err(js_error("RTCPeerConnection.setLocalDescription"))?;
        Ok(())
    }

    async fn set_remote_description(&mut self, kind: SdpKind, sdp: &str) -> Result<(), Error> {
        let description = RtcSessionDescriptionInit::new(sdp_type(kind));
        description.set_sdp(sdp);
        JsFuture::from(self.raw().set_remote_description(&description))
            .await
            .map_err(js_error("RTCPeerConnection.setRemoteDescription"))?;
        self.watch_sctp();
        Ok(())
    }

    async fn add_ice_candidate(&mut self, candidate: &CandidateInit) -> Result<(), Error> {
        let init = RtcIceCandidateInit::new(&candidate.candidate);
        init.set_sdp_mid(candidate.sdp_mid.as_deref());
        init.set_sdp_m_line_index(candidate.sdp_m_line_index);
        if let Some(fragment) = &candidate.username_fragment {
            // web-sys has no setter for it; it is a plain dictionary member.
            Reflect::set(
                &init,
                &JsValue::from_str("usernameFragment"),
                &JsValue::from_str(fragment),
            )
            .map_err(js_error("RTCIceCandidateInit.usernameFragment"))?;
        }
        JsFuture::from(
            self.raw()
                .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)),
        )
        .await
        .map_err(js_error("RTCPeerConnection.addIceCandidate"))?;
        Ok(())
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<PeerEvent> {
        if let Poll::Ready(error) = self.poll_ended(cx) {
            return Poll::Ready(PeerEvent::Ended(error));
        }
        if self.poll_connected(cx).is_ready() {
            return Poll::Ready(PeerEvent::Connected);
        }
        self.poll_local_candidate(cx).map(PeerEvent::LocalCandidate)
    }
}

fn sdp_type(kind: SdpKind) -> RtcSdpType {
    match kind {
        SdpKind::Offer => RtcSdpType::Offer,
        SdpKind::Answer => RtcSdpType::Answer,
    }
}

fn sdp_text(description: &JsValue) -> Result<String, Error> {
    Reflect::get(description, &JsValue::from_str("sdp"))
        .map_err(js_error("RTCSessionDescription.sdp"))?
        .as_string()
        .ok_or_else(|| Error::Js {
            call: "RTCSessionDescription.sdp",
            message: "the description has no SDP text".to_owned(),
        })
}
