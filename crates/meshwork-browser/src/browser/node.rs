//! `WasmNode`: the class the npm package wraps. Every method validates its arguments and returns
//! a Promise; failures reject with a `MeshworkError` that has a stable `code`.

use std::cell::Cell;

use futures::StreamExt;
use js_sys::{Array, Function, Promise};
use libp2p::identity::Keypair;
use meshwork_core::{event_loop::EventLoop, CoreError, ErrorCode, EventReceiver, NodeHandle};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::{
    bootstrap, console_log, events, js, panic_hook, peer_store, swarm, validator::JsValidator,
};
use crate::options::RawOptions;

thread_local! {
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
}

/// A running meshwork node in this page.
#[wasm_bindgen]
pub struct WasmNode {
    id: u32,
    pub(super) handle: NodeHandle,
    max_message_bytes: usize,
    max_payload_bytes: usize,
}

/// `publish`'s options: `{ priority: 'high' | 'normal' | 'low' }`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PublishOptions {
    priority: meshwork_core::gossip::outbound::Priority,
}

fn reject(e: CoreError) -> JsValue {
    js::error(&e)
}

/// Run `f` as a Promise that rejects with a coded error.
pub(super) fn promise<F>(f: F) -> Promise
where
    F: std::future::Future<Output = Result<JsValue, CoreError>> + 'static,
{
    future_to_promise(async move { f.await.map_err(reject) })
}

async fn pump_events(mut events: EventReceiver, callback: Function) {
    while let Some(event) = events.next().await {
        let value = events::to_js(&event);
        if let Err(e) = callback.call1(&JsValue::NULL, &value) {
            // A throwing listener must not stop the node.
            web_sys::console::warn_2(&"meshwork: an event listener threw:".into(), &e);
        }
    }
}

/// `register`'s options: `{ ttlSecs }`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RegisterOptions {
    ttl_secs: Option<u64>,
}

/// `putRecord`/`getRecord` options: `{ quorum }` (DHT servers that must hold the record / matching
/// copies to read; default 1, at most 20).
#[derive(Debug, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct QuorumOptions {
    quorum: usize,
}

impl Default for QuorumOptions {
    fn default() -> Self {
        Self { quorum: 1 }
    }
}

impl QuorumOptions {
    fn read(options: JsValue, what: &str) -> Result<usize, CoreError> {
        let options: Self = js::options_arg(options, what)?;
        if options.quorum == 0 || options.quorum > 20 {
            return Err(CoreError::new(
                ErrorCode::InvalidOptions,
                format!("{what}: quorum must be between 1 and 20"),
            ));
        }
        Ok(options.quorum)
    }
}

/// `/webrtc`: the browser-to-browser listener.
fn browser_to_browser_listen_address() -> libp2p::Multiaddr {
    libp2p::Multiaddr::empty().with(libp2p::multiaddr::Protocol::WebRTC)
}

