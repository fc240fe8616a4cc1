// WebTransport to meshwork-relay: transport order, certificate rotation with live sessions, and
// bad input on the listener (wrong path, wrong certhash, garbage on the handshake stream).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startRelay } from '../lib/relay.js'
import { startPeer } from '../lib/peer.js'
import { launchBrowser, openNodePage } from '../lib/browser.js'

let browser
before(async () => { browser = await launchBrowser() })
after(async () => { await browser?.close() })

const certhashes = (addr) => [...addr.matchAll(/\/certhash\/([^/]+)/g)].map((m) => m[1])

/** Gossip page → native and native → page on `topic`; throws if either way fails. */
async function gossipBothWays (page, peer, topic, tag) {
  await page.publishWhenReady(topic, `page ${tag}`)
  await peer.waitForMessage(`page ${tag}`)
  for (let i = 0; i < 100; i++) {
    await peer.publish(topic, `native ${tag}`)
    const got = await page.waitForEvent(`e.type === 'message' && e.data === 'native ${tag}'`, 100).catch(() => null)
    if (got) return
  }
  throw new Error(`native → page failed (${tag})`)
}

test('the default order prefers WebTransport; a configured order is honoured', async () => {
  const relay = await startRelay()
  try {
    const a = await openNodePage(browser, relay, { relayHttp: relay.http })
    const first = await a.waitForEvent(`e.type === 'peer:connect' && e.peerId === '${relay.peerId}'`)
    assert.equal(first.transport, 'webtransport')
    await a.close()
    const b = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['webrtc-direct', 'webtransport'] })
    const second = await b.waitForEvent(`e.type === 'peer:connect' && e.peerId === '${relay.peerId}'`)
    assert.equal(second.transport, 'webrtc-direct')
    await b.close()
  } finally {
    await relay.stop()
  }
})

test('certificate rotation: the live session survives and a new dial with the new hash succeeds', async () => {
  // validity − lead − clock-skew allowance = a 20 s rotation period; checked every second.
  const dir = mkdtempSync(join(tmpdir(), 'mw-rot-'))
  const config = join(dir, 'relay.toml')
  writeFileSync(config, '[webtransport]\ncert-validity-secs = 40\nrotation-lead-secs = 10\nclock-skew-secs = 10\nrotation-check-secs = 1\n')
  const relay = await startRelay(['--config', config])
  const topic = 'rotation'
  const peer = await startPeer({ dial: [relay.tcp], topics: [topic] })
  const a = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['webtransport'] })
  try {
    await a.call('(n, t) => n.subscribe(t)', topic)
    await gossipBothWays(a, peer, topic, 'before')
    const before = certhashes(relay.webtransport)
    assert.equal(before.length, 2, relay.webtransport)

    let after = before
    const deadline = Date.now() + 60000
    while (after.join() === before.join() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      const body = await (await fetch(`${relay.http}/api/addresses`)).json()
      const wt = body.addresses.find((x) => x.includes('/webtransport/'))
      if (wt) after = certhashes(wt)
    }
    assert.notDeepEqual(after, before, 'the relay rotated its certificates and announced the new hashes')
    assert.equal(after[0], before[1], 'the old next certificate became the current one')

    await gossipBothWays(a, peer, topic, 'after')
    const peersOfA = await a.call('(n) => n.peers()')
    assert.ok(peersOfA.some((p) => p.peerId === relay.peerId && p.transport === 'webtransport'))

    const b = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['webtransport'] })
    const c = await b.waitForEvent(`e.type === 'peer:connect' && e.peerId === '${relay.peerId}'`)
    assert.equal(c.transport, 'webtransport')
    await b.close()
  } finally {
    await a.close()
    await peer.stop()
    await relay.stop()
  }
})

test('wrong path, wrong certhash and garbage on the handshake stream are refused; other sessions keep working', async () => {
  const relay = await startRelay()
  const topic = 'wt-bad-input'
  const peer = await startPeer({ dial: [relay.tcp], topics: [topic] })
  const good = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['webtransport'] })
  const probe = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['websocket'] })
  try {
    await good.call('(n, t) => n.subscribe(t)', topic)
    await gossipBothWays(good, peer, topic, 'start')

    // A certhash of the right shape but for another certificate.
    const wrongHash = relay.webtransport.replace(/\/certhash\/[^/]+\/certhash\/[^/]+/, '/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMuY2SFA')
    // Dialled from a second node in the probe page that knows no one (the first one is already
    // connected to the relay, so its dial would be answered from the existing connection).
    const dialed = await probe.page.evaluate(async (addr) => {
      const { createNode } = await import('/npm/src/index.js')
      const loner = await createNode({})
      try { await loner.dial(addr); return 'resolved' } catch (e) { return e.code } finally { await loner.stop() }
    }, wrongHash)
    assert.equal(dialed, 'DIAL_FAILED')

    const raw = await probe.page.evaluate(async (addr) => {
      const [, host, port] = addr.match(/\/ip4\/([^/]+)\/udp\/(\d+)\//)
      const hashes = [...addr.matchAll(/\/certhash\/u([^/]+)/g)].map((m) => {
        const b64 = m[1].replace(/-/g, '+').replace(/_/g, '/')
        const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - b64.length % 4) % 4)), (ch) => ch.charCodeAt(0))
        return { algorithm: 'sha-256', value: bytes.slice(2) } // drop the multihash header (0x12 0x20)
      })
      const open = (path) => new WebTransport(`https://${host}:${port}${path}`, { serverCertificateHashes: hashes })
      const outcome = async (p, ms) => Promise.race([
        p.then(() => 'ok', (e) => `rejected: ${e.message}`),
        new Promise((resolve) => setTimeout(() => resolve('timeout'), ms))
      ])
      const wrongPath = open('/not-libp2p')
      const wrongPathResult = await outcome(wrongPath.ready, 10000)
      const garbage = open('/.well-known/libp2p-webtransport?type=noise')
      const readyResult = await outcome(garbage.ready, 10000)
      let closedResult = 'not reached'
      if (readyResult === 'ok') {
        const stream = await garbage.createBidirectionalStream()
        const writer = stream.writable.getWriter()
        await writer.write(new Uint8Array(512).fill(0xab)).catch(() => {})
        closedResult = await outcome(garbage.closed, 20000)
      }
      return { wrongPathResult, readyResult, closedResult }
    }, relay.webtransport)
    assert.match(raw.wrongPathResult, /^rejected/, 'wrong path refused')
    assert.equal(raw.readyResult, 'ok', 'the right path is served')
    assert.notEqual(raw.closedResult, 'timeout', 'the garbage session was closed by the relay')

    await gossipBothWays(good, peer, topic, 'end')
    const late = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['webtransport'] })
    const c = await late.waitForEvent(`e.type === 'peer:connect' && e.peerId === '${relay.peerId}'`)
    assert.equal(c.transport, 'webtransport')
    await late.close()
    assert.equal(relay.proc.child.exitCode, null)
  } finally {
    await good.close()
    await probe.close()
    await peer.stop()
    await relay.stop()
  }
})
