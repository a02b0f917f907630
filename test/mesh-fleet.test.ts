// Fleet deploys across three real nodes (each its own agentd, watch and mesh daemon in its own temp
// dirs) over real mesh sessions: watch sends fleet_* through mesh POST /peer/{id}/send, the peer's
// mesh hands them to its watch's POST /fleet/inbound with the authenticated peer id. The change is a
// `commands` target (the fleet logic is the same for flake targets, which need nixos-rebuild).
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {watchApi} from '../src/daemons/watch/api.js'
import {approveOnPeers, fleetInbound, phase, stopNode, threeNodes, type FleetNode, type NodeName} from './helpers/fleet-nodes.js'

let nodes = {} as Record<NodeName, FleetNode>
let base = ''

beforeAll(async () => {
  nodes = await threeNodes()
  base = nodes.A.env.base
}, 120_000)

afterAll(async () => {
  for (const n of Object.values(nodes)) await stopNode(n)
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
    await approveOnPeers(nodes, p.id)
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
    await approveOnPeers(nodes, p.id)
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
