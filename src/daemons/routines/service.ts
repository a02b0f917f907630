import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import {accessSync, constants, statSync} from 'node:fs'
import {ConflictError, NotFoundError, OsmodaError} from '../../lib/errors.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import {DEFAULT_ROUTINE_IDS, GATED_ACTIONS, type Action, type Run, type Trigger} from './api.js'
import {agentPromptUnavailable} from './actions/index.js'
import type {RoutinesConfig} from './config.js'
import {corruptError, defaultDefinitions, readDefinitions, writeDefinitions, type Definition} from './definitions.js'
import {matchesEvent, type LedgerEventLike} from './event-match.js'
import type {RoutineGate} from './gate.js'
import type {Runner} from './runner.js'
import {createTimers, nextRunAt, type Clock} from './schedule.js'
import type {RoutinesStore} from './store.js'

/** Dependencies of the routines service. */
export interface RoutinesServiceDeps {
  file: string
  config: () => RoutinesConfig
  store: RoutinesStore
  ledger: Ledger
  clock: Clock
  runner: Runner
  gate: RoutineGate
  log: Logger
  newId: (prefix: string) => string
  version: string
  startedAt: number
  random?: () => number
  /** Problems found outside the service (e.g. the ledger stream is down), shown in health. */
  problems?: () => string[]
}

type Caller = Pick<RequestContext, 'role' | 'actor'>
const WRITE_ONLY = '[write-only]'
const iso = (ms: number): string => new Date(ms).toISOString()

