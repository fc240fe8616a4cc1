// Every API path rejects bad input with a MeshworkError carrying a stable code, nothing panics,
// and the node keeps working afterwards.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startRelay } from '../lib/relay.js'
import { launchBrowser, openNodePage } from '../lib/browser.js'

let relay, browser, page
before(async () => {
  relay = await startRelay()
  browser = await launchBrowser()
  page = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['websocket'] })
})
after(async () => {
  await page?.close()
  await browser?.close()
  await relay?.stop()
})

/** Run `src` (a function of the node) in the page; return the rejection's name/code, or 'resolved'. */
async function outcome (src, arg) {
  return page.page.evaluate(async ({ src, arg }) => {
    try {
      await new Function('arg', `return (${src})(window.mw.node, arg)`)(arg)
      return 'resolved'
    } catch (e) {
      const { MeshworkError } = await import('/npm/src/index.js')
      return { name: e.name, code: e.code, isMeshworkError: e instanceof MeshworkError, message: e.message }
    }
  }, { src, arg })
}

const cases = [
  ['dial an unparsable multiaddr', "(n) => n.dial('not a multiaddr')", 'INVALID_MULTIADDR'],
  ['dial an empty string', "(n) => n.dial('')", 'INVALID_MULTIADDR'],
  ['dial a number', '(n) => n.dial(42)', 'INVALID_MULTIADDR'],
  ['dial a huge string', "(n) => n.dial('/ip4'.repeat(100000))", 'INVALID_MULTIADDR'],
  ['dial a closed port', "(n) => n.dial('/ip4/127.0.0.1/tcp/1/ws')", 'DIAL_FAILED'],
  ['dial a peer ID with no route to it', "(n) => n.dial('12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5STiGwxBhgFRcw3UERE')", 'DIAL_FAILED'],
  ['subscribe to an empty topic', "(n) => n.subscribe('')", 'INVALID_TOPIC'],
  ['subscribe to a non-string', '(n) => n.subscribe({})', 'INVALID_TOPIC'],
  ['subscribe to a topic with a newline', "(n) => n.subscribe('a\\nb')", 'INVALID_TOPIC'],
  ['unsubscribe from undefined', '(n) => n.unsubscribe()', 'INVALID_TOPIC'],
  ['publish a string payload', "(n) => n.publish('t', 'text')", 'INVALID_PAYLOAD'],
  ['publish an ArrayBuffer', "(n) => n.publish('t', new ArrayBuffer(4))", 'INVALID_PAYLOAD'],
  ['publish null', "(n) => n.publish('t', null)", 'INVALID_PAYLOAD'],
  ['publish over the maximum', "(n) => n.publish('t', new Uint8Array(n.maxPayloadBytes + 1))", 'PAYLOAD_TOO_LARGE'],
  ['publish with an unknown option', "(n) => n.publish('t', new Uint8Array(1), { priority: 'urgent' })", 'INVALID_OPTIONS'],
  ['publish with a misspelt option', "(n) => n.publish('t', new Uint8Array(1), { prio: 'high' })", 'INVALID_OPTIONS'],
  ['setValidator with a non-function', "(n) => n.setValidator('t', 'accept')", 'INVALID_OPTIONS'],
  ['setValidator on a bad topic', "(n) => n.setValidator('', () => 'accept')", 'INVALID_TOPIC'],
  ['publish with no subscribed peer', "(n) => n.publish('nobody-listens', new Uint8Array(1))", 'NO_PEERS'],
  ['publish to a bad topic', "(n) => n.publish('', new Uint8Array(1))", 'INVALID_TOPIC'],
  ['perf with a non-string peer ID', '(n) => n.perf(7)', 'INVALID_PEER_ID'],
  ['perf with a malformed peer ID', "(n) => n.perf('12D3KooWnot-a-peer')", 'INVALID_PEER_ID'],
  ['perf with an unknown option', "(n) => n.perf(n.peerId, { uploadByte: 1 })", 'INVALID_OPTIONS'],
  ['perf with a negative count', "(n) => n.perf(n.peerId, { uploadBytes: -1 })", 'INVALID_OPTIONS'],
  ['perf with a fractional count', "(n) => n.perf(n.peerId, { downloadBytes: 1.5 })", 'INVALID_OPTIONS'],
  ['perf with more than 1 GiB', "(n) => n.perf(n.peerId, { uploadBytes: 2 ** 31 })", 'INVALID_OPTIONS']
]

for (const [name, src, code] of cases) {
  test(`${name} rejects with ${code}`, async () => {
    const r = await outcome(src)
    assert.equal(typeof r, 'object', `expected a rejection, got ${r}`)
    assert.equal(r.code, code, r.message)
    assert.equal(r.name, 'MeshworkError')
    assert.ok(r.isMeshworkError)
  })
}

