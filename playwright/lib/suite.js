// Shared set-up for a test file: one relay and one browser for all its tests.
import { after, before } from 'node:test'
import { startRelay } from './relay.js'
import { launchBrowser } from './browser.js'

/**
 * Start a relay (with `relayArgs`) and a browser before the file's tests and stop both after;
 * `set({ relay, browser })` hands them to the file.
 */
export function useRelayAndBrowser (set, relayArgs = []) {
  let relay, browser
  before(async () => {
    relay = await startRelay(relayArgs)
    browser = await launchBrowser()
    set({ relay, browser })
  })
  after(async () => {
    await browser?.close()
    await relay?.stop()
  })
}
