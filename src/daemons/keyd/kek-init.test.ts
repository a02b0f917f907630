import {afterEach, describe, expect, it} from 'vitest'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathsFrom} from '../../lib/paths.js'
import {ensureKeydKek} from './kek-init.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})
const setup = () => {
  const base = mkdtempSync(join(tmpdir(), 'osmoda-kekinit-'))
  dirs.push(base)
  return pathsFrom({runDir: join(base, 'run'), stateDir: join(base, 'state'), configDir: join(base, 'config')})
}

describe('ensureKeydKek', () => {
  it('creates a 0600 32-byte KEK once and never replaces it', () => {
    const paths = setup()
    expect(ensureKeydKek(paths)).toEqual(['secrets/keyd.kek'])
    const file = join(paths.configDir, 'secrets', 'keyd.kek')
    const first = readFileSync(file)
    expect(first).toHaveLength(32)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(ensureKeydKek(paths)).toEqual([])
    expect(readFileSync(file).equals(first)).toBe(true)
  })

  it('creates nothing while wallet key files exist (a lost KEK must be restored, not replaced)', () => {
    const paths = setup()
    mkdirSync(join(paths.daemonStateDir('keyd'), 'keys'), {recursive: true})
    writeFileSync(join(paths.daemonStateDir('keyd'), 'keys', 'wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6.key'), '{}')
    expect(ensureKeydKek(paths)).toEqual([])
    expect(() => statSync(join(paths.configDir, 'secrets', 'keyd.kek'))).toThrow()
  })
})
