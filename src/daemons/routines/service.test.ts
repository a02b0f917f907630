import {randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {OsmodaError} from '../../lib/errors.js'
import {createIdGenerator} from '../../lib/ids.js'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import {createLogger} from '../../lib/log.js'
import type {AgentdClient} from './actions/context.js'
import {realHost} from './actions/host.js'
import {RoutineAddInput} from './api.js'
import {RoutinesConfig} from './config.js'
import type {RoutineGate, RoutineGateRequest} from './gate.js'
import {createRunner} from './runner.js'
import type {Clock} from './schedule.js'
import {createRoutinesService} from './service.js'
import {createSecretBox} from './secret-box.js'
import {openRoutinesStore} from './store.js'

const BOX = createSecretBox(randomBytes(32))

/** A clock whose time only moves when the test says so; timers fire in time order. */
function fakeClock(startIso: string) {
  let now = Date.parse(startIso)
  let seq = 0
  const timers = new Map<number, {at: number; fn: () => void}>()
  const clock: Clock = {
    now: () => now,
    setTimer: (fn, ms) => {
      const id = ++seq
      timers.set(id, {at: now + ms, fn})
      return id
    },
    clearTimer: (handle) => void timers.delete(handle as number),
  }
  return {
    clock,
    pending: () => timers.size,
    /** Moves time forward, firing every due timer at its own time. */
    advance(ms: number) {
      const end = now + ms
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
        if (!due) break
        timers.delete(due[0])
        now = Math.max(now, due[1].at)
        due[1].fn()
      }
      now = end
    },
  }
}

const quiet = createLogger({level: 'error'})
let dir: string
let ledger: Ledger

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-routines-service-'))
  ledger = openLedger(join(dir, 'ledger.db'))
})
afterEach(() => {
  ledger.close()
  rmSync(dir, {recursive: true, force: true})
})

function recordingGate(mode: 'allow' | 'require' = 'allow') {
  const calls: RoutineGateRequest[] = []
  const gate: RoutineGate = {
    async check(request) {
      calls.push(request)
      if (request.caller.role === 'operator' || mode === 'allow') return
      throw new OsmodaError('APPROVAL_REQUIRED', 'needs approval', {details: {approval_id: 'apr_01JTEST0000000000000000000', expires_at: 'x', operation: request.operation, summary: request.summary}})
    },
  }
  return {gate, calls}
}

function make(options: {clock: Clock; config?: Partial<RoutinesConfig>; gate?: RoutineGate}) {
  const config = RoutinesConfig.parse({installDefaults: false, ...options.config})
  const store = openRoutinesStore(join(dir, 'routines', 'routines.db'), BOX)
  const newId = createIdGenerator({clock: options.clock.now})
  const runner = createRunner({store, ledger, clock: options.clock, config: () => config, agentd: () => ({}) as AgentdClient, host: realHost(), log: quiet, newId})
  const service = createRoutinesService({file: join(dir, 'routines', 'routines.json'), config: () => config, store, ledger, clock: options.clock, runner, gate: options.gate ?? recordingGate().gate, log: quiet, newId, version: '0', startedAt: Date.now(), random: () => 0.5})
  service.start()
  return {
    service,
    store,
    async close() {
      await service.stop()
      store.close()
    },
  }
}

const OP = {role: 'operator' as const, actor: 'operator:test'}
const AGENT = {role: 'agent' as const, actor: 'agent:ops'}
const add = (input: unknown) => RoutineAddInput.parse(input)
const settle = () => new Promise((r) => setTimeout(r, 50))

