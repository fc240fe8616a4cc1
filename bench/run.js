// The meshwork benchmark (not a test): prints figures as a Markdown table and, with --write,
// appends them with date and machine to BENCHMARKS.md. Run through bench/run.sh, which builds
// what is needed and enters a private network namespace.
//
// Figures: wasm size (raw, after wasm-bindgen, after wasm-opt -Oz, gzip -9); page load → relay
// connected per transport (median of RUNS, min, max); gossip one-way latency page→native and
// native→page (p50/p99 over MESSAGES, each transport); relay RSS with two pages connected;
// stream throughput page ↔ relay per transport and over raw WebTransport (bench/throughput.js);
// gossip under load (bench/gossip-load.js); browser to browser (bench/browser-to-browser.js);
// a page back on its relay after a relay restart (bench/relay-restart.js); a new page
// discovering N pages by rendezvous and by peer exchange (bench/discovery.js);
// native gossip reach, circuit throughput and relay scale (bench/native.js, meshwork-bench);
// meshwork and js-libp2p side by side, in a table of its own (bench/compare.js).
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
import { relayRestartRows } from './relay-restart.js'
import { discoveryRows } from './discovery.js'
import { meshworkLoadToConnected } from './page-load.js'
import { compareRows } from './compare.js'
import { rssKiB } from './rss.js'
import { circuitRows, dhtRoutingRows, dhtRows, reachRows, scaleRows } from './native.js'

// The latency runs send 200 messages/s from one author: above the default per-author flood limit
// (10/s, for untrusted crowds), so every node here allows more.
const FLOOD = { perPeerMessagesPerSec: 100000, perPeerBurst: 100000, globalMessagesPerSec: 200000, globalBurst: 200000 }
const NODE = { gossip: { flood: FLOOD } }
// BENCH_SMOKE=1: one run and few messages, to check that every scenario still works.
const SMOKE = process.env.BENCH_SMOKE === '1'
const RUNS = Number(process.env.BENCH_RUNS ?? (SMOKE ? 1 : 7))
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? (SMOKE ? 20 : 300))
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
// BENCH_ONLY=size,load,latency,rss,throughput,gossipload,b2b,restart,discovery,reach,circuit,scale,dht,compare picks
// sections (default: all).
const only = process.env.BENCH_ONLY?.split(',')
const want = (name) => !only || only.includes(name)
const rows = []
let compare = null
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
    const t = await meshworkLoadToConnected(browser, relay, transport, RUNS)
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
  if (want('restart')) {
    rows.push(...await relayRestartRows(browser, {
      runs: Number(process.env.BENCH_RESTART_RUNS ?? (SMOKE ? 1 : 5)),
      downMs: Number(process.env.BENCH_RESTART_DOWN_MS ?? (SMOKE ? 1000 : 5000))
    }))
  }
  if (want('discovery')) {
    rows.push(...await discoveryRows(browser, {
      pages: Number(process.env.BENCH_DISCOVERY_PAGES ?? (SMOKE ? 2 : 8)),
      runs: Number(process.env.BENCH_DISCOVERY_RUNS ?? (SMOKE ? 1 : 5)),
      intervalSecs: Number(process.env.BENCH_DISCOVERY_INTERVAL_SECS ?? (SMOKE ? 10 : 30))
    }))
  }
  if (want('reach')) rows.push(...await reachRows(SMOKE ? { nodes: 10, messages: 10 } : { nodes: 100, messages: 100 }))
  if (want('circuit')) rows.push(...await circuitRows(SMOKE ? { mib: 4, runs: 1 } : { mib: 256, runs: 3 }))
  // BENCH_DHT_PRUNED=1: the servers prune their connections (the default manager) rather than keep them all.
  const optionalNumber = (name) => (process.env[name] === undefined ? undefined : Number(process.env[name]))
  if (want('dht')) {
    rows.push(...await dhtRows(SMOKE
      ? { nodes: 30, lookups: 20, pruned: true, graceSecs: 5, idleSecs: 10 }
      : {
          nodes: Number(process.env.BENCH_DHT_NODES ?? 200),
          lookups: 200,
          pruned: process.env.BENCH_DHT_PRUNED === '1',
          graceSecs: optionalNumber('BENCH_DHT_GRACE_SECS'),
          idleSecs: optionalNumber('BENCH_DHT_IDLE_SECS'),
          joinMs: optionalNumber('BENCH_DHT_JOIN_MS')
        }))
    rows.push(...await dhtRoutingRows(SMOKE
      ? { nodes: 30, lookups: 20 }
      : { nodes: Number(process.env.BENCH_DHT_ROUTING_NODES ?? 1000), lookups: 500 }))
  }
  if (want('scale')) rows.push(...await scaleRows({ sizes: SMOKE ? [50] : (process.env.BENCH_SCALE_SIZES ?? '1000,10000').split(',').map(Number) }))
  if (want('compare')) {
    compare = await compareRows(browser, {
      runs: Number(process.env.BENCH_COMPARE_RUNS ?? (SMOKE ? 1 : Math.max(5, RUNS))),
      messages: Number(process.env.BENCH_COMPARE_MESSAGES ?? (SMOKE ? 20 : 200)),
      loadMessages: Number(process.env.BENCH_COMPARE_LOAD_MESSAGES ?? (SMOKE ? 200 : 5000))
    })
  }
} finally {
  await browser.close()
  await relay.stop()
}

const chromium = execFileSync('/usr/bin/chromium', ['--version']).toString().trim()
const machine = `${cpus().length} × ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${chromium}; Node ${process.version}`
const tables = []
if (rows.length) tables.push(['| figure | value |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n'))
if (compare) {
  tables.push(['### meshwork and js-libp2p side by side', '',
    '| figure | meshwork | js-libp2p | ratio meshwork/js |', '| --- | --- | --- | --- |',
    ...compare.rows.map((r) => `| ${r.join(' | ')} |`),
    ...(compare.notes.length ? ['', ...compare.notes.map((n) => `- ${n.split('\n')[0]}`)] : [])].join('\n'))
}
const section = `\n## ${new Date().toISOString().slice(0, 10)}: benchmark\n\nMachine: ${machine}. Loopback inside a private network namespace; relay and native peer are release builds.\n\n${tables.join('\n\n')}\n`
if (compare?.notes.some((n) => n.includes('\n'))) console.error(`compare notes (full):\n${compare.notes.join('\n\n')}`)
console.log(section)
// Smoke mode is CI's check that every scenario still runs: any failed scenario fails it.
const failures = [...rows, ...(compare?.rows ?? [])].filter((r) => r.slice(1).some((v) => /\bfailed\b/i.test(v))).map((r) => r.join(' | '))
if (SMOKE && failures.length) {
  console.error(`benchmark smoke: ${failures.length} scenario(s) failed:\n${failures.join('\n')}`)
  process.exit(1)
}
// Smoke figures (one small run) are a check, not measurements: never written.
if (process.argv.includes('--write') && !SMOKE) appendFileSync(join(repoRoot, 'BENCHMARKS.md'), section)
