// Stream throughput page ↔ relay with the libp2p perf protocol (/perf/1.0.0) over each browser
// transport, next to the same framing over raw WebTransport (no libp2p) to a server on the same
// machine, measured in the same run. The ratio libp2p/raw is what Noise, multistream-select
// and the libp2p stream layers cost on top of WebTransport.
import { JsonLinesProcess } from '../playwright/lib/process.js'
import { rawPerfServerBin } from '../playwright/lib/paths.js'
import { openNodePage } from '../playwright/lib/browser.js'

const MiB = 1024 * 1024
const PERF_MIB = Number(process.env.BENCH_PERF_MIB ?? 64)
const PERF_RUNS = Number(process.env.BENCH_PERF_RUNS ?? 3)

const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Upload-only then download-only runs; returns MB/s arrays. */
async function libp2pRuns (browser, relay, transport) {
  const page = await openNodePage(browser, relay, { relayHttp: relay.http, transports: [transport] })
  try {
    const bytes = PERF_MIB * MiB
    const up = []
    const down = []
    for (let i = 0; i < PERF_RUNS; i++) {
      const u = await page.call('(n, a) => n.perf(a.peer, { uploadBytes: a.bytes })', { peer: relay.peerId, bytes })
      up.push(mbps(u.uploadBytes, u.uploadMs))
      const d = await page.call('(n, a) => n.perf(a.peer, { downloadBytes: a.bytes })', { peer: relay.peerId, bytes })
      down.push(mbps(d.downloadBytes, d.downloadMs))
    }
    return { up, down }
  } finally {
    await page.close()
  }
}

/** The same runs over raw WebTransport from a page (the relay's page, so the same origin). */
async function rawRuns (browser, relay, server) {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(`${relay.http}/`)
  try {
    return await page.evaluate(async ({ port, certhash, bytes, runs }) => {
      const hash = new Uint8Array(certhash.match(/../g).map((h) => parseInt(h, 16)))
      const wt = new WebTransport(`https://127.0.0.1:${port}/`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }] })
      await wt.ready
      const chunk = new Uint8Array(64 * 1024)
      // One perf run: header, upload, close; then read the reply. Times as in meshwork's perf.
      const run = async (upload, download) => {
        const stream = await wt.createBidirectionalStream()
        const writer = stream.writable.getWriter()
        const reader = stream.readable.getReader()
        const header = new DataView(new ArrayBuffer(8))
        header.setBigUint64(0, BigInt(download))
        const t0 = performance.now()
        await writer.write(new Uint8Array(header.buffer))
        for (let left = upload; left > 0; left -= chunk.length) {
          await writer.write(left >= chunk.length ? chunk : chunk.subarray(0, left))
        }
        await writer.close()
        let first = await reader.read()
        const t1 = performance.now()
        let received = first.done ? 0 : first.value.length
        while (!first.done) {
          first = await reader.read()
          if (!first.done) received += first.value.length
        }
        const t2 = performance.now()
        if (received !== download) throw new Error(`raw server sent ${received} of ${download}`)
        return { uploadMs: t1 - t0, downloadMs: t2 - t1 }
      }
      const up = []
      const down = []
      for (let i = 0; i < runs; i++) {
        up.push(bytes / 1e6 / ((await run(bytes, 0)).uploadMs / 1000))
        down.push(bytes / 1e6 / ((await run(0, bytes)).downloadMs / 1000))
      }
      wt.close()
      return { up, down }
    }, { port: server.port, certhash: server.certhash, bytes: PERF_MIB * MiB, runs: PERF_RUNS })
  } finally {
    await context.close()
  }
}

const fmt = (xs) => `${median(xs).toFixed(1)} MB/s (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`

/** Table rows for the benchmark. `relay` must serve perf (`--perf`). */
export async function throughputRows (browser, relay) {
  const proc = new JsonLinesProcess('raw-perf-server', rawPerfServerBin, [])
  const rows = []
  try {
    const server = await proc.waitFor((l) => l.event === 'ready', 10000)
    const raw = await rawRuns(browser, relay, server)
    const what = `${PERF_MIB} MiB, median of ${PERF_RUNS}; min–max`
    for (const transport of ['webtransport', 'webrtc-direct', 'websocket']) {
      const r = await libp2pRuns(browser, relay, transport)
      rows.push([`stream throughput page → relay, perf over ${transport} (${what})`, fmt(r.up)])
      rows.push([`stream throughput relay → page, perf over ${transport} (${what})`, fmt(r.down)])
      if (transport === 'webtransport') {
        rows.push([`stream throughput page → server, raw WebTransport, same run (${what})`, fmt(raw.up)])
        rows.push([`stream throughput server → page, raw WebTransport, same run (${what})`, fmt(raw.down)])
        rows.push(['ratio libp2p WebTransport / raw WebTransport, page → relay; relay → page',
          `${(median(r.up) / median(raw.up)).toFixed(2)}; ${(median(r.down) / median(raw.down)).toFixed(2)}`])
      }
    }
  } finally {
    proc.child.kill('SIGTERM')
    await proc.exited
  }
  return rows
}
