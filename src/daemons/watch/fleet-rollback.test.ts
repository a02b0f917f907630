// Fleet deploys across three in-process nodes: rolling back, who may send what, the gate and a down mesh.
import {describe, expect, it} from 'vitest'
import {SELF} from './fleet-machine.js'
import {
  agent,
  deliver,
  ID,
  nodes,
  now,
  operator,
  order,
  propose,
  queue,
  setGateMode,
  setMeshDown,
  setNow,
  tickAll,
  types,
  useFleetNetwork,
  vote,
} from '../../../test/helpers/fleet-kit.js'

useFleetNetwork()

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
    setNow(now + 3_600_000)
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
    setNow(now + (60 + 600) * 1000 - 1)
    await tickAll()
    expect(nodes.A.service.get(p.id).phase).toBe('executing')
    setNow(now + 1)
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
    setGateMode('require')
    await expect(propose({}, agent)).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    expect(nodes.A.gateCalls.map((c) => c.operation)).toEqual(['fleet_propose'])
    expect(nodes.A.service.list({limit: 20}).proposals).toEqual([])
    expect(queue).toEqual([])
  })

  it('gates an agent approve vote but not a deny', async () => {
    const p = await propose()
    await deliver()
    setGateMode('require')
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
    setMeshDown(true)
    await expect(vote('B', p.id, true)).rejects.toMatchObject({code: 'DAEMON_UNAVAILABLE'})
    expect(nodes.B.service.get(p.id).participants.find((x) => x.peer_id === SELF)!.vote).toBeNull()
    setMeshDown(false)
    await vote('B', p.id, true)
    await deliver()
    expect(nodes.A.service.get(p.id).participants.find((x) => x.peer_id === ID.B)!.vote).toBe('approve')
  })

  it('the proposer does not vote on its own proposal', async () => {
    const p = await propose()
    await expect(vote('A', p.id, true)).rejects.toMatchObject({code: 'CONFLICT'})
  })

  it('propose answers 503 when mesh is down, and the proposal is aborted', async () => {
    setMeshDown(true)
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
