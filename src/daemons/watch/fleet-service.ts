import {hostname} from 'node:os'
import type {z} from 'zod'
import {ConflictError, NotFoundError, OsmodaError, PermissionDeniedError, UsageError} from '../../lib/errors.js'
import {which} from '../../lib/exec/which.js'
import {createIdGenerator} from '../../lib/ids.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import type {HealthCheck} from '../../lib/health-checks.js'
import type {SwitchStatus, Target} from './api.js'
import type {WatchConfig} from './config.js'
import {
  FINAL_PHASES,
  type FleetListInput,
  type FleetMessage,
  type FleetProposal,
  type FleetProposeInput,
  type FleetTarget,
  type FleetVoteInput,
} from './fleet-api.js'
import type {FleetPrivate, FleetStore} from './fleet-store.js'
import type {MeshTransport} from './fleet-transport.js'
import type {SwitchGate} from './gate.js'

type Caller = Pick<RequestContext, 'role' | 'actor'>

/** This node's SafeSwitch as the fleet uses it (the fleet was approved: switches run as watch). */
export interface FleetSwitches {
  /** Starts a session; returns its id (throws when it cannot start, e.g. SWITCH_IN_PROGRESS). */
  begin(target: Target, checks: z.output<typeof HealthCheck>[], plan: string, actor: string): Promise<string>
  status(id: string): SwitchStatus | null
  /** Rolls the session back if it is still in probation. */
  rollback(id: string, reason: string): Promise<void>
}

/** What the fleet service needs. */
export interface FleetServiceDeps {
  store: FleetStore
  ledger: Ledger
  log: Logger
  settings: () => WatchConfig
  gate: SwitchGate
  transport: MeshTransport
  switches: FleetSwitches
  now?: () => number
  /** This node's hostname, substituted for `{hostname}` in flake refs. */
  hostname?: () => string
  /** For `autoVote: approve_if_healthy`: runs the checks (plus osmoda's baseline) here; true when all pass. */
  localHealthy?: (checks: z.output<typeof HealthCheck>[]) => Promise<boolean>
}

/** The proposer's own participant entry on its node. */
export const SELF = 'self'

/** Extra time a participant's result may take after its probation (SPEC §2.3: ttl + 600 s). */
const RESULT_SLACK_SECS = 600

const iso = (ms: number) => new Date(ms).toISOString()

/** quorum_required = max(1, ceil(n × quorum_percent / 100)). */
export function quorumRequired(participants: number, percent: number): number {
  return Math.max(1, Math.ceil((participants * percent) / 100))
}

/** The SafeSwitch target a fleet target becomes on this node. */
export function nodeTarget(target: FleetTarget, host: string): Target {
  if (target.type === 'commands') return target
  return {type: 'nixos', source: {flake: target.source.flake.replaceAll('{hostname}', host)}}
}

/**
 * Fleet deploys (SPEC §2.3): a proposal is voted on by the proposer (implicitly) and its peers over
 * mesh; on quorum the proposer's own SafeSwitch runs first (canary), then every approving peer's;
 * any failure, or a result missing after ttl + 600 s, sends fleet_rollback to those still in
 * probation. Every transition is persisted before a message leaves. `tick()` drives the timers.
 */
