// Test wiring for fleet deploys in one process: three nodes (A proposes, B and C participate) with
// real SQLite and ledgers, a SafeSwitch double per node, an in-memory mesh queue, a gate double and
// a controllable clock. Read the state through the exported bindings; change it with the setters.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach} from 'vitest'
import {migrate, openDatabase, type Db} from '../../src/lib/db/open.js'
import {DaemonUnavailableError, OsmodaError} from '../../src/lib/errors.js'
import {openLedger, type Ledger} from '../../src/lib/ledger/ledger.js'
import {silentLogger} from '../../src/lib/log.js'
import type {SwitchStatus, Target} from '../../src/daemons/watch/api.js'
import {WatchConfig} from '../../src/daemons/watch/config.js'
import {FleetProposeInput, FleetVoteInput, type FleetMessage} from '../../src/daemons/watch/fleet-api.js'
import type {FleetSwitches} from '../../src/daemons/watch/fleet-machine.js'
import {createFleetService, type FleetService} from '../../src/daemons/watch/fleet-service.js'
import {createFleetStore} from '../../src/daemons/watch/fleet-store.js'
import type {MeshTransport} from '../../src/daemons/watch/fleet-transport.js'
import type {SwitchGate, SwitchGateRequest} from '../../src/daemons/watch/gate.js'
import {WATCH_MIGRATIONS} from '../../src/daemons/watch/store.js'

export const T0 = Date.parse('2026-11-26T03:00:00.000Z')
export const ID = {A: 'a'.repeat(32), B: 'b'.repeat(32), C: 'c'.repeat(32)} as const
export type Name = keyof typeof ID

/** A SafeSwitch double: records every begin and rollback; the test decides each session's status. */
export function switchDouble(log: string[], name: string) {
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

export interface Node {
  service: FleetService
  ledger: Ledger
  db: Db
  sw: ReturnType<typeof switchDouble>
  gateCalls: SwitchGateRequest[]
}

export let dir: string
export let now: number
export let nodes: Record<Name, Node>
export let queue: {from: Name; to: string; message: FleetMessage}[]
export let refused: {to: string; type: string; error: OsmodaError}[]
export let order: string[]
let meshDown: boolean
let gateMode: 'allow' | 'require'

const byId = (peerId: string) => (Object.keys(ID) as Name[]).find((k) => ID[k] === peerId)

let autoVote: 'none' | 'approve_if_healthy'
let healthy: boolean

export function node(name: Name): Node {
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
export async function deliver(): Promise<void> {
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

export type Ctx = {role: 'operator' | 'agent'; actor: string}
export const operator: Ctx = {role: 'operator', actor: 'operator:test'}
export const agent: Ctx = {role: 'agent', actor: 'agent:test'}
export const commands: Target = {type: 'commands', apply: [{command: '/bin/true', args: []}], revert: [{command: '/bin/true', args: []}]}
export const propose = (extra: Record<string, unknown> = {}, ctx = operator) =>
  nodes.A.service.propose(FleetProposeInput.parse({plan: 'raise the file limit', target: commands, peer_ids: [ID.B, ID.C], ...extra}), ctx)
export const vote = (name: Name, id: string, approve: boolean, ctx: Ctx = operator) => nodes[name].service.vote(FleetVoteInput.parse({id, approve}), ctx)
export const tickAll = async () => {
  for (const n of Object.values(nodes)) await n.service.tick()
  await deliver()
}
export const types = (name: Name, prefix = 'fleet.') => nodes[name].ledger.query({limit: 1000, order: 'asc'}).map((e) => e.type).filter((t) => t.startsWith(prefix))

/** Sets the nodes' clock (ms since the epoch). */
export const setNow = (ms: number) => {
  now = ms
}
/** Whether every node's mesh refuses to send. */
export const setMeshDown = (down: boolean) => {
  meshDown = down
}
/** `require`: the gate answers 412 to agent requests. */
export const setGateMode = (mode: 'allow' | 'require') => {
  gateMode = mode
}
/** The fleet.autoVote of nodes built from now on (see freshNodes). */
export const setAutoVote = (mode: 'none' | 'approve_if_healthy') => {
  autoVote = mode
}
/** What localHealthy answers. */
export const setHealthy = (value: boolean) => {
  healthy = value
}

function closeNodes(): void {
  for (const n of Object.values(nodes)) {
    n.db.close()
    n.ledger.close()
  }
  rmSync(dir, {recursive: true, force: true})
}

/** Rebuilds the three nodes on new databases (after setAutoVote). */
export function freshNodes(): void {
  closeNodes()
  dir = mkdtempSync(join(tmpdir(), 'osmoda-fleet-'))
  nodes = {A: node('A'), B: node('B'), C: node('C')}
}

/** Registers the hooks that give each test three fresh nodes A, B, C on one in-memory mesh. */
export function useFleetNetwork(): void {
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
  
  afterEach(closeNodes)
}
