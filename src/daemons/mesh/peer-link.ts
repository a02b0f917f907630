import {canonicalJson} from '../../lib/ledger/canonical-json.js'
import {NoiseError, type SecureSession} from '../../lib/noise/session.js'
import type {PeerLink} from './link.js'
import type {MeshStore} from './store.js'

/** A plug-in's handler of one application message type. */
export type Handler = (peerId: string, message: Record<string, unknown>) => void | Promise<void>

/**
 * The PeerLink the connection manager hands to plug-ins: sends go to the peer's live session as
 * JCS bytes, handlers and connect listeners are collected for the manager to call.
 */
export function createPeerLink(deps: {
  selfId: () => string
  session: (peerId: string) => SecureSession | undefined
  connectedPeerIds: () => string[]
  store: MeshStore
  handlers: Map<string, Handler>
  connectedHandlers: ((peerId: string) => void)[]
}): PeerLink {
  return {
    get selfId() {
      return deps.selfId()
    },
    async send(peerId, message) {
      const session = deps.session(peerId)
      if (!session) return false
      // A session that closes under the write counts as not connected (the caller answers 409).
      return session.send(Buffer.from(canonicalJson(message))).then(
        () => true,
        (error: unknown) => {
          if (error instanceof NoiseError && error.code !== 'MESSAGE_TOO_LARGE') return false
          throw error
        },
      )
    },
    connectedPeerIds: deps.connectedPeerIds,
    peerKeys(peerId) {
      const peer = deps.store.getPeer(peerId)
      return peer ? {ed25519: Buffer.from(peer.ed25519_pubkey, 'hex'), noiseStatic: Buffer.from(peer.noise_static_pubkey, 'hex')} : undefined
    },
    onMessage(type, handler) {
      deps.handlers.set(type, handler)
    },
    onPeerConnected(handler) {
      deps.connectedHandlers.push(handler)
    },
  }
}
