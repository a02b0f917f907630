// Fleet deploys across three in-process nodes: voting, the canary, autoVote, endings, persistence.
import {describe, expect, it} from 'vitest'
import {silentLogger} from '../../lib/log.js'
import {WatchConfig} from './config.js'
import {SELF} from './fleet-machine.js'
import {createFleetService} from './fleet-service.js'
import {createFleetStore} from './fleet-store.js'
import {
  commands,
  deliver,
  freshNodes,
  ID,
  nodes,
  now,
  order,
  propose,
  queue,
  refused,
  setAutoVote,
  setHealthy,
  setNow,
  T0,
  tickAll,
  types,
  useFleetNetwork,
  vote,
} from '../../../test/helpers/fleet-kit.js'

useFleetNetwork()

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
  it('approve_if_healthy votes yes for a flake target when local health passes', async () => {
    setAutoVote('approve_if_healthy')
    freshNodes()
    const p = await propose({target: flake, quorum_percent: 100})
    await deliver()
    expect(nodes.A.service.get(p.id).phase).toBe('executing')
    expect(nodes.B.service.get(p.id).participants.find((x) => x.peer_id === SELF)!.vote).toBe('approve')
  })

  it('does not vote when local health fails, nor for a commands target', async () => {
    setAutoVote('approve_if_healthy')
    setHealthy(false)
    freshNodes()
    const sick = await propose({target: flake, quorum_percent: 100})
    await deliver()
    setHealthy(true)
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
    setNow(T0 + 59_000)
    await tickAll()
    expect(nodes.A.service.get(p.id).phase).toBe('voting')
    setNow(T0 + 60_000)
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
    setNow(T0 + 60_000)
    nodes.A.sw.set('committed')
    await tickAll()
    expect(restarted.get(q.id)).toMatchObject({phase: 'aborted', reason: 'timeout'})
    expect(restarted.get(p.id).phase).toBe('executing')
    expect(order).toEqual(['A:begin', 'B:begin', 'C:begin'])
  })
})
