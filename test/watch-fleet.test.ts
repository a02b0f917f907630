// Fleet deploys between two real nodes (each its own agentd + watch in its own temp dirs). mesh does
// not exist yet: each node gets a fake mesh socket that answers POST /peer/{id}/send like mesh (the
// message is "written to the session" at once) and then relays it to the other node's
// POST /fleet/inbound, attributed to the sending node. The change is a `commands` target that
// appends a line to a shared file, so the order canary → participant is visible.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {join} from 'node:path'
import {watchApi} from '../src/daemons/watch/api.js'
import type {FleetProposal} from '../src/daemons/watch/fleet-api.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {rawRequest} from './helpers/raw-request.js'
import {badInputTable, socketSender, type BadInputCase} from './helpers/bad-input.js'

interface Node {
  name: 'A' | 'B'
  id: string
  env: TestEnv
  agentd: DaemonProcess
  watch: DaemonProcess
  mesh: Server
}

const nodes: Node[] = []
const relayErrors: string[] = []
const [A_ID, B_ID] = ['a'.repeat(32), 'b'.repeat(32)]
let log: string

/** A fake mesh for `from`: answers the send, then hands the message to the peer's /fleet/inbound. */
function fakeMesh(from: Node): Server {
  return createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const match = /^\/peer\/([0-9a-f]{32})\/send$/.exec(req.url ?? '')
      const to = nodes.find((n) => n.id === match?.[1])
      if (req.method !== 'POST' || !to) {
        res.writeHead(409, {'content-type': 'application/json'})
        res.end(JSON.stringify({error: {code: 'PEER_NOT_CONNECTED', message: `peer ${match?.[1]} is not connected`}}))
        return
      }
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify({delivered: true, bytes: body.length}))
      const {message} = JSON.parse(body) as {message: unknown}
      setImmediate(() => {
        const client = to.env.client('watch', watchApi)
        client
          .fleetInbound({peer_id: from.id, message: message as never})
          .catch((error: Error) => relayErrors.push(`${from.name}→${to.name}: ${error.message}`))
          .finally(() => client.close())
      })
    })
  })
}

async function startNode(name: 'A' | 'B', id: string): Promise<Node> {
  const env = await testEnv()
  writeFileSync(join(env.paths.configDir, 'watch.json'), JSON.stringify({probation: {ttlSecs: 30, graceSecs: 0, checkIntervalSecs: 1}, fleet: {timeoutSecs: 300}}))
  const agentd = await env.start('agentd')
  const watch = await env.start('watch', {OSMODA_WATCH_CURRENT_SYSTEM_LINK: join(env.base, 'no-link')})
  const node = {name, id, env, agentd, watch} as Node
  node.mesh = fakeMesh(node)
  await new Promise<void>((done) => node.mesh.listen(env.paths.socket('mesh'), done))
  return node
}

beforeAll(async () => {
  nodes.push(await startNode('A', A_ID))
  nodes.push(await startNode('B', B_ID))
  log = join(nodes[0]!.env.base, 'applied.log')
}, 60_000)

afterAll(async () => {
  for (const n of nodes) {
    await new Promise((done) => n.mesh.close(done))
    await n.watch.stopClean()
    await n.agentd.stopClean()
    await n.env.cleanup()
  }
})

