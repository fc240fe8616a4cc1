// A real meshwork-relay process on 127.0.0.1 with every port picked by the OS.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JsonLinesProcess } from './process.js'
import { relayBin, repoRoot } from './paths.js'

export async function startRelay (extraArgs = [], { dataDir } = {}) {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'mw-relay-'))
  const proc = new JsonLinesProcess('relay', relayBin, [
    '--json', '--listen-ip', '127.0.0.1', '--data-dir', dir,
    '--tcp-port', '0', '--quic-port', '0', '--ws-port', '0', '--webrtc-port', '0', '--webtransport-port', '0', '--http-port', '0',
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
