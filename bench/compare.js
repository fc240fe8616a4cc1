// meshwork next to js-libp2p 3.x (issue 6): the same scenarios built with each stack, as table
// rows [figure, meshwork, js-libp2p, ratio meshwork/js]. Figures: browser bundle gzip -9; page
// load → relay connected per transport; gossip latency page → relay → page p50/p99; lossless
// throughput of 1 KiB messages page → relay → page with CPU per message in the publishing page;
// relay RSS idle and with two pages. Each figure is the median of `runs` runs (min–max); p50 and
// p99 are taken per run, then their medians.
//
// meshwork: pages from playwright/lib/browser.js, meshwork-relay (flood limits raised for bench
// rates; it follows its peers' topics, so it bridges pages). js-libp2p: pages loading
// jslibp2p/page-entry.js from jslibp2p/server.js, and jslibp2p/relay.js in Node.js (subscribed
// to the bench topics). js-libp2p cannot listen on WebTransport in Node.js, so WebTransport rows
// use meshwork-relay for both stacks, and say so. A scenario that fails shows its error in its
// cell (and in `notes`) instead of stopping the section.
import { jsBundleSize, jsBenchBundle, meshworkBundleSize } from './jslibp2p/bundle.js'
import { startPageServer } from './jslibp2p/server.js'
import { startJsRelay } from './jslibp2p/start-relay.js'
import { openJsBenchPage, openMeshworkBenchPage } from './compare-pages.js'
import { latency, throughput, warmUp } from './compare-gossip.js'
import { jsLoadToConnected, meshworkLoadToConnected } from './page-load.js'
import { nodeOptions, quantile, relayForLoad } from './gossip-load.js'
import { rssKiB } from './rss.js'
import { withTimeout } from './timeout.js'

const TOPICS = { latency: 'cmp-latency', load: 'cmp-load', rss: 'cmp-rss' }
const JS_TOPICS = Object.values(TOPICS)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const median = (xs) => quantile(xs, 0.5)
const fixed = (x, d) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(d))
/** "median unit (min–max)" of the numbers in xs, or the error of a failed scenario. */
function stat (xs, unit, d = 1) {
  if (xs.error) return `failed: ${xs.error}`
  if (!xs.length) return '—'
  const m = `${fixed(median(xs), d)} ${unit}`
  return xs.length === 1 ? m : `${m} (${fixed(Math.min(...xs), d)}–${fixed(Math.max(...xs), d)})`
}
const ratio = (a, b) => (a.error || b.error || !a.length || !b.length) ? '—' : (median(a) / median(b)).toFixed(2)

/**
 * Run `fn` `runs` times; resolves with { key: [the run's numbers] } for the keys `fn` returns.
 * If a run throws, the error goes to `notes` and every key reads as an empty array carrying it
 * (`.error`), which the cells show.
 */
async function repeat (runs, fn, notes, label) {
  const out = {}
  try {
    for (let i = 0; i < runs; i++) {
      for (const [k, v] of Object.entries(await fn(i))) (out[k] ??= []).push(v)
    }
    return out
  } catch (e) {
    const error = e.message.split('\n')[0].slice(0, 160)
    notes.push(`${label}: ${e.message.slice(0, 1500)}`)
    const failed = () => Object.assign([], { error })
    return { rate: failed(), cpuMs: failed(), received: failed(), sent: failed(), p50: failed(), p99: failed(), ms: failed(), idle: failed(), withTwo: failed() }
  }
}

const subscribe = (p, topic) => withTimeout(p.page.evaluate((t) => window.bench.subscribe(t), topic), 10000, `${p.stack}: subscribe`)

/** Two pages of one stack, subscribed to `topic` and meshed (warm-up); closed after `fn`. */
async function withPair (open, topic, fn) {
  const a = await open()
  let b
  try {
    b = await open()
    for (const p of [b, a]) await subscribe(p, topic)
    await warmUp(a, b, topic)
    return await fn(a, b)
  } finally {
    await a.close()
    await b?.close()
  }
}

async function relayRss (start, pid, open) {
  const relay = await start()
  try {
    await sleep(1000)
    const idle = rssKiB(pid(relay)) / 1024
    const pages = []
    try {
      for (let i = 0; i < 2; i++) pages.push(await open(relay))
      for (const p of pages) await subscribe(p, TOPICS.rss)
      await sleep(2000)
      return { idle, withTwo: rssKiB(pid(relay)) / 1024 }
    } finally {
      for (const p of pages) await p.close()
    }
  } finally {
    await relay.stop()
  }
}

