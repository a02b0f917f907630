// Fleet deploys between three in-process watch fleet services (A proposes, B and C take part),
// connected by a test mesh that, like mesh, resolves a send once the message is queued and hands it
// to the receiver's inbound attributed to the sending node. Each node has its own database and
// ledger; SafeSwitch is a recording double whose outcome the test sets, and time is a test clock.
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {migrate, openDatabase, type Db} from '../../lib/db/open.js'
import {DaemonUnavailableError, OsmodaError} from '../../lib/errors.js'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import {silentLogger} from '../../lib/log.js'
import {pathsFrom} from '../../lib/paths.js'
import {ensureToken} from '../../lib/tokens.js'
import type {SwitchStatus, Target} from './api.js'
import {WatchConfig} from './config.js'
import {FleetProposeInput, FleetVoteInput, type FleetMessage} from './fleet-api.js'
import {createFleetService, nodeTarget, quorumRequired, SELF, type FleetService, type FleetSwitches} from './fleet-service.js'
import {createFleetStore} from './fleet-store.js'
import {createMeshTransport, type MeshTransport} from './fleet-transport.js'
import type {SwitchGate, SwitchGateRequest} from './gate.js'
import {WATCH_MIGRATIONS} from './store.js'

const T0 = Date.parse('2026-11-26T03:00:00.000Z')
const ID = {A: 'a'.repeat(32), B: 'b'.repeat(32), C: 'c'.repeat(32)} as const
type Name = keyof typeof ID

/** A SafeSwitch double: records every begin and rollback; the test decides each session's status. */
function switchDouble(log: string[], name: string) {
  const sessions = new Map<string, {status: SwitchStatus; target: Target}>()
  let n = 0
  const api: FleetSwitches = {
    begin: async (target) => {
      const id = `sw_${name}${++n}`
      sessions.set(id, {status: 'probation', target})
      log.push(`${name}:begin`)
      return id
    },
    status: (id) => sessions.get(id)?.status ?? null,
    rollback: async (id) => {
      const s = sessions.get(id)
      if (s?.status !== 'probation') return
      s.status = 'rolled_back'
      log.push(`${name}:rollback`)
    },
  }
  return {api, sessions, set: (status: SwitchStatus) => [...sessions.values()].forEach((s) => s.status === 'probation' && (s.status = status))}
}

interface Node {
  service: FleetService
  ledger: Ledger
  db: Db
  sw: ReturnType<typeof switchDouble>
  gateCalls: SwitchGateRequest[]
}

let dir: string
let now: number
let nodes: Record<Name, Node>
let queue: {from: Name; to: string; message: FleetMessage}[]
let refused: {to: string; type: string; error: OsmodaError}[]
let order: string[]
let meshDown: boolean
let gateMode: 'allow' | 'require'

const byId = (peerId: string) => (Object.keys(ID) as Name[]).find((k) => ID[k] === peerId)

let autoVote: 'none' | 'approve_if_healthy'
let healthy: boolean

function node(name: Name): Node {
  const db = openDatabase(join(dir, `${name}.db`))
  migrate(db, WATCH_MIGRATIONS)
  const ledger = openLedger(join(dir, `${name}-ledger.db`), {clock: () => now})
  const gateCalls: SwitchGateRequest[] = []
  const gate: SwitchGate = {
    check: async (request) => {
      gateCalls.push(request)
      if (gateMode === 'require' && request.ctx.role === 'agent') {
        throw new OsmodaError('APPROVAL_REQUIRED', `${request.operation} needs the operator`, {details: {approval_id: 'apr_x', expires_at: 'x', operation: request.operation, summary: request.summary}})
      }
    },
  }
  const transport: MeshTransport = {
    send: async (peerId, message) => {
      if (meshDown) throw new DaemonUnavailableError('mesh', 'mesh is not running')
      queue.push({from: name, to: peerId, message})
    },
  }
  const sw = switchDouble(order, name)
  const config = WatchConfig.parse({probation: {ttlSecs: 60}, fleet: {autoVote}})
  const service = createFleetService({
    store: createFleetStore(db),
    ledger,
    log: silentLogger,
    settings: () => config,
    gate,
    transport,
    switches: sw.api,
    now: () => now,
    hostname: () => `host-${name}`,
    localHealthy: async () => healthy,
  })
  return {service, ledger, db, sw, gateCalls}
}

