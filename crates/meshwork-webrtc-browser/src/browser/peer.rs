//! The `RTCPeerConnection`: created with its `ondatachannel` and `onconnectionstatechange`
//! handlers already attached, so that no data channel the remote opens is ever missed.
//!
//! The connection counts as ended when the browser reports it `failed` or `closed`, or when its
//! SCTP transport closes (which is how a remote that closes its side shows up promptly; the
//! connection state alone would only turn `failed` once ICE consent expires).

use std::{
    cell::{Cell, RefCell},
    collections::VecDeque,
    rc::Rc,
    task::{Context, Poll},
};

use futures::task::AtomicWaker;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Event, RtcConfiguration, RtcDataChannel, RtcDataChannelEvent, RtcDataChannelInit, RtcIceServer,
    RtcIceTransportPolicy, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState,
    RtcSdpType, RtcSessionDescriptionInit,
};

use super::{
    budget::Slot,
    channel::ChannelIo,
    js::{self, js_error, SctpTransport},
    Mode,
};
use crate::{
    inbound_queue::{InboundQueue, Rejected},
    signaling::CandidateInit,
    Config, Error, IceTransportPolicy, Limits,
};

/// Local ICE candidates waiting to be sent; more than this are dropped (a host has a handful).
const MAX_QUEUED_LOCAL_CANDIDATES: usize = 64;

/// The label of the channel a browser-to-browser dialer creates so that its offer has an SCTP
/// section (js-libp2p's name for it). It is never a stream; it is closed once connected.
pub(crate) const INIT_CHANNEL_LABEL: &str = "init";

/// Channels labelled [`INIT_CHANNEL_LABEL`] kept aside until the remote closes them.
const MAX_INIT_CHANNELS: usize = 2;

/// Data channel labels are empty, as the libp2p WebRTC spec requires of the creator.
const CHANNEL_LABEL: &str = "";

/// Where the peer connection stands, as far as the muxer cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// New, connecting, connected or (transiently) disconnected.
    Live,
    /// The browser reported `failed`.
    Failed,
    /// Closed: by us, by the browser, or the SCTP association was closed by the remote.
    Closed,
}

/// State shared with the JS handlers.
struct Shared {
    mode: Mode,
    /// Inbound channels, wrapped (handlers attached) the moment they arrived.
    inbound: RefCell<InboundQueue<ChannelIo>>,
    /// The remote's `init` channels (browser-to-browser), held until the remote closes them.
    init_channels: RefCell<Vec<ChannelIo>>,
    phase: Cell<Phase>,
    /// The browser reported `connected` at least once.
    connected: Cell<bool>,
    /// Local ICE candidates not yet taken by signaling; `None` is the end of gathering.
    candidates: RefCell<VecDeque<Option<CandidateInit>>>,
    /// The task to wake when `phase` leaves `Live`, the connection connects or a candidate
    /// arrives.
    phase_waker: AtomicWaker,
}

impl Shared {
    fn accept_channel(&self, channel: RtcDataChannel, limits: &Limits) {
        // Wrap first: this attaches `onmessage` before any message event can be dispatched.
        let is_init = self.mode == Mode::BrowserToBrowser && channel.label() == INIT_CHANNEL_LABEL;
        let channel = ChannelIo::new(channel, limits, self.mode);
        if is_init {
            self.hold_init_channel(channel);
            return;
        }
        let rejected = match self.inbound.try_borrow_mut() {
            Ok(mut inbound) => inbound.push(channel).err(),
            Err(_) => {
                tracing::error!("inbound channel queue borrowed re-entrantly; dropping channel");
                None
            }
        };
        match rejected {
            None => {}
            Some(Rejected::Full(channel)) => {
                tracing::warn!(
                    channel = ?channel.id(),
                    limit = limits.max_pending_inbound_streams,
                    "too many inbound data channels waiting to be accepted; closing this one"
                );
                channel.shutdown();
            }
            Some(Rejected::Closed(channel)) => channel.shutdown(),
        }
    }

    fn hold_init_channel(&self, channel: ChannelIo) {
        let Ok(mut held) = self.init_channels.try_borrow_mut() else {
            channel.shutdown();
            return;
        };
        held.retain(|c| !c.is_closed());
        if held.len() >= MAX_INIT_CHANNELS {
            channel.shutdown();
        } else {
            held.push(channel);
        }
    }

