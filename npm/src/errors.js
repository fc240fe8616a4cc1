// Errors with stable codes. Every rejection from this package is a MeshworkError.

/** The stable error codes (values of `MeshworkError#code`). */
export const ErrorCode = Object.freeze({
  INVALID_MULTIADDR: 'INVALID_MULTIADDR',
  INVALID_TOPIC: 'INVALID_TOPIC',
  INVALID_PAYLOAD: 'INVALID_PAYLOAD',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  NODE_STOPPED: 'NODE_STOPPED',
  DIAL_FAILED: 'DIAL_FAILED',
  NO_PEERS: 'NO_PEERS',
  PUBLISH_FAILED: 'PUBLISH_FAILED',
  LIMIT_REACHED: 'LIMIT_REACHED',
  FETCH_FAILED: 'FETCH_FAILED',
  START_FAILED: 'START_FAILED',
  PANIC: 'PANIC',
  INVALID_PEER_ID: 'INVALID_PEER_ID',
  STREAM_FAILED: 'STREAM_FAILED',
  BACKPRESSURE: 'BACKPRESSURE',
  INVALID_NAMESPACE: 'INVALID_NAMESPACE',
  DISCOVERY_FAILED: 'DISCOVERY_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  PEER_ID_MISMATCH: 'PEER_ID_MISMATCH',
})

/** An error from meshwork, with a stable machine-readable `code`. */
export class MeshworkError extends Error {
  /**
   * @param {string} code one of ErrorCode
   * @param {string} message for people
   */
  constructor (code, message) {
    super(message)
    this.name = 'MeshworkError'
    this.code = code
  }
}

/**
 * Turn anything thrown by the wasm module into a MeshworkError.
 * A WebAssembly.RuntimeError means the module trapped (a panic): it is unusable from now on.
 * @param {unknown} err
 * @returns {MeshworkError}
 */
export function toMeshworkError (err) {
  if (err instanceof MeshworkError) return err
  if (err instanceof WebAssembly.RuntimeError) {
    return new MeshworkError(ErrorCode.PANIC, `the meshwork module crashed: ${err.message}`)
  }
  if (err && typeof err === 'object' && typeof err.code === 'string' && err.code in ErrorCode) {
    return new MeshworkError(err.code, String(err.message))
  }
  return new MeshworkError(ErrorCode.START_FAILED, String(err?.message ?? err))
}
