import {describe, expect, it} from 'vitest'
import {GATEWAY_UNIT, PANIC_UNITS, restartGatewayArgv, rollbackCommand, safetyUnitName, stopUnitsCommand, transientUnitArgv} from './units.js'

describe('safety argv builders', () => {
  it('panics in the SPEC order, the gateway kept for last', () => {
    expect(PANIC_UNITS).toEqual([
      'osmoda-routines.service',
      'osmoda-watch.service',
      'osmoda-teachd.service',
      'osmoda-mcpd.service',
      'osmoda-voice.service',
      'osmoda-mesh.service',
      'osmoda-keyd.service',
      'osmoda-egress.service',
    ])
    expect(PANIC_UNITS).not.toContain(GATEWAY_UNIT)
    expect(PANIC_UNITS).not.toContain('osmoda-agentd.service')
  })

  it('wraps a command in a collected, waited-for transient unit with a deadline', () => {
    expect(transientUnitArgv({unit: 'osmoda-safety-rollback-x', deadlineSecs: 900, command: ['/bin/true', '-x']})).toEqual([
      'systemd-run',
      '--quiet',
      '--collect',
      '--wait',
      '--unit=osmoda-safety-rollback-x',
      '--property=RuntimeMaxSec=900',
      '--',
      '/bin/true',
      '-x',
    ])
  })

  it('rolls back by explicit number, the values as positional shell parameters', () => {
    const argv = rollbackCommand({nixEnv: '/run/current-system/sw/bin/nix-env', profile: '/nix/var/nix/profiles/system', generation: 41})
    expect(argv.slice(0, 2)).toEqual(['/bin/sh', '-c'])
    // The script never contains the values: they are $1..$3
    expect(argv[2]).toBe('set -e; "$1" -p "$2" --switch-generation "$3"; exec "$2/bin/switch-to-configuration" switch')
    expect(argv.slice(3)).toEqual(['osmoda-rollback', '/run/current-system/sw/bin/nix-env', '/nix/var/nix/profiles/system', '41'])
  })

  it.each([0, -1, 1.5, Number.NaN])('refuses generation %s', (generation) => {
    expect(() => rollbackCommand({nixEnv: 'nix-env', profile: '/p', generation})).toThrow(RangeError)
  })

  it('stops units after --', () => {
    expect(stopUnitsCommand(['a.service', 'b.service'])).toEqual(['systemctl', 'stop', '--', 'a.service', 'b.service'])
  })

  it('restarts the gateway from a 2 s transient timer', () => {
    expect(restartGatewayArgv('osmoda-safety-restart-x')).toEqual([
      'systemd-run',
      '--quiet',
      '--collect',
      '--unit=osmoda-safety-restart-x',
      '--on-active=2',
      '--timer-property=AccuracySec=100ms',
      '--property=RuntimeMaxSec=120',
      '--',
      'systemctl',
      'restart',
      'osmoda-gateway.service',
    ])
  })

  it('names units per action and time', () => {
    expect(safetyUnitName('panic-stop', 36 ** 3)).toBe('osmoda-safety-panic-stop-1000')
    expect(safetyUnitName('rollback', 1)).not.toBe(safetyUnitName('rollback', 2))
  })
})
