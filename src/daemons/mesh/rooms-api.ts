import {z} from 'zod'
import {route} from '../../lib/rpc/route.js'
import {IsoTime, limit} from '../../lib/schema/primitives.js'
import {MAX_ROOM_TEXT, MessageId, PeerId as InstanceId, RoomId} from './rooms-wire.js'

const OA = ['operator', 'agent'] as const

/** A mesh room (SPEC §2.5 *Rooms*). */
export const Room = z.object({
  id: RoomId,
  name: z.string(),
  owner: InstanceId.describe('The peer that created the room; only it adds members'),
  members: z.array(InstanceId).describe('Peer ids of every member, the owner included'),
  created_at: IsoTime,
  message_count: z.number().int().describe('Messages this node keeps for the room (at most roomHistoryMax)'),
})
export type Room = z.output<typeof Room>

/** Input of POST /room/create (tool `mesh_room_create`). */
export const RoomCreateInput = z.strictObject({
  name: z.string().min(1).max(64).describe('Room name, e.g. "ops" (1..64 characters)'),
  peer_ids: z.array(InstanceId).max(64).default([]).describe('Peers to add as members now (ids from mesh_peers); this node is the owner and always a member'),
})

/** Input of POST /room/{id}/join (tool `mesh_room_join`). */
export const RoomJoinInput = z.strictObject({
  room_id: RoomId.describe('The room (room_…); only its owner node can add members'),
  peer_id: InstanceId.describe('The peer to add (from mesh_peers)'),
})

/** Input of POST /room/{id}/send (tool `mesh_room_send`). */
export const RoomSendInput = z.strictObject({
  room_id: RoomId.describe('The room (room_…) this node is a member of'),
  text: z.string().min(1).max(MAX_ROOM_TEXT).describe('Message text, 1..16384 characters; signed by this node and sent to every connected member'),
})

/** Output of POST /room/{id}/send. */
export const RoomSendOutput = z.object({
  message_id: MessageId,
  delivered_to: z.array(InstanceId).describe('Members whose live session took the message'),
  queued_for: z.array(InstanceId).describe('Members not connected now: they get it by room sync when they reconnect'),
})

/** Input of GET /room/{id}/history (tool `mesh_room_history`). */
export const RoomHistoryInput = z.strictObject({
  room_id: RoomId.describe('The room (room_…)'),
  limit: limit(50, 500),
  cursor: MessageId.optional().describe('next_cursor of the previous page: older messages than those already seen'),
})

/** Output of GET /room/{id}/history. */
export const RoomHistoryOutput = z.object({
  messages: z.array(z.object({id: MessageId, sender: InstanceId, text: z.string(), ts: IsoTime})).describe('The newest `limit` messages (before `cursor`), oldest first'),
  next_cursor: MessageId.nullable().describe('Pass as `cursor` for the page of older messages; null when there are none'),
})

/** mesh's room routes, spread into meshApi. */
export const roomsApi = {
  rooms: route('GET', '/rooms', {output: z.object({rooms: z.array(Room)}), roles: OA}),
  roomCreate: route('POST', '/room/create', {input: RoomCreateInput, output: Room, roles: OA}),
  roomJoin: route('POST', '/room/{room_id}/join', {input: RoomJoinInput, output: Room, roles: OA}),
  roomSend: route('POST', '/room/{room_id}/send', {input: RoomSendInput, output: RoomSendOutput, roles: OA}),
  roomHistory: route('GET', '/room/{room_id}/history', {input: RoomHistoryInput, output: RoomHistoryOutput, roles: OA}),
} as const
