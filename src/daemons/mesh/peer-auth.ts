import type {Ledger} from '../../lib/ledger/ledger.js'
import {HandshakeRejected, proofMatches, verifyPayload, type HandshakePayload} from './handshake.js'
import type {MeshStore} from './store.js'

/** Sessions established within this window of each other are a simultaneous-dial race. */
export const RACE_WINDOW_MS = 10_000

/**
 * Whether a new session to a peer replaces the live one. Both sides decide the same way: in a
 * race the outbound session of the lower instance_id wins; a session from the same initiator, or
 * one replacing a session older than the race window (the peer restarted while the old socket
 * still looked alive), always wins.
 */
export function keepNewSession(selfId: string, peerId: string, existing: {initiator: string; establishedAt: number}, newInitiator: string, nowMs: number): boolean {
  if (existing.initiator === newInitiator) return true
  if (nowMs - existing.establishedAt > RACE_WINDOW_MS) return true
  return newInitiator === (selfId < peerId ? selfId : peerId)
}

/**
 * Responder side (SPEC §2.5): a pinned peer must present exactly its pins; a stranger needs a
 * valid, unexpired, unused invite proof for this handshake hash, which is consumed and the peer
 * pinned in one transaction. Throws HandshakeRejected.
 */
export function authenticateInbound(deps: {store: MeshStore; ledger: Ledger; selfId: string; now: Date}, remoteStatic: Buffer, raw: Buffer, h: Buffer): HandshakePayload {
  const {store} = deps
  const payload = verifyPayload(remoteStatic, raw)
  const id = payload.identity.instance_id
  if (id === deps.selfId) throw new HandshakeRejected('self_connection')
  const pinned = store.getPeer(id)
  if (pinned) {
    if (pinned.ed25519_pubkey !== payload.identity.ed25519_pubkey || pinned.noise_static_pubkey !== payload.identity.noise_static_pubkey) throw new HandshakeRejected('pin_mismatch')
    return payload
  }
  const invite = payload.invite
  if (!invite) throw new HandshakeRejected('not_invited')
  const {outcome, invite: row} = store.consumeInvite(invite.invite_id, deps.now, (key) => proofMatches(key, h, invite.proof), {
    id,
    ed25519_pubkey: payload.identity.ed25519_pubkey,
    noise_static_pubkey: payload.identity.noise_static_pubkey,
    endpoint: payload.endpoint ?? null,
    via: 'invite_created',
    added_at: deps.now.toISOString(),
  })
  if (outcome !== 'ok') throw new HandshakeRejected(`invite_${outcome}`)
  deps.ledger.append({type: 'mesh.peer_added', actor: 'mesh', payload: {peer_id: id, invite_id: invite.invite_id, label: row?.label ?? null}})
  return payload
}

/** Initiator side: the responder must be the peer we dialled, with both keys equal to its pins. Throws HandshakeRejected. */
export function authenticateOutbound(store: MeshStore, peerId: string, remoteStatic: Buffer, raw: Buffer): HandshakePayload {
  const payload = verifyPayload(remoteStatic, raw)
  if (payload.identity.instance_id !== peerId) throw new HandshakeRejected('unexpected_peer')
  const pinned = store.getPeer(peerId)
  if (!pinned || pinned.ed25519_pubkey !== payload.identity.ed25519_pubkey || pinned.noise_static_pubkey !== payload.identity.noise_static_pubkey) throw new HandshakeRejected('pin_mismatch')
  return payload
}