/** Table rows and notes. `messages`: latency messages per run; `loadMessages`: throughput ones. */
export async function compareRows (browser, { runs = 5, messages = 200, loadMessages = 5000 } = {}) {
  const rows = []
  const notes = []
  const of = runs === 1 ? 'one run' : `median of ${runs}; min–max`

  const mwSize = meshworkBundleSize()
  const jsSize = await jsBundleSize()
  const kib = (b) => `${(b / 1024).toFixed(0)} KiB`
  rows.push([`browser bundle, gzip -9 (meshwork: wasm ${kib(mwSize.wasmGzip)} + JS glue ${kib(mwSize.glueGzip)}; js-libp2p: one esbuild bundle, ${kib(jsSize.raw)} minified)`,
    kib(mwSize.gzip), kib(jsSize.gzip), (mwSize.gzip / jsSize.gzip).toFixed(2)])

  notes.push('page load: from navigation start of a blank page in a fresh browser context; meshwork: the relay\'s /healthz, import of the npm module (wasm fetch and compile), createNode({ relayHttp }) (which also fetches /api/addresses); js-libp2p: the bench server\'s /, the bundle as a script, createLibp2p and dial of the relay address it is handed')
  notes.push('js-libp2p relay: WebSocket and WebRTC-direct (node-datachannel, prebuilt binary from the npm package @node-datachannel/linux-x64-gnu); js-libp2p has no WebTransport listener for Node.js, so WebTransport rows use meshwork-relay or are meshwork only; on the js relay and pages a failed ping does not abort the connection (js-libp2p\'s default does, and under the throughput load that dropped connections with messages in flight)')
  const server = await startPageServer(await jsBenchBundle())
  const mwRelay = await relayForLoad(100000)
  const jsRelay = await startJsRelay({ topics: JS_TOPICS })
  const jsOn = (addr) => () => openJsBenchPage(browser, server, addr)
  const mwOn = (transport) => () => openMeshworkBenchPage(browser, mwRelay, { transport, node: nodeOptions })
  try {
    // Page load → relay connected, after one unrecorded load per stack (the browser's first
    // page pays one-time costs that later pages do not).
    await meshworkLoadToConnected(browser, mwRelay, 'websocket', 1, { path: '/healthz' }).catch(() => {})
    await jsLoadToConnected(browser, server, jsRelay.ws, 1).catch(() => {})
    const mwLoad = {}
    for (const t of ['websocket', 'webrtc-direct', 'webtransport']) {
      // From a blank page of the relay's origin, like the js page (the demo page's own assets
      // would add to meshwork's figure).
      mwLoad[t] = (await repeat(runs, async () => ({ ms: (await meshworkLoadToConnected(browser, mwRelay, t, 1, { path: '/healthz' }))[0] }), notes, `meshwork load ${t}`)).ms
    }
    const jsLoad = async (addr, label) => (await repeat(runs, async () => ({ ms: (await jsLoadToConnected(browser, server, addr, 1))[0] }), notes, label)).ms
    const loadRow = (figure, mw, js) => rows.push([`${figure} (${of})`, stat(mw, 'ms'), stat(js, 'ms'), ratio(mw, js)])
    loadRow('page load → relay connected, websocket, each stack to its own relay', mwLoad.websocket, await jsLoad(jsRelay.ws, 'js load ws → js relay'))
    loadRow('page load → relay connected, webrtc-direct, each stack to its own relay (js relay: node-datachannel)', mwLoad['webrtc-direct'], await jsLoad(jsRelay.webrtc, 'js load webrtc-direct → js relay'))
    loadRow('page load → relay connected, webtransport, both pages to meshwork-relay (js-libp2p has no WebTransport listener in Node.js)', mwLoad.webtransport, await jsLoad(mwRelay.webtransport, 'js load webtransport → meshwork-relay'))
    loadRow('page load → relay connected, websocket, both pages to meshwork-relay', mwLoad.websocket, await jsLoad(mwRelay.ws, 'js load ws → meshwork-relay'))
    loadRow('page load → relay connected, webrtc-direct, both pages to meshwork-relay', mwLoad['webrtc-direct'], await jsLoad(mwRelay.webrtc, 'js load webrtc-direct → meshwork-relay'))

    // Gossip latency page → relay → page.
    const lat = (open, label) => repeat(runs, () => withPair(open, TOPICS.latency, (a, b) => latency(a, b, TOPICS.latency, messages)), notes, label)
    const mwWsLat = await lat(mwOn('websocket'), 'meshwork latency websocket')
    const jsWsLat = await lat(jsOn(jsRelay.ws), 'js latency websocket')
    const mwWtLat = await lat(mwOn('webtransport'), 'meshwork latency webtransport')
    const latOf = `${messages} messages 10 ms apart per run; ${of}`
    for (const q of ['p50', 'p99']) {
      rows.push([`gossip latency page → relay → page, websocket, each stack to its own relay, ${q} (${latOf})`, stat(mwWsLat[q], 'ms'), stat(jsWsLat[q], 'ms'), ratio(mwWsLat[q], jsWsLat[q])])
    }
    rows.push([`gossip latency page → relay → page, webtransport, meshwork only, p50 / p99 (${latOf})`, `${stat(mwWtLat.p50, 'ms')} / ${stat(mwWtLat.p99, 'ms')}`, '— (no WebTransport listener)', '—'])
    const lost = (r) => (r.received ?? []).some((x, i) => x < r.sent[i]) ? ` (lost: ${r.received.map((x, i) => `${r.sent[i] - x}`).join(', ')})` : ''
    if (lost(mwWsLat) || lost(jsWsLat) || lost(mwWtLat)) notes.push(`latency messages lost per run: meshwork ws${lost(mwWsLat)}, js ws${lost(jsWsLat)}, meshwork wt${lost(mwWtLat)}`)

    // Lossless throughput, 1 KiB, and CPU per message in the publishing page.
    const tput = (open, label) => repeat(runs, () => withPair(open, TOPICS.load, (a, b) => throughput(a, b, TOPICS.load, loadMessages)), notes, label)
    const mwWsT = await tput(mwOn('websocket'), 'meshwork throughput websocket')
    const jsWsT = await tput(jsOn(jsRelay.ws), 'js throughput websocket')
    const mwWtT = await tput(mwOn('webtransport'), 'meshwork throughput webtransport')
    const recv = (r) => r.received?.error ? ' failed' : ` received ${r.received.join(', ')} of ${loadMessages}`
    const tOf = `${loadMessages} × 1 KiB, 64 publishes in flight, each awaited; ${of}`
    // A run that lost messages is not lossless: its cell says so.
    const rate = (r) => stat(r.rate, 'msg/s', 0) + ((r.received ?? []).some((x) => x < loadMessages) ? ' (LOST MESSAGES, see notes)' : '')
    rows.push([`lossless gossip throughput page → relay → page, websocket, each stack to its own relay (${tOf})`, rate(mwWsT), rate(jsWsT), ratio(mwWsT.rate, jsWsT.rate)])
    rows.push([`CPU per published message in the publishing page, websocket (Chromium TaskDuration; ${of})`, stat(mwWsT.cpuMs, 'ms', 3), stat(jsWsT.cpuMs, 'ms', 3), ratio(mwWsT.cpuMs, jsWsT.cpuMs)])
    rows.push([`lossless gossip throughput page → relay → page, webtransport, meshwork only; CPU per message (${tOf})`, `${rate(mwWtT)}; ${stat(mwWtT.cpuMs, 'ms', 3)}`, '— (no WebTransport listener)', '—'])
    notes.push(`throughput, messages per run: meshwork ws${recv(mwWsT)}; js-libp2p ws${recv(jsWsT)}; meshwork wt${recv(mwWtT)}`)

    // Relay RSS: a fresh relay per run, idle, then with two pages (websocket) subscribed.
    const mwRss = await repeat(runs, () => relayRss(() => relayForLoad(100000), (r) => r.proc.child.pid,
      (r) => openMeshworkBenchPage(browser, r, { transport: 'websocket', node: nodeOptions })), notes, 'meshwork relay RSS')
    const jsRss = await repeat(runs, () => relayRss(() => startJsRelay({ topics: JS_TOPICS }), (r) => r.proc.child.pid,
      (r) => openJsBenchPage(browser, server, r.ws)), notes, 'js relay RSS')
    rows.push([`relay RSS, idle (meshwork-relay vs js-libp2p relay in Node.js ${process.version}; ${of})`, stat(mwRss.idle, 'MiB'), stat(jsRss.idle, 'MiB'), ratio(mwRss.idle, jsRss.idle)])
    rows.push([`relay RSS, two pages connected over websocket and subscribed (${of})`, stat(mwRss.withTwo, 'MiB'), stat(jsRss.withTwo, 'MiB'), ratio(mwRss.withTwo, jsRss.withTwo)])
  } finally {
    await jsRelay.stop()
    await mwRelay.stop()
    await server.close()
  }
  return { rows, notes }
}
