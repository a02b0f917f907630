import type {z} from 'zod'
import {NotFoundError, UsageError} from '../../lib/errors.js'
import {which} from '../../lib/exec/which.js'
import {runHealthCheck, type CheckOutcome} from '../../lib/health-checks.js'
import {createIdGenerator} from '../../lib/ids.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import type {WatchConfig} from './config.js'
import type {SwitchGate} from './gate.js'
import {addNeedsApproval, backoffSecs, defaultLadder, runWatcherAction, type RollbackPort} from './watcher-actions.js'
import type {Watcher, WatcherAction, WatcherAddInput, WatcherState} from './watcher-api.js'
import type {StoredResult, WatcherPrivate, WatcherStore} from './watcher-store.js'

type Caller = Pick<RequestContext, 'role' | 'actor'>
type AddInput = z.output<typeof WatcherAddInput>

/** Time as the watchers see it: injectable so tests drive the ladder without real sleeps. */
export interface WatcherClock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The wall clock and Node's timers. */
export const realClock: WatcherClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms)
    timer.unref()
    return timer
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/** What the watcher service needs. */
export interface WatcherServiceDeps {
  store: WatcherStore
  ledger: Ledger
  log: Logger
  settings: () => WatchConfig
  gate: SwitchGate
  rollback: RollbackPort
  clock?: WatcherClock
  /** Uniform in [0, 1): the timer jitter. */
  random?: () => number
}

const iso = (ms: number) => new Date(ms).toISOString()
const RESULTS_SHOWN = 20

/**
 * Autopilot watchers (SPEC §2.3): each runs its check on its own timer (interval ±10 % jitter) and
 * climbs its escalation ladder while the check keeps failing: step k waits backoff(k) since the
 * previous action (or the first failure), restart_service/command repeat up to restartAttempts,
 * rollback_generation runs at most once per episode, after the last step the watcher is escalated.
 * Passing for stable_secs makes it healthy again; more than breaker.maxActions actions in
 * breaker.windowSecs open the circuit breaker. Every transition is persisted and ledgered.
 */
