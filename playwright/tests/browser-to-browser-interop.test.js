// meshwork ↔ js-libp2p (npm libp2p 3.x with @libp2p/webrtc) browser-to-browser through
// meshwork-relay: each side dials the other's /p2p-circuit/webrtc address, the connection becomes
// a direct RTCPeerConnection, and gossip flows both ways over it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useRelayAndBrowser } from '../lib/suite.js'
import { startRelay } from '../lib/relay.js'
import { openNodePage } from '../lib/browser.js'
import { dialWebRTC, openJsLibp2pPage } from '../lib/jslibp2p.js'

let relay, browser
useRelayAndBrowser((s) => ({ relay, browser } = s))

/** A meshwork page on `onRelay` (over WebSocket, like the js page) with a reservation. */
async function meshworkPage (onRelay = relay) {
  const page = await openNodePage(browser, onRelay, { relayHttp: onRelay.http, transports: ['websocket'] })
  await page.waitForEvent(`e.type === 'relay:reservation' && e.relayPeerId === '${onRelay.peerId}'`)
  return page
}

/** Run `fn`; on failure append both pages' last console lines. */
async function withDiagnostics (pages, fn) {
  try {
    return await fn()
  } catch (e) {
    const consoles = pages.filter(Boolean).map((p) => `--- page ${p.peerId} console:\n${p.consoleLines.slice(-30).join('\n')}`)
    e.message += `\n${consoles.join('\n')}\n--- relay stderr:\n${relay.proc.stderr.slice(-15).join('\n')}`
    throw e
  }
}

/** Gossip `text` from the meshwork page until the js page has it. */
async function meshworkToJs (mw, js, topic, text, ms = 20000) {
  const deadline = Date.now() + ms
  for (;;) {
    await mw.call(`async (n, a) => { try { await n.publish(a.topic, new TextEncoder().encode(a.text)) } catch (e) { if (e.code !== 'NO_PEERS') throw e } }`, { topic, text })
    const got = await js.waitForEvent(`e.type === 'message' && e.data === ${JSON.stringify(text)}`, 300).catch(() => null)
    if (got) return got
    if (Date.now() > deadline) throw new Error(`${text} never reached the js-libp2p page`)
  }
}

test('a meshwork page dials a js-libp2p page directly over WebRTC; they gossip both ways, and meshwork → js-libp2p still flows with the relay killed', { timeout: 120000 }, async () => {
  const topic = 'interop-mw-dials'
  const ownRelay = await startRelay()
  const js = await openJsLibp2pPage(browser, ownRelay, { topic })
  const mw = await meshworkPage(ownRelay)
  await withDiagnostics([mw, js], async () => {
    await mw.call('(n, t) => n.subscribe(t)', topic)
    const target = await js.webrtcAddress('ws')
    assert.ok(target, 'the js page advertises a /p2p-circuit/webrtc address')
    const dialed = await mw.call('async (n, a) => { try { return { ok: true, peer: await n.dial(a) } } catch (e) { return { ok: false, code: e.code, message: e.message } } }', target)
    assert.deepEqual(dialed, { ok: true, peer: js.peerId }, JSON.stringify(dialed))
    const upgraded = await mw.waitForEvent(`e.type === 'peer:upgrade' && e.peerId === '${js.peerId}'`)
    assert.equal(upgraded.transport, 'webrtc')
    const direct = (await js.connections()).find((c) => c.peer === mw.peerId && c.webrtc && c.status === 'open')
    assert.ok(direct, `js-libp2p sees a direct /webrtc connection: ${JSON.stringify(await js.connections())}`)

    const atJs = await meshworkToJs(mw, js, topic, 'meshwork → js-libp2p')
    assert.equal(atJs.from, mw.peerId)
    await js.publish(topic, 'js-libp2p → meshwork')
    const atMw = await mw.waitForEvent("e.type === 'message' && e.data === 'js-libp2p → meshwork'")
    assert.equal(atMw.from, js.peerId)

    // Without the relay, only the direct connection is left. (js-libp2p → meshwork over it is
    // not checked: js-libp2p runs no gossipsub on relayed connections, rust-libp2p's gossipsub
    // announced our subscriptions on the relayed one only and does not repeat them on the
    // direct one, so the js node does not know we subscribed; see the issue notes.)
    await ownRelay.proc.stop('SIGKILL')
    await mw.waitForEvent(`e.type === 'peer:disconnect' && e.peerId === '${ownRelay.peerId}'`, 30000)
    const afterRelay = await meshworkToJs(mw, js, topic, 'meshwork → js-libp2p, relay gone')
    assert.equal(afterRelay.via, mw.peerId)
  })
  await mw.close()
  await js.close()
  await ownRelay.stop()
})

test('a js-libp2p page dials a meshwork page directly over WebRTC and they gossip both ways', { timeout: 120000 }, async () => {
  const topic = 'interop-js-dials'
  const js = await openJsLibp2pPage(browser, relay, { topic })
  const mw = await meshworkPage()
  await withDiagnostics([mw, js], async () => {
    await mw.call('(n, t) => n.subscribe(t)', topic)
    const addresses = await mw.call('(n) => n.listenAddresses()')
    const ours = addresses.find((a) => /\/ws\/p2p\/.*\/p2p-circuit\/webrtc$/.test(a))
    assert.ok(ours, `the meshwork page advertises a /webrtc address over the relay's WebSocket: ${JSON.stringify(addresses)}`)
    // The js dialer sometimes hangs when the other side closed signaling first (BROWSER-TESTING.md).
    const { conn } = await dialWebRTC(js, `${ours}/p2p/${mw.peerId}`)
    assert.ok(conn.webrtc)
    await mw.waitForEvent(`e.type === 'peer:upgrade' && e.peerId === '${js.peerId}'`)

    await js.publish(topic, 'js-libp2p dialled → meshwork')
    const atMw = await mw.waitForEvent("e.type === 'message' && e.data === 'js-libp2p dialled → meshwork'")
    assert.equal(atMw.from, js.peerId)
    const atJs = await meshworkToJs(mw, js, topic, 'meshwork → js-libp2p dialler')
    assert.equal(atJs.from, mw.peerId)
  })
  await mw.close()
  await js.close()
})
