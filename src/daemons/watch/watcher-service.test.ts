// Watchers against a real flapping service: a small HTTP server (test/fixtures/flapping-server.mjs)
// that dies after answering a set number of requests, restarted by a `command` action and checked
// with a real `http_get` check. Time is a controllable clock: the ladder, back-off, stability window
// and circuit breaker are asserted from ledger events without real waits.
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {migrate, openDatabase, type Db} from '../../lib/db/open.js'
import {OsmodaError} from '../../lib/errors.js'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import {silentLogger} from '../../lib/log.js'
import {WatchConfig} from './config.js'
import type {SwitchGate, SwitchGateRequest} from './gate.js'
import {WATCH_MIGRATIONS} from './store.js'
import {WatcherAddInput, type Watcher} from './watcher-api.js'
import {createWatcherStore} from './watcher-store.js'
import {addNeedsApproval, backoffSecs, defaultLadder, previousGeneration, systemctlRestartArgv, type RollbackPort} from './watcher-actions.js'
import {createWatcherService, type WatcherClock} from './watcher-service.js'

const FIXTURE = resolve(import.meta.dirname, '../../../test/fixtures/flapping-server.mjs')
const T0 = Date.parse('2026-11-26T03:00:00.000Z')

/** A clock whose timers fire only when the test advances it; each fired tick is awaited. */
function fakeClock() {
  let now = T0
  let seq = 0
  const timers = new Map<number, {at: number; fn: () => void}>()
  const clock: WatcherClock = {
    now: () => now,
    setTimeout: (fn, ms) => (timers.set(++seq, {at: now + ms, fn}), seq),
    clearTimeout: (handle) => void timers.delete(handle as number),
  }
  return {
    clock,
    /** Moves to T0 + secs, firing due timers in order and waiting for what they start. */
    async to(secs: number, settle: () => Promise<void>) {
      const target = T0 + secs * 1000
      for (;;) {
        const next = [...timers.entries()].sort((a, b) => a[1].at - b[1].at)[0]
        if (!next || next[1].at > target) break
        timers.delete(next[0])
        now = next[1].at
        next[1].fn()
        await settle()
      }
      now = target
    },
  }
}

const freePort = () =>
  new Promise<number>((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => done(port))
    })
  })

let dir: string
let db: Db
let ledger: Ledger
let time: ReturnType<typeof fakeClock>
let gateCalls: SwitchGateRequest[]
let config: WatchConfig

const allowGate: SwitchGate = {check: async (request) => void gateCalls.push(request)}
const noRollback: RollbackPort = {activeSwitch: () => null, previousGeneration: async () => null, begin: async () => 'sw_x'}

function service(rollback: RollbackPort = noRollback, gate: SwitchGate = allowGate) {
  return createWatcherService({store: createWatcherStore(db), ledger, log: silentLogger, settings: () => config, gate, rollback, clock: time.clock, random: () => 0.5})
}

/** Ledger events of a type as [seconds since T0, payload]. */
const events = (type: string) => ledger.query({type, limit: 1000, order: 'asc'}).map((e) => [(Date.parse(e.ts) - T0) / 1000, e.payload] as const)
const at = (type: string) => events(type).map(([t]) => t)

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-watchers-'))
  db = openDatabase(join(dir, 'watch.db'))
  migrate(db, WATCH_MIGRATIONS)
  time = fakeClock()
  ledger = openLedger(join(dir, 'ledger.db'), {clock: () => time.clock.now()})
  gateCalls = []
  config = WatchConfig.parse({watcher: {backoff: {initialSecs: 10, factor: 2, maxSecs: 40}, restartAttempts: 2, breaker: {maxActions: 3, windowSecs: 600}}})
})

