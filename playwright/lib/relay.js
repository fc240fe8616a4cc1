// A real meshwork-relay process on 127.0.0.1 with every port picked by the OS.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JsonLinesProcess } from './process.js'
import { relayBin, repoRoot } from './paths.js'
import { relayPorts } from './ports.js'

/**
 * Start a relay; `ports` ({ tcp, quic, ws, webrtc, webtransport, http }) fixes some ports (the
 * rest are picked by the OS), so that a restart comes back at the same addresses.
 */
export async function startRelay (extraArgs = [], { dataDir, ports = {} } = {}) {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'mw-relay-'))
  const portArgs = Object.entries({ tcp: 0, quic: 0, ws: 0, webrtc: 0, webtransport: 0, http: 0, ...ports })
    .flatMap(([name, port]) => [`--${name}-port`, String(port)])
  const proc = new JsonLinesProcess('relay', relayBin, [
    '--json', '--listen-ip', '127.0.0.1', '--data-dir', dir,
    ...portArgs,
    '--web-dir', join(repoRoot, 'web'), '--npm-dir', join(repoRoot, 'npm'),
    ...extraArgs
  ], { env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info,webrtc=warn,webrtc_ice=warn' } })
  const ready = await proc.waitFor((l) => l.event === 'ready', 30000)
  const byTransport = (re) => ready.addresses.find((a) => re.test(a))
  return {
    proc,
    dataDir: dir,
    peerId: ready.peerId,
    http: ready.http.replace(/\/$/, ''),
    addresses: ready.addresses,
    tcp: byTransport(/\/tcp\/\d+\/p2p\//),
    quic: byTransport(/\/quic-v1\/p2p\//),
    webtransport: byTransport(/\/webtransport\/certhash\//),
    ws: byTransport(/\/ws\/p2p\//),
    webrtc: byTransport(/\/webrtc-direct\//),
    async stop ({ keepData = false } = {}) {
      await proc.stop()
      if (!keepData && !dataDir) rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * A relay that can go away and come back: the same ports, data directory and identity each
 * time. `current` is the running process (or the last one); `down()` stops it and keeps its
 * data, `up()` starts it again, `dispose()` stops it and removes the data directory.
 */
export async function restartableRelay (extraArgs = []) {
  const dataDir = mkdtempSync(join(tmpdir(), 'mw-relay-'))
  const ports = await relayPorts()
  const r = {
    current: await startRelay(extraArgs, { dataDir, ports }),
    async down () { await r.current.stop({ keepData: true }) },
    async up () {
      r.current = await startRelay(extraArgs, { dataDir, ports })
      return r.current
    },
    async dispose () {
      await r.current.stop({ keepData: true })
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
  return r
}
