// A Node.js module resolve hook: bare package names that do not resolve from bench/ are looked
// up in playwright/node_modules (where the project's npm packages are installed). Registered by
// bench/jslibp2p/relay.js with `module.register` before it imports js-libp2p.
import { pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const playwrightPkg = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'playwright', 'package.json')).href

export async function resolve (specifier, context, next) {
  try {
    return await next(specifier, context)
  } catch (e) {
    const bare = !/^(\.|\/|[a-z]+:)/.test(specifier)
    if (!bare || e.code !== 'ERR_MODULE_NOT_FOUND') throw e
    return next(specifier, { ...context, parentURL: playwrightPkg })
  }
}