#[wasm_bindgen]
impl WasmNode {
    /// Start a node: `options` as documented in the npm package; `onEvent` receives every event
    /// object; `peerStore` is `{ stored, save }` from the npm layer (IndexedDB), or undefined.
    /// Resolves with the node once the bootstrap and relay dials are done.
    #[wasm_bindgen(js_name = start)]
    pub fn start(options: JsValue, on_event: JsValue, peer_store: JsValue) -> Promise {
        panic_hook::install();
        promise(async move {
            let callback: Function = on_event.dyn_into().map_err(|_| {
                CoreError::new(ErrorCode::InvalidOptions, "onEvent must be a function")
            })?;
            let raw: RawOptions = js::options_arg(options, "options")?;
            let options = raw.validate()?;
            let page_store = peer_store::read(peer_store)?;
            if let Some(filter) = options.log_filter.clone() {
                console_log::install(filter);
            }
            let connected = meshwork_core::ConnectedPeers::default();
            let keypair = Keypair::generate_ed25519();
            let traffic = meshwork_core::Traffic::default();
            let swarm = swarm::build(keypair.clone(), &options, &connected, &traffic)?;
            let (event_loop, handle, events) = EventLoop::new(swarm, keypair, options.node.clone());
            let mut event_loop = event_loop
                .with_connected_peers(connected)
                .with_traffic(traffic);
            if let Some(mut store) = page_store {
                let (with_store, documents) =
                    event_loop.with_peer_store(store.stored.take().as_deref());
                event_loop = with_store;
                wasm_bindgen_futures::spawn_local(peer_store::pump(store, documents));
            }
            wasm_bindgen_futures::spawn_local(event_loop.run());
            if options.webrtc.browser_to_browser {
                // Accept signaling streams before any relay reservation makes us reachable.
                handle.listen(browser_to_browser_listen_address()).await?;
            }
            let id = NEXT_ID.with(|n| {
                let id = n.get();
                n.set(id.wrapping_add(1));
                id
            });
            if !panic_hook::register(id, callback.clone()) {
                web_sys::console::warn_1(&"meshwork: too many nodes for the panic reporter".into());
            }
            wasm_bindgen_futures::spawn_local(pump_events(events, callback.clone()));
            let report = |e: CoreError| {
                let _ = callback.call1(
                    &JsValue::NULL,
                    &events::to_js(&meshwork_core::Event::Error { error: e }),
                );
            };
            if let Err(e) = bootstrap::run(&handle, &options, &report).await {
                let _ = handle.shutdown().await;
                panic_hook::unregister(id);
                return Err(e);
            }
            Ok(WasmNode {
                id,
                handle,
                max_message_bytes: options.node.gossip.max_message_bytes,
                max_payload_bytes: options.node.gossip.chunks.max_payload_bytes,
            }
            .into())
        })
    }

    /// This node's peer ID.
    #[wasm_bindgen(getter, js_name = peerId)]
    pub fn peer_id(&self) -> String {
        self.handle.local_peer_id().to_string()
    }

    /// The largest gossip message, in bytes (larger payloads travel as chunks of this size).
    #[wasm_bindgen(getter, js_name = maxMessageBytes)]
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    /// The largest payload `publish` accepts, in bytes.
    #[wasm_bindgen(getter, js_name = maxPayloadBytes)]
    pub fn max_payload_bytes(&self) -> usize {
        self.max_payload_bytes
    }

