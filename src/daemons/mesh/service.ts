import {randomBytes} from 'node:crypto'
import type {z} from 'zod'
import {ConflictError, NotFoundError, OsmodaError} from '../../lib/errors.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import {canonicalJson} from '../../lib/ledger/canonical-json.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import type {Invite, MeshApi, Peer} from './api.js'
import type {MeshConfig} from './config.js'
import type {ConnectionManager} from './connections.js'
import type {MeshGate} from './gate.js'
import {signRotation, type MeshKeys} from './identity.js'
import {decodeInvite, encodeInvite, secretKey} from './invite-code.js'
import type {InviteRow, MeshStore, PeerRow} from './store.js'

type In<K extends keyof MeshApi> = z.output<MeshApi[K]['input']>
type Caller = Pick<RequestContext, 'role' | 'actor'>

/** What the mesh service needs. */
export interface MeshServiceDeps {
  store: MeshStore
  ledger: Ledger
  config: () => MeshConfig
  connections: ConnectionManager
  gate: MeshGate
  keys: () => MeshKeys
  /** Replaces the Noise static key on disk and returns the new keys. */
  rotateKeys: () => MeshKeys
  setKeys: (keys: MeshKeys) => void
  newId: (prefix: string) => string
  advertisedEndpoint: () => string | null
  now?: () => Date
  version: string
  startedAt: number
  /** Rooms held by the rooms module (0 until it plugs in). */
  roomCount?: () => number
}

// The body an approval is bound to: the validated input with defaults, without approval_id (what
// agentd's approval_request resolves a tool call to, so an approval asked for up front matches).
function gateBody(input: {approval_id?: string}): Record<string, unknown> {
  const {approval_id: _presented, ...body} = input
  return body
}

function inviteStatus(row: InviteRow, now: Date): Invite['status'] {
  if (row.revoked_at) return 'revoked'
  if (row.used_at) return 'used'
  return Date.parse(row.expires_at) <= now.getTime() ? 'expired' : 'pending'
}

