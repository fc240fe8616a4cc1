// The connection manager in a page against real processes: connection state events in order,
// the page getting its relay (and reservation) back by itself after the relay restarts, and
// addPeer / removePeer / listPeers with identity checks and per-peer figures.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { restartableRelay, startRelay } from '../lib/relay.js'
import { startPeer } from '../lib/peer.js'
import { launchBrowser, openNodePage, attempt } from '../lib/browser.js'

/** Each step of one peer's states must be a legal transition. */
function assertLegalOrder (states) {
  const legal = new Set(['disconnected>connecting', 'disconnected>connected', 'connecting>connected',
    'connecting>disconnected', 'connected>disconnecting', 'connected>disconnected', 'disconnecting>disconnected'])
  for (let i = 1; i < states.length; i++) {
    assert.ok(legal.has(`${states[i - 1]}>${states[i]}`), `illegal ${states[i - 1]} -> ${states[i]} in ${states.join(', ')}`)
  }
}

test('state events come in order and the page gets its relay and reservation back after a restart', async () => {
  const restartable = await restartableRelay()
  let relay = restartable.current
  const browser = await launchBrowser()
  try {
    const page = await openNodePage(browser, relay, {
      relayHttp: relay.http,
      node: { connections: { reconnectBaseMs: 200, reconnectMaxSecs: 2 } }
    })
    const relayStates = () => page.events().then((es) => es.filter((e) => e.type === 'peer:state' && e.peerId === relay.peerId))
    await page.waitForEvent(`e.type === 'relay:reservation' && e.relayPeerId === '${relay.peerId}'`)
    assert.deepEqual((await relayStates()).map((e) => e.state), ['connecting', 'connected'])

    const listed = await page.call('(n) => n.listPeers()')
    const entry = listed.find((p) => p.peerId === relay.peerId)
    assert.equal(entry.state, 'connected')
    assert.deepEqual(entry.kept, { bootstrap: true, relay: true, manual: false })

    await restartable.down()
    await page.waitForEvent(`e.type === 'peer:state' && e.peerId === '${relay.peerId}' && e.state === 'disconnected'`)
    const seenBefore = (await page.events()).filter((e) => e.type === 'relay:reservation').length
    const restartAt = Date.now()
    relay = await restartable.up()
    const reserved = await page.waitForEvent(
      `e.type === 'relay:reservation' && e.relayPeerId === '${relay.peerId}' && window.mw.events.filter((x) => x.type === 'relay:reservation').length > ${seenBefore}`, 30000)
    // Includes the relay's own start-up (and up to 20 ms of polling).
    console.log(`# page reserved again ${Date.now() - restartAt} ms after the relay process was started again`)
    assert.ok(reserved.relayPeerId === relay.peerId)
    const states = (await relayStates()).map((e) => e.state)
    assertLegalOrder(states)
    assert.equal(states.at(-1), 'connected', states.join(', '))
    const addresses = await page.call('(n) => n.listenAddresses()')
    assert.ok(addresses.some((a) => a.includes('/p2p-circuit')), addresses.join(' '))

    // Let go on request: disconnecting, then disconnected, both saying why.
    assert.deepEqual(await attempt(page, 'removePeer', relay.peerId), { ok: true, value: true })
    const closing = await page.waitForEvent(`e.type === 'peer:state' && e.peerId === '${relay.peerId}' && e.state === 'disconnecting'`)
    assert.equal(closing.reason, 'removed')
    const closed = await page.waitForEvent(`e.type === 'peer:state' && e.peerId === '${relay.peerId}' && e.state === 'disconnected' && e.reason === 'removed'`)
    assert.ok(closed.at >= closing.at)
    await page.close()
  } finally {
    await browser.close()
    await restartable.dispose()
  }
})

