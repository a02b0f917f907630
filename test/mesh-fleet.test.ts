// Fleet deploys across three real nodes (each its own agentd, watch and mesh daemon in its own temp
// dirs) over real mesh sessions: watch sends fleet_* through mesh POST /peer/{id}/send, the peer's
// mesh hands them to its watch's POST /fleet/inbound with the authenticated peer id. The change is a
// `commands` target (the fleet logic is the same for flake targets, which need nixos-rebuild).
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {meshApi} from '../src/daemons/mesh/api.js'
import {loadMeshKeys} from '../src/daemons/mesh/identity.js'
import {watchApi} from '../src/daemons/watch/api.js'
import type {FleetProposal} from '../src/daemons/watch/fleet-api.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

interface Node {
  name: 'A' | 'B' | 'C'
  env: TestEnv
  id: string
  agentd: DaemonProcess
  watch: DaemonProcess
  mesh: DaemonProcess
}

const nodes = {} as Record<'A' | 'B' | 'C', Node>
let base = ''

async function startNode(name: 'A' | 'B' | 'C'): Promise<Node> {
  const env = await testEnv()
  writeFileSync(join(env.paths.configDir, 'watch.json'), JSON.stringify({probation: {ttlSecs: 30, graceSecs: 0, checkIntervalSecs: 1}, fleet: {timeoutSecs: 300}}))
  writeFileSync(join(env.paths.configDir, 'mesh.json'), JSON.stringify({reconnect: {initialSecs: 0.2, maxSecs: 1}}))
  const agentd = await env.start('agentd')
  const watch = await env.start('watch', {OSMODA_WATCH_CURRENT_SYSTEM_LINK: join(env.base, 'no-link')})
  // testEnv sets OSMODA_MESH_LISTEN_PORT=0: a free port, which invites announce
  const mesh = await env.start('mesh')
  return {name, env, id: loadMeshKeys(env.paths).doc.instance_id, agentd, watch, mesh}
}

async function pair(inviter: Node, acceptor: Node): Promise<void> {
  const created = await inviter.env.cli(['mesh', 'invite', 'create', '--json'])
  expect(created.exitCode, created.stderr).toBe(0)
  const accepted = await acceptor.env.cli(['mesh', 'invite', 'accept', created.json.result.invite_code, '--json'])
  expect(accepted.exitCode, accepted.stderr).toBe(0)
}