export function createWatcherService(deps: WatcherServiceDeps) {
  const {store, ledger, log} = deps
  const clock = deps.clock ?? realClock
  const random = deps.random ?? Math.random
  const newId = createIdGenerator({clock: clock.now})
  const timers = new Map<string, unknown>()
  const locks = new Map<string, Promise<unknown>>()
  const running = new Set<Promise<unknown>>()
  const stopping = new AbortController()

  const event = (type: string, actor: string, payload: Record<string, unknown>) => ledger.append({type, actor, payload})
  const load = (id: string) => {
    const entry = store.get(id)
    if (!entry) throw new NotFoundError(`no watcher ${id}`, {hint: 'list watchers with osmoda watcher list'})
    return entry
  }
  /** Runs fn after every earlier operation on the same watcher (ticks, resets, removals). */
  const withLock = <T>(id: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(id) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const settled = run.catch(() => {})
    locks.set(id, settled)
    running.add(settled)
    void settled.finally(() => {
      running.delete(settled)
      if (locks.get(id) === settled) locks.delete(id)
    })
    return run
  }

  const schedule = (id: string, intervalSecs: number) => {
    if (stopping.signal.aborted) return
    const existing = timers.get(id)
    if (existing !== undefined) clock.clearTimeout(existing)
    const delay = Math.round(intervalSecs * 1000 * (0.9 + 0.2 * random()))
    timers.set(
      id,
      clock.setTimeout(() => {
        timers.delete(id)
        void withLock(id, () => tick(id)).catch((error: unknown) => {
          // A tick that threw (the ledger or database refused a write) must not end the watcher's timer.
          log.error('watcher tick failed', {watcher_id: id, error: (error as Error).message})
          const entry = store.get(id)
          if (entry && !timers.has(id)) schedule(id, entry.watcher.interval_secs)
        })
      }, delay),
    )
  }
  const unschedule = (id: string) => {
    const existing = timers.get(id)
    if (existing !== undefined) clock.clearTimeout(existing)
    timers.delete(id)
  }

  const runAction = (watcher: Watcher, secret: WatcherPrivate, action: WatcherAction) =>
    runWatcherAction({settings: deps.settings, rollback: deps.rollback, event, signal: stopping.signal}, watcher, secret, action)

  async function climb(watcher: Watcher, secret: WatcherPrivate, t: number): Promise<void> {
    const config = deps.settings().watcher
    const escalate = () => {
      watcher.state = 'escalated'
      event('watcher.escalated', 'watch', {watcher_id: watcher.id, name: watcher.name, steps: watcher.actions.length, detail: watcher.last_result?.detail ?? ''})
    }
    if (watcher.step >= watcher.actions.length) return escalate()
    const since = secret.last_action_at ?? secret.failing_since ?? t
    if (t - since < backoffSecs(secret.episode_actions ?? 0, config.backoff) * 1000) return
    const action = watcher.actions[watcher.step]
    if (!action) return escalate()
    const times = secret.action_times ?? []
    if (action.type !== 'rollback_generation' || !secret.rollback_done) {
      // One more action would be more than maxActions in the window: open the breaker instead.
      if (times.length >= config.breaker.maxActions) {
        watcher.state = 'breaker_open'
        secret.breaker_opened_at = t
        const until = iso(t + config.breaker.windowSecs * 1000)
        event('watcher.breaker_opened', 'watch', {watcher_id: watcher.id, name: watcher.name, actions_in_window: times.length, window_secs: config.breaker.windowSecs, until})
        event('notification.requested', 'watch', {
          source: 'watch',
          severity: 'critical',
          title: `watcher ${watcher.name}: circuit breaker open`,
          message: `${times.length} actions within ${config.breaker.windowSecs} s; no more actions until ${until} or osmoda watcher reset ${watcher.id}`,
        })
        return
      }
    }
    const outcome = await runAction(watcher, secret, action)
    const done = clock.now()
    event('watcher.action_taken', 'watch', {watcher_id: watcher.id, action: action.type, ok: outcome.ok, detail: outcome.detail, step: watcher.step, ...(outcome.skipped ? {skipped: true} : {})})
    if (outcome.skipped) {
      watcher.step++
    } else {
      secret.action_times = [...times, done]
      secret.last_action_at = done
      secret.episode_actions = (secret.episode_actions ?? 0) + 1
      watcher.last_action = {type: action.type, ok: outcome.ok, at: iso(done)}
      if (action.type === 'restart_service' || action.type === 'command') {
        secret.step_attempts = (secret.step_attempts ?? 0) + 1
        if (secret.step_attempts >= config.restartAttempts) {
          watcher.step++
          secret.step_attempts = 0
        }
      } else {
        watcher.step++
      }
    }
    if (watcher.step >= watcher.actions.length) escalate()
  }

  async function tick(id: string): Promise<void> {
    const entry = store.get(id)
    if (!entry) return
    const {watcher, secret} = entry
    const config = deps.settings()
    const outcome: CheckOutcome = await runHealthCheck(watcher.check, config.checkTimeouts, stopping.signal)
    if (stopping.signal.aborted) return
    const t = clock.now()
    const windowMs = config.watcher.breaker.windowSecs * 1000
    watcher.last_result = {ok: outcome.ok, detail: outcome.detail, at: iso(t)}
    secret.action_times = (secret.action_times ?? []).filter((at) => at > t - windowMs)
    watcher.consecutive_failures = outcome.ok ? 0 : watcher.consecutive_failures + 1

    if (watcher.state === 'breaker_open') {
      if (outcome.ok) secret.passing_since ??= t
      else secret.passing_since = null
      if (t - (secret.breaker_opened_at ?? t) < windowMs) return persist(watcher, secret, outcome, t)
      secret.breaker_opened_at = null
      event('watcher.breaker_closed', 'watch', {watcher_id: watcher.id, name: watcher.name, reason: 'window_passed'})
      watcher.state = outcome.ok ? 'recovering' : 'degraded'
    }

    if (outcome.ok) {
      if (watcher.state === 'degraded' || watcher.state === 'escalated') {
        watcher.state = 'recovering'
        secret.passing_since = t
      }
      if (watcher.state === 'recovering' && t - (secret.passing_since ?? t) >= watcher.stable_secs * 1000) {
        watcher.state = 'healthy'
        event('watcher.recovered', 'watch', {watcher_id: watcher.id, name: watcher.name, stable_secs: watcher.stable_secs, episode_actions: secret.episode_actions ?? 0})
        clearEpisode(watcher, secret)
      }
    } else {
      secret.passing_since = null
      if (watcher.state === 'healthy') {
        watcher.state = 'degraded'
        clearEpisode(watcher, secret)
        secret.failing_since = t
        event('watcher.degraded', 'watch', {watcher_id: watcher.id, name: watcher.name, detail: outcome.detail})
      } else if (watcher.state === 'recovering') {
        watcher.state = 'degraded'
      }
      if (watcher.state === 'degraded') await climb(watcher, secret, t)
    }
    persist(watcher, secret, outcome, t)
  }

  function persist(watcher: Watcher, secret: WatcherPrivate, outcome: CheckOutcome, t: number): void {
    watcher.actions_in_window = (secret.action_times ?? []).length
    const result: StoredResult = {ok: outcome.ok, detail: outcome.detail, duration_ms: outcome.duration_ms, at: iso(t), state: watcher.state}
    // A watcher removed while its check ran is not written back and not rescheduled.
    if (store.save(watcher, secret, result)) schedule(watcher.id, watcher.interval_secs)
  }

  return {
    async add(input: AddInput, ctx: Caller): Promise<Watcher> {
      const {approval_id: approvalId, ...rest} = input
      const config = deps.settings()
      const actions = input.actions ?? defaultLadder(input.check, input.name)
      const missing: string[] = []
      if (input.check.type === 'command' && !(await which(input.check.command))) missing.push(`check.command: ${input.check.command} does not exist or is not executable`)
      for (const [i, a] of actions.entries()) if (a.type === 'command' && !(await which(a.command))) missing.push(`actions.${i}.command: ${a.command} does not exist or is not executable`)
      if (missing.length) throw new UsageError(`watcher refers to executables that do not exist: ${missing.join('; ')}`, {details: missing})
      // Checked again atomically by the insert; refusing here avoids asking for a useless approval.
      store.requireNameFree(input.name)
      // The validated request as sent (without approval_id): an approval asked for up front with
      // approval_request for this tool call digests the same body.
      const body = rest
      const gated = addNeedsApproval(input.check, actions)
      await deps.gate.check({
        operation: 'watcher_add',
        method: 'POST',
        path: '/watcher/add',
        body,
        ctx,
        summary: `watcher ${input.name}: ${input.check.type} check; ladder ${actions.map((a) => (a.type === 'command' ? `command ${a.command}` : a.type)).join(' → ')}`,
        hint: gated ? 'required' : 'not_required',
        approvalId,
      })
      const t = clock.now()
      const watcher: Watcher = {
        id: newId('wat'),
        name: input.name,
        check: input.check,
        interval_secs: input.interval_secs ?? config.watcher.intervalSecs,
        actions,
        stable_secs: input.stable_secs ?? config.watcher.stableSecs,
        state: 'healthy',
        step: 0,
        consecutive_failures: 0,
        last_result: null,
        last_action: null,
        actions_in_window: 0,
        created_at: iso(t),
        actor: ctx.actor,
      }
      store.insert(watcher)
      event('watcher.added', ctx.actor, {watcher_id: watcher.id, name: watcher.name, check: watcher.check, actions: watcher.actions})
      schedule(watcher.id, watcher.interval_secs)
      return watcher
    },

    list: (state?: WatcherState) => ({watchers: store.list(state)}),

    get(id: string) {
      const {watcher} = load(id)
      return {...watcher, results: store.results(id, RESULTS_SHOWN)}
    },

    async remove(id: string, approvalId: string | undefined, ctx: Caller): Promise<{removed: string}> {
      const {watcher} = load(id)
      await deps.gate.check({operation: 'watcher_remove', method: 'DELETE', path: `/watcher/${id}`, body: {id}, ctx, summary: `remove watcher ${watcher.name} (${id})`, approvalId})
      return withLock(id, async () => {
        unschedule(id)
        if (!store.remove(id)) throw new NotFoundError(`no watcher ${id}`)
        event('watcher.removed', ctx.actor, {watcher_id: id, name: watcher.name})
        return {removed: id}
      })
    },

    reset(id: string, ctx: Caller): Promise<Watcher> {
      load(id)
      return withLock(id, async () => {
        const {watcher, secret} = load(id)
        const previous = watcher.state
        watcher.state = 'healthy'
        watcher.consecutive_failures = 0
        clearEpisode(watcher, secret)
        secret.action_times = []
        secret.breaker_opened_at = null
        watcher.actions_in_window = 0
        store.save(watcher, secret)
        event('watcher.reset', ctx.actor, {watcher_id: id, name: watcher.name, previous_state: previous})
        schedule(id, watcher.interval_secs)
        return watcher
      })
    },

    /** Schedules every stored watcher (after a restart its persisted state carries on). */
    start(): void {
      for (const watcher of store.list()) schedule(watcher.id, watcher.interval_secs)
    },

    /** Counts per state, for GET /health. */
    counts(): Record<WatcherState, number> & {total: number} {
      const counts = {healthy: 0, degraded: 0, recovering: 0, escalated: 0, breaker_open: 0, total: 0}
      for (const w of store.list()) {
        counts[w.state]++
        counts.total++
      }
      return counts
    },

    /** Resolves once every tick, reset and removal in progress has finished. */
    async idle(): Promise<void> {
      while (running.size) await Promise.all([...running])
    },

    async stop(): Promise<void> {
      stopping.abort()
      for (const id of [...timers.keys()]) unschedule(id)
      await Promise.all([...running])
    },
  }
}

function clearEpisode(watcher: Watcher, secret: WatcherPrivate): void {
  watcher.step = 0
  secret.failing_since = null
  secret.last_action_at = null
  secret.episode_actions = 0
  secret.step_attempts = 0
  secret.rollback_done = false
  secret.passing_since = null
}

/** The watcher service. */
export type WatcherService = ReturnType<typeof createWatcherService>