    fn on_candidate(&self, event: &RtcPeerConnectionIceEvent) {
        let candidate = event.candidate().and_then(|c| {
            let json = js_sys::JSON::stringify(&c.to_json()).ok()?.as_string()?;
            match serde_json::from_str::<CandidateInit>(&json) {
                Ok(init) if !init.candidate.is_empty() => Some(init),
                Ok(_) => None,
                Err(error) => {
                    tracing::debug!(%error, "unreadable local ICE candidate");
                    None
                }
            }
        });
        let Ok(mut queue) = self.candidates.try_borrow_mut() else {
            return;
        };
        if queue.len() >= MAX_QUEUED_LOCAL_CANDIDATES {
            tracing::debug!("local ICE candidate queue full; dropping a candidate");
            return;
        }
        queue.push_back(candidate);
        drop(queue);
        self.phase_waker.wake();
    }

    fn observe(&self, state: RtcPeerConnectionState) {
        if state == RtcPeerConnectionState::Connected {
            self.connected.set(true);
            self.phase_waker.wake();
            return;
        }
        let phase = match state {
            RtcPeerConnectionState::Failed => Phase::Failed,
            RtcPeerConnectionState::Closed => Phase::Closed,
            _ => return,
        };
        self.end(phase);
    }

    fn end(&self, phase: Phase) {
        if self.phase.get() == Phase::Live {
            tracing::debug!(?phase, "peer connection ended");
            self.phase.set(phase);
        }
        self.phase_waker.wake();
    }
}

/// An `RTCPeerConnection` with a fresh certificate and its handlers attached from the start.
///
/// Dropping it closes the peer connection, every data channel still queued, and detaches the
/// handlers.
pub(crate) struct PeerConnection {
    pc: RtcPeerConnection,
    shared: Rc<Shared>,
    limits: Limits,
    _on_data_channel: Closure<dyn FnMut(RtcDataChannelEvent)>,
    _on_state_change: Closure<dyn FnMut(Event)>,
    _on_ice_candidate: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    /// Set once the remote description has created the SCTP transport.
    sctp_watch: Option<SctpWatch>,
    /// This peer connection's share of the page's budget.
    _slot: Slot,
}

/// The `onstatechange` handler on the SCTP transport.
struct SctpWatch {
    transport: SctpTransport,
    _on_state_change: Closure<dyn FnMut(Event)>,
}

impl PeerConnection {
    /// Takes a slot of the page's budget, generates a certificate (the spec says not to reuse
    /// one across connections), creates the peer connection (with `config`'s ICE servers for
    /// browser-to-browser) and attaches `ondatachannel`, `onconnectionstatechange` and
    /// `onicecandidate`.
    pub(crate) async fn new(config: &Config, mode: Mode) -> Result<Self, Error> {
        let limits = config.limits().normalized();
        let slot = Slot::take(&limits)?;
        let certificate = generate_certificate().await?;
        let rtc = RtcConfiguration::new();
        rtc.set_certificates(&Array::of1(&certificate));
        if mode == Mode::BrowserToBrowser {
            rtc.set_ice_servers(&ice_servers(config)?.into());
            if config.ice_transport_policy() == IceTransportPolicy::Relay {
                rtc.set_ice_transport_policy(RtcIceTransportPolicy::Relay);
            }
        }
        let pc = RtcPeerConnection::new_with_configuration(&rtc)
            .map_err(js_error("new RTCPeerConnection"))?;

        let shared = Rc::new(Shared {
            mode,
            inbound: RefCell::new(InboundQueue::new(limits.max_pending_inbound_streams)),
            init_channels: RefCell::new(Vec::new()),
            phase: Cell::new(Phase::Live),
            connected: Cell::new(false),
            candidates: RefCell::new(VecDeque::new()),
            phase_waker: AtomicWaker::new(),
        });
        let on_data_channel = Closure::<dyn FnMut(RtcDataChannelEvent)>::new({
            let shared = shared.clone();
            move |event: RtcDataChannelEvent| shared.accept_channel(event.channel(), &limits)
        });
        pc.set_ondatachannel(Some(on_data_channel.as_ref().unchecked_ref()));
        let on_state_change = Closure::<dyn FnMut(Event)>::new({
            let shared = shared.clone();
            let pc = pc.clone();
            move |_: Event| shared.observe(pc.connection_state())
        });
        pc.set_onconnectionstatechange(Some(on_state_change.as_ref().unchecked_ref()));
        let on_ice_candidate = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new({
            let shared = shared.clone();
            move |event: RtcPeerConnectionIceEvent| shared.on_candidate(&event)
        });
        if mode == Mode::BrowserToBrowser {
            pc.set_onicecandidate(Some(on_ice_candidate.as_ref().unchecked_ref()));
        }

        Ok(Self {
            pc,
            shared,
            limits,
            _on_data_channel: on_data_channel,
            _on_state_change: on_state_change,
            _on_ice_candidate: on_ice_candidate,
            sctp_watch: None,
            _slot: slot,
        })
    }

