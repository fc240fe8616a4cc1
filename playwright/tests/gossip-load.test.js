// Gossip under load, end to end: a JS validator, 10 MiB payloads page ↔ native, BACKPRESSURE in
// a page, and a flooding native peer that is throttled and banned while two pages and a native
// peer still get every honest message.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useRelayAndBrowser } from '../lib/suite.js'
import { startPeer } from '../lib/peer.js'
import { openNodePage } from '../lib/browser.js'

let relay, browser
useRelayAndBrowser((s) => ({ relay, browser } = s))

test('a JS validator (sync and async) decides what the page receives', async () => {
  const peer = await startPeer({ dial: [relay.tcp], topics: ['validated'] })
  const page = await openNodePage(browser, relay, { relayHttp: relay.http })
  try {
    await page.call(`async (n) => {
      await n.subscribe('validated')
      await n.setValidator('validated', (m) => {
        const text = new TextDecoder().decode(m.data)
        if (text.startsWith('bad')) return 'reject'
        if (text.startsWith('slow')) return new Promise((resolve) => setTimeout(() => resolve('accept'), 50))
        return 'accept'
      })
    }`)
    await page.publishWhenReady('validated', 'page is ready')
    await peer.waitForMessage('page is ready')
    for (const text of ['bad 1', 'good 1', 'slow 1', 'bad 2', 'good 2']) await peer.publish('validated', text)
    await page.waitForEvent("e.type === 'message' && e.data === 'good 2'")
    await page.waitForEvent("e.type === 'message' && e.data === 'slow 1'")
    const got = (await page.events()).filter((e) => e.type === 'message').map((e) => e.data)
    assert.ok(!got.some((t) => t.startsWith('bad')), got.join(','))
    const stats = await page.call('(n) => n.stats()')
    assert.equal(stats.topics.validated.rejected, 2)
    assert.ok(stats.topics.validated.delivered >= 3)
  } finally {
    await page.close()
    await peer.stop()
  }
})

/** SHA-256 hex of `len` bytes of the pattern meshwork-peer generates (i % 251). */
const patternSource = '(len) => { const a = new Uint8Array(len); for (let i = 0; i < len; i++) a[i] = i % 251; return a }'

/** What each side knows, for a failure message. */
async function gossipState (page, peer) {
  const relayStats = await (await fetch(`${relay.http}/api/stats`)).json().catch((e) => String(e))
  const pageStats = await page.call('(n) => n.stats()').catch((e) => String(e))
  return JSON.stringify({ relay: relayStats, page: pageStats, peerStderr: peer.proc.stderr.slice(-10) })
}

test('a 10 MiB payload goes native → page intact', async () => {
  const size = 10 * 1024 * 1024
  const peer = await startPeer({ dial: [relay.tcp], topics: ['big-n2p'] })
  const page = await openNodePage(browser, relay, { relayHttp: relay.http })
  try {
    await page.call("(n) => n.subscribe('big-n2p')")
    // Wait until the relay forwards native → page (the page is in its mesh): gossip has no
    // replay, and a set sent before that would reach the page only through IHAVE/IWANT, which
    // gossipsub caps at a few messages per heartbeat.
    let meshed = false
    for (let i = 0; i < 100 && !meshed; i++) {
      await peer.publish('big-n2p', `warm-up ${i}`)
      meshed = await page.waitForEvent("e.type === 'message' && e.data.startsWith('warm-up')", 100).then(() => true, () => false)
    }
    assert.ok(meshed, 'native → page works before the large payload')
    const sent = await peer.command({ cmd: 'publish', topic: 'big-n2p', bytes: size }, 60000)
      .catch(async (e) => { throw new Error(`${e.message}; ${await gossipState(page, peer)}`) })
    assert.equal(sent.event, 'published', JSON.stringify(sent))
    const got = await page.waitForEvent(`e.type === 'message' && e.bytes === ${size} && e.sha256`, 60000)
      .catch(async (e) => { throw new Error(`${e.message}; ${await gossipState(page, peer)}`) })
    assert.equal(got.sha256, sent.sha256)
  } finally {
    await page.close()
    await peer.stop()
  }
})

test('a 10 MiB payload goes page → native intact', async () => {
  const size = 10 * 1024 * 1024
  const peer = await startPeer({ dial: [relay.tcp], topics: ['big-p2n'] })
  const page = await openNodePage(browser, relay, { relayHttp: relay.http })
  try {
    await page.call("(n) => n.subscribe('big-p2n')")
    await page.publishWhenReady('big-p2n', 'page is ready')
    await peer.waitForMessage('page is ready')
    const from = peer.proc.lines.length
    await page.page.evaluate(async ({ size, patternSource }) => {
      const data = new Function(`return (${patternSource})`)()(size)
      await window.mw.node.publish('big-p2n', data)
    }, { size, patternSource })
    const line = await peer.proc.waitFor((l) => l.event === 'message' && l.bytes === size, 60000, from)
      .catch(async (e) => { throw new Error(`${e.message}; ${await gossipState(page, peer)}`) })
    const expected = await page.page.evaluate(async ({ size, patternSource }) => {
      const data = new Function(`return (${patternSource})`)()(size)
      const digest = await crypto.subtle.digest('SHA-256', data)
      return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
    }, { size, patternSource })
    assert.equal(line.sha256, expected)
  } finally {
    await page.close()
    await peer.stop()
  }
})

