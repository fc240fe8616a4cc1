//! Page-wide figures that belong to no single node.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

/// `{ live, created }`: the page's `RTCPeerConnection`s open now and created so far (by every
/// meshwork node in it). Chrome allows 500 per page; see `webrtc.maxTotalPeerConnections`.
#[wasm_bindgen(js_name = peerConnectionUsage)]
pub fn peer_connection_usage() -> JsValue {
    let (live, created) = meshwork_webrtc_browser::peer_connection_counts();
    let usage = Object::new();
    // Setting a plain property on a fresh object cannot fail.
    let _ = Reflect::set(&usage, &"live".into(), &JsValue::from(live as f64));
    let _ = Reflect::set(&usage, &"created".into(), &JsValue::from(created as f64));
    usage.into()
}
