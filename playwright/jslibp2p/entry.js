// Browser entry for the js-libp2p test peer (bundled by lib/jslibp2p.js with esbuild).
//
// `window.jsnode.start({ relayAddrs, topic })` creates a js-libp2p 3.x node that reaches the
// relay over WebSocket (or WebTransport / WebRTC-direct if asked), reserves a circuit slot, and
// listens for browser-to-browser WebRTC (`/webrtc`, private-to-private) through it. Everything
// the node sees is recorded in `window.jsnode.events` (plain JSON, for Playwright).
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { enable as enableLogs } from '@libp2p/logger'
import { ping } from '@libp2p/ping'
import { webRTC, webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { webTransport } from '@libp2p/webtransport'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const events = []
const MAX_EVENTS = 20000
const record = (type, detail = {}) => {
  if (events.length < MAX_EVENTS) events.push({ type, at: Date.now(), ...detail })
}

/** True when a connection's remote address is browser-to-browser WebRTC (not the relayed hop). */
const isWebRTC = (ma) => ma.getComponents().some((c) => c.name === 'webrtc')

const describe = (conn) => ({
  peer: conn.remotePeer.toString(),
  remoteAddr: conn.remoteAddr.toString(),
  status: conn.status,
  direction: conn.direction,
  direct: conn.direct,
  webrtc: isWebRTC(conn.remoteAddr),
  limited: conn.limits != null,
  multiplexer: conn.multiplexer,
  encryption: conn.encryption,
  id: conn.id
})

/**
 * meshwork's gossip message ID (crates/meshwork-core/src/gossip/message_id.rs): SHA-256 over
 * u64be(len(author)) ‖ author ‖ u64be(seqno) ‖ u64be(len(topic)) ‖ topic ‖ data, first 20 bytes.
 * Using it here keeps IHAVE/IWANT/IDONTWANT IDs the same on both sides.
 */
async function meshworkMsgId (msg) {
  const enc = new TextEncoder()
  const u64 = (n) => {
    const b = new Uint8Array(8)
    new DataView(b.buffer).setBigUint64(0, BigInt(n))
    return b
  }
  const parts = []
  if (msg.type === 'signed') {
    const author = msg.from.toMultihash().bytes
    parts.push(u64(author.length), author, u64(msg.sequenceNumber))
  } else {
    parts.push(u64(0), u64(0))
  }
  const topic = enc.encode(msg.topic)
  parts.push(u64(topic.length), topic, msg.data)
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let off = 0
  for (const p of parts) { all.set(p, off); off += p.length }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all))
  return digest.subarray(0, 20)
}

const TRANSPORTS = {
  ws: (a) => /\/ws(\/|$)/.test(a) && !/\/webtransport/.test(a),
  webtransport: (a) => /\/webtransport\//.test(a),
  'webrtc-direct': (a) => /\/webrtc-direct\//.test(a)
}

