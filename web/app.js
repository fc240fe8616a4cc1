// The demo page: a chat over gossipsub, through the relay that served this page.
import { createNode } from 'meshwork'

const $ = (id) => document.getElementById(id)
const encoder = new TextEncoder()
const decoder = new TextDecoder()
let node

function log (text, cls) {
  const li = document.createElement('li')
  li.textContent = text
  if (cls) li.className = cls
  $('log').append(li)
}

async function refreshPeers () {
  if (!node || node.stopped) return
  const peers = await node.peers()
  $('peers').replaceChildren(...peers.map((p) => {
    const li = document.createElement('li')
    li.textContent = `${p.peerId.slice(-8)} via ${p.transport}${p.rttMs != null ? ` (${p.rttMs.toFixed(1)} ms)` : ''}`
    return li
  }))
}

$('start').addEventListener('click', async () => {
  $('start').disabled = true
  $('status').textContent = 'connecting…'
  try {
    node = await createNode({ relayHttp: location.origin, transports: $('transport').value.split(',') })
  } catch (err) {
    $('status').textContent = `failed: ${err.code}: ${err.message}`
    $('start').disabled = false
    return
  }
  $('peer-id').textContent = node.peerId
  node.addEventListener('peer:connect', (e) => {
    $('status').textContent = `connected over ${e.detail.transport}`
    refreshPeers()
  })
  node.addEventListener('peer:disconnect', refreshPeers)
  node.addEventListener('message', (e) => {
    log(`${(e.detail.from ?? '?').slice(-8)}: ${decoder.decode(e.detail.data)}`)
  })
  node.addEventListener('error', (e) => log(`${e.detail.code}: ${e.detail.message}`, 'error'))
  await node.subscribe($('topic').value)
  setInterval(refreshPeers, 2000)
})

$('send').addEventListener('submit', async (ev) => {
  ev.preventDefault()
  if (!node) return
  const text = $('text').value
  try {
    await node.publish($('topic').value, encoder.encode(text))
    log(`me: ${text}`, 'mine')
    $('text').value = ''
  } catch (err) {
    log(`${err.code}: ${err.message}`, 'error')
  }
})
