// The meshwork benchmark (not a test): prints figures as a Markdown table and, with --write,
// appends them with date and machine to BENCHMARKS.md. Run through bench/run.sh, which builds
// what is needed and enters a private network namespace.
//
// Figures: wasm size (raw, after wasm-bindgen, after wasm-opt -Oz, gzip -9); page load → relay
// connected per transport (median of RUNS, min, max); gossip one-way latency page→native and
// native→page (p50/p99 over MESSAGES, each transport); relay RSS with two pages connected;
// stream throughput page ↔ relay per transport and over raw WebTransport (bench/throughput.js);
// gossip under load (bench/gossip-load.js).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, statSync, appendFileSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { startRelay } from '../playwright/lib/relay.js'
import { startPeer } from '../playwright/lib/peer.js'
import { launchBrowser, openNodePage } from '../playwright/lib/browser.js'
import { repoRoot } from '../playwright/lib/paths.js'
import { throughputRows } from './throughput.js'
import { gossipLoadRows } from './gossip-load.js'
import { browserToBrowserRows } from './browser-to-browser.js'

// The latency runs send 200 messages/s from one author: above the default per-author flood limit
// (10/s, for untrusted crowds), so every node here allows more.
const FLOOD = { perPeerMessagesPerSec: 100000, perPeerBurst: 100000, globalMessagesPerSec: 200000, globalBurst: 200000 }
const NODE = { gossip: { flood: FLOOD } }
const RUNS = Number(process.env.BENCH_RUNS ?? 7)
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 300)
const TRANSPORTS = ['webtransport', 'webrtc-direct', 'websocket']
const targetDir = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, '.cache', 'meshwork', 'target')

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]
}
const median = (xs) => quantile(xs, 0.5)
const ms = (x) => `${x.toFixed(1)} ms`
const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`

function wasmSizes () {
  const raw = join(targetDir, 'wasm32-unknown-unknown', 'wasm-release', 'meshwork_browser.wasm')
  const final = join(repoRoot, 'npm', 'dist', 'wasm', 'meshwork_browser_bg.wasm')
  const tmp = mkdtempSync(join(tmpdir(), 'mw-bindgen-'))
  execFileSync('wasm-bindgen', ['--target', 'web', '--out-dir', tmp, '--out-name', 'm', raw])
  const js = readFileSync(join(repoRoot, 'npm', 'dist', 'wasm', 'meshwork_browser.js'))
  return {
    raw: statSync(raw).size,
    bindgen: statSync(join(tmp, 'm_bg.wasm')).size,
    opt: statSync(final).size,
    gzip: gzipSync(readFileSync(final), { level: 9 }).length,
    glueGzip: gzipSync(js, { level: 9 }).length
  }
}

async function pageLoadToConnected (browser, relay, transport) {
  const times = []
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${relay.http}/`)
    // From navigation start: the page loads, fetches the module and wasm, fetches the relay's
    // addresses and connects. Resolves when createNode resolves (the relay is connected).
    const t = await page.evaluate(async (transport) => {
      const { createNode } = await import('/npm/src/index.js')
      const node = await createNode({ relayHttp: location.origin, transports: [transport] })
      const at = performance.now()
      await node.stop()
      return at
    }, transport)
    times.push(t)
    await context.close()
  }
  return times
}

