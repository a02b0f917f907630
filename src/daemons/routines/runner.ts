import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import type {Action, Run} from './api.js'
import {runAction} from './actions/index.js'
import type {AgentdClient, Severity} from './actions/context.js'
import type {HostDeps} from './actions/host.js'
import type {RoutinesConfig} from './config.js'
import type {Definition} from './definitions.js'
import type {Clock} from './schedule.js'
import type {RoutinesStore} from './store.js'

/** Dependencies of the run executor. */
export interface RunnerDeps {
  store: RoutinesStore
  ledger: Ledger
  clock: Clock
  config: () => RoutinesConfig
  agentd: () => AgentdClient
  host: HostDeps
  log: Logger
  newId: (prefix: string) => string
  /** Called when a run ends (the scheduler re-arms interval routines). */
  onFinished?: (routineId: string) => void
}

/** A run that was started (or recorded as skipped). */
export interface Launched {
  runId: string
  done: Promise<Run>
}

/** The deadline of an action in ms (SPEC §2.4 `commandTimeout`, `webhookTimeoutSecs`). */
export function actionTimeoutMs(action: Action, config: RoutinesConfig): number {
  if (action.type === 'command') return Math.min(action.timeout_secs ?? config.commandTimeout.defaultSecs, config.commandTimeout.maxSecs) * 1000
  if (action.type === 'webhook') return config.webhookTimeoutSecs * 1000
  return config.commandTimeout.defaultSecs * 1000
}

const iso = (ms: number): string => new Date(ms).toISOString()

function capText(text: string, capBytes: number): string {
  if (Buffer.byteLength(text) <= capBytes) return text
  const marker = '…[truncated]'
  return Buffer.from(text).subarray(0, capBytes - Buffer.byteLength(marker)).toString('utf8').replace(/\uFFFD+$/, '') + marker
}

/**
 * Starts runs: never two of one routine at once (the second is recorded `skipped`), at most
 * `maxConcurrent` overall, each under its action's deadline; history, counters and
 * `routine.ran` are written when it ends.
 */
export function createRunner(deps: RunnerDeps) {
  const running = new Map<string, {controller: AbortController; done: Promise<Run>}>()
  const stopping = new AbortController()

  const skip = (def: Definition, trigger: Run['trigger'], eventSeq: number | null, reason: string): Launched => {
    const runId = deps.newId('run')
    const at = iso(deps.clock.now())
    deps.store.recordSkipped({id: runId, routineId: def.id, trigger, at, reason, eventSeq}, deps.config().historyPerRoutine)
    deps.ledger.append({type: 'routine.ran', actor: 'routines', payload: {routine_id: def.id, run_id: runId, trigger, status: 'skipped', duration_ms: 0}})
    return {runId, done: Promise.resolve(deps.store.getRun(runId) as Run)}
  }

  const launch = (def: Definition, trigger: Run['trigger'], eventSeq: number | null = null): Launched => {
    const config = deps.config()
    if (running.has(def.id)) return skip(def, trigger, eventSeq, 'the previous run of this routine is still going (no self-overlap)')
    if (running.size >= config.maxConcurrent) return skip(def, trigger, eventSeq, `maxConcurrent: ${config.maxConcurrent} routines are already running`)
    const runId = deps.newId('run')
    const startedMs = deps.clock.now()
    deps.store.startRun({id: runId, routineId: def.id, trigger, startedAt: iso(startedMs), eventSeq})
    const controller = new AbortController()
    const timeoutMs = actionTimeoutMs(def.action, config)
    const done = execute(def, runId, controller, timeoutMs, startedMs, trigger).finally(() => {
      running.delete(def.id)
      deps.onFinished?.(def.id)
    })
    running.set(def.id, {controller, done})
    return {runId, done}
  }

  const execute = async (def: Definition, runId: string, controller: AbortController, timeoutMs: number, startedMs: number, trigger: Run['trigger']): Promise<Run> => {
    const config = deps.config()
    const onStop = () => controller.abort()
    stopping.signal.addEventListener('abort', onStop, {once: true})
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, timeoutMs)
    const memoKey = (key: string) => `routine:${def.id}:${key}`
    const ctx = {
      routineId: def.id,
      routineName: def.name,
      agentd: deps.agentd(),
      config,
      signal: controller.signal,
      timeoutMs,
      now: () => deps.clock.now(),
      log: deps.log,
      memo: {get: (key: string) => deps.store.get(memoKey(key)), set: (key: string, value: string) => deps.store.set(memoKey(key), value)},
      headers: () => {
        // Values a human wrote into routines.json, overridden by the write-only ones in routines.db.
        const inFile = def.action.type === 'webhook' ? Object.entries(def.action.headers ?? {}).filter(([, v]) => v !== '[write-only]') : []
        return {...Object.fromEntries(inFile), ...(JSON.parse(deps.store.secret(def.id, 'webhook_headers') ?? '{}') as Record<string, string>)}
      },
      notify: (severity: Severity, title: string, message: string) => {
        deps.ledger.append({type: 'notification.requested', actor: 'routines', payload: {source: `routine:${def.id}`, severity, title: `${def.name}: ${title}`.slice(0, 200), message: message.slice(0, 2000)}})
      },
    }
    let status: Run['status']
    let output = ''
    let error: string | null = null
    try {
      const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(new Error('aborted')), {once: true}))
      const outcome = await Promise.race([runAction(def.action, ctx, deps.host), aborted])
      status = timedOut ? 'timeout' : outcome.status
      output = JSON.stringify(outcome.output)
      error = timedOut ? `timed out after ${timeoutMs / 1000} s` : (outcome.error ?? null)
    } catch (caught) {
      status = timedOut ? 'timeout' : 'error'
      const err = caught as Error & {code?: string}
      error = timedOut ? `timed out after ${timeoutMs / 1000} s` : stopping.signal.aborted ? 'interrupted: routines is stopping' : `${err.code ? `${err.code}: ` : ''}${err.message}`
    } finally {
      clearTimeout(timer)
      stopping.signal.removeEventListener('abort', onStop)
    }
    const endedMs = deps.clock.now()
    deps.store.finishRun(runId, def.id, {endedAt: iso(endedMs), status, output: capText(output, config.outputCapBytes), error: error && capText(error, 2048)}, config.historyPerRoutine)
    deps.ledger.append({type: 'routine.ran', actor: 'routines', payload: {routine_id: def.id, run_id: runId, trigger, status, duration_ms: Math.max(0, endedMs - startedMs)}})
    if (status !== 'ok') deps.log.warn('routine run failed', {routine_id: def.id, run_id: runId, status, error})
    return deps.store.getRun(runId) as Run
  }

  return {
    launch,
    isRunning: (routineId: string): boolean => running.has(routineId),
    runningCount: (): number => running.size,
    /** Aborts every run and waits for their records. */
    async stop(): Promise<void> {
      stopping.abort()
      await Promise.allSettled([...running.values()].map((r) => r.done))
    },
  }
}

/** The run executor. */
export type Runner = ReturnType<typeof createRunner>
