// Reconnection after a relay restart (issue 4): a page on the relay with the default
// reconnection settings (backoff from 1 s, jitter), the relay process stopped, left down for a
// while, and started again on the same ports with the same identity. The figure is the time from
// starting the relay process again to the page's new reservation on it (relay start-up included).
import { restartableRelay } from '../playwright/lib/relay.js'
import { openNodePage } from '../playwright/lib/browser.js'
import { quantile } from './gossip-load.js'

const reservations = (page, relayId) =>
  page.events().then((es) => es.filter((e) => e.type === 'relay:reservation' && e.relayPeerId === relayId).length)

/** Table rows for the benchmark: `runs` restarts, each after `downMs` with the relay down. */
export async function relayRestartRows (browser, { runs, downMs }) {
  const restartable = await restartableRelay()
  let relay = restartable.current
  const page = await openNodePage(browser, relay, { relayHttp: relay.http })
  const times = []
  try {
    await page.waitForEvent(`e.type === 'relay:reservation' && e.relayPeerId === '${relay.peerId}'`)
    for (let run = 0; run < runs; run++) {
      const before = await reservations(page, relay.peerId)
      // (Whether the page notices the relay go depends on the transport; see BENCHMARKS.md.)
      await restartable.down()
      await new Promise((resolve) => setTimeout(resolve, downMs))
      const startedAt = Date.now()
      relay = await restartable.up()
      // Catches a hang only: a dead connection fails its ping within 35 s, redials follow.
      await page.page.waitForFunction(({ id, n }) => window.mw.events.filter((e) => e.type === 'relay:reservation' && e.relayPeerId === id).length > n,
        { id: relay.peerId, n: before }, { timeout: 120000, polling: 20 }).catch(async (e) => {
        const states = (await page.events()).filter((x) => x.type === 'peer:state' && x.peerId === relay.peerId)
          .map((x) => `${x.at - startedAt} ms ${x.state} ${x.reason ?? ''}`)
        throw new Error(`run ${run + 1}: no new reservation (${e.message}); relay states since the restart:\n${states.join('\n')}`)
      })
      times.push(Date.now() - startedAt)
    }
  } finally {
    await page.close()
    await restartable.dispose()
  }
  const ms = (x) => `${x.toFixed(0)} ms`
  return [[`relay restarted after ${downMs / 1000} s down → page reserved on it again, default backoff (median of ${runs}; min–max; relay start-up included)`,
    `${ms(quantile(times, 0.5))} (${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)})`]]
}
