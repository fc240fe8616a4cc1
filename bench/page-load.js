// Page load → relay connected, measured in the page from navigation start (performance.now()),
// each run in a fresh browser context (empty cache): for meshwork, a page of the relay's origin
// (`path`: the demo page by default, or `/healthz`, a blank one) imports the npm module, which
// fetches and compiles the wasm, fetches the relay's addresses and connects (createNode
// resolving); for js-libp2p, a blank page loads the bundle and dials the relay.
import { openJsBenchPage } from './compare-pages.js'
import { withTimeout } from './timeout.js'

/** `runs` times: ms from navigation start to createNode({ relayHttp }) resolving. */
export async function meshworkLoadToConnected (browser, relay, transport, runs, { path = '/' } = {}) {
  const times = []
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(`${relay.http}${path}`)
      const t = await withTimeout(page.evaluate(async (transport) => {
        const { createNode } = await import('/npm/src/index.js')
        const node = await createNode({ relayHttp: location.origin, transports: [transport] })
        const at = performance.now()
        await node.stop()
        return at
      }, transport), 30000, `meshwork page load over ${transport}`)
      times.push(t)
    } finally {
      await context.close()
    }
  }
  return times
}

/** `runs` times: ms from navigation start to the js-libp2p page's dial of `relayAddr` resolving. */
export async function jsLoadToConnected (browser, server, relayAddr, runs) {
  const times = []
  for (let i = 0; i < runs; i++) {
    const page = await openJsBenchPage(browser, server, relayAddr)
    times.push(page.connectedAt)
    await page.close()
  }
  return times
}
