// Three real mesh daemons on loopback (each its own temp state, keys and ledger) pair by invites
// (A invites B, B invites C), exchange direct messages, survive a restart of B, rotate a key, and
// refuse the attacks of SPEC §2.5: another node's instance_id over one's own static key, strangers
// without an invite, replayed and expired invites, a stalled handshake and malformed wire messages.
import {createHash, randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import net from 'node:net'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {meshApi, type Peer} from '../src/daemons/mesh/api.js'
import {buildPayload} from '../src/daemons/mesh/handshake.js'
import {loadMeshKeys, signDomain, type MeshKeys} from '../src/daemons/mesh/identity.js'
import {decodeInvite, encodeInvite, secretKey} from '../src/daemons/mesh/invite-code.js'
import {makeTestKeys} from '../src/daemons/mesh/test-keys.js'
import {canonicalJson} from '../src/lib/ledger/canonical-json.js'
import {openLedger, type LedgerEvent} from '../src/lib/ledger/ledger.js'
import {secureSession, type SecureSession} from '../src/lib/noise/session.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

interface Node {
  name: string
  env: TestEnv
  port: number
  mesh: DaemonProcess
  id: string
}

const nodes: Record<'A' | 'B' | 'C', Node> = {} as never
let codeAB = ''

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const {port} = server.address() as net.AddressInfo
  await new Promise((r) => server.close(r))
  return port
}

// Loopback peers all come from 127.0.0.1: A and C get a roomy per-IP budget so redials during the
// attack tests never starve their real peers; B keeps the default 10 for the rate-limit test.
const meshConfig = (name: string, commandAllow: unknown[]) => ({
  handshakeTimeoutSecs: 2,
  reconnect: {initialSecs: 0.2, factor: 2, maxSecs: 1, jitter: 0.2, resetAfterSecs: 60},
  ...(name === 'B' ? {} : {perIpPerMinute: 600}),
  commandAllow,
})

async function startNode(name: string): Promise<Node> {
  const env = await testEnv()
  const port = await freePort()
  writeFileSync(join(env.paths.configDir, 'mesh.json'), JSON.stringify(meshConfig(name, [{name: 'hello', command: '/bin/echo', args: ['hi from', name]}])))
  const mesh = await env.start('mesh', {OSMODA_MESH_LISTEN_PORT: String(port)})
  return {name, env, port, mesh, id: loadMeshKeys(env.paths).doc.instance_id}
}

const api = (n: Node, role: 'operator' | 'agent' = 'operator') => n.env.client('mesh', meshApi, role)
async function call<T>(n: Node, fn: (c: ReturnType<typeof api>) => Promise<T>): Promise<T> {
  const c = api(n)
  try {
    return await fn(c)
  } finally {
    c.close()
  }
}
const peers = (n: Node) => call(n, (c) => c.peers({})).then((r) => r.peers)
const peer = (n: Node, id: string) => peers(n).then((ps) => ps.find((p) => p.id === id))
function events(n: Node, type: string): LedgerEvent[] {
  const ledger = openLedger(join(n.env.paths.stateDir, 'ledger.db'), {readonly: true})
  try {
    return ledger.query({type, limit: 10_000, order: 'asc'})
  } finally {
    ledger.close()
  }
}
async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
const connected = (n: Node, id: string) => waitFor(`${n.name} connected to ${id}`, async () => (await peer(n, id))?.state === 'connected')
const received = (n: Node, from: string, type: string) => events(n, 'mesh.message_received').filter((e) => e.payload.peer_id === from && e.payload.type === type)
const rejections = (n: Node, remote: string) => events(n, 'mesh.handshake_rejected').filter((e) => e.payload.remote_addr === remote)

const SESSION = {maxMessageBytes: 8 * 1024 * 1024, rekeyEveryMessages: 1_000_000, rekeyEverySecs: 600, heartbeatMs: 30_000, deadAfterMs: 90_000}

