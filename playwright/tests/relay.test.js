// meshwork-relay as an operator sees it: persisted identity, addresses over HTTP, clear errors,
// clean shutdown, and no crash on garbage from peers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { createSocket } from 'node:dgram'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startRelay } from '../lib/relay.js'
import { startPeer } from '../lib/peer.js'
import { relayBin } from '../lib/paths.js'

const run = promisify(execFile)

/** Run the relay expecting it to fail; resolves with { code, stderr }. */
async function runFailing (args, ms = 20000) {
  const child = spawn(relayBin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), ms)
  const [code] = await once(child, 'exit')
  clearTimeout(timer)
  return { code, stderr }
}

/** Flags for a relay on 127.0.0.1 with OS-picked ports, `overrides` replacing single ports. */
function portArgs (overrides = {}) {
  const ports = { tcp: 0, quic: 0, ws: 0, webrtc: 0, webtransport: 0, http: 0, ...overrides }
  return ['--listen-ip', '127.0.0.1', ...Object.entries(ports).flatMap(([k, v]) => [`--${k}-port`, String(v)])]
}

test('--help documents every flag', async () => {
  const { stdout } = await run(relayBin, ['--help'])
  for (const flag of ['--config', '--data-dir', '--listen-ip', '--tcp-port', '--quic-port', '--ws-port', '--webrtc-port', '--webtransport-port', '--http-port', '--web-dir', '--npm-dir', '--topic', '--json']) {
    assert.match(stdout, new RegExp(`${flag}\\b`), `${flag} missing from --help`)
  }
  assert.match(stdout, /default: 4001/)
})

test('the identity survives a restart and its file is private', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mw-id-'))
  const first = await startRelay([], { dataDir })
  await first.stop()
  const second = await startRelay([], { dataDir })
  try {
    assert.equal(second.peerId, first.peerId)
    assert.equal(statSync(join(dataDir, 'identity.key')).mode & 0o777, 0o600)
    // The WebRTC certificate is kept too, so the certhash does not change either.
    const hash = (r) => r.webrtc.match(/certhash\/([^/]+)/)[1]
    assert.equal(hash(second), hash(first))
  } finally {
    await second.stop()
  }
})

test('GET /api/addresses lists every transport with /p2p and the WebRTC certhash', async () => {
  const relay = await startRelay()
  try {
    const res = await fetch(`${relay.http}/api/addresses`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('access-control-allow-origin'), '*')
    const body = await res.json()
    assert.equal(body.peerId, relay.peerId)
    for (const re of [/\/tcp\/\d+\/p2p\//, /\/quic-v1\/p2p\//, /\/ws\/p2p\//, /\/webrtc-direct\/certhash\/[\w-]+/, /\/quic-v1\/webtransport\/certhash\/[\w-]+\/certhash\/[\w-]+\//]) {
      assert.ok(body.addresses.some((a) => re.test(a) && a.endsWith(`/p2p/${relay.peerId}`)), `${re} in ${body.addresses}`)
    }
    const page = await fetch(`${relay.http}/`)
    assert.match(await page.text(), /meshwork/)
    const wasm = await fetch(`${relay.http}/npm/dist/wasm/meshwork_browser_bg.wasm`)
    assert.equal(wasm.headers.get('content-type'), 'application/wasm')
  } finally {
    await relay.stop()
  }
})

test('a bad config file is refused with a message naming the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-cfg-'))
  const file = join(dir, 'relay.toml')
  writeFileSync(file, 'tcp-prot = 4001\n')
  const r = await runFailing(['--config', file, ...portArgs(), '--data-dir', dir])
  assert.notEqual(r.code, 0)
  assert.match(r.stderr, /tcp-prot/)
  writeFileSync(file, '[node.gossip]\nmaxMessageBytes = 0\n')
  const r2 = await runFailing(['--config', file, ...portArgs(), '--data-dir', dir])
  assert.notEqual(r2.code, 0)
  assert.match(r2.stderr, /maxMessageBytes/)
  const r3 = await runFailing(['--config', join(dir, 'missing.toml'), ...portArgs()])
  assert.match(r3.stderr, /cannot read config file/)
})

test('a taken port is a clear error, not a crash', async () => {
  const blocker = createServer().listen(0, '127.0.0.1')
  await once(blocker, 'listening')
  const port = blocker.address().port
  try {
    const dir = mkdtempSync(join(tmpdir(), 'mw-port-'))
    const r = await runFailing([...portArgs({ tcp: port }), '--data-dir', dir])
    assert.equal(r.code, 1)
    assert.match(r.stderr, new RegExp(`cannot listen on /ip4/127.0.0.1/tcp/${port}: .*[Aa]ddress.*in use`))
    const r2 = await runFailing([...portArgs({ http: port }), '--data-dir', dir])
    assert.equal(r2.code, 1)
    assert.match(r2.stderr, /cannot listen for HTTP/)
  } finally {
    blocker.close()
  }
})

test('garbage from peers on every port does not hurt the relay', async () => {
  const relay = await startRelay()
  try {
    const port = (addr, proto) => Number(addr.match(new RegExp(`/${proto}/(\\d+)`))[1])
    for (const addr of [relay.tcp, relay.ws]) {
      for (const junk of [Buffer.alloc(4096, 0xff), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from('/multistream/1.0.0\n')]) {
        const s = connect(port(addr, 'tcp'), '127.0.0.1')
        s.on('error', () => {})
        await once(s, 'connect')
        s.write(junk)
        s.end()
      }
    }
    const udp = createSocket('udp4')
    for (const addr of [relay.quic, relay.webrtc, relay.webtransport]) {
      for (let i = 0; i < 50; i++) udp.send(Buffer.alloc(1200, i), port(addr, 'udp'), '127.0.0.1')
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
    udp.close()
    assert.equal(relay.proc.child.exitCode, null, 'relay still running')
    const peer = await startPeer({ dial: [relay.tcp] })
    try {
      assert.ok(peer.proc.lines.some((l) => l.event === 'dialed'), 'a real peer still connects')
    } finally {
      await peer.stop()
    }
    assert.ok(!relay.proc.stderr.some((l) => /panicked/.test(l)), relay.proc.stderr.join('\n'))
  } finally {
    await relay.stop()
  }
})

test('SIGTERM shuts the relay down cleanly with exit code 0', async () => {
  const relay = await startRelay()
  const started = Date.now()
  process.kill(relay.proc.child.pid, 'SIGTERM')
  const [code, signal] = await relay.proc.exited
  assert.equal(signal, null, 'the relay handled SIGTERM rather than dying of it')
  assert.equal(code, 0)
  assert.ok(Date.now() - started < 10000)
})