    /// How this peer connection frames and closes its streams.
    pub(crate) fn mode(&self) -> Mode {
        self.shared.mode
    }

    /// The limits this peer connection was created with (minimums applied).
    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// The next local ICE candidate, `Ready(None)` being the end of gathering.
    pub(crate) fn poll_local_candidate(&self, cx: &mut Context<'_>) -> Poll<Option<CandidateInit>> {
        self.shared.phase_waker.register(cx.waker());
        match self.shared.candidates.try_borrow_mut() {
            Ok(mut queue) => match queue.pop_front() {
                Some(candidate) => Poll::Ready(candidate),
                None => Poll::Pending,
            },
            Err(_) => Poll::Pending,
        }
    }

    /// `Ready` once the browser has reported the peer connection `connected`.
    pub(crate) fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.shared.phase_waker.register(cx.waker());
        if self.shared.connected.get() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// The underlying `RTCPeerConnection`, for the signaling calls in `signaled.rs`.
    pub(crate) fn raw(&self) -> &RtcPeerConnection {
        &self.pc
    }

    /// Creates an in-band negotiated channel with a label (the browser-to-browser `init`).
    pub(crate) fn create_labelled_channel(&self, label: &str) -> Result<ChannelIo, Error> {
        if self.shared.phase.get() != Phase::Live {
            return Err(Error::ConnectionClosed);
        }
        let channel = js::create_data_channel(&self.pc, label, &RtcDataChannelInit::new())?;
        Ok(ChannelIo::new(channel, &self.limits, self.shared.mode))
    }

    /// Creates the pre-negotiated channel with `id` (the Noise channel is id 0).
    pub(crate) fn create_negotiated_channel(&self, id: u16) -> Result<ChannelIo, Error> {
        let init = RtcDataChannelInit::new();
        init.set_negotiated(true);
        init.set_id(id);
        self.create_channel(&init)
    }

    /// Creates a channel for an outbound stream (in-band negotiated, as the spec requires).
    pub(crate) fn create_stream_channel(&self) -> Result<ChannelIo, Error> {
        self.create_channel(&RtcDataChannelInit::new())
    }

    fn create_channel(&self, init: &RtcDataChannelInit) -> Result<ChannelIo, Error> {
        if self.shared.phase.get() != Phase::Live {
            return Err(Error::ConnectionClosed);
        }
        let channel = js::create_data_channel(&self.pc, CHANNEL_LABEL, init)?;
        Ok(ChannelIo::new(channel, &self.limits, self.shared.mode))
    }

    /// `createOffer()`, returning the offer's SDP text.
    pub(crate) async fn create_offer(&self) -> Result<String, Error> {
        let offer = JsFuture::from(self.pc.create_offer())
            .await
            .map_err(js_error("RTCPeerConnection.createOffer"))?;
        Reflect::get(&offer, &JsValue::from_str("sdp"))
            .map_err(js_error("RTCSessionDescription.sdp"))?
            .as_string()
            .ok_or_else(|| Error::Js {
                call: "RTCSessionDescription.sdp",
                message: "the offer has no SDP text".to_owned(),
            })
    }

    /// `setLocalDescription()` with an offer of the given SDP text.
    pub(crate) async fn set_local_offer(&self, sdp: &str) -> Result<(), Error> {
        let description = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        description.set_sdp(sdp);
        JsFuture::from(self.pc.set_local_description(&description))
            .await
            .map_err(js_error("RTCPeerConnection.setLocalDescription"))?;
        Ok(())
    }

    /// `setRemoteDescription()` with an answer of the given SDP text, then watches the SCTP
    /// transport it creates.
    pub(crate) async fn set_remote_answer(&mut self, sdp: &str) -> Result<(), Error> {
        let description = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        description.set_sdp(sdp);
        JsFuture::from(self.pc.set_remote_description(&description))
            .await
            .map_err(js_error("RTCPeerConnection.setRemoteDescription"))?;
        self.watch_sctp();
        Ok(())
    }

