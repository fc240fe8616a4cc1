// The service registry through meshwork-relay (a DHT server on the services gossip topic): a
// page's service is announced to another page, found through the relay's DHT and dialled; a
// departure reaches the others and the service is gone; native peers and pages find each
// other's services; bad input gets codes and the node keeps working.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useRelayAndBrowser } from '../lib/suite.js'
import { startPeer } from '../lib/peer.js'
import { startRelay } from '../lib/relay.js'
import { openNodePage, attempt } from '../lib/browser.js'

let relay, browser
useRelayAndBrowser((s) => ({ relay, browser } = s))

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** A page whose relay reservation is up (so its records list circuit addresses). */
async function reservedPage () {
  const page = await openNodePage(browser, relay, { relayHttp: relay.http })
  await page.waitForEvent(`e.type === 'relay:reservation' && e.relayPeerId === '${relay.peerId}'`)
  return page
}

test('a page hears another page announce a service, finds it in the DHT, dials it, and hears it depart', async () => {
  const a = await reservedPage()
  const b = await reservedPage()
  try {
    // A few gossip heartbeats: the relay grafts both pages into the services topic's mesh.
    await sleep(2000)
    const registered = await attempt(a, 'registerService', 'e2e/lobby', { type: 'chat', metadata: { room: 'lobby' }, ttlSecs: 120 })
    assert.equal(registered.ok, true, registered.message)
    const record = registered.value
    assert.equal(record.serviceId, 'e2e/lobby')
    assert.equal(record.provider, a.peerId)
    assert.deepEqual(record.metadata, { room: 'lobby' })
    assert.equal(record.expiresAtMs - record.issuedAtMs, 120000)

    const heard = await b.waitForEvent(`e.type === 'service:announced' && e.record.serviceId === 'e2e/lobby'`)
    assert.deepEqual(heard.record, record)

    const found = await attempt(b, 'findService', 'e2e/lobby')
    assert.equal(found.ok, true, found.message)
    assert.deepEqual(found.value, record)
    const circuit = found.value.addresses.find((x) => x.includes(`/p2p/${relay.peerId}/p2p-circuit`) && !x.includes('/webrtc') && x.endsWith(`/p2p/${a.peerId}`))
    assert.ok(circuit, `a circuit address in ${found.value.addresses}`)
    assert.deepEqual(await attempt(b, 'dial', circuit), { ok: true, value: a.peerId })

    assert.deepEqual(await attempt(a, 'unregisterService', 'e2e/lobby'), { ok: true, value: true })
    await b.waitForEvent(`e.type === 'service:departed' && e.serviceId === 'e2e/lobby' && e.provider === '${a.peerId}'`)
    const c = await openNodePage(browser, relay, { relayHttp: relay.http })
    try {
      const gone = await attempt(c, 'findService', 'e2e/lobby')
      assert.equal(gone.code, 'NOT_FOUND', gone.message)
    } finally {
      await c.close()
    }
    assert.deepEqual(await attempt(a, 'unregisterService', 'e2e/lobby'), { ok: true, value: false })
  } finally {
    await a.close()
    await b.close()
  }
})

test('a native peer and a page find each other\'s services', async () => {
  const page = await reservedPage()
  const peer = await startPeer({ dial: [relay.tcp] })
  try {
    const native = await peer.command({ cmd: 'registerservice', serviceId: 'e2e/native', type: 'storage', metadata: { capacity: '10' } })
    assert.equal(native.event, 'serviceRegistered', JSON.stringify(native))
    const found = await attempt(page, 'findService', 'e2e/native')
    assert.equal(found.ok, true, found.message)
    assert.equal(found.value.provider, peer.peerId)
    assert.deepEqual(found.value.metadata, { capacity: '10' })

    const registered = await attempt(page, 'registerService', 'e2e/page', { type: 'chat' })
    assert.equal(registered.ok, true, registered.message)
    const answer = await peer.command({ cmd: 'findservice', serviceId: 'e2e/page' })
    assert.equal(answer.event, 'serviceFound', JSON.stringify(answer))
    assert.equal(answer.record.provider, page.peerId)
    const circuit = answer.record.addresses.find((x) => x.includes('/p2p-circuit/') && !x.includes('/webrtc'))
    assert.ok(circuit, JSON.stringify(answer.record.addresses))
    const dialed = await peer.command({ cmd: 'dial', address: circuit })
    assert.equal(dialed.event, 'dialed', JSON.stringify(dialed))
    await page.waitForEvent(`e.type === 'peer:connect' && e.peerId === '${peer.peerId}'`)
  } finally {
    await peer.stop()
    await page.close()
  }
})

