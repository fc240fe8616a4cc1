// Browser entry of the js-libp2p side of bench/compare.js, bundled with esbuild (bundle.js).
// Same feature set as meshwork's wasm node: WebSocket, WebTransport, WebRTC-direct and
// browser-to-browser WebRTC, circuit relay v2 client, Noise, yamux, gossipsub, identify, ping and
// Kademlia (client mode).
//
// `window.jsbench.start({ relayAddr })` creates the node and dials the relay; it resolves with
// `connectedAt` (performance.now(), i.e. ms since navigation start) once the connection is up.
// The other members (subscribe, publish, retriable, onMessage) are the stack-neutral surface the
// comparison scenarios drive in both kinds of page (see bench/compare-pages.js).
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { kadDHT } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { webRTC, webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { webTransport } from '@libp2p/webtransport'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

let node = null

async function start ({ relayAddr, dialTimeoutMs = 15000 } = {}) {
  if (node != null) throw new Error('already started')
  const startedAt = performance.now()
  node = await createLibp2p({
    addresses: { listen: ['/p2p-circuit', '/webrtc'] },
    transports: [
      webSockets(),
      webTransport(),
      // No ICE servers: nothing outside the machine may be contacted.
      webRTCDirect({ rtcConfiguration: { iceServers: [] } }),
      webRTC({ rtcConfiguration: { iceServers: [] } }),
      circuitRelayTransport()
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The browser default refuses to dial loopback addresses.
    connectionGater: { denyDialMultiaddr: () => false },
    // As on the relay (jslibp2p/relay.js): a ping that times out under load does not abort the
    // connection with messages in flight.
    connectionMonitor: { abortConnectionOnPingFailure: false },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({ clientMode: true }),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictSign',
        allowPublishToZeroTopicPeers: false,
        emitSelf: false,
        // All pages share 127.0.0.1: no per-IP colocation penalty.
        scoreParams: { IPColocationFactorWeight: 0, IPColocationFactorThreshold: 1000 }
      })
    }
  })
  const conn = await node.dial(multiaddr(relayAddr), { signal: AbortSignal.timeout(dialTimeoutMs) })
  const connectedAt = performance.now()
  return { peerId: node.peerId.toString(), startedAt, connectedAt, remoteAddr: conn.remoteAddr.toString() }
}

function pubsub () {
  if (node == null) throw new Error('jsbench not started')
  return node.services.pubsub
}

window.jsbench = {
  start,
  subscribe (topic) { pubsub().subscribe(topic) },
  async publish (topic, data) { await pubsub().publish(topic, data) },
  /** Publish errors worth retrying: no subscribed peer known yet. */
  retriable (e) { return /NoPeersSubscribedToTopic/.test(String(e?.message ?? e)) },
  onMessage (cb) {
    pubsub().addEventListener('message', (e) => cb(e.detail.topic, e.detail.data))
  },
  meshPeers (topic) { return pubsub().getMeshPeers(topic).map(String) },
  async stop () {
    if (node != null) await node.stop()
    node = null
  }
}
