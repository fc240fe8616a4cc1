// Where the built artefacts are: the release binaries in the shared cargo target directory.
import { homedir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const targetDir = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'meshwork', 'target')
export const relayBin = join(targetDir, 'release', 'meshwork-relay')
export const peerBin = join(targetDir, 'release', 'meshwork-peer')
export const rawPerfServerBin = join(targetDir, 'release', 'examples', 'raw_perf_server')
