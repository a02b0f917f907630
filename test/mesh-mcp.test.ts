// The agent's mesh tools through the real `osmoda mcp` stdio server against a real agentd + mesh.
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadMeshKeys} from '../src/daemons/mesh/identity.js'
import {BIN, testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

let env: TestEnv
let agentd: DaemonProcess
let mesh: DaemonProcess

beforeAll(async () => {
  env = await testEnv()
  agentd = await env.start('agentd')
  mesh = await env.start('mesh')
}, 60_000)

afterAll(async () => {
  await mesh?.stopClean()
  await agentd?.stopClean()
  await env?.cleanup()
})

const text = (result: unknown) => (result as {content?: {text?: string}[]}).content?.[0]?.text ?? ''

describe('mesh tools over osmoda mcp', () => {
  it('reads identity, health and peers, and gates invite creation behind the operator', async () => {
    // Given osmoda mcp with the agent token
    const transport = new StdioClientTransport({command: process.execPath, args: [BIN, 'mcp', '--toolsets', 'mesh'], env: {...(env.env as Record<string, string>), OSMODA_AGENT_ID: 'e2e'}, stderr: 'pipe'})
    const client = new Client({name: 'mesh-e2e', version: '0.0.0'})
    await client.connect(transport)
    try {
      // When the agent lists and calls the mesh tools
      const names = (await client.listTools()).tools.map((t) => t.name).sort()
      expect(names).toEqual(['mesh_health', 'mesh_identity', 'mesh_invite_accept', 'mesh_invite_create', 'mesh_peer_disconnect', 'mesh_peer_send', 'mesh_peers', 'mesh_room_create', 'mesh_room_history', 'mesh_room_join', 'mesh_room_send'])
      const identity = await client.callTool({name: 'mesh_identity', arguments: {}})
      expect(identity.structuredContent).toMatchObject({instance_id: loadMeshKeys(env.paths).doc.instance_id, kem: 'ML-KEM-768 (ephemeral)'})
      const health = await client.callTool({name: 'mesh_health', arguments: {}})
      expect(health.structuredContent).toMatchObject({status: 'ok', listening: true, peer_count: 0})
      expect((await client.callTool({name: 'mesh_peers', arguments: {}})).structuredContent).toEqual({peers: []})
      // Then creating an invite waits for the operator
      const invite = await client.callTool({name: 'mesh_invite_create', arguments: {ttl_secs: 600}})
      expect(invite.isError).toBe(true)
      expect(text(invite)).toMatch(/^APPROVAL_REQUIRED: .*osmoda approval approve apr_/)
      // And sending to an unknown peer is a clear error
      const sent = await client.callTool({name: 'mesh_peer_send', arguments: {peer_id: 'a'.repeat(32), message: {type: 'chat', text: 'hi'}}})
      expect(sent.isError).toBe(true)
      expect(text(sent)).toMatch(/^NOT_FOUND/)
      // And the room tools create a room, send to it and read it back
      const room = (await client.callTool({name: 'mesh_room_create', arguments: {name: 'solo'}})).structuredContent as {id: string}
      const posted = await client.callTool({name: 'mesh_room_send', arguments: {room_id: room.id, text: 'note to self'}})
      expect(posted.structuredContent).toMatchObject({delivered_to: [], queued_for: []})
      const read = await client.callTool({name: 'mesh_room_history', arguments: {room_id: room.id}})
      expect(read.structuredContent).toMatchObject({messages: [{text: 'note to self'}], next_cursor: null})
      const join = await client.callTool({name: 'mesh_room_join', arguments: {room_id: room.id, peer_id: 'b'.repeat(32)}})
      expect(text(join)).toMatch(/^CONFLICT/)
    } finally {
      await client.close()
    }
  }, 60_000)
})