afterEach(() => {
  const pidFile = join(dir, 'pid')
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')))
    } catch {
      // already dead
    }
  }
  db.close()
  ledger.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('watcher ladder on a real flapping service', () => {
  it('restarts with back-off, recovers after the stable window, then opens the breaker until the window passes or a reset', async () => {
    // Given a service that dies after answering one request, started by its own restart command
    const port = await freePort()
    const restart = {type: 'command' as const, command: process.execPath, args: [FIXTURE, 'start', dir, String(port)]}
    writeFileSync(join(dir, 'lives'), '1')
    const {spawnSync} = await import('node:child_process')
    expect(spawnSync(restart.command, restart.args).status).toBe(0)
    const starts = () => readFileSync(join(dir, 'starts'), 'utf8').trim().split('\n').length
    const watchers = service()
    const settle = () => watchers.idle()
    // And a watcher checking it every 5 s, restarting it (twice per step), then notifying
    const w = await watchers.add(
      WatcherAddInput.parse({name: 'flappy', check: {type: 'http_get', url: `http://127.0.0.1:${port}/`}, interval_secs: 5, stable_secs: 30, actions: [restart, {type: 'notify', message: 'flappy keeps dying', severity: 'critical'}]}),
      {role: 'operator', actor: 'operator'},
    )
    expect(w).toMatchObject({state: 'healthy', step: 0, interval_secs: 5, stable_secs: 30})
    expect(at('watcher.added')).toEqual([0])

    // When the first check passes (and the service dies after answering it)
    await time.to(5, settle)
    expect(watchers.get(w.id)).toMatchObject({state: 'healthy', last_result: {ok: true}})
    // Then the next failing check starts an episode, and the first restart waits backoff(0) = 10 s
    await time.to(15, settle)
    expect(at('watcher.degraded')).toEqual([10])
    expect(at('watcher.action_taken')).toEqual([])
    expect(watchers.get(w.id)).toMatchObject({state: 'degraded', consecutive_failures: 2})
    await time.to(20, settle)
    expect(events('watcher.action_taken')).toEqual([[20, expect.objectContaining({watcher_id: w.id, action: 'command', ok: true})]])
    expect(starts()).toBe(2)

    // When the restarted service answers once and dies again
    await time.to(25, settle)
    expect(watchers.get(w.id).state).toBe('recovering')
    await time.to(35, settle)
    // Then the second restart waits backoff(1) = 20 s after the first (not at 30 or 35)
    expect(at('watcher.action_taken')).toEqual([20])
    expect(watchers.get(w.id).state).toBe('degraded')
    // (this time the service will stay up)
    writeFileSync(join(dir, 'lives'), '0')
    await time.to(40, settle)
    expect(at('watcher.action_taken')).toEqual([20, 40])
    expect(starts()).toBe(3)
    // restartAttempts = 2 reached: the next step is the notify
    expect(watchers.get(w.id)).toMatchObject({step: 1, actions_in_window: 2, last_action: {type: 'command', ok: true}})

    // When the check passes from 45 s on, it is recovering until stable_secs (30 s) have passed
    await time.to(70, settle)
    expect(watchers.get(w.id).state).toBe('recovering')
    expect(at('watcher.recovered')).toEqual([])
    await time.to(75, settle)
    // Then it is healthy again, the ladder reset, the notify never sent
    expect(at('watcher.recovered')).toEqual([75])
    expect(watchers.get(w.id)).toMatchObject({state: 'healthy', step: 0, consecutive_failures: 0})
    expect(events('notification.requested')).toEqual([])

    // When the service dies again (killed), a new episode starts at step 0
    writeFileSync(join(dir, 'lives'), '1')
    process.kill(Number(readFileSync(join(dir, 'pid'), 'utf8')))
    await time.to(90, settle)
    expect(at('watcher.degraded')).toEqual([10, 80])
    // Its first restart comes backoff(0) after the first failure: the third action in the window
    expect(at('watcher.action_taken')).toEqual([20, 40, 90])
    await time.to(105, settle)
    expect(at('watcher.action_taken')).toEqual([20, 40, 90])
    // Then the fourth action would exceed breaker.maxActions = 3 in 600 s: the breaker opens instead
    await time.to(110, settle)
    expect(at('watcher.action_taken')).toEqual([20, 40, 90])
    expect(events('watcher.breaker_opened')).toEqual([[110, expect.objectContaining({watcher_id: w.id, actions_in_window: 3, window_secs: 600})]])
    expect(events('notification.requested')).toEqual([[110, expect.objectContaining({source: 'watch', severity: 'critical'})]])
    expect(watchers.get(w.id)).toMatchObject({state: 'breaker_open', actions_in_window: 3})
    const startsWhenOpened = starts()

    // While it is open nothing runs, however long the check keeps failing
    await time.to(700, settle)
    expect(at('watcher.action_taken')).toEqual([20, 40, 90])
    expect(starts()).toBe(startsWhenOpened)
    expect(watchers.get(w.id).state).toBe('breaker_open')
    // When the window has passed, the breaker closes and the ladder goes on
    await time.to(710, settle)
    expect(at('watcher.breaker_closed')).toEqual([710])
    expect(at('watcher.action_taken')).toEqual([20, 40, 90, 710])
    expect(starts()).toBe(startsWhenOpened + 1)

    // And a reset clears state, ladder and breaker at once
    const reset = await watchers.reset(w.id, {role: 'operator', actor: 'operator'})
    expect(reset).toMatchObject({state: 'healthy', step: 0, actions_in_window: 0, consecutive_failures: 0})
    expect(at('watcher.reset')).toEqual([710])
    // The results of the last checks are kept, newest first: the failing check that closed the breaker
    const shown = watchers.get(w.id)
    expect(shown.results).toHaveLength(20)
    expect(shown.results[0]).toMatchObject({ok: false, state: 'degraded', at: new Date(T0 + 710_000).toISOString()})
    expect(shown.results[0]?.detail).toContain('ECONNREFUSED')
    // (142 checks ran; the database keeps the newest 100)
    expect(db.prepare('SELECT count(*) AS n FROM watcher_results').get()).toEqual({n: 100})
    await watchers.stop()
  }, 60_000)
})