test('service calls and reserved topics refuse bad input with codes, and the node keeps working', async () => {
  const page = await reservedPage()
  try {
    const metadata = {}
    for (let i = 0; i < 17; i++) metadata[`k${i}`] = 'v'
    const cases = [
      ['registerService', ['', { type: 'chat' }], 'INVALID_OPTIONS'],
      ['registerService', [7, { type: 'chat' }], 'INVALID_OPTIONS'],
      ['registerService', ['s'.repeat(129), { type: 'chat' }], 'INVALID_OPTIONS'],
      ['registerService', ['s'], 'INVALID_OPTIONS'],
      ['registerService', ['s', { type: '' }], 'INVALID_OPTIONS'],
      ['registerService', ['s', { type: 'chat', ttlSecs: 5 }], 'INVALID_OPTIONS'],
      ['registerService', ['s', { type: 'chat', metadata: { n: 1 } }], 'INVALID_OPTIONS'],
      ['registerService', ['s', { type: 'chat', colour: 'red' }], 'INVALID_OPTIONS'],
      ['registerService', ['s', { type: 'chat', metadata: { blob: 'x'.repeat(2048) } }], 'PAYLOAD_TOO_LARGE'],
      ['registerService', ['s', { type: 'chat', metadata }], 'PAYLOAD_TOO_LARGE'],
      ['unregisterService', [null], 'INVALID_OPTIONS'],
      ['findService', [''], 'INVALID_OPTIONS'],
      ['findService', ['a\nb'], 'INVALID_OPTIONS'],
      ['putRecord', ['/meshwork/service/s', new Uint8Array(1)], 'INVALID_OPTIONS'],
      ['subscribe', ['/meshwork/services/1'], 'INVALID_TOPIC'],
      ['publish', ['/meshwork/services/1', new Uint8Array(1)], 'INVALID_TOPIC']
    ]
    for (const [method, args, code] of cases) {
      const r = await attempt(page, method, ...args)
      assert.equal(r.ok, false, `${method} should fail`)
      assert.equal(r.code, code, `${method}(${args.map(String).join(', ').slice(0, 40)}): ${r.message}`)
    }
    const missing = await attempt(page, 'findService', 'e2e/nobody')
    assert.equal(missing.code, 'NOT_FOUND', missing.message)
    const ok = await attempt(page, 'registerService', 'e2e/after-bad-input', { type: 'chat' })
    assert.equal(ok.ok, true, ok.message)
  } finally {
    await page.close()
  }
})

test('relays joined by bootstrap-http form one DHT: a page on one relay finds a service of a page on another', async () => {
  const far = await startRelay()
  // The second relay learns the first one's current addresses from its HTTP endpoint.
  const near = await startRelay(['--bootstrap-http', far.http])
  const a = await openNodePage(browser, far, { relayHttp: far.http })
  const b = await openNodePage(browser, near, { relayHttp: near.http })
  try {
    await a.waitForEvent(`e.type === 'relay:reservation' && e.relayPeerId === '${far.peerId}'`)
    const registered = await attempt(a, 'registerService', 'e2e/far', { type: 'chat' })
    assert.equal(registered.ok, true, registered.message)
    let found
    for (let i = 0; i < 40; i++) {
      found = await attempt(b, 'findService', 'e2e/far')
      if (found.ok) break
      await sleep(250)
    }
    assert.equal(found.ok, true, `${found.code}: ${found.message}`)
    assert.equal(found.value.provider, a.peerId)
    const circuit = found.value.addresses.find((x) => x.includes(`/p2p/${far.peerId}/p2p-circuit`) && !x.includes('/webrtc'))
    assert.ok(circuit, `a circuit address through the far relay in ${found.value.addresses}`)
    assert.deepEqual(await attempt(b, 'dial', circuit), { ok: true, value: a.peerId })
  } finally {
    await a.close()
    await b.close()
    await near.stop()
    await far.stop()
  }
})
