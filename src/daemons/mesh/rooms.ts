import type {KeyObject} from 'node:crypto'
import type {z} from 'zod'
import {ConflictError, NotFoundError, PermissionDeniedError} from '../../lib/errors.js'
import {createIdGenerator} from '../../lib/ids.js'
import {rawEd25519PublicKey} from '../../lib/ledger/checkpoint.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import type {PeerLink} from './link.js'
import type {Room, RoomCreateInput, RoomHistoryInput, RoomHistoryOutput, RoomJoinInput, RoomSendInput, RoomSendOutput} from './rooms-api.js'
import type {RoomMessageRecord, RoomRecord, RoomsStore} from './rooms-store.js'
import {signRoomMessage, verifyRoomMessage, WireRoomMessage, WireRoomSyncReply, WireRoomSyncRequest, WireRoomUpdate} from './rooms-wire.js'

// Room sync replies stay this far under maxMessageBytes (envelope and escaping head-room).
const REPLY_MARGIN_BYTES = 4096

/** Dependencies of the rooms service. */
export interface RoomsDeps {
  link: PeerLink
  store: RoomsStore
  ledger: Pick<Ledger, 'append'>
  /** The node's Ed25519 key (identity/ed25519.key): it signs this node's room messages. */
  signingKey: KeyObject
  log: Logger
  settings: () => {roomHistoryMax: number; maxMessageBytes: number}
  now?: () => number
}

/** Why an inbound room message was dropped (counted in `stats().rejected`). */
export type RoomRejectReason =
  | 'malformed'
  | 'unknown_room'
  | 'not_member'
  | 'not_owner'
  | 'sender_mismatch'
  | 'sender_not_member'
  | 'no_key'
  | 'bad_signature'

/**
 * Rooms over the authenticated PeerLink: the owner alone adds members and tells every member;
 * each message is signed by its sender and fanned out by it; receivers keep only members' validly
 * signed messages, once each; members catch up with each other on every (re)connect.
 */