describe('watcher ladder details', () => {
  const unreachable = async () => ({type: 'tcp_port' as const, host: '127.0.0.1', port: await freePort()})
  const operator = {role: 'operator' as const, actor: 'operator'}

  it('escalates once after the last step and takes no more actions', async () => {
    // Given a watcher on a port nobody listens on, with the default ladder (notify warning)
    const watchers = service()
    const w = await watchers.add(WatcherAddInput.parse({name: 'dead', check: await unreachable(), interval_secs: 5}), operator)
    expect(w.actions).toEqual([{type: 'notify', message: 'watcher dead: check is failing', severity: 'warning'}])
    // When it fails for a long time
    await time.to(300, () => watchers.idle())
    // Then one notify after backoff(0), one escalation, nothing more
    expect(at('watcher.degraded')).toEqual([5])
    expect(events('watcher.action_taken')).toEqual([[15, expect.objectContaining({action: 'notify', ok: true})]])
    expect(at('notification.requested')).toEqual([15])
    expect(at('watcher.escalated')).toEqual([15])
    expect(watchers.get(w.id)).toMatchObject({state: 'escalated', consecutive_failures: 60})
    await watchers.stop()
  })

  it('rolls back at most once per episode and records the skip while another switch is active', async () => {
    // Given a SafeSwitch port that is busy at first
    const begun: {generation: number; actor: string}[] = []
    let active: {id: string; status: string} | null = {id: 'sw_busy', status: 'probation'}
    const port: RollbackPort = {activeSwitch: () => active, previousGeneration: async () => 41, begin: async (generation, _plan, actor) => (begun.push({generation, actor}), 'sw_new')}
    const watchers = service(port)
    config = WatchConfig.parse({watcher: {backoff: {initialSecs: 0, factor: 1, maxSecs: 1}, breaker: {maxActions: 50}}})
    const w = await watchers.add(
      WatcherAddInput.parse({name: 'rb', check: await unreachable(), interval_secs: 5, actions: [{type: 'rollback_generation'}, {type: 'rollback_generation'}, {type: 'notify', message: 'still down'}]}),
      operator,
    )
    // When the check fails: the first rollback is skipped (recorded), the second one runs
    await time.to(5, () => watchers.idle())
    expect(events('watcher.action_taken').map(([, p]) => p)).toEqual([expect.objectContaining({action: 'rollback_generation', ok: false, skipped: true, detail: expect.stringContaining('sw_busy')})])
    active = null
    await time.to(10, () => watchers.idle())
    expect(begun).toEqual([{generation: 41, actor: `watch:watcher:${w.id}`}])
    await time.to(15, () => watchers.idle())
    // Then the next step is the notify, never a second rollback in the episode
    const taken = events('watcher.action_taken').map(([, p]) => p)
    expect(taken.map((p) => [p.action, p.ok, p.skipped ?? false])).toEqual([
      ['rollback_generation', false, true],
      ['rollback_generation', true, false],
      ['notify', true, false],
    ])
    expect(taken[1]).toMatchObject({detail: 'began switch sw_new to generation 41'})
    expect(begun).toHaveLength(1)
    expect(watchers.get(w.id).state).toBe('escalated')
    await watchers.stop()
  })

  it.skipIf(existsSync('/run/systemd/system'))('answers restart_service with a clear failure without systemd', async () => {
    // Given a watcher whose ladder restarts a unit, on a host where systemd is not PID 1
    const watchers = service()
    config = WatchConfig.parse({watcher: {backoff: {initialSecs: 0, factor: 2, maxSecs: 1}, restartAttempts: 1}})
    await watchers.add(WatcherAddInput.parse({name: 'unit', check: await unreachable(), interval_secs: 5, actions: [{type: 'restart_service', unit: 'web.service'}]}), operator)
    // When the check fails
    await time.to(5, () => watchers.idle())
    // Then the restart is recorded as failed, saying why, and the ladder moves on (escalated)
    expect(events('watcher.action_taken').map(([, p]) => p)).toEqual([expect.objectContaining({action: 'restart_service', ok: false, detail: expect.stringMatching(/^systemd unavailable: cannot restart web\.service/)})])
    expect(at('watcher.escalated')).toEqual([5])
    await watchers.stop()
  })

  it('keeps its timer going when a tick fails to be written', async () => {
    // Given a watcher whose check fails, and a ledger that refuses the first write of the episode
    const watchers = service()
    const w = await watchers.add(WatcherAddInput.parse({name: 'sturdy', check: await unreachable(), interval_secs: 5}), operator)
    const append = ledger.append.bind(ledger)
    let refuse = 1
    ledger.append = (input) => {
      if (input.type === 'watcher.degraded' && refuse-- > 0) throw new Error('disk full')
      return append(input)
    }
    // When time passes
    await time.to(10, () => watchers.idle())
    // Then the failed tick did not stop the timer: the next tick degraded the watcher
    expect(at('watcher.degraded')).toEqual([10])
    expect(watchers.get(w.id).state).toBe('degraded')
    ledger.append = append
    await watchers.stop()
  })

  it('keeps its state across a restart of the service', async () => {
    // Given a degraded watcher
    const first = service()
    const w = await first.add(WatcherAddInput.parse({name: 'persist', check: await unreachable(), interval_secs: 5, actions: [{type: 'notify', message: 'a'}, {type: 'notify', message: 'b'}]}), operator)
    await time.to(15, () => first.idle())
    await first.stop()
    // When a new service opens the same database
    const second = service()
    second.start()
    // Then the episode continues where it was (step 1, next notify after backoff(1) = 20 s)
    expect(second.get(w.id)).toMatchObject({state: 'degraded', step: 1})
    await time.to(30, () => second.idle())
    expect(at('watcher.action_taken')).toEqual([15])
    await time.to(35, () => second.idle())
    expect(at('watcher.action_taken')).toEqual([15, 35])
    expect(second.get(w.id).state).toBe('escalated')
    await second.stop()
  })

  it('asks the gate with the SPEC policy hint, refuses a taken name and missing executables', async () => {
    const refusing: SwitchGate = {
      check: async (request) => {
        gateCalls.push(request)
        if (request.hint === 'required') throw new OsmodaError('APPROVAL_REQUIRED', 'approval required', {details: {approval_id: 'apr_x', operation: request.operation}})
      },
    }
    const watchers = service(noRollback, refusing)
    const agent = {role: 'agent' as const, actor: 'agent:ops'}
    // A notify-only watcher needs no approval
    await watchers.add(WatcherAddInput.parse({name: 'n', check: {type: 'tcp_port', port: 80}}), agent)
    // A command action, a command check and a default systemd ladder (restart) do
    for (const body of [
      {name: 'c', check: {type: 'tcp_port', port: 80}, actions: [{type: 'command', command: '/bin/true'}]},
      {name: 'cc', check: {type: 'command', command: '/bin/true'}},
      {name: 'u', check: {type: 'systemd_unit', unit: 'nginx.service'}},
    ]) {
      await expect(watchers.add(WatcherAddInput.parse(body), agent)).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    }
    expect(gateCalls.map((c) => [c.operation, c.hint])).toEqual([
      ['watcher_add', 'not_required'],
      ['watcher_add', 'required'],
      ['watcher_add', 'required'],
      ['watcher_add', 'required'],
    ])
    expect(watchers.list().watchers.map((w: Watcher) => w.name)).toEqual(['n'])
    expect(at('watcher.added')).toHaveLength(1)
    await expect(watchers.add(WatcherAddInput.parse({name: 'n', check: {type: 'tcp_port', port: 81}}), agent)).rejects.toMatchObject({code: 'CONFLICT'})
    await expect(watchers.add(WatcherAddInput.parse({name: 'm', check: {type: 'tcp_port', port: 81}, actions: [{type: 'command', command: '/nonexistent/restart'}]}), agent)).rejects.toMatchObject({code: 'VALIDATION_FAILED'})
    expect(gateCalls).toHaveLength(4)
    await watchers.stop()
  })
})

