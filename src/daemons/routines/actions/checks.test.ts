import {describe, expect, it} from 'vitest'
import {OsmodaError} from '../../../lib/errors.js'
import {createLogger} from '../../../lib/log.js'
import {Action} from '../api.js'
import {RoutinesConfig} from '../config.js'
import {healthCheck, logScan, networkWatch, serviceMonitor} from './checks.js'
import type {ActionContext, AgentdClient, Severity} from './context.js'

function context(agentd: Partial<Record<string, (...args: unknown[]) => Promise<unknown>>>) {
  const notes: {severity: Severity; title: string; message: string}[] = []
  const memo = new Map<string, string>()
  const ctx: ActionContext = {
    routineId: 'default-health',
    routineName: 'Health check',
    agentd: agentd as unknown as AgentdClient,
    config: RoutinesConfig.parse({}),
    signal: new AbortController().signal,
    timeoutMs: 5000,
    now: () => Date.parse('2026-11-26T12:00:00.000Z'),
    log: createLogger({level: 'error'}),
    memo: {get: (k) => memo.get(k) ?? null, set: (k, v) => void memo.set(k, v)},
    headers: () => ({}),
    notify: (severity, title, message) => void notes.push({severity, title, message}),
  }
  return {ctx, notes, memo}
}

const GIB = 1024 ** 3
const health = (cpu: number, overrides: object = {}) => ({
  status: 'ok', daemon: 'agentd', version: '0', pid: 1, uptime_secs: 1, hostname: 'web1', cpu_count: 2, cpu_usage: [cpu, cpu],
  memory_total: 8 * GIB, memory_used: 2 * GIB, memory_available: 6 * GIB, swap_total: 0, swap_used: 0,
  load_average: {one: 0.5, five: 0.5, fifteen: 0.5}, uptime: 100,
  disks: [{mount_point: '/', filesystem: 'ext4', total: 100 * GIB, used: 50 * GIB, available: 50 * GIB}],
  ...overrides,
})

describe('health_check', () => {
  it('notifies on CPU only after the configured consecutive checks, and on RAM, disk and load at once', async () => {
    // Given CPU at 95 % on every check
    let answer = health(95)
    const {ctx, notes} = context({health: async () => answer})
    const action = Action.parse({type: 'health_check', thresholds: {}}) as Extract<Action, {type: 'health_check'}>
    // When it runs twice: below the ×3 streak, nothing to report
    await healthCheck(action, ctx)
    const second = await healthCheck(action, ctx)
    expect(second.output).toMatchObject({cpu_pct: 95, cpu_streak: 2, findings: []})
    expect(notes).toEqual([])
    // Then the third consecutive check reports it
    const third = await healthCheck(action, ctx)
    expect(third.output.findings).toEqual(['CPU 95% > 90% for 3 consecutive checks'])
    expect(notes).toMatchObject([{severity: 'warning', title: 'web1: health thresholds exceeded'}])
    // A calm check resets the streak
    answer = health(10)
    expect((await healthCheck(action, ctx)).output).toMatchObject({cpu_streak: 0, findings: []})
    // RAM 90 %, disk 95 %, load 5 on 2 cores → three findings, critical
    answer = health(10, {memory_available: 0.8 * GIB, disks: [{mount_point: '/var', filesystem: 'ext4', total: 100 * GIB, used: 95 * GIB, available: 5 * GIB}], load_average: {one: 5, five: 1, fifteen: 1}})
    const bad = await healthCheck(action, ctx)
    expect(bad.output.findings).toEqual(['memory 90% used > 85%', 'disk /var 95% full > 90%', 'load 5.00 > 4 (2 × 2 cores)'])
    expect(notes.at(-1)?.severity).toBe('critical')
  })
})