/** Delivers queued messages (and what they cause) until the mesh is quiet. */
async function deliver(): Promise<void> {
  while (queue.length) {
    const {from, to, message} = queue.shift()!
    const target = byId(to)
    if (!target) throw new Error(`message to unknown peer ${to}`)
    try {
      await nodes[target].service.inbound(ID[from], message)
    } catch (error) {
      refused.push({to, type: message.type, error: error as OsmodaError})
    }
  }
}

type Ctx = {role: 'operator' | 'agent'; actor: string}
const operator: Ctx = {role: 'operator', actor: 'operator:test'}
const agent: Ctx = {role: 'agent', actor: 'agent:test'}
const commands: Target = {type: 'commands', apply: [{command: '/bin/true', args: []}], revert: [{command: '/bin/true', args: []}]}
const propose = (extra: Record<string, unknown> = {}, ctx = operator) =>
  nodes.A.service.propose(FleetProposeInput.parse({plan: 'raise the file limit', target: commands, peer_ids: [ID.B, ID.C], ...extra}), ctx)
const vote = (name: Name, id: string, approve: boolean, ctx: Ctx = operator) => nodes[name].service.vote(FleetVoteInput.parse({id, approve}), ctx)
const tickAll = async () => {
  for (const n of Object.values(nodes)) await n.service.tick()
  await deliver()
}
const types = (name: Name, prefix = 'fleet.') => nodes[name].ledger.query({limit: 1000, order: 'asc'}).map((e) => e.type).filter((t) => t.startsWith(prefix))

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-fleet-'))
  now = T0
  queue = []
  refused = []
  order = []
  meshDown = false
  gateMode = 'allow'
  autoVote = 'none'
  healthy = true
  nodes = {A: node('A'), B: node('B'), C: node('C')}
})

afterEach(() => {
  for (const n of Object.values(nodes)) {
    n.db.close()
    n.ledger.close()
  }
  rmSync(dir, {recursive: true, force: true})
})

describe('quorum', () => {
  it.each([
    [1, 51, 1],
    [2, 51, 2],
    [3, 51, 2],
    [3, 100, 3],
    [4, 50, 2],
    [5, 1, 1],
    [65, 51, 34],
  ])('%i participants at %i%% need %i approvals', (n, percent, required) => {
    expect(quorumRequired(n, percent)).toBe(required)
  })

  it('replaces {hostname} in a flake ref per node and leaves commands alone', () => {
    expect(nodeTarget({type: 'nixos', source: {flake: 'github:acme/infra#{hostname}'}}, 'web1')).toEqual({type: 'nixos', source: {flake: 'github:acme/infra#web1'}})
    expect(nodeTarget(commands as never, 'web1')).toEqual(commands)
  })
})

