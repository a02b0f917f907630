import type {z} from 'zod'
import {ConflictError, OsmodaError, UsageError} from '../../lib/errors.js'
import {which} from '../../lib/exec/which.js'
import {createIdGenerator} from '../../lib/ids.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import type {FleetListInput, FleetMessage, FleetProposal, FleetProposeInput, FleetVoteInput} from './fleet-api.js'
import {createFleetInbound} from './fleet-inbound.js'
import {hasActivation} from './nix.js'
import {createFleetMachine, iso, quorumRequired, SELF, type FleetServiceDeps} from './fleet-machine.js'
import type {FleetPrivate} from './fleet-store.js'

type Caller = Pick<RequestContext, 'role' | 'actor'>

/**
 * Fleet deploys (SPEC §2.3): a proposal is voted on by the proposer (implicitly) and its peers over
 * mesh; on quorum the proposer's own SafeSwitch runs first (canary), then every approving peer's;
 * any failure, or a result missing after ttl + 600 s, sends fleet_rollback to those still in
 * probation. Every transition is persisted before a message leaves. `tick()` drives the timers.
 */
export function createFleetService(deps: FleetServiceDeps) {
  const machine = createFleetMachine(deps)
  const {now, load, save, event, send, participant, abort, tally, rollBackFleet, reportLocal, tickOne} = machine
  const newId = createIdGenerator({clock: now})
  const log = deps.log
  const inbound = createFleetInbound(deps, machine)
  let busy: Promise<void> = Promise.resolve()
  let tickWaiting: Promise<void> | null = null

  // One transition at a time: inbound messages, routes and the timer never interleave on a proposal.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = busy.then(fn, fn)
    busy = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }

  return {
    async propose(input: z.output<typeof FleetProposeInput>, ctx: Caller): Promise<FleetProposal> {
      const {approval_id: approvalId, ...body} = input
      const config = deps.settings().fleet
      const quorumPercent = input.quorum_percent ?? config.quorumPercent
      const timeoutSecs = input.timeout_secs ?? config.timeoutSecs
      const n = input.peer_ids.length + 1
      const required = quorumRequired(n, quorumPercent)
      // The proposer is the canary: what it cannot run here is refused before anyone is asked.
      const missing: string[] = []
      const steps = input.target.type === 'commands' ? [...input.target.apply.map((s, i) => [`target.apply.${i}`, s.command]), ...input.target.revert.map((s, i) => [`target.revert.${i}`, s.command])] : []
      for (const [i, c] of input.health_checks.entries()) if (c.type === 'command') steps.push([`health_checks.${i}`, c.command])
      for (const [where, command] of steps) if (!(await which(command!))) missing.push(`${where}.command: ${command} does not exist or is not executable`)
      if (missing.length) throw new UsageError(`fleet proposal refers to executables that do not exist here: ${missing.join('; ')}`, {details: missing})
      const source = input.target.type === 'nixos' ? input.target.source : null
      if (source && 'store_path' in source && !(await hasActivation(source.store_path))) {
        throw new UsageError(`${source.store_path} is not a system closure on this node (no bin/switch-to-configuration)`, {details: ['target.source.store_path: not present here; copy it first (nix copy) or build it'], hint: 'the proposer switches first, so the closure must be here too'})
      }
      const what =
        input.target.type === 'commands' ? `run ${input.target.apply.length} command(s) (${input.target.apply.map((s) => s.command).join(', ')})` : source && 'store_path' in source ? `switch to ${source.store_path}` : `build and switch to ${source && 'flake' in source ? source.flake : ''}`
      await deps.gate.check({
        operation: 'fleet_propose',
        method: 'POST',
        path: '/fleet/propose',
        body,
        ctx,
        summary: `Fleet deploy on ${n} nodes (quorum ${required}): ${what}; ${input.plan}`.slice(0, 500),
        approvalId,
      })
      const at = now()
      const p: FleetProposal = {
        id: newId('fl'),
        plan: input.plan,
        role: 'proposer',
        proposer: SELF,
        target: input.target,
        health_checks: input.health_checks,
        quorum_percent: quorumPercent,
        quorum_required: required,
        timeout_secs: timeoutSecs,
        phase: 'voting',
        reason: null,
        participants: [
          {peer_id: SELF, vote: 'approve', voted_at: iso(at), status: 'pending', switch_id: null},
          ...input.peer_ids.map((peerId) => ({peer_id: peerId, vote: null, voted_at: null, status: 'pending' as const, switch_id: null})),
        ],
        created_at: iso(at),
        updated_at: iso(at),
      }
      const secret: FleetPrivate = {voting_ends_at: at + timeoutSecs * 1000}
      return serial(async () => {
        deps.store.insert(p, secret)
        event('fleet.proposed', ctx.actor, {fleet_id: p.id, plan: p.plan, participants: p.participants.map((x) => x.peer_id), quorum_required: required})
        const message: FleetMessage = {
          type: 'fleet_propose',
          fleet_id: p.id,
          plan: p.plan,
          target: p.target,
          health_checks: p.health_checks,
          quorum_percent: quorumPercent,
          quorum_required: required,
          timeout_secs: timeoutSecs,
          participants: input.peer_ids,
        }
        for (const peerId of input.peer_ids) {
          try {
            await deps.transport.send(peerId, message)
          } catch (error) {
            // A proposal some peers never saw cannot be voted on fairly: it ends here, and the ones told are told.
            abort(p, secret, `not delivered to ${peerId}: ${(error as Error).message}`.slice(0, 500))
            for (const told of input.peer_ids.slice(0, input.peer_ids.indexOf(peerId))) await send(told, {type: 'fleet_rollback', fleet_id: p.id, reason: 'proposal aborted: not every peer could be reached'})
            throw error instanceof OsmodaError ? error : new OsmodaError('UPSTREAM_FAILED', (error as Error).message)
          }
        }
        await tally(p, secret)
        return load(p.id).proposal
      })
    },

    list: (input: z.output<typeof FleetListInput>) => deps.store.list(input),
    get: (id: string) => load(id).proposal,

    async vote(input: z.output<typeof FleetVoteInput>, ctx: Caller): Promise<FleetProposal> {
      const {proposal: p} = load(input.id)
      if (p.role === 'proposer') throw new ConflictError(`this node proposed ${p.id} and approves it implicitly`, {hint: 'votes are cast on the participating nodes'})
      if (p.phase !== 'voting') throw new ConflictError(`fleet proposal ${p.id} is ${p.phase}, not voting`)
      if (input.approve) {
        const {approval_id: approvalId, ...body} = input
        await deps.gate.check({operation: 'fleet_vote', method: 'POST', path: `/fleet/${p.id}/vote`, body, ctx, summary: `Approve fleet deploy ${p.id} from ${p.proposer} on this node: ${p.plan}`.slice(0, 500), approvalId})
      }
      return serial(async () => {
        const {proposal: q, secret} = load(input.id)
        const me = participant(q, SELF)!
        if (q.phase !== 'voting') throw new ConflictError(`fleet proposal ${q.id} is ${q.phase}, not voting`)
        if (me.vote !== null) throw new ConflictError(`this node already voted ${me.vote} on ${q.id}`)
        // The proposer must hear the vote: if mesh cannot take it, nothing is recorded and the vote can be cast again.
        await deps.transport.send(q.proposer, {type: 'fleet_vote', fleet_id: q.id, approve: input.approve, ...(input.reason ? {reason: input.reason} : {})})
        me.vote = input.approve ? 'approve' : 'deny'
        me.voted_at = iso(now())
        if (!input.approve) {
          q.phase = 'aborted'
          q.reason = `denied here${input.reason ? `: ${input.reason}` : ''}`.slice(0, 500)
        }
        save(q, secret)
        event('fleet.voted', ctx.actor, {fleet_id: q.id, peer_id: SELF, approve: input.approve, ...(input.reason ? {reason: input.reason} : {})})
        return load(q.id).proposal
      })
    },

    async rollback(id: string, reason: string | undefined, ctx: Caller): Promise<FleetProposal> {
      return serial(async () => {
        const {proposal: p, secret} = load(id)
        if (p.phase !== 'executing') throw new ConflictError(`fleet proposal ${p.id} is ${p.phase}; only an executing fleet can be rolled back`)
        const why = reason ?? `requested by ${ctx.actor}`
        if (p.role === 'proposer') await rollBackFleet(p, secret, why)
        else {
          const me = participant(p, SELF)!
          if (me.switch_id) await deps.switches.rollback(me.switch_id, why)
          await reportLocal(p, secret, 'rolled_back', why)
        }
        return load(id).proposal
      })
    },

    inbound: (peerId: string, message: FleetMessage) => serial(() => inbound(peerId, message)),

    /** Advances timers and local switch outcomes; the daemon calls it every second (a tick already waiting is not queued twice). */
    tick: () => {
      if (tickWaiting) return tickWaiting
      tickWaiting = serial(async () => {
        tickWaiting = null
        for (const id of deps.store.openIds()) {
          try {
            await tickOne(id)
          } catch (error) {
            log.error('fleet tick failed', {fleet_id: id, error: (error as Error).message})
          }
        }
      })
      return tickWaiting
    },
  }
}

/** The fleet service. */
export type FleetService = ReturnType<typeof createFleetService>