describe('routines scheduling under a controllable clock', () => {
  it('fires a cron routine at exactly the matching minutes and never catches up after a restart', async () => {
    // Given a routine "at minutes 0 and 30 of hours 9-10" and a clock at 08:50
    const time = fakeClock('2026-11-26T08:50:00.000Z')
    const first = make({clock: time.clock})
    const routine = await first.service.add(add({name: 'half-hourly', trigger: {type: 'cron', expression: '0,30 9-10 * * *'}, action: {type: 'command', command: '/bin/true'}}), OP)
    expect(routine.next_run_at).toBe('2026-11-26T09:00:00.000Z')
    // When 81 minutes pass, one at a time, until 10:11
    const fired: string[] = []
    for (let minute = 0; minute <= 80; minute++) {
      time.advance(60_000)
      await settle()
      const runs = first.service.history({routine_id: routine.id, limit: 500}).runs
      if (runs.length > fired.length) fired.push(new Date(time.clock.now()).toISOString())
    }
    // Then it ran at 09:00, 09:30 and 10:00 only
    expect(fired).toEqual(['2026-11-26T09:00:00.000Z', '2026-11-26T09:30:00.000Z', '2026-11-26T10:00:00.000Z'])
    const runs = first.service.history({routine_id: routine.id, limit: 10}).runs
    expect(runs.map((r) => [r.trigger, r.status, r.started_at])).toEqual([
      ['cron', 'ok', '2026-11-26T10:00:00.000Z'],
      ['cron', 'ok', '2026-11-26T09:30:00.000Z'],
      ['cron', 'ok', '2026-11-26T09:00:00.000Z'],
    ])
    await first.close()

    // When the daemon is down over 10:30 and restarts at 10:45
    time.advance(34 * 60_000)
    const second = make({clock: time.clock})
    // Then 10:30 is not caught up: the next run is at 09:00 tomorrow and the state survived
    const after = second.service.get(routine.id)
    expect(after.next_run_at).toBe('2026-11-27T09:00:00.000Z')
    expect(after.run_count).toBe(3)
    expect(after.last_status).toBe('ok')
    expect(after.last_run_at).toBe('2026-11-26T10:00:00.000Z')
    expect(after.runs).toHaveLength(3)
    await second.close()
  })

  it('runs an interval routine every period, resumes at last_run_at + seconds, and delays an overdue one by ≤ 30 s', async () => {
    const time = fakeClock('2026-11-26T12:00:00.000Z')
    const first = make({clock: time.clock})
    const routine = await first.service.add(add({name: 'every-minute', trigger: {type: 'interval', seconds: 60}, action: {type: 'command', command: '/bin/true'}}), OP)
    expect(routine.next_run_at).toBe('2026-11-26T12:01:00.000Z')
    time.advance(60_000)
    await settle()
    time.advance(20_000)
    await settle()
    await first.close()
    // Restart 20 s after the 12:01 run: next at 12:02 (last_run_at + 60 s)
    const second = make({clock: time.clock})
    expect(second.service.get(routine.id).next_run_at).toBe('2026-11-26T12:02:00.000Z')
    await second.close()
    // Restart 5 minutes later: overdue → now + random(0..30 s) (random pinned at 0.5 → 15 s)
    time.advance(5 * 60_000)
    const third = make({clock: time.clock})
    expect(third.service.get(routine.id).next_run_at).toBe(new Date(time.clock.now() + 15_000).toISOString())
    await third.close()
  })
})

