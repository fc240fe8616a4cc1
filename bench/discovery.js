// A new page discovers N peers (issue 4): N pages on the relay, each registered under one
// rendezvous namespace and announcing itself by peer exchange; then a new page starts, and the
// figures are the time from its createNode call to knowing all N — by one rendezvous `discover`
// call, and by the peer-exchange announcements it hears (`peer:discovery`, source `gossip`).
import { startRelay } from '../playwright/lib/relay.js'
import { openNodePage } from '../playwright/lib/browser.js'
import { quantile } from './gossip-load.js'

const NAMESPACE = 'bench/discovery'

/** Table rows: `runs` newcomers, each discovering `pages` pages. */
export async function discoveryRows (browser, { pages, runs, intervalSecs }) {
  const relay = await startRelay()
  const node = { peerExchange: { intervalSecs } }
  const opened = []
  const rendezvous = []
  const gossip = []
  try {
    for (let i = 0; i < pages; i++) {
      const page = await openNodePage(browser, relay, { relayHttp: relay.http, node })
      await page.call('(n, ns) => n.register(ns, { ttlSecs: 600 })', NAMESPACE)
      opened.push(page)
    }
    const ids = opened.map((p) => p.peerId)
    for (let run = 0; run < runs; run++) {
      const newcomer = await openNodePage(browser, relay, { relayHttp: relay.http, node })
      try {
        const found = await newcomer.call(`async (n, a) => {
          for (;;) {
            const got = await n.discover(a.ns)
            if (a.ids.every((id) => got.some((p) => p.peerId === id))) return Date.now()
            await new Promise((resolve) => setTimeout(resolve, 50))
          }
        }`, { ns: NAMESPACE, ids })
        rendezvous.push(found - newcomer.startedAt)
        const heard = await newcomer.page.waitForFunction((ids) => {
          const seen = window.mw.events.filter((e) => e.type === 'peer:discovery' && e.source === 'gossip')
          const last = ids.map((id) => seen.find((e) => e.peerId === id)?.at)
          return last.every(Boolean) ? Math.max(...last) : null
        }, ids, { timeout: (intervalSecs * 3 + 30) * 1000, polling: 50 })
        gossip.push(await heard.jsonValue() - newcomer.startedAt)
      } finally {
        await newcomer.close()
      }
    }
  } finally {
    for (const p of opened) await p.close()
    await relay.stop()
  }
  const fmt = (xs) => `${quantile(xs, 0.5).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`
  return [
    [`new page discovers ${pages} pages by rendezvous: createNode → one discover() lists all (median of ${runs}; min–max)`, fmt(rendezvous)],
    [`new page discovers ${pages} pages by peer exchange (announcements every ${intervalSecs} s): createNode → all heard (median of ${runs}; min–max)`, fmt(gossip)]
  ]
}
