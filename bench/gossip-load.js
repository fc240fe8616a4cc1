// Gossip under load (issue 5): lossless throughput of 1 KiB messages page → relay → page and
// page → relay → native (messages/s, every message checked), CPU milliseconds per message in the
// publishing page (Chromium's TaskDuration), and one-way latency page → relay → page p50/p99
// with and without a native peer flooding the topic at 10,000 messages/s.
//
// Flood limits are raised so that one honest publisher is not throttled (the defaults, 10/s per
// author, are for untrusted crowds): for the throughput runs the relay allows 100,000/s per
// author; for the latency runs a second relay allows 1,000/s per author, far below the
// flooder's 10,000/s and far above the honest publisher's 100/s.
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startRelay } from '../playwright/lib/relay.js'
import { startPeer } from '../playwright/lib/peer.js'
import { openNodePage } from '../playwright/lib/browser.js'

const MESSAGES = Number(process.env.BENCH_LOAD_MESSAGES ?? 5000)
const LATENCY_MESSAGES = Number(process.env.BENCH_LOAD_LATENCY_MESSAGES ?? 200)
// Publishes in flight at once from a page (each awaited; the queue paces them).
const WINDOW = Number(process.env.BENCH_LOAD_WINDOW ?? 64)
const honestFlood = { perPeerMessagesPerSec: 100000, perPeerBurst: 100000, globalMessagesPerSec: 200000, globalBurst: 200000, perPeerBytesPerSec: 1 << 30, perPeerBytesBurst: 1 << 30 }
export const nodeOptions = { gossip: { flood: honestFlood } }

export const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]
}

export async function relayForLoad (perPeer) {
  const dir = mkdtempSync(join(tmpdir(), 'mw-load-'))
  const config = join(dir, 'relay.toml')
  const flood = { perPeerMessagesPerSec: perPeer, perPeerBurst: 2 * perPeer, globalMessagesPerSec: 200000, globalBurst: 200000, perPeerBytesPerSec: 1 << 30, perPeerBytesBurst: 1 << 30 }
  writeFileSync(config, `[node.gossip.flood]\n${Object.entries(flood).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`)
  return startRelay(['--config', config])
}

/** Publish `warm-up i` from `a` until `b` receives one (the mesh is formed). */
export async function warmUp (a, b, topic) {
  // A generous deadline: it only catches a stall (subscriptions cross in well under 1 s).
  await a.publishWhenReady(topic, 'warm-up 0', 60000)
  for (let i = 1; i < 200; i++) {
    if ((await b.events()).some((e) => e.type === 'message' && e.topic === topic && e.data.startsWith('warm-up'))) return
    await a.call('(n, a) => n.publish(a.topic, new TextEncoder().encode(a.text))', { topic, text: `warm-up ${i}` })
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`no warm-up message reached the other page on ${topic}`)
}

export async function cpuTaskSeconds (page) {
  const cdp = page.cdp ??= await page.context.newCDPSession(page.page)
  await cdp.send('Performance.enable')
  const { metrics } = await cdp.send('Performance.getMetrics')
  return metrics.find((m) => m.name === 'TaskDuration').value
}

/** Publish `n` × 1 KiB from `sender`, WINDOW at a time; a publish refused with
 * BACKPRESSURE is retried after 5 ms (so nothing is given up). Returns the refusals. */
export async function publishAll (sender, topic, n = MESSAGES) {
  return sender.page.evaluate(async ({ topic, n, window: w }) => {
    let next = 0
    let refused = 0
    const worker = async () => {
      while (next < n) {
        const data = new Uint8Array(1024)
        new DataView(data.buffer).setUint32(0, next++)
        for (;;) {
          try {
            await window.mw.node.publish(topic, data)
            break
          } catch (e) {
            if (e.code !== 'BACKPRESSURE') throw e
            refused++
            await new Promise((resolve) => setTimeout(resolve, 5))
          }
        }
      }
    }
    await Promise.all(Array.from({ length: w }, worker))
    return refused
  }, { topic, n, window: WINDOW })
}

async function pageToPage (browser, relay) {
  const topic = 'load-p2p'
  const a = await openNodePage(browser, relay, { relayHttp: relay.http, node: nodeOptions })
  const b = await openNodePage(browser, relay, { relayHttp: relay.http, node: nodeOptions })
  try {
    await b.call(`(n) => { window.mw.count = 0; n.addEventListener('message', (e) => { if (e.detail.topic === '${topic}' && e.detail.data.length === 1024) { window.mw.count++; window.mw.lastAt = performance.timeOrigin + performance.now() } }); return n.subscribe('${topic}') }`)
    await a.call(`(n) => n.subscribe('${topic}')`)
    await warmUp(a, b, topic)
    const cpu0 = await cpuTaskSeconds(a)
    const wallStart = Date.now()
    await publishAll(a, topic)
    const publishMs = Date.now() - wallStart
    const done = await b.page.waitForFunction((n) => window.mw.count >= n, MESSAGES, { timeout: 30000, polling: 50 }).then(() => true, () => false)
    if (!done) {
      const [sa, sb, sr, count] = [await a.call('(n) => n.stats()'), await b.call('(n) => n.stats()'), await (await fetch(`${relay.http}/api/stats`)).json(), await b.page.evaluate(() => window.mw.count)]
      throw new Error(`page → page lost messages: ${count}/${MESSAGES} after publishing for ${publishMs} ms; stats a ${JSON.stringify(sa)} b ${JSON.stringify(sb)} relay ${JSON.stringify(sr)}`)
    }
    const lastAt = await b.page.evaluate(() => window.mw.lastAt)
    const cpu1 = await cpuTaskSeconds(a)
    const received = await b.page.evaluate(() => window.mw.count)
    return { rate: MESSAGES / ((lastAt - wallStart) / 1000), cpuMs: ((cpu1 - cpu0) * 1000) / MESSAGES, received }
  } finally {
    await a.close()
    await b.close()
  }
}

