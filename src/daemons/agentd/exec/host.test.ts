import {describe, expect, it} from 'vitest'
import {execUnitName, systemdRunArgv} from './host.js'

describe('systemdRunArgv', () => {
  it('runs the exact argv as a transient unit with the deadline, cwd and a minimal env (SPEC §1.12)', () => {
    // When the argv of an approved host command is built for a systemd host
    const argv = systemdRunArgv(['rm', '-rf', '--', '/srv/old data'], {
      timeoutSecs: 30,
      cwd: '/srv',
      env: {TZ: 'UTC', PATH: '/run/current-system/sw/bin', LANG: 'C.UTF-8', HOME: '/root'},
      unit: 'osmoda-exec-0123456789ab',
    })
    // Then it is systemd-run with --quiet --collect --wait --pipe, RuntimeMaxSec just past the deadline, and the argv after --
    expect(argv).toEqual([
      'systemd-run',
      '--quiet',
      '--collect',
      '--wait',
      '--pipe',
      '--unit=osmoda-exec-0123456789ab',
      '--service-type=exec',
      '-p',
      'RuntimeMaxSec=32',
      '--working-directory=/srv',
      '--setenv=HOME=/root',
      '--setenv=LANG=C.UTF-8',
      '--setenv=PATH=/run/current-system/sw/bin',
      '--setenv=TZ=UTC',
      '--',
      'rm',
      '-rf',
      '--',
      '/srv/old data',
    ])
  })

  it('names each unit uniquely', () => {
    const names = new Set(Array.from({length: 50}, () => execUnitName()))
    expect(names.size).toBe(50)
    for (const name of names) expect(name).toMatch(/^osmoda-exec-[0-9a-f]{12}$/)
  })

  it('gives every call its own unit by default', () => {
    const unit = (argv: string[]) => argv.find((a) => a.startsWith('--unit='))
    const options = {timeoutSecs: 1, cwd: '/', env: {}}
    expect(unit(systemdRunArgv(['true'], options))).not.toBe(unit(systemdRunArgv(['true'], options)))
  })
})
