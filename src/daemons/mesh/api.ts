import {z} from 'zod'
import {commonApi} from '../../lib/daemon/common-api.js'
import {route} from '../../lib/rpc/route.js'
import {HealthBase, IsoTime} from '../../lib/schema/primitives.js'
import {IdentityDoc, InstanceId} from './identity.js'
import {Endpoint, InviteId} from './invite-code.js'
import {SendInputMessage} from './messages.js'
import {roomsApi} from './rooms-api.js'
import {witnessApi} from './witness-api.js'

const O = ['operator'] as const
const OA = ['operator', 'agent'] as const
const ApprovalId = z.string().regex(/^apr_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected apr_ followed by a 26-character ULID')
const Label = z.string().min(1).max(64)

/** A peer's connection state. */
export const PeerState = z.enum(['disconnected', 'connecting', 'connected', 'failed'])

/** A pinned peer (SPEC §2.5 *Peer*). */
export const Peer = z.object({
  id: InstanceId,
  label: z.string().nullable(),
  ed25519_pubkey: z.string(),
  noise_static_pubkey: z.string(),
  endpoint: z.string().nullable(),
  state: PeerState,
  state_reason: z.string().nullable(),
  connected_since: IsoTime.nullable(),
  last_seen_at: IsoTime.nullable(),
  added_at: IsoTime,
  via: z.enum(['invite_created', 'invite_accepted']),
  stats: z.object({messages_sent: z.number().int(), messages_received: z.number().int(), bytes_sent: z.number().int(), bytes_received: z.number().int(), reconnects: z.number().int()}),
})
export type Peer = z.output<typeof Peer>

/** An invite this node created (never its secret). */
export const Invite = z.object({id: InviteId, label: z.string().nullable(), endpoint: z.string(), created_at: IsoTime, expires_at: IsoTime, used_at: IsoTime.nullable(), used_by: z.string().nullable(), status: z.enum(['pending', 'used', 'expired', 'revoked'])})
export type Invite = z.output<typeof Invite>

/** GET /identity. */
export const IdentityView = IdentityDoc.extend({kem: z.literal('ML-KEM-768 (ephemeral)'), endpoint: z.string().nullable()})

/** mesh's GET /health. */
export const MeshHealth = HealthBase.extend({
  peer_count: z.number().int(),
  connected_count: z.number().int(),
  identity_ready: z.boolean(),
  listening: z.boolean(),
  listen_address: z.string().nullable(),
  room_count: z.number().int(),
  instance_id: z.string(),
  handshakes_in_flight: z.number().int(),
  unknown_messages: z.number().int(),
  invalid_messages: z.number().int(),
})

/** mesh's routes for peers, invites and identity (SPEC §2.5); rooms and witnessing add theirs. */
export const meshCoreApi = {
  health: route('GET', '/health', {output: MeshHealth, roles: OA}),
  reload: commonApi.reload,
  identity: route('GET', '/identity', {output: IdentityView, roles: OA}),
  identityRotate: route('POST', '/identity/rotate', {output: IdentityDoc, roles: O}),
  inviteCreate: route('POST', '/invite/create', {
    input: z.strictObject({
      ttl_secs: z.number().int().min(60).max(86_400).default(3600).describe('How long the code stays valid, in seconds (60..86400, default 3600)'),
      endpoint: Endpoint.optional().describe('host:port the invitee dials; default this node\'s publicEndpoint or listen address'),
      label: Label.optional().describe('Name for the peer that joins with this invite'),
      approval_id: ApprovalId.optional(),
    }),
    output: z.object({invite_id: InviteId, invite_code: z.string(), expires_at: IsoTime}),
    roles: OA,
  }),
  inviteAccept: route('POST', '/invite/accept', {
    input: z.strictObject({
      invite_code: z.string().min(1).max(8192).describe('The osmoda-invite1.… code from the other node'),
      label: Label.optional().describe('Name for the inviting peer'),
      approval_id: ApprovalId.optional(),
    }),
    output: z.object({peer_id: InstanceId, state: z.literal('connecting')}),
    roles: OA,
  }),
  invites: route('GET', '/invites', {input: z.strictObject({status: z.enum(['pending', 'used', 'expired', 'all']).default('pending')}), output: z.object({invites: z.array(Invite)}), roles: O}),
  inviteRevoke: route('DELETE', '/invite/{id}', {input: z.strictObject({id: InviteId}), output: z.object({revoked: z.string()}), roles: O}),
  peers: route('GET', '/peers', {input: z.strictObject({state: PeerState.optional().describe('Only peers in this state')}), output: z.object({peers: z.array(Peer)}), roles: OA}),
  peerGet: route('GET', '/peer/{peer_id}', {input: z.strictObject({peer_id: InstanceId}), output: Peer, roles: OA}),
  peerSend: route('POST', '/peer/{peer_id}/send', {
    input: z.strictObject({peer_id: InstanceId.describe('The peer (instance_id, see mesh_peers)'), message: SendInputMessage}),
    output: z.object({delivered: z.literal(true), bytes: z.number().int()}),
    roles: OA,
    maxBodyBytes: 512 * 1024,
  }),
  peerRemove: route('DELETE', '/peer/{peer_id}', {input: z.strictObject({peer_id: InstanceId, approval_id: ApprovalId.optional()}), output: z.object({removed: z.string()}), roles: OA}),
} as const

/** mesh's whole route table: the core plus one spread line per plug-in module. */
export const meshApi = {
  ...meshCoreApi,
  ...roomsApi,
  ...witnessApi,
} as const

/** The mesh route table type. */
export type MeshApi = typeof meshApi
