// Debian's Chromium driven by playwright-core, and a page running a meshwork node.
import { chromium } from 'playwright-core'

const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-features=WebRtcHideLocalIpsWithMdns',
  // Belt and braces next to the network namespace: no name resolves except loopback.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE ::1, EXCLUDE [::1], EXCLUDE localhost'
]

export async function launchBrowser () {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    // playwright-core adds --headless and a fresh temporary profile (user data dir) itself.
    args: FLAGS,
    headless: true
  })
}

/** Pages opened so far, to tag their console lines. */
let pagesOpened = 0

/**
 * Open the relay's page and start a meshwork node in it. Every node event is recorded in
 * `window.mw.events` with a wall-clock `at` (ms since epoch), `data` decoded as text.
 */
export async function openNodePage (browser, relay, options = {}) {
  // MESHWORK_E2E_PAGE_LOG (e.g. "warn,libp2p_gossipsub=debug") turns on the pages' console log;
  // with MESHWORK_E2E_VERBOSE the lines are also printed as they come.
  if (process.env.MESHWORK_E2E_PAGE_LOG && options.logLevel === undefined) {
    options = { ...options, logLevel: process.env.MESHWORK_E2E_PAGE_LOG }
  }
  const context = await browser.newContext()
  const page = await context.newPage()
  // The last 1000 console lines, for failure messages.
  const consoleLines = []
  const tag = ++pagesOpened
  const keep = (line) => {
    consoleLines.push(line)
    if (consoleLines.length > 1000) consoleLines.shift()
    // Which page and when: two pages' lines interleave, and stalls show only in the times.
    if (process.env.MESHWORK_E2E_VERBOSE) console.error(`[page ${tag} ${new Date().toISOString().slice(11, 23)}] ${line}`)
  }
  page.on('console', (m) => keep(`${m.type()}: ${m.text()}`))
  page.on('pageerror', (e) => keep(`pageerror: ${e.message}`))
  await page.goto(`${relay.http}/`)
  const started = await startNode(page, options)
  const handle = {
    page,
    context,
    consoleLines,
    ...started,
    ...nodeMethods(page, context),
    /** Reload the page (same browser context, so the same IndexedDB) and start a node again
     * with `nextOptions` (default: the same options); this object then speaks for the new node. */
    async reload (nextOptions = options) {
      await page.reload()
      Object.assign(handle, await startNode(page, nextOptions))
      return handle
    }
  }
  return handle
}

/** Start a node in the loaded page; every node event is recorded in `window.mw.events`. */
function startNode (page, options) {
  return page.evaluate(async (options) => {
    const { createNode } = await import('/npm/src/index.js')
    const events = []
    window.mw = { events }
    const t0 = Date.now()
    const node = await createNode(options)
    window.mw.node = node
    for (const type of ['message', 'peer:connect', 'peer:upgrade', 'peer:disconnect', 'peer:banned', 'subscription-change', 'error', 'relay:reservation', 'listen', 'peer:discovery', 'peer:state', 'peerstore:loaded', 'service:announced', 'service:departed']) {
      node.addEventListener(type, (e) => {
        const d = { ...e.detail }
        const raw = d.data instanceof Uint8Array ? d.data : null
        if (raw) {
          // Large payloads are recorded by size and SHA-256 (hex) only.
          d.bytes = raw.length
          d.data = raw.length <= 65536 ? new TextDecoder().decode(raw) : ''
        }
        const record = { type, at: Date.now(), ...d }
        events.push(record)
        if (raw && raw.length > 65536) {
          crypto.subtle.digest('SHA-256', raw).then((h) => {
            record.sha256 = [...new Uint8Array(h)].map((b) => b.toString(16).padStart(2, '0')).join('')
          })
        }
      })
    }
    return { peerId: node.peerId, startedAt: t0, readyAt: Date.now() }
  }, options)
}

/** The handle's remaining methods (kept apart from `startNode` for reading). */
function nodeMethods (page, context) {
  return {
    events: () => page.evaluate(() => window.mw.events),
    /** Wait until an event matching `pred` (a function source string over `e`) is recorded. */
    async waitForEvent (predSource, ms = 20000) {
      const handle = await page.waitForFunction(
        (src) => window.mw.events.find(new Function('e', `return (${src})`)),
        predSource, { timeout: ms, polling: 20 })
      return handle.jsonValue()
    },
    /** Publish text, retrying while no peer is subscribed yet (gossip learns subscriptions asynchronously). */
    publishWhenReady (topic, text, ms = 15000) {
      return page.evaluate(async ({ topic, text, ms }) => {
        const deadline = Date.now() + ms
        for (;;) {
          try {
            return await window.mw.node.publish(topic, new TextEncoder().encode(text))
          } catch (e) {
            if (e.code !== 'NO_PEERS' || Date.now() > deadline) throw new Error(`${e.code}: ${e.message}`)
            await new Promise((resolve) => setTimeout(resolve, 20))
          }
        }
      }, { topic, text, ms })
    },
    call (src, arg) { return page.evaluate(new Function('arg', `return (${src})(window.mw.node, arg)`), arg) },
    async close () { await context.close() }
  }
}

/** Run `n.<method>(...args)` in the page; `{ ok, value }` or `{ ok: false, code, message }`. */
export function attempt (page, method, ...args) {
  return page.call(`async (n, a) => {
    try { return { ok: true, value: await n[a.method](...a.args) } } catch (e) { return { ok: false, code: e.code, message: e.message } }
  }`, { method, args })
}