async function pageToNative (browser, relay) {
  const topic = 'load-p2n'
  const peer = await startPeer({ dial: [relay.tcp], topics: [topic], config: nodeOptions })
  const a = await openNodePage(browser, relay, { relayHttp: relay.http, node: nodeOptions })
  try {
    await a.call(`(n) => n.subscribe('${topic}')`)
    await a.publishWhenReady(topic, 'warm-up')
    await peer.waitForMessage('warm-up')
    const from = peer.proc.lines.length
    const wallStart = Date.now()
    await publishAll(a, topic)
    const lines = []
    const deadline = Date.now() + 120000
    for (let i = from; lines.length < MESSAGES && Date.now() < deadline;) {
      for (; i < peer.proc.lines.length; i++) {
        const l = peer.proc.lines[i]
        if (l.event === 'message' && l.bytes === 1024) lines.push(l)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const end = Math.max(...lines.map((l) => l.receivedAtMs))
    return { rate: MESSAGES / ((end - wallStart) / 1000), received: lines.length }
  } finally {
    await a.close()
    await peer.stop()
  }
}

/** Publish `n` timestamped messages from `a`, 10 ms apart; one-way delays seen at `b`. */
export async function oneWayLatency (a, b, topic, n) {
  await a.page.evaluate(async ({ topic, n }) => {
    for (let i = 0; i < n; i++) {
      await window.mw.node.publish(topic, new TextEncoder().encode(`lat ${i} ${Date.now()}`))
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }, { topic, n })
  await b.waitForEvent(`e.type === 'message' && e.data.startsWith('lat ${n - 1} ')`, 30000)
  const got = (await b.events()).filter((e) => e.type === 'message' && e.data.startsWith('lat '))
  const delays = got.map((e) => e.at - Number(e.data.split(' ')[2]))
  return { p50: quantile(delays, 0.5), p99: quantile(delays, 0.99), received: got.length }
}

async function latency (browser, relay, withFlooder) {
  const topic = withFlooder ? 'lat-flood' : 'lat-quiet'
  const a = await openNodePage(browser, relay, { relayHttp: relay.http, node: nodeOptions })
  const b = await openNodePage(browser, relay, { relayHttp: relay.http, node: nodeOptions })
  const flooder = withFlooder ? await startPeer({ dial: [relay.tcp], topics: [topic] }) : null
  try {
    await b.call(`(n) => n.subscribe('${topic}')`)
    await a.call(`(n) => n.subscribe('${topic}')`)
    await warmUp(a, b, topic)
    const flood = flooder?.command({ cmd: 'flood', topic, count: 100000, ratePerSec: 10000 }, 120000)
    const measured = await oneWayLatency(a, b, topic, LATENCY_MESSAGES)
    flood?.catch(() => {}) // the flooder is stopped before it reports
    if (flooder) flooder.proc.child.kill('SIGTERM')
    return measured
  } finally {
    await a.close()
    await b.close()
    await flooder?.stop().catch(() => {})
  }
}

/** Table rows for the benchmark. */
export async function gossipLoadRows (browser) {
  const rows = []
  let relay = await relayForLoad(100000)
  try {
    const p2p = await pageToPage(browser, relay)
    rows.push([`lossless gossip throughput, 1 KiB, page → relay → page (${p2p.received}/${MESSAGES} received; ${WINDOW} publishes in flight)`, `${p2p.rate.toFixed(0)} msg/s`])
    rows.push(['CPU per published message in the page (Chromium TaskDuration)', `${p2p.cpuMs.toFixed(3)} ms`])
    const p2n = await pageToNative(browser, relay)
    rows.push([`lossless gossip throughput, 1 KiB, page → relay → native (${p2n.received}/${MESSAGES} received; ${WINDOW} in flight)`, `${p2n.rate.toFixed(0)} msg/s`])
    await relay.stop()
    relay = await relayForLoad(1000)
    const quiet = await latency(browser, relay, false)
    rows.push([`gossip latency page → relay → page, no flooder (p50 / p99 of ${quiet.received})`, `${quiet.p50.toFixed(1)} ms / ${quiet.p99.toFixed(1)} ms`])
    const noisy = await latency(browser, relay, true)
    rows.push([`gossip latency page → relay → page, native flooder at 10,000 msg/s (p50 / p99 of ${noisy.received})`, `${noisy.p50.toFixed(1)} ms / ${noisy.p99.toFixed(1)} ms`])
  } finally {
    await relay.stop()
  }
  return rows
}