export function createFleetService(deps: FleetServiceDeps) {
  const now = deps.now ?? Date.now
  const host = deps.hostname ?? hostname
  const newId = createIdGenerator({clock: now})
  const log = deps.log
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

  const load = (id: string) => {
    const found = deps.store.get(id)
    if (!found) throw new NotFoundError(`no fleet proposal ${id}`, {hint: 'list proposals with osmoda fleet list'})
    return found
  }
  const save = (p: FleetProposal, secret: FleetPrivate) => {
    p.updated_at = iso(now())
    deps.store.save(p, secret)
  }
  const event = (type: string, actor: string, payload: Record<string, unknown>) => deps.ledger.append({type, actor, payload})
  const send = async (peerId: string, message: FleetMessage): Promise<boolean> => {
    try {
      await deps.transport.send(peerId, message)
      return true
    } catch (error) {
      log.warn('fleet message not delivered', {peer_id: peerId, type: message.type, error: (error as Error).message})
      return false
    }
  }
  const participant = (p: FleetProposal, peerId: string) => p.participants.find((x) => x.peer_id === peerId)
  const approvals = (p: FleetProposal) => p.participants.filter((x) => x.vote === 'approve').length
  const undecided = (p: FleetProposal) => p.participants.filter((x) => x.vote === null).length
  const ttlSecs = () => deps.settings().probation.ttlSecs

  const abort = (p: FleetProposal, secret: FleetPrivate, reason: string) => {
    p.phase = 'aborted'
    p.reason = reason
    save(p, secret)
    event('fleet.aborted', 'watch', {fleet_id: p.id, reason})
  }

  /** Proposer: after a vote, start the canary on quorum or abort when quorum can no longer be reached. */
  const tally = async (p: FleetProposal, secret: FleetPrivate) => {
    if (p.phase !== 'voting') return
    if (approvals(p) >= p.quorum_required) return startCanary(p, secret)
    if (approvals(p) + undecided(p) < p.quorum_required) abort(p, secret, 'vetoed')
  }

  const beginLocal = async (p: FleetProposal, secret: FleetPrivate, peerId: string): Promise<boolean> => {
    const me = participant(p, peerId)!
    try {
      me.switch_id = await deps.switches.begin(nodeTarget(p.target, host()), p.health_checks, `fleet ${p.id}: ${p.plan}`.slice(0, 500), 'watch')
      me.status = 'executing'
      save(p, secret)
      return true
    } catch (error) {
      me.status = 'failed'
      p.reason = `local switch could not start: ${(error as Error).message}`.slice(0, 500)
      save(p, secret)
      return false
    }
  }

  const startCanary = async (p: FleetProposal, secret: FleetPrivate) => {
    p.phase = 'executing'
    save(p, secret)
    event('fleet.executing', 'watch', {fleet_id: p.id, stage: 'canary', approvals: approvals(p), quorum_required: p.quorum_required})
    if (!(await beginLocal(p, secret, SELF))) await rollBackFleet(p, secret, p.reason ?? 'canary failed')
  }

  /** Proposer: the fleet rolls back; every participant still in probation is told. */
  const rollBackFleet = async (p: FleetProposal, secret: FleetPrivate, reason: string) => {
    p.phase = 'rolled_back'
    p.reason = reason.slice(0, 500)
    // `unknown` (no result in time) may still be in probation: it is told too.
    const inProbation = p.participants.filter((x) => x.status === 'executing' || x.status === 'unknown')
    save(p, secret)
    event('fleet.rolled_back', 'watch', {fleet_id: p.id, reason: p.reason})
    for (const x of inProbation) {
      if (x.peer_id === SELF) {
        if (x.switch_id) await deps.switches.rollback(x.switch_id, `fleet ${p.id} rolled back: ${p.reason}`).catch((error: Error) => log.warn('canary rollback failed', {error: error.message}))
      } else {
        await send(x.peer_id, {type: 'fleet_rollback', fleet_id: p.id, reason: p.reason})
      }
    }
  }

  /** Proposer: a participant's (or the canary's) outcome. */
  const recordResult = async (p: FleetProposal, secret: FleetPrivate, peerId: string, status: 'committed' | 'rolled_back' | 'failed' | 'unknown', reason: string) => {
    const x = participant(p, peerId)!
    x.status = status
    if (secret.result_due) delete secret.result_due[peerId]
    save(p, secret)
    if (p.phase !== 'executing') return
    if (status !== 'committed') return rollBackFleet(p, secret, `${peerId === SELF ? 'canary' : `participant ${peerId}`} ${status}: ${reason}`)
    if (peerId === SELF) {
      // The canary committed: the approving peers run theirs.
      const due = now() + (ttlSecs() + RESULT_SLACK_SECS) * 1000
      const peers = p.participants.filter((y) => y.peer_id !== SELF && y.vote === 'approve')
      secret.result_due = Object.fromEntries(peers.map((y) => [y.peer_id, due]))
      for (const y of peers) y.status = 'executing'
      save(p, secret)
      event('fleet.executing', 'watch', {fleet_id: p.id, stage: 'participants', participants: peers.map((y) => y.peer_id)})
      for (const y of peers) {
        if (!(await send(y.peer_id, {type: 'fleet_execute', fleet_id: p.id}))) {
          return recordResult(p, secret, y.peer_id, 'failed', 'fleet_execute could not be delivered')
        }
      }
    }
    const running = p.participants.filter((y) => y.vote === 'approve' && y.status !== 'committed')
    if (running.length === 0) {
      p.phase = 'committed'
      save(p, secret)
      event('fleet.committed', 'watch', {fleet_id: p.id, participants: p.participants.filter((y) => y.vote === 'approve').map((y) => y.peer_id)})
    }
  }

  /** Participant: its own switch ended; report to the proposer. */
  const reportLocal = async (p: FleetProposal, secret: FleetPrivate, status: 'committed' | 'rolled_back' | 'failed', reason: string) => {
    const me = participant(p, SELF)!
    me.status = status
    p.phase = status === 'committed' ? 'committed' : 'rolled_back'
    p.reason = status === 'committed' ? null : reason
    save(p, secret)
    event(status === 'committed' ? 'fleet.committed' : 'fleet.rolled_back', 'watch', {fleet_id: p.id, reason: p.reason, role: 'participant'})
    await send(p.proposer, {type: 'fleet_result', fleet_id: p.id, status, switch_id: me.switch_id, ...(status === 'committed' ? {} : {reason: reason.slice(0, 500)})})
  }

  const inbound = async (peerId: string, message: FleetMessage): Promise<{accepted: boolean}> => {
    if (message.sender !== undefined && message.sender !== peerId) {
      throw new PermissionDeniedError('FORBIDDEN', `message claims sender ${message.sender} but arrived from authenticated peer ${peerId}`, {
        hint: 'the sender of a fleet message is the authenticated mesh peer; no body field can claim another',
      })
    }
    if (message.type === 'fleet_propose') {
      if (deps.store.get(message.fleet_id)) throw new ConflictError(`fleet proposal ${message.fleet_id} is already known`)
      const at = now()
      // The proposer approves implicitly; this node's entry is `self`; the others are as the proposer names them.
      const p: FleetProposal = {
        id: message.fleet_id,
        plan: message.plan,
        role: 'participant',
        proposer: peerId,
        target: message.target,
        health_checks: message.health_checks,
        quorum_percent: message.quorum_percent,
        quorum_required: message.quorum_required,
        timeout_secs: message.timeout_secs,
        phase: 'voting',
        reason: null,
        participants: [
          {peer_id: peerId, vote: 'approve', voted_at: iso(at), status: 'pending', switch_id: null},
          {peer_id: SELF, vote: null, voted_at: null, status: 'pending', switch_id: null},
        ],
        created_at: iso(at),
        updated_at: iso(at),
      }
      const secret: FleetPrivate = {voting_ends_at: at + message.timeout_secs * 1000}
      deps.store.insert(p, secret)
      event('fleet.proposed', `peer:${peerId}`, {fleet_id: p.id, plan: p.plan, participants: [peerId, ...message.participants], quorum_required: p.quorum_required, role: 'participant'})
      // approve_if_healthy covers flake targets only: a peer's `commands` always waits for this node's operator.
      if (deps.settings().fleet.autoVote === 'approve_if_healthy' && p.target.type === 'nixos' && deps.localHealthy && (await deps.localHealthy(p.health_checks))) {
        const me = participant(p, SELF)!
        me.vote = 'approve'
        me.voted_at = iso(now())
        save(p, secret)
        event('fleet.voted', 'watch', {fleet_id: p.id, peer_id: SELF, approve: true, reason: 'autoVote: approve_if_healthy, local health passed'})
        await send(peerId, {type: 'fleet_vote', fleet_id: p.id, approve: true, reason: 'autoVote: local health passed'})
      }
      return {accepted: true}
    }
    const {proposal: p, secret} = load(message.fleet_id)
    if (message.type === 'fleet_vote') {
      if (p.role !== 'proposer') throw new PermissionDeniedError('FORBIDDEN', `votes for ${p.id} go to its proposer, not to this node`)
      const x = participant(p, peerId)
      if (!x || peerId === SELF) throw new PermissionDeniedError('FORBIDDEN', `peer ${peerId} is not a participant of ${p.id}`)
      if (p.phase !== 'voting' || x.vote !== null) return {accepted: false}
      x.vote = message.approve ? 'approve' : 'deny'
      x.voted_at = iso(now())
      save(p, secret)
      event('fleet.voted', `peer:${peerId}`, {fleet_id: p.id, peer_id: peerId, approve: message.approve, ...(message.reason ? {reason: message.reason} : {})})
      await tally(p, secret)
      return {accepted: true}
    }
    if (message.type === 'fleet_result') {
      if (p.role !== 'proposer') throw new PermissionDeniedError('FORBIDDEN', `results for ${p.id} go to its proposer, not to this node`)
      const x = participant(p, peerId)
      if (!x || peerId === SELF) throw new PermissionDeniedError('FORBIDDEN', `peer ${peerId} is not a participant of ${p.id}`)
      if (x.status !== 'executing') return {accepted: false}
      x.switch_id = message.switch_id
      await recordResult(p, secret, peerId, message.status, message.reason ?? message.status)
      return {accepted: true}
    }
    // fleet_execute and fleet_rollback only come from the proposer.
    if (p.role !== 'participant' || p.proposer !== peerId) throw new PermissionDeniedError('FORBIDDEN', `only the proposer of ${p.id} may send ${message.type}`)
    const me = participant(p, SELF)!
    if (message.type === 'fleet_execute') {
      if (p.phase !== 'voting' || me.vote !== 'approve') return {accepted: false}
      p.phase = 'executing'
      save(p, secret)
      event('fleet.executing', `peer:${peerId}`, {fleet_id: p.id, role: 'participant'})
      if (!(await beginLocal(p, secret, SELF))) await reportLocal(p, secret, 'failed', p.reason ?? 'local switch could not start')
      return {accepted: true}
    }
    // fleet_rollback
    if (FINAL_PHASES.includes(p.phase)) return {accepted: false}
    if (me.status === 'executing' && me.switch_id) {
      await deps.switches.rollback(me.switch_id, `fleet ${p.id} rolled back by its proposer: ${message.reason}`).catch((error: Error) => log.warn('rollback failed', {error: error.message}))
      me.status = deps.switches.status(me.switch_id) === 'rolled_back' ? 'rolled_back' : 'failed'
    }
    p.phase = p.phase === 'voting' ? 'aborted' : 'rolled_back'
    p.reason = `proposer: ${message.reason}`.slice(0, 500)
    save(p, secret)
    event(p.phase === 'aborted' ? 'fleet.aborted' : 'fleet.rolled_back', `peer:${peerId}`, {fleet_id: p.id, reason: p.reason, role: 'participant'})
    return {accepted: true}
  }

  /** One pass over open proposals: voting deadlines, local switch outcomes, missing results. */
  const tickOne = async (id: string) => {
    const found = deps.store.get(id)
    if (!found) return
    const {proposal: p, secret} = found
    const at = now()
    if (p.phase === 'voting' && secret.voting_ends_at !== undefined) {
      // A participant that approved waits for the canary's probation too before it gives up.
      const approvedHere = p.role === 'participant' && participant(p, SELF)?.vote === 'approve'
      const ends = approvedHere ? secret.voting_ends_at + (ttlSecs() + RESULT_SLACK_SECS) * 1000 : secret.voting_ends_at
      if (at >= ends) abort(p, secret, approvedHere ? 'timeout: no fleet_execute from the proposer' : 'timeout')
      return
    }
    if (p.phase !== 'executing') return
    const me = participant(p, SELF)
    if (me?.status === 'executing' && me.switch_id) {
      const status = deps.switches.status(me.switch_id)
      const outcome = status === 'committed' ? 'committed' : status === 'rolled_back' || status === 'rollback_failed' ? 'rolled_back' : status === 'failed' || status === null ? 'failed' : null
      if (outcome) {
        if (p.role === 'proposer') await recordResult(p, secret, SELF, outcome, `switch ${me.switch_id} ${status ?? 'vanished'}`)
        else await reportLocal(p, secret, outcome, `switch ${me.switch_id} ${status ?? 'vanished'}`)
        return
      }
    }
    if (p.role === 'proposer') {
      for (const [peerId, due] of Object.entries(secret.result_due ?? {})) {
        if (at >= due && p.phase === 'executing') await recordResult(p, secret, peerId, 'unknown', `no fleet_result within ttl + ${RESULT_SLACK_SECS} s`)
      }
    }
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
      const what = input.target.type === 'commands' ? `run ${input.target.apply.length} command(s) (${input.target.apply.map((s) => s.command).join(', ')})` : `build and switch to ${input.target.source.flake}`
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
