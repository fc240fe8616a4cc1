// A small HTTP server on 127.0.0.1 (a secure context for WebTransport and WebRTC) for the
// js-libp2p bench pages: `/` (and `/healthz`, as on meshwork-relay) is an empty page and `/jsbench.js` the js-libp2p bundle, so a page
// load fetches and compiles the bundle over HTTP as meshwork's page fetches its module and wasm.
import { createServer } from 'node:http'
import { once } from 'node:events'

const PAGE = '<!doctype html><meta charset="utf-8"><title>js-libp2p bench</title>\n'

/** Serve `bundle` (text); resolves with { url, close() }. */
export async function startPageServer (bundle) {
  const body = Buffer.from(bundle)
  const server = createServer((req, res) => {
    if (req.url === '/' || req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE)
    } else if (req.url === '/jsbench.js') {
      res.writeHead(200, { 'content-type': 'text/javascript', 'content-length': body.length, 'cache-control': 'no-store' }).end(body)
    } else {
      res.writeHead(404).end()
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}`,
    close () {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    }
  }
}
