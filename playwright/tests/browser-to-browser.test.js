// Browser-to-browser WebRTC through meshwork-relay: two pages meet on the relay, upgrade to a
// direct RTCPeerConnection (signaled over the relayed connection), drop the relayed one, and keep
// talking after the relay process is killed. Failure paths: the remote page closing mid-signaling,
// garbage on the signaling protocol, and ICE that cannot succeed; each ends in a clean error with
// the relayed connection intact.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useRelayAndBrowser } from '../lib/suite.js'
import { startRelay } from '../lib/relay.js'
import { startPeer } from '../lib/peer.js'
import { openNodePage } from '../lib/browser.js'

let relay, browser
useRelayAndBrowser((s) => ({ relay, browser } = s))

/** Wait for an event on `page`; on timeout, fail with the page's peer events and console. */
async function expectEvent (page, predSource, ms = 20000) {
  try {
    return await page.waitForEvent(predSource, ms)
  } catch (e) {
    const events = (await page.events()).filter((x) => x.type.startsWith('peer') || x.type === 'error')
    throw new Error(`${page.peerId}: no event ${predSource}\nevents: ${JSON.stringify(events)}\nconsole: ${page.consoleLines.slice(-15).join('\n')}`)
  }
}

/** A page on `onRelay` with a reservation; resolves once reserved. */
async function reservedPage (onRelay, extra = {}) {
  const page = await openNodePage(browser, onRelay, { relayHttp: onRelay.http, ...extra })
  await page.waitForEvent(`e.type === 'relay:reservation' && e.relayPeerId === '${onRelay.peerId}'`)
  return page
}

/** Dial from `page` (a peer ID or an address); resolves `{ ok, peer }` or `{ ok: false, code, message }`. */
function dial (page, target) {
  return page.call(`async (n, t) => {
    try { return { ok: true, peer: await n.dial(t) } } catch (e) { return { ok: false, code: e.code, message: e.message } }
  }`, target)
}

/** Publish on `from` until `to` records `text` (gossip learns subscriptions asynchronously). */
async function deliver (from, to, topic, text, ms = 15000) {
  const deadline = Date.now() + ms
  for (;;) {
    await from.call(`async (n, a) => { try { await n.publish(a.topic, new TextEncoder().encode(a.text)) } catch (e) { if (e.code !== 'NO_PEERS') throw e } }`, { topic, text })
    const got = await to.waitForEvent(`e.type === 'message' && e.data === ${JSON.stringify(text)}`, 300).catch(() => null)
    if (got) return got
    if (Date.now() > deadline) throw new Error(`${text} did not arrive; console: ${to.consoleLines.slice(-10).join(' | ')}`)
  }
}

function peerEntry (page, peerId) {
  return page.call('async (n, p) => (await n.peers()).find((x) => x.peerId === p) ?? null', peerId)
}