describe('service_monitor and log_scan without systemd', () => {
  it('reports every unit as unknown with the reason when agentd answers SYSTEMD_UNAVAILABLE', async () => {
    const {ctx, notes} = context({serviceStatus: async () => Promise.reject(new OsmodaError('SYSTEMD_UNAVAILABLE', 'systemd is not PID 1'))})
    const outcome = await serviceMonitor(Action.parse({type: 'service_monitor', units: ['sshd', 'nginx']}) as never, ctx)
    expect(outcome.output).toEqual({systemd: 'unavailable', not_running: [], units: [
      {unit: 'sshd', state: 'unknown', detail: 'systemd is not PID 1 on this host: unit state unavailable'},
      {unit: 'nginx', state: 'unknown', detail: 'systemd is not PID 1 on this host: unit state unavailable'},
    ]})
    expect(notes).toEqual([])
  })

  it('notifies about failed units', async () => {
    const {ctx, notes} = context({serviceStatus: async (input: unknown) => ({unit: `${(input as {unit: string}).unit}.service`, active_state: (input as {unit: string}).unit === 'nginx' ? 'failed' : 'active', sub_state: 'x'})})
    const outcome = await serviceMonitor(Action.parse({type: 'service_monitor', units: ['sshd', 'nginx']}) as never, ctx)
    expect(outcome.output.not_running).toEqual(['nginx.service'])
    expect(notes[0]?.message).toBe('nginx.service is failed')
  })

  it('log_scan reads since its previous run, groups by identifier and links known memories', async () => {
    const calls: unknown[] = []
    const {ctx, notes, memo} = context({
      journalLogs: async (input: unknown) => (calls.push(input), {entries: [
        {ts: '2026-11-26T11:59:00Z', unit: 'nginx.service', priority: 'err', identifier: 'nginx', pid: 1, message: 'upstream timed out'},
        {ts: '2026-11-26T11:59:30Z', unit: 'nginx.service', priority: 'err', identifier: 'nginx', pid: 1, message: 'upstream timed out'},
      ], truncated: false}),
      memoryRecall: async () => ({memories: [{id: 'mem_01JAAAAAAAAAAAAAAAAAAAAAAA'}]}),
    })
    const first = await logScan(Action.parse({type: 'log_scan'}) as never, ctx)
    expect(calls[0]).toMatchObject({priority: 'err', since: '1h'})
    expect(first.output).toMatchObject({journal: 'available', entries: 2, by_identifier: {nginx: 2}, related_memories: {nginx: ['mem_01JAAAAAAAAAAAAAAAAAAAAAAA']}})
    expect(notes).toHaveLength(1)
    expect(memo.get('journal_since')).toBe('2026-11-26T12:00:00.000Z')
    await logScan(Action.parse({type: 'log_scan'}) as never, ctx)
    expect(calls[1]).toMatchObject({since: '2026-11-26T12:00:00.000Z'})
  })

  it('log_scan records a missing journal clearly', async () => {
    const {ctx} = context({journalLogs: async () => Promise.reject(new OsmodaError('SYSTEMD_UNAVAILABLE', 'no journal on this host'))})
    expect((await logScan(Action.parse({type: 'log_scan'}) as never, ctx)).output).toMatchObject({journal: 'unavailable', reason: 'no journal on this host'})
  })
})

describe('network_watch', () => {
  it('records a baseline on the first run and reports new and vanished ports after', async () => {
    let ports = [{proto: 'tcp', address: '0.0.0.0', port: 22, pid: null, process: null}]
    const {ctx, notes} = context({networkInfo: async () => ({ports})})
    const action = Action.parse({type: 'network_watch'}) as never
    expect((await networkWatch(action, ctx)).output).toMatchObject({source: 'recorded_now', baseline: ['tcp/22']})
    ports = [{proto: 'tcp', address: '0.0.0.0', port: 4444, pid: null, process: null}]
    expect((await networkWatch(action, ctx)).output).toMatchObject({source: 'baseline', new_ports: ['tcp/4444'], missing_ports: ['tcp/22']})
    expect(notes[0]?.message).toBe('new: tcp/4444; gone: tcp/22')
  })
})