/** A hand-driven client with its own keys: it says whatever the test wants in its payload. */
async function rogue(target: Node, localAddress: string, keys: MeshKeys, payload: (h: Buffer) => Buffer): Promise<SecureSession> {
  const socket = net.connect({host: '127.0.0.1', port: target.port, localAddress})
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.on('error', () => {})
  return secureSession(socket, {role: 'initiator', staticKey: keys.noise, timeoutMs: 5000, ...SESSION, makePayload: payload, verifyPeer: () => {}})
}

/** The target refuses: the handshake fails, or (the initiator finishes first) the session closes unused. */
async function expectRefused(attempt: Promise<SecureSession>): Promise<void> {
  const session = await attempt.catch(() => null)
  if (!session) return
  let got = 0
  session.onMessage(() => got++)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the target kept the rogue session open')), 5000)
    session.onClose(() => {
      clearTimeout(timer)
      resolve()
    })
  })
  expect(got).toBe(0)
}

beforeAll(async () => {
  nodes.A = await startNode('A')
  nodes.B = await startNode('B')
  nodes.C = await startNode('C')
}, 60_000)

afterAll(async () => {
  for (const n of Object.values(nodes)) {
    await n.mesh?.stopClean()
    await n.env.cleanup()
  }
})

describe('mesh between three nodes', () => {
  it('pairs A→B and B→C by invites, each pin on both sides', async () => {
    // Given A creates an invite with the CLI and B accepts it with the CLI
    const created = await nodes.A.env.cli(['mesh', 'invite', 'create', '--label', 'node-b', '--json'])
    expect(created.exitCode, created.stderr).toBe(0)
    codeAB = created.json.result.invite_code
    expect(codeAB).toMatch(/^osmoda-invite1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    const accepted = await nodes.B.env.cli(['mesh', 'invite', 'accept', codeAB, '--label', 'node-a', '--json'])
    expect(accepted.exitCode, accepted.stderr).toBe(0)
    expect(accepted.json.result).toEqual({peer_id: nodes.A.id, state: 'connecting'})
    // And B invites C through the API
    const bc = await call(nodes.B, (c) => c.inviteCreate({ttl_secs: 600, label: 'node-c'}))
    await call(nodes.C, (c) => c.inviteAccept({invite_code: bc.invite_code, label: 'node-b'}))
    // Then every pair is connected on both sides, with the inviter's label and the pinned keys
    await connected(nodes.A, nodes.B.id)
    await connected(nodes.B, nodes.A.id)
    await connected(nodes.B, nodes.C.id)
    await connected(nodes.C, nodes.B.id)
    const aSeesB = (await peer(nodes.A, nodes.B.id)) as Peer
    expect(aSeesB).toMatchObject({label: 'node-b', via: 'invite_created', endpoint: `127.0.0.1:${nodes.B.port}`, noise_static_pubkey: loadMeshKeys(nodes.B.env.paths).noise.publicKey.toString('hex')})
    expect(await peer(nodes.B, nodes.A.id)).toMatchObject({label: 'node-a', via: 'invite_accepted'})
    // And A does not know C (no transitive trust), and A's invite is used by B
    expect((await peers(nodes.A)).map((p) => p.id)).toEqual([nodes.B.id])
    const invites = await call(nodes.A, (c) => c.invites({status: 'all'}))
    expect(invites.invites).toMatchObject([{status: 'used', used_by: nodes.B.id, label: 'node-b'}])
    expect(events(nodes.A, 'mesh.peer_added').map((e) => e.payload.peer_id)).toEqual([nodes.B.id])
    expect(events(nodes.B, 'mesh.invite_accepted').map((e) => e.payload.peer_id)).toEqual([nodes.A.id])
  }, 60_000)

  it('exchanges direct messages, alerts and allowed commands', async () => {
    // When A chats to B, C alerts B critically and B asks C to run "hello" and "rm"
    const sent = await call(nodes.A, (c) => c.peerSend({peer_id: nodes.B.id, message: {type: 'chat', text: 'hello B'}}))
    expect(sent).toEqual({delivered: true, bytes: Buffer.byteLength(canonicalJson({type: 'chat', text: 'hello B'}))})
    await call(nodes.C, (c) => c.peerSend({peer_id: nodes.B.id, message: {type: 'alert', severity: 'critical', title: 'disk full', detail: '/var 100%'}}))
    await call(nodes.B, (c) => c.peerSend({peer_id: nodes.C.id, message: {type: 'command', name: 'hello'}}))
    await call(nodes.B, (c) => c.peerSend({peer_id: nodes.C.id, message: {type: 'command', name: 'rm'}}))
    // Then each receiver ledgers the message attributed to the authenticated sender
    await waitFor('B got the chat', () => received(nodes.B, nodes.A.id, 'chat').length === 1)
    await waitFor('B got the alert', () => received(nodes.B, nodes.C.id, 'alert').length === 1)
    expect(events(nodes.B, 'notification.requested').map((e) => e.payload)).toEqual([{source: `mesh:${nodes.C.id}`, severity: 'critical', title: 'disk full', message: '/var 100%'}])
    // And C ran only the allowed command and answered both
    await waitFor('B got two command results', () => received(nodes.B, nodes.C.id, 'command_result').length === 2)
    expect(events(nodes.C, 'mesh.command_executed').map((e) => e.payload)).toMatchObject([{peer_id: nodes.B.id, name: 'hello', exit_code: 0}])
    expect(events(nodes.C, 'mesh.command_refused').map((e) => e.payload)).toMatchObject([{peer_id: nodes.B.id, name: 'rm', reason: 'not_allowed'}])
    expect(events(nodes.A, 'mesh.message_sent').map((e) => e.payload)).toMatchObject([{peer_id: nodes.B.id, type: 'chat'}])
    // And the counters show the traffic
    expect((await peer(nodes.B, nodes.A.id))?.stats.messages_received).toBeGreaterThanOrEqual(1)
  }, 60_000)

  it('answers the mesh CLI with --json, clear usage errors and exit codes', async () => {
    const cli = (args: string[]) => nodes.A.env.cli(['mesh', ...args])
    // Then identity, health, peers and peer show describe A and its link to B
    expect((await cli(['identity', '--json'])).json.result).toMatchObject({instance_id: nodes.A.id, kem: 'ML-KEM-768 (ephemeral)', endpoint: `127.0.0.1:${nodes.A.port}`})
    expect((await cli(['health', '--json'])).json.result).toMatchObject({status: 'ok', connected_count: 1, peer_count: 1})
    expect((await cli(['peers', '--state', 'connected', '--json'])).json.result.peers.map((p: Peer) => p.id)).toEqual([nodes.B.id])
    const shown = await cli(['peer', 'show', nodes.B.id])
    expect(shown.stdout).toContain(`${nodes.B.id} (node-b): connected`)
    // And sending a chat from the CLI reaches B
    const sent = await cli(['peer', 'send', nodes.B.id, '--text', 'from the cli', '--json'])
    expect(sent.json.result).toMatchObject({delivered: true})
    await waitFor('B got the CLI chat', () => received(nodes.B, nodes.A.id, 'chat').length === 2)
    // And mistakes are usage errors (exit 2) or the daemon's codes (exit 1 / 4)
    expect((await cli(['peer', 'send', nodes.B.id, '--message', '{not json'])).exitCode).toBe(2)
    expect((await cli(['peer', 'send', nodes.B.id])).exitCode).toBe(2)
    expect((await cli(['peer', 'remove', nodes.B.id])).exitCode).toBe(2)
    const unknown = await cli(['peer', 'show', 'f'.repeat(32), '--json'])
    expect([unknown.exitCode, unknown.json.error.code]).toEqual([1, 'NOT_FOUND'])
    const bad = await cli(['invite', 'accept', 'osmoda-invite1.x.y', '--json'])
    expect([bad.exitCode, bad.json.error.code]).toEqual([1, 'INVITE_INVALID'])
    const asAgent = await nodes.A.env.cli(['mesh', 'invite', 'list', '--json'], {env: {OSMODA_TOKEN: nodes.A.env.token('agent')}})
    expect([asAgent.exitCode, asAgent.json.error.code]).toEqual([4, 'FORBIDDEN'])
    // And B is still paired
    expect((await peer(nodes.B, nodes.A.id))?.state).toBe('connected')
  }, 60_000)

  it('reloads commandAllow without dropping sessions', async () => {
    // Given C allows a new command after a reload
    writeFileSync(
      join(nodes.C.env.paths.configDir, 'mesh.json'),
      JSON.stringify(meshConfig('C', [{name: 'hello', command: '/bin/echo', args: ['hi from', 'C']}, {name: 'date', command: '/bin/date', args: ['-u']}])),
    )
    const reloaded = await call(nodes.C, (c) => c.reload({}))
    expect(reloaded).toEqual({reloaded: true, changed: ['commandAllow']})
    // When B asks C to run it
    await call(nodes.B, (c) => c.peerSend({peer_id: nodes.C.id, message: {type: 'command', name: 'date'}}))
    // Then C runs it over the same session
    await waitFor('C ran date', () => events(nodes.C, 'mesh.command_executed').some((e) => e.payload.name === 'date' && e.payload.exit_code === 0))
    expect((await peer(nodes.C, nodes.B.id))?.stats.reconnects).toBe(0)
  }, 30_000)

  it('survives a restart of B: both peers reconnect, messages after the restart arrive once', async () => {
    // Given B goes down
    const before = received(nodes.B, nodes.A.id, 'chat').length
    await nodes.B.mesh.stopClean()
    await waitFor('A saw B go', async () => (await peer(nodes.A, nodes.B.id))?.state !== 'connected')
    // Then sending to it is a clear 409
    await expect(call(nodes.A, (c) => c.peerSend({peer_id: nodes.B.id, message: {type: 'chat', text: 'while down'}}))).rejects.toMatchObject({code: 'PEER_NOT_CONNECTED'})
    // When B comes back with the same state
    nodes.B.mesh = await nodes.B.env.start('mesh', {OSMODA_MESH_LISTEN_PORT: String(nodes.B.port)})
    await connected(nodes.A, nodes.B.id)
    await connected(nodes.C, nodes.B.id)
    await connected(nodes.B, nodes.A.id)
    // Then messages after the restart are delivered exactly once
    await call(nodes.A, (c) => c.peerSend({peer_id: nodes.B.id, message: {type: 'chat', text: 'after restart'}}))
    await call(nodes.C, (c) => c.peerSend({peer_id: nodes.B.id, message: {type: 'chat', text: 'after restart from C'}}))
    await waitFor('B got the new chat', () => received(nodes.B, nodes.A.id, 'chat').length === before + 1)
    await waitFor('B got C chat', () => received(nodes.B, nodes.C.id, 'chat').length === 1)
    await new Promise((r) => setTimeout(r, 1000))
    expect(received(nodes.B, nodes.A.id, 'chat').length).toBe(before + 1)
    expect((await peer(nodes.A, nodes.B.id))?.stats.reconnects).toBeGreaterThanOrEqual(1)
    // And one live session per pair survived the simultaneous redials
    const health = await call(nodes.B, (c) => c.health({}))
    expect(health).toMatchObject({connected_count: 2, peer_count: 2})
  }, 60_000)

  it('refuses a node that presents another node\'s instance_id with its own static key', async () => {
    // Given a rogue with its own keys that claims to be B (its own Ed25519 key signs the claim)
    const evil = makeTestKeys()
    const unsigned = {instance_id: nodes.B.id, ed25519_pubkey: evil.ed25519Public.toString('hex'), noise_static_pubkey: evil.noise.publicKey.toString('hex'), capabilities: ['mesh.v1'], created_at: evil.doc.created_at}
    const claim = {...unsigned, signature: signDomain(evil.signingKey, 'osmoda.mesh.identity.v1', canonicalJson(unsigned)).toString('base64url')}
    const payload = () => Buffer.from(canonicalJson({v: 1, identity: claim, static_sig: signDomain(evil.signingKey, 'osmoda.mesh.static.v1', evil.noise.publicKey).toString('base64url')}))
    // When it connects to A
    await expectRefused(rogue(nodes.A, '127.0.0.2', evil, payload))
    // Then A ledgers the rejection and B's session is untouched
    await waitFor('rejection ledgered', () => rejections(nodes.A, '127.0.0.2').length === 1)
    expect(rejections(nodes.A, '127.0.0.2')[0]?.payload.reason).toBe('instance_id_mismatch')
    // And replaying B's real identity document over the rogue's own static key fails too
    const bDoc = loadMeshKeys(nodes.B.env.paths).doc
    await expectRefused(rogue(nodes.A, '127.0.0.5', evil, () => Buffer.from(canonicalJson({v: 1, identity: bDoc, static_sig: 'AA'}))))
    await waitFor('second rejection', () => rejections(nodes.A, '127.0.0.5')[0]?.payload.reason === 'static_key_mismatch')
    expect((await peer(nodes.A, nodes.B.id))?.state).toBe('connected')
    expect((await peers(nodes.A)).length).toBe(1)
  }, 30_000)

  it('refuses a stranger without an invite', async () => {
    const stranger = makeTestKeys()
    await expectRefused(rogue(nodes.C, '127.0.0.4', stranger, (h) => buildPayload(stranger, h, {})))
    await waitFor('rejection ledgered', () => rejections(nodes.C, '127.0.0.4')[0]?.payload.reason === 'not_invited')
    expect((await peers(nodes.C)).map((p) => p.id)).toEqual([nodes.B.id])
  }, 30_000)

  it('refuses a replayed invite on both sides', async () => {
    // Given the code B already used
    // When B accepts it again, it is refused locally
    await expect(call(nodes.B, (c) => c.inviteAccept({invite_code: codeAB}))).rejects.toMatchObject({code: 'INVITE_USED'})
    // When C (which never saw it) replays it, C pins A and dials, and A refuses the used invite
    await call(nodes.C, (c) => c.inviteAccept({invite_code: codeAB}))
    await waitFor('A refused the replay', () => rejections(nodes.A, '127.0.0.1').some((e) => e.payload.reason === 'invite_used'))
    await waitFor('C gave up on A', async () => (await peer(nodes.C, nodes.A.id))?.state !== 'connecting')
    expect((await peer(nodes.C, nodes.A.id))?.state).not.toBe('connected')
    // Then A still knows only B
    expect((await peers(nodes.A)).map((p) => p.id)).toEqual([nodes.B.id])
    await call(nodes.C, (c) => c.peerRemove({peer_id: nodes.A.id}))
  }, 30_000)

  it('refuses expired invites: at the acceptor, and at the inviter whose record expired', async () => {
    // Given codes signed by C's real node key
    const cKeys = loadMeshKeys(nodes.C.env.paths)
    const secret = randomBytes(32)
    const stale = encodeInvite(cKeys, {endpoint: `127.0.0.1:${nodes.C.port}`, invite_id: 'inv_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', secret, expires_at: '2026-01-01T00:00:00.000Z'})
    // Then the acceptor refuses an expired code outright
    await expect(call(nodes.A, (c) => c.inviteAccept({invite_code: stale}))).rejects.toMatchObject({code: 'INVITE_EXPIRED'})
    // Given an invite whose record at C expired while the code still looks valid to A (clock skew)
    const inviteId = 'inv_01JDX8Q4S1T6V0W7Y2Z3A4B5C7'
    const db = new Database(join(nodes.C.env.paths.daemonStateDir('mesh'), 'mesh.db'))
    db.prepare('INSERT INTO invites (id, secret_sha256, label, endpoint, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)').run(inviteId, secretKey(secret).toString('hex'), null, `127.0.0.1:${nodes.C.port}`, '2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z')
    db.close()
    const skewed = encodeInvite(cKeys, {endpoint: `127.0.0.1:${nodes.C.port}`, invite_id: inviteId, secret, expires_at: new Date(Date.now() + 3_600_000).toISOString()})
    // When A accepts and dials
    await call(nodes.A, (c) => c.inviteAccept({invite_code: skewed}))
    // Then C refuses the handshake and pins nobody
    await waitFor('C refused the expired invite', () => rejections(nodes.C, '127.0.0.1').some((e) => e.payload.reason === 'invite_expired'))
    expect((await peers(nodes.C)).map((p) => p.id)).toEqual([nodes.B.id])
    await call(nodes.A, (c) => c.peerRemove({peer_id: nodes.C.id}))
  }, 30_000)

  it('closes a stalled handshake after handshakeTimeoutSecs and ledgers it', async () => {
    // Given a TCP client that connects and says nothing
    const started = Date.now()
    const socket = net.connect({host: '127.0.0.1', port: nodes.C.port, localAddress: '127.0.0.3'})
    socket.on('error', () => {})
    // Then C closes it after about 2 s
    await new Promise<void>((resolve) => socket.once('close', () => resolve()))
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(1500)
    expect(elapsed).toBeLessThan(6000)
    await waitFor('timeout ledgered', () => rejections(nodes.C, '127.0.0.3')[0]?.payload.reason === 'timeout')
    expect((await call(nodes.C, (c) => c.health({}))).handshakes_in_flight).toBe(0)
  }, 30_000)

  it('limits handshakes per IP (token bucket) and ledgers one rejection per IP per minute', async () => {
    // Given 12 silent connections from one address to B (perIpPerMinute defaults to 10)
    const sockets = Array.from({length: 12}, () => {
      const socket = net.connect({host: '127.0.0.1', port: nodes.B.port, localAddress: '127.0.0.7'})
      socket.on('error', () => {})
      return socket
    })
    const closedAt = sockets.map((socket) => new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now()))))
    const started = Date.now()
    const times = (await Promise.all(closedAt)).map((t) => t - started).sort((a, b) => a - b)
    // Then two were refused at once and ten waited for the 2 s handshake timeout
    expect(times.filter((t) => t < 1000)).toHaveLength(2)
    expect(times.filter((t) => t >= 1500)).toHaveLength(10)
    // And B ledgered one rejection for that address, not twelve
    await new Promise((r) => setTimeout(r, 200))
    expect(rejections(nodes.B, '127.0.0.7').map((e) => e.payload.reason)).toEqual(['rate_limited'])
    // And its peers were not disturbed
    expect((await call(nodes.B, (c) => c.health({}))).connected_count).toBe(2)
  }, 30_000)

  it('ignores malformed messages from a valid peer and closes on garbage or oversized frames', async () => {
    // Given a hand-driven node paired with A through a real invite
    const r = makeTestKeys()
    const invite = await call(nodes.A, (c) => c.inviteCreate({ttl_secs: 600, label: 'rogue'}))
    const decoded = decodeInvite(invite.invite_code, new Date())
    const session = await rogue(nodes.A, '127.0.0.6', r, (h) => buildPayload(r, h, {invite: {id: decoded.body.invite_id, secret: decoded.secret}}))
    await connected(nodes.A, r.doc.instance_id)
    const health = () => call(nodes.A, (c) => c.health({}))
    const base = await health()
    const sendJson = (m: unknown) => session.send(Buffer.from(JSON.stringify(m)))
    // When it sends wrong fields, an unknown type, a forged sender and an over-long command name
    await sendJson({type: 'chat'})
    await sendJson({type: 'chat', text: 'x', sender: nodes.B.id})
    await sendJson({type: 'command', id: '1', name: 'x'.repeat(100)})
    await sendJson({type: 'alert', severity: 'doom', title: 't', detail: ''})
    await sendJson({type: 'teleport'})
    await sendJson({type: 'chat', text: 'still here'})
    // Then A ignored the bad ones, counted them, and took the good one from the authenticated sender
    await waitFor('good chat', () => received(nodes.A, r.doc.instance_id, 'chat').length === 1)
    const after = await health()
    expect(after.invalid_messages - base.invalid_messages).toBe(4)
    expect(after.unknown_messages - base.unknown_messages).toBe(1)
    expect(events(nodes.A, 'mesh.command_executed')).toEqual([])
    // When it sends bytes that are not JSON, A closes the session
    const closed = new Promise<unknown>((resolve) => session.onClose(resolve))
    await session.send(Buffer.from('\u0000not json'))
    await closed
    // And an oversized message (over A's 4 MiB maxMessageBytes) on a fresh session is closed too
    const again = await rogue(nodes.A, '127.0.0.6', r, (h) => buildPayload(r, h, {}))
    await connected(nodes.A, r.doc.instance_id)
    const closedAgain = new Promise<unknown>((resolve) => again.onClose(resolve))
    await again.send(Buffer.alloc(4 * 1024 * 1024 + 10, 0x20)).catch(() => {})
    await closedAgain
    // Then A is still healthy and its real peer untouched
    expect((await health()).status).toBe('ok')
    expect((await peer(nodes.A, nodes.B.id))?.state).toBe('connected')
    await call(nodes.A, (c) => c.peerRemove({peer_id: r.doc.instance_id}))
  }, 60_000)

  it('rotates A\'s key: B re-pins the new instance_id and reconnects', async () => {
    // When A rotates its Noise key
    const oldId = nodes.A.id
    const before = loadMeshKeys(nodes.A.env.paths).doc
    const doc = await call(nodes.A, (c) => c.identityRotate({}))
    expect(doc.instance_id).not.toBe(oldId)
    expect(doc.ed25519_pubkey).toBe(before.ed25519_pubkey)
    expect(doc.noise_static_pubkey).not.toBe(before.noise_static_pubkey)
    nodes.A.id = doc.instance_id
    // Then B knows A only by its new id, connected again, and messages flow
    await connected(nodes.B, doc.instance_id)
    await connected(nodes.A, nodes.B.id)
    expect((await peers(nodes.B)).map((p) => p.id).sort()).toEqual([doc.instance_id, nodes.C.id].sort())
    expect(events(nodes.B, 'mesh.peer_rotated').map((e) => e.payload)).toEqual([{old_peer_id: oldId, new_peer_id: doc.instance_id}])
    expect(events(nodes.A, 'mesh.identity_rotated').map((e) => e.payload)).toEqual([{old_instance_id: oldId, new_instance_id: doc.instance_id}])
    await call(nodes.B, (c) => c.peerSend({peer_id: doc.instance_id, message: {type: 'chat', text: 'hello new A'}}))
    await waitFor('A got it', () => received(nodes.A, nodes.B.id, 'chat').length === 1)
    // And the files on disk carry the new key (a restart keeps it)
    expect(loadMeshKeys(nodes.A.env.paths).doc.instance_id).toBe(doc.instance_id)
    expect(createHash('sha256').update(Buffer.from(doc.noise_static_pubkey, 'hex')).digest('hex').slice(0, 32)).toBe(doc.instance_id)
  }, 60_000)
})
