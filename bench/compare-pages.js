// Pages of both stacks for bench/compare.js, with one surface for the scenarios: every page gets
// `window.bench = { subscribe, publish, retriable, onMessage }` and a recorder, `window.benchRec`,
// that stamps each arriving message with performance.timeOrigin + performance.now() (sub-ms
// epoch time, one clock for all pages of the browser): 1 KiB messages are counted (count,
// lastAt), shorter ones kept as text with their arrival time (at most 50,000).
import { openNodePage } from '../playwright/lib/browser.js'
import { withTimeout } from './timeout.js'

function installRecorder () {
  const rec = { count: 0, lastAt: 0, texts: [] }
  window.benchRec = rec
  const dec = new TextDecoder()
  window.bench.onMessage((topic, data) => {
    const at = performance.timeOrigin + performance.now()
    if (data.length === 1024) {
      rec.count++
      rec.lastAt = at
    } else if (rec.texts.length < 50000) {
      rec.texts.push([dec.decode(data), at])
    }
  })
}

function meshworkSurface () {
  const node = window.mw.node
  window.bench = {
    subscribe: (topic) => node.subscribe(topic),
    publish: (topic, data) => node.publish(topic, data),
    retriable: (e) => e?.code === 'BACKPRESSURE' || e?.code === 'NO_PEERS',
    onMessage: (cb) => node.addEventListener('message', (e) => cb(e.detail.topic, e.detail.data))
  }
}

/**
 * A meshwork page (playwright/lib/browser.js) connected to `relay` over `transport`. (Should
 * it time out, its browser context is left to the browser's close.)
 */
export async function openMeshworkBenchPage (browser, relay, { transport, node } = {}) {
  const p = await withTimeout(openNodePage(browser, relay, { relayHttp: relay.http, transports: [transport], node }), 30000, `meshwork page over ${transport}`)
  await p.page.evaluate(meshworkSurface)
  await p.page.evaluate(installRecorder)
  return { stack: 'meshwork', page: p.page, context: p.context, peerId: p.peerId, close: () => p.close() }
}

/**
 * A js-libp2p page: `server` (jslibp2p/server.js) serves it; it loads the bundle and dials
 * `relayAddr`. Resolves with the page and, from its navigation start, `connectedAt` (ms).
 */
export async function openJsBenchPage (browser, server, relayAddr) {
  const context = await browser.newContext()
  const consoleLines = []
  try {
    const page = await context.newPage()
    page.on('console', (m) => { if (consoleLines.length < 200) consoleLines.push(`${m.type()}: ${m.text()}`) })
    page.on('pageerror', (e) => { if (consoleLines.length < 200) consoleLines.push(`pageerror: ${e.message}`) })
    await page.goto(`${server.url}/`)
    const started = await withTimeout(page.evaluate(async (relayAddr) => {
      await new Promise((resolve, reject) => {
        const s = document.createElement('script')
        s.src = '/jsbench.js'
        s.onload = resolve
        s.onerror = () => reject(new Error('bundle did not load'))
        document.head.append(s)
      })
      const started = await window.jsbench.start({ relayAddr })
      window.bench = window.jsbench
      return started
    }, relayAddr), 30000, 'js-libp2p page start')
    await page.evaluate(installRecorder)
    return {
      stack: 'js-libp2p',
      page,
      context,
      ...started,
      close: async () => {
        await page.evaluate(() => window.jsbench.stop()).catch(() => {})
        await context.close()
      }
    }
  } catch (e) {
    await context.close().catch(() => {})
    throw new Error(`js-libp2p page via ${relayAddr}: ${e.message.split('\n')[0]}\n${consoleLines.slice(-20).join('\n')}`)
  }
}
