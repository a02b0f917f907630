import {existsSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import type {z} from 'zod'
import {ConflictError, OsmodaError} from '../../../lib/errors.js'
import {runProcess, type RunResult} from '../../../lib/exec/run.js'
import {which as whichBinary} from '../../../lib/exec/which.js'
import type {Ledger} from '../../../lib/ledger/ledger.js'
import type {Logger} from '../../../lib/log.js'
import type {RequestContext} from '../../../lib/rpc/server.js'
import type {AgentdHealth} from '../api.js'
import type {Gate} from '../approvals/types.js'
import type {Runner} from '../services/service.js'
import {systemdUnavailable} from '../services/systemctl.js'
import type {SafetyPanicInput, SafetyRollbackInput, SafetyStatus} from './api.js'
import {DEFAULT_SYSTEM_PROFILE, readGenerationState} from './generations.js'
import {readOsmodaServices} from './local-status.js'
import {
  GATEWAY_UNIT,
  PANIC_UNITS,
  RESTART_DELAY_SECS,
  ROLLBACK_DEADLINE_SECS,
  STOP_DEADLINE_SECS,
  restartGatewayArgv,
  rollbackCommand,
  safetyUnitName,
  stopUnitsCommand,
  transientUnitArgv,
} from './units.js'

/** Dependencies of the safety service. */
export interface SafetyDeps {
  ledger: Ledger
  gate: Gate
  log: Logger
  /** agentd's own GET /health. */
  health: () => Promise<z.input<typeof AgentdHealth>>
  /** Unexpired pending approvals in agentd.db. */
  pendingApprovals: () => number
  systemd: () => Promise<boolean>
  runDir: string
  /** Aborted when agentd stops: background work ends with it (transient units do not). */
  signal: AbortSignal
  profile?: string
  bootedLink?: string
  run?: Runner
  which?: (binary: string) => Promise<string | null>
  now?: () => number
  /** Delay between answering a panic and stopping the first unit. */
  panicDelayMs?: number
}

interface RollbackPlan {
  from: number
  to: number
  command: string[]
}

type Ctx = Pick<RequestContext, 'role' | 'actor'>

const PANIC_DELAY_MS = 200
const SYSTEMD_RUN_TIMEOUT_MS = 15_000
const SYSTEMD_HINT = 'On this host `osmoda up` supervises the daemons: stop it (Ctrl-C) or restart it instead.'

function bodyOf(input: object): Record<string, unknown> {
  const {approval_id: _drop, ...rest} = input as Record<string, unknown>
  return rest
}

/** Status, rollback, panic and restart (SPEC §2.1 Safety). Acts run in the background after a 202. */
export function createSafetyService(deps: SafetyDeps) {
  const run = deps.run ?? runProcess
  const which = deps.which ?? ((binary: string) => whichBinary(binary))
  const now = deps.now ?? Date.now
  const profile = deps.profile ?? DEFAULT_SYSTEM_PROFILE
  const tasks = new Set<Promise<void>>()

  const background = (name: string, work: () => Promise<void>, delayMs = 0) => {
    const task = new Promise<void>((resolve) => setTimeout(resolve, delayMs))
      .then(work)
      .catch((error: unknown) => deps.log.error(`safety ${name} failed`, {error: (error as Error)?.message ?? String(error)}))
      .finally(() => tasks.delete(task))
    tasks.add(task)
  }

  /** What a rollback would do; NIX_UNAVAILABLE or CONFLICT when it cannot. */
  const planRollback = async (): Promise<RollbackPlan> => {
    const state = await readGenerationState(profile, deps.bootedLink)
    const nixEnv = await which('nix-env')
    if (state === null || nixEnv === null) {
      throw new OsmodaError('NIX_UNAVAILABLE', state === null ? `there is no Nix system profile at ${profile}` : 'nix-env is not installed', {
        hint: 'Rollback switches NixOS system generations; this host is not NixOS. Undo changes with their receipts (receipt_list) instead.',
      })
    }
    if (state.current === null || state.previous === null) {
      throw new ConflictError(`no generation older than the current one (${state.current ?? 'unknown'}) exists to roll back to`, {
        details: {state: {current: state.current, generations: state.listing.numbers}},
        hint: 'List the generations with system_query "generations".',
      })
    }
    const target = join(dirname(profile), `${basename(profile)}-${state.previous}-link`, 'bin', 'switch-to-configuration')
    if (!existsSync(target)) {
      throw new OsmodaError('NIX_UNAVAILABLE', `generation ${state.previous} has no switch-to-configuration`, {hint: 'It is not a NixOS system generation; roll back with `osmoda switch begin --generation` to a generation that is.'})
    }
    return {from: state.current, to: state.previous, command: rollbackCommand({nixEnv, profile, generation: state.previous})}
  }

  /** Starts a planned rollback: ledgers its start, runs it in a transient unit (or directly), ledgers the outcome. */
  const startRollback = async (plan: RollbackPlan, actor: string, reason: string | null) => {
    const systemd = await deps.systemd()
    // SPEC §1.12: without systemd as PID 1 an activation falls back to a direct process-group spawn.
    const unit = systemd ? safetyUnitName('rollback', now()) : null
    const argv = unit === null ? plan.command : transientUnitArgv({unit, deadlineSecs: ROLLBACK_DEADLINE_SECS, command: plan.command})
    deps.ledger.append({type: 'safety.rollback_started', actor, payload: {from_generation: plan.from, to_generation: plan.to, unit, reason}})
    background('rollback', async () => {
      const result = await run(argv, {timeoutMs: (ROLLBACK_DEADLINE_SECS + 30) * 1000, signal: deps.signal})
      if (result.aborted && unit !== null) {
        // agentd is stopping (an activation restarts it): the unit carries on without us, so its
        // outcome is unknown here rather than failed.
        deps.log.warn('agentd stopped while the rollback unit runs; see its journal for the outcome', {unit})
        return
      }
      const ok = result.exitCode === 0
      deps.ledger.append({
        type: 'safety.rolled_back',
        actor,
        payload: {
          from_generation: plan.from,
          to_generation: plan.to,
          ok,
          exit_code: result.exitCode,
          timed_out: result.timedOut,
          aborted: result.aborted,
          unit,
          stderr_tail: ok ? null : result.stderr.slice(-500),
        },
      })
    })
    return {from_generation: plan.from, to_generation: plan.to, unit}
  }

  const requireSystemd = async (what: string) => {
    if (!(await deps.systemd())) throw systemdUnavailable(what, SYSTEMD_HINT)
  }

  const checkRun = (what: string, result: RunResult) => {
    if (result.exitCode !== 0) throw new OsmodaError('UPSTREAM_FAILED', `${what} failed (exit ${result.exitCode ?? result.signal}): ${result.stderr.trim().slice(0, 500)}`)
  }

  return {
    async status(): Promise<z.input<typeof SafetyStatus>> {
      const [health, systemd, generation] = await Promise.all([deps.health(), deps.systemd(), readGenerationState(profile, deps.bootedLink)])
      const services = await readOsmodaServices({systemd, runDir: deps.runDir, signal: deps.signal})
      const {hostname, cpu_count, load_average, memory_total, memory_used, memory_available, swap_total, swap_used, uptime, disks} = health
      return {
        source: 'agentd',
        agentd: 'reachable',
        health: {status: health.status, problems: health.problems ?? [], hostname, cpu_count, load_average, memory_total, memory_used, memory_available, swap_total, swap_used, uptime, disks},
        services: services.services,
        services_source: services.source,
        generation: generation === null ? null : {current: generation.current, previous: generation.previous, booted: generation.booted},
        ledger: {size: health.ledger.size, verify_state: health.ledger.verify_state},
        pending_approvals: deps.pendingApprovals(),
      }
    },

    async rollback(input: z.output<typeof SafetyRollbackInput>, ctx: Ctx) {
      const plan = await planRollback()
      deps.gate.check({
        operation: 'safety_rollback',
        method: 'POST',
        path: '/safety/rollback',
        body: bodyOf(input),
        ctx,
        summary: `Roll NixOS back from generation ${plan.from} to ${plan.to}${input.reason ? `: ${input.reason}` : ''}`.slice(0, 500),
        approvalId: input.approval_id ?? null,
      })
      return startRollback(plan, ctx.actor, input.reason ?? null)
    },

    async panic(input: z.output<typeof SafetyPanicInput>, ctx: Ctx) {
      await requireSystemd('safety_panic (stopping the osmoda units)')
      // Decided now so the answer says whether a rollback follows; a panic never fails for want of one.
      const plan = input.rollback ? await planRollback().catch((error: OsmodaError) => error) : null
      const willRollback = plan !== null && !(plan instanceof Error)
      deps.gate.check({
        operation: 'safety_panic',
        method: 'POST',
        path: '/safety/panic',
        body: bodyOf(input),
        ctx,
        summary: `PANIC: stop every osmoda service but agentd (gateway last)${willRollback ? `, then roll NixOS back to generation ${plan.to}` : ''}${input.reason ? `: ${input.reason}` : ''}`.slice(0, 500),
        approvalId: input.approval_id ?? null,
      })
      const stopping = [...PANIC_UNITS, GATEWAY_UNIT]
      deps.ledger.append({
        type: 'safety.panicked',
        actor: ctx.actor,
        payload: {units: stopping, rollback: willRollback, rollback_skipped: plan instanceof Error ? plan.code : null, reason: input.reason ?? null},
      })
      const at = now()
      background(
        'panic',
        async () => {
          const first = await run(transientUnitArgv({unit: safetyUnitName('panic-stop', at), deadlineSecs: STOP_DEADLINE_SECS, command: stopUnitsCommand(PANIC_UNITS)}), {timeoutMs: (STOP_DEADLINE_SECS + 10) * 1000, signal: deps.signal})
          if (first.exitCode !== 0) deps.log.error('panic: stopping the osmoda units failed', {exit_code: first.exitCode, stderr: first.stderr.slice(-500)})
          // The gateway goes last, whatever happened above: it carries the caller's connection.
          const gateway = await run(transientUnitArgv({unit: safetyUnitName('panic-gateway', at), deadlineSecs: STOP_DEADLINE_SECS, command: stopUnitsCommand([GATEWAY_UNIT])}), {timeoutMs: (STOP_DEADLINE_SECS + 10) * 1000, signal: deps.signal})
          if (gateway.exitCode !== 0) deps.log.error('panic: stopping the gateway failed', {exit_code: gateway.exitCode, stderr: gateway.stderr.slice(-500)})
          if (willRollback) await startRollback(plan, ctx.actor, input.reason ?? 'panic')
        },
        deps.panicDelayMs ?? PANIC_DELAY_MS,
      )
      return {stopping, rollback: willRollback}
    },

    async restart(ctx: Ctx) {
      await requireSystemd('safety_restart (restarting osmoda-gateway)')
      const result = await run(restartGatewayArgv(safetyUnitName('restart', now())), {timeoutMs: SYSTEMD_RUN_TIMEOUT_MS})
      checkRun('systemd-run (gateway restart timer)', result)
      deps.ledger.append({type: 'safety.restarted', actor: ctx.actor, payload: {unit: GATEWAY_UNIT, delay_secs: RESTART_DELAY_SECS}})
      return {unit: GATEWAY_UNIT, delay_secs: RESTART_DELAY_SECS} as const
    },

    /** Waits for background work (agentd calls it before closing the ledger). */
    async settle(): Promise<void> {
      // A panic starts its rollback from inside its own task, so wait until no task is left.
      while (tasks.size) await Promise.allSettled([...tasks])
    },
  }
}

/** The safety service's type. */
export type SafetyService = ReturnType<typeof createSafetyService>