test('a page gets BACKPRESSURE when its queue is full, and keeps its connection', async () => {
  const peer = await startPeer({ dial: [relay.tcp], topics: ['bp'] })
  const page = await openNodePage(browser, relay, {
    relayHttp: relay.http,
    node: { gossip: { publishQueuePerTopic: 4, pacer: { initialBytesPerSec: 2048, minBytesPerSec: 1024, maxBytesPerSec: 4096 } } }
  })
  try {
    await page.publishWhenReady('bp', 'warm-up')
    const outcome = await page.page.evaluate(async () => {
      const n = window.mw.node
      const all = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => n.publish('bp', new Uint8Array(1024).fill(i))))
      return all.map((r) => r.status === 'fulfilled' ? 'ok' : r.reason.code)
    })
    assert.ok(outcome.includes('BACKPRESSURE'), outcome.join(','))
    assert.ok(outcome.includes('ok'), outcome.join(','))
    assert.ok(outcome.every((o) => o === 'ok' || o === 'BACKPRESSURE'), outcome.join(','))
    const peers = await page.call('(n) => n.peers()')
    assert.ok(peers.some((p) => p.peerId === relay.peerId), 'still connected to the relay')
    const stats = await page.call('(n) => n.stats()')
    assert.ok(stats.topics.bp.published >= 1)
  } finally {
    await page.close()
    await peer.stop()
  }
})

test('a native flooder at 10,000 msg/s is throttled and banned; honest pages and peer get 100%', async () => {
  const topic = 'crowd'
  const honestNative = await startPeer({ dial: [relay.tcp], topics: [topic] })
  const flooder = await startPeer({ dial: [relay.tcp], topics: [topic] })
  const a = await openNodePage(browser, relay, { relayHttp: relay.http })
  const b = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['webrtc-direct'] })
  try {
    for (const p of [a, b]) await p.call((`(n) => n.subscribe('${topic}')`))
    await a.publishWhenReady(topic, 'a ready')
    await b.publishWhenReady(topic, 'b ready')
    await honestNative.waitForMessage('a ready')
    await honestNative.waitForMessage('b ready')
    // Every honest node hears every other before the flood (the relay's mesh is formed).
    for (let i = 0; i < 100; i++) {
      await honestNative.publish(topic, `native warm-up ${i}`)
      await a.call('(n, a) => n.publish(a.topic, new TextEncoder().encode(a.text))', { topic, text: `a warm-up ${i}` })
      await b.call('(n, a) => n.publish(a.topic, new TextEncoder().encode(a.text))', { topic, text: `b warm-up ${i}` })
      await new Promise((resolve) => setTimeout(resolve, 100))
      const heard = async (p, tags) => {
        const got = (await p.events()).filter((e) => e.type === 'message').map((e) => e.data)
        return tags.every((t) => got.some((d) => d.startsWith(`${t} warm-up`)))
      }
      if (await heard(a, ['native', 'b']) && await heard(b, ['native', 'a'])) break
    }
    const flood = flooder.command({ cmd: 'flood', topic, count: 20000, ratePerSec: 10000 }, 60000)
    const N = 10
    const pageSends = (p, tag) => p.page.evaluate(async ({ topic, tag, N }) => {
      for (let i = 0; i < N; i++) {
        await window.mw.node.publish(topic, new TextEncoder().encode(`${tag} ${i}`))
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }, { topic, tag, N })
    const nativeSends = (async () => {
      for (let i = 0; i < N; i++) {
        await honestNative.publish(topic, `native ${i}`)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    })()
    await Promise.all([pageSends(a, 'a'), pageSends(b, 'b'), nativeSends])
    const flooded = await flood
    assert.equal(flooded.event, 'flooded')
    const want = (tags) => tags.flatMap((t) => Array.from({ length: N }, (_, i) => `${t} ${i}`))
    for (const [page, others] of [[a, ['b', 'native']], [b, ['a', 'native']]]) {
      for (const text of want(others)) await page.waitForEvent(`e.type === 'message' && e.data === '${text}'`, 20000)
    }
    for (const text of want(['a', 'b'])) await honestNative.waitForMessage(text)
    const floodAtA = (await a.events()).filter((e) => e.type === 'message' && e.data.startsWith('flood ')).length
    assert.ok(floodAtA <= 100, `${floodAtA} flood messages reached a page`)
    const stats = await (await fetch(`${relay.http}/api/stats`)).json()
    assert.ok(stats.topics[topic].rateLimited > 0, JSON.stringify(stats))
    assert.ok(stats.bannedPeers >= 1, JSON.stringify(stats))
  } finally {
    await a.close()
    await b.close()
    await flooder.stop()
    await honestNative.stop()
  }
})
