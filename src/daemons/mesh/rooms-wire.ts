import {sign, verify, type KeyObject} from 'node:crypto'
import {z} from 'zod'
import {prefixedIdRe} from '../../lib/ids.js'
import {canonicalJson} from '../../lib/ledger/canonical-json.js'
import {ed25519PublicKeyFromRaw} from '../../lib/ledger/cosignature.js'
import {IsoTime} from '../../lib/schema/primitives.js'
import type {RoomMessageRecord} from './rooms-store.js'

/** Most members of one room (the owner plus 64 invited peers). */
export const MAX_ROOM_MEMBERS = 65
/** Longest room message text. */
export const MAX_ROOM_TEXT = 16_384

/** A peer id / instance_id: 32 lowercase hex (SPEC §1.9). */
export const PeerId = z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 lowercase hex characters (a peer id)')
const Hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters')

/** A room id, `room_<ULID>`. */
export const RoomId = z.string().regex(prefixedIdRe('room'), 'expected room_ followed by a 26-character ULID')
/** A room message id, `msg_<ULID>`. */
export const MessageId = z.string().regex(prefixedIdRe('msg'), 'expected msg_ followed by a 26-character ULID')

/** One signed room message as it travels (inside room_message and room_sync_reply). */
export const WireRoomMessageBody = z.strictObject({
  id: MessageId,
  room_id: RoomId,
  sender: PeerId,
  text: z.string().min(1).max(MAX_ROOM_TEXT),
  ts: IsoTime,
  sig: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'expected a base64 Ed25519 signature'),
})

/** `room_message{id, room_id, sender, text, ts, sig}`. */
export const WireRoomMessage = WireRoomMessageBody.extend({type: z.literal('room_message')})

/** `room_update{room, member_keys}`: the owner's view of a room; keys vouch for members a receiver has not pinned. */
export const WireRoomUpdate = z.strictObject({
  type: z.literal('room_update'),
  room: z.strictObject({
    id: RoomId,
    name: z.string().min(1).max(64),
    owner: PeerId,
    members: z.array(PeerId).min(1).max(MAX_ROOM_MEMBERS),
    created_at: IsoTime,
    message_count: z.number().int().min(0).optional(),
  }),
  member_keys: z.record(PeerId, Hex32).default({}),
})

/** `room_sync_request{room_id, after_id}`. */
export const WireRoomSyncRequest = z.strictObject({type: z.literal('room_sync_request'), room_id: RoomId, after_id: MessageId.nullable()})

/** `room_sync_reply{room_id, messages}`. */
export const WireRoomSyncReply = z.strictObject({type: z.literal('room_sync_reply'), room_id: RoomId, messages: z.array(WireRoomMessageBody).max(100_000)})

// What a sender signs: the JCS of exactly these five fields.
function signedBytes(m: Omit<RoomMessageRecord, 'sig'>): Buffer {
  return Buffer.from(canonicalJson({room_id: m.room_id, id: m.id, sender: m.sender, ts: m.ts, text: m.text}), 'utf8')
}

/** Signs a room message with the node's Ed25519 key; returns the base64 signature. */
export function signRoomMessage(m: Omit<RoomMessageRecord, 'sig'>, key: KeyObject): string {
  return sign(null, signedBytes(m), key).toString('base64')
}

/** Whether `m.sig` is the sender's Ed25519 signature (raw 32-byte key) over the message. */
export function verifyRoomMessage(m: RoomMessageRecord, senderKey: Buffer): boolean {
  try {
    return verify(null, signedBytes(m), ed25519PublicKeyFromRaw(senderKey), Buffer.from(m.sig, 'base64'))
  } catch {
    return false
  }
}
