import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {domainColor, eventDomain, formatRss, formatUptime, matchesFilter} from './format.js'
import {daemonRow} from './hooks/use-daemon-health.js'
import {readRss} from './sources.js'
import {DaemonUnavailableError, OsmodaError} from '../errors.js'

describe('tui formatting', () => {
  it('colours events by domain: fixed for known domains, stable for any other', () => {
    expect(eventDomain('switch.rolled_back')).toBe('switch')
    expect(domainColor('approval.requested')).toBe(domainColor('approval.denied'))
    expect(domainColor('approval.requested')).not.toBe(domainColor('switch.began'))
    expect(domainColor('mesh.peer_connected')).toBe(domainColor('mesh.room_joined'))
  })

  it.each([
    [{type: 'switch.*'}, 'switch.began', 'watch', true],
    [{type: 'switch.*'}, 'switchboard.x', 'watch', false],
    [{type: 'switch'}, 'switch.began', 'watch', true],
    [{type: 'tool.called'}, 'tool.called', 'agent:a', true],
    [{type: 'tool.called'}, 'tool.calledx', 'agent:a', false],
    [{actor: 'agent:ops'}, 'tool.called', 'agent:ops', true],
    [{actor: 'agent:ops'}, 'tool.called', 'agent:opsx', false],
    [{type: 'tool.*', actor: 'agent:ops'}, 'tool.called', 'operator:root', false],
  ])('filter %j on %s by %s → %s', (filter, type, actor, want) => {
    expect(matchesFilter({type, actor}, filter)).toBe(want)
  })

  it('formats uptime and RSS for the header', () => {
    expect([formatUptime(5), formatUptime(192), formatUptime(7500), formatUptime(3 * 86_400 + 7200)]).toEqual(['5s', '3m12s', '2h05m', '3d02h'])
    expect([formatRss(null), formatRss(64 * 1048576), formatRss(1.5 * 1073741824)]).toEqual(['—', '64M', '1.5G'])
  })

  it('reads VmRSS from /proc/<pid>/status, and null when it cannot', () => {
    const proc = mkdtempSync(join(tmpdir(), 'osmoda-proc-'))
    try {
      mkdirSync(join(proc, '42'))
      writeFileSync(join(proc, '42', 'status'), 'Name:\tnode\nVmPeak:\t  900 kB\nVmRSS:\t   61440 kB\nThreads:\t11\n')
      expect(readRss(42, proc)).toBe(61440 * 1024)
      expect(readRss(43, proc)).toBeNull()
      expect(readRss(process.pid)).toBeGreaterThan(1024 * 1024)
    } finally {
      rmSync(proc, {recursive: true, force: true})
    }
  })

  it('classifies daemons: up (RSS from /proc, else from /health), down, unreachable', () => {
    const health = {status: 'ok' as const, daemon: 'agentd', version: '0.1.0', pid: 7, uptime_secs: 30, rss_bytes: 5000}
    expect(daemonRow('agentd', {health}, () => 9000)).toMatchObject({state: 'up', rss_bytes: 9000, pid: 7})
    expect(daemonRow('agentd', {health}, () => null)).toMatchObject({state: 'up', rss_bytes: 5000})
    expect(daemonRow('keyd', {error: new DaemonUnavailableError('keyd', 'gone')}, () => null)).toMatchObject({state: 'down', problem: 'DAEMON_UNAVAILABLE: gone'})
    expect(daemonRow('keyd', {error: new OsmodaError('UPSTREAM_TIMEOUT', 'slow')}, () => null)).toMatchObject({state: 'unreachable'})
  })
})