describe('a fleet deploy', () => {
  it('votes, reaches quorum, runs the canary first, then the approving participants, and commits', async () => {
    // Given a proposal to B and C that needs all three nodes
    const p = await propose({quorum_percent: 100})
    expect(p).toMatchObject({role: 'proposer', phase: 'voting', quorum_required: 3, proposer: SELF})
    await deliver()
    expect(nodes.B.service.get(p.id)).toMatchObject({role: 'participant', proposer: ID.A, phase: 'voting'})

    // When B and C approve
    await vote('B', p.id, true)
    await deliver()
    expect(nodes.A.service.get(p.id).phase).toBe('voting')
    await vote('C', p.id, true)
    await deliver()

    // Then only A's own switch (the canary) has started
    expect(nodes.A.service.get(p.id).phase).toBe('executing')
    expect(order).toEqual(['A:begin'])
    await tickAll()
    expect(order).toEqual(['A:begin'])

    // When the canary commits, B and C run theirs with the same target
    nodes.A.sw.set('committed')
    await tickAll()
    expect(order).toEqual(['A:begin', 'B:begin', 'C:begin'])
    expect([...nodes.B.sw.sessions.values()][0]!.target).toEqual(commands)
    expect(nodes.A.service.get(p.id).participants.map((x) => x.status)).toEqual(['committed', 'executing', 'executing'])

    // And once both commit the fleet is committed everywhere
    nodes.B.sw.set('committed')
    await tickAll()
    expect(nodes.A.service.get(p.id).phase).toBe('executing')
    nodes.C.sw.set('committed')
    await tickAll()
    expect(nodes.A.service.get(p.id)).toMatchObject({phase: 'committed'})
    expect(nodes.B.service.get(p.id).phase).toBe('committed')
    expect(types('A')).toEqual(['fleet.proposed', 'fleet.voted', 'fleet.voted', 'fleet.executing', 'fleet.executing', 'fleet.committed'])
    expect(nodes.A.ledger.query({type: 'fleet.voted', limit: 10, order: 'asc'}).map((e) => e.payload)).toEqual([
      {fleet_id: p.id, peer_id: ID.B, approve: true},
      {fleet_id: p.id, peer_id: ID.C, approve: true},
    ])
    expect(refused).toEqual([])
  })

  it('with a 51 % quorum runs only the approvers; a late vote changes nothing', async () => {
    const p = await propose()
    await deliver()
    await vote('B', p.id, true)
    await deliver()
    expect(nodes.A.service.get(p.id).phase).toBe('executing')
    nodes.A.sw.set('committed')
    await tickAll()
    expect(order).toEqual(['A:begin', 'B:begin'])
    await vote('C', p.id, true)
    await deliver()
    nodes.B.sw.set('committed')
    await tickAll()
    expect(nodes.A.service.get(p.id).phase).toBe('committed')
    expect(order).toEqual(['A:begin', 'B:begin'])
  })

  it('replaces {hostname} on each node for a flake target', async () => {
    const p = await propose({target: {type: 'nixos', source: {flake: '/srv/fleet#{hostname}'}}, peer_ids: [ID.B], quorum_percent: 100})
    await deliver()
    await vote('B', p.id, true)
    await deliver()
    nodes.A.sw.set('committed')
    await tickAll()
    expect([...nodes.A.sw.sessions.values()][0]!.target).toEqual({type: 'nixos', source: {flake: '/srv/fleet#host-A'}})
    expect([...nodes.B.sw.sessions.values()][0]!.target).toEqual({type: 'nixos', source: {flake: '/srv/fleet#host-B'}})
  })
})

describe('autoVote', () => {
  const flake = {type: 'nixos', source: {flake: '/srv/fleet#{hostname}'}}
  const fresh = () => {
    for (const n of Object.values(nodes)) {
      n.db.close()
      n.ledger.close()
    }
    rmSync(dir, {recursive: true, force: true})
    dir = mkdtempSync(join(tmpdir(), 'osmoda-fleet-'))
    nodes = {A: node('A'), B: node('B'), C: node('C')}
  }

  it('approve_if_healthy votes yes for a flake target when local health passes', async () => {
    autoVote = 'approve_if_healthy'
    fresh()
    const p = await propose({target: flake, quorum_percent: 100})
    await deliver()
    expect(nodes.A.service.get(p.id).phase).toBe('executing')
    expect(nodes.B.service.get(p.id).participants.find((x) => x.peer_id === SELF)!.vote).toBe('approve')
  })

  it('does not vote when local health fails, nor for a commands target', async () => {
    autoVote = 'approve_if_healthy'
    healthy = false
    fresh()
    const sick = await propose({target: flake, quorum_percent: 100})
    await deliver()
    healthy = true
    const cmds = await propose({quorum_percent: 100})
    await deliver()
    expect(nodes.A.service.get(sick.id).phase).toBe('voting')
    expect(nodes.A.service.get(cmds.id).phase).toBe('voting')
    expect(nodes.B.service.get(cmds.id).participants.find((x) => x.peer_id === SELF)!.vote).toBeNull()
  })

  it('"none" never votes by itself', async () => {
    const p = await propose({target: flake, quorum_percent: 100})
    await deliver()
    expect(nodes.A.service.get(p.id).phase).toBe('voting')
  })
})

