// Relay selection against real relays: a page given four relays keeps all of them connected,
// asks each how full it is, reserves on the best two with room (never the full one), and when
// a reserved relay goes away it reserves on the spare with no call.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startRelay } from '../lib/relay.js'
import { launchBrowser, openNodePage } from '../lib/browser.js'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** The relays the page holds a reservation on, from its circuit listen addresses. */
async function reservedOn (page) {
  const addresses = await page.call('(n) => n.listenAddresses()')
  const relays = new Set()
  for (const a of addresses) {
    const m = a.match(/\/p2p\/([^/]+)\/p2p-circuit/)
    if (m) relays.add(m[1])
  }
  return [...relays].sort()
}

/** Poll until `reservedOn(page)` equals `want` (sorted), or fail after `ms`. */
async function waitForReservations (page, want, ms = 30000) {
  const deadline = Date.now() + ms
  let got
  while (Date.now() < deadline) {
    got = await reservedOn(page)
    if (JSON.stringify(got) === JSON.stringify([...want].sort())) return
    await sleep(200)
  }
  assert.deepEqual(got, [...want].sort(), 'reserved relays')
}

test('a page reserves on the best two relays with room, skips a full one, and moves when one goes away', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-select-'))
  const fullConfig = join(dir, 'full.toml')
  writeFileSync(fullConfig, '[node.relayServer]\nmaxReservations = 0\n')
  const full = await startRelay(['--config', fullConfig])
  const relays = [await startRelay(), await startRelay(), await startRelay()]
  const browser = await launchBrowser()
  let page
  try {
    // The full relay first: order alone would pick it.
    page = await openNodePage(browser, relays[0], {
      relays: [full.ws, relays[0].ws, relays[1].ws, relays[2].ws],
      transports: ['websocket']
    })
    // All four stay connected; the full one says it has no room.
    let peers
    for (let i = 0; i < 100; i++) {
      peers = await page.call('(n) => n.listPeers()')
      const known = peers.filter((p) => p.relay?.status)
      if (known.length === 4) break
      await sleep(100)
    }
    const byId = Object.fromEntries(peers.map((p) => [p.peerId, p]))
    assert.equal(byId[full.peerId]?.state, 'connected', JSON.stringify(byId[full.peerId]))
    assert.deepEqual(byId[full.peerId].relay.status, { reservations: 0, maxReservations: 0, circuits: 0, maxCircuits: 256 })
    assert.equal(byId[relays[0].peerId].relay.status.maxReservations, 1024)

    // Two reservations (the default), neither on the full relay.
    let reserved
    for (let i = 0; i < 100; i++) {
      reserved = await reservedOn(page)
      if (reserved.length === 2) break
      await sleep(100)
    }
    assert.equal(reserved.length, 2, `reserved on ${reserved}`)
    assert.ok(!reserved.includes(full.peerId), 'not on the full relay')
    const flags = (await page.call('(n) => n.listPeers()')).filter((p) => p.relay?.reserved).map((p) => p.peerId).sort()
    assert.deepEqual(flags, reserved, 'listPeers marks the reserved relays')

    // A reserved relay goes away: the spare takes its place.
    const gone = relays.find((r) => r.peerId === reserved[0])
    const spare = relays.find((r) => !reserved.includes(r.peerId))
    const kept = reserved[1]
    await gone.stop()
    await waitForReservations(page, [kept, spare.peerId])
  } finally {
    await page?.close()
    await browser.close()
    for (const r of [full, ...relays]) await r.stop().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
})

test('bad relays options get codes', async () => {
  const relay = await startRelay()
  const browser = await launchBrowser()
  try {
    const context = await browser.newContext()
    const p = await context.newPage()
    await p.goto(`${relay.http}/`)
    const cases = [
      [{ relays: 'not a list' }, 'INVALID_OPTIONS'],
      [{ relays: ['/ip4/127.0.0.1/tcp/1/ws'] }, 'INVALID_MULTIADDR'],
      [{ relays: ['nonsense'] }, 'INVALID_MULTIADDR'],
      [{ relays: Array(33).fill(relay.ws) }, 'INVALID_OPTIONS'],
      [{ relayHttp: relay.http, node: { connections: { relayReservations: 0 } } }, 'INVALID_OPTIONS'],
      [{ relayHttp: relay.http, node: { connections: { relayReservations: 9 } } }, 'INVALID_OPTIONS']
    ]
    for (const [options, code] of cases) {
      const r = await p.evaluate(async (options) => {
        const { createNode } = await import('/npm/src/index.js')
        try { await createNode({ ...options, peerStore: false }); return { ok: true } } catch (e) { return { ok: false, code: e.code, message: e.message } }
      }, options)
      assert.equal(r.code, code, `${JSON.stringify(options).slice(0, 80)}: ${r.message}`)
    }
    await context.close()
  } finally {
    await browser.close()
    await relay.stop()
  }
})