/** Peers, invites, identity and direct messages: the logic behind mesh's core routes. */
export function createMeshService(deps: MeshServiceDeps) {
  const {store, ledger, connections} = deps
  const now = deps.now ?? (() => new Date())

  const peerView = (row: PeerRow): Peer => {
    const v = connections.view(row.id)
    return {
      id: row.id,
      label: row.label,
      ed25519_pubkey: row.ed25519_pubkey,
      noise_static_pubkey: row.noise_static_pubkey,
      endpoint: row.endpoint,
      state: v.state,
      state_reason: v.reason,
      connected_since: v.connectedSince,
      last_seen_at: row.last_seen_at,
      added_at: row.added_at,
      via: row.via,
      stats: {
        messages_sent: row.messages_sent + v.live.messages_sent,
        messages_received: row.messages_received + v.live.messages_received,
        bytes_sent: row.bytes_sent + v.live.bytes_sent,
        bytes_received: row.bytes_received + v.live.bytes_received,
        reconnects: row.reconnects,
      },
    }
  }

  const requirePeer = (id: string): PeerRow => {
    const row = store.getPeer(id)
    if (!row) throw new NotFoundError(`no peer ${id}`, {hint: 'list peers with `osmoda mesh peers`'})
    return row
  }

  return {
    health() {
      const peers = store.listPeers()
      const listening = connections.listening()
      const connected = connections.link.connectedPeerIds().length
      return {
        status: 'ok' as const,
        daemon: 'mesh',
        version: deps.version,
        pid: process.pid,
        uptime_secs: Math.round((Date.now() - deps.startedAt) / 1000),
        peer_count: peers.length,
        connected_count: connected,
        identity_ready: true,
        listening: listening !== null,
        listen_address: listening ? `${listening.address.includes(':') ? `[${listening.address}]` : listening.address}:${listening.port}` : null,
        room_count: deps.roomCount?.() ?? 0,
        instance_id: deps.keys().doc.instance_id,
        handshakes_in_flight: connections.handshakesInFlight(),
        unknown_messages: connections.counters.unknown,
        invalid_messages: connections.counters.invalid,
      }
    },

    identity() {
      return {...deps.keys().doc, kem: 'ML-KEM-768 (ephemeral)' as const, endpoint: deps.advertisedEndpoint()}
    },

    async rotateIdentity() {
      const old = deps.keys()
      const next = deps.rotateKeys()
      // Tell connected peers over the old sessions first: they re-pin, then both sides redial.
      const message = {type: 'key_rotation', old_instance_id: old.doc.instance_id, identity: next.doc, sig: signRotation(old.signingKey, old.doc.instance_id, next.doc).toString('base64url')}
      await Promise.all(connections.link.connectedPeerIds().map((id) => connections.link.send(id, message).catch(() => false)))
      deps.setKeys(next)
      connections.closeAll()
      ledger.append({type: 'mesh.identity_rotated', actor: 'mesh', payload: {old_instance_id: old.doc.instance_id, new_instance_id: next.doc.instance_id}})
      return next.doc
    },

    async inviteCreate(input: In<'inviteCreate'>, caller: Caller) {
      const c = deps.config()
      if (input.ttl_secs > c.inviteMaxTtlSecs) throw new OsmodaError('VALIDATION_FAILED', `ttl_secs ${input.ttl_secs} is over this node's inviteMaxTtlSecs ${c.inviteMaxTtlSecs}`, {details: [`ttl_secs: at most ${c.inviteMaxTtlSecs}`]})
      const endpoint = input.endpoint ?? deps.advertisedEndpoint()
      if (!endpoint) throw new OsmodaError('VALIDATION_FAILED', 'no endpoint to put in the invite: mesh listens on a wildcard address and publicEndpoint is not set', {details: ['endpoint: required here'], hint: 'pass --endpoint host:port or set services.osmoda.mesh.publicEndpoint'})
      await deps.gate.check({operation: 'mesh_invite_create', method: 'POST', path: '/invite/create', body: gateBody(input), caller, summary: `create a mesh invite (valid ${input.ttl_secs} s)${input.label ? ` for "${input.label}"` : ''}: whoever holds the code can pair with this server`, approvalId: input.approval_id})
      const at = now()
      const id = deps.newId('inv')
      const secret = randomBytes(32)
      const expiresAt = new Date(at.getTime() + input.ttl_secs * 1000).toISOString()
      store.insertInvite({id, secret_sha256: secretKey(secret).toString('hex'), label: input.label ?? null, endpoint, created_at: at.toISOString(), expires_at: expiresAt})
      ledger.append({type: 'mesh.invite_created', actor: caller.actor, payload: {invite_id: id, expires_at: expiresAt, label: input.label ?? null}})
      return {invite_id: id, invite_code: encodeInvite(deps.keys(), {endpoint, invite_id: id, secret, expires_at: expiresAt}), expires_at: expiresAt}
    },

    async inviteAccept(input: In<'inviteAccept'>, caller: Caller) {
      const decoded = decodeInvite(input.invite_code, now())
      const inviter = decoded.body.inviter
      if (inviter.instance_id === deps.keys().doc.instance_id) throw new OsmodaError('INVITE_INVALID', 'this invite was created by this node', {hint: 'accept the code on the other server'})
      if (store.codeUsed(decoded.codeSha256)) throw new OsmodaError('INVITE_USED', `invite ${decoded.body.invite_id} was already accepted on this node`, {hint: 'ask the inviter for a fresh code'})
      if (store.getPeer(inviter.instance_id)) throw new ConflictError(`peer ${inviter.instance_id} is already known`, {details: {state: 'known_peer'}, hint: 'see `osmoda mesh peer show`'})
      await deps.gate.check({operation: 'mesh_invite_accept', method: 'POST', path: '/invite/accept', body: gateBody(input), caller, summary: `pair with mesh node ${inviter.instance_id} at ${decoded.body.endpoint}`, approvalId: input.approval_id})
      const outcome = store.acceptInvite(
        {
          id: inviter.instance_id,
          label: input.label ?? null,
          ed25519_pubkey: inviter.ed25519_pubkey,
          noise_static_pubkey: inviter.noise_static_pubkey,
          endpoint: decoded.body.endpoint,
          via: 'invite_accepted',
          invite_id: decoded.body.invite_id,
          invite_secret: decoded.secret.toString('base64url'),
          added_at: now().toISOString(),
        },
        decoded.codeSha256,
      )
      if (outcome === 'used') throw new OsmodaError('INVITE_USED', `invite ${decoded.body.invite_id} was already accepted on this node`)
      if (outcome === 'peer_exists') throw new ConflictError(`peer ${inviter.instance_id} is already known`, {details: {state: 'known_peer'}})
      ledger.append({type: 'mesh.invite_accepted', actor: caller.actor, payload: {peer_id: inviter.instance_id, invite_id: decoded.body.invite_id}})
      connections.dialSoon(inviter.instance_id)
      return {peer_id: inviter.instance_id, state: 'connecting' as const}
    },

    invites(input: In<'invites'>) {
      const at = now()
      const invites = store
        .listInvites()
        .map((row) => ({id: row.id, label: row.label, endpoint: row.endpoint, created_at: row.created_at, expires_at: row.expires_at, used_at: row.used_at, used_by: row.used_by, status: inviteStatus(row, at)}))
        .filter((invite) => input.status === 'all' || invite.status === input.status)
      return {invites}
    },

    inviteRevoke(input: In<'inviteRevoke'>, caller: Caller) {
      const row = store.getInvite(input.id)
      if (!row || row.revoked_at) throw new NotFoundError(`no invite ${input.id}`, {hint: 'list invites with `osmoda mesh invite list --status all`'})
      if (row.used_at) throw new ConflictError(`invite ${input.id} was already used by ${row.used_by}`, {details: {state: 'used'}, hint: 'remove the peer instead: `osmoda mesh peer remove`'})
      store.revokeInvite(input.id, now().toISOString())
      ledger.append({type: 'mesh.invite_revoked', actor: caller.actor, payload: {invite_id: input.id}})
      return {revoked: input.id}
    },

    peers(input: In<'peers'>) {
      return {peers: store.listPeers().map(peerView).filter((p) => !input.state || p.state === input.state)}
    },

    peer: (id: string) => peerView(requirePeer(id)),

    async peerSend(input: In<'peerSend'>, caller: Caller) {
      requirePeer(input.peer_id)
      const type = input.message.type
      if (type.startsWith('fleet_') && caller.role !== 'operator') throw new OsmodaError('FORBIDDEN', 'fleet messages are sent by watch (operator role) only', {hint: 'use fleet_propose / fleet_vote'})
      const message: Record<string, unknown> = type === 'command' ? {...input.message, id: deps.newId('cmd')} : {...input.message}
      const bytes = Buffer.byteLength(canonicalJson(message))
      const delivered = await connections.link.send(input.peer_id, message)
      if (!delivered) throw new OsmodaError('PEER_NOT_CONNECTED', `peer ${input.peer_id} has no live session`, {details: {state: connections.view(input.peer_id).state}, hint: 'mesh redials known peers with back-off; see `osmoda mesh peer show`'})
      ledger.append({type: 'mesh.message_sent', actor: caller.actor, payload: {peer_id: input.peer_id, type, bytes, ...(message.id ? {message_id: message.id} : {})}})
      return {delivered: true as const, bytes}
    },

    async peerRemove(input: In<'peerRemove'>, caller: Caller) {
      const row = requirePeer(input.peer_id)
      await deps.gate.check({operation: 'mesh_peer_disconnect', method: 'DELETE', path: `/peer/${input.peer_id}`, body: gateBody(input), caller, summary: `disconnect and forget mesh peer ${row.label ?? row.id} (re-pairing needs a new invite)`, approvalId: input.approval_id})
      connections.drop(input.peer_id)
      store.removePeer(input.peer_id)
      ledger.append({type: 'mesh.peer_removed', actor: caller.actor, payload: {peer_id: input.peer_id}})
      return {removed: input.peer_id}
    },
  }
}

/** The mesh service. */
export type MeshService = ReturnType<typeof createMeshService>