describe('ending without a deploy', () => {
  it('a veto that makes quorum impossible aborts (vetoed) and nothing runs', async () => {
    const p = await propose({quorum_percent: 100})
    await deliver()
    await vote('B', p.id, false)
    await deliver()
    expect(nodes.A.service.get(p.id)).toMatchObject({phase: 'aborted', reason: 'vetoed'})
    expect(nodes.B.service.get(p.id).phase).toBe('aborted')
    expect(order).toEqual([])
    expect(types('A')).toEqual(['fleet.proposed', 'fleet.voted', 'fleet.aborted'])
  })

  it('one veto at 51 % still leaves quorum possible', async () => {
    const p = await propose()
    await deliver()
    await vote('B', p.id, false)
    await deliver()
    expect(nodes.A.service.get(p.id).phase).toBe('voting')
    await vote('C', p.id, false)
    await deliver()
    expect(nodes.A.service.get(p.id)).toMatchObject({phase: 'aborted', reason: 'vetoed'})
  })

  it('voting ends at timeout_secs (aborted, timeout) on the proposer and on a silent participant', async () => {
    const p = await propose({timeout_secs: 60})
    await deliver()
    now = T0 + 59_000
    await tickAll()
    expect(nodes.A.service.get(p.id).phase).toBe('voting')
    now = T0 + 60_000
    await tickAll()
    expect(nodes.A.service.get(p.id)).toMatchObject({phase: 'aborted', reason: 'timeout'})
    expect(nodes.C.service.get(p.id)).toMatchObject({phase: 'aborted', reason: 'timeout'})
    // A vote after the end is refused
    await expect(vote('B', p.id, true)).rejects.toMatchObject({code: 'CONFLICT'})
    expect(order).toEqual([])
  })
})

describe('persistence', () => {
  it('a restarted service continues from the database: voting deadline and executing canary', async () => {
    const p = await propose({quorum_percent: 100, timeout_secs: 60})
    await deliver()
    await vote('B', p.id, true)
    await vote('C', p.id, true)
    await deliver()
    const q = await propose({timeout_secs: 60})
    // When A's watch restarts (same database, same switches), then its timer picks both up
    const restarted = createFleetService({
      store: createFleetStore(nodes.A.db),
      ledger: nodes.A.ledger,
      log: silentLogger,
      settings: () => WatchConfig.parse({probation: {ttlSecs: 60}}),
      gate: {check: async () => undefined},
      transport: {send: async (peerId, message) => void queue.push({from: 'A', to: peerId, message})},
      switches: nodes.A.sw.api,
      now: () => now,
    })
    nodes.A.service = restarted
    now = T0 + 60_000
    nodes.A.sw.set('committed')
    await tickAll()
    expect(restarted.get(q.id)).toMatchObject({phase: 'aborted', reason: 'timeout'})
    expect(restarted.get(p.id).phase).toBe('executing')
    expect(order).toEqual(['A:begin', 'B:begin', 'C:begin'])
  })
})

