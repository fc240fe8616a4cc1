// A js-libp2p 3.x relay in Node.js, the js-libp2p counterpart of meshwork-relay for
// bench/compare.js: WebSocket (and WebRTC-direct, through node-datachannel, which the npm
// registry ships prebuilt) on 127.0.0.1, Noise, yamux, a circuit relay v2 server with its limits
// lifted, gossipsub, identify, ping and Kademlia (server mode); a failed ping does not abort a
// connection (the default does, losing messages under load). js-libp2p has no WebTransport
// listener for Node.js, so there is none here.
//
// js gossipsub does not follow the topics its peers use, so the relay subscribes to the topics
// it is given, which makes it forward them between pages.
//
// Usage: node bench/jslibp2p/relay.js [--ws-port N] [--webrtc-port N] [--no-webrtc]
//        [--topic T]... [--config '{"topics":[…],"maxConnections":N,"meshDegree":D}']
// When ready it prints one JSON line, {"event":"ready","peerId":…,"addresses":[…]}, on stdout;
// it stops cleanly on SIGTERM or SIGINT (exit code 0), or when stdin closes.
import { register } from 'node:module'

// The npm packages live in playwright/node_modules: resolve them from there.
register('./resolve-from-playwright.js', import.meta.url)
const { noise } = await import('@chainsafe/libp2p-noise')
const { yamux } = await import('@chainsafe/libp2p-yamux')
const { circuitRelayServer } = await import('@libp2p/circuit-relay-v2')
const { gossipsub } = await import('@libp2p/gossipsub')
const { identify } = await import('@libp2p/identify')
const { kadDHT } = await import('@libp2p/kad-dht')
const { ping } = await import('@libp2p/ping')
const { webRTCDirect } = await import('@libp2p/webrtc')
const { webSockets } = await import('@libp2p/websockets')
const { createLibp2p } = await import('libp2p')

// libp2p 3.x expects Node 22; Node 20 lacks Promise.withResolvers.
Promise.withResolvers ??= function () {
  let resolve, reject
  const promise = new this((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

function parseArgs (argv) {
  // maxConnections: the connection manager's limit; meshDegree: gossipsub's D and Dhi (null keeps
  // js-libp2p's 6/12; the scale bench raises it, as meshwork-relay forwards to every subscriber).
  const opts = { wsPort: 0, webrtcPort: 0, webrtc: true, topics: [], maxConnections: 4096, meshDegree: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    if (a === '--ws-port') opts.wsPort = Number(next())
    else if (a === '--webrtc-port') opts.webrtcPort = Number(next())
    else if (a === '--no-webrtc') opts.webrtc = false
    else if (a === '--topic') opts.topics.push(next())
    else if (a === '--config') {
      const c = JSON.parse(next())
      for (const [k, v] of Object.entries(c)) {
        if (k === 'topics') opts.topics.push(...v)
        else if (k in opts) opts[k] = v
        else throw new Error(`unknown config key ${k}`)
      }
    } else throw new Error(`unknown argument ${a}`)
  }
  return opts
}

const opts = parseArgs(process.argv.slice(2))
const listen = [`/ip4/127.0.0.1/tcp/${opts.wsPort}/ws`]
if (opts.webrtc) listen.push(`/ip4/127.0.0.1/udp/${opts.webrtcPort}/webrtc-direct`)

const node = await createLibp2p({
  addresses: { listen },
  transports: [webSockets(), ...(opts.webrtc ? [webRTCDirect({ rtcConfiguration: { iceServers: [] } })] : [])],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: {
    maxConnections: opts.maxConnections,
    // Benchmarks open pages one after another from one address.
    inboundConnectionThreshold: 10000,
    maxIncomingPendingConnections: 512
  },
  // By default a connection whose ping times out is aborted, and under a gossip flood pings wait
  // behind the messages: the connection drops with messages in flight. meshwork (rust-libp2p
  // ping) only reports failed pings, so here too.
  connectionMonitor: { abortConnectionOnPingFailure: false },
  services: {
    identify: identify(),
    ping: ping(),
    relay: circuitRelayServer({
      reservations: { maxReservations: 1024, applyDefaultLimit: false }
    }),
    dht: kadDHT({ clientMode: false }),
    pubsub: gossipsub({
      globalSignaturePolicy: 'StrictSign',
      allowPublishToZeroTopicPeers: true,
      emitSelf: false,
      // All pages share 127.0.0.1: no per-IP colocation penalty.
      scoreParams: { IPColocationFactorWeight: 0, IPColocationFactorThreshold: 1000 },
      ...(opts.meshDegree ? { D: opts.meshDegree, Dlo: Math.min(64, opts.meshDegree), Dhi: opts.meshDegree } : {})
    })
  }
})

for (const t of opts.topics) node.services.pubsub.subscribe(t)

let stopping = false
async function shutdown (code = 0) {
  if (stopping) return
  stopping = true
  const timer = setTimeout(() => process.exit(code), 5000)
  timer.unref()
  try { await node.stop() } catch (e) { console.error(`stop: ${e.message}`) }
  process.exit(code)
}
process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))
process.stdin.on('end', () => shutdown(0))
process.stdin.resume()

console.log(JSON.stringify({
  event: 'ready',
  peerId: node.peerId.toString(),
  addresses: node.getMultiaddrs().map(String),
  topics: opts.topics,
  pid: process.pid
}))
