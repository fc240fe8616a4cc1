// The page's peer store in IndexedDB, against real processes: a peer added by hand comes back
// after a reload and is dialled with no call from the page; after a reload, a relay restart is
// still healed by itself; stored data that is not ours is discarded with a warning, never fatal;
// `peerStore: false` stores nothing; bad `peerStore` options are refused.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { restartableRelay, startRelay } from '../lib/relay.js'
import { startPeer } from '../lib/peer.js'
import { launchBrowser, openNodePage } from '../lib/browser.js'

/** The stored document under `name` in the page's IndexedDB (null if none). */
function storedDocument (page, name = 'default') {
  return page.page.evaluate((name) => new Promise((resolve, reject) => {
    const open = indexedDB.open('meshwork', 1)
    open.onupgradeneeded = () => open.result.createObjectStore('peer-store')
    open.onerror = () => reject(open.error)
    open.onsuccess = () => {
      const get = open.result.transaction('peer-store', 'readonly').objectStore('peer-store').get(name)
      get.onsuccess = () => { open.result.close(); resolve(get.result ?? null) }
      get.onerror = () => reject(get.error)
    }
  }), name)
}

function writeStored (page, value, name = 'default') {
  return page.page.evaluate(({ value, name }) => new Promise((resolve, reject) => {
    const open = indexedDB.open('meshwork', 1)
    open.onupgradeneeded = () => open.result.createObjectStore('peer-store')
    open.onerror = () => reject(open.error)
    open.onsuccess = () => {
      const tx = open.result.transaction('peer-store', 'readwrite')
      tx.objectStore('peer-store').put(value, name)
      tx.oncomplete = () => { open.result.close(); resolve() }
      tx.onerror = () => reject(tx.error)
    }
  }), { value, name })
}

/** Poll until `pred` holds for the stored document (parsed), or fail with the last one. */
async function waitForStored (page, pred, ms = 15000) {
  const deadline = Date.now() + ms
  for (;;) {
    const text = await storedDocument(page)
    let doc = null
    try { doc = typeof text === 'string' ? JSON.parse(text) : null } catch {} // not rewritten yet
    if (doc && pred(doc)) return doc
    if (Date.now() > deadline) throw new Error(`stored document never matched: ${text}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function waitForEntry (page, peerId, pred, ms = 20000) {
  const deadline = Date.now() + ms
  for (;;) {
    const entry = (await page.call('(n) => n.listPeers()')).find((p) => p.peerId === peerId)
    if (entry && pred(entry)) return entry
    if (Date.now() > deadline) throw new Error(`${peerId} never matched: ${JSON.stringify(entry)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test('a page reload brings back an added peer and the relay, and a relay restart still heals', async () => {
  const restartable = await restartableRelay()
  let relay = restartable.current
  const browser = await launchBrowser()
  const peer = await startPeer({ listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
  try {
    const listen = await peer.proc.waitFor((l) => l.event === 'listen' && l.address.includes('/ws'), 20000)
    const options = { relayHttp: relay.http, node: { connections: { reconnectBaseMs: 200, reconnectMaxSecs: 2 } } }
    const page = await openNodePage(browser, relay, options)
    const first = await page.waitForEvent(`e.type === 'peerstore:loaded'`)
    assert.deepEqual([first.restored, first.skipped, first.discarded], [0, 0, null])
    await page.call('(n, a) => n.addPeer(a)', `${listen.address}/p2p/${peer.peerId}`)
    const doc = await waitForStored(page, (d) => d.peers.some((p) => p.peerId === peer.peerId))
    assert.equal(doc.format, 'meshwork-peer-store')
    const storedPeer = doc.peers.find((p) => p.peerId === peer.peerId)
    assert.deepEqual(storedPeer.roles, { bootstrap: false, relay: false, manual: true })
    assert.ok(doc.peers.some((p) => p.peerId === relay.peerId && p.roles.relay), JSON.stringify(doc))

    // Reload: a new node (new identity) in the same page, no addPeer call.
    const oldId = page.peerId
    await page.reload()
    assert.notEqual(page.peerId, oldId)
    const again = await page.waitForEvent(`e.type === 'peerstore:loaded'`)
    assert.equal(again.restored, 2, JSON.stringify(again))
    const entry = await waitForEntry(page, peer.peerId, (p) => p.state === 'connected')
    assert.deepEqual(entry.kept, { bootstrap: false, relay: false, manual: true })
    await page.waitForEvent(`e.type === 'relay:reservation' && e.relayPeerId === '${relay.peerId}'`)

    // The relay restarts: the reloaded page gets it back by itself.
    await restartable.down()
    await page.waitForEvent(`e.type === 'peer:state' && e.peerId === '${relay.peerId}' && e.state === 'disconnected'`)
    const before = (await page.events()).filter((e) => e.type === 'relay:reservation').length
    relay = await restartable.up()
    await page.waitForEvent(`window.mw.events.filter((x) => x.type === 'relay:reservation').length > ${before}`, 30000)
    await page.close()
  } finally {
    await peer.stop()
    await browser.close()
    await restartable.dispose()
  }
})

test('stored data that is not ours is discarded with a warning; peerStore false and bad options', async () => {
  const relay = await startRelay()
  const browser = await launchBrowser()
  try {
    const page = await openNodePage(browser, relay, { relayHttp: relay.http })
    await page.waitForEvent(`e.type === 'relay:reservation'`)
    for (const [value, says] of [
      ['{"format":"another-app","version":3}', 'foreign'],
      ['\u0000\u0001 not json at all', 'not JSON'],
      [JSON.stringify({ format: 'meshwork-peer-store', version: 1, peers: 'lots' }), 'malformed'],
      [{ an: 'object, not text' }, 'not JSON']
    ]) {
      await writeStored(page, value)
      page.consoleLines.length = 0
      await page.reload()
      const loaded = await page.waitForEvent(`e.type === 'peerstore:loaded'`)
      assert.equal(loaded.restored, 0)
      assert.ok(loaded.discarded?.includes(says), `${JSON.stringify(value)}: ${JSON.stringify(loaded)}`)
      assert.ok(page.consoleLines.some((l) => l.startsWith('warning') && l.includes('stored peers discarded')), 'a console warning')
      // The node works, and the store is written over with a good document.
      await page.waitForEvent(`e.type === 'relay:reservation'`)
      await waitForStored(page, (d) => d.format === 'meshwork-peer-store' && Array.isArray(d.peers) && d.peers.some((p) => p.peerId === relay.peerId))
    }

    // peerStore: false reads and writes nothing.
    await writeStored(page, 'untouched', 'off-test')
    await page.reload({ relayHttp: relay.http, peerStore: false })
    await page.waitForEvent(`e.type === 'relay:reservation'`)
    assert.ok(!(await page.events()).some((e) => e.type === 'peerstore:loaded'))
    assert.equal(await storedDocument(page, 'off-test'), 'untouched')

    for (const peerStore of [true, 'default', { name: '' }, { name: 'x'.repeat(65) }, { name: 3 }, { name: 'a', extra: 1 }]) {
      const code = await page.page.evaluate(async (peerStore) => {
        const { createNode } = await import('/npm/src/index.js')
        try { await createNode({ peerStore }); return 'created' } catch (e) { return e.code }
      }, peerStore)
      assert.equal(code, 'INVALID_OPTIONS', JSON.stringify(peerStore))
    }
    await page.close()
  } finally {
    await browser.close()
    await relay.stop()
  }
})
