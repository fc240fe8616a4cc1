// The js-libp2p browser bundle of the comparison (page-entry.js, built with the same esbuild
// options as the interop tests' bundle) and the browser download sizes of both stacks, gzip -9:
// js-libp2p's one script; meshwork's wasm plus its JS glue (wasm-bindgen output and npm/src).
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { bundleForBrowser } from '../../playwright/lib/jslibp2p.js'
import { repoRoot } from '../../playwright/lib/paths.js'

const entry = join(dirname(fileURLToPath(import.meta.url)), 'page-entry.js')
let bundlePromise

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length

/** The bundle text (built once per process). */
export function jsBenchBundle () {
  bundlePromise ??= bundleForBrowser(entry)
  return bundlePromise
}

/** { raw, gzip } bytes of the js-libp2p bundle. */
export async function jsBundleSize () {
  const code = Buffer.from(await jsBenchBundle())
  return { raw: code.length, gzip: gz(code) }
}

/** meshwork's browser download, each file gzip -9 on its own: { wasmGzip, glueGzip, gzip }. */
export function meshworkBundleSize () {
  const wasm = readFileSync(join(repoRoot, 'npm', 'dist', 'wasm', 'meshwork_browser_bg.wasm'))
  const src = join(repoRoot, 'npm', 'src')
  const glue = [join(repoRoot, 'npm', 'dist', 'wasm', 'meshwork_browser.js'),
    ...readdirSync(src).filter((f) => f.endsWith('.js')).map((f) => join(src, f))]
  const wasmGzip = gz(wasm)
  const glueGzip = glue.reduce((n, f) => n + gz(readFileSync(f)), 0)
  return { raw: wasm.length, wasmGzip, glueGzip, gzip: wasmGzip + glueGzip }
}
