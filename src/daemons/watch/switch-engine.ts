import type {z} from 'zod'
import {ConflictError, OsmodaError} from '../../lib/errors.js'
import {runHealthCheck} from '../../lib/health-checks.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import type {CheckResult, SwitchSession} from './api.js'
import type {WatchConfig} from './config.js'
import {applyEdits, restoreEdits} from './edits.js'
import {buildTarget, diffClosures, resolveSystem, runMutation, setProfile, stopMutation, switchToConfiguration, type MutationHandle, type StepResult} from './nix.js'
import type {SwitchStore} from './store.js'

/** The verdicts of one probation tick. */
export type CheckResults = z.output<typeof CheckResult>[]

/** What the engine needs. */
export interface SwitchEngineDeps {
  store: SwitchStore
  ledger: Ledger
  log: Logger
  settings: () => WatchConfig
  baseline: () => Promise<CheckResults>
  now: () => number
}

const STOP_WAIT_MS = 10_000
const iso = (ms: number) => new Date(ms).toISOString()

/**
 * The SafeSwitch state machine of SPEC §2.3 steps 2–7. Every transition is persisted and ledgered
 * before the next step; transitions run one at a time (a commit or rollback request waits for an
 * activation in progress), and probation deadlines live in the session, so a restarted watch
 * resumes them.
 */