const badOptions = [
  ['a string', "'x'", 'INVALID_OPTIONS'],
  ['an unknown key', '({ bootstarp: [] })', 'INVALID_OPTIONS'],
  ['an ICE server that is not STUN/TURN', "({ webrtc: { iceServers: [{ urls: ['http://example.org'] }] } })", 'INVALID_OPTIONS'],
  ['an unknown webrtc key', '({ webrtc: { stunServers: [] } })', 'INVALID_OPTIONS'],
  ['more peer connections than the browser allows', '({ webrtc: { maxTotalPeerConnections: 501 } })', 'INVALID_OPTIONS'],
  ['a non-browser transport', "({ transports: ['tcp'] })", 'INVALID_OPTIONS'],
  ['a bad relay URL', "({ relayHttp: 'ftp://x' })", 'INVALID_OPTIONS'],
  ['a bad bootstrap address', "({ bootstrap: ['/ip4/1.2.3.4/tcp/x'] })", 'INVALID_MULTIADDR'],
  ['a zero message limit', '({ node: { gossip: { maxMessageBytes: 0 } } })', 'INVALID_OPTIONS'],
  ['a misspelt flood option', '({ node: { gossip: { flood: { perPeerMessagesPerSecond: 5 } } } })', 'INVALID_OPTIONS'],
  ['a zero flood rate', '({ node: { gossip: { flood: { perPeerMessagesPerSec: 0 } } } })', 'INVALID_OPTIONS'],
  ['an unordered gossip mesh', '({ node: { gossip: { mesh: { low: 8, target: 6, high: 12 } } } })', 'INVALID_OPTIONS'],
  ['a log level that is not one', "({ logLevel: 'libp2p=loud' })", 'INVALID_OPTIONS'],
  ['an empty log level', "({ logLevel: '' })", 'INVALID_OPTIONS'],
  ['a log level that is not a string', '({ logLevel: 3 })', 'INVALID_OPTIONS'],
  ['a relay URL where nothing listens', "({ relayHttp: 'http://127.0.0.1:1' })", 'FETCH_FAILED'],
  ['a relay URL that is not a relay', '({ relayHttp: location.origin + "/npm" })', 'FETCH_FAILED']
]

for (const [name, optionsSrc, code] of badOptions) {
  test(`createNode with ${name} rejects with ${code}`, async () => {
    const r = await page.page.evaluate(async (optionsSrc) => {
      const { createNode } = await import('/npm/src/index.js')
      try {
        const n = await createNode(new Function(`return ${optionsSrc}`)())
        await n.stop()
        return 'resolved'
      } catch (e) {
        return { name: e.name, code: e.code, message: e.message }
      }
    }, optionsSrc)
    assert.equal(typeof r, 'object', `expected a rejection, got ${r}`)
    assert.equal(r.code, code, r.message)
    assert.equal(r.name, 'MeshworkError')
  })
}

test('logLevel sends the node\'s log to the console', async () => {
  const logged = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['websocket'], logLevel: 'info,libp2p_gossipsub=debug' })
  try {
    await logged.call("(n) => n.subscribe('logged')")
    const deadline = Date.now() + 10000
    while (!logged.consoleLines.some((l) => /libp2p_gossipsub/.test(l)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.ok(logged.consoleLines.some((l) => /INFO libp2p_swarm: local_peer_id=/.test(l)), logged.consoleLines.slice(0, 20).join('\n'))
    assert.ok(logged.consoleLines.some((l) => /DEBUG libp2p_gossipsub/.test(l)), 'gossipsub debug lines')
    assert.ok(!logged.consoleLines.some((l) => /DEBUG libp2p_kad/.test(l)), 'other modules stay at info')
  } finally {
    await logged.close()
  }
})

test('perf to a relay that does not serve it rejects with STREAM_FAILED', async () => {
  const r = await outcome('(n, relay) => n.perf(relay, { uploadBytes: 1024 })', relay.peerId)
  assert.equal(r.code, 'STREAM_FAILED', r.message)
  assert.match(r.message, /perf/)
})

test('after all that the node still works and no panic was reported', async () => {
  assert.equal(await page.call("(n) => n.subscribe('still-alive')"), true)
  const peers = await page.call('(n) => n.peers()')
  assert.ok(peers.some((p) => p.peerId === relay.peerId))
  const panics = (await page.events()).filter((e) => e.type === 'error' && e.code === 'PANIC')
  assert.deepEqual(panics, [])
  assert.ok(!page.consoleLines.some((l) => /panicked|RuntimeError|unreachable/.test(l)), page.consoleLines.join('\n'))
})

test('every call after stop() rejects with NODE_STOPPED; stop() twice is fine', async () => {
  const other = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['websocket'] })
  try {
    const codes = await other.page.evaluate(async () => {
      const n = window.mw.node
      await n.stop()
      await n.stop()
      const calls = [() => n.dial('/ip4/127.0.0.1/tcp/1/ws'), () => n.subscribe('t'), () => n.unsubscribe('t'),
        () => n.publish('t', new Uint8Array(1)), () => n.peers(), () => n.listenAddresses(),
        () => n.perf(n.peerId), () => n.setValidator('t', null), () => n.stats()]
      const out = []
      for (const c of calls) {
        try { await c(); out.push('resolved') } catch (e) { out.push(e.code) }
      }
      return out
    })
    assert.deepEqual(codes, Array(9).fill('NODE_STOPPED'))
  } finally {
    await other.close()
  }
})