describe('routines runs', () => {
  it('never overlaps a routine with itself: the second run is recorded as skipped', async () => {
    const time = fakeClock('2026-11-26T12:00:00.000Z')
    const {service, close} = make({clock: time.clock})
    const routine = await service.add(add({name: 'slow', trigger: {type: 'webhook'}, action: {type: 'command', command: '/bin/sleep', args: ['1']}}), OP)
    const first = service.trigger({id: routine.id, wait: true})
    await settle()
    await expect(service.trigger({id: routine.id, wait: false})).rejects.toMatchObject({code: 'CONFLICT'})
    expect(await first).toMatchObject({status: 'ok'})
    await close()
  })

  it('times a command out and records status timeout', async () => {
    const time = fakeClock('2026-11-26T12:00:00.000Z')
    const {service, close} = make({clock: time.clock})
    const routine = await service.add(add({name: 'hang', trigger: {type: 'webhook'}, action: {type: 'command', command: '/bin/sleep', args: ['30'], timeout_secs: 1}}), OP)
    const started = Date.now()
    const run = await service.trigger({id: routine.id, wait: true})
    expect(Date.now() - started).toBeLessThan(6000)
    expect(run).toMatchObject({status: 'timeout', error: expect.stringMatching(/timed out after 1 s/)})
    const [event] = ledger.query({type: 'routine.ran', limit: 1, order: 'desc'})
    expect(event?.payload).toMatchObject({routine_id: routine.id, status: 'timeout', trigger: 'manual'})
    await close()
  })

  it('records a timer firing during a run as skipped (no self-overlap)', async () => {
    const time = fakeClock('2026-11-26T12:00:00.000Z')
    const {service, close} = make({clock: time.clock})
    const routine = await service.add(add({name: 'long', trigger: {type: 'interval', seconds: 10}, action: {type: 'command', command: '/bin/sleep', args: ['1']}}), OP)
    time.advance(10_000)
    time.advance(10_000)
    await new Promise((r) => setTimeout(r, 1500))
    const runs = service.history({routine_id: routine.id, limit: 10}).runs
    expect(runs.map((r) => r.status).sort()).toEqual(['ok', 'skipped'])
    expect(runs.find((r) => r.status === 'skipped')?.error).toMatch(/still going/)
    await close()
  })

  it('keeps a corrupt routines.json untouched, reports degraded, refuses changes, and recovers on reload', async () => {
    const time = fakeClock('2026-11-26T12:00:00.000Z')
    const file = join(dir, 'routines', 'routines.json')
    const first = make({clock: time.clock, config: {installDefaults: true}})
    expect(first.service.list({}).routines.map((r) => r.id)).toEqual(['default-health', 'default-services', 'default-logscan', 'default-memory', 'default-generation', 'default-network'])
    await first.close()
    writeFileSync(file, '{"version": 1, "routines": [')
    const second = make({clock: time.clock, config: {installDefaults: true}})
    expect(second.service.health()).toMatchObject({status: 'degraded', routine_count: 0, problems: [expect.stringMatching(/not valid JSON/)]})
    await expect(second.service.add(add({name: 'x', trigger: {type: 'interval', seconds: 60}, action: {type: 'memory_maintenance'}}), OP)).rejects.toMatchObject({code: 'CONFLICT'})
    expect(readFileSync(file, 'utf8')).toBe('{"version": 1, "routines": [')
    writeFileSync(file, JSON.stringify({version: 1, routines: []}))
    second.service.reload()
    // A reload over a file broken again fails and keeps the set in force
    writeFileSync(file, '{"version": 2, "routines": []}')
    expect(() => second.service.reload()).toThrow(/kept the previous routines/)
    expect(second.service.list({}).routines).toHaveLength(6)
    expect(readFileSync(file, 'utf8')).toBe('{"version": 2, "routines": []}')
    writeFileSync(file, JSON.stringify({version: 1, routines: []}))
    second.service.reload()
    expect(second.service.health().status).toBe('ok')
    expect(second.service.list({}).routines).toHaveLength(6)
    await second.close()
  })
})

describe('event triggers', () => {
  it('fires on the leading edge, ignores matches inside the debounce window, and never on its own runs or notifications', async () => {
    const time = fakeClock('2026-11-26T12:00:00.000Z')
    const {service, close} = make({clock: time.clock})
    const routine = await service.add(add({name: 'on-any', trigger: {type: 'event', event_type: 'notification.*', debounce_secs: 30}, action: {type: 'command', command: '/bin/true'}}), OP)
    const runs = () => service.history({routine_id: routine.id, limit: 50}).runs
    service.onEvent({seq: 10, type: 'notification.requested', actor: 'watch', payload: {source: 'watch'}})
    await settle()
    service.onEvent({seq: 11, type: 'notification.requested', actor: 'watch', payload: {source: 'watch'}})
    expect(runs().map((r) => r.event_seq)).toEqual([10])
    time.advance(31_000)
    service.onEvent({seq: 12, type: 'notification.requested', actor: 'routines', payload: {source: `routine:${routine.id}`}})
    service.onEvent({seq: 13, type: 'routine.ran', actor: 'routines', payload: {routine_id: routine.id}})
    expect(runs()).toHaveLength(1)
    service.onEvent({seq: 14, type: 'notification.requested', actor: 'routines', payload: {source: 'routine:default-health'}})
    await settle()
    expect(runs().map((r) => [r.event_seq, r.trigger])).toEqual([[14, 'event'], [10, 'event']])
    await close()
  })
})

