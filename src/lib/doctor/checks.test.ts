import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {pathsFrom} from '../paths.js'
import {initState} from '../state-init.js'
import {checkDirs, checkDisk, checkNode} from './fs-checks.js'
import {checkSystemd} from './host-checks.js'
import {repairModes} from './run-doctor.js'

describe('doctor checks', () => {
  it('fails a Node older than 20 and passes 20 and later', () => {
    expect(checkNode('18.19.0')).toMatchObject({status: 'fail', fix: expect.stringMatching(/Node\.js 20/)})
    expect(checkNode('20.0.0').status).toBe('ok')
    expect(checkNode('24.1.0').status).toBe('ok')
  })

  it('warns, never fails, when systemd is not PID 1', () => {
    expect(checkSystemd(() => 'systemd')).toMatchObject({status: 'ok'})
    expect(checkSystemd(() => 'bash')).toMatchObject({status: 'warn', detail: expect.stringMatching(/not PID 1 .*osmoda up supervises/)})
    expect(
      checkSystemd(() => {
        throw new Error('EACCES')
      }).status,
    ).toBe('warn')
  })

  it('fails missing dirs, and --fix creates them with init’s modes without creating tokens', () => {
    const base = mkdtempSync(join(tmpdir(), 'osmoda-doctor-'))
    try {
      const paths = pathsFrom({runDir: join(base, 'run'), stateDir: join(base, 'state'), configDir: join(base, 'config')})
      expect(checkDirs(paths).every((c) => c.status === 'fail')).toBe(true)
      expect(checkDisk(paths).status).toBe('fail')
      const fixed = repairModes(paths)
      expect(fixed).toHaveLength(5)
      expect(checkDirs(paths).every((c) => c.status === 'ok')).toBe(true)
      expect(checkDisk(paths, {warnPct: 0, failPct: 0}).status).toBe('ok')
      // And on an initialised tree it changes nothing
      initState(paths)
      expect(repairModes(paths)).toEqual([])
    } finally {
      rmSync(base, {recursive: true, force: true})
    }
  })
})
