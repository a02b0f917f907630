import {describe, expect, it} from 'vitest'
import {OsmodaError} from '../../../lib/errors.js'
import {
  normalizeUnitName,
  parseSystemctlShow,
  parseSystemdTimestamp,
  systemctlIsActiveArgv,
  systemctlListArgv,
  systemctlShowArgv,
  unitStatusFromShow,
} from './systemctl.js'

// Captured from `systemctl show nginx.service --property=…` on Debian 12 (systemd 252), TZ=UTC.
const NGINX_SHOW = `MainPID=812
NRestarts=2
Id=nginx.service
Description=A high performance web server and a reverse proxy server
LoadState=loaded
ActiveState=active
SubState=running
MemoryCurrent=9445376
ActiveEnterTimestamp=Wed 2026-11-25 21:30:00 UTC
UnitFileState=enabled
`

// A unit systemd does not know: exit 0, LoadState=not-found, counters unset.
const MISSING_SHOW = `MainPID=0
NRestarts=0
Id=nope.service
Description=nope.service
LoadState=not-found
ActiveState=inactive
SubState=dead
MemoryCurrent=[not set]
ActiveEnterTimestamp=
UnitFileState=
`

describe('systemctl argv builders', () => {
  it('shows one unit with only the parsed properties and -- before the name', () => {
    // When the argv for "nginx" is built
    const argv = systemctlShowArgv('nginx')
    // Then .service is assumed and the name can never be read as an option
    expect(argv).toEqual([
      'systemctl',
      'show',
      '--no-pager',
      '--property=Id,Description,LoadState,ActiveState,SubState,UnitFileState,MainPID,MemoryCurrent,ActiveEnterTimestamp,NRestarts',
      '--',
      'nginx.service',
    ])
  })

  it.each([
    ['nginx', 'nginx.service'],
    ['nginx.service', 'nginx.service'],
    ['getty@tty1.service', 'getty@tty1.service'],
    ['backup.timer', 'backup.timer'],
    ['sshd.socket', 'sshd.socket'],
    ['foo.bar', 'foo.bar.service'],
  ])('normalizes %s to %s', (input, want) => {
    expect(normalizeUnitName(input)).toBe(want)
  })

  it('lists every service unit in any state, machine-readable', () => {
    expect(systemctlListArgv()).toEqual(['systemctl', 'list-units', '--type=service', '--all', '--no-legend', '--plain', '--no-pager'])
  })

  it('asks is-active for units after --', () => {
    expect(systemctlIsActiveArgv(['osmoda-agentd.service', 'osmoda-gateway.service'])).toEqual(['systemctl', 'is-active', '--', 'osmoda-agentd.service', 'osmoda-gateway.service'])
  })
})

describe('parseSystemctlShow', () => {
  it('reads Key=Value lines and splits units at blank lines', () => {
    // Given two units' output, one with a description that contains "="
    const text = `Id=a.service\nDescription=x=y z\n\nId=b.service\nLoadState=loaded\n`
    // Then each unit is a map, and the value keeps everything after the first "="
    expect(parseSystemctlShow(text)).toEqual([{Id: 'a.service', Description: 'x=y z'}, {Id: 'b.service', LoadState: 'loaded'}])
  })

  it('ignores lines without a key', () => {
    expect(parseSystemctlShow('garbage\n=novalue\nId=a\n')).toEqual([{Id: 'a'}])
  })
})

describe('unitStatusFromShow', () => {
  it('maps a running unit', () => {
    const [props] = parseSystemctlShow(NGINX_SHOW)
    expect(unitStatusFromShow(props ?? {}, 'nginx')).toEqual({
      unit: 'nginx.service',
      description: 'A high performance web server and a reverse proxy server',
      load_state: 'loaded',
      active_state: 'active',
      sub_state: 'running',
      enabled: 'enabled',
      main_pid: 812,
      memory_bytes: 9445376,
      active_since: '2026-11-25T21:30:00.000Z',
      n_restarts: 2,
    })
  })

  it('is NOT_FOUND for a unit systemd does not know', () => {
    const [props] = parseSystemctlShow(MISSING_SHOW)
    let error: unknown
    try {
      unitStatusFromShow(props ?? {}, 'nope')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(OsmodaError)
    expect((error as OsmodaError).code).toBe('NOT_FOUND')
    expect((error as OsmodaError).details).toEqual({unit: 'nope.service'})
  })

  it('turns unset counters and a zero pid into null', () => {
    const status = unitStatusFromShow({Id: 'x.service', LoadState: 'loaded', MainPID: '0', MemoryCurrent: '18446744073709551615', NRestarts: '[not set]', UnitFileState: ''}, 'x')
    expect(status.main_pid).toBeNull()
    expect(status.memory_bytes).toBeNull()
    expect(status.n_restarts).toBeNull()
    expect(status.enabled).toBeNull()
    expect(status.active_since).toBeNull()
  })
})

describe('parseSystemdTimestamp', () => {
  it.each([
    ['Wed 2026-11-25 21:30:00 UTC', '2026-11-25T21:30:00.000Z'],
    ['2026-11-25 21:30:00 UTC', '2026-11-25T21:30:00.000Z'],
    ['Wed 2026-11-25 21:30:00.123456 UTC', '2026-11-25T21:30:00.123Z'],
    ['@1764106200', '2025-11-25T21:30:00.000Z'],
    ['', null],
    ['n/a', null],
    ['Wed 2026-11-25 21:30:00 CET', null],
    [undefined, null],
  ])('%s → %s', (input, want) => {
    expect(parseSystemdTimestamp(input)).toBe(want)
  })
})