    /// Watches the SCTP transport a remote description created (see the module doc).
    pub(crate) fn watch_sctp(&mut self) {
        if self.sctp_watch.is_some() {
            return;
        }
        let Some(transport) = js::sctp_transport(&self.pc) else {
            tracing::debug!("no RTCPeerConnection.sctp; relying on connectionState alone");
            return;
        };
        let on_state_change = Closure::<dyn FnMut(Event)>::new({
            let shared = self.shared.clone();
            let transport = transport.clone();
            move |_: Event| {
                if transport.is_closed() {
                    shared.end(Phase::Closed);
                }
            }
        });
        transport.set_onstatechange(Some(on_state_change.as_ref().unchecked_ref()));
        if transport.is_closed() {
            self.shared.end(Phase::Closed);
        }
        self.sctp_watch = Some(SctpWatch {
            transport,
            _on_state_change: on_state_change,
        });
    }

    /// `Ready` with the reason once the peer connection has failed or closed; otherwise
    /// `Pending`, waking the task when that happens.
    pub(crate) fn poll_ended(&self, cx: &mut Context<'_>) -> Poll<Error> {
        self.shared.phase_waker.register(cx.waker());
        match self.shared.phase.get() {
            Phase::Live => Poll::Pending,
            Phase::Failed => Poll::Ready(Error::PeerConnectionFailed),
            Phase::Closed => Poll::Ready(Error::ConnectionClosed),
        }
    }

    /// The next data channel the remote opened; `Ready(None)` once closed.
    pub(crate) fn poll_inbound_channel(&self, cx: &mut Context<'_>) -> Poll<Option<ChannelIo>> {
        match self.shared.inbound.try_borrow_mut() {
            Ok(mut inbound) => inbound.poll_pop(cx),
            Err(_) => {
                // Cannot happen (JS handlers never run inside Rust code); retry rather than panic.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    /// Closes the queued inbound channels and the peer connection. Idempotent.
    pub(crate) fn close(&self) {
        let leftovers = match self.shared.inbound.try_borrow_mut() {
            Ok(mut inbound) => inbound.close(),
            Err(_) => Vec::new(),
        };
        for channel in leftovers {
            channel.shutdown();
        }
        if let Ok(mut held) = self.shared.init_channels.try_borrow_mut() {
            for channel in held.drain(..) {
                channel.shutdown();
            }
        }
        // Closes every data channel of this connection too, without firing their events.
        self.pc.close();
        self.shared.end(Phase::Closed);
    }
}

impl Drop for PeerConnection {
    fn drop(&mut self) {
        self.close();
        // Detach before the closures are freed: a JS call into a freed closure throws.
        self.pc.set_ondatachannel(None);
        self.pc.set_onconnectionstatechange(None);
        self.pc.set_onicecandidate(None);
        if let Some(watch) = &self.sctp_watch {
            watch.transport.set_onstatechange(None);
        }
    }
}

/// `config`'s ICE servers as an array of `RTCIceServer`.
fn ice_servers(config: &Config) -> Result<Array, Error> {
    let servers = Array::new();
    for server in config.ice_servers() {
        server.validate().map_err(|message| Error::Js {
            call: "RTCConfiguration.iceServers",
            message,
        })?;
        let entry = RtcIceServer::new();
        let urls: Array = server.urls.iter().map(|u| JsValue::from_str(u)).collect();
        entry.set_urls(&urls);
        if let Some(username) = &server.username {
            entry.set_username(username);
        }
        if let Some(credential) = &server.credential {
            entry.set_credential(credential);
        }
        servers.push(&entry);
    }
    Ok(servers)
}

/// `RTCPeerConnection.generateCertificate({ name: "ECDSA", namedCurve: "P-256" })`.
///
/// Browsers put the certificate's sha-256 fingerprint in the SDP, which the Noise prologue uses.
async fn generate_certificate() -> Result<JsValue, Error> {
    let algorithm = Object::new();
    for (key, value) in [("name", "ECDSA"), ("namedCurve", "P-256")] {
        Reflect::set(
            &algorithm,
            &JsValue::from_str(key),
            &JsValue::from_str(value),
        )
        .map_err(js_error("Reflect.set"))?;
    }
    let promise = RtcPeerConnection::generate_certificate_with_object(&algorithm)
        .map_err(js_error("RTCPeerConnection.generateCertificate"))?;
    JsFuture::from(promise)
        .await
        .map_err(js_error("RTCPeerConnection.generateCertificate"))
}