async function start (options = {}) {
  const {
    relayAddrs = [],
    topic,
    via = 'ws',
    msgId = 'meshwork',
    reservationTimeoutMs = 20000,
    gossip = {},
    debug
  } = options
  if (window.jsnode.node != null) throw new Error('already started')
  // js-libp2p debug logs (e.g. 'libp2p:webrtc*') go to the page console.
  if (debug) enableLogs(debug)
  const t0 = Date.now()

  const node = await createLibp2p({
    addresses: { listen: ['/p2p-circuit', '/webrtc'] },
    transports: [
      webSockets(),
      webTransport(),
      // No ICE servers anywhere: nothing outside the machine may be contacted.
      webRTCDirect({ rtcConfiguration: { iceServers: [] } }),
      webRTC({ rtcConfiguration: { iceServers: [] } }),
      circuitRelayTransport({ reservationCompletionTimeout: reservationTimeoutMs })
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The browser default refuses to dial private and loopback addresses.
    connectionGater: { denyDialMultiaddr: () => false },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictSign',
        allowPublishToZeroTopicPeers: false,
        emitSelf: false,
        ...(msgId === 'meshwork' ? { msgIdFn: meshworkMsgId } : {}),
        // All peers share 127.0.0.1 in tests: no per-IP colocation penalty.
        scoreParams: { IPColocationFactorWeight: 0, IPColocationFactorThreshold: 1000 },
        ...gossip
      })
    }
  })
  window.jsnode.node = node
  const pubsub = node.services.pubsub

  node.addEventListener('connection:open', (e) => record('connection:open', describe(e.detail)))
  node.addEventListener('connection:close', (e) => record('connection:close', describe(e.detail)))
  const peerConns = (peer) => node.getConnections(peer).map((c) => c.remoteAddr.toString())
  node.addEventListener('peer:connect', (e) => record('peer:connect', { peer: e.detail.toString(), remoteAddrs: peerConns(e.detail) }))
  node.addEventListener('peer:disconnect', (e) => record('peer:disconnect', { peer: e.detail.toString(), remoteAddrs: peerConns(e.detail) }))
  node.addEventListener('self:peer:update', () => record('addresses', { addresses: node.getMultiaddrs().map(String) }))
  // 'gossipsub:message' is dispatched right before 'message' and also names the peer the
  // message came through (`via`) and its ID.
  pubsub.addEventListener('gossipsub:message', (e) => {
    const { msg: m, propagationSource, msgId } = e.detail
    record('message', {
      topic: m.topic,
      from: m.type === 'signed' ? m.from.toString() : null,
      via: propagationSource.toString(),
      msgId,
      data: new TextDecoder().decode(m.data),
      bytes: m.data.length
    })
  })
  pubsub.addEventListener('subscription-change', (e) => record('subscription-change', {
    peer: e.detail.peerId.toString(),
    subscriptions: e.detail.subscriptions.map((s) => ({ topic: s.topic, subscribe: s.subscribe }))
  }))
  pubsub.addEventListener('gossipsub:graft', (e) => record('graft', { peer: e.detail.peerId, topic: e.detail.topic }))
  pubsub.addEventListener('gossipsub:prune', (e) => record('prune', { peer: e.detail.peerId, topic: e.detail.topic }))

  if (topic != null) pubsub.subscribe(topic)

  // Reach the relay over the chosen transport, then wait for the reservation to show up as a
  // /p2p-circuit/webrtc address of ours.
  const pick = TRANSPORTS[via]
  if (pick == null) throw new Error(`unknown transport ${via}`)
  const relayAddr = relayAddrs.find(pick)
  if (relayAddr == null) throw new Error(`no ${via} address among ${relayAddrs.join(' ')}`)
  const relayConn = await node.dial(multiaddr(relayAddr), { signal: AbortSignal.timeout(15000) })
  record('relay:connected', describe(relayConn))
  const hasWebRTCAddr = () => node.getMultiaddrs().some((a) => /\/p2p-circuit\/webrtc\/p2p\//.test(a.toString()))
  const deadline = Date.now() + reservationTimeoutMs
  while (!hasWebRTCAddr()) {
    if (Date.now() > deadline) {
      throw new Error(`no /p2p-circuit/webrtc address within ${reservationTimeoutMs} ms; have: ${node.getMultiaddrs().map(String).join(' ') || '(none)'}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  const readyAt = Date.now()
  record('ready', { ms: readyAt - t0 })
  return {
    peerId: node.peerId.toString(),
    addresses: node.getMultiaddrs().map(String),
    relayRemoteAddr: relayConn.remoteAddr.toString(),
    startedAt: t0,
    readyAt
  }
}

function requireNode () {
  const node = window.jsnode.node
  if (node == null) throw new Error('jsnode not started')
  return node
}

window.jsnode = {
  events,
  node: null,
  start,
  get peerId () { return window.jsnode.node?.peerId.toString() ?? null },
  addresses () { return requireNode().getMultiaddrs().map(String) },
  /** Dial an address; resolves with the connection's remote address and whether it is /webrtc. */
  async dial (addr, { timeoutMs = 20000 } = {}) {
    const node = requireNode()
    const t = Date.now()
    const conn = await node.dial(multiaddr(addr), { signal: AbortSignal.timeout(timeoutMs) })
    return { ...describe(conn), ms: Date.now() - t }
  },
  /** Publish text, retrying while gossipsub knows no subscriber to the topic yet. */
  async publish (topic, text, { timeoutMs = 15000 } = {}) {
    const pubsub = requireNode().services.pubsub
    const data = new TextEncoder().encode(text)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        const res = await pubsub.publish(topic, data)
        return { recipients: res.recipients.map(String) }
      } catch (e) {
        const noPeers = /NoPeersSubscribedToTopic/.test(String(e.message))
        if (!noPeers || Date.now() > deadline) throw new Error(`publish failed: ${e.name}: ${e.message}`)
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    }
  },
  subscribers (topic) { return requireNode().services.pubsub.getSubscribers(topic).map(String) },
  meshPeers (topic) { return requireNode().services.pubsub.getMeshPeers(topic) },
  connections () { return requireNode().getConnections().map(describe) },
  async ping (peerOrAddr) {
    const node = requireNode()
    const target = typeof peerOrAddr === 'string' && peerOrAddr.startsWith('/') ? multiaddr(peerOrAddr) : node.getConnections().find((c) => c.remotePeer.toString() === peerOrAddr)?.remotePeer
    if (target == null) throw new Error(`not connected to ${peerOrAddr}`)
    return node.services.ping.ping(target)
  },
  async stop () {
    const node = window.jsnode.node
    if (node != null) await node.stop()
  }
}
