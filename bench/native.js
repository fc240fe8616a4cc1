// The native benchmarks (meshwork-bench, a release binary): gossip reach across N native nodes,
// relay circuit throughput next to direct and raw loopback TCP, and relay scale (N clients over
// WebSocket and QUIC on one meshwork-relay, and over WebSocket on the js-libp2p relay). Each
// returns Markdown table rows.
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startRelay } from '../playwright/lib/relay.js'
import { startJsRelay } from './jslibp2p/start-relay.js'

const run = promisify(execFile)
const targetDir = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, '.cache', 'meshwork', 'target')
const benchBin = join(targetDir, 'release', 'meshwork-bench')
const ms = (x) => (x == null ? 'n/a' : `${x.toFixed(1)} ms`)
const mbps = (x) => (x == null ? 'n/a' : `${x.toFixed(0)} MB/s`)
const spread = (s, f) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`

/** Run `meshwork-bench <args>` (bounded by `timeoutMs`) and parse its JSON line. */
export async function meshworkBench (args, timeoutMs) {
  const { stdout } = await run(benchBin, args, { timeout: timeoutMs, maxBuffer: 1 << 20, env: { ...process.env, RUST_LOG: process.env.BENCH_RUST_LOG ?? 'error' } })
    .catch((e) => { throw new Error(`meshwork-bench ${args[0]}: ${e.message}; stdout ${e.stdout?.slice(-500)}`) })
  const figures = JSON.parse(stdout.trim().split('\n').pop())
  if (figures.error) throw new Error(`meshwork-bench ${args[0]}: ${figures.error}`)
  return figures
}

/** Gossip reach: `nodes` native nodes on loopback TCP, one publishes `messages`, at each pace. */
export async function reachRows ({ nodes, messages, intervalsMs = [100, 20] }) {
  const rows = []
  for (const interval of intervalsMs) {
    const r = await meshworkBench(['reach', '--nodes', String(nodes), '--messages', String(messages), '--interval-ms', String(interval)], 600000)
    rows.push([`gossip reach, ${r.nodes} native nodes in one process (each dials ${r.degree} random others), one publishes every ${r.intervalMs} ms: time until all have a message, p50 / p99 of ${r.messages}`,
      `${ms(r.p50Ms)} / ${ms(r.p99Ms)} (max ${ms(r.maxMs)}; ${r.reachedAll} of ${r.messages} reached all, ${r.missingDeliveries} deliveries missing)`])
  }
  return rows
}

/**
 * DHT lookups: `nodes` Kademlia servers in one process (memory transport), `lookups` peer
 * lookups one at a time, then lookups of pages (client nodes found by their signed peer records).
 */
export async function dhtRows ({ nodes, lookups, pruned = false, graceSecs, idleSecs, joinMs }) {
  const bin = join(targetDir, 'release', 'examples', 'dht_lookup')
  const optional = [['--grace-secs', graceSecs], ['--idle-secs', idleSecs], ['--join-ms', joinMs]]
    .filter(([, v]) => v !== undefined).flatMap(([flag, v]) => [flag, String(v)])
  const args = ['--nodes', String(nodes), '--lookups', String(lookups), ...(pruned ? ['--pruned'] : []), ...optional]
  const { stdout } = await run(bin, args, { timeout: 1800000, maxBuffer: 1 << 20, env: { ...process.env, RUST_LOG: 'error' } })
    .catch((e) => { throw new Error(`dht_lookup: ${e.message}; stdout ${e.stdout?.slice(-500)}`) })
  const r = JSON.parse(stdout.trim().split('\n').pop())
  const trio = (s, f) => `${f(s.p50)} / ${f(s.p99)} (max ${f(s.max)})`
  const n = (x) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a')
  if (r.failed > 0 || r.pageFailed > 0) throw new Error(`dht_lookup: ${r.failed} server and ${r.pageFailed} page lookups failed`)
  const how = (r.pruned ? 'connection manager target 16, max 48' : 'every connection kept') +
    `, grace ${r.graceSecs} s, idle timeout ${r.idleSecs} s${r.joinMs ? `, one join every ${r.joinMs} ms` : ''}`
  return [
    [`DHT peer lookup, ${r.nodes} Kademlia servers in one process (memory transport, each joined 3 random others; ${how}), ${r.lookups} lookups one at a time: latency p50 / p99`, trio(r.latencyMs, ms)],
    ['same lookups: Kademlia requests per lookup p50 / p99 (rust-libp2p does not report hop depth; requests are the honest count)', trio(r.requests, n)],
    [`DHT lookup of a page (client node, found by its signed peer record), ${r.lookups} lookups of ${r.pages} pages: latency p50 / p99`, trio(r.pageLatencyMs, ms)],
    ['same: Kademlia requests per page lookup (closest-peers phase + record phase) p50 / p99', trio(r.pageRequests, n)],
    [`${r.nodes} nodes started and joined (sequentially); peak RSS of the process`, `${r.buildSecs.toFixed(0)} s; ${r.peakRssMiB.toFixed(0)} MiB (${(r.peakRssMiB / r.nodes).toFixed(1)} MiB per node)`]
  ]
}

/**
 * DHT routing at scale: `nodes` Kademlia-only nodes (meshwork's Kademlia and identify) in one
 * process (memory transport), `lookups` peer lookups one at a time, with hop counts from
 * rust-libp2p's trace of each query (tests/examples/dht_routing.rs).
 */
export async function dhtRoutingRows ({ nodes, lookups }) {
  const bin = join(targetDir, 'release', 'examples', 'dht_routing')
  const { stdout } = await run(bin, ['--nodes', String(nodes), '--lookups', String(lookups)], { timeout: 2400000, maxBuffer: 1 << 20 })
    .catch((e) => { throw new Error(`dht_routing: ${e.message}; stdout ${e.stdout?.slice(-500)}`) })
  const r = JSON.parse(stdout.trim().split('\n').pop())
  if (r.failed > 0 || r.untraced > 0) throw new Error(`dht_routing: ${r.failed} lookups failed, ${r.untraced} without a hop count`)
  const trio = (s, f) => `${f(s.p50)} / ${f(s.p99)} (max ${f(s.max)})`
  const n = (x) => x.toFixed(0)
  const spread = Object.entries(r.hopCounts).map(([hops, count]) => `${hops}: ${count}`).join(', ')
  const how = `${r.nodes} Kademlia-only nodes in one process (meshwork's Kademlia and identify; memory transport, Noise, yamux; each joined 3 random others, one join every ${r.joinMs} ms; idle connections close after ${r.idleSecs} s; periodic bootstrap ${r.periodicBootstrap ? 'on' : 'off'})`
  return [
    [`DHT peer lookup, ${how}, ${r.lookups} lookups one at a time (first run: mostly new connections): latency p50 / p99`, trio(r.latencyMs, ms)],
    ['same lookups: hops (answers in the shortest chain from the peers the query started with, its 20 closest in the querier\'s table, to the target; 0: the target was one of them) p50 / p99', `${trio(r.hops, n)}; lookups per hop count: ${spread}`],
    ['same lookups: Kademlia requests per lookup p50 / p99', trio(r.requests, n)],
    ['same lookups run again at once (their connections still open): latency p50 / p99', trio(r.warmLatencyMs, ms)],
    [`${r.nodes} nodes joined; then until the process was idle (${r.settled ? 'under 10 % of a core for 2 s' : 'NOT reached: gave up waiting'}); joins and bootstraps: connections opened (most open at once), Kademlia requests answered; peak RSS`,
      `${r.buildSecs.toFixed(0)} s; ${r.settleSecs.toFixed(0)} s more; ${r.connectionsOpened} (${r.peakConnectionsOpen}), ${r.requestsAnswered}; ${r.peakRssMiB.toFixed(0)} MiB`]
  ]
}

