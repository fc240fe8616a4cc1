// The meshwork npm package: a thin, idiomatic layer over the wasm node.
// No bundler needed: the wasm file is loaded relative to this module.

import initWasm, { WasmNode, peerConnectionUsage as wasmPeerConnectionUsage } from '../dist/wasm/meshwork_browser.js'
import { ErrorCode, MeshworkError, toMeshworkError } from './errors.js'
import { MAX_STORE_NAME_CHARS, openPeerStore } from './peer-store.js'

export { ErrorCode, MeshworkError } from './errors.js'

/** @type {Promise<unknown> | undefined} */
let loading
/** Set once the module trapped: every later call rejects with PANIC. */
let crashed = false

function loadWasm () {
  loading ??= initWasm()
  return loading
}

function isPlainObject (v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/**
 * A meshwork node in this page. Events (all `CustomEvent`s, payload in `detail`):
 * `message`, `peer:connect`, `peer:upgrade`, `peer:disconnect`, `peer:banned`, `subscription-change`, `listen`,
 * `listen:expired`, `relay:reservation`, `peer:discovery`, `peer:state`, `peerstore:loaded`,
 * `service:announced`, `service:departed`, `error`.
 */
export class MeshworkNode extends EventTarget {
  /** @type {WasmNode} */ #inner
  #stopped = false

  /** @param {WasmNode} inner */
  constructor (inner) {
    super()
    this.#inner = inner
  }

  /** @internal */
  static async _start (options, dispatch, peerStore) {
    return new MeshworkNode(await WasmNode.start(options, dispatch, peerStore))
  }

  /** This node's peer ID. */
  get peerId () { return this.#inner.peerId }

  /** The largest gossip message, in bytes; larger payloads travel as chunks of this size. */
  get maxMessageBytes () { return this.#inner.maxMessageBytes }

  /** The largest payload `publish` accepts, in bytes (default 16 MiB). */
  get maxPayloadBytes () { return this.#inner.maxPayloadBytes }

  /** Whether `stop()` was called. */
  get stopped () { return this.#stopped }

  async #call (fn) {
    if (crashed) throw new MeshworkError(ErrorCode.PANIC, 'the meshwork module crashed earlier; reload the page')
    if (this.#stopped) throw new MeshworkError(ErrorCode.NODE_STOPPED, 'the node has stopped')
    try {
      return await fn(this.#inner)
    } catch (err) {
      const e = toMeshworkError(err)
      if (e.code === ErrorCode.PANIC) crashed = true
      throw e
    }
  }

  /**
   * Connect to a multiaddr (ending in `/p2p/<peerId>` to check the remote's identity), or to a
   * peer ID through this page's relay reservation. Browser-to-browser (`/p2p-circuit/webrtc/…`
   * or a peer ID) goes relayed first, then direct over WebRTC (`peer:upgrade`).
   * @param {string} multiaddrOrPeerId
   * @returns {Promise<string>} the remote peer ID
   */
  dial (multiaddrOrPeerId) { return this.#call(n => n.dial(multiaddrOrPeerId)) }

  /** @param {string} topic @returns {Promise<boolean>} true if newly subscribed */
  subscribe (topic) { return this.#call(n => n.subscribe(topic)) }

  /** @param {string} topic @returns {Promise<boolean>} true if it was subscribed */
  unsubscribe (topic) { return this.#call(n => n.unsubscribe(topic)) }

  /**
   * Publish bytes on a topic. Resolves once the message is handed to gossipsub, at the pace the
   * links take (so awaiting each publish never overflows them); rejects with BACKPRESSURE when
   * the topic's queue is full or when this publish was shed for higher-priority ones.
   * @param {string} topic
   * @param {Uint8Array} data at most `maxPayloadBytes`; above `maxMessageBytes` it is chunked
   * @param {{priority?: 'high'|'normal'|'low'}} [options]
   * @returns {Promise<string>} the message ID
   */
  publish (topic, data, options) { return this.#call(n => n.publish(topic, data, options)) }

  /**
   * Decide about inbound messages on a topic before they are delivered or forwarded.
   * `validator({ topic, from, via, data })` returns or resolves to 'accept', 'reject' or
   * 'ignore' (within `node.gossip.validationTimeoutMs`, else 'ignore'). `null` removes it.
   * @param {string} topic
   * @param {((message: {topic: string, from: string|null, via: string, data: Uint8Array}) => string|Promise<string>)|null} validator
   * @returns {Promise<void>}
   */
  setValidator (topic, validator) { return this.#call(n => n.setValidator(topic, validator)) }

  /** @returns {Promise<object>} gossip counters per topic and queue state */
  stats () { return this.#call(n => n.stats()) }

  /** @returns {Promise<object[]>} the connected peers (see PeerInfo in index.d.ts) */
  peers () { return this.#call(n => n.peers()) }

  /** @returns {Promise<object[]>} the connected peers, then the kept peers (bootstrap, relays, added) that are not connected */
  listPeers () { return this.#call(n => n.listPeers()) }

  /**
   * Connect to a multiaddr and keep the peer connected (redialled with backoff and jitter,
   * protected from pruning). The remote must prove `expectedPeerId` (or the address's own
   * `/p2p/<id>`), else PEER_ID_MISMATCH. Nothing is kept on failure.
   * @param {string} multiaddr
   * @param {string} [expectedPeerId]
   * @returns {Promise<string>} the peer ID
   */
  addPeer (multiaddr, expectedPeerId) { return this.#call(n => n.addPeer(multiaddr, expectedPeerId)) }

  /**
   * Stop keeping a peer and close its connections.
   * @param {string} peerId
   * @returns {Promise<boolean>} whether it was kept or connected
   */
  removePeer (peerId) { return this.#call(n => n.removePeer(peerId)) }

  /** @returns {Promise<string[]>} addresses this page is reachable at (relay circuit and `/webrtc` addresses once reserved) */
  listenAddresses () { return this.#call(n => n.listenAddresses()) }

  /**
   * Register this page under a rendezvous namespace at every connected rendezvous point (a
   * meshwork-relay is one), reachable at its relay circuit addresses. Kept refreshed until
   * `unregister`. Waits up to `node.rendezvous.timeoutSecs` for a point and a reservation.
   * @param {string} namespace 1 to 255 bytes, no control characters
   * @param {{ttlSecs?: number}} [options] lifetime to ask for (10 to 259200 s; default `node.rendezvous.defaultTtlSecs`, 300)
   * @returns {Promise<number>} the lifetime granted, in seconds
   */
  register (namespace, options) { return this.#call(n => n.register(namespace, options)) }

  /**
   * Stop refreshing a namespace and unregister from it.
   * @param {string} namespace
   * @returns {Promise<boolean>} whether it was registered
   */
  unregister (namespace) { return this.#call(n => n.unregister(namespace)) }

  /**
   * The peers registered under a namespace at the connected rendezvous points. Each point is
   * asked only for what is new since the last call (rendezvous cookies); the answer is the whole
   * current set. New peers are also announced as `peer:discovery` events.
   * @param {string} namespace
   * @returns {Promise<Array<{peerId: string, addresses: string[], namespace: string, expiresInSecs: number}>>}
   */
  discover (namespace) { return this.#call(n => n.discover(namespace)) }

  /**
   * Find a peer's addresses through the DHT. A page is found by its signed peer record (its
   * relay circuit addresses), which every node keeps in the DHT while it has a reservation.
   * @param {string} peerId
   * @returns {Promise<string[]>} multiaddrs ending in `/p2p/<peerId>`; rejects with NOT_FOUND
   */
  findPeer (peerId) { return this.#call(n => n.findPeer(peerId)) }

  /**
   * Store a record in the DHT at `quorum` or more of the closest DHT servers (relays); kept
   * republished while the node runs.
   * @param {string} key 1 to 256 bytes (UTF-8), not under `/meshwork/peer/`
   * @param {Uint8Array} value at most `node.dht.maxValueBytes` (8192)
   * @param {{quorum?: number}} [options] default 1, at most 20
   * @returns {Promise<void>} rejects with INVALID_OPTIONS, PAYLOAD_TOO_LARGE, LIMIT_REACHED or
   *   DISCOVERY_FAILED (fewer than `quorum` stored it, or no DHT server known within 10 s)
   */
  putRecord (key, value, options) { return this.#call(n => n.putRecord(key, value, options)) }

  /**
   * Read a record from the DHT: the first value seen in `quorum` matching copies.
   * @param {string} key
   * @param {{quorum?: number}} [options] default 1, at most 20
   * @returns {Promise<Uint8Array>} rejects with NOT_FOUND
   */
  getRecord (key, options) { return this.#call(n => n.getRecord(key, options)) }

  /**
   * Announce in the DHT that this page provides `key` (Kademlia provider records), republished
   * while the node runs.
   * @param {string} key 1 to 256 bytes (UTF-8), not under `/meshwork/`
   * @returns {Promise<void>} rejects with INVALID_OPTIONS or DISCOVERY_FAILED
   */
  provide (key) { return this.#call(n => n.provide(key)) }

  /**
   * Stop announcing `key` (records already stored elsewhere expire on their own).
   * @param {string} key
   * @returns {Promise<boolean>} whether this page provided it
   */
  stopProviding (key) { return this.#call(n => n.stopProviding(key)) }

  /**
   * The providers of `key` other than this page, each with its addresses (looked up by peer ID
   * when nobody on the way knew them; empty if that failed too).
   * @param {string} key
   * @param {{limit?: number}} [options] at most this many (1 to 20, default 20)
   * @returns {Promise<Array<{peerId: string, addresses: string[]}>>} possibly empty
   */
  findProviders (key, options) { return this.#call(n => n.findProviders(key, options)) }

  /**
   * Register (or update) a service this node provides. A record signed by this node (service
   * ID, type, its current addresses, metadata, lifetime) goes into the DHT and out on gossip,
   * and is refreshed at half its lifetime (and when the addresses change) until
   * `unregisterService`.
   * @param {string} serviceId 1 to 128 bytes, no control characters
   * @param {{type: string, metadata?: Record<string, string>, ttlSecs?: number}} options `type` 1 to 64 bytes; `metadata` up to 16 entries, 2 KiB in all; `ttlSecs` 30 to 86400 (default 600)
   * @returns {Promise<ServiceRecord>} rejects with INVALID_OPTIONS, PAYLOAD_TOO_LARGE, LIMIT_REACHED or DISCOVERY_FAILED
   */
  registerService (serviceId, options) { return this.#call(n => n.registerService(serviceId, options)) }

  /**
   * Stop providing a service: a signed departure supersedes the record in the DHT and is
   * announced over gossip (`service:departed` at the others).
   * @param {string} serviceId
   * @returns {Promise<boolean>} whether it was registered
   */
  unregisterService (serviceId) { return this.#call(n => n.unregisterService(serviceId)) }

  /**
   * The freshest live record of a service: from the DHT, merged with the announcements heard
   * over gossip. Records that are expired or not signed by their provider are never returned.
   * @param {string} serviceId
   * @returns {Promise<ServiceRecord>} rejects with NOT_FOUND
   */
  findService (serviceId) { return this.#call(n => n.findService(serviceId)) }

  /**
   * Measure stream throughput to a peer serving the libp2p perf protocol (`/perf/1.0.0`).
   * @param {string} peerId
   * @param {{uploadBytes?: number, downloadBytes?: number}} [options] bytes each way (default 0, at most 1 GiB)
   * @returns {Promise<{uploadBytes: number, downloadBytes: number, uploadMs: number, downloadMs: number}>}
   */
  perf (peerId, options) { return this.#call(n => n.perf(peerId, options)) }

  /** Close every connection. Later calls reject with NODE_STOPPED; calling it twice is fine. */
  async stop () {
    if (this.#stopped) return
    this.#stopped = true
    try {
      await this.#inner.stop()
    } catch (err) {
      throw toMeshworkError(err)
    }
  }
}

/**
 * Start a node.
 * @param {import('./index.d.ts').NodeOptions} [options]
 * @returns {Promise<MeshworkNode>} resolves once the bootstrap peers and relays are dialled
 */
export async function createNode (options = {}) {
  if (!isPlainObject(options)) {
    throw new MeshworkError(ErrorCode.INVALID_OPTIONS, 'options must be an object')
  }
  if (crashed) throw new MeshworkError(ErrorCode.PANIC, 'the meshwork module crashed earlier; reload the page')
  const { peerStore: storeOption, ...nodeOptions } = options
  const storeName = peerStoreName(storeOption)
  await loadWasm()
  const peerStore = storeName === null ? undefined : await openPeerStore(storeName)
  /** @type {MeshworkNode | undefined} */
  let node
  let live = false
  const early = []
  // Events arrive from the start (connections made while bootstrapping). Hold them, bounded,
  // until the caller has had the chance to add listeners after `await createNode()`, then
  // replay them in order and go live.
  const dispatch = (ev) => {
    if (ev?.type === 'error' && ev.code === ErrorCode.PANIC) crashed = true
    if (ev?.type === 'peerstore:loaded' && ev.discarded) console.warn(`meshwork: stored peers discarded: ${ev.discarded}`)
    if (live && node) {
      node.dispatchEvent(toDomEvent(ev))
    } else if (early.length < 1024) {
      early.push(ev)
    }
  }
  try {
    node = await MeshworkNode._start(nodeOptions, dispatch, peerStore)
  } catch (err) {
    throw toMeshworkError(err)
  }
  const started = node
  setTimeout(() => {
    for (const ev of early.splice(0)) started.dispatchEvent(toDomEvent(ev))
    live = true
  }, 0)
  return node
}

/** `peerStore`: `false` (off), or `{ name }` (default `{ name: 'default' }`); the store's name in
 * IndexedDB, or null when off. */
function peerStoreName (option) {
  if (option === false) return null
  if (option === undefined) return 'default'
  const name = isPlainObject(option) ? option.name ?? 'default' : undefined
  const keys = isPlainObject(option) ? Object.keys(option).filter((k) => k !== 'name') : []
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_STORE_NAME_CHARS || keys.length) {
    throw new MeshworkError(ErrorCode.INVALID_OPTIONS,
      `peerStore must be false or { name } with a name of 1 to ${MAX_STORE_NAME_CHARS} characters`)
  }
  return name
}

function toDomEvent (ev) {
  const { type, ...detail } = ev
  return new CustomEvent(type, { detail })
}

/**
 * The page's RTCPeerConnections: open now and created so far, by every meshwork node in it
 * (Chrome allows 500 per page; see `webrtc.maxTotalPeerConnections`).
 * @returns {Promise<{live: number, created: number}>}
 */
export async function peerConnectionUsage () {
  await loadWasm()
  return wasmPeerConnectionUsage()
}