    /// Dial a multiaddr string, or a peer ID (reached through our relay reservation, directly
    /// over WebRTC when browser-to-browser is on); resolves with the remote peer ID.
    pub fn dial(&self, address: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let text = js::string_arg(&address, "multiaddr", ErrorCode::InvalidMultiaddr)?;
            let address = if text.starts_with('/') {
                meshwork_core::validate::multiaddr(&text)?
            } else {
                let peer: libp2p::PeerId = text.trim().parse().map_err(|_| {
                    CoreError::new(
                        ErrorCode::InvalidMultiaddr,
                        format!("{text:?} is neither a multiaddr nor a peer ID"),
                    )
                })?;
                libp2p::Multiaddr::empty().with(libp2p::multiaddr::Protocol::P2p(peer))
            };
            let peer = handle.dial(address).await?;
            Ok(JsValue::from_str(&peer.to_string()))
        })
    }

    /// Subscribe to a topic; resolves `true` if newly subscribed.
    pub fn subscribe(&self, topic: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let topic = js::string_arg(&topic, "topic", ErrorCode::InvalidTopic)?;
            Ok(JsValue::from_bool(handle.subscribe(topic).await?))
        })
    }

    /// Unsubscribe from a topic; resolves `true` if it was subscribed.
    pub fn unsubscribe(&self, topic: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let topic = js::string_arg(&topic, "topic", ErrorCode::InvalidTopic)?;
            Ok(JsValue::from_bool(handle.unsubscribe(topic).await?))
        })
    }

    /// Publish a `Uint8Array` (`options`: `{ priority }`); resolves with the message ID once
    /// handed to gossipsub, rejects with `BACKPRESSURE` when the topic's queue is full.
    pub fn publish(&self, topic: JsValue, data: JsValue, options: JsValue) -> Promise {
        let handle = self.handle.clone();
        let max = self.max_payload_bytes;
        promise(async move {
            let topic = js::string_arg(&topic, "topic", ErrorCode::InvalidTopic)?;
            meshwork_core::validate::topic(&topic)?;
            let data = js::bytes_arg(&data, max)?;
            let options: PublishOptions = js::options_arg(options, "publish options")?;
            let id = handle.publish_with(topic, data, options.priority).await?;
            Ok(JsValue::from_str(&id))
        })
    }

    /// Install `validator` (a function, see the npm docs) for `topic`, or remove it with `null`.
    #[wasm_bindgen(js_name = setValidator)]
    pub fn set_validator(&self, topic: JsValue, validator: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let topic = js::string_arg(&topic, "topic", ErrorCode::InvalidTopic)?;
            let validator: Option<
                std::sync::Arc<dyn meshwork_core::gossip::validator::MessageValidator>,
            > = if validator.is_null() || validator.is_undefined() {
                None
            } else {
                let function: Function = validator.dyn_into().map_err(|_| {
                    CoreError::new(
                        ErrorCode::InvalidOptions,
                        "validator must be a function or null",
                    )
                })?;
                Some(std::sync::Arc::new(JsValidator::new(function)))
            };
            handle.set_validator(topic, validator).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Gossip counters per topic and queue state (see the npm docs).
    pub fn stats(&self) -> Promise {
        let handle = self.handle.clone();
        promise(async move { js::to_js(&handle.stats().await?) })
    }

    /// The connected peers: `[{ peerId, state, transport, address, addresses, connections,
    /// connectedSinceMs, bytesSent, bytesReceived, lastSeenMs, rttMs, agent, gossipScore,
    /// reputation, kept, lastError }]`.
    pub fn peers(&self) -> Promise {
        let handle = self.handle.clone();
        promise(async move { js::to_js(&handle.peers().await?) })
    }

    /// The connected peers, then the kept peers (bootstrap, relays, added) that are not
    /// connected (`transport` and `address` null, `addresses` where they are redialled).
    #[wasm_bindgen(js_name = listPeers)]
    pub fn list_peers(&self) -> Promise {
        let handle = self.handle.clone();
        promise(async move { js::to_js(&handle.list_peers().await?) })
    }

    /// Connect to a multiaddr and keep the peer connected (redialled with backoff and jitter
    /// when lost). With `expectedPeerId` the remote must have that identity, or the call
    /// rejects with `PEER_ID_MISMATCH`; an unreachable peer rejects with `DIAL_FAILED`. Nothing
    /// is kept on failure. Resolves with the peer ID.
    #[wasm_bindgen(js_name = addPeer)]
    pub fn add_peer(&self, address: JsValue, expected_peer_id: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let text = js::string_arg(&address, "multiaddr", ErrorCode::InvalidMultiaddr)?;
            let address = meshwork_core::validate::multiaddr(&text)?;
            let expected = if expected_peer_id.is_undefined() || expected_peer_id.is_null() {
                None
            } else {
                let text = js::string_arg(
                    &expected_peer_id,
                    "expectedPeerId",
                    ErrorCode::InvalidPeerId,
                )?;
                Some(meshwork_core::validate::peer_id(&text)?)
            };
            let peer = handle.add_peer(address, expected).await?;
            Ok(JsValue::from_str(&peer.to_string()))
        })
    }

    /// Stop keeping a peer and close its connections; resolves `true` if it was kept or
    /// connected.
    #[wasm_bindgen(js_name = removePeer)]
    pub fn remove_peer(&self, peer_id: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let text = js::string_arg(&peer_id, "peerId", ErrorCode::InvalidPeerId)?;
            let peer = meshwork_core::validate::peer_id(&text)?;
            Ok(JsValue::from_bool(handle.remove_peer(peer).await?))
        })
    }

    /// This node's listen addresses (relay circuit addresses once reserved).
    #[wasm_bindgen(js_name = listenAddresses)]
    pub fn listen_addresses(&self) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let list: Array = handle
                .listen_addrs()
                .await?
                .iter()
                .map(|a| JsValue::from_str(&a.to_string()))
                .collect();
            Ok(list.into())
        })
    }

    /// Register this node under a rendezvous namespace at every connected rendezvous point
    /// (`options`: `{ ttlSecs }`, default `rendezvous.defaultTtlSecs`); kept refreshed until
    /// `unregister`. Resolves with the granted lifetime in seconds.
    pub fn register(&self, namespace: JsValue, options: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let namespace = js::string_arg(&namespace, "namespace", ErrorCode::InvalidNamespace)?;
            let options: RegisterOptions = js::options_arg(options, "register options")?;
            let ttl = handle.register(namespace, options.ttl_secs).await?;
            Ok(JsValue::from_f64(ttl as f64))
        })
    }

    /// Unregister from a namespace; resolves `true` if it was registered.
    pub fn unregister(&self, namespace: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let namespace = js::string_arg(&namespace, "namespace", ErrorCode::InvalidNamespace)?;
            Ok(JsValue::from_bool(handle.unregister(namespace).await?))
        })
    }

    /// The peers registered under a namespace: `[{ peerId, addresses, namespace,
    /// expiresInSecs }]`.
    pub fn discover(&self, namespace: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let namespace = js::string_arg(&namespace, "namespace", ErrorCode::InvalidNamespace)?;
            js::to_js(&handle.discover(namespace).await?)
        })
    }

    /// Find a peer's addresses through the DHT (a page is found by its signed peer record, which
    /// lists its relay circuit addresses); each ends in `/p2p/<peer>`.
    #[wasm_bindgen(js_name = findPeer)]
    pub fn find_peer(&self, peer_id: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let text = js::string_arg(&peer_id, "peerId", ErrorCode::InvalidPeerId)?;
            let peer = meshwork_core::validate::peer_id(&text)?;
            let list: Array = handle
                .find_peer(peer)
                .await?
                .addresses
                .iter()
                .map(|a| JsValue::from_str(&a.to_string()))
                .collect();
            Ok(list.into())
        })
    }

    /// Store a record in the DHT (`key` a string of 1 to 256 bytes, `value` a `Uint8Array` of at
    /// most `node.dht.maxValueBytes`, `options` `{ quorum }`).
    #[wasm_bindgen(js_name = putRecord)]
    pub fn put_record(&self, key: JsValue, value: JsValue, options: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let key = js::string_arg(&key, "key", ErrorCode::InvalidOptions)?;
            let value = js::bytes_arg(&value, meshwork_core::dht::MAX_VALUE_BYTES_LIMIT)?;
            let quorum = QuorumOptions::read(options, "putRecord options")?;
            handle.put_record(key.into_bytes(), value, quorum).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Read a record from the DHT: the first value seen in `quorum` matching copies, as a
    /// `Uint8Array`; rejects with `NOT_FOUND`.
    #[wasm_bindgen(js_name = getRecord)]
    pub fn get_record(&self, key: JsValue, options: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let key = js::string_arg(&key, "key", ErrorCode::InvalidOptions)?;
            let quorum = QuorumOptions::read(options, "getRecord options")?;
            let value = handle.get_record(key.into_bytes(), quorum).await?;
            Ok(js_sys::Uint8Array::from(value.as_slice()).into())
        })
    }

    /// Measure stream throughput to a peer that serves `/perf/1.0.0` (a relay started with
    /// `--perf`): `options` is `{ uploadBytes, downloadBytes }`; resolves with
    /// `{ uploadBytes, downloadBytes, uploadMs, downloadMs }`.
    pub fn perf(&self, peer_id: JsValue, options: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let text = js::string_arg(&peer_id, "peerId", ErrorCode::InvalidPeerId)?;
            let peer = meshwork_core::validate::peer_id(&text)?;
            let request =
                js::options_arg::<meshwork_core::perf::PerfOptions>(options, "perf options")?
                    .validate()?;
            let report = handle.perf(peer, request).await?;
            js::to_js(&report)
        })
    }

    /// Stop: close every connection. Later calls reject with `NODE_STOPPED`; stopping twice is
    /// fine.
    pub fn stop(&self) -> Promise {
        let handle = self.handle.clone();
        let id = self.id;
        promise(async move {
            panic_hook::unregister(id);
            match handle.shutdown().await {
                Ok(()) => Ok(JsValue::UNDEFINED),
                Err(e) if e.code == ErrorCode::NodeStopped => Ok(JsValue::UNDEFINED),
                Err(e) => Err(e),
            }
        })
    }
}