const [A, B] = [() => nodes[0]!, () => nodes[1]!]
const get = async (n: Node, id: string): Promise<FleetProposal | null> => {
  const client = n.env.client('watch', watchApi)
  try {
    return await client.fleetGet({id})
  } catch {
    return null
  } finally {
    client.close()
  }
}
async function until(n: Node, id: string, done: (p: FleetProposal) => boolean, secs = 30): Promise<FleetProposal> {
  const deadline = Date.now() + secs * 1000
  for (;;) {
    const p = await get(n, id)
    if (p && done(p)) return p
    if (Date.now() > deadline) throw new Error(`${n.name}: ${id} is ${p?.phase ?? 'unknown'}: ${JSON.stringify(p?.participants)} ${relayErrors.join('; ')}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [])
const fleetEvents = (n: Node) => {
  const ledger = openLedger(n.env.paths.ledgerDb, {readonly: true})
  try {
    return ledger.query({type: 'fleet.*', limit: 100, order: 'asc'}).map((e) => e.type)
  } finally {
    ledger.close()
  }
}
const send = (n: Node, method: string, path: string, body: unknown, role: 'operator' | 'agent' = 'operator') =>
  rawRequest(n.watch.socket, method, path, {headers: {authorization: `Bearer ${n.env.token(role)}`, 'content-type': 'application/json'}, body: JSON.stringify(body)})

describe('a fleet deploy between two nodes over a relaying mesh', () => {
  it('votes, runs the canary, then the participant, and commits on both', async () => {
    // Given a change file and a proposal from A to B that needs both nodes
    rmSync(log, {force: true})
    const change = join(A().env.base, 'change.json')
    writeFileSync(change, JSON.stringify({apply: [{command: '/bin/sh', args: ['-c', `echo applied >> ${log}`]}], revert: [{command: '/bin/true', args: []}]}))
    const proposed = await A().env.cli(['fleet', 'propose', '--plan', 'append a line everywhere', '--commands', change, '--peer', B_ID, '--quorum', '100', '--json'])
    expect(proposed.exitCode, proposed.stderr).toBe(0)
    const p = (proposed.json as {result: FleetProposal}).result
    expect(p).toMatchObject({phase: 'voting', role: 'proposer', quorum_required: 2})

    // When B's operator approves on B
    await until(B(), p.id, (q) => q.phase === 'voting' && q.proposer === A_ID)
    const voted = await B().env.cli(['fleet', 'vote', p.id, '--approve', '--json'])
    expect(voted.exitCode, voted.stderr).toBe(0)

    // Then A runs its own switch first (one line) and B only after A committed (two lines)
    await until(A(), p.id, (q) => q.phase === 'executing')
    await until(A(), p.id, (q) => q.participants[0]!.status === 'executing' && q.participants[0]!.switch_id !== null)
    expect(lines()).toHaveLength(1)
    expect((await get(B(), p.id))!.phase).toBe('voting')
    await until(A(), p.id, (q) => q.participants[0]!.status === 'committed', 60)
    const b = await until(B(), p.id, (q) => q.phase === 'executing' || q.phase === 'committed', 20)
    expect(b.participants.find((x) => x.peer_id === 'self')!.switch_id).toMatch(/^sw_/)
    const done = await until(A(), p.id, (q) => q.phase === 'committed', 60)
    expect(lines()).toEqual(['applied', 'applied'])
    expect(done.participants.map((x) => [x.peer_id, x.vote, x.status])).toEqual([
      ['self', 'approve', 'committed'],
      [B_ID, 'approve', 'committed'],
    ])
    expect((await get(B(), p.id))!.phase).toBe('committed')
    expect(fleetEvents(A())).toEqual(['fleet.proposed', 'fleet.voted', 'fleet.executing', 'fleet.executing', 'fleet.committed'])
    expect(relayErrors).toEqual([])
  }, 150_000)

  it("a participant's failed switch rolls the fleet back", async () => {
    // Given a change that succeeds the first time (the canary on A) and fails the second (B): both nodes share this file system
    const mark = join(A().env.base, 'once')
    rmSync(mark, {force: true})
    const target = {type: 'commands', apply: [{command: '/bin/sh', args: ['-c', `test ! -e ${mark} && echo x > ${mark}`]}], revert: [{command: '/bin/true', args: []}]}
    const res = await send(A(), 'POST', '/fleet/propose', {plan: 'works once', target, peer_ids: [B_ID], quorum_percent: 100})
    expect(res.status, res.text).toBe(200)
    const id = (res.body as FleetProposal).id
    await until(B(), id, (q) => q.phase === 'voting')
    expect((await send(B(), 'POST', `/fleet/${id}/vote`, {approve: true})).status).toBe(200)
    // Then A commits its canary, B's switch fails and reports it, and the fleet ends rolled_back on both
    const ended = await until(A(), id, (q) => q.phase === 'rolled_back', 90)
    expect(ended.participants.map((x) => x.status)).toEqual(['committed', 'rolled_back'])
    expect(ended.reason).toContain(`participant ${B_ID} rolled_back`)
    expect(await until(B(), id, (q) => q.phase === 'rolled_back')).toMatchObject({phase: 'rolled_back'})
    expect(fleetEvents(A()).slice(-1)).toEqual(['fleet.rolled_back'])
  }, 150_000)

  it('a deny on B aborts the proposal on A (vetoed)', async () => {
    const res = await send(A(), 'POST', '/fleet/propose', {plan: 'veto me', target: {type: 'commands', apply: [{command: '/bin/true', args: []}], revert: []}, peer_ids: [B_ID], quorum_percent: 100})
    expect(res.status, res.text).toBe(200)
    const id = (res.body as FleetProposal).id
    await until(B(), id, (q) => q.phase === 'voting')
    const denied = await B().env.cli(['fleet', 'vote', id, '--deny', '--reason', 'not today', '--json'])
    expect(denied.exitCode, denied.stderr).toBe(0)
    expect(await until(A(), id, (q) => q.phase === 'aborted')).toMatchObject({reason: 'vetoed'})
  })

  it("gates the agent's propose and approve vote through agentd (412), but not a deny", async () => {
    const body = {plan: 'agent wants this', target: {type: 'commands', apply: [{command: '/bin/true', args: []}], revert: []}, peer_ids: [B_ID]}
    const propose = await send(A(), 'POST', '/fleet/propose', body, 'agent')
    expect(propose.status, propose.text).toBe(412)
    expect(propose.body.error).toMatchObject({code: 'APPROVAL_REQUIRED', details: {operation: 'fleet_propose'}})

    const res = await send(A(), 'POST', '/fleet/propose', body)
    const id = (res.body as FleetProposal).id
    await until(B(), id, (q) => q.phase === 'voting')
    const approve = await send(B(), 'POST', `/fleet/${id}/vote`, {approve: true}, 'agent')
    expect(approve.status, approve.text).toBe(412)
    expect(approve.body.error).toMatchObject({code: 'APPROVAL_REQUIRED', details: {operation: 'fleet_vote'}})
    const deny = await send(B(), 'POST', `/fleet/${id}/vote`, {approve: false}, 'agent')
    expect(deny.status, deny.text).toBe(200)
    expect(await until(A(), id, (q) => q.phase === 'aborted')).toMatchObject({reason: 'vetoed'})
  })

  it('refuses an inbound message that claims a sender other than the authenticated peer', async () => {
    const res = await send(A(), 'POST', '/fleet/propose', {plan: 'attribution', target: {type: 'commands', apply: [{command: '/bin/true', args: []}], revert: []}, peer_ids: [B_ID]})
    const id = (res.body as FleetProposal).id
    const forged = await send(A(), 'POST', '/fleet/inbound', {peer_id: B_ID, message: {type: 'fleet_vote', fleet_id: id, sender: 'c'.repeat(32), approve: true}})
    expect(forged.status).toBe(403)
    expect(forged.body.error.code).toBe('FORBIDDEN')
    const stranger = await send(A(), 'POST', '/fleet/inbound', {peer_id: 'c'.repeat(32), message: {type: 'fleet_vote', fleet_id: id, approve: true}})
    expect(stranger.status).toBe(403)
    expect((await get(A(), id))!.participants[1]!.vote).toBeNull()
  })
})

const CMD = {type: 'commands', apply: [{command: '/bin/true', args: []}], revert: []}
const fl = 'fl_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'
const BAD: BadInputCase[] = [
  {name: 'propose: missing plan', method: 'POST', path: '/fleet/propose', body: {target: CMD, peer_ids: [B_ID]}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: plan over 500', method: 'POST', path: '/fleet/propose', body: {plan: 'x'.repeat(501), target: CMD, peer_ids: [B_ID]}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: unknown field', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: CMD, peer_ids: [B_ID], force: true}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: no peers', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: CMD, peer_ids: []}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: 65 peers', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: CMD, peer_ids: Array.from({length: 65}, (_, i) => i.toString(16).padStart(32, '0'))}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: duplicate peers', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: CMD, peer_ids: [B_ID, B_ID]}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: malformed peer id', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: CMD, peer_ids: ['peer-b']}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: store path not present on this node', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: {type: 'nixos', source: {store_path: '/nix/store/00000000000000000000000000000000-x'}}, peer_ids: [B_ID]}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: generation target', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: {type: 'nixos', source: {generation: 3}}, peer_ids: [B_ID]}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: quorum 0', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: CMD, peer_ids: [B_ID], quorum_percent: 0}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: quorum 101', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: CMD, peer_ids: [B_ID], quorum_percent: 101}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: timeout 29', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: CMD, peer_ids: [B_ID], timeout_secs: 29}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: timeout 3601', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: CMD, peer_ids: [B_ID], timeout_secs: 3601}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: missing executable', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: {...CMD, apply: [{command: '/nope/x', args: []}]}, peer_ids: [B_ID]}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'propose: 33 checks', method: 'POST', path: '/fleet/propose', body: {plan: 'p', target: CMD, peer_ids: [B_ID], health_checks: Array(33).fill({type: 'tcp_port', port: 1})}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list: limit 0', method: 'GET', path: '/fleet/list?limit=0', body: undefined, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list: limit -1', method: 'GET', path: '/fleet/list?limit=-1', body: undefined, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list: unknown phase', method: 'GET', path: '/fleet/list?phase=done', body: undefined, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list: bad cursor', method: 'GET', path: '/fleet/list?cursor=sw_1', body: undefined, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'get: malformed id', method: 'GET', path: '/fleet/fl_nope', body: undefined, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'get: unknown id', method: 'GET', path: `/fleet/${fl}`, body: undefined, wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'vote: approve missing', method: 'POST', path: `/fleet/${fl}/vote`, body: {}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'vote: approve as string', method: 'POST', path: `/fleet/${fl}/vote`, body: {approve: 'yes'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'vote: reason over 500', method: 'POST', path: `/fleet/${fl}/vote`, body: {approve: false, reason: 'x'.repeat(501)}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'vote: unknown id', method: 'POST', path: `/fleet/${fl}/vote`, body: {approve: false}, wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'rollback: unknown id', method: 'POST', path: `/fleet/${fl}/rollback`, body: {}, wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'rollback: reason over 500', method: 'POST', path: `/fleet/${fl}/rollback`, body: {reason: 'x'.repeat(501)}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'inbound: as agent', method: 'POST', path: '/fleet/inbound', body: {peer_id: B_ID, message: {type: 'fleet_vote', fleet_id: fl, approve: true}}, role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'inbound: unknown message type', method: 'POST', path: '/fleet/inbound', body: {peer_id: B_ID, message: {type: 'chat', text: 'hi'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'inbound: missing peer_id', method: 'POST', path: '/fleet/inbound', body: {message: {type: 'fleet_vote', fleet_id: fl, approve: true}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'inbound: extra field in message', method: 'POST', path: '/fleet/inbound', body: {peer_id: B_ID, message: {type: 'fleet_vote', fleet_id: fl, approve: true, from: B_ID}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
]

describe('bad input on /fleet routes', () => {
  badInputTable('the envelope, no fleet event', BAD, {
    send: socketSender({socket: () => A().watch.socket, token: (role) => A().env.token(role)}),
    state: () => ({fleetEvents: fleetEvents(A()).length}),
  })

  it('propose answers 503 DAEMON_UNAVAILABLE "mesh is not running" without a mesh socket, and 409 for an unconnected peer', async () => {
    const unknownPeer = await send(A(), 'POST', '/fleet/propose', {plan: 'p', target: CMD, peer_ids: ['c'.repeat(32)]})
    expect(unknownPeer.status, unknownPeer.text).toBe(409)
    expect(unknownPeer.body.error.code).toBe('PEER_NOT_CONNECTED')
    await new Promise((done) => A().mesh.close(done))
    rmSync(A().env.paths.socket('mesh'), {force: true})
    const res = await send(A(), 'POST', '/fleet/propose', {plan: 'p', target: CMD, peer_ids: [B_ID]})
    expect(res.status, res.text).toBe(503)
    expect(res.body.error).toMatchObject({code: 'DAEMON_UNAVAILABLE', message: 'mesh is not running'})
    A().mesh = fakeMesh(A())
    await new Promise<void>((done) => A().mesh.listen(A().env.paths.socket('mesh'), done))
  })
})
