import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startRelay } from '../lib/relay.js'
import { launchBrowser, openNodePage } from '../lib/browser.js'

test('smoke', async () => {
  const relay = await startRelay()
  const browser = await launchBrowser()
  try {
    const page = await openNodePage(browser, relay, { relayHttp: relay.http, transports: [process.env.T ?? 'websocket'] })
    const c = await page.waitForEvent("e.type === 'peer:connect'")
    assert.equal(c.transport, process.env.T ?? 'websocket'); console.log(JSON.stringify(await page.events()))
  } finally {
    await browser.close()
    await relay.stop()
  }
})
