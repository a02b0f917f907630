// Why a secure session failed or ended, as a stable code the mesh daemon can record and act on
// (e.g. `mesh.handshake_rejected{reason}` or a peer's `state_reason`) without parsing prose.

/** Stable codes of NoiseError. */
export type NoiseErrorCode =
  | 'HANDSHAKE_TIMEOUT'
  | 'HANDSHAKE_FAILED'
  | 'PEER_REJECTED'
  | 'FRAME_TOO_LARGE'
  | 'DECRYPT_FAILED'
  | 'MESSAGE_TOO_LARGE'
  | 'CLOSED'
  | 'DEAD_PEER'
  | 'PROTOCOL'

/** A secure-session failure with a stable `code`. */
export class NoiseError extends Error {
  override name = 'NoiseError'
  constructor(readonly code: NoiseErrorCode, message: string, options?: {cause?: unknown}) {
    super(message, options)
  }
}
