// Bad input on every core mesh route: the error envelope, the daemon still serving, nothing written
// (no invite, no peer, no mesh.* event besides the one pairing the table sets up on purpose).
import {randomBytes} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {encodeInvite} from '../src/daemons/mesh/invite-code.js'
import {loadMeshKeys} from '../src/daemons/mesh/identity.js'
import {makeTestKeys} from '../src/daemons/mesh/test-keys.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {rawRequest} from './helpers/raw-request.js'

let env: TestEnv
let agentd: DaemonProcess
let mesh: DaemonProcess
const stranger = makeTestKeys()
const future = () => new Date(Date.now() + 3_600_000).toISOString()
const strangerCode = (expires = future()) => encodeInvite(stranger, {endpoint: '127.0.0.1:9', invite_id: 'inv_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', secret: randomBytes(32), expires_at: expires})
// A peer this node knows but can never reach (port 9 refuses): sends to it are 409.
const knownCode = encodeInvite(makeTestKeys(), {endpoint: '127.0.0.1:9', invite_id: 'inv_01JDX8Q4S1T6V0W7Y2Z3A4B5C7', secret: randomBytes(32), expires_at: future()})
let knownPeer = ''
const unknownPeer = 'f'.repeat(32)

beforeAll(async () => {
  env = await testEnv()
  writeFileSync(join(env.paths.configDir, 'mesh.json'), JSON.stringify({reconnect: {initialSecs: 30, maxSecs: 60}}))
  agentd = await env.start('agentd')
  mesh = await env.start('mesh')
  const accepted = await send('POST', '/invite/accept', {invite_code: knownCode})
  expect(accepted.status).toBe(200)
  knownPeer = accepted.body.peer_id
}, 60_000)

afterAll(async () => {
  await mesh?.stopClean()
  await agentd?.stopClean()
  await env?.cleanup()
})

function send(method: string, path: string, body?: unknown, role: 'operator' | 'agent' | 'none' = 'operator', raw?: string | Buffer) {
  return rawRequest(mesh.socket, method, path, {
    headers: {...(role === 'none' ? {} : {authorization: `Bearer ${env.token(role)}`}), ...(body === undefined && raw === undefined ? {} : {'content-type': 'application/json'})},
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  })
}

