// Stack-neutral gossip scenarios of bench/compare.js, page → relay → page, on pages opened by
// compare-pages.js (window.bench, window.benchRec): a warm-up that proves the receiver is in the
// mesh, one-way latency at a modest pace, and lossless throughput of 1 KiB messages with CPU
// time of the publishing page. Every wait is bounded.
import { cpuTaskSeconds, quantile } from './gossip-load.js'
import { withTimeout } from './timeout.js'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const texts = (page, prefix) => page.page.evaluate((prefix) => window.benchRec.texts.filter(([t]) => t.startsWith(prefix)), prefix)

/** Poll `count()` until it reaches `n`, or nothing new came for `idleMs`, or 120 s passed. */
async function waitForCount (count, n, idleMs) {
  const deadline = Date.now() + 120000
  let seen = -1
  let since = Date.now()
  while (Date.now() < deadline && Date.now() - since < idleMs) {
    const c = await count()
    if (c >= n) return
    if (c !== seen) { seen = c; since = Date.now() }
    await sleep(50)
  }
}

/**
 * Publish `warm i` from `a` every `gapMs` until `b` has received `consecutive` warm-ups with
 * consecutive numbers (one lucky message is not a formed mesh). Publishes that the stack refuses
 * as retriable (no subscriber known yet, backpressure) are skipped. At most `maxTries`.
 */
export async function warmUp (a, b, topic, { consecutive = 5, gapMs = 50, maxTries = 400 } = {}) {
  const sent = []
  for (let i = 0; i < maxTries; i++) {
    const ok = await withTimeout(a.page.evaluate(async ({ topic, i }) => {
      try {
        await window.bench.publish(topic, new TextEncoder().encode(`warm ${i}`))
        return true
      } catch (e) {
        if (window.bench.retriable(e)) return false
        throw e
      }
    }, { topic, i }), 10000, `${a.stack}: warm-up publish`)
    if (ok) sent.push(i)
    await sleep(gapMs)
    const got = new Set((await texts(b, 'warm ')).map(([t]) => Number(t.split(' ')[1])))
    let run = 0
    for (const j of sent) {
      run = got.has(j) ? run + 1 : 0
      if (run >= consecutive) return { tries: i + 1 }
    }
  }
  throw new Error(`${b.stack}: fewer than ${consecutive} consecutive warm-ups arrived after ${maxTries} tries on ${topic}`)
}

/** `n` messages from `a`, `gapMs` apart, each carrying its send time; one-way delays seen at `b`. */
export async function latency (a, b, topic, n, { gapMs = 10 } = {}) {
  await withTimeout(a.page.evaluate(async ({ topic, n, gapMs }) => {
    for (let i = 0; i < n; i++) {
      await window.bench.publish(topic, new TextEncoder().encode(`lat ${i} ${performance.timeOrigin + performance.now()}`))
      await new Promise((resolve) => setTimeout(resolve, gapMs))
    }
  }, { topic, n, gapMs }), n * gapMs + 30000, `${a.stack}: latency publishing`)
  // The last one, or give up after 10 s of no new message (a lost message is reported, not awaited).
  await waitForCount(() => b.page.evaluate(() => window.benchRec.texts.filter(([t]) => t.startsWith('lat ')).length), n, 10000)
  const delays = (await texts(b, 'lat ')).map(([t, at]) => at - Number(t.split(' ')[2]))
  return { p50: quantile(delays, 0.5), p99: quantile(delays, 0.99), received: delays.length, sent: n }
}

/**
 * Publish `n` × 1 KiB from `a` with `window` publishes in flight (each awaited; a retriable
 * refusal is retried after 5 ms, within `deadlineMs`), then wait for `b` to count them (until
 * all arrived or nothing new for 10 s). Rate is received messages over first send → last
 * arrival; CPU is the publishing page's TaskDuration over the run, per message sent.
 */
export async function throughput (a, b, topic, n, { window: w = 64, deadlineMs = 120000 } = {}) {
  const base = await b.page.evaluate(() => window.benchRec.count)
  const cpu0 = await cpuTaskSeconds(a)
  const { start, refused } = await withTimeout(a.page.evaluate(async ({ topic, n, w, deadlineMs }) => {
    const start = performance.timeOrigin + performance.now()
    const deadline = Date.now() + deadlineMs
    let next = 0
    let refused = 0
    const worker = async () => {
      while (next < n) {
        const data = new Uint8Array(1024)
        new DataView(data.buffer).setUint32(0, next++)
        for (;;) {
          try {
            await window.bench.publish(topic, data)
            break
          } catch (e) {
            if (!window.bench.retriable(e) || Date.now() > deadline) throw e
            refused++
            await new Promise((resolve) => setTimeout(resolve, 5))
          }
        }
      }
    }
    await Promise.all(Array.from({ length: w }, worker))
    return { start, refused }
  }, { topic, n, w, deadlineMs }), deadlineMs + 10000, `${a.stack}: publishing ${n} messages`)
  await waitForCount(async () => (await b.page.evaluate(() => window.benchRec.count)) - base, n, 10000)
  const cpu1 = await cpuTaskSeconds(a)
  const { count, lastAt } = await b.page.evaluate(() => ({ count: window.benchRec.count, lastAt: window.benchRec.lastAt }))
  const received = count - base
  return {
    rate: received / ((lastAt - start) / 1000),
    received,
    sent: n,
    refused,
    cpuMs: ((cpu1 - cpu0) * 1000) / n
  }
}
