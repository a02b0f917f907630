import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {OsmodaError} from '../../../lib/errors.js'
import type {RunOptions, RunResult} from '../../../lib/exec/run.js'
import {createServicesService, type Runner} from './service.js'

const NOW = Date.parse('2026-11-25T12:00:00.000Z')

function result(argv: readonly string[], stdout: string, exitCode = 0, stderr = ''): RunResult {
  return {argv: [...argv], exitCode, signal: null, stdout, stderr, stdoutTruncated: false, stderrTruncated: false, timedOut: false, aborted: false, durationMs: 1}
}

/** A runner that answers by binary and records every argv. */
function fakeRunner(answers: Record<string, (argv: readonly string[]) => RunResult>) {
  const calls: {argv: readonly string[]; options: RunOptions}[] = []
  const run: Runner = async (argv, options) => {
    calls.push({argv, options})
    const answer = answers[`${argv[0]} ${argv[1]}`] ?? answers[argv[0] as string]
    if (!answer) throw new Error(`unexpected ${argv.join(' ')}`)
    return answer(argv)
  }
  return {run, calls}
}

async function caught(promise: Promise<unknown>): Promise<OsmodaError> {
  try {
    await promise
  } catch (error) {
    return error as OsmodaError
  }
  throw new Error('expected a rejection')
}

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'osmoda-journal-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

const SHOW = 'Id=nginx.service\nDescription=nginx\nLoadState=loaded\nActiveState=failed\nSubState=failed\nUnitFileState=enabled\nMainPID=0\nMemoryCurrent=[not set]\nNRestarts=5\nActiveEnterTimestamp=\n'
const JOURNAL = [2, 1].map((n) => JSON.stringify({__REALTIME_TIMESTAMP: String(1764072000000000 + n), PRIORITY: '3', _SYSTEMD_UNIT: 'nginx.service', MESSAGE: `failure ${n}`})).join('\n')
const LIST = 'nginx.service loaded failed failed A high performance web server\nssh.service loaded active running OpenBSD Secure Shell server\ncron.service loaded active running Regular background program processing daemon\n'

describe('service status without systemd', () => {
  it('answers SYSTEMD_UNAVAILABLE with a hint and runs nothing', async () => {
    // Given a host where systemd is not PID 1
    const fake = fakeRunner({})
    const services = createServicesService({systemd: async () => false, run: fake.run, journalDirs: [dir], now: () => NOW})
    // When a unit's status is asked
    const error = await caught(services.status({unit: 'nginx', limit: 200}))
    // Then the route's 503 names what to use instead, and no child was started
    expect(error.code).toBe('SYSTEMD_UNAVAILABLE')
    expect(error.httpStatus).toBe(503)
    expect(error.hint).toMatch(/network_info|system_query/)
    expect(fake.calls).toEqual([])
  })

  it('answers SYSTEMD_UNAVAILABLE for the journal when there are no journal files either', async () => {
    const fake = fakeRunner({})
    const services = createServicesService({systemd: async () => false, run: fake.run, journalDirs: [dir, join(dir, 'missing')], now: () => NOW})
    const error = await caught(services.journal({lines: 10}))
    expect(error.code).toBe('SYSTEMD_UNAVAILABLE')
    expect(error.hint).toMatch(/\/var\/log/)
    expect(fake.calls).toEqual([])
  })

  it('reads journal files that exist even without systemd', async () => {
    // Given a journal directory with a machine-id subdirectory holding a journal file
    await mkdir(join(dir, 'abc123'))
    await writeFile(join(dir, 'abc123', 'system.journal'), '')
    const fake = fakeRunner({journalctl: (argv) => result(argv, JOURNAL)})
    const services = createServicesService({systemd: async () => false, run: fake.run, journalDirs: [dir], now: () => NOW})
    // When the journal is read
    const logs = await services.journal({lines: 5, priority: 'err'})
    // Then journalctl ran and its entries come back oldest first
    expect(fake.calls[0]?.argv).toContain('--priority=err')
    expect(logs.entries.map((e) => e.message)).toEqual(['failure 1', 'failure 2'])
    expect(logs.truncated).toBe(false)
  })
})

describe('service status with systemd', () => {
  it('shows one unit with its recent log', async () => {
    const fake = fakeRunner({'systemctl show': (argv) => result(argv, SHOW), journalctl: (argv) => result(argv, JOURNAL)})
    const services = createServicesService({systemd: async () => true, run: fake.run, now: () => NOW})
    const status = await services.status({unit: 'nginx', limit: 200})
    expect(status).toMatchObject({unit: 'nginx.service', active_state: 'failed', n_restarts: 5, main_pid: null})
    expect('recent_log' in status && status.recent_log.map((e) => e.message)).toEqual(['failure 1', 'failure 2'])
    // And the recent log asked journalctl for that unit's last 10 entries
    expect(fake.calls[1]?.argv).toEqual(expect.arrayContaining(['--unit=nginx.service', '--lines=11']))
  })

  it('lists service units up to the limit', async () => {
    const fake = fakeRunner({'systemctl list-units': (argv) => result(argv, LIST)})
    const services = createServicesService({systemd: async () => true, run: fake.run})
    const list = await services.status({limit: 2})
    expect('units' in list && list.units.map((u) => u.unit)).toEqual(['nginx.service', 'ssh.service'])
    expect('units' in list && list.units[0]?.description).toBe('A high performance web server')
  })

  it('maps a failing systemctl to UPSTREAM_FAILED with its stderr', async () => {
    const fake = fakeRunner({'systemctl show': (argv) => result(argv, '', 1, 'Failed to connect to bus')})
    const services = createServicesService({systemd: async () => true, run: fake.run})
    const error = await caught(services.status({unit: 'nginx', limit: 1}))
    expect(error.code).toBe('UPSTREAM_FAILED')
    expect(error.message).toContain('Failed to connect to bus')
  })

  it('is NOT_FOUND for an unknown unit', async () => {
    const fake = fakeRunner({'systemctl show': (argv) => result(argv, 'Id=nope.service\nLoadState=not-found\n')})
    const services = createServicesService({systemd: async () => true, run: fake.run})
    expect((await caught(services.status({unit: 'nope', limit: 1}))).code).toBe('NOT_FOUND')
  })

  it('treats "no entries" from journalctl as an empty answer', async () => {
    const fake = fakeRunner({journalctl: (argv) => result(argv, '', 1, '-- No entries --')})
    const services = createServicesService({systemd: async () => true, run: fake.run})
    expect(await services.journal({lines: 5})).toEqual({entries: [], truncated: false})
  })
})
