// A child process that speaks JSON lines on stdout; we keep its lines (bounded) and wait on them.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

const MAX_LINES = 20000

export class JsonLinesProcess {
  constructor (name, bin, args, opts = {}) {
    this.name = name
    this.lines = []
    this.stderr = []
    this.waiters = new Set()
    this.child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts })
    this.exited = once(this.child, 'exit')
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let obj
      try { obj = JSON.parse(line) } catch { obj = { event: 'text', text: line } }
      if (this.lines.length < MAX_LINES) this.lines.push(obj)
      for (const w of this.waiters) w()
    })
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      if (this.stderr.length > 200) this.stderr.shift()
      this.stderr.push(line)
      if (process.env.MESHWORK_E2E_VERBOSE) console.error(`[${name}] ${line}`)
    })
  }

  /** Resolve with the first line (from `from` on) that `pred` accepts; reject after `ms`. */
  waitFor (pred, ms = 20000, from = 0) {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < this.lines.length; i++) {
          if (pred(this.lines[i])) { cleanup(); resolve(this.lines[i]); return true }
        }
        return false
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`${this.name}: no matching line within ${ms} ms; last stderr:\n${this.stderr.slice(-15).join('\n')}`))
      }, ms)
      const cleanup = () => { clearTimeout(timer); this.waiters.delete(check) }
      if (!check()) this.waiters.add(check)
    })
  }

  send (obj) { this.child.stdin.write(JSON.stringify(obj) + '\n') }

  /** End the process we started, by its PID, and wait for it. */
  async stop (signal = 'SIGTERM') {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    process.kill(this.child.pid, signal)
    const timer = setTimeout(() => { try { process.kill(this.child.pid, 'SIGKILL') } catch {} }, 5000)
    await this.exited
    clearTimeout(timer)
  }
}