export function createSwitchEngine(deps: SwitchEngineDeps) {
  const {store, ledger, log, now} = deps
  const stopping = new AbortController()
  const tasks = new Set<Promise<unknown>>()
  let chain: Promise<unknown> = Promise.resolve()

  const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn)
    chain = run.catch(() => {})
    return run
  }
  const track = (task: Promise<unknown>) => {
    const guarded = task.catch((error: unknown) => {
      if (error instanceof StoppingError) log.info('switch left for the next start to resume')
      else log.error('switch task failed', {error: (error as Error).message, stack: (error as Error).stack})
    })
    tasks.add(guarded)
    void guarded.finally(() => tasks.delete(guarded))
  }
  const load = (id: string): SwitchSession => {
    const session = store.get(id)
    if (!session) throw new OsmodaError('NOT_FOUND', `no switch ${id}`)
    return session
  }
  const update = (id: string, patch: Partial<SwitchSession>): SwitchSession => {
    const next = {...load(id), ...patch}
    store.save(next)
    return next
  }
  const event = (type: string, actor: string, payload: Record<string, unknown>) => ledger.append({type, actor, payload})
  const timeoutMs = (key: 'activationTimeoutSecs' | 'buildTimeoutSecs') => deps.settings()[key] * 1000
  // Persisted as soon as a mutation starts, so a restarted watch can stop it before rolling back.
  const keep = (id: string) => (mutation: MutationHandle) => store.savePrivate(id, {...store.getPrivate(id), mutation})
  // A stopping watch kills its running mutation and leaves the session in its persisted state for
  // the next start to resume (roll back), rather than judging an outcome it caused itself.
  const unlessStopping = <T>(value: T): T => {
    if (stopping.signal.aborted) throw new StoppingError()
    return value
  }

  const runChecks = async (session: SwitchSession): Promise<CheckResults> => {
    const timeouts = deps.settings().checkTimeouts
    const own = session.health_checks.map(async (check) => ({check, ...(await runHealthCheck(check, timeouts, stopping.signal))}))
    const [mine, base] = await Promise.all([Promise.all(own), session.baseline_checks ? deps.baseline() : Promise.resolve([])])
    return [...mine, ...base]
  }

  const runSteps = async (id: string, kind: 'apply' | 'revert', steps: {command: string; args: string[]}[]): Promise<StepResult[]> => {
    const results: StepResult[] = []
    for (const [i, step] of steps.entries()) {
      const result = unlessStopping(await runMutation([step.command, ...step.args], `osmoda-switch-${id}-${kind}-${i}`, timeoutMs('activationTimeoutSecs'), keep(id), stopping.signal))
      results.push({...result, detail: `${step.command}: ${result.detail}`})
      if (!result.ok && kind === 'apply') break
    }
    return results
  }

  const fail = (id: string, reason: string): SwitchSession => {
    const session = update(id, {status: 'failed', reason, ended_at: iso(now())})
    event('switch.failed', 'watch', {switch_id: id, reason})
    return session
  }

  /** Steps 2–3: build, then activate with `switch-to-configuration test` (or the apply commands). */
  const buildAndActivate = async (id: string, dryRun: boolean): Promise<SwitchSession> => {
    const session = load(id)
    const target = session.target
    let targetSystem: string | null = null
    if (target.type === 'nixos') {
      try {
        if (target.edits?.length) applyEdits(target.edits, (originals) => store.savePrivate(id, {...store.getPrivate(id), originals}))
      } catch (error) {
        restoreEdits(store.getPrivate(id).originals ?? [])
        return fail(id, `could not write the edits: ${(error as Error).message}`)
      }
      const built = unlessStopping(await buildTarget(target.source, deps.settings().systemProfile, timeoutMs('buildTimeoutSecs'), stopping.signal))
      if (!built.system) {
        restoreEdits(store.getPrivate(id).originals ?? [])
        return fail(id, `build failed: ${built.detail}`)
      }
      targetSystem = built.system
    }
    if (dryRun) {
      restoreEdits(store.getPrivate(id).originals ?? [])
      const diff =
        target.type === 'nixos'
          ? session.previous_system && targetSystem
            ? await diffClosures(session.previous_system, targetSystem, timeoutMs('buildTimeoutSecs'))
            : 'diff unavailable: no running system recorded'
          : target.apply.map((s) => [s.command, ...s.args].join(' ')).join('\n')
      const done = update(id, {status: 'built', target_system: targetSystem, diff, ended_at: iso(now())})
      event('switch.built', 'watch', {switch_id: id, target_system: targetSystem})
      return done
    }
    update(id, {status: 'activating', target_system: targetSystem})
    let failure: string | null = null
    if (target.type === 'nixos' && targetSystem) {
      const result = unlessStopping(await switchToConfiguration(targetSystem, 'test', `osmoda-switch-${id}`, timeoutMs('activationTimeoutSecs'), keep(id), stopping.signal))
      if (!result.ok) failure = `activation failed (${result.exitCode === 4 ? 'exit 4: units failed' : result.detail})`
    } else if (target.type === 'commands') {
      const failed = (await runSteps(id, 'apply', target.apply)).find((r) => !r.ok)
      if (failed) failure = `apply failed (${failed.detail})`
    }
    if (failure) return rollbackLocked(id, failure, 'watch')
    const activated = now()
    const endsAt = iso(activated + session.ttl_secs * 1000)
    const live = update(id, {status: 'probation', activated_at: iso(activated), probation_ends_at: endsAt})
    event('switch.activated', 'watch', {switch_id: id, target_system: targetSystem, probation_ends_at: endsAt})
    return live
  }

  /** Step 5: the profile gains the generation and the boot default follows. */
  const commitLocked = async (id: string, actor: string): Promise<SwitchSession> => {
    const session = load(id)
    const config = deps.settings()
    let generation: number | null = null
    let reason: string | null = null
    if (session.target.type === 'nixos' && session.target_system) {
      const to = 'generation' in session.target.source ? {generation: session.target.source.generation} : {system: session.target_system}
      const set = await setProfile(config.systemProfile, to, timeoutMs('activationTimeoutSecs'))
      if (!set.ok) return rollbackLocked(id, `commit failed: ${set.detail}`, actor)
      generation = set.generation
      const boot = await switchToConfiguration(session.target_system, 'boot', `osmoda-switch-${id}-boot`, timeoutMs('activationTimeoutSecs'), keep(id))
      if (!boot.ok) {
        reason = `committed, but the boot default was not updated: ${boot.detail}`
        event('notification.requested', 'watch', {source: 'watch', severity: 'warning', title: `switch ${id}: boot entry not updated`, message: reason})
      }
    }
    const done = update(id, {status: 'committed', target_generation: generation, ended_at: iso(now()), reason})
    event('switch.committed', actor, {switch_id: id, target_generation: generation, target_system: session.target_system})
    return done
  }

  /** Step 6: back to exactly the recorded previous system, never "N−1". */
  const rollbackLocked = async (id: string, reason: string, actor: string): Promise<SwitchSession> => {
    const session = update(id, {status: 'rolling_back', reason})
    event('switch.rolling_back', actor, {switch_id: id, reason, previous_system: session.previous_system})
    const problems: string[] = []
    if (session.target.type === 'nixos') {
      try {
        restoreEdits(store.getPrivate(id).originals ?? [])
      } catch (error) {
        problems.push(`restoring edits: ${(error as Error).message}`)
      }
      const config = deps.settings()
      if (session.previous_system) {
        const result = unlessStopping(await switchToConfiguration(session.previous_system, 'test', `osmoda-switch-${id}-rollback`, timeoutMs('activationTimeoutSecs'), keep(id), stopping.signal))
        if (!result.ok) problems.push(`activating ${session.previous_system}: ${result.detail}`)
        const current = await resolveSystem(config.currentSystemLink)
        if (current !== session.previous_system) problems.push(`${config.currentSystemLink} is ${current ?? 'missing'}, expected ${session.previous_system}`)
      } else {
        problems.push('no previous system was recorded')
      }
    } else {
      for (const result of await runSteps(id, 'revert', [...session.target.revert].reverse())) if (!result.ok) problems.push(`revert ${result.detail}`)
    }
    const results = unlessStopping(await runChecks(session))
    for (const failed of results.filter((r) => !r.ok)) problems.push(`check after rollback failed: ${failed.detail}`)
    const checked = {last_check_at: iso(now()), last_check_results: results, ended_at: iso(now())}
    if (problems.length === 0) {
      const done = update(id, {status: 'rolled_back', ...checked})
      event('switch.rolled_back', actor, {switch_id: id, reason, previous_system: session.previous_system, previous_generation: session.previous_generation})
      return done
    }
    const done = update(id, {status: 'rollback_failed', ...checked, reason: `${reason}; rollback failed: ${problems.join('; ')}`.slice(0, 4000)})
    event('switch.rollback_failed', actor, {switch_id: id, reason, problems})
    event('notification.requested', 'watch', {source: 'watch', severity: 'critical', title: `switch ${id}: rollback failed`, message: problems.join('; ').slice(0, 2000)})
    return done
  }

  /** Step 4, one tick: run the checks, count the streak, and decide at the threshold or the deadline. Resolves true when probation is over. */
  const tick = async (id: string): Promise<boolean> => {
    const session = load(id)
    if (session.status !== 'probation') return true
    const results = unlessStopping(await runChecks(session))
    const at = now()
    const ok = results.every((r) => r.ok)
    const inGrace = at < Date.parse(session.activated_at as string) + session.grace_secs * 1000
    const failures = ok ? 0 : inGrace ? session.consecutive_failures : session.consecutive_failures + 1
    update(id, {consecutive_failures: failures, last_check_at: iso(at), last_check_results: results})
    const failing = results.filter((r) => !r.ok).map((r) => r.detail)
    if (!ok && !inGrace && failures === 1) event('switch.check_failed', 'watch', {switch_id: id, failures: failing})
    if (failures >= session.failure_threshold) {
      await rollbackLocked(id, `health checks failed ${failures} consecutive time(s): ${failing.join('; ')}`.slice(0, 2000), 'watch')
      return true
    }
    if (at >= Date.parse(session.probation_ends_at as string)) {
      if (ok) await commitLocked(id, 'watch')
      else await rollbackLocked(id, `probation ended with failing checks: ${failing.join('; ')}`.slice(0, 2000), 'watch')
      return true
    }
    return false
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms))
      function done() {
        clearTimeout(timer)
        stopping.signal.removeEventListener('abort', done)
        resolve()
      }
      stopping.signal.addEventListener('abort', done, {once: true})
    })

  const probation = (id: string) =>
    track(
      (async () => {
        while (!stopping.signal.aborted) {
          const session = store.get(id)
          if (session?.status !== 'probation') return
          const ends = Date.parse(session.probation_ends_at as string)
          const last = Date.parse(session.last_check_at ?? (session.activated_at as string))
          await sleep(Math.min(last + session.check_interval_secs * 1000, ends) - now())
          if (stopping.signal.aborted) return
          if (await serialize(() => tick(id))) return
        }
      })(),
    )

  const guardedRun = async (id: string, dryRun: boolean): Promise<SwitchSession> => {
    try {
      return await buildAndActivate(id, dryRun)
    } catch (error) {
      if (error instanceof StoppingError) throw error
      const status = store.get(id)?.status
      log.error('switch step failed', {switch_id: id, status, error: (error as Error).message})
      if (status === 'building') return fail(id, `internal error: ${(error as Error).message}`)
      if (status === 'activating') return rollbackLocked(id, `internal error during activation: ${(error as Error).message}`, 'watch')
      throw error
    }
  }

  return {
    /** Runs a freshly persisted session to probation (or failure) and then watches it. */
    start(id: string, options: {dryRun: boolean}): void {
      track(serialize(() => guardedRun(id, options.dryRun)).then((s) => s.status === 'probation' && probation(id)))
    },

    commitByRequest(id: string, ctx: Pick<RequestContext, 'role' | 'actor'>): Promise<SwitchSession> {
      return serialize(async () => {
        const session = load(id)
        if (session.status !== 'probation') throw wrongState(session, 'commit')
        const passed = session.last_check_at !== null && session.last_check_results.every((r) => r.ok)
        if (ctx.role === 'agent' && !passed) {
          throw new OsmodaError('PRECONDITION_FAILED', `the last probation check of ${id} ${session.last_check_at ? 'failed' : 'has not run yet'}; the agent may only commit after a passing check`, {
            details: {state: session.status, last_check_at: session.last_check_at},
            hint: 'wait for the next passing tick (safe_switch_status), or let probation end',
          })
        }
        return commitLocked(id, ctx.actor)
      })
    },

    rollbackByRequest(id: string, reason: string, ctx: Pick<RequestContext, 'actor'>): Promise<SwitchSession> {
      return serialize(async () => {
        const session = load(id)
        if (session.status !== 'probation') throw wrongState(session, 'roll back')
        return rollbackLocked(id, reason, ctx.actor)
      })
    },

    /** Step 7: a session left active by a previous watch continues from its persisted state. */
    async resume(): Promise<void> {
      const session = store.active()
      if (!session) return
      const id = session.id
      log.info('resuming switch', {switch_id: id, status: session.status})
      if (session.status === 'building') {
        track(
          serialize(async () => {
            restoreEdits(store.getPrivate(id).originals ?? [])
            return fail(id, 'watch restarted during the build')
          }),
        )
      } else if (session.status === 'activating' || session.status === 'rolling_back') {
        track(
          serialize(async () => {
            // The previous watch's activation (or rollback) may still be running: it must not finish after ours.
            const mutation = store.getPrivate(id).mutation
            if (mutation) log.info('stopping the interrupted mutation', {switch_id: id, result: await stopMutation(mutation)})
            return rollbackLocked(id, session.status === 'activating' ? 'watch restarted during activation' : (session.reason ?? 'watch restarted during rollback'), 'watch')
          }),
        )
      } else if (session.status === 'probation') {
        const current = await resolveSystem(deps.settings().currentSystemLink)
        if (session.target.type === 'nixos' && current !== session.target_system) {
          update(id, {status: 'rolled_back', reason: 'reboot_during_probation', ended_at: iso(now())})
          event('switch.rolled_back', 'watch', {switch_id: id, reason: 'reboot_during_probation', previous_system: session.previous_system, current_system: current})
          return
        }
        event('switch.resumed', 'watch', {switch_id: id, probation_ends_at: session.probation_ends_at, consecutive_failures: session.consecutive_failures})
        probation(id)
      }
    },

    /** Stops the probation timers and waits (briefly) for a transition in progress. */
    async stop(): Promise<void> {
      stopping.abort()
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.allSettled([...tasks]), new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))])
      clearTimeout(timer)
    },
  }
}

/** Thrown out of a transition interrupted by watch stopping; the persisted state stays as it was. */
class StoppingError extends Error {
  constructor() {
    super('watch is stopping')
  }
}

function wrongState(session: SwitchSession, action: string): OsmodaError {
  return new ConflictError(`switch ${session.id} is ${session.status}; cannot ${action} it`, {details: {state: session.status}, hint: session.status === 'probation' ? undefined : 'only a session in probation can be committed or rolled back'})
}
