// A real native meshwork peer process (meshwork-peer), driven by JSON lines.
import { JsonLinesProcess } from './process.js'
import { peerBin } from './paths.js'

let refs = 0

export async function startPeer ({ dial = [], topics = [], listen = [], config } = {}) {
  const args = []
  for (const d of dial) args.push('--dial', d)
  for (const l of listen) args.push('--listen', l)
  for (const t of topics) args.push('--topic', t)
  if (config) args.push('--config', JSON.stringify(config))
  const proc = new JsonLinesProcess('peer', peerBin, args)
  const ready = await proc.waitFor((l) => l.event === 'ready', 20000)
  if (dial.length) await proc.waitFor((l) => l.event === 'dialed' || l.event === 'error', 20000)
  return {
    proc,
    peerId: ready.peerId,
    /** Publish text; resolves with the `published` or `error` line. */
    async publish (topic, text) {
      const ref = ++refs
      const from = proc.lines.length
      proc.send({ cmd: 'publish', topic, text, ref })
      return proc.waitFor((l) => l.ref === ref, 10000, from)
    },
    /** Send any command; resolves with its answer line (same `ref`). */
    async command (cmd, ms = 60000) {
      const ref = ++refs
      const from = proc.lines.length
      proc.send({ ...cmd, ref })
      return proc.waitFor((l) => l.ref === ref, ms, from)
    },
    /** Message lines received so far (optionally on `topic`). */
    messages (topic) {
      return proc.lines.filter((l) => l.event === 'message' && (topic === undefined || l.topic === topic))
    },
    waitForMessage (text, ms = 20000) {
      return proc.waitFor((l) => l.event === 'message' && l.text === text, ms)
    },
    stop () { return proc.stop() }
  }
}