/** A relay config file (TOML) in a fresh temporary directory. */
export function relayConfigFile (text) {
  const file = join(mkdtempSync(join(tmpdir(), 'mw-bench-')), 'relay.toml')
  writeFileSync(file, text)
  return file
}

/** Circuit throughput through a relay whose circuit limits allow `mib` MiB each way. */
export async function circuitRows ({ mib, runs }) {
  const config = relayConfigFile(`[node.relayServer]\nmaxCircuitBytes = ${4 * (mib << 20) * runs}\nmaxCircuitDurationSecs = 3600\n`)
  const relay = await startRelay(['--config', config])
  try {
    const r = await meshworkBench(['circuit', '--relay', relay.tcp, '--mib', String(mib), '--runs', String(runs)], 900000)
    const f = r.figures
    const ratio = (x) => (x / f.rawTcp.MBps.median).toFixed(2)
    return [
      [`relay circuit (TCP both legs), perf ${mib} MiB each way, median of ${runs} (min–max): upload / download`,
        `${spread(f.circuit.uploadMBps, mbps)} / ${spread(f.circuit.downloadMBps, mbps)}`],
      ['same peers over direct TCP (Noise + yamux), upload / download', `${spread(f.directTcp.uploadMBps, mbps)} / ${spread(f.directTcp.downloadMBps, mbps)}`],
      ['raw loopback TCP (no libp2p), same run', spread(f.rawTcp.MBps, mbps)],
      ['ratio circuit / raw TCP (upload, download; goal ≥ 0.5)', `${ratio(f.circuit.uploadMBps.median)}, ${ratio(f.circuit.downloadMBps.median)}`]
    ]
  } finally {
    await relay.stop()
  }
}

