// Free ports on 127.0.0.1, for a relay that must come back on the same ports after a restart.
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'

/** A port free right now on 127.0.0.1 for TCP (`udp` false) or UDP. */
export async function freePort (udp) {
  if (udp) {
    const socket = createSocket('udp4')
    await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve))
    const { port } = socket.address()
    await new Promise((resolve) => socket.close(resolve))
    return port
  }
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** One free port for each of the relay's listeners (`startRelay`'s `ports` option). */
export async function relayPorts () {
  return {
    tcp: await freePort(false),
    ws: await freePort(false),
    http: await freePort(false),
    quic: await freePort(true),
    webrtc: await freePort(true),
    webtransport: await freePort(true)
  }
}
