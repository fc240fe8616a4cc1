// A js-libp2p 3.x node in a Chromium page, next to meshwork pages, for interop tests.
// jslibp2p/entry.js is bundled once per process with esbuild and injected into a page on the
// relay's origin (a secure context: http://127.0.0.1). bundleForBrowser is also what
// bench/jslibp2p/bundle.js builds the benchmark's js-libp2p page with.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const entry = join(here, '..', 'jslibp2p', 'entry.js')
let bundlePromise

/**
 * Bundle a browser entry point (an IIFE for Chromium 120+, minified, no source map); packages
 * resolve from playwright/node_modules wherever the entry lives. Resolves with the bundle text.
 */
export async function bundleForBrowser (entryPoint) {
  const outfile = join(mkdtempSync(join(tmpdir(), 'mw-jslibp2p-')), 'bundle.js')
  await build({
    entryPoints: [entryPoint],
    outfile,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    nodePaths: [join(here, '..', 'node_modules')],
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' }
  })
  return readFileSync(outfile, 'utf8')
}

/** Bundle jslibp2p/entry.js for the browser (once per process); resolves with the bundle text. */
export function bundleJsLibp2p () {
  bundlePromise ??= bundleForBrowser(entry)
  return bundlePromise
}

/**
 * Open a page on the relay's origin and start a js-libp2p node in it that reaches `relay`
 * (over `via`: 'ws' by default, or 'webtransport' / 'webrtc-direct'), holds a circuit
 * reservation there and listens for `/webrtc`. Shaped like `openNodePage` (lib/browser.js).
 */
export async function openJsLibp2pPage (browser, relay, { topic, via = 'ws', ...options } = {}) {
  const bundle = await bundleJsLibp2p()
  const context = await browser.newContext()
  const origin = relay.http
  // Harmless in the network namespace (a veth gives host candidates), needed with only `lo` up
  // (BROWSER-TESTING.md: Chromium gathers no ICE candidates on loopback without it).
  await context.grantPermissions(['camera', 'microphone'], { origin })
  const page = await context.newPage()
  const consoleLines = []
  // The last 1000 console lines (js-libp2p debug logs, with `debug: 'libp2p:…'`, go here too).
  const keep = (line) => { consoleLines.push(line); if (consoleLines.length > 1000) consoleLines.shift() }
  page.on('console', (m) => keep(`${m.type()}: ${m.text()}`))
  page.on('pageerror', (e) => keep(`pageerror: ${e.message}`))
  // A small page of the relay's origin with no meshwork code on it.
  await page.goto(`${origin}/healthz`)
  await page.addScriptTag({ content: bundle })
  let started
  try {
    started = await page.evaluate((opts) => window.jsnode.start(opts), {
      relayAddrs: relay.addresses, topic, via, ...options
    })
  } catch (e) {
    await context.close().catch(() => {})
    throw new Error(`js-libp2p page did not start: ${e.message}\nconsole:\n${consoleLines.slice(-200).join('\n')}`)
  }
  return {
    page,
    context,
    consoleLines,
    ...started,
    addresses: () => page.evaluate(() => window.jsnode.addresses()),
    /** The first `/p2p-circuit/webrtc/p2p/…` address of this node whose relay hop uses `via`. */
    async webrtcAddress (relayVia = via) {
      const addrs = await page.evaluate(() => window.jsnode.addresses())
      const re = { ws: /\/ws\/p2p\//, webtransport: /\/webtransport\//, 'webrtc-direct': /\/webrtc-direct\// }[relayVia]
      const webrtc = addrs.filter((a) => /\/p2p-circuit\/webrtc\/p2p\//.test(a))
      return webrtc.find((a) => re?.test(a)) ?? webrtc[0]
    },
    /** Dial once; resolves with { remoteAddr, webrtc, direct, limited, ms, … } of the connection. */
    dial: (addr, timeoutMs = 20000) => page.evaluate(({ addr, timeoutMs }) => window.jsnode.dial(addr, { timeoutMs }), { addr, timeoutMs }),
    /** Publish text, retrying while no peer is subscribed yet. */
    publish: (topic, text, timeoutMs = 15000) => page.evaluate(({ topic, text, timeoutMs }) => window.jsnode.publish(topic, text, { timeoutMs }), { topic, text, timeoutMs }),
    events: () => page.evaluate(() => window.jsnode.events),
    /** Wait until an event matching `predSource` (a function source string over `e`) is recorded. */
    async waitForEvent (predSource, ms = 20000) {
      const handle = await page.waitForFunction(
        (src) => window.jsnode.events.find(new Function('e', `return (${src})`)),
        predSource, { timeout: ms, polling: 20 })
      return handle.jsonValue()
    },
    connections: () => page.evaluate(() => window.jsnode.connections()),
    subscribers: (topic) => page.evaluate((topic) => window.jsnode.subscribers(topic), topic),
    meshPeers: (topic) => page.evaluate((topic) => window.jsnode.meshPeers(topic), topic),
    ping: (peerOrAddr) => page.evaluate((p) => window.jsnode.ping(p), peerOrAddr),
    call (src, arg) { return page.evaluate(new Function('arg', `return (${src})(window.jsnode.node, arg)`), arg) },
    async close () {
      await page.evaluate(() => window.jsnode.stop()).catch(() => {})
      await context.close()
    }
  }
}

/**
 * Dial a `/p2p-circuit/webrtc` address from `from` until a direct WebRTC connection to the
 * target exists. The js dialer sometimes hangs ~6 s when the other side has already closed the
 * signalling stream (BROWSER-TESTING.md), so each attempt is short and is retried. Resolves
 * with { attempts, conn, errors }.
 */
export async function dialWebRTC (from, addr, { attempts = 5, attemptMs = 8000 } = {}) {
  const target = addr.split('/p2p/').pop()
  const errors = []
  for (let i = 1; i <= attempts; i++) {
    try {
      const conn = await from.dial(addr, attemptMs)
      if (conn.webrtc) return { attempts: i, conn, errors }
      errors.push(`attempt ${i}: connection is not /webrtc: ${conn.remoteAddr}`)
    } catch (e) {
      errors.push(`attempt ${i}: ${e.message.split('\n')[0]}`)
    }
    // A timed-out attempt may still have completed on its own.
    const direct = (await from.connections()).find((c) => c.peer === target && c.webrtc && c.status === 'open')
    if (direct) return { attempts: i, conn: direct, errors }
  }
  throw new Error(`no direct WebRTC connection to ${addr} after ${attempts} attempts:\n${errors.join('\n')}`)
}