/** Relay settings for `clients` connections: limits raised, every subscriber in the mesh. */
function scaleRelayConfig (clients) {
  const room = clients + 1024
  return relayConfigFile([
    '[node.limits]', `maxEstablished = ${room}`, 'maxPendingIncoming = 1024', 'idleConnectionTimeoutSecs = 3600',
    '[node.gossip.mesh]', 'low = 64', `target = ${room}`, `high = ${room}`, ''
  ].join('\n'))
}

/** A fresh relay for `clients` connections: meshwork-relay, or the js-libp2p relay in Node.js. */
async function scaleRelay (stack, clients) {
  if (stack === 'meshwork') {
    const relay = await startRelay(['--config', scaleRelayConfig(clients)])
    return { relay, pid: relay.proc.child.pid }
  }
  const room = clients + 1024
  const relay = await startJsRelay({ topics: ['load'], webrtc: false, maxConnections: room, meshDegree: room })
  return { relay, pid: relay.proc.child.pid }
}

const transportName = { ws: 'WebSocket', quic: 'QUIC' }

/**
 * N native clients (meshwork-bench load) per relay stack and transport, a fresh relay each time.
 * `runs`: [stack, transport] pairs; js-libp2p's relay has WebSocket only (no QUIC in Node.js).
 */
export async function scaleRows ({ sizes, runs = [['meshwork', 'ws'], ['meshwork', 'quic'], ['js-libp2p', 'ws']] }) {
  const rows = []
  for (const clients of sizes) {
    for (const [stack, transport] of runs) {
      const { relay, pid } = await scaleRelay(stack, clients)
      const label = `${clients} native clients, ${stack} relay, ${transportName[transport]}`
      try {
        const r = await meshworkBench(['load', '--relay', relay[transport], '--clients', String(clients), '--relay-pid', String(pid), '--phase-secs', '300', '--hold-secs', '10'], 1200000)
        const mib = (kib) => (kib == null ? 'n/a' : `${(kib / 1024).toFixed(0)} MiB`)
        rows.push([`relay scale, ${label}: connected / held after ${r.heldAfterSecs} s / dial failures; time to connect all; check message received`,
          `${r.connected} / ${r.held} / ${r.dialFailures}; ${(r.connectAllMs / 1000).toFixed(1)} s; ${r.checkReceived} of ${r.checkReceivers} in ${ms(r.checkDeliveryMs)}`])
        rows.push([`relay RSS, ${label}: before → after (per held client)`,
          `${mib(r.relayRssKiBBefore)} → ${mib(r.relayRssKiBAfter)} (${r.relayRssKiBPerClient?.toFixed(1) ?? 'n/a'} KiB)`])
        if (r.dialErrors.length) rows.push([`first dial errors, ${label}`, r.dialErrors.join('; ').slice(0, 300)])
      } catch (e) {
        rows.push([`relay scale, ${label}`, `FAILED: ${e.message.replace(/\s+/g, ' ').slice(0, 300)}`])
      } finally {
        await relay.stop()
      }
    }
  }
  return rows
}