test('heartbeat: a page on WebRTC-direct notices its relay restarted at once and gets it back', async () => {
  // The relay comes back on the same port before the page saw it go: the new process answers
  // the old peer connection's ICE consent checks, so only a failing ping can tell the page.
  const restartable = await restartableRelay()
  let relay = restartable.current
  const browser = await launchBrowser()
  try {
    const page = await openNodePage(browser, relay, {
      relayHttp: relay.http,
      transports: ['webrtc-direct'],
      node: { pingIntervalSecs: 1, pingTimeoutSecs: 3, connections: { reconnectBaseMs: 200, reconnectMaxSecs: 2 } }
    })
    await page.waitForEvent(`e.type === 'relay:reservation' && e.relayPeerId === '${relay.peerId}'`)
    const seenBefore = (await page.events()).filter((e) => e.type === 'relay:reservation').length
    await restartable.down()
    relay = await restartable.up()
    const gone = await page.waitForEvent(`e.type === 'peer:state' && e.peerId === '${relay.peerId}' && e.state === 'disconnected'`, 30000)
    assert.match(gone.reason ?? '', /ping failed/, JSON.stringify(gone))
    await page.waitForEvent(
      `e.type === 'relay:reservation' && e.relayPeerId === '${relay.peerId}' && window.mw.events.filter((x) => x.type === 'relay:reservation').length > ${seenBefore}`, 30000)
    await page.close()
  } finally {
    await browser.close()
    await restartable.dispose()
  }
})

test('addPeer checks identities and listPeers reports per-peer figures', async () => {
  const relay = await startRelay()
  const browser = await launchBrowser()
  const peer = await startPeer({ listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
  try {
    const listen = await peer.proc.waitFor((l) => l.event === 'listen' && l.address.includes('/ws'), 20000)
    const peerAddress = `${listen.address}/p2p/${peer.peerId}`
    const page = await openNodePage(browser, relay, { relayHttp: relay.http })

    // Wrong identity: the address names the peer, the caller expects the relay.
    const mismatch = await attempt(page, 'addPeer', peerAddress, relay.peerId)
    assert.equal(mismatch.code, 'PEER_ID_MISMATCH', mismatch.message)
    // The handshake shows it: a bare address, another identity expected.
    const proven = await attempt(page, 'addPeer', listen.address, relay.peerId)
    assert.equal(proven.code, 'PEER_ID_MISMATCH', proven.message)
    for (const [args, code] of [[['not a multiaddr'], 'INVALID_MULTIADDR'], [[42], 'INVALID_MULTIADDR'],
      [[peerAddress, 'not-a-peer-id'], 'INVALID_PEER_ID'], [[peerAddress, 7], 'INVALID_PEER_ID']]) {
      const r = await attempt(page, 'addPeer', ...args)
      assert.equal(r.code, code, `addPeer(${args.join(', ')}): ${r.message}`)
    }
    const badRemove = await attempt(page, 'removePeer', 'nope')
    assert.equal(badRemove.code, 'INVALID_PEER_ID')
    assert.ok(!(await page.call('(n) => n.listPeers()')).some((p) => p.peerId === peer.peerId), 'nothing kept after a refusal')

    assert.deepEqual(await attempt(page, 'addPeer', listen.address, peer.peerId), { ok: true, value: peer.peerId })
    // Identify, ping and gossipsub's hello move bytes both ways (the in-process test checks
    // exact payload counts over a direct link).
    await page.call('(n) => n.subscribe("figures")')
    await peer.command({ cmd: 'subscribe', topic: 'figures' })
    let entry
    for (let i = 0; i < 50; i++) {
      entry = (await page.call('(n) => n.listPeers()')).find((p) => p.peerId === peer.peerId)
      if (entry?.bytesSent > 0 && entry?.bytesReceived > 0 && entry?.rttMs !== null) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    assert.equal(entry.state, 'connected')
    assert.equal(entry.transport, 'websocket')
    assert.deepEqual(entry.kept, { bootstrap: false, relay: false, manual: true })
    assert.ok(entry.bytesSent > 0 && entry.bytesReceived > 0, JSON.stringify(entry))
    assert.ok(entry.connectedSinceMs <= Date.now() && entry.lastSeenMs >= entry.connectedSinceMs, JSON.stringify(entry))
    assert.ok(entry.rttMs !== null, 'measured RTT')
    assert.equal(typeof entry.reputation, 'number')
    await page.close()
  } finally {
    await peer.stop()
    await browser.close()
    await relay.stop()
  }
})