describe('watcher helpers', () => {
  it('backoff(k) = min(initial × factor^k, max)', () => {
    const b = {initialSecs: 10, factor: 2, maxSecs: 600}
    expect([0, 1, 2, 5, 6, 20].map((k) => backoffSecs(k, b))).toEqual([10, 20, 40, 320, 600, 600])
  })

  it('builds the systemctl argv with -- before the unit', () => {
    expect(systemctlRestartArgv('-evil.service')).toEqual(['systemctl', 'restart', '--no-block', '--', '-evil.service'])
  })

  it('picks the default ladder and the approval policy of SPEC §1.6', () => {
    expect(defaultLadder({type: 'systemd_unit', unit: 'nginx.service'}, 'web')).toEqual([
      {type: 'restart_service', unit: 'nginx.service'},
      {type: 'notify', message: 'watcher web: nginx.service is still failing after restarts', severity: 'critical'},
    ])
    expect(addNeedsApproval({type: 'tcp_port', host: '127.0.0.1', port: 1}, [{type: 'notify', message: 'x', severity: 'warning'}])).toBe(false)
    expect(addNeedsApproval({type: 'tcp_port', host: '127.0.0.1', port: 1}, [{type: 'rollback_generation'}])).toBe(true)
    expect(addNeedsApproval({type: 'command', command: '/bin/true', args: []}, [{type: 'notify', message: 'x', severity: 'warning'}])).toBe(true)
  })

  it('finds the explicit previous generation of a profile', async () => {
    const {symlinkSync, mkdirSync} = await import('node:fs')
    const profiles = join(dir, 'profiles')
    mkdirSync(profiles)
    for (const n of [1, 3, 4, 7]) symlinkSync('/nowhere', join(profiles, `system-${n}-link`))
    symlinkSync('system-4-link', join(profiles, 'system'))
    expect(await previousGeneration(join(profiles, 'system'))).toBe(3)
    expect(await previousGeneration(join(dir, 'none', 'system'))).toBe(null)
  })
})