async function waitForPeerEntry (page, peerId, pred, ms = 15000) {
  const deadline = Date.now() + ms
  for (;;) {
    const entry = await peerEntry(page, peerId)
    if (pred(entry)) return entry
    if (Date.now() > deadline) throw new Error(`peer ${peerId} never matched; last: ${JSON.stringify(entry)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test('two pages upgrade to a direct WebRTC connection and keep talking after the relay is killed', async () => {
  const ownRelay = await startRelay()
  const a = await reservedPage(ownRelay)
  const b = await reservedPage(ownRelay)
  try {
    const topic = 'b2b-direct'
    await a.call('(n, t) => n.subscribe(t)', topic)
    await b.call('(n, t) => n.subscribe(t)', topic)

    const dialed = await dial(a, b.peerId)
    assert.deepEqual(dialed, { ok: true, peer: b.peerId }, JSON.stringify(dialed))
    const upgradedAtA = await expectEvent(a, `e.type === 'peer:upgrade' && e.peerId === '${b.peerId}'`)
    assert.equal(upgradedAtA.transport, 'webrtc')
    assert.match(upgradedAtA.address, /\/p2p-circuit\/webrtc\/p2p\//)
    await expectEvent(b, `e.type === 'peer:upgrade' && e.peerId === '${a.peerId}'`)

    // The relayed connection is closed: one connection left, and it is the direct one.
    const entry = await waitForPeerEntry(a, b.peerId, (p) => p?.connections === 1)
    assert.equal(entry.transport, 'webrtc')
    await waitForPeerEntry(b, a.peerId, (p) => p?.connections === 1 && p.transport === 'webrtc')

    // (The relay follows the topic too, so these may arrive through it first.)
    await deliver(a, b, topic, 'a to b, direct')
    await deliver(b, a, topic, 'b to a, direct')

    // Kill the relay: the pages lose it and still talk.
    await ownRelay.proc.stop('SIGKILL')
    await a.waitForEvent(`e.type === 'peer:disconnect' && e.peerId === '${ownRelay.peerId}'`, 30000)
    await b.waitForEvent(`e.type === 'peer:disconnect' && e.peerId === '${ownRelay.peerId}'`, 30000)
    const ab = await deliver(a, b, topic, 'a to b, relay gone')
    assert.equal(ab.via, a.peerId, 'over the direct connection')
    const ba = await deliver(b, a, topic, 'b to a, relay gone')
    assert.equal(ba.via, b.peerId)
    assert.equal((await peerEntry(a, b.peerId))?.transport, 'webrtc')

    // The page redials its dead relay (a kept peer), and a WebRTC-direct attempt holds a peer
    // connection while it lasts: let go of the relay, then only the direct connection is left.
    await a.call(`(n) => n.removePeer('${ownRelay.peerId}')`)
    let usageBefore
    for (let i = 0; i < 100; i++) {
      usageBefore = await a.page.evaluate(async () => (await import('/npm/src/index.js')).peerConnectionUsage())
      if (usageBefore.live === 1) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    // stop() closes the direct connection and frees the page's peer connection.
    assert.equal(usageBefore.live, 1, JSON.stringify(usageBefore))
    await a.call('(n) => n.stop()')
    await b.waitForEvent(`e.type === 'peer:disconnect' && e.peerId === '${a.peerId}'`, 20000)
    const usageAfter = await a.page.evaluate(async () => (await import('/npm/src/index.js')).peerConnectionUsage())
    assert.equal(usageAfter.live, 0, JSON.stringify(usageAfter))
    assert.ok(usageAfter.created >= 1)
  } finally {
    await a.close()
    await b.close()
    await ownRelay.stop()
  }
})

test('subscriptions made after the relay dies cross the quiet direct link at once', async () => {
  // Nothing is subscribed before the upgrade, so the direct connection has carried no gossip
  // and has no gossipsub stream yet. libp2p-gossipsub then left a SUBSCRIBE queued until
  // something else polled the connection (the next ping, ~14 s); gossip/wake.rs fixes that.
  const ownRelay = await startRelay()
  const a = await reservedPage(ownRelay)
  const b = await reservedPage(ownRelay)
  try {
    assert.deepEqual(await dial(a, b.peerId), { ok: true, peer: b.peerId })
    await waitForPeerEntry(a, b.peerId, (p) => p?.connections === 1 && p.transport === 'webrtc')
    await waitForPeerEntry(b, a.peerId, (p) => p?.connections === 1 && p.transport === 'webrtc')
    for (const p of [a, b]) await p.call(`(n) => n.removePeer('${ownRelay.peerId}')`)
    await ownRelay.proc.stop('SIGKILL')

    const topic = 'b2b-late'
    await b.call('(n, t) => n.subscribe(t)', topic)
    await a.call('(n, t) => n.subscribe(t)', topic)
    // 5 s: far above the ~0.1 s this takes, far below the ping interval that hid the stall.
    await a.publishWhenReady(topic, 'late a', 5000)
    await b.publishWhenReady(topic, 'late b', 5000)
    await expectEvent(b, `e.type === 'message' && e.data === 'late a'`, 5000)
    await expectEvent(a, `e.type === 'message' && e.data === 'late b'`, 5000)
  } finally {
    await a.close()
    await b.close()
    await ownRelay.stop()
  }
})

test('a page dials another page by its advertised /webrtc address', async () => {
  const a = await reservedPage(relay)
  const b = await reservedPage(relay)
  try {
    const addresses = await b.call('(n) => n.listenAddresses()')
    const webrtc = addresses.find((x) => x.endsWith('/p2p-circuit/webrtc'))
    assert.ok(webrtc, `B advertises a /webrtc address: ${JSON.stringify(addresses)}`)
    const dialed = await dial(a, `${webrtc}/p2p/${b.peerId}`)
    assert.deepEqual(dialed, { ok: true, peer: b.peerId }, JSON.stringify(dialed))
    await a.waitForEvent(`e.type === 'peer:upgrade' && e.peerId === '${b.peerId}'`)
    await b.call('(n) => n.subscribe("b2b-address")')
    await a.call('(n) => n.subscribe("b2b-address")')
    await deliver(a, b, 'b2b-address', 'by address')
  } finally {
    await a.close()
    await b.close()
  }
})

test('the remote page closing mid-signaling fails the dial cleanly; the dialer keeps working', async () => {
  const a = await reservedPage(relay)
  const b = await reservedPage(relay)
  const peer = await startPeer({ dial: [relay.tcp], topics: ['b2b-after-close'] })
  try {
    // B goes away as soon as A's relayed connection reaches it, i.e. while A signals.
    const gone = b.waitForEvent(`e.type === 'peer:connect' && e.peerId === '${a.peerId}'`).then(() => b.close())
    const dialed = await dial(a, b.peerId)
    await gone
    assert.equal(dialed.ok, false, JSON.stringify(dialed))
    assert.equal(dialed.code, 'DIAL_FAILED', JSON.stringify(dialed))
    assert.ok(!(await a.events()).some((e) => e.type === 'error' && e.code === 'PANIC'))
    // A still works: it publishes to a native peer through the relay.
    await a.call('(n) => n.subscribe("b2b-after-close")')
    await a.publishWhenReady('b2b-after-close', 'still here')
    await peer.waitForMessage('still here')
  } finally {
    await a.close()
    await b.close().catch(() => {})
    await peer.stop()
  }
})

test('garbage on the signaling protocol is refused; relayed connections survive and a real upgrade still works', async () => {
  const a = await reservedPage(relay)
  const b = await reservedPage(relay)
  const topic = 'b2b-garbage'
  const peer = await startPeer({ dial: [relay.tcp], topics: [topic] })
  try {
    await b.call('(n, t) => n.subscribe(t)', topic)
    const reached = await peer.command({ cmd: 'dial', address: `${relay.tcp}/p2p-circuit/p2p/${b.peerId}` })
    assert.equal(reached.event, 'dialed', JSON.stringify(reached))
    for (const garbage of [Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.from([3, 0x08, 1, 0x12]), Buffer.from('not protobuf at all, just text\n')]) {
      const answer = await peer.command({ cmd: 'rawstream', peerId: b.peerId, protocol: '/webrtc-signaling/0.0.1', dataBase64: garbage.toString('base64') })
      assert.equal(answer.event, 'rawstream', JSON.stringify(answer))
      assert.notEqual(answer.outcome, 'timeout', 'the page ended the stream instead of waiting')
      assert.equal(answer.read, 0, 'the page answered nothing')
    }
    // The page is fine and still connected to the native peer (relayed).
    assert.ok(await peerEntry(b, peer.peerId), 'B still connected to the native peer')
    assert.ok(!(await b.events()).some((e) => e.type === 'error' && e.code === 'PANIC'))
    let got = null
    for (let i = 0; i < 60 && !got; i++) {
      const r = await peer.publish(topic, 'native to b after garbage')
      assert.ok(r.event === 'published' || r.code === 'NO_PEERS', JSON.stringify(r))
      got = await b.waitForEvent("e.type === 'message' && e.data === 'native to b after garbage'", 300).catch(() => null)
    }
    assert.ok(got, 'B still receives gossip from the native peer')
    // And a real upgrade still works.
    const dialed = await dial(a, b.peerId)
    assert.deepEqual(dialed, { ok: true, peer: b.peerId }, JSON.stringify(dialed))
    await a.waitForEvent(`e.type === 'peer:upgrade' && e.peerId === '${b.peerId}'`)
  } finally {
    await a.close()
    await b.close()
    await peer.stop()
  }
})

test('ICE that cannot succeed fails the upgrade with a timeout; the relayed connection survives', async () => {
  // "relay" policy with no TURN server, on both sides: no ICE candidate at all. (One side alone is
  // not enough: the other's host candidates reach it as peer-reflexive ones.)
  const noIce = { webrtc: { iceTransportPolicy: 'relay', handshakeTimeoutMs: 3000 } }
  const a = await reservedPage(relay, noIce)
  const b = await reservedPage(relay, noIce)
  try {
    const started = Date.now()
    const dialed = await dial(a, b.peerId)
    assert.equal(dialed.ok, false, JSON.stringify(dialed))
    assert.equal(dialed.code, 'DIAL_FAILED')
    assert.match(dialed.message, /did not finish within/)
    assert.ok(Date.now() - started < 15000, 'bounded by the handshake timeout')
    const entry = await peerEntry(a, b.peerId)
    assert.equal(entry?.transport, 'circuit', `relayed connection kept: ${JSON.stringify(entry)}`)
    await a.call('(n) => n.subscribe("b2b-ice")')
    await b.call('(n) => n.subscribe("b2b-ice")')
    await deliver(a, b, 'b2b-ice', 'over the relay after ICE failed')
    const usage = await a.page.evaluate(async () => (await import('/npm/src/index.js')).peerConnectionUsage())
    assert.equal(usage.live, 0, `the failed peer connection was closed: ${JSON.stringify(usage)}`)
  } finally {
    await a.close()
    await b.close()
  }
})

test('the page-wide budget refuses a peer connection beyond maxTotalPeerConnections; the relayed connection stays', async () => {
  const a = await reservedPage(relay, { webrtc: { maxTotalPeerConnections: 1 } })
  const b = await reservedPage(relay)
  const c = await reservedPage(relay)
  try {
    assert.deepEqual(await dial(a, b.peerId), { ok: true, peer: b.peerId })
    const refused = await dial(a, c.peerId)
    assert.equal(refused.ok, false, JSON.stringify(refused))
    assert.equal(refused.code, 'DIAL_FAILED')
    assert.match(refused.message, /maxTotalPeerConnections 1/)
    assert.equal((await peerEntry(a, c.peerId))?.transport, 'circuit', 'reached relayed instead')
    const usage = await a.page.evaluate(async () => (await import('/npm/src/index.js')).peerConnectionUsage())
    assert.deepEqual(usage, { live: 1, created: 1 })
  } finally {
    await a.close()
    await b.close()
    await c.close()
  }
})