describe('routines approvals and write-only secrets', () => {
  it('gates an agent adding a command routine, not a built-in one; disabling and removing are gated', async () => {
    const time = fakeClock('2026-11-26T12:00:00.000Z')
    const {gate, calls} = recordingGate('require')
    const {service, close} = make({clock: time.clock, gate})
    await expect(service.add(add({name: 'c', trigger: {type: 'interval', seconds: 60}, action: {type: 'command', command: '/bin/true'}}), AGENT)).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    expect(calls.at(-1)).toMatchObject({operation: 'routine_add', method: 'POST', path: '/routine/add', hint: 'required', body: {name: 'c', enabled: true, action: {type: 'command', command: '/bin/true', args: []}}})
    expect(calls.at(-1)?.body).not.toHaveProperty('approval_id')
    expect(service.list({}).routines).toHaveLength(0)
    const mine = await service.add(add({name: 'h', trigger: {type: 'interval', seconds: 60}, action: {type: 'health_check'}}), OP)
    await expect(service.update({id: mine.id, enabled: false}, AGENT)).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    expect(calls.at(-1)).toMatchObject({operation: 'routine_disable', method: 'PATCH', path: `/routine/${mine.id}`, body: {enabled: false}})
    await expect(service.remove({id: mine.id}, AGENT)).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    expect(calls.at(-1)).toMatchObject({operation: 'routine_remove', method: 'DELETE'})
    expect(service.get(mine.id).enabled).toBe(true)
    await close()
  })

  it('keeps webhook header values out of routines.json and out of every read', async () => {
    const time = fakeClock('2026-11-26T12:00:00.000Z')
    const {service, close} = make({clock: time.clock})
    const routine = await service.add(add({name: 'hook', trigger: {type: 'interval', seconds: 60}, action: {type: 'webhook', url: 'https://hooks.example/x', headers: {Authorization: 'Bearer s3cret-value'}}}), OP)
    expect(JSON.stringify(routine)).not.toContain('s3cret-value')
    expect(JSON.stringify(service.list({}))).not.toContain('s3cret-value')
    expect(readFileSync(join(dir, 'routines', 'routines.json'), 'utf8')).not.toContain('s3cret-value')
    expect(routine.action).toMatchObject({headers: {Authorization: '[write-only]'}})
    expect(existsSync(join(dir, 'routines', 'routines.db'))).toBe(true)
    await close()
  })

  it('refuses agent_prompt (no gateway), missing and non-executable commands, and timeouts over the maximum', async () => {
    const time = fakeClock('2026-11-26T12:00:00.000Z')
    const {service, close} = make({clock: time.clock})
    const base = {trigger: {type: 'interval', seconds: 60}}
    await expect(service.add(add({...base, name: 'p', action: {type: 'agent_prompt', text: 'hi'}}), OP)).rejects.toMatchObject({code: 'FEATURE_DISABLED'})
    await expect(service.add(add({...base, name: 'm', action: {type: 'command', command: '/nonexistent/tool'}}), OP)).rejects.toMatchObject({code: 'VALIDATION_FAILED'})
    const notExecutable = join(dir, 'data.txt')
    writeFileSync(notExecutable, 'x', {mode: 0o644})
    await expect(service.add(add({...base, name: 'd', action: {type: 'command', command: notExecutable}}), OP)).rejects.toMatchObject({code: 'VALIDATION_FAILED'})
    await expect(service.add(add({...base, name: 'dir', action: {type: 'command', command: dir}}), OP)).rejects.toMatchObject({code: 'VALIDATION_FAILED'})
    await expect(service.add(add({...base, name: 't', action: {type: 'command', command: '/bin/true', timeout_secs: 601}}), OP)).rejects.toMatchObject({code: 'VALIDATION_FAILED'})
    expect(service.list({}).routines).toHaveLength(0)
    await close()
  })
})
