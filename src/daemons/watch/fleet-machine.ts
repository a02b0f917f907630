import {hostname} from 'node:os'
import type {z} from 'zod'
import {NotFoundError} from '../../lib/errors.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import type {HealthCheck} from '../../lib/health-checks.js'
import type {SwitchStatus, Target} from './api.js'
import type {WatchConfig} from './config.js'
import type {FleetMessage, FleetProposal, FleetTarget} from './fleet-api.js'
import type {FleetPrivate, FleetStore} from './fleet-store.js'
import type {MeshTransport} from './fleet-transport.js'
import type {SwitchGate} from './gate.js'

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
export const RESULT_SLACK_SECS = 600

export const iso = (ms: number) => new Date(ms).toISOString()

/** quorum_required = max(1, ceil(n × quorum_percent / 100)). */
export function quorumRequired(participants: number, percent: number): number {
  return Math.max(1, Math.ceil((participants * percent) / 100))
}

/** The SafeSwitch target a fleet target becomes on this node. */
export function nodeTarget(target: FleetTarget, host: string): Target {
  if (target.type === 'commands') return target
  if ('store_path' in target.source) return {type: 'nixos', source: {store_path: target.source.store_path}}
  return {type: 'nixos', source: {flake: target.source.flake.replaceAll('{hostname}', host)}}
}

/**
 * The fleet state machine (SPEC §2.3) shared by the operator API (fleet-service.ts) and the peer
 * messages (fleet-inbound.ts): persisting a proposal, ledgering and sending, and the transitions of
 * the proposer (tally, canary, results, fleet rollback) and of a participant (its own switch's
 * outcome). Every transition is persisted before a message leaves. Callers serialise.
 */
export function createFleetMachine(deps: FleetServiceDeps) {
  const now = deps.now ?? Date.now
  const host = deps.hostname ?? hostname
  const log = deps.log

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

  return {now, load, save, event, send, participant, abort, tally, beginLocal, rollBackFleet, recordResult, reportLocal, tickOne}
}

/** The fleet state machine. */
export type FleetMachine = ReturnType<typeof createFleetMachine>