type Case = {name: string; method: string; path: () => string; body?: unknown; raw?: string | Buffer; role?: 'operator' | 'agent' | 'none'; status: number; code: string}
const chat = {type: 'chat', text: 'hi'}
const CASES: Case[] = [
  {name: 'identity without a token', method: 'GET', path: () => '/identity', role: 'none', status: 401, code: 'UNAUTHENTICATED'},
  {name: 'identity with an unknown query field', method: 'GET', path: () => '/identity?x=1', status: 400, code: 'VALIDATION_FAILED'},
  {name: 'rotate as the agent', method: 'POST', path: () => '/identity/rotate', body: {}, role: 'agent', status: 403, code: 'FORBIDDEN'},
  {name: 'rotate with a body field', method: 'POST', path: () => '/identity/rotate', body: {force: true}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invite create: malformed JSON', method: 'POST', path: () => '/invite/create', raw: '{"ttl_secs":', status: 400, code: 'INVALID_JSON'},
  {name: 'invite create: ttl 59', method: 'POST', path: () => '/invite/create', body: {ttl_secs: 59}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invite create: ttl 86401', method: 'POST', path: () => '/invite/create', body: {ttl_secs: 86_401}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invite create: ttl not an integer', method: 'POST', path: () => '/invite/create', body: {ttl_secs: 60.5}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invite create: ttl a string', method: 'POST', path: () => '/invite/create', body: {ttl_secs: '3600'}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invite create: endpoint without a port', method: 'POST', path: () => '/invite/create', body: {endpoint: 'example.com'}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invite create: label over 64', method: 'POST', path: () => '/invite/create', body: {label: 'x'.repeat(65)}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invite create: empty label', method: 'POST', path: () => '/invite/create', body: {label: ''}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invite create: unknown field', method: 'POST', path: () => '/invite/create', body: {secret: 'mine'}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invite create: bad approval id', method: 'POST', path: () => '/invite/create', body: {approval_id: 'apr_1'}, role: 'agent', status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invite create: agent without approval', method: 'POST', path: () => '/invite/create', body: {}, role: 'agent', status: 412, code: 'APPROVAL_REQUIRED'},
  {name: 'invite create: wrong content type', method: 'POST', path: () => '/invite/create', raw: 'ttl=60', status: 400, code: 'INVALID_JSON'},
  {name: 'invite accept: no code', method: 'POST', path: () => '/invite/accept', body: {}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invite accept: code over 8192', method: 'POST', path: () => '/invite/accept', body: {invite_code: 'osmoda-invite1.' + 'A'.repeat(8192)}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invite accept: garbage code', method: 'POST', path: () => '/invite/accept', body: {invite_code: 'hello'}, status: 400, code: 'INVITE_INVALID'},
  {name: 'invite accept: tampered code', method: 'POST', path: () => '/invite/accept', body: {invite_code: strangerCode().slice(0, -2) + 'AA'}, status: 400, code: 'INVITE_INVALID'},
  {name: 'invite accept: expired code', method: 'POST', path: () => '/invite/accept', body: {invite_code: strangerCode('2020-01-01T00:00:00.000Z')}, status: 400, code: 'INVITE_EXPIRED'},
  {name: 'invite accept: the code again', method: 'POST', path: () => '/invite/accept', body: {invite_code: knownCode}, status: 409, code: 'INVITE_USED'},
  {name: 'invite accept: agent without approval', method: 'POST', path: () => '/invite/accept', body: {invite_code: strangerCode()}, role: 'agent', status: 412, code: 'APPROVAL_REQUIRED'},
  {name: 'invite accept: unknown field', method: 'POST', path: () => '/invite/accept', body: {invite_code: strangerCode(), trust: true}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'invites as the agent', method: 'GET', path: () => '/invites', role: 'agent', status: 403, code: 'FORBIDDEN'},
  {name: 'invites with a bad status', method: 'GET', path: () => '/invites?status=open', status: 400, code: 'VALIDATION_FAILED'},
  {name: 'revoke a malformed id', method: 'DELETE', path: () => '/invite/inv_123', status: 400, code: 'VALIDATION_FAILED'},
  {name: 'revoke an unknown invite', method: 'DELETE', path: () => '/invite/inv_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', status: 404, code: 'NOT_FOUND'},
  {name: 'revoke as the agent', method: 'DELETE', path: () => '/invite/inv_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', role: 'agent', status: 403, code: 'FORBIDDEN'},
  {name: 'peers with a bad state', method: 'GET', path: () => '/peers?state=up', status: 400, code: 'VALIDATION_FAILED'},
  {name: 'peers with an unknown field', method: 'GET', path: () => '/peers?limit=5', status: 400, code: 'VALIDATION_FAILED'},
  {name: 'peer with uppercase id', method: 'GET', path: () => `/peer/${'F'.repeat(32)}`, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'peer with a 31-char id', method: 'GET', path: () => `/peer/${'f'.repeat(31)}`, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'peer with traversal', method: 'GET', path: () => '/peer/..%2F..%2Fetc', status: 400, code: 'VALIDATION_FAILED'},
  {name: 'unknown peer', method: 'GET', path: () => `/peer/${unknownPeer}`, status: 404, code: 'NOT_FOUND'},
  {name: 'send to an unknown peer', method: 'POST', path: () => `/peer/${unknownPeer}/send`, body: {message: chat}, status: 404, code: 'NOT_FOUND'},
  {name: 'send to a known, unreachable peer', method: 'POST', path: () => `/peer/${knownPeer}/send`, body: {message: chat}, status: 409, code: 'PEER_NOT_CONNECTED'},
  {name: 'send without message', method: 'POST', path: () => `/peer/${knownPeer}/send`, body: {}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send a room message', method: 'POST', path: () => `/peer/${knownPeer}/send`, body: {message: {type: 'room_message', text: 'x'}}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send a chat claiming a sender', method: 'POST', path: () => `/peer/${knownPeer}/send`, body: {message: {...chat, sender: unknownPeer}}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send an empty chat', method: 'POST', path: () => `/peer/${knownPeer}/send`, body: {message: {type: 'chat', text: ''}}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send a chat over 16384 chars', method: 'POST', path: () => `/peer/${knownPeer}/send`, body: {message: {type: 'chat', text: 'x'.repeat(16_385)}}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send an alert with a bad severity', method: 'POST', path: () => `/peer/${knownPeer}/send`, body: {message: {type: 'alert', severity: 'fatal', title: 't', detail: ''}}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send a health report over 100 %', method: 'POST', path: () => `/peer/${knownPeer}/send`, body: {message: {type: 'health_report', hostname: 'h', cpu_pct: 101, memory_pct: 1, disk_pct: 1, uptime_secs: 1}}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send a command with a 65-char name', method: 'POST', path: () => `/peer/${knownPeer}/send`, body: {message: {type: 'command', name: 'x'.repeat(65)}}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send a command with an argv', method: 'POST', path: () => `/peer/${knownPeer}/send`, body: {message: {type: 'command', name: 'uptime', args: ['-p']}}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send a fleet message as the agent', method: 'POST', path: () => `/peer/${knownPeer}/send`, body: {message: {type: 'fleet_vote', fleet_id: 'x', approve: true}}, role: 'agent', status: 403, code: 'FORBIDDEN'},
  {name: 'send an oversized fleet message', method: 'POST', path: () => `/peer/${knownPeer}/send`, body: {message: {type: 'fleet_propose', blob: 'x'.repeat(300 * 1024)}}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send a body over 512 KiB', method: 'POST', path: () => `/peer/${knownPeer}/send`, raw: JSON.stringify({message: {type: 'chat', text: 'x'.repeat(600 * 1024)}}), status: 413, code: 'PAYLOAD_TOO_LARGE'},
  {name: 'remove a peer as the agent without approval', method: 'DELETE', path: () => `/peer/${knownPeer}`, role: 'agent', status: 412, code: 'APPROVAL_REQUIRED'},
  {name: 'remove an unknown peer', method: 'DELETE', path: () => `/peer/${unknownPeer}`, status: 404, code: 'NOT_FOUND'},
  {name: 'remove with an unknown field', method: 'DELETE', path: () => `/peer/${knownPeer}?force=1`, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'reload as the agent', method: 'POST', path: () => '/reload', body: {}, role: 'agent', status: 403, code: 'FORBIDDEN'},
]

describe('mesh bad input', () => {
  it.each(CASES)('$name → $status $code', async (c) => {
    const res = await send(c.method, c.path(), c.body, c.role ?? 'operator', c.raw)
    expect({status: res.status, code: res.body?.error?.code}).toEqual({status: c.status, code: c.code})
    expect(typeof res.body.error.message).toBe('string')
  })

  it('left nothing behind and still serves', async () => {
    // Then: no invite was created, the only peer is the one accepted on purpose, no other mesh.* event
    const invites = await send('GET', '/invites?status=all')
    expect(invites.body.invites).toEqual([])
    const peers = await send('GET', '/peers')
    expect(peers.body.peers.map((p: {id: string}) => p.id)).toEqual([knownPeer])
    const health = await send('GET', '/health', undefined, 'agent')
    expect(health.body).toMatchObject({status: 'ok', daemon: 'mesh', peer_count: 1, listening: true})
    const ledger = openLedger(join(env.paths.stateDir, 'ledger.db'), {readonly: true})
    const types = ledger.query({type: 'mesh.*', limit: 1000, order: 'asc'}).map((e) => e.type)
    ledger.close()
    expect(types.filter((t) => t !== 'mesh.peer_disconnected')).toEqual(['mesh.invite_accepted'])
    // And the stranger's code was refused for the agent before anything was pinned
    expect(loadMeshKeys(env.paths).doc.instance_id).toMatch(/^[0-9a-f]{32}$/)
  })

  it("runs the agent's gated invite and removal once the operator approved them", async () => {
    // Given the agent asks for an invite and gets APPROVAL_REQUIRED
    const first = await send('POST', '/invite/create', {ttl_secs: 600, label: 'agent-made'}, 'agent')
    expect(first.status).toBe(412)
    const approvalId = first.body.error.details.approval_id as string
    // When the operator approves it and the agent repeats the same request with the id
    const approved = await env.cli(['approval', 'approve', approvalId, '--json'])
    expect(approved.exitCode, approved.stderr).toBe(0)
    const again = await send('POST', '/invite/create', {ttl_secs: 600, label: 'agent-made', approval_id: approvalId}, 'agent')
    // Then the invite exists, and the approval cannot be used twice
    expect(again.status, again.text).toBe(200)
    expect(again.body.invite_code).toMatch(/^osmoda-invite1\./)
    expect((await send('POST', '/invite/create', {ttl_secs: 600, label: 'agent-made', approval_id: approvalId}, 'agent')).body.error.code).toBe('APPROVAL_INVALID')
    // And a peer removal approved for one peer removes exactly that peer
    const ask = await send('DELETE', `/peer/${knownPeer}`, undefined, 'agent')
    const removalId = ask.body.error.details.approval_id as string
    expect((await env.cli(['approval', 'approve', removalId, '--json'])).exitCode).toBe(0)
    const removed = await send('DELETE', `/peer/${knownPeer}?approval_id=${removalId}`, undefined, 'agent')
    expect(removed.body).toEqual({removed: knownPeer})
    expect((await send('GET', '/peers')).body.peers).toEqual([])
  })
})