export function createRoomsService(deps: RoomsDeps) {
  const {link, store, log} = deps
  const now = deps.now ?? Date.now
  const newId = createIdGenerator({clock: now})
  const stats = {accepted: 0, duplicates: 0, rejected: {} as Partial<Record<RoomRejectReason, number>>}
  const self = () => link.selfId
  const selfKey = rawEd25519PublicKey(deps.signingKey)

  const reject = (reason: RoomRejectReason, peerId: string, detail?: string): void => {
    stats.rejected[reason] = (stats.rejected[reason] ?? 0) + 1
    log.debug('room message dropped', {reason, peer_id: peerId, detail})
  }

  const mustRoom = (id: string): RoomRecord => {
    const room = store.getRoom(id)
    if (!room) throw new NotFoundError(`no room ${id} on this node`, {hint: 'mesh_room_create makes one; GET /rooms lists them'})
    return room
  }

  const keyHex = (peerId: string): string | undefined => link.peerKeys(peerId)?.ed25519.toString('hex')

  const sendUpdate = async (room: RoomRecord, to: string[]): Promise<void> => {
    const memberKeys: Record<string, string> = {}
    for (const m of room.members) {
      const k = m === self() ? undefined : (keyHex(m) ?? store.memberKey(room.id, m) ?? undefined)
      if (k) memberKeys[m] = k
    }
    const update = {type: 'room_update', room: {id: room.id, name: room.name, owner: room.owner, members: room.members, created_at: room.created_at}, member_keys: memberKeys}
    await Promise.all(to.filter((p) => p !== self()).map((p) => link.send(p, update)))
  }

  // A message is kept only from a member, signed with the key this node pinned (or the owner vouched for).
  const accept = (room: RoomRecord, m: RoomMessageRecord, from: string): void => {
    if (!room.members.includes(m.sender)) return reject('sender_not_member', from, m.id)
    if (store.hasMessage(room.id, m.id)) {
      stats.duplicates++
      return
    }
    const key = m.sender === self() ? selfKey : (link.peerKeys(m.sender)?.ed25519 ?? hexKey(store.memberKey(room.id, m.sender)))
    if (!key) return reject('no_key', from, m.sender)
    if (!verifyRoomMessage(m, key)) return reject('bad_signature', from, m.id)
    if (store.addMessage(m, deps.settings().roomHistoryMax)) stats.accepted++
    else stats.duplicates++
  }

  const requestSync = async (peerId: string): Promise<void> => {
    for (const room of store.listRooms()) {
      if (!room.members.includes(peerId)) continue
      if (room.owner === self()) await sendUpdate(room, [peerId])
      // No cursor yet: ask for everything the peer keeps. Our own newest id would skip messages the
      // peer stored before it, which we miss whenever we were not connected to their sender.
      const afterId = store.syncCursor(room.id, peerId)
      await link.send(peerId, {type: 'room_sync_request', room_id: room.id, after_id: afterId})
    }
  }

  const replySync = async (peerId: string, roomId: string, afterId: string | null): Promise<void> => {
    const {roomHistoryMax, maxMessageBytes} = deps.settings()
    const budget = maxMessageBytes - REPLY_MARGIN_BYTES
    const messages = store.messagesAfter(roomId, afterId, roomHistoryMax)
    let batch: RoomMessageRecord[] = []
    let bytes = 0
    const flush = async () => {
      await link.send(peerId, {type: 'room_sync_reply', room_id: roomId, messages: batch})
      batch = []
      bytes = 0
    }
    for (const m of messages) {
      const size = Buffer.byteLength(JSON.stringify(m)) * 2 + 1
      if (batch.length > 0 && bytes + size > budget) await flush()
      batch.push(m)
      bytes += size
    }
    if (batch.length > 0) await flush()
  }

  link.onMessage('room_update', (peerId, raw) => {
    const parsed = WireRoomUpdate.safeParse(raw)
    if (!parsed.success) return reject('malformed', peerId)
    const {room, member_keys: keys} = parsed.data
    if (room.owner !== peerId) return reject('not_owner', peerId, room.id)
    if (!room.members.includes(self()) || !room.members.includes(room.owner)) return reject('not_member', peerId, room.id)
    const existing = store.getRoom(room.id)
    if (existing && existing.owner !== room.owner) return reject('not_owner', peerId, room.id)
    store.upsertRoom(existing ?? room, room.members, keys)
    if (!existing) log.info('joined room', {room_id: room.id, owner: room.owner})
  })

  link.onMessage('room_message', (peerId, raw) => {
    const parsed = WireRoomMessage.safeParse(raw)
    if (!parsed.success) return reject('malformed', peerId)
    const {type: _type, ...m} = parsed.data
    const room = store.getRoom(m.room_id)
    if (!room) return reject('unknown_room', peerId, m.room_id)
    if (!room.members.includes(peerId)) return reject('not_member', peerId, m.room_id)
    // Fan-out is done by the sender itself: a direct message names its authenticated peer.
    if (m.sender !== peerId) return reject('sender_mismatch', peerId, m.id)
    accept(room, m, peerId)
  })

  link.onMessage('room_sync_request', async (peerId, raw) => {
    const parsed = WireRoomSyncRequest.safeParse(raw)
    if (!parsed.success) return reject('malformed', peerId)
    const room = store.getRoom(parsed.data.room_id)
    if (!room) return reject('unknown_room', peerId, parsed.data.room_id)
    if (!room.members.includes(peerId)) return reject('not_member', peerId, room.id)
    await replySync(peerId, room.id, parsed.data.after_id)
  })

  link.onMessage('room_sync_reply', (peerId, raw) => {
    const parsed = WireRoomSyncReply.safeParse(raw)
    if (!parsed.success) return reject('malformed', peerId)
    const room = store.getRoom(parsed.data.room_id)
    if (!room) return reject('unknown_room', peerId, parsed.data.room_id)
    if (!room.members.includes(peerId)) return reject('not_member', peerId, room.id)
    for (const m of parsed.data.messages) {
      if (m.room_id !== room.id) reject('malformed', peerId, m.id)
      else accept(room, m, peerId)
    }
    const last = parsed.data.messages.at(-1)
    // The cursor is the replier's order: the next request continues exactly where this reply ended.
    if (last) store.setSyncCursor(room.id, peerId, last.id)
  })

  link.onPeerConnected((peerId) => {
    requestSync(peerId).catch((error: unknown) => log.warn('room sync request failed', {peer_id: peerId, error: String(error)}))
  })

  return {
    list(): {rooms: Room[]} {
      return {rooms: store.listRooms()}
    },

    async create(input: z.output<typeof RoomCreateInput>, actor: string): Promise<Room> {
      const peers = [...new Set(input.peer_ids)].filter((p) => p !== self())
      const unknown = peers.filter((p) => !link.peerKeys(p))
      if (unknown.length) throw new ConflictError(`unknown peer(s): ${unknown.join(', ')}`, {details: {state: 'peer_unknown', peer_ids: unknown}, hint: 'pair with the peer first (mesh_invite_create / mesh_invite_accept); mesh_peers lists known peers'})
      const room = {id: newId('room'), name: input.name, owner: self(), created_at: new Date(now()).toISOString()}
      const members = [self(), ...peers]
      store.upsertRoom(room, members, Object.fromEntries(peers.map((p) => [p, keyHex(p)])))
      deps.ledger.append({type: 'mesh.room_created', actor, payload: {room_id: room.id, name: room.name}})
      const created = mustRoom(room.id)
      await sendUpdate(created, created.members)
      return created
    },

    async join(input: z.output<typeof RoomJoinInput>, actor: string): Promise<Room> {
      const room = mustRoom(input.room_id)
      if (room.owner !== self()) throw new ConflictError(`room ${room.id} is owned by ${room.owner}: only its owner adds members`, {details: {state: 'not_owner', owner: room.owner}, hint: `ask the owner node (${room.owner}) to run mesh_room_join`})
      if (room.members.includes(input.peer_id)) return room
      const key = keyHex(input.peer_id)
      if (!key) throw new ConflictError(`unknown peer ${input.peer_id}`, {details: {state: 'peer_unknown'}, hint: 'pair with the peer first; mesh_peers lists known peers'})
      store.upsertRoom(room, [input.peer_id], {[input.peer_id]: key})
      deps.ledger.append({type: 'mesh.room_joined', actor, payload: {room_id: room.id, peer_id: input.peer_id}})
      const updated = mustRoom(room.id)
      await sendUpdate(updated, updated.members)
      return updated
    },

    async send(input: z.output<typeof RoomSendInput>, actor: string): Promise<z.input<typeof RoomSendOutput>> {
      const room = mustRoom(input.room_id)
      if (!room.members.includes(self())) throw new PermissionDeniedError('FORBIDDEN', `this node is not a member of room ${room.id}`)
      const unsigned = {id: newId('msg'), room_id: room.id, sender: self(), text: input.text, ts: new Date(now()).toISOString()}
      const message: RoomMessageRecord = {...unsigned, sig: signRoomMessage(unsigned, deps.signingKey)}
      store.addMessage(message, deps.settings().roomHistoryMax)
      const others = room.members.filter((m) => m !== self())
      const sent = await Promise.all(others.map((p) => link.send(p, {type: 'room_message', ...message})))
      deps.ledger.append({type: 'mesh.room_message_sent', actor, payload: {room_id: room.id, message_id: message.id, bytes: Buffer.byteLength(input.text)}})
      return {message_id: message.id, delivered_to: others.filter((_, i) => sent[i]), queued_for: others.filter((_, i) => !sent[i])}
    },

    history(input: z.output<typeof RoomHistoryInput>): z.input<typeof RoomHistoryOutput> {
      mustRoom(input.room_id)
      const page = store.pageBefore(input.room_id, input.cursor, input.limit + 1)
      const more = page.length > input.limit
      const shown = page.slice(0, input.limit).reverse()
      return {messages: shown.map(({id, sender, text, ts}) => ({id, sender, text, ts})), next_cursor: more ? (shown[0]?.id ?? null) : null}
    },

    /** Room count and inbound counters (for /health). */
    stats: () => ({room_count: store.listRooms().length, accepted: stats.accepted, duplicates: stats.duplicates, rejected: {...stats.rejected}}),
  }
}

function hexKey(hex: string | null): Buffer | undefined {
  return hex ? Buffer.from(hex, 'hex') : undefined
}

/** The rooms service's type. */
export type RoomsService = ReturnType<typeof createRoomsService>