describe('rollback', () => {
  async function allExecuting() {
    const p = await propose({quorum_percent: 100})
    await deliver()
    await vote('B', p.id, true)
    await vote('C', p.id, true)
    await deliver()
    nodes.A.sw.set('committed')
    await tickAll()
    expect(order).toEqual(['A:begin', 'B:begin', 'C:begin'])
    return p
  }

  it("a participant's rollback sends fleet_rollback to those still in probation", async () => {
    const p = await allExecuting()
    // When B's probation fails
    nodes.B.sw.set('rolled_back')
    await tickAll()
    // Then C (still in probation) is rolled back and the fleet is rolled_back everywhere
    expect(order).toEqual(['A:begin', 'B:begin', 'C:begin', 'C:rollback'])
    expect(nodes.A.service.get(p.id)).toMatchObject({phase: 'rolled_back'})
    expect(nodes.A.service.get(p.id).reason).toContain(`participant ${ID.B} rolled_back`)
    expect(nodes.A.service.get(p.id).participants.map((x) => x.status)).toEqual(['committed', 'rolled_back', 'executing'])
    expect(nodes.C.service.get(p.id)).toMatchObject({phase: 'rolled_back'})
    expect(nodes.C.service.get(p.id).participants.find((x) => x.peer_id === SELF)!.status).toBe('rolled_back')
    expect(types('A').at(-1)).toBe('fleet.rolled_back')
  })

  it('a canary that rolls back ends the fleet before any participant runs', async () => {
    const p = await propose({quorum_percent: 100})
    await deliver()
    await vote('B', p.id, true)
    await vote('C', p.id, true)
    await deliver()
    nodes.A.sw.set('rolled_back')
    await tickAll()
    expect(nodes.A.service.get(p.id).phase).toBe('rolled_back')
    expect(order).toEqual(['A:begin'])
    now += 3_600_000
    await tickAll()
    expect(order).toEqual(['A:begin'])
  })

  it('a result missing after ttl + 600 s rolls the fleet back', async () => {
    const p = await allExecuting()
    nodes.B.sw.set('committed')
    await tickAll()
    // C's result never comes (its mesh link is silent from now on)
    const silenced = nodes.C.service
    nodes.C.service = {...silenced, tick: async () => undefined}
    now += (60 + 600) * 1000 - 1
    await tickAll()
    expect(nodes.A.service.get(p.id).phase).toBe('executing')
    now += 1
    await tickAll()
    expect(nodes.A.service.get(p.id)).toMatchObject({phase: 'rolled_back'})
    expect(nodes.A.service.get(p.id).participants.find((x) => x.peer_id === ID.C)!.status).toBe('unknown')
    expect(order.at(-1)).toBe('C:rollback')
  })

  it('the operator rolls an executing fleet back; a finished one is 409', async () => {
    const p = await allExecuting()
    const rolled = await nodes.A.service.rollback(p.id, 'bad latency', operator)
    await deliver()
    expect(rolled).toMatchObject({phase: 'rolled_back', reason: 'bad latency'})
    expect(order.slice(3).sort()).toEqual(['B:rollback', 'C:rollback'])
    await expect(nodes.A.service.rollback(p.id, 'again', operator)).rejects.toMatchObject({code: 'CONFLICT'})
  })
})

describe('attribution', () => {
  it('refuses a message whose claimed sender is not the authenticated peer', async () => {
    const p = await propose()
    await deliver()
    await expect(nodes.A.service.inbound(ID.B, {type: 'fleet_vote', fleet_id: p.id, sender: ID.C, approve: false})).rejects.toMatchObject({code: 'FORBIDDEN'})
    expect(nodes.A.service.get(p.id).participants.every((x) => x.peer_id === SELF || x.vote === null)).toBe(true)
  })

  it('refuses votes from non-participants and execute/rollback from anyone but the proposer', async () => {
    const p = await propose({peer_ids: [ID.B]})
    await deliver()
    await expect(nodes.A.service.inbound(ID.C, {type: 'fleet_vote', fleet_id: p.id, approve: true})).rejects.toMatchObject({code: 'FORBIDDEN'})
    await expect(nodes.B.service.inbound(ID.C, {type: 'fleet_execute', fleet_id: p.id})).rejects.toMatchObject({code: 'FORBIDDEN'})
    await expect(nodes.B.service.inbound(ID.C, {type: 'fleet_rollback', fleet_id: p.id, reason: 'x'})).rejects.toMatchObject({code: 'FORBIDDEN'})
    expect(nodes.A.service.get(p.id).phase).toBe('voting')
    expect(nodes.B.service.get(p.id).phase).toBe('voting')
    // and an execute before this node approved does nothing
    expect(await nodes.B.service.inbound(ID.A, {type: 'fleet_execute', fleet_id: p.id})).toEqual({accepted: false})
    expect(order).toEqual([])
  })

  it('an unknown proposal is 404', async () => {
    await expect(nodes.A.service.inbound(ID.B, {type: 'fleet_vote', fleet_id: 'fl_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', approve: true})).rejects.toMatchObject({code: 'NOT_FOUND'})
  })
})

