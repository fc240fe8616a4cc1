// Resident memory of a process we started: VmRSS from /proc/<pid>/status, in KiB.
import { readFileSync } from 'node:fs'

export function rssKiB (pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(status.match(/VmRSS:\s+(\d+) kB/)[1])
}
