import {meshApi, type MeshApi} from '../../../daemons/mesh/api.js'
import {BugError} from '../../errors.js'
import type {RpcClient} from '../../rpc/client.js'
import {defineTool, type AnyTool, type McpClients} from '../define-tool.js'

function mesh(clients: McpClients): RpcClient<MeshApi> {
  if (!clients.mesh) throw new BugError('this MCP server was started without a mesh client')
  return clients.mesh
}

/** mesh_room_create: a group room owned by this server (POST /room/create). */
export const meshRoomCreate = defineTool({
  name: 'mesh_room_create',
  title: 'Create a mesh room',
  description:
    'Creates a group chat room owned by this server, with the given paired peers (ids from mesh_peers) as members; this server is ' +
    'always a member. Members learn of the room as soon as they are connected. Only this server can add members later (mesh_room_join).',
  toolset: 'mesh',
  route: meshApi.roomCreate,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false},
  summarize: (r) => `room ${r.id} "${r.name}" with ${r.members.length} members`,
  run: (clients, args) => mesh(clients).roomCreate(args),
})

/** mesh_room_join: the owner adds a member (POST /room/{room_id}/join). */
export const meshRoomJoin = defineTool({
  name: 'mesh_room_join',
  title: 'Add a member to a mesh room',
  description:
    'Adds a paired peer to a room this server owns and tells every member. Adding a member twice changes nothing. CONFLICT when this ' +
    'server is not the owner (ask the owner server) or the peer is not paired.',
  toolset: 'mesh',
  route: meshApi.roomJoin,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true},
  summarize: (r) => `room ${r.id}: ${r.members.length} members`,
  run: (clients, args) => mesh(clients).roomJoin(args),
})

/** mesh_room_send: a signed message to every member (POST /room/{room_id}/send). */
export const meshRoomSend = defineTool({
  name: 'mesh_room_send',
  title: 'Send a message to a mesh room',
  description:
    'Sends a text message (1..16384 characters), signed by this server, to every member of the room. Connected members get it now ' +
    '(delivered_to); the others get it when they reconnect (queued_for). FORBIDDEN when this server is not a member.',
  toolset: 'mesh',
  route: meshApi.roomSend,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true},
  summarize: (r) => `message ${r.message_id}: delivered to ${r.delivered_to.length}, queued for ${r.queued_for.length}`,
  run: (clients, args) => mesh(clients).roomSend(args),
})

/** mesh_room_history: the room's messages (GET /room/{room_id}/history). */
export const meshRoomHistory = defineTool({
  name: 'mesh_room_history',
  title: 'Read a mesh room',
  description:
    "Returns the room's newest messages (limit, default 50, at most 500), oldest first, each with its sender peer id and time; pass " +
    'next_cursor as cursor to read further back. It changes nothing.',
  toolset: 'mesh',
  route: meshApi.roomHistory,
  annotations: {readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false},
  summarize: (r) => `${r.messages.length} messages${r.messages.length ? `, last: ${r.messages.at(-1)?.text.slice(0, 80)}` : ''}`,
  run: (clients, args) => mesh(clients).roomHistory(args),
})

/** The room tools of the mesh toolset. */
export const MESH_ROOM_TOOLS: readonly AnyTool[] = [meshRoomCreate, meshRoomJoin, meshRoomSend, meshRoomHistory] as unknown as AnyTool[]
