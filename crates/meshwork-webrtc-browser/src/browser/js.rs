//! Browser bindings web-sys lacks (or has without `catch`), and JS errors turned into
//! [`Error`].

use wasm_bindgen::{prelude::wasm_bindgen, JsCast, JsValue};
use web_sys::{RtcDataChannel, RtcDataChannelInit, RtcPeerConnection};

use crate::Error;

#[wasm_bindgen]
extern "C" {
    /// An `RTCPeerConnection`, viewed through the fallible bindings below.
    type CheckedPeerConnection;

    /// `RTCPeerConnection.createDataChannel(label, init)`.
    ///
    /// web-sys binds it without `catch`, so an exception (closed connection, no stream id left)
    /// would unwind through wasm. This binding returns it instead.
    #[wasm_bindgen(method, catch, js_name = createDataChannel)]
    fn create_data_channel(
        this: &CheckedPeerConnection,
        label: &str,
        init: &RtcDataChannelInit,
    ) -> Result<RtcDataChannel, JsValue>;

    /// `RTCPeerConnection.sctp`: `null` before a remote description, absent in old browsers.
    #[wasm_bindgen(method, getter, js_name = sctp)]
    fn sctp(this: &CheckedPeerConnection) -> Option<SctpTransport>;

    /// An `RTCSctpTransport` (web-sys has no binding for it).
    #[derive(Clone)]
    pub(crate) type SctpTransport;

    /// `RTCSctpTransport.state`: `"connecting"`, `"connected"` or `"closed"`.
    #[wasm_bindgen(method, getter, js_name = state)]
    pub(crate) fn state(this: &SctpTransport) -> JsValue;

    /// Sets `RTCSctpTransport.onstatechange`.
    #[wasm_bindgen(method, setter, js_name = onstatechange)]
    pub(crate) fn set_onstatechange(this: &SctpTransport, handler: Option<&js_sys::Function>);
}

/// The peer connection's SCTP transport, once a remote description has created it.
pub(crate) fn sctp_transport(pc: &RtcPeerConnection) -> Option<SctpTransport> {
    pc.unchecked_ref::<CheckedPeerConnection>().sctp()
}

impl SctpTransport {
    /// Whether the SCTP association is closed (by the remote, or with the peer connection).
    pub(crate) fn is_closed(&self) -> bool {
        self.state().as_string().as_deref() == Some("closed")
    }
}

/// Calls `createDataChannel`, returning what it throws as an [`Error`].
pub(crate) fn create_data_channel(
    pc: &RtcPeerConnection,
    label: &str,
    init: &RtcDataChannelInit,
) -> Result<RtcDataChannel, Error> {
    pc.unchecked_ref::<CheckedPeerConnection>()
        .create_data_channel(label, init)
        .map_err(js_error("RTCPeerConnection.createDataChannel"))
}

/// Maps a thrown or rejected JS value of the API `call` to an [`Error`].
pub(crate) fn js_error(call: &'static str) -> impl FnOnce(JsValue) -> Error {
    move |value| Error::Js {
        call,
        message: describe(&value),
    }
}

/// A readable description of a JS value thrown by a browser API.
pub(crate) fn describe(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        // DOMException inherits from Error in every current browser.
        let name = String::from(error.name());
        let message = String::from(error.message());
        return format!("{name}: {message}");
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}