async function until<T>(what: string, probe: () => Promise<T | null | false>, secs = 30): Promise<T> {
  const deadline = Date.now() + secs * 1000
  for (;;) {
    const value = await probe().catch(() => null)
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
async function proposal(n: Node, id: string): Promise<FleetProposal | null> {
  const client = n.env.client('watch', watchApi)
  try {
    return await client.fleetGet({id})
  } catch {
    return null
  } finally {
    client.close()
  }
}
const phase = (n: Node, id: string, want: (p: FleetProposal) => boolean, secs = 90) => until(`${n.name} ${id}`, async () => {
  const p = await proposal(n, id)
  return p && want(p) ? p : null
}, secs)
const connectedCount = async (n: Node) => {
  const client = n.env.client('mesh', meshApi)
  try {
    return (await client.health({})).connected_count
  } finally {
    client.close()
  }
}
const fleetInbound = (n: Node) => {
  const ledger = openLedger(n.env.paths.ledgerDb, {readonly: true})
  try {
    return ledger.query({type: 'mesh.message_received', limit: 1000, order: 'asc'}).filter((e) => String(e.payload.type).startsWith('fleet_'))
  } finally {
    ledger.close()
  }
}

beforeAll(async () => {
  nodes.A = await startNode('A')
  nodes.B = await startNode('B')
  nodes.C = await startNode('C')
  base = nodes.A.env.base
  // A is the proposer: it pairs with B and with C
  await pair(nodes.A, nodes.B)
  await pair(nodes.A, nodes.C)
  await until('A connected to B and C', async () => (await connectedCount(nodes.A)) === 2)
}, 120_000)

afterAll(async () => {
  for (const n of Object.values(nodes)) {
    await n.mesh?.stopClean()
    await n.watch?.stopClean()
    await n.agentd?.stopClean()
    await n.env.cleanup()
  }
})

describe('a fleet deploy across three nodes over real mesh sessions', () => {
  it('reaches quorum and all three commit, the canary first', async () => {
    // Given a change that appends the node's watch pid to a shared log
    const log = join(base, 'applied.log')
    const target = {type: 'commands', apply: [{command: '/bin/sh', args: ['-c', `echo $PPID >> ${log}`]}], revert: [{command: '/bin/true', args: []}]}
    const client = nodes.A.env.client('watch', watchApi)
    const p = await client.fleetPropose({plan: 'append a line on every node', target: target as never, peer_ids: [nodes.B.id, nodes.C.id], quorum_percent: 100}).finally(() => client.close())
    expect(p).toMatchObject({phase: 'voting', quorum_required: 3})
    // When B and C approve on their own nodes
    for (const n of [nodes.B, nodes.C]) {
      await phase(n, p.id, (q) => q.phase === 'voting' && q.proposer === nodes.A.id, 30)
      const voted = await n.env.cli(['fleet', 'vote', p.id, '--approve', '--json'])
      expect(voted.exitCode, voted.stderr).toBe(0)
    }
    // Then every node commits, A's change ran first, and each node ran it once
    const done = await phase(nodes.A, p.id, (q) => q.phase === 'committed' || q.phase === 'rolled_back' || q.phase === 'aborted', 150)
    expect(done.phase).toBe('committed')
    expect(done.participants.map((x) => [x.peer_id, x.status])).toEqual([
      ['self', 'committed'],
      [nodes.B.id, 'committed'],
      [nodes.C.id, 'committed'],
    ])
    const pids = readFileSync(log, 'utf8').trim().split('\n')
    expect(pids).toHaveLength(3)
    expect(pids[0]).toBe(String(nodes.A.watch.child.pid))
    expect(new Set(pids)).toEqual(new Set([nodes.A, nodes.B, nodes.C].map((n) => String(n.watch.child.pid))))
    expect((await phase(nodes.B, p.id, (q) => q.phase === 'committed', 30)).phase).toBe('committed')
    expect((await phase(nodes.C, p.id, (q) => q.phase === 'committed', 30)).phase).toBe('committed')
    // And the fleet messages arrived through mesh, attributed to the authenticated peers
    expect(fleetInbound(nodes.B).every((e) => e.payload.peer_id === nodes.A.id)).toBe(true)
    expect(fleetInbound(nodes.A).map((e) => e.payload.peer_id)).toEqual(expect.arrayContaining([nodes.B.id, nodes.C.id]))
  }, 240_000)

  it("one peer's failing health check rolls that peer back and the status shows it", async () => {
    // Given a change that breaks only C (it is armed there, by C's watch pid) and whose revert repairs it,
    // and a health check that sees the breakage
    const marks = join(base, 'fail')
    mkdirSync(marks, {recursive: true})
    writeFileSync(join(marks, `armed-${nodes.C.watch.child.pid}`), '')
    const check = {type: 'command', command: '/bin/sh', args: ['-c', `test ! -e ${marks}/broken-$PPID`], timeout_secs: 5}
    const target = {
      type: 'commands',
      apply: [{command: '/bin/sh', args: ['-c', `if test -e ${marks}/armed-$PPID; then touch ${marks}/broken-$PPID; fi`]}],
      revert: [{command: '/bin/sh', args: ['-c', `rm -f ${marks}/broken-$PPID`]}],
    }
    const client = nodes.A.env.client('watch', watchApi)
    const p = await client.fleetPropose({plan: 'C will fail its check', target: target as never, peer_ids: [nodes.B.id, nodes.C.id], quorum_percent: 100, health_checks: [check as never]}).finally(() => client.close())
    for (const n of [nodes.B, nodes.C]) {
      await phase(n, p.id, (q) => q.phase === 'voting', 30)
      const voted = await n.env.cli(['fleet', 'vote', p.id, '--approve', '--json'])
      expect(voted.exitCode, voted.stderr).toBe(0)
    }
    // Then C's own switch rolls back, and the fleet ends rolled_back with C's status shown
    const ended = await phase(nodes.A, p.id, (q) => q.phase === 'rolled_back' || q.phase === 'committed' || q.phase === 'aborted', 150)
    expect(ended.phase).toBe('rolled_back')
    expect(ended.participants.find((x) => x.peer_id === nodes.C.id)?.status).toBe('rolled_back')
    expect(ended.participants.find((x) => x.peer_id === 'self')?.status).toBe('committed')
    expect(ended.reason).toContain(nodes.C.id)
    const onC = await phase(nodes.C, p.id, (q) => q.phase === 'rolled_back', 60)
    const cSwitch = onC.participants.find((x) => x.peer_id === 'self')?.switch_id
    expect(cSwitch).toMatch(/^sw_/)
    const watchC = nodes.C.env.client('watch', watchApi)
    const session = await watchC.switchGet({id: cSwitch as string}).finally(() => watchC.close())
    expect(session.status).toBe('rolled_back')
    expect(existsSync(join(marks, `broken-${nodes.C.watch.child.pid}`))).toBe(false)
  }, 240_000)
})
