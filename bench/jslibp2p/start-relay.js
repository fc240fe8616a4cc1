// Start bench/jslibp2p/relay.js (the js-libp2p relay in Node.js) as a child process and wait
// for its ready line; shaped like playwright/lib/relay.js's startRelay (proc, peerId, addresses,
// ws, webrtc, stop).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { JsonLinesProcess } from '../../playwright/lib/process.js'

const script = join(dirname(fileURLToPath(import.meta.url)), 'relay.js')

/**
 * `topics`: the topics the relay subscribes to (and so forwards between pages);
 * `maxConnections` and `meshDegree` as relay.js documents (for the scale bench).
 */
export async function startJsRelay ({ topics = [], webrtc = true, maxConnections = 4096, meshDegree = null } = {}) {
  const args = [script, '--config', JSON.stringify({ topics, webrtc, maxConnections, meshDegree })]
  const proc = new JsonLinesProcess('js-relay', process.execPath, args)
  let ready
  try {
    ready = await proc.waitFor((l) => l.event === 'ready', 30000)
  } catch (e) {
    await proc.stop()
    throw e
  }
  const find = (re) => ready.addresses.find((a) => re.test(a))
  return {
    proc,
    peerId: ready.peerId,
    addresses: ready.addresses,
    ws: find(/\/ws\/p2p\//),
    webrtc: find(/\/webrtc-direct\//),
    stop: () => proc.stop()
  }
}
