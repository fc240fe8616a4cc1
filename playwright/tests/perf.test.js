// The libp2p perf protocol page → relay over each browser transport: exact byte counts both
// ways, and the relay's limits (a run above its maximum is refused; the node keeps working).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startRelay } from '../lib/relay.js'
import { launchBrowser, openNodePage } from '../lib/browser.js'

const MiB = 1024 * 1024
let relay, browser
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-perf-'))
  const config = join(dir, 'relay.toml')
  writeFileSync(config, `[perf]\nserve = true\nmax-bytes = ${16 * MiB}\n`)
  relay = await startRelay(['--config', config])
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await relay?.stop()
})

for (const transport of ['webtransport', 'webrtc-direct', 'websocket']) {
  test(`perf page → relay over ${transport}: 4 MiB up, 3 MiB down, counts exact`, async () => {
    const page = await openNodePage(browser, relay, { relayHttp: relay.http, transports: [transport] })
    try {
      const report = await page.call('(n, relay) => n.perf(relay, { uploadBytes: 4 * 1024 * 1024, downloadBytes: 3 * 1024 * 1024 })', relay.peerId)
      assert.equal(report.uploadBytes, 4 * MiB)
      assert.equal(report.downloadBytes, 3 * MiB)
      assert.ok(report.uploadMs > 0 && report.downloadMs > 0, JSON.stringify(report))
      const peers = await page.call('(n) => n.peers()')
      assert.equal(peers.find((p) => p.peerId === relay.peerId)?.transport, transport)
    } finally {
      await page.close()
    }
  })
}

test('a run above the relay maximum is refused with STREAM_FAILED and the node keeps working', async () => {
  const page = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['webtransport'] })
  try {
    const r = await page.page.evaluate(async (relay) => {
      try {
        await window.mw.node.perf(relay, { downloadBytes: 17 * 1024 * 1024 })
        return 'resolved'
      } catch (e) {
        return { code: e.code, message: e.message }
      }
    }, relay.peerId)
    assert.equal(r.code, 'STREAM_FAILED', JSON.stringify(r))
    const again = await page.call('(n, relay) => n.perf(relay, { uploadBytes: 1024, downloadBytes: 1024 })', relay.peerId)
    assert.equal(again.downloadBytes, 1024)
  } finally {
    await page.close()
  }
})
