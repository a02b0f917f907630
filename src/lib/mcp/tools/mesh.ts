import {meshApi, type MeshApi} from '../../../daemons/mesh/api.js'
import {BugError} from '../../errors.js'
import type {RpcClient} from '../../rpc/client.js'
import {defineTool, type AnyTool, type McpClients} from '../define-tool.js'

const READ_ONLY = {readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false} as const
const OPEN_WORLD = {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true} as const

function mesh(clients: McpClients): RpcClient<MeshApi> {
  if (!clients.mesh) throw new BugError('this MCP server was started without a mesh client')
  return clients.mesh
}

/** mesh_identity: this node's mesh identity (GET /identity). */
export const meshIdentity = defineTool({
  name: 'mesh_identity',
  title: 'Mesh identity of this server',
  description:
    "Returns this server's mesh identity: instance_id (the peer id other servers know it by), its Ed25519 and X25519 public keys, " +
    'capabilities, the endpoint it announces and the key exchange (ML-KEM-768, ephemeral per connection). It changes nothing.',
  toolset: 'mesh',
  route: meshApi.identity,
  annotations: READ_ONLY,
  summarize: (r) => `instance ${r.instance_id}${r.endpoint ? ` at ${r.endpoint}` : ''}`,
  run: (clients) => mesh(clients).identity({}),
})

/** mesh_invite_create: a one-time pairing code (POST /invite/create). */
export const meshInviteCreate = defineTool({
  name: 'mesh_invite_create',
  title: 'Create a mesh invite',
  description:
    'Creates a one-time invite code (osmoda-invite1.…) that lets ONE other osmoda server pair with this one; it expires after ' +
    'ttl_secs (default 3600, at most 86400). Give the code to the other server\'s operator, who runs mesh_invite_accept there. ' +
    'Needs the operator\'s approval: on APPROVAL_REQUIRED ask the operator, then repeat the same call with approval_id. The code is ' +
    'a secret until it is used.',
  toolset: 'mesh',
  route: meshApi.inviteCreate,
  annotations: OPEN_WORLD,
  summarize: (r) => `invite ${r.invite_id} valid until ${r.expires_at}`,
  run: (clients, args) => mesh(clients).inviteCreate(args),
})

/** mesh_invite_accept: pair with the server that created a code (POST /invite/accept). */
export const meshInviteAccept = defineTool({
  name: 'mesh_invite_accept',
  title: 'Accept a mesh invite',
  description:
    'Pairs this server with the one that created the invite code: verifies the code\'s signature and expiry, pins the inviter\'s ' +
    'keys and connects (state "connecting"; see mesh_peers). A code works once. Needs the operator\'s approval: on ' +
    'APPROVAL_REQUIRED ask the operator, then repeat the same call with approval_id.',
  toolset: 'mesh',
  route: meshApi.inviteAccept,
  annotations: OPEN_WORLD,
  summarize: (r) => `peer ${r.peer_id} ${r.state}`,
  run: (clients, args) => mesh(clients).inviteAccept(args),
})

/** mesh_peers: paired servers and their connection state (GET /peers). */
export const meshPeers = defineTool({
  name: 'mesh_peers',
  title: 'List mesh peers',
  description:
    'Lists the paired servers: id (instance_id), label, endpoint, state (connected, connecting, disconnected, failed) with ' +
    'state_reason, last_seen_at and message/byte counters. `state` filters. It changes nothing.',
  toolset: 'mesh',
  route: meshApi.peers,
  annotations: READ_ONLY,
  summarize: (r) => `${r.peers.length} peers: ${r.peers.slice(0, 10).map((p) => `${p.label ?? p.id.slice(0, 8)} ${p.state}`).join(', ')}`,
  run: (clients, args) => mesh(clients).peers(args),
})

/** mesh_peer_send: one direct message to a connected peer (POST /peer/{peer_id}/send). */
export const meshPeerSend = defineTool({
  name: 'mesh_peer_send',
  title: 'Send a message to a mesh peer',
  description:
    'Sends one end-to-end encrypted message to a connected peer: {type:"chat", text}, {type:"alert", severity: info|warning|' +
    'critical, title, detail} (critical alerts notify the peer\'s operator), {type:"health_report", hostname, cpu_pct, memory_pct, ' +
    'disk_pct, uptime_secs} or {type:"command", name} (runs only a command the peer\'s operator allowed by that name; the result ' +
    'comes back as a command_result message). At most 32 KiB. PEER_NOT_CONNECTED when there is no live session.',
  toolset: 'mesh',
  route: meshApi.peerSend,
  annotations: OPEN_WORLD,
  summarize: (r) => `delivered (${r.bytes} bytes)`,
  run: (clients, args) => mesh(clients).peerSend(args),
})

/** mesh_peer_disconnect: forget a peer (DELETE /peer/{peer_id}). */
export const meshPeerDisconnect = defineTool({
  name: 'mesh_peer_disconnect',
  title: 'Disconnect a mesh peer',
  description:
    'Closes the session to a peer and drops its pinned keys: pairing again needs a new invite. Needs the operator\'s approval: on ' +
    'APPROVAL_REQUIRED ask the operator, then repeat the same call with approval_id.',
  toolset: 'mesh',
  route: meshApi.peerRemove,
  annotations: {readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false},
  summarize: (r) => `peer ${r.removed} removed`,
  run: (clients, args) => mesh(clients).peerRemove(args),
})

/** mesh_health: mesh daemon status (GET /health). */
export const meshHealth = defineTool({
  name: 'mesh_health',
  title: 'Mesh status',
  description: 'Returns the mesh daemon\'s status: listening address, peer_count, connected_count, room_count and this instance_id. It changes nothing.',
  toolset: 'mesh',
  route: meshApi.health,
  annotations: READ_ONLY,
  summarize: (r) => `mesh ${r.status}: ${r.connected_count}/${r.peer_count} peers connected${r.listen_address ? `, listening on ${r.listen_address}` : ''}`,
  run: (clients) => mesh(clients).health({}),
})

/** The mesh toolset (rooms add theirs). */
export const MESH_TOOLS: readonly AnyTool[] = [meshIdentity, meshInviteCreate, meshInviteAccept, meshPeers, meshPeerSend, meshPeerDisconnect, meshHealth] as unknown as AnyTool[]