describe('approvals and mesh', () => {
  it('gates an agent propose (412) before anything is stored or sent', async () => {
    gateMode = 'require'
    await expect(propose({}, agent)).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    expect(nodes.A.gateCalls.map((c) => c.operation)).toEqual(['fleet_propose'])
    expect(nodes.A.service.list({limit: 20}).proposals).toEqual([])
    expect(queue).toEqual([])
  })

  it('gates an agent approve vote but not a deny', async () => {
    const p = await propose()
    await deliver()
    gateMode = 'require'
    await expect(vote('B', p.id, true, agent)).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    expect(nodes.B.gateCalls.map((c) => [c.operation, c.path])).toEqual([['fleet_vote', `/fleet/${p.id}/vote`]])
    expect(nodes.B.service.get(p.id).participants.find((x) => x.peer_id === SELF)!.vote).toBeNull()
    const denied = await vote('B', p.id, false, agent)
    expect(denied.phase).toBe('aborted')
    expect(nodes.B.gateCalls).toHaveLength(1)
  })

  it('a vote mesh cannot deliver is not recorded and can be cast again', async () => {
    const p = await propose({quorum_percent: 100})
    await deliver()
    meshDown = true
    await expect(vote('B', p.id, true)).rejects.toMatchObject({code: 'DAEMON_UNAVAILABLE'})
    expect(nodes.B.service.get(p.id).participants.find((x) => x.peer_id === SELF)!.vote).toBeNull()
    meshDown = false
    await vote('B', p.id, true)
    await deliver()
    expect(nodes.A.service.get(p.id).participants.find((x) => x.peer_id === ID.B)!.vote).toBe('approve')
  })

  it('the proposer does not vote on its own proposal', async () => {
    const p = await propose()
    await expect(vote('A', p.id, true)).rejects.toMatchObject({code: 'CONFLICT'})
  })

  it('propose answers 503 when mesh is down, and the proposal is aborted', async () => {
    meshDown = true
    await expect(propose()).rejects.toMatchObject({code: 'DAEMON_UNAVAILABLE'})
    const [p] = nodes.A.service.list({limit: 20}).proposals
    expect(p).toMatchObject({phase: 'aborted'})
    expect(p!.reason).toContain('mesh is not running')
  })

  it('refuses an apply executable that does not exist here', async () => {
    await expect(propose({target: {type: 'commands', apply: [{command: '/nonexistent/x', args: []}], revert: []}})).rejects.toMatchObject({code: 'VALIDATION_FAILED'})
    expect(nodes.A.service.list({limit: 20}).proposals).toEqual([])
  })
})

describe('the mesh transport', () => {
  let server: Server | undefined
  afterEach(() => server?.close())

  it('answers 503 "mesh is not running" when the socket is absent', async () => {
    const paths = pathsFrom({runDir: join(dir, 'run'), stateDir: join(dir, 'state'), configDir: join(dir, 'config')})
    mkdirSync(paths.tokensDir, {recursive: true, mode: 0o700})
    ensureToken(paths, 'operator')
    const transport = createMeshTransport(paths)
    await expect(transport.send(ID.B, {type: 'fleet_execute', fleet_id: 'fl_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'})).rejects.toMatchObject({code: 'DAEMON_UNAVAILABLE', message: 'mesh is not running'})
  })

  it('posts the message to POST /peer/{id}/send on the mesh socket and passes its 409 through', async () => {
    const paths = pathsFrom({runDir: join(dir, 'run'), stateDir: join(dir, 'state'), configDir: join(dir, 'config')})
    mkdirSync(paths.tokensDir, {recursive: true, mode: 0o700})
    ensureToken(paths, 'operator')
    const seen: {url: string; body: unknown}[] = []
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        seen.push({url: req.url!, body: JSON.parse(body)})
        const connected = req.url === `/peer/${ID.B}/send`
        res.writeHead(connected ? 200 : 409, {'content-type': 'application/json'})
        res.end(JSON.stringify(connected ? {delivered: true, bytes: body.length} : {error: {code: 'PEER_NOT_CONNECTED', message: 'peer is not connected'}}))
      })
    })
    mkdirSync(join(dir, 'run'), {recursive: true})
    await new Promise<void>((done) => server!.listen(paths.socket('mesh'), done))
    const transport = createMeshTransport(paths)
    const message: FleetMessage = {type: 'fleet_execute', fleet_id: 'fl_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'}
    await transport.send(ID.B, message)
    expect(seen).toEqual([{url: `/peer/${ID.B}/send`, body: {message}}])
    await expect(transport.send(ID.C, message)).rejects.toMatchObject({code: 'PEER_NOT_CONNECTED'})
  })
})