/** Everything routines does, free of HTTP: definitions, scheduling, runs, history. */
export function createRoutinesService(deps: RoutinesServiceDeps) {
  const {store, ledger, clock, runner, gate} = deps
  let routines = new Map<string, Definition>()
  let problem: string | null = null
  const timers = createTimers(clock)
  const lastEventFire = new Map<string, number>()

  // Scheduling -----------------------------------------------------------------------------------
  const schedule = (def: Definition): void => {
    timers.cancel(def.id)
    if (!def.enabled || (def.trigger.type !== 'cron' && def.trigger.type !== 'interval')) return
    const last = store.state(def.id).last_run_at
    const at = nextRunAt(def.trigger, last ? Date.parse(last) : null, clock.now(), deps.random)
    if (at !== null) timers.arm(def.id, at, fire)
  }
  const fire = (id: string): void => {
    const def = routines.get(id)
    if (!def?.enabled) return
    try {
      runner.launch(def, def.trigger.type as Run['trigger'])
    } catch (error) {
      // A failed start (e.g. the database is busy) must not stop the schedule.
      deps.log.error('routine could not start', {routine_id: id, error: (error as Error).message})
    }
    // Cron: the next matching minute. Interval: one period after this firing (run or skipped).
    if (def.trigger.type === 'cron') schedule(def)
    else if (def.trigger.type === 'interval') timers.arm(def.id, clock.now() + def.trigger.seconds * 1000, fire)
  }

  // Definitions ----------------------------------------------------------------------------------
  const persist = (next: Map<string, Definition>): void => {
    if (problem) throw corruptError(problem)
    const stored = [...next.values()].map(storedForm)
    writeDefinitions(deps.file, stored)
    routines = new Map(stored.map((d) => [d.id, d]))
  }
  const load = (): {changed: string[]} => {
    const read = readDefinitions(deps.file)
    if (!read.ok) {
      problem = read.problem
      deps.log.error('routines.json is unusable; keeping the previous routines and leaving the file untouched', {problem})
      return {changed: []}
    }
    problem = null
    const next = new Map(read.routines.map((r) => [r.id, r]))
    if (deps.config().installDefaults) {
      const missing = defaultDefinitions(iso(clock.now())).filter((d) => !next.has(d.id))
      for (const def of missing) next.set(def.id, def)
      if (missing.length || read.missing) writeDefinitions(deps.file, [...next.values()])
    }
    const changed = [...new Set([...routines.keys(), ...next.keys()])].filter((id) => JSON.stringify(routines.get(id)) !== JSON.stringify(next.get(id)))
    routines = next
    for (const id of changed) {
      const def = routines.get(id)
      if (def) schedule(def)
      else timers.cancel(id)
    }
    return {changed}
  }

  const view = (def: Definition) => {
    const state = store.state(def.id)
    return {
      id: def.id,
      name: def.name,
      trigger: def.trigger as Record<string, unknown>,
      action: publicAction(def.action),
      enabled: def.enabled,
      created_at: def.created_at,
      updated_at: def.updated_at,
      last_run_at: state.last_run_at,
      last_status: state.last_status,
      run_count: state.run_count,
      next_run_at: timers.at(def.id) === null ? null : iso(timers.at(def.id) as number),
    }
  }
  const find = (id: string): Definition => {
    const def = routines.get(id)
    if (!def) throw new NotFoundError(`no routine ${id}`, {hint: 'list them with `osmoda routine list`'})
    return def
  }

  const checkAction = (action: Action): void => {
    const config = deps.config()
    if (action.type === 'agent_prompt') throw agentPromptUnavailable()
    if (action.type === 'command') {
      if (action.timeout_secs !== undefined && action.timeout_secs > config.commandTimeout.maxSecs) {
        throw new OsmodaError('VALIDATION_FAILED', `timeout_secs ${action.timeout_secs} is over commandTimeout.maxSecs (${config.commandTimeout.maxSecs})`, {details: [`action.timeout_secs: at most ${config.commandTimeout.maxSecs}`]})
      }
      let executable = false
      try {
        accessSync(action.command, constants.X_OK)
        const info = statSync(action.command)
        // root passes access(X_OK) for files with no execute bit at all; execve would not.
        executable = info.isFile() && (info.mode & 0o111) !== 0
      } catch {
        executable = false
      }
      if (!executable) throw new OsmodaError('VALIDATION_FAILED', `${action.command} does not exist or is not an executable file`, {details: [`action.command: ${action.command} is not an executable file`]})
    }
  }
  const summaryOf = (verb: string, name: string, trigger: Trigger, action: Action): string => {
    const what = action.type === 'command' ? `command ${[action.command, ...action.args].join(' ')}` : action.type === 'webhook' ? `webhook ${action.method} ${action.url}` : action.type
    const when = trigger.type === 'cron' ? `cron "${trigger.expression}"` : trigger.type === 'interval' ? `every ${trigger.seconds} s` : trigger.type === 'event' ? `on ${trigger.event_type}` : 'on webhook'
    return `${verb} routine "${name}": ${what}, ${when} (runs as root)`.slice(0, 500)
  }

  return {
    /** Loads routines.json (installing the defaults) and arms the timers. */
    start(): void {
      const interrupted = store.markInterrupted(iso(clock.now()))
      if (interrupted) deps.log.warn('runs interrupted by the previous stop were marked as errors', {count: interrupted})
      load()
    },
    /** Re-reads routines.json; a corrupt file fails the reload and the previous set stays in force. */
    reload(): {changed: string[]} {
      const result = load()
      if (problem) throw new OsmodaError('CONFLICT', `reload kept the previous routines: ${problem}`, {details: {state: 'definitions_corrupt'}, hint: 'fix routines.json and reload again'})
      return result
    },
    async stop(): Promise<void> {
      timers.cancelAll()
      await runner.stop()
    },
    health() {
      const defs = [...routines.values()]
      const next = defs.map((d) => timers.at(d.id)).filter((t): t is number => t !== null)
      const problems = [...(problem ? [problem] : []), ...(deps.problems?.() ?? [])]
      return {
        status: problems.length ? ('degraded' as const) : ('ok' as const),
        daemon: 'routines',
        version: deps.version,
        pid: process.pid,
        uptime_secs: Math.round((Date.now() - deps.startedAt) / 1000),
        ...(problems.length ? {problems} : {}),
        routine_count: defs.length,
        enabled_count: defs.filter((d) => d.enabled).length,
        running: runner.runningCount(),
        next_run_at: next.length ? iso(Math.min(...next)) : null,
      }
    },

    async add(input: {name: string; trigger: Trigger; action: Action; enabled: boolean; approval_id?: string}, caller: Caller) {
      checkAction(input.action)
      if (problem) throw corruptError(problem)
      if ([...routines.values()].some((r) => r.name === input.name)) throw new OsmodaError('ALREADY_EXISTS', `a routine named "${input.name}" exists`, {hint: 'pick another name or update the existing routine'})
      const {approval_id, ...body} = input
      await gate.check({operation: 'routine_add', method: 'POST', path: '/routine/add', body, caller, summary: summaryOf('add', input.name, input.trigger, input.action), hint: GATED_ACTIONS.has(input.action.type) ? 'required' : 'not_required', approvalId: approval_id})
      const now = iso(clock.now())
      const def: Definition = {id: deps.newId('rtn'), name: input.name, trigger: input.trigger, action: input.action, enabled: input.enabled, created_at: now, updated_at: now}
      const secret = input.trigger.type === 'webhook' ? randomBytes(32).toString('hex') : null
      if (secret) store.setSecret(def.id, 'webhook_trigger', secret)
      if (def.action.type === 'webhook') store.setSecret(def.id, 'webhook_headers', JSON.stringify(def.action.headers ?? {}))
      persist(new Map([...routines, [def.id, def]]))
      schedule(def)
      ledger.append({type: 'routine.added', actor: caller.actor, payload: {routine_id: def.id, name: def.name, trigger: def.trigger, action_type: def.action.type}})
      return {...view(def), ...(secret ? {webhook_secret: secret} : {})}
    },

    list(filter: {enabled?: boolean}) {
      return {routines: [...routines.values()].filter((d) => filter.enabled === undefined || d.enabled === filter.enabled).map(view)}
    },

    get(id: string) {
      const def = find(id)
      return {...view(def), runs: store.listRuns({routineId: id, limit: 10})}
    },

    async update(input: {id: string; name?: string; trigger?: Trigger; action?: Action; enabled?: boolean; approval_id?: string}, caller: Caller) {
      const current = find(input.id)
      if (input.action) checkAction(input.action)
      if (problem) throw corruptError(problem)
      if (input.name !== undefined && input.name !== current.name && [...routines.values()].some((r) => r.name === input.name)) throw new OsmodaError('ALREADY_EXISTS', `a routine named "${input.name}" exists`)
      const {id, approval_id, ...body} = input
      const next: Definition = {...current, ...body, updated_at: iso(clock.now())}
      const disabling = input.enabled === false && current.enabled
      await gate.check({
        operation: disabling ? 'routine_disable' : 'routine_add',
        method: 'PATCH',
        path: `/routine/${id}`,
        body,
        caller,
        summary: summaryOf(disabling ? 'disable' : 'update', next.name, next.trigger, next.action),
        hint: disabling ? undefined : GATED_ACTIONS.has(next.action.type) ? 'required' : 'not_required',
        approvalId: approval_id,
      })
      if (input.action?.type === 'webhook') store.setSecret(id, 'webhook_headers', JSON.stringify(input.action.headers ?? {}))
      if (input.trigger?.type === 'webhook' && !store.secret(id, 'webhook_trigger')) store.setSecret(id, 'webhook_trigger', randomBytes(32).toString('hex'))
      persist(new Map([...routines, [id, next]]))
      schedule(next)
      ledger.append({type: 'routine.updated', actor: caller.actor, payload: {routine_id: id, changed: Object.keys(body).sort(), enabled: next.enabled}})
      return view(next)
    },

    async remove(input: {id: string; approval_id?: string}, caller: Caller) {
      const def = find(input.id)
      if (problem) throw corruptError(problem)
      await gate.check({operation: 'routine_remove', method: 'DELETE', path: `/routine/${def.id}`, body: {}, caller, summary: `remove routine "${def.name}" (${def.id})`, approvalId: input.approval_id})
      const next = new Map(routines)
      next.delete(def.id)
      persist(next)
      timers.cancel(def.id)
      store.forget(def.id)
      ledger.append({type: 'routine.removed', actor: caller.actor, payload: {routine_id: def.id, name: def.name}})
      if ((DEFAULT_ROUTINE_IDS as readonly string[]).includes(def.id) && deps.config().installDefaults) deps.log.warn('a default routine was removed; it is re-created at the next start (disable it instead)', {id: def.id})
      return {removed: def.id}
    },

    async trigger(input: {id: string; wait: boolean}) {
      const def = find(input.id)
      if (runner.isRunning(def.id)) throw new ConflictError(`routine ${def.id} is running`, {details: {state: 'running'}, hint: 'wait for the current run; see `osmoda routine history`'})
      const launched = runner.launch(def, 'manual')
      if (!input.wait) return {run_id: launched.runId}
      const run = await launched.done
      return {run_id: run.id, ...run}
    },

    webhook(input: {id: string; body_base64: string; signature: string}) {
      const def = find(input.id)
      if (def.trigger.type !== 'webhook') throw new ConflictError(`routine ${def.id} is not triggered by webhooks`, {details: {state: def.trigger.type}})
      const secret = store.secret(def.id, 'webhook_trigger')
      const body = Buffer.from(input.body_base64, 'base64')
      if (body.length > 256 * 1024) throw new OsmodaError('PAYLOAD_TOO_LARGE', 'webhook body is over 256 KiB')
      const want = Buffer.from(`sha256=${secret ? createHmac('sha256', secret).update(body).digest('hex') : ''}`)
      const got = Buffer.from(input.signature)
      if (!secret || want.length !== got.length || !timingSafeEqual(want, got)) throw new OsmodaError('UNAUTHENTICATED', 'webhook signature does not match', {hint: 'sign the raw body with the secret returned at creation: sha256=<hex HMAC-SHA256>'})
      if (!def.enabled) throw new ConflictError(`routine ${def.id} is disabled`, {details: {state: 'disabled'}})
      return {run_id: runner.launch(def, 'webhook').runId}
    },

    history(query: {routine_id?: string; status?: string; limit: number; cursor?: string}) {
      const runs = store.listRuns({routineId: query.routine_id, status: query.status, limit: query.limit + 1, before: query.cursor})
      const page = runs.slice(0, query.limit)
      return {runs: page, next_cursor: runs.length > query.limit ? (page.at(-1)?.id ?? null) : null}
    },

    /** Feeds one ledger event to the event-triggered routines (leading edge, then debounce). */
    onEvent(event: LedgerEventLike): void {
      for (const def of routines.values()) {
        if (!def.enabled || def.trigger.type !== 'event') continue
        // What a routine itself caused (its routine.ran, its notifications) must not re-trigger it.
        if (event.actor === 'routines' && (event.payload.routine_id === def.id || event.payload.source === `routine:${def.id}`)) continue
        if (!matchesEvent(def.trigger, event)) continue
        const last = lastEventFire.get(def.id)
        if (last !== undefined && clock.now() - last < def.trigger.debounce_secs * 1000) continue
        lastEventFire.set(def.id, clock.now())
        runner.launch(def, 'event', event.seq)
      }
    },
    /** True when some enabled routine listens to ledger events. */
    hasEventRoutines(): boolean {
      return [...routines.values()].some((d) => d.enabled && d.trigger.type === 'event')
    },
  }

  /** What routines.json holds: webhook header values are replaced (routines.db keeps them). */
  function storedForm(def: Definition): Definition {
    if (def.action.type !== 'webhook' || !def.action.headers) return def
    return {...def, action: {...def.action, headers: Object.fromEntries(Object.keys(def.action.headers).map((k) => [k, WRITE_ONLY]))}}
  }
}

/** A webhook action's header values are write-only: reads show the names. */
function publicAction(action: Action): Record<string, unknown> {
  if (action.type !== 'webhook' || !action.headers) return action
  return {...action, headers: Object.fromEntries(Object.keys(action.headers).map((k) => [k, WRITE_ONLY]))}
}

/** The routines service. */
export type RoutinesService = ReturnType<typeof createRoutinesService>
