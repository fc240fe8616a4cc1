//! Core events as plain JS objects: `{ type: "peer:connect", peerId, transport, address }`, …

use meshwork_core::Event;
use wasm_bindgen::JsValue;

use super::js::object;

fn s(v: impl ToString) -> JsValue {
    JsValue::from_str(&v.to_string())
}

/// The JS object for one event (the npm layer dispatches it as a `CustomEvent` of that type).
pub fn to_js(event: &Event) -> JsValue {
    match event {
        Event::ListenAddr { address } => object(&[("type", s("listen")), ("address", s(address))]),
        Event::ListenAddrExpired { address } => {
            object(&[("type", s("listen:expired")), ("address", s(address))])
        }
        Event::PeerConnected {
            peer_id,
            transport,
            address,
        } => object(&[
            ("type", s("peer:connect")),
            ("peerId", s(peer_id)),
            ("transport", s(transport)),
            ("address", s(address)),
        ]),
        Event::PeerUpgraded {
            peer_id,
            transport,
            address,
        } => object(&[
            ("type", s("peer:upgrade")),
            ("peerId", s(peer_id)),
            ("transport", s(transport)),
            ("address", s(address)),
        ]),
        Event::PeerDisconnected {
            peer_id,
            transport,
            cause,
        } => object(&[
            ("type", s("peer:disconnect")),
            ("peerId", s(peer_id)),
            ("transport", s(transport)),
            (
                "cause",
                cause
                    .as_deref()
                    .map(JsValue::from_str)
                    .unwrap_or(JsValue::NULL),
            ),
        ]),
        Event::Message {
            topic,
            source,
            propagation_source,
            id,
            data,
        } => object(&[
            ("type", s("message")),
            ("topic", s(topic)),
            ("from", source.map(s).unwrap_or(JsValue::NULL)),
            ("via", s(propagation_source)),
            ("id", s(id)),
            ("data", js_sys::Uint8Array::from(data.as_slice()).into()),
        ]),
        Event::Subscription {
            peer_id,
            topic,
            subscribed,
        } => object(&[
            ("type", s("subscription-change")),
            ("peerId", s(peer_id)),
            ("topic", s(topic)),
            ("subscribed", JsValue::from_bool(*subscribed)),
        ]),
        Event::RelayReservation {
            relay_peer_id,
            renewal,
        } => object(&[
            ("type", s("relay:reservation")),
            ("relayPeerId", s(relay_peer_id)),
            ("renewal", JsValue::from_bool(*renewal)),
        ]),
        Event::PeerBanned { peer_id, secs } => object(&[
            ("type", s("peer:banned")),
            ("peerId", s(peer_id)),
            ("secs", JsValue::from_f64(*secs as f64)),
        ]),
        Event::PeerDiscovered {
            peer_id,
            addresses,
            source,
            namespace,
        } => {
            let list = js_sys::Array::new();
            for address in addresses {
                list.push(&s(address));
            }
            object(&[
                ("type", s("peer:discovery")),
                ("peerId", s(peer_id)),
                ("addresses", list.into()),
                ("source", s(source.as_str())),
                (
                    "namespace",
                    namespace
                        .as_deref()
                        .map(JsValue::from_str)
                        .unwrap_or(JsValue::NULL),
                ),
            ])
        }
        Event::PeerState {
            peer_id,
            state,
            reason,
        } => object(&[
            ("type", s("peer:state")),
            ("peerId", s(peer_id)),
            ("state", s(state.as_str())),
            (
                "reason",
                reason
                    .as_deref()
                    .map(JsValue::from_str)
                    .unwrap_or(JsValue::NULL),
            ),
        ]),
        Event::PeerStoreLoaded {
            restored,
            skipped,
            discarded,
        } => object(&[
            ("type", s("peerstore:loaded")),
            ("restored", JsValue::from(*restored as u32)),
            ("skipped", JsValue::from(*skipped as u32)),
            (
                "discarded",
                discarded
                    .as_deref()
                    .map(JsValue::from_str)
                    .unwrap_or(JsValue::NULL),
            ),
        ]),
        Event::ServiceAnnounced { record } => object(&[
            ("type", s("service:announced")),
            (
                "record",
                super::js::to_js(&record.view()).unwrap_or(JsValue::NULL),
            ),
        ]),
        Event::ServiceDeparted { service, provider } => object(&[
            ("type", s("service:departed")),
            ("serviceId", s(service)),
            ("provider", s(provider)),
        ]),
        Event::Error { error } => object(&[
            ("type", s("error")),
            ("code", s(error.code)),
            ("message", s(&error.message)),
        ]),
    }
}
