// Discovery by rendezvous namespace through meshwork-relay (a rendezvous point): a page finds
// another page and dials it; a native peer finds a page and dials it; bad arguments get coded
// errors and the node keeps working.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useRelayAndBrowser } from '../lib/suite.js'
import { startPeer } from '../lib/peer.js'
import { openNodePage, attempt } from '../lib/browser.js'

let relay, browser
useRelayAndBrowser((s) => ({ relay, browser } = s))

test('a page finds another page by rendezvous namespace and dials it', async () => {
  const a = await openNodePage(browser, relay, { relayHttp: relay.http })
  const b = await openNodePage(browser, relay, { relayHttp: relay.http })
  try {
    // At once after createNode: register waits for the relay's identify and the reservation.
    const registered = await attempt(a, 'register', 'meshwork-e2e/room', { ttlSecs: 120 })
    assert.deepEqual(registered, { ok: true, value: 120 })

    const found = await attempt(b, 'discover', 'meshwork-e2e/room')
    assert.equal(found.ok, true, found.message)
    assert.deepEqual(found.value.map((p) => p.peerId), [a.peerId])
    const entry = found.value[0]
    assert.equal(entry.namespace, 'meshwork-e2e/room')
    assert.ok(entry.expiresInSecs > 100 && entry.expiresInSecs <= 120, `expiresInSecs ${entry.expiresInSecs}`)
    const circuit = entry.addresses.find((x) => x.includes(`/p2p/${relay.peerId}/p2p-circuit/p2p/${a.peerId}`))
    assert.ok(circuit, `a circuit address through our relay in ${entry.addresses}`)
    await b.waitForEvent(`e.type === 'peer:discovery' && e.peerId === '${a.peerId}' && e.source === 'rendezvous' && e.namespace === 'meshwork-e2e/room'`)

    const dialed = await attempt(b, 'dial', circuit)
    assert.deepEqual(dialed, { ok: true, value: a.peerId })
    await a.waitForEvent(`e.type === 'peer:connect' && e.peerId === '${b.peerId}'`)

    // Unregistered: a page asking afresh no longer finds it.
    assert.deepEqual(await attempt(a, 'unregister', 'meshwork-e2e/room'), { ok: true, value: true })
    const c = await openNodePage(browser, relay, { relayHttp: relay.http })
    try {
      let after
      for (let i = 0; i < 50; i++) {
        after = await attempt(c, 'discover', 'meshwork-e2e/room')
        if (after.ok && after.value.length === 0) break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      assert.deepEqual(after, { ok: true, value: [] })
    } finally {
      await c.close()
    }
  } finally {
    await a.close()
    await b.close()
  }
})

test('a native peer finds a page by namespace and dials it through the relay', async () => {
  const page = await openNodePage(browser, relay, { relayHttp: relay.http })
  const peer = await startPeer({ dial: [relay.tcp] })
  try {
    assert.deepEqual(await attempt(page, 'register', 'meshwork-e2e/native'), { ok: true, value: 300 })
    const answer = await peer.command({ cmd: 'discover', namespace: 'meshwork-e2e/native' })
    assert.equal(answer.event, 'discovered', JSON.stringify(answer))
    assert.deepEqual(answer.peers.map((p) => p.peerId), [page.peerId])
    const circuit = answer.peers[0].addresses.find((x) => x.includes('/p2p-circuit/') && !x.includes('/webrtc'))
    assert.ok(circuit, JSON.stringify(answer.peers[0].addresses))
    const dialed = await peer.command({ cmd: 'dial', address: circuit })
    assert.equal(dialed.event, 'dialed', JSON.stringify(dialed))
    await page.waitForEvent(`e.type === 'peer:connect' && e.peerId === '${peer.peerId}'`)
  } finally {
    await peer.stop()
    await page.close()
  }
})

test('rendezvous calls refuse bad arguments with codes and the node keeps working', async () => {
  const page = await openNodePage(browser, relay, { relayHttp: relay.http })
  try {
    const cases = [
      ['register', [''], 'INVALID_NAMESPACE'],
      ['register', ['x'.repeat(256)], 'INVALID_NAMESPACE'],
      ['register', ['a\u0000b'], 'INVALID_NAMESPACE'],
      ['register', [42], 'INVALID_NAMESPACE'],
      ['register', ['ns', { ttlSecs: 5 }], 'INVALID_OPTIONS'],
      ['register', ['ns', { ttlSecs: 'long' }], 'INVALID_OPTIONS'],
      ['register', ['ns', { ttl: 60 }], 'INVALID_OPTIONS'],
      ['unregister', [null], 'INVALID_NAMESPACE'],
      ['discover', [undefined], 'INVALID_NAMESPACE'],
      ['discover', ['y'.repeat(300)], 'INVALID_NAMESPACE']
    ]
    for (const [method, args, code] of cases) {
      const r = await attempt(page, method, ...args)
      assert.equal(r.ok, false, `${method}(${JSON.stringify(args)}) should fail`)
      assert.equal(r.code, code, `${method}(${JSON.stringify(args)}): ${r.message}`)
    }
    // More namespaces than rendezvous.maxNamespaces (32): refused before asking the relay.
    const many = await page.call(`async (n) => {
      const out = []
      for (let i = 0; i < 33; i++) {
        try { await n.register('many-' + i); out.push('ok') } catch (e) { out.push(e.code + ': ' + e.message) }
      }
      return out
    }`)
    assert.deepEqual(many.slice(0, 32), Array(32).fill('ok'))
    assert.match(many[32], /^LIMIT_REACHED/, 'the node\'s own rendezvous.maxNamespaces (32) is checked first')
    assert.deepEqual(await attempt(page, 'discover', 'many-0'), { ok: true, value: [] }, 'a node does not find itself')
    assert.deepEqual(await attempt(page, 'unregister', 'many-0'), { ok: true, value: true })
  } finally {
    await page.close()
  }
})

test('a page finds another page by peer ID and as a provider through the DHT, and dials it', async () => {
  const a = await openNodePage(browser, relay, { relayHttp: relay.http })
  const b = await openNodePage(browser, relay, { relayHttp: relay.http })
  try {
    await a.waitForEvent(`e.type === 'relay:reservation' && e.relayPeerId === '${relay.peerId}'`)
    // A puts its signed peer record (its circuit addresses) at the relay once reserved; B looks
    // it up by peer ID alone.
    let found
    for (let i = 0; i < 40; i++) {
      found = await attempt(b, 'findPeer', a.peerId)
      if (found.ok) break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    assert.equal(found.ok, true, `${found.code}: ${found.message}`)
    const circuit = found.value.find((x) => x.includes(`/p2p/${relay.peerId}/p2p-circuit`) && !x.includes('/webrtc') && x.endsWith(`/p2p/${a.peerId}`))
    assert.ok(circuit, `a circuit address in ${found.value}`)
    assert.deepEqual(await attempt(b, 'dial', circuit), { ok: true, value: a.peerId })

    // Records with a quorum, through the relay's DHT store.
    const put = await attempt(a, 'putRecord', 'e2e/greeting', new TextEncoder().encode('hello'))
    assert.equal(put.ok, true, put.message)
    const got = await b.call(`async (n) => new TextDecoder().decode(await n.getRecord('e2e/greeting'))`)
    assert.equal(got, 'hello')
    const missing = await attempt(b, 'getRecord', 'e2e/absent')
    assert.equal(missing.code, 'NOT_FOUND', missing.message)

    // Provider records: B finds A as a provider, at its circuit address.
    assert.deepEqual(await attempt(a, 'provide', 'e2e/film'), { ok: true, value: undefined })
    const providers = await attempt(b, 'findProviders', 'e2e/film')
    assert.equal(providers.ok, true, providers.message)
    assert.deepEqual(providers.value.map((p) => p.peerId), [a.peerId])
    assert.ok(providers.value[0].addresses.some((x) => x.includes('/p2p-circuit') && x.endsWith(`/p2p/${a.peerId}`)), JSON.stringify(providers.value))
    assert.deepEqual(await attempt(b, 'findProviders', 'e2e/no-film'), { ok: true, value: [] })
    assert.deepEqual(await attempt(a, 'stopProviding', 'e2e/film'), { ok: true, value: true })
  } finally {
    await a.close()
    await b.close()
  }
})

test('DHT calls refuse bad arguments with codes', async () => {
  const page = await openNodePage(browser, relay, { relayHttp: relay.http })
  try {
    const cases = [
      ['findPeer', ['not-a-peer-id'], 'INVALID_PEER_ID'],
      ['findPeer', [7], 'INVALID_PEER_ID'],
      ['putRecord', ['', new Uint8Array(1)], 'INVALID_OPTIONS'],
      ['putRecord', ['k'.repeat(257), new Uint8Array(1)], 'INVALID_OPTIONS'],
      ['putRecord', ['/meshwork/peer/forged', new Uint8Array(1)], 'INVALID_OPTIONS'],
      ['putRecord', ['k', 'not bytes'], 'INVALID_PAYLOAD'],
      ['putRecord', ['k', new Uint8Array(8193)], 'PAYLOAD_TOO_LARGE'],
      ['putRecord', ['k', new Uint8Array(1), { quorum: 0 }], 'INVALID_OPTIONS'],
      ['getRecord', ['k', { quorum: 21 }], 'INVALID_OPTIONS'],
      ['getRecord', [null], 'INVALID_OPTIONS'],
      ['provide', [''], 'INVALID_OPTIONS'],
      ['provide', ['/meshwork/peer/x'], 'INVALID_OPTIONS'],
      ['stopProviding', [3], 'INVALID_OPTIONS'],
      ['findProviders', ['k', { limit: 0 }], 'INVALID_OPTIONS'],
      ['findProviders', ['k', { limit: 21 }], 'INVALID_OPTIONS'],
      ['findProviders', ['k', { count: 1 }], 'INVALID_OPTIONS']
    ]
    for (const [method, args, code] of cases) {
      const r = await attempt(page, method, ...args)
      assert.equal(r.ok, false, `${method} should fail`)
      assert.equal(r.code, code, `${method}(${args.map(String).join(', ').slice(0, 40)}): ${r.message}`)
    }
  } finally {
    await page.close()
  }
})
