// Gossip both ways between a page and native peers on TCP and on QUIC, through the real relay,
// for each browser transport. Also checks the first message each way arrives within 2 s of the
// page being connected (the WebRTC-direct "10-second stall" would break that).
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { useRelayAndBrowser } from '../lib/suite.js'
import { startPeer } from '../lib/peer.js'
import { openNodePage } from '../lib/browser.js'

const FIRST_MESSAGE_DEADLINE_MS = 2000

let relay, browser
useRelayAndBrowser((s) => ({ relay, browser } = s))

for (const transport of ['websocket', 'webrtc-direct', 'webtransport']) {
  describe(`page over ${transport}`, () => {
    for (const native of ['tcp', 'quic']) {
      test(`gossip both ways with a native ${native} peer, first message each way within 2 s`, async () => {
        const topic = `g-${transport}-${native}`
        const peer = await startPeer({ dial: [relay[native]], topics: [topic] })
        const page = await openNodePage(browser, relay, { relayHttp: relay.http, transports: [transport] })
        try {
          const connected = await page.waitForEvent(`e.type === 'peer:connect' && e.peerId === '${relay.peerId}'`)
          assert.equal(connected.transport, transport)
          await page.call('(n, t) => n.subscribe(t)', topic)

          // page → native
          await page.publishWhenReady(topic, 'hello from the page')
          const atNative = await peer.waitForMessage('hello from the page')
          assert.equal(atNative.from, page.peerId, 'signed by the page')
          const pageToNativeMs = atNative.receivedAtMs - page.readyAt

          // native → page: publish until the page has one (it may still be joining the mesh).
          let received = null
          for (let i = 0; i < 100 && !received; i++) {
            const r = await peer.publish(topic, `hello from native ${i}`)
            assert.ok(r.event === 'published' || r.code === 'NO_PEERS', JSON.stringify(r))
            received = await page.waitForEvent("e.type === 'message' && e.data.startsWith('hello from native')", 100).catch(() => null)
          }
          assert.ok(received, 'the page got a message from the native peer')
          assert.equal(received.from, peer.peerId)
          assert.equal(received.topic, topic)
          const nativeToPageMs = received.at - page.readyAt
          console.log(`${transport}/${native}: first message page→native ${pageToNativeMs.toFixed(0)} ms, native→page ${nativeToPageMs.toFixed(0)} ms after connecting`)
          assert.ok(pageToNativeMs < FIRST_MESSAGE_DEADLINE_MS, `page→native took ${pageToNativeMs} ms`)
          assert.ok(nativeToPageMs < FIRST_MESSAGE_DEADLINE_MS, `native→page took ${nativeToPageMs} ms`)

          const errors = (await page.events()).filter((e) => e.type === 'error' && e.code === 'PANIC')
          assert.deepEqual(errors, [])
        } finally {
          await page.close()
          await peer.stop()
        }
      })
    }
  })
}

test('two pages see each other through the relay (one on WebSocket, one on WebRTC-direct)', async () => {
  const topic = 'two-pages'
  const a = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['websocket'] })
  const b = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['webrtc-direct'] })
  try {
    await a.call('(n, t) => n.subscribe(t)', topic)
    await b.call('(n, t) => n.subscribe(t)', topic)
    await a.publishWhenReady(topic, 'from a')
    let got = await b.waitForEvent("e.type === 'message' && e.data === 'from a'", 5000).catch(() => null)
    // `a` may have published before the relay's mesh included `b`; gossip has no replay, so
    // publish again until `b` has it.
    for (let i = 0; !got && i < 50; i++) {
      await a.publishWhenReady(topic, 'from a')
      got = await b.waitForEvent("e.type === 'message' && e.data === 'from a'", 200).catch(() => null)
    }
    assert.ok(got, 'b got a message from a')
    assert.equal(got.from, a.peerId)
    await b.publishWhenReady(topic, 'from b')
    const back = await a.waitForEvent("e.type === 'message' && e.data === 'from b'")
    assert.equal(back.from, b.peerId)
    // Each page reserved a slot on the relay and is reachable at a /p2p-circuit address.
    for (const p of [a, b]) {
      const r = await p.waitForEvent("e.type === 'relay:reservation'")
      assert.equal(r.relayPeerId, relay.peerId)
      const addrs = await p.call('(n) => n.listenAddresses()')
      assert.ok(addrs.some((x) => x.includes(`/p2p/${relay.peerId}/p2p-circuit`)), JSON.stringify(addrs))
    }
    const peersOfA = await a.call('(n) => n.peers()')
    assert.ok(peersOfA.some((p) => p.peerId === relay.peerId && p.transport === 'websocket'), JSON.stringify(peersOfA))
  } finally {
    await a.close()
    await b.close()
  }
})
