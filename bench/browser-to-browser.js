// Browser to browser over WebRTC (issue 7): time from `dial(peerId)` to the direct connection
// being up (relayed connection + signaling + ICE/DTLS/SCTP), then, with the relay killed so that
// nothing can take another path, gossip latency and lossless 1 KiB throughput over the direct
// link alone.
import { openNodePage } from '../playwright/lib/browser.js'
import { cpuTaskSeconds, nodeOptions, oneWayLatency, publishAll, quantile, relayForLoad, warmUp } from './gossip-load.js'

const RUNS = Number(process.env.BENCH_B2B_RUNS ?? 5)
const MESSAGES = Number(process.env.BENCH_B2B_MESSAGES ?? 5000)
const LATENCY_MESSAGES = Number(process.env.BENCH_B2B_LATENCY_MESSAGES ?? 200)

async function reservedPair (browser, relay) {
  const open = async () => {
    const page = await openNodePage(browser, relay, { relayHttp: relay.http, node: nodeOptions })
    await page.waitForEvent(`e.type === 'relay:reservation'`)
    return page
  }
  return [await open(), await open()]
}

/** ms from `dial(b)` in page A to A's `peer:upgrade`. */
async function dialToDirect (a, b) {
  return a.page.evaluate(async (target) => {
    const node = window.mw.node
    const t0 = performance.now()
    const upgraded = new Promise((resolve) => node.addEventListener('peer:upgrade', (e) => { if (e.detail.peerId === target) resolve(performance.now()) }))
    await node.dial(target)
    return (await upgraded) - t0
  }, b.peerId)
}

/** Wait until each page of the pair has one connection to the other: the direct one.
 * gossipsub announces a subscription to a peer once, over whichever of its connections takes
 * it; if that is the relayed one and the relay dies under it, the announcement is lost and
 * never repeated (libp2p-gossipsub 0.50), so the pages must not race the relay's end. */
async function relayedClosed ([a, b]) {
  for (const [self, other] of [[a, b], [b, a]]) {
    for (let i = 0; ; i++) {
      const entry = (await self.call('(n) => n.listPeers()')).find((p) => p.peerId === other.peerId)
      if (entry?.connections === 1 && entry.transport === 'webrtc') break
      if (i === 100) throw new Error(`the relayed connection stayed open: ${JSON.stringify(entry)}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/** Table rows for the benchmark. */
export async function browserToBrowserRows (browser) {
  const rows = []
  const times = []
  let pair = []
  let lastRelayId
  for (let run = 0; run < RUNS; run++) {
    const relay = await relayForLoad(100000)
    lastRelayId = relay.peerId
    try {
      pair = await reservedPair(browser, relay)
      times.push(await dialToDirect(pair[0], pair[1]))
      // The relayed connection closes a moment after the upgrade; stopping the relay before
      // that can lose what gossipsub had just handed to it (see relayedClosed).
      await relayedClosed(pair)
      if (run < RUNS - 1) for (const p of pair) await p.close()
    } finally {
      // The last run keeps its pages: the relay goes, the direct link stays for what follows.
      await relay.stop()
    }
  }
  const [a, b] = pair
  try {
    // The pages keep redialling their (kept) relay, now gone; let go of it as an application
    // that moved on would, so only the direct link is measured.
    for (const p of pair) await p.call('(n, id) => n.removePeer(id)', lastRelayId)
    rows.push([`dial(peerId) → direct WebRTC connection up, page → page via the relay (median of ${RUNS}; min–max)`, `${quantile(times, 0.5).toFixed(0)} ms (${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)})`])
    const topic = 'b2b-bench'
    await b.call(`(n) => { window.mw.count = 0; n.addEventListener('message', (e) => { if (e.detail.topic === '${topic}' && e.detail.data.length === 1024) { window.mw.count++; window.mw.lastAt = performance.timeOrigin + performance.now() } }); return n.subscribe('${topic}') }`)
    await a.call(`(n) => n.subscribe('${topic}')`)
    await warmUp(a, b, topic)

    const lat = await oneWayLatency(a, b, topic, LATENCY_MESSAGES)
    rows.push([`gossip latency page → page over the direct WebRTC link, relay gone (p50 / p99 of ${lat.received})`, `${lat.p50.toFixed(1)} ms / ${lat.p99.toFixed(1)} ms`])

    const cpu0 = await cpuTaskSeconds(a)
    const wallStart = Date.now()
    await publishAll(a, topic, MESSAGES)
    const done = await b.page.waitForFunction((n) => window.mw.count >= n, MESSAGES, { timeout: 60000, polling: 50 }).then(() => true, () => false)
    const received = await b.page.evaluate(() => window.mw.count)
    if (!done) throw new Error(`direct link lost messages: ${received}/${MESSAGES}`)
    const lastAt = await b.page.evaluate(() => window.mw.lastAt)
    const cpu1 = await cpuTaskSeconds(a)
    rows.push([`lossless gossip throughput, 1 KiB, page → page over the direct WebRTC link (${received}/${MESSAGES})`, `${(MESSAGES / ((lastAt - wallStart) / 1000)).toFixed(0)} msg/s`])
    rows.push(['CPU per published message, direct link (Chromium TaskDuration)', `${(((cpu1 - cpu0) * 1000) / MESSAGES).toFixed(3)} ms`])
  } finally {
    await a?.close()
    await b?.close()
  }
  return rows
}