async function latency (browser, relay, transport) {
  const topic = `bench-${transport}`
  const peer = await startPeer({ dial: [relay.tcp], topics: [topic], config: NODE })
  const page = await openNodePage(browser, relay, { relayHttp: relay.http, transports: [transport], node: NODE })
  try {
    await page.call('(n, t) => n.subscribe(t)', topic)
    await page.publishWhenReady(topic, 'warm-up')
    await peer.waitForMessage('warm-up')
    // page → native: the payload carries the send time; the native peer stamps arrival.
    const start = peer.proc.lines.length
    await page.page.evaluate(async ({ topic, n }) => {
      for (let i = 0; i < n; i++) {
        await window.mw.node.publish(topic, new TextEncoder().encode(`p2n ${i} ${Date.now()}`))
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }, { topic, n: MESSAGES })
    await peer.proc.waitFor((l) => l.event === 'message' && l.text.startsWith(`p2n ${MESSAGES - 1} `), 30000, start)
    const p2n = peer.proc.lines.slice(start)
      .filter((l) => l.event === 'message' && l.text.startsWith('p2n '))
      .map((l) => l.receivedAtMs - Number(l.text.split(' ')[2]))
    // native → page: wait until the page is in the relay's mesh, then stamp at the command.
    let warm = false
    for (let i = 0; i < 100 && !warm; i++) {
      await peer.publish(topic, `n2p-warm ${i}`)
      warm = await page.waitForEvent("e.type === 'message' && e.data.startsWith('n2p-warm')", 100).then(() => true, () => false)
    }
    for (let i = 0; i < MESSAGES; i++) {
      await peer.publish(topic, `n2p ${i} ${Date.now()}`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await page.waitForEvent(`e.type === 'message' && e.data.startsWith('n2p ${MESSAGES - 1} ')`, 30000)
    const n2p = (await page.events())
      .filter((e) => e.type === 'message' && e.data.startsWith('n2p '))
      .map((e) => e.at - Number(e.data.split(' ')[2]))
    return { p2n, n2p }
  } finally {
    await page.close()
    await peer.stop()
  }
}

function rssKiB (pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(status.match(/VmRSS:\s+(\d+) kB/)[1])
}

async function relayRssWithTwoPages (browser, relay) {
  const idle = rssKiB(relay.proc.child.pid)
  const a = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['webtransport'] })
  const b = await openNodePage(browser, relay, { relayHttp: relay.http, transports: ['webrtc-direct'] })
  await a.call("(n) => n.subscribe('rss')")
  await b.call("(n) => n.subscribe('rss')")
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const withTwo = rssKiB(relay.proc.child.pid)
  await a.close()
  await b.close()
  return { idle, withTwo }
}

// The relay serves /perf/1.0.0 for the throughput figures and allows the latency runs' rate.
const relayConfig = join(mkdtempSync(join(tmpdir(), 'mw-bench-')), 'relay.toml')
writeFileSync(relayConfig, `[perf]\nserve = true\n\n[node.gossip.flood]\n${Object.entries(FLOOD).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`)
const relay = await startRelay(['--config', relayConfig])
const browser = await launchBrowser()
// BENCH_ONLY=size,load,latency,rss,throughput,gossipload,b2b picks sections (default: all).
const only = process.env.BENCH_ONLY?.split(',')
const want = (name) => !only || only.includes(name)
const rows = []
try {
  if (want('size')) {
    const size = wasmSizes()
    rows.push(['wasm size: raw (cargo, wasm-release)', kb(size.raw)])
    rows.push(['wasm size: after wasm-bindgen', kb(size.bindgen)])
    rows.push(['wasm size: after wasm-opt -Oz', kb(size.opt)])
    rows.push(['wasm size: gzip -9 (+ JS glue gzip -9)', `${kb(size.gzip)} (+ ${kb(size.glueGzip)})`])
  }
  const rss = want('rss') ? await relayRssWithTwoPages(browser, relay) : null
  for (const transport of want('load') ? TRANSPORTS : []) {
    const t = await pageLoadToConnected(browser, relay, transport)
    rows.push([`page load → relay connected, ${transport} (median of ${RUNS}; min–max)`, `${ms(median(t))} (${ms(Math.min(...t))}–${ms(Math.max(...t))})`])
  }
  for (const transport of want('latency') ? TRANSPORTS : []) {
    const { p2n, n2p } = await latency(browser, relay, transport)
    rows.push([`gossip latency page → relay → native TCP, ${transport} (p50 / p99 of ${p2n.length})`, `${ms(median(p2n))} / ${ms(quantile(p2n, 0.99))}`])
    rows.push([`gossip latency native TCP → relay → page, ${transport} (p50 / p99 of ${n2p.length})`, `${ms(median(n2p))} / ${ms(quantile(n2p, 0.99))}`])
  }
  if (rss) rows.push(['relay RSS: idle → two pages connected and subscribed', `${(rss.idle / 1024).toFixed(1)} MiB → ${(rss.withTwo / 1024).toFixed(1)} MiB`])
  if (want('throughput')) rows.push(...await throughputRows(browser, relay))
  if (want('gossipload')) rows.push(...await gossipLoadRows(browser))
  if (want('b2b')) rows.push(...await browserToBrowserRows(browser))
} finally {
  await browser.close()
  await relay.stop()
}

const chromium = execFileSync('/usr/bin/chromium', ['--version']).toString().trim()
const machine = `${cpus().length} × ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${chromium}; Node ${process.version}`
const table = ['| figure | value |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n')
const section = `\n## ${new Date().toISOString().slice(0, 10)}: benchmark\n\nMachine: ${machine}. Loopback inside a private network namespace; relay and native peer are release builds.\n\n${table}\n`
console.log(section)
if (process.argv.includes('--write')) appendFileSync(join(repoRoot, 'BENCHMARKS.md'), section)
